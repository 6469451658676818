import { createSecretKey, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, afterEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import Database from 'better-sqlite3'
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, jwtVerify } from 'jose'
import { isSealedJwk, openSealedJwk } from '../../src/oauth/sealed-jwk.js'
import { SigningKeyRing } from '../../src/oauth/signing-keys.js'
import type { Store, StoredSigningKey } from '../../src/store/ports.js'
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { TEST_PG_URL, TestSchemas, connectToSchema, postgresSkip } from '../postgres-harness.js'

// What a database dump holds of the OAuth signing keys: the private_jwk column as each adapter stores it,
// read past the store, must never hold a private key in the clear once SigningKeyRing has written or sealed it.

const pgSkip = await postgresSkip('PostgreSQL signing keys at rest')
const schemas = new TestSchemas(import.meta.url)
afterEach(async (t) => {
  if (!pgSkip) await schemas.settle((t as { passed?: boolean }).passed === true, t.name)
})
const dir = mkdtempSync(join(tmpdir(), 'roster-keys-at-rest-'))
after(() => rmSync(dir, { recursive: true, force: true }))
let files = 0

interface OpenedStore {
  readonly store: Store
  /** Each row's private_jwk exactly as the database holds it, as text, by kid. */
  rawPrivateJwks(): Promise<Map<string, string>>
}

const adapters: { name: string; skip: false | string; open: () => Promise<OpenedStore> }[] = [
  {
    name: 'sqlite',
    skip: false,
    async open() {
      const path = join(dir, `store-${++files}.db`)
      const store = await openSqliteStore(path)
      return {
        store,
        async rawPrivateJwks() {
          const db = new Database(path, { readonly: true })
          try {
            return new Map(db.prepare<[], { kid: string; private_jwk: string }>('SELECT kid, private_jwk FROM signing_keys').all().map((r) => [r.kid, r.private_jwk]))
          } finally {
            db.close()
          }
        },
      }
    },
  },
  {
    name: 'postgres',
    skip: pgSkip,
    async open() {
      const schema = await schemas.fresh()
      const store = await openPostgresStore(TEST_PG_URL, { schema })
      return {
        store,
        async rawPrivateJwks() {
          const db = await connectToSchema(schema)
          try {
            const { rows } = await db.query<{ kid: string; private_jwk: string }>('SELECT kid, private_jwk::text AS private_jwk FROM signing_keys')
            return new Map(rows.map((r) => [r.kid, r.private_jwk]))
          } finally {
            await db.end()
          }
        },
      }
    },
  },
]

const KEY = createSecretKey(randomBytes(32))

/** A key as a Roster before encryption stored it: the private JWK bare, created a minute ago. */
async function bareKey(): Promise<StoredSigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
  const publicJwk = await exportJWK(publicKey)
  const createdAt = new Date(Date.now() - 60_000).toISOString()
  return { kid: await calculateJwkThumbprint(publicJwk, 'sha256'), algorithm: 'ES256', privateJwk: await exportJWK(privateKey), publicJwk, createdAt }
}

/** The column holds the AES-256-GCM envelope, which opens to a private key, and not the key's "d". */
function assertSealedAtRest(raw: string, kid: string): void {
  const stored = JSON.parse(raw) as StoredSigningKey['privateJwk']
  assert.ok(isSealedJwk(stored), `private_jwk of ${kid} is sealed: ${raw}`)
  assert.equal(stored.enc, 'A256GCM')
  assert.equal(Object.hasOwn(stored, 'd'), false)
  const d = openSealedJwk(stored, kid, KEY).d
  assert.equal(typeof d, 'string')
  assert.equal(raw.includes(d!), false, 'the private scalar does not appear in the column')
}

for (const adapter of adapters) {
  describe(`${adapter.name}: signing keys at rest`, { skip: adapter.skip }, () => {
    test('keys the ring creates and rotates in are stored sealed: the column never holds the private "d"', async () => {
      const { store, rawPrivateJwks } = await adapter.open()
      try {
        const ring = new SigningKeyRing(store.signingKeys, KEY)
        const first = await ring.ensureActiveKey()
        const second = await ring.rotate()
        const raw = await rawPrivateJwks()
        assert.deepStrictEqual([...raw.keys()].sort(), [first.kid, second.kid].sort())
        for (const [kid, text] of raw) {
          assert.doesNotMatch(text, /"d"\s*:/)
          assertSealedAtRest(text, kid)
        }
      } finally {
        await store.close()
      }
    })

    test('a bare key stored before encryption is sealed by sealStoredKeys and signs on under its kid', async () => {
      const { store, rawPrivateJwks } = await adapter.open()
      try {
        const bare = await bareKey()
        await store.signingKeys.insertKey(bare)
        assert.match((await rawPrivateJwks()).get(bare.kid)!, /"d"\s*:/, 'the row starts out bare, as an older Roster wrote it')
        const ring = new SigningKeyRing(store.signingKeys, KEY)
        await ring.sealStoredKeys()
        assertSealedAtRest((await rawPrivateJwks()).get(bare.kid)!, bare.kid)
        const active = await ring.ensureActiveKey()
        assert.equal(active.kid, bare.kid)
        const jwt = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: active.kid }).sign(active.privateKey)
        await jwtVerify(jwt, (await ring.verificationKey(active.kid))!)
      } finally {
        await store.close()
      }
    })
  })
}
