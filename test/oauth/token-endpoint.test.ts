import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { exchangeClientCredentials } from '../../src/oauth/token-endpoint.js'
import { OAuthClientService } from '../../src/oauth/oauth-clients.js'
import { SigningKeyRing } from '../../src/oauth/signing-keys.js'
import { MemoryOAuthClientStore } from './memory-oauth-client-store.js'
import { MemorySigningKeyStore, TEST_KEY_ENCRYPTION_KEY } from './memory-signing-key-store.js'
import { FakeClock } from './fake-clock.js'

const ISSUER = 'https://roster.example.com'
const AUDIENCE = 'https://roster.example.com/scim/v2'
const FORM = 'application/x-www-form-urlencoded'
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`

async function setup() {
  const clock = new FakeClock()
  const store = new MemoryOAuthClientStore()
  const clients = new OAuthClientService(store, { clock: clock.now })
  const ring = new SigningKeyRing(new MemorySigningKeyStore(), TEST_KEY_ENCRYPTION_KEY, { clock: clock.now })
  const created = await clients.create('acme', 'Entra ID production', { scopes: ['scim'] })
  const deps = { clients, ring, issuer: ISSUER, audience: AUDIENCE, clock: clock.now }
  const verifyOptions = { issuer: ISSUER, audience: AUDIENCE, clock: clock.now }
  return { clock, store, clients, ring, created, deps, verifyOptions }
}

describe('exchangeClientCredentials', () => {
  test('Basic credentials: 200, a Bearer token for the client and its organization, never cached', async () => {
    const { created, deps, clients, ring, verifyOptions } = await setup()
    const res = await exchangeClientCredentials(
      { contentType: FORM, authorization: basic(created.record.id, created.clientSecret), body: 'grant_type=client_credentials' },
      deps,
    )
    assert.equal(res.status, 200)
    if (res.status !== 200) return
    assert.equal(res.headers['cache-control'], 'no-store')
    assert.equal(res.body.token_type, 'Bearer')
    assert.equal(res.body.expires_in, 3600)
    assert.equal(res.body.scope, 'scim', 'no scope asked: all the client may have (RFC 6749 §3.3)')
    assert.equal(res.clientId, created.record.id)
    assert.equal(res.tenant, 'acme')
    const verified = await clients.verifyBearer(res.body.access_token, ring, verifyOptions)
    assert.equal(verified?.clientId, created.record.id)
    assert.equal(verified?.tenant, 'acme')
  })

  test('body credentials work the same', async () => {
    const { created, deps } = await setup()
    const res = await exchangeClientCredentials(
      { contentType: FORM, authorization: undefined, body: `grant_type=client_credentials&client_id=${created.record.id}&client_secret=${created.clientSecret}&scope=scim` },
      deps,
    )
    assert.equal(res.status, 200)
  })

  const failures = [
    { name: 'a wrong secret via Basic: 401 with a challenge', via: 'basic', secret: 'rcs_' + 'A'.repeat(43), status: 401, error: 'invalid_client' },
    { name: 'a wrong secret in the body: 400', via: 'post', secret: 'rcs_' + 'A'.repeat(43), status: 400, error: 'invalid_client' },
    { name: 'a scope the client may not have', via: 'basic', scope: 'admin', status: 400, error: 'invalid_scope' },
  ] as const
  for (const f of failures) {
    test(f.name, async () => {
      const { created, deps } = await setup()
      const secret = 'secret' in f ? f.secret : created.clientSecret
      const scope = 'scope' in f ? `&scope=${f.scope}` : ''
      const res = await exchangeClientCredentials(
        f.via === 'basic'
          ? { contentType: FORM, authorization: basic(created.record.id, secret), body: `grant_type=client_credentials${scope}` }
          : { contentType: FORM, authorization: undefined, body: `grant_type=client_credentials&client_id=${created.record.id}&client_secret=${secret}${scope}` },
        deps,
      )
      if (res.status === 200) return assert.fail('expected an error response')
      assert.equal(res.status, f.status)
      assert.equal(res.body.error, f.error)
      assert.equal(res.headers['www-authenticate'] !== undefined, f.status === 401)
      assert.equal(res.claimedClientId, created.record.id)
    })
  }

  test('a revoked client gets no token, and its tokens stop working at once', async () => {
    const { created, deps, clients, ring, verifyOptions } = await setup()
    const ok = await exchangeClientCredentials({ contentType: FORM, authorization: basic(created.record.id, created.clientSecret), body: 'grant_type=client_credentials' }, deps)
    assert.equal(ok.status, 200)
    if (ok.status !== 200) return
    assert.equal(await clients.revoke('acme', created.record.id), true)
    const refused = await exchangeClientCredentials({ contentType: FORM, authorization: basic(created.record.id, created.clientSecret), body: 'grant_type=client_credentials' }, deps)
    assert.equal(refused.status, 401)
    assert.equal(await clients.verifyBearer(ok.body.access_token, ring, verifyOptions), undefined)
  })

  test('revoking needs the right organization', async () => {
    const { created, clients } = await setup()
    assert.equal(await clients.revoke('other', created.record.id), false)
    assert.equal(await clients.revoke('acme', created.record.id), true)
    assert.equal(await clients.revoke('acme', created.record.id), false, 'already revoked')
  })

  test('the store keeps the secret hash, never the secret', async () => {
    const { created, store } = await setup()
    assert.ok(!JSON.stringify([...store.clients.values()]).includes(created.clientSecret))
  })

  test('a failing client store is thrown, not answered as invalid_client', async () => {
    const { created, deps, store } = await setup()
    store.findClient = async () => {
      throw new Error('database is down')
    }
    await assert.rejects(
      exchangeClientCredentials({ contentType: FORM, authorization: basic(created.record.id, created.clientSecret), body: 'grant_type=client_credentials' }, deps),
      /database is down/,
    )
  })

  test('last use is written at most once a minute', async () => {
    const { created, clients, store, clock } = await setup()
    for (let i = 0; i < 5; i++) assert.ok(await clients.authenticate(created.record.id, created.clientSecret))
    assert.equal(store.touches, 1)
    clock.advanceSeconds(60)
    assert.ok(await clients.authenticate(created.record.id, created.clientSecret))
    assert.equal(store.touches, 2)
  })
})
