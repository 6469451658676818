import { createSecretKey, randomBytes } from 'node:crypto'
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, jwtVerify } from 'jose'
import { isSealedJwk, openSealedJwk } from '../../src/oauth/sealed-jwk.js'
import { SigningKeyDecryptionError, SigningKeyRing, type StoredSigningKey } from '../../src/oauth/signing-keys.js'
import { MemorySigningKeyStore, TEST_KEY_ENCRYPTION_KEY } from './memory-signing-key-store.js'
import { FakeClock } from './fake-clock.js'

const TTL_MS = 5_000
const MAX_LIFETIME_S = 3_600
const TOLERANCE_S = 30

function ringOn(store: MemorySigningKeyStore, clock: FakeClock): SigningKeyRing {
  return new SigningKeyRing(store, TEST_KEY_ENCRYPTION_KEY, {
    clock: clock.now,
    cacheTtlMs: TTL_MS,
    minRefreshIntervalMs: 1_000,
    maxTokenLifetimeSeconds: MAX_LIFETIME_S,
    clockToleranceSeconds: TOLERANCE_S,
  })
}

describe('SigningKeyRing', () => {
  test('ensureActiveKey creates the first key, then keeps using it', async () => {
    const store = new MemorySigningKeyStore()
    const ring = ringOn(store, new FakeClock())
    const first = await ring.ensureActiveKey()
    const again = await ring.ensureActiveKey()
    assert.equal(store.keys.size, 1)
    assert.equal(again.kid, first.kid)
    const stored = store.keys.get(first.kid)!
    assert.equal(stored.algorithm, 'ES256')
    assert.equal(stored.publicJwk.kty, 'EC')
    assert.equal(stored.publicJwk.crv, 'P-256')
    assert.equal(stored.publicJwk.d, undefined, 'the public JWK has no private part')
    assert.ok(isSealedJwk(stored.privateJwk), 'the private key reaches the store sealed')
    assert.equal(JSON.stringify(stored.privateJwk).includes('"d"'), false)
    const opened = openSealedJwk(stored.privateJwk, first.kid, TEST_KEY_ENCRYPTION_KEY)
    assert.equal(typeof opened.d, 'string')
    assert.deepStrictEqual([opened.x, opened.y], [stored.publicJwk.x, stored.publicJwk.y])
  })

  test('concurrent first calls in one instance create one key', async () => {
    const store = new MemorySigningKeyStore()
    const ring = ringOn(store, new FakeClock())
    const [a, b, c] = await Promise.all([ring.ensureActiveKey(), ring.ensureActiveKey(), ring.ensureActiveKey()])
    assert.equal(store.keys.size, 1)
    assert.equal(a.kid, b.kid)
    assert.equal(b.kid, c.kid)
  })

  test('rotate publishes the new key at once and lets it sign one cache period later', async () => {
    const store = new MemorySigningKeyStore()
    const clock = new FakeClock()
    const ring = ringOn(store, clock)
    const old = await ring.ensureActiveKey()
    clock.advanceSeconds(10)
    const fresh = await ring.rotate()
    const rotatedAt = clock.now().getTime()
    assert.notEqual(fresh.kid, old.kid)
    assert.equal(store.keys.get(old.kid)!.retiredAt, new Date(rotatedAt + TTL_MS).toISOString())
    // Published: verifies and is in the JWK Set, but the old key still signs …
    assert.ok(await ring.verificationKey(fresh.kid))
    assert.deepStrictEqual((await ring.publicJwks()).keys.map((k) => k.kid).sort(), [old.kid, fresh.kid].sort())
    assert.equal((await ring.ensureActiveKey()).kid, old.kid)
    clock.advance(TTL_MS - 1)
    assert.equal((await ring.ensureActiveKey()).kid, old.kid)
    // … until retiredAt, from when the new key signs and the old one only verifies.
    clock.advance(1)
    assert.equal((await ring.ensureActiveKey()).kid, fresh.kid)
    assert.ok(await ring.verificationKey(old.kid), 'retired key verifies')
  })

  test('a retired key verifies until retiredAt + max token lifetime + clock tolerance + cache TTL, not a moment longer', async () => {
    const store = new MemorySigningKeyStore()
    const clock = new FakeClock()
    const ring = ringOn(store, clock)
    const old = await ring.ensureActiveKey()
    await ring.rotate()
    const retiredAt = Date.parse(store.keys.get(old.kid)!.retiredAt!)
    clock.advance(retiredAt - clock.now().getTime() + (MAX_LIFETIME_S + TOLERANCE_S) * 1000 + TTL_MS - 1)
    assert.ok(await ring.verificationKey(old.kid))
    clock.advance(1)
    assert.equal(await ring.verificationKey(old.kid), undefined)
    assert.deepStrictEqual((await ring.publicJwks()).keys.map((k) => k.kid), [...store.keys.values()].filter((k) => !k.retiredAt).map((k) => k.kid))
  })

  test('no instance signs with the new key before every instance has read it (without the unknown-kid read)', async () => {
    const store = new MemorySigningKeyStore()
    const clock = new FakeClock()
    const options = { clock: clock.now, cacheTtlMs: TTL_MS, minRefreshIntervalMs: 24 * 3_600_000, maxTokenLifetimeSeconds: MAX_LIFETIME_S }
    const a = new SigningKeyRing(store, TEST_KEY_ENCRYPTION_KEY, options)
    const b = new SigningKeyRing(store, TEST_KEY_ENCRYPTION_KEY, options)
    const k1 = await a.ensureActiveKey()
    clock.advance(TTL_MS)
    assert.equal((await b.ensureActiveKey()).kid, k1.kid) // b reads the store here, then not for TTL_MS
    clock.advance(1)
    const k2 = await a.rotate()
    for (let t = 1; t < TTL_MS; t += 1_000) {
      assert.equal((await a.ensureActiveKey()).kid, k1.kid, `a at +${t} ms`)
      assert.equal((await b.ensureActiveKey()).kid, k1.kid, `b at +${t} ms`)
      clock.advance(1_000)
    }
    clock.advance(TTL_MS)
    assert.equal((await a.ensureActiveKey()).kid, k2.kid)
    assert.ok(await b.verificationKey(k2.kid), 'b has read k2 by the time a signs with it')
    assert.equal((await b.ensureActiveKey()).kid, k2.kid)
  })

  test('a kid another instance created is read at once', async () => {
    const store = new MemorySigningKeyStore()
    const clock = new FakeClock()
    const a = ringOn(store, clock)
    const b = ringOn(store, clock)
    await b.publicJwks() // b has read an empty store
    clock.advance(2_000)
    const k1 = await a.ensureActiveKey()
    assert.ok(await b.verificationKey(k1.kid))
  })

  test('unknown kids cause at most one store read per minimum refresh interval', async () => {
    const store = new MemorySigningKeyStore()
    const clock = new FakeClock()
    const ring = ringOn(store, clock)
    await ring.ensureActiveKey()
    clock.advance(1_000)
    const before = store.reads
    for (let i = 0; i < 50; i++) assert.equal(await ring.verificationKey(`forged-${i}`), undefined)
    assert.equal(store.reads - before, 1)
  })

  test('two instances rotating at the same time still leave a key that signs', async () => {
    const store = new MemorySigningKeyStore()
    const clock = new FakeClock()
    const a = ringOn(store, clock)
    const b = ringOn(store, clock)
    const k0 = await a.ensureActiveKey()
    await b.ensureActiveKey()
    const [ka, kb] = await Promise.all([a.rotate(), b.rotate()])
    const live = [...store.keys.values()].filter((k) => !k.retiredAt).map((k) => k.kid).sort()
    assert.deepStrictEqual(live, [ka.kid, kb.kid].sort())
    assert.ok(store.keys.get(k0.kid)!.retiredAt)
    clock.advance(TTL_MS)
    const signers = [(await a.ensureActiveKey()).kid, (await b.ensureActiveKey()).kid]
    assert.equal(signers[0], signers[1], 'both instances agree on the newest key')
    assert.ok([ka.kid, kb.kid].includes(signers[0]!))
  })

  test('publicJwks lists public parts only, with kid, alg and use', async () => {
    const store = new MemorySigningKeyStore()
    const ring = ringOn(store, new FakeClock())
    const { kid } = await ring.ensureActiveKey()
    const { keys } = await ring.publicJwks()
    assert.equal(keys.length, 1)
    assert.equal(keys[0]!.kid, kid)
    assert.equal(keys[0]!.alg, 'ES256')
    assert.equal(keys[0]!.use, 'sig')
    assert.equal(keys[0]!.d, undefined)
  })
})

/** A key as a Roster before encryption stored it: the private JWK bare. */
async function bareStoredKey(createdAt: string): Promise<StoredSigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
  const publicJwk = await exportJWK(publicKey)
  return { kid: await calculateJwkThumbprint(publicJwk, 'sha256'), algorithm: 'ES256', privateJwk: await exportJWK(privateKey), publicJwk, createdAt }
}

async function signsAndVerifies(ring: SigningKeyRing, publicJwkKid: string): Promise<void> {
  const active = await ring.ensureActiveKey()
  assert.equal(active.kid, publicJwkKid)
  const jwt = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: active.kid }).sign(active.privateKey)
  await jwtVerify(jwt, (await ring.verificationKey(active.kid))!)
}

describe('SigningKeyRing: private keys sealed at rest (ROSTER_SECRET_KEY)', () => {
  test('a bare key written before encryption still signs, before and after sealStoredKeys seals it', async () => {
    const clock = new FakeClock()
    const bare = await bareStoredKey(new Date(clock.now().getTime() - 60_000).toISOString())
    const store = new MemorySigningKeyStore()
    await store.insertKey(bare)
    await signsAndVerifies(ringOn(store, clock), bare.kid)
    const ring = ringOn(store, clock)
    await ring.sealStoredKeys()
    const sealed = store.keys.get(bare.kid)!.privateJwk
    assert.ok(isSealedJwk(sealed))
    assert.deepStrictEqual(openSealedJwk(sealed, bare.kid, TEST_KEY_ENCRYPTION_KEY), bare.privateJwk)
    await signsAndVerifies(ring, bare.kid)
    await signsAndVerifies(ringOn(store, clock), bare.kid)
  })

  test('sealStoredKeys leaves sealed keys as they are', async () => {
    const store = new MemorySigningKeyStore()
    const clock = new FakeClock()
    const { kid } = await ringOn(store, clock).ensureActiveKey()
    const before = store.keys.get(kid)!.privateJwk
    await ringOn(store, clock).sealStoredKeys()
    assert.deepStrictEqual(store.keys.get(kid)!.privateJwk, before)
  })

  const otherKey = createSecretKey(randomBytes(32))
  const wrongKeyCases: { title: string; run: (ring: SigningKeyRing) => Promise<unknown> }[] = [
    { title: 'sealStoredKeys (at start)', run: (ring) => ring.sealStoredKeys() },
    { title: 'ensureActiveKey (signing)', run: (ring) => ring.ensureActiveKey() },
  ]
  for (const { title, run } of wrongKeyCases) {
    test(`another key-encryption key fails ${title} with SigningKeyDecryptionError naming the kid`, async () => {
      const store = new MemorySigningKeyStore()
      const clock = new FakeClock()
      const { kid } = await ringOn(store, clock).ensureActiveKey()
      const wrong = new SigningKeyRing(store, otherKey, { clock: clock.now })
      await assert.rejects(run(wrong), (e: unknown) => {
        assert.ok(e instanceof SigningKeyDecryptionError)
        assert.equal(e.kid, kid)
        assert.match(e.message, new RegExp(`OAuth signing key ${kid} cannot be decrypted: authentication failed`))
        return true
      })
    })
  }
})
