import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, afterEach, describe, test } from 'node:test'
import Database from 'better-sqlite3'
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose'
import { composeRoster, type Roster } from '../src/compose.js'
import { readConfig } from '../src/config.js'
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js'
import { TEST_PG_URL, TestSchemas, postgresSkip } from './postgres-harness.js'

// composeRoster and the key that seals the OAuth signing keys: where it comes from, and that a wrong one
// stops the start with a message saying so, instead of a 500 on POST /oauth/token later.

const pgSkip = await postgresSkip('composeRoster on PostgreSQL')
const schemas = new TestSchemas(import.meta.url)
afterEach(async (t) => {
  if (!pgSkip) await schemas.settle((t as { passed?: boolean }).passed === true, t.name)
})
const root = mkdtempSync(join(tmpdir(), 'roster-compose-'))
after(() => rmSync(root, { recursive: true, force: true }))
let dirs = 0
const freshDataDir = () => join(root, `data-${++dirs}`)
const newSecretKey = () => randomBytes(32).toString('base64')

async function composeAndClose<T>(env: Record<string, string>, use: (roster: Roster) => Promise<T>): Promise<T> {
  const roster = await composeRoster(readConfig({ ROSTER_LOG_LEVEL: 'silent', ...env }))
  try {
    return await use(roster)
  } finally {
    await roster.notifier.close()
    await roster.store.close()
  }
}

const activeKid = (roster: Roster) => roster.signingKeys.ensureActiveKey().then((k) => k.kid)

describe('composeRoster on SQLite: the key-encryption key of the signing keys', () => {
  test('without ROSTER_SECRET_KEY, the first start creates <dataDir>/secret.key (mode 0600) and later starts use it', async () => {
    const dataDir = freshDataDir()
    const kid = await composeAndClose({ ROSTER_DATA_DIR: dataDir }, activeKid)
    const keyFile = join(dataDir, 'secret.key')
    assert.equal(statSync(keyFile).mode & 0o777, 0o600)
    assert.equal(await composeAndClose({ ROSTER_DATA_DIR: dataDir }, activeKid), kid, 'the second start opens the key the first sealed')
  })

  test('a key file replaced by another key stops the start, naming the kid and the file', async () => {
    const dataDir = freshDataDir()
    const kid = await composeAndClose({ ROSTER_DATA_DIR: dataDir }, activeKid)
    const keyFile = join(dataDir, 'secret.key')
    writeFileSync(keyFile, `${newSecretKey()}\n`, { mode: 0o600 })
    await assert.rejects(
      composeRoster(readConfig({ ROSTER_DATA_DIR: dataDir, ROSTER_LOG_LEVEL: 'silent' })),
      new RegExp(`^Error: OAuth signing key ${kid} cannot be decrypted: authentication failed.*; is the key file ${keyFile} the key this database's signing keys were sealed with\\?$`),
    )
  })

  test('with ROSTER_SECRET_KEY no key file is made, and another ROSTER_SECRET_KEY stops the start', async () => {
    const dataDir = freshDataDir()
    const kid = await composeAndClose({ ROSTER_DATA_DIR: dataDir, ROSTER_SECRET_KEY: newSecretKey() }, activeKid)
    assert.equal(existsSync(join(dataDir, 'secret.key')), false)
    await assert.rejects(
      composeRoster(readConfig({ ROSTER_DATA_DIR: dataDir, ROSTER_SECRET_KEY: newSecretKey(), ROSTER_LOG_LEVEL: 'silent' })),
      new RegExp(`OAuth signing key ${kid} cannot be decrypted.*; is ROSTER_SECRET_KEY the key`),
    )
  })

  test('a signing key stored bare by an older Roster is sealed at start and keeps signing', async () => {
    const dataDir = freshDataDir()
    // The database as an older Roster left it: migrated, with one bare signing key.
    mkdirSync(dataDir)
    const older = await openSqliteStore(join(dataDir, 'roster.db'))
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
    const publicJwk = await exportJWK(publicKey)
    const kid = await calculateJwkThumbprint(publicJwk, 'sha256')
    const createdAt = new Date(Date.now() - 60_000).toISOString()
    await older.signingKeys.insertKey({ kid, algorithm: 'ES256', privateJwk: await exportJWK(privateKey), publicJwk, createdAt })
    await older.close()
    assert.equal(await composeAndClose({ ROSTER_DATA_DIR: dataDir }, activeKid), kid)
    const db = new Database(join(dataDir, 'roster.db'), { readonly: true })
    try {
      const raw = db.prepare<[string], { private_jwk: string }>('SELECT private_jwk FROM signing_keys WHERE kid = ?').get(kid)!.private_jwk
      assert.match(raw, /^\{"enc":"A256GCM",/)
      assert.doesNotMatch(raw, /"d"/)
    } finally {
      db.close()
    }
  })
})

describe('composeRoster on PostgreSQL: one ROSTER_SECRET_KEY for every instance', { skip: pgSkip }, () => {
  test('keys sealed by one instance open in another with the same key; another key stops the start', async () => {
    const schema = await schemas.fresh()
    const dataDir = freshDataDir()
    const env = { ROSTER_DATA_DIR: dataDir, ROSTER_DATABASE_URL: TEST_PG_URL, ROSTER_PG_SCHEMA: schema, ROSTER_SECRET_KEY: newSecretKey() }
    const kid = await composeAndClose(env, activeKid)
    assert.equal(await composeAndClose(env, activeKid), kid)
    assert.equal(existsSync(join(dataDir, 'secret.key')), false, 'no key file: each instance would have its own')
    await assert.rejects(
      composeRoster(readConfig({ ...env, ROSTER_SECRET_KEY: newSecretKey(), ROSTER_LOG_LEVEL: 'silent' })),
      new RegExp(`OAuth signing key ${kid} cannot be decrypted.*; is ROSTER_SECRET_KEY the key`),
    )
  })
})
