import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { SignJWT, base64url, decodeJwt, decodeProtectedHeader } from 'jose'
import { issueAccessToken, verifyAccessToken } from '../../src/oauth/access-tokens.js'
import { SigningKeyRing } from '../../src/oauth/signing-keys.js'
import { MemorySigningKeyStore, TEST_KEY_ENCRYPTION_KEY } from './memory-signing-key-store.js'
import { FakeClock } from './fake-clock.js'

const ISSUER = 'https://roster.example.com'
const AUDIENCE = 'https://roster.example.com/scim/v2'
const TTL_MS = 5_000
const TOLERANCE_S = 30

function setup() {
  const clock = new FakeClock()
  const store = new MemorySigningKeyStore()
  const ring = new SigningKeyRing(store, TEST_KEY_ENCRYPTION_KEY, { clock: clock.now, cacheTtlMs: TTL_MS, maxTokenLifetimeSeconds: 3600, clockToleranceSeconds: TOLERANCE_S })
  const issue = (over: { lifetimeSeconds?: number; scope?: string } = {}) =>
    issueAccessToken({ clientId: 'rsc_0123456789abcdef01234567', tenant: 'acme', ...(over.scope ? { scope: over.scope } : {}) }, ring, {
      issuer: ISSUER,
      audience: AUDIENCE,
      clock: clock.now,
      ...(over.lifetimeSeconds ? { lifetimeSeconds: over.lifetimeSeconds } : {}),
    })
  const verify = (jwt: string, over: { issuer?: string; audience?: string } = {}) =>
    verifyAccessToken(jwt, ring, { issuer: over.issuer ?? ISSUER, audience: over.audience ?? AUDIENCE, clockTolerance: 30, clock: clock.now })
  return { clock, store, ring, issue, verify }
}

/** Re-encodes one part of a compact JWS, keeping the others (and so the old signature). */
function withPart(jwt: string, index: 0 | 1, edit: (json: Record<string, unknown>) => Record<string, unknown>): string {
  const parts = jwt.split('.')
  const json = JSON.parse(new TextDecoder().decode(base64url.decode(parts[index]!))) as Record<string, unknown>
  parts[index] = base64url.encode(JSON.stringify(edit(json)))
  return parts.join('.')
}

describe('issueAccessToken', () => {
  test('an RFC 9068 JWT: ES256, kid, typ at+jwt; iss, aud, sub, client_id, org, iat, exp, jti', async () => {
    const { issue, clock, ring } = setup()
    const res = await issue({ scope: 'scim' })
    assert.equal(res.token_type, 'Bearer')
    assert.equal(res.expires_in, 3600)
    assert.equal(res.scope, 'scim')
    const header = decodeProtectedHeader(res.access_token)
    assert.deepStrictEqual(header, { alg: 'ES256', kid: (await ring.ensureActiveKey()).kid, typ: 'at+jwt' })
    const claims = decodeJwt(res.access_token)
    const now = Math.floor(clock.now().getTime() / 1000)
    assert.equal(claims.iss, ISSUER)
    assert.equal(claims.aud, AUDIENCE)
    assert.equal(claims.sub, 'rsc_0123456789abcdef01234567')
    assert.equal(claims.client_id, 'rsc_0123456789abcdef01234567')
    assert.equal(claims.org, 'acme')
    assert.equal(claims.iat, now)
    assert.equal(claims.exp, now + 3600)
    assert.match(String(claims.jti), /^[0-9a-f-]{36}$/)
    assert.equal(claims.scope, 'scim')
  })

  test('every token has its own jti', async () => {
    const { issue } = setup()
    const a = decodeJwt((await issue()).access_token)
    const b = decodeJwt((await issue()).access_token)
    assert.notEqual(a.jti, b.jti)
  })

  for (const lifetimeSeconds of [3601, -1, 1.5]) {
    test(`refuses a lifetime of ${lifetimeSeconds} s (longer than the key ring covers, or not a whole positive number)`, async () => {
      const { issue } = setup()
      await assert.rejects(issue({ lifetimeSeconds }), /lifetime/)
    })
  }
})

describe('verifyAccessToken', () => {
  test('a fresh token: its client, organization, jti, exp and scope', async () => {
    const { issue, verify } = setup()
    const { access_token } = await issue({ scope: 'scim' })
    const claims = decodeJwt(access_token)
    assert.deepStrictEqual(await verify(access_token), {
      clientId: 'rsc_0123456789abcdef01234567',
      tenant: 'acme',
      jti: claims.jti,
      exp: claims.exp,
      scope: 'scim',
    })
  })

  // RFC 7519 §4.1.4: the current time "MUST be before the expiration time", here give or take 30 s of skew.
  test('expired: valid before exp + clock tolerance, refused from then on', async () => {
    const { issue, verify, clock } = setup()
    const { access_token } = await issue({ lifetimeSeconds: 60 })
    clock.advanceSeconds(60 + 29)
    assert.ok(await verify(access_token), 'within the 30 s tolerance')
    clock.advanceSeconds(1)
    assert.equal(await verify(access_token), undefined)
  })

  test('a clock tolerance beyond what the key ring covers is a configuration error', async () => {
    const { issue, ring, clock } = setup()
    const { access_token } = await issue()
    await assert.rejects(verifyAccessToken(access_token, ring, { issuer: ISSUER, audience: AUDIENCE, clockTolerance: 31, clock: clock.now }), /clockTolerance/)
  })

  const tamperings: { name: string; tamper: (jwt: string) => string }[] = [
    { name: 'payload changed (another organization)', tamper: (jwt) => withPart(jwt, 1, (p) => ({ ...p, org: 'evil' })) },
    { name: 'payload changed (longer expiry)', tamper: (jwt) => withPart(jwt, 1, (p) => ({ ...p, exp: Number(p.exp) + 86_400 })) },
    { name: 'signature altered', tamper: (jwt) => `${jwt.slice(0, -4)}${jwt.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}` },
    { name: 'signature removed', tamper: (jwt) => jwt.split('.').slice(0, 2).join('.') + '.' },
    { name: 'alg: none, no signature', tamper: (jwt) => withPart(jwt, 0, (h) => ({ ...h, alg: 'none' })).split('.').slice(0, 2).join('.') + '.' },
    { name: 'alg: none, old signature kept', tamper: (jwt) => withPart(jwt, 0, (h) => ({ ...h, alg: 'none' })) },
    { name: 'kid unknown', tamper: (jwt) => withPart(jwt, 0, (h) => ({ ...h, kid: 'no-such-kid' })) },
    { name: 'kid removed', tamper: (jwt) => withPart(jwt, 0, ({ kid: _, ...h }) => h) },
    { name: 'typ removed', tamper: (jwt) => withPart(jwt, 0, ({ typ: _, ...h }) => h) },
    { name: 'not a JWT', tamper: () => 'rst_0123456789ab_notajwt' },
    { name: 'empty', tamper: () => '' },
  ]
  for (const { name, tamper } of tamperings) {
    test(`refuses a token with ${name}`, async () => {
      const { issue, verify } = setup()
      const { access_token } = await issue()
      assert.ok(await verify(access_token), 'the untampered token verifies')
      assert.equal(await verify(tamper(access_token)), undefined)
    })
  }

  test('refuses a wrong audience and a wrong issuer', async () => {
    const { issue, verify } = setup()
    const { access_token } = await issue()
    assert.equal(await verify(access_token, { audience: 'https://other.example.com/scim/v2' }), undefined)
    assert.equal(await verify(access_token, { issuer: 'https://evil.example.com' }), undefined)
  })

  test('refuses a token signed by a key this ring does not hold (unknown kid)', async () => {
    const ours = setup()
    const theirs = setup()
    const { access_token } = await theirs.issue()
    assert.equal(await ours.verify(access_token), undefined)
  })

  test('refuses HS256 keyed with our public key (algorithm confusion)', async () => {
    const { issue, verify, store } = setup()
    const { access_token } = await issue()
    const { kid } = decodeProtectedHeader(access_token)
    const publicJwk = store.keys.get(kid!)!.publicJwk
    const forged = await new SignJWT(decodeJwt(access_token))
      .setProtectedHeader({ alg: 'HS256', kid: kid!, typ: 'at+jwt' })
      .sign(new TextEncoder().encode(JSON.stringify(publicJwk)))
    assert.equal(await verify(forged), undefined)
  })

  test('refuses a token of ours without the org claim', async () => {
    const { ring, verify, clock } = setup()
    const key = await ring.ensureActiveKey()
    const iat = Math.floor(clock.now().getTime() / 1000)
    const jwt = await new SignJWT({ client_id: 'rsc_x' })
      .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'at+jwt' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('rsc_x')
      .setIssuedAt(iat)
      .setExpirationTime(iat + 60)
      .setJti('j')
      .sign(key.privateKey)
    assert.equal(await verify(jwt), undefined)
  })

  test('a failing key store is an error, not an unauthenticated token', async () => {
    const { issue, ring, store, clock } = setup()
    const { access_token } = await issue()
    store.listKeys = async () => {
      throw new Error('database is down')
    }
    clock.advance(TTL_MS)
    await assert.rejects(verifyAccessToken(access_token, ring, { issuer: ISSUER, audience: AUDIENCE, clock: clock.now }), /database is down/)
  })
})

describe('tokens across a key rotation', () => {
  test('tokens of the old key verify after rotation; new tokens use the new key', async () => {
    const { issue, verify, ring, clock } = setup()
    const before = await issue()
    clock.advanceSeconds(600)
    const fresh = await ring.rotate()
    clock.advance(TTL_MS) // the new key signs once every instance can have read it
    const after = await issue()
    assert.notEqual(decodeProtectedHeader(before.access_token).kid, fresh.kid)
    assert.equal(decodeProtectedHeader(after.access_token).kid, fresh.kid)
    assert.ok(await verify(before.access_token))
    assert.ok(await verify(after.access_token))
  })

  test('an old-key token verifies until the retirement window ends (retiredAt + max lifetime + tolerance + TTL), then fails', async () => {
    const { store, ring, verify, clock } = setup()
    const old = await ring.ensureActiveKey()
    // A token signed with the old key whose own exp lies beyond the window: only the key window can stop it.
    const iat = Math.floor(clock.now().getTime() / 1000)
    const privateKey = old.privateKey
    const longLived = await new SignJWT({ org: 'acme', client_id: 'rsc_y' })
      .setProtectedHeader({ alg: 'ES256', kid: old.kid, typ: 'at+jwt' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('rsc_y')
      .setIssuedAt(iat)
      .setExpirationTime(iat + 30 * 86_400)
      .setJti('long')
      .sign(privateKey)
    await ring.rotate()
    const retiredAt = Date.parse(store.keys.get(old.kid)!.retiredAt!)
    clock.advance(retiredAt - clock.now().getTime() + (3600 + TOLERANCE_S) * 1000 + TTL_MS - 1)
    assert.ok(await verify(longLived), 'inside the window')
    clock.advance(1)
    assert.equal(await verify(longLived), undefined, 'the retired key no longer verifies')
  })

  test('the last token the old key signs (just before retiredAt) verifies for its whole lifetime on every instance', async () => {
    const clock = new FakeClock()
    const store = new MemorySigningKeyStore()
    const options = { clock: clock.now, cacheTtlMs: TTL_MS, maxTokenLifetimeSeconds: 3600, clockToleranceSeconds: TOLERANCE_S }
    const a = new SigningKeyRing(store, TEST_KEY_ENCRYPTION_KEY, options)
    const b = new SigningKeyRing(store, TEST_KEY_ENCRYPTION_KEY, options)
    const k1 = await a.ensureActiveKey()
    await b.ensureActiveKey()
    clock.advance(1_000)
    await a.rotate()
    clock.advance(TTL_MS - 1) // one millisecond before retiredAt: b still signs with k1
    const late = await issueAccessToken({ clientId: 'rsc_z', tenant: 'acme' }, b, { issuer: ISSUER, audience: AUDIENCE, clock: clock.now })
    assert.equal(decodeProtectedHeader(late.access_token).kid, k1.kid)
    const exp = Number(decodeJwt(late.access_token).exp)
    clock.advance(exp * 1000 + (TOLERANCE_S - 1) * 1000 - clock.now().getTime()) // exp + 29 s
    assert.ok(await verifyAccessToken(late.access_token, a, { issuer: ISSUER, audience: AUDIENCE, clock: clock.now }))
    assert.ok(await verifyAccessToken(late.access_token, b, { issuer: ISSUER, audience: AUDIENCE, clock: clock.now }))
  })
})
