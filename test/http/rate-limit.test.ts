import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { assertStatus, ERROR_SCHEMA, startTestServer, type ScimResponse, type TestOrg, type TestServer } from './harness.js'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const LIMIT = 5

function assertTooManyRequests(res: ScimResponse): void {
  assertStatus(res, 429)
  assert.match(res.headers.get('content-type') ?? '', /^application\/scim\+json/)
  assert.deepEqual(res.body.schemas, [ERROR_SCHEMA])
  assert.equal(res.body.status, '429', 'status as a string (RFC 7644 §3.12)')
  assert.equal(res.body.scimType, undefined)
  assert.match(res.body.detail, /requests per minute/)
  const retryAfter = Number(res.headers.get('retry-after'))
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After in seconds (RFC 9110 §10.2.3): ${res.headers.get('retry-after')}`)
}

describe('Rate limits per token and OAuth client (scimRateLimitPerMinute)', () => {
  let srv: TestServer
  let org: TestOrg

  before(async () => {
    srv = await startTestServer()
    org = await srv.org('limited', { scimRateLimitPerMinute: LIMIT })
  })
  after(async () => {
    await srv.close()
  })

  test(`the request after the ${LIMIT}th in a minute → 429 with Retry-After and a SCIM error body; the body is not read`, async () => {
    for (let i = 0; i < LIMIT; i++) assertStatus(await org.request('GET', '/Users'), 200)
    assertTooManyRequests(await org.request('GET', '/Users'))
    // Refused before its body is parsed: malformed JSON still gets the 429, not a 400.
    assertTooManyRequests(await org.request('POST', '/Users', '{not json'))
    assertTooManyRequests(await org.request('GET', '/ServiceProviderConfig'))
    const created = await srv.roster.store.resources.query('limited', 'User', { startIndex: 1, count: 0 })
    assert.equal(created.totalResults, 0)
  })

  test('limits are per token: another token of the same organization still gets through', async () => {
    const other = await srv.roster.tokens.issue('limited', 'second IdP')
    const res = await org.request('POST', '/Users', { schemas: [USER], userName: 'second@example.com' }, { authorization: `Bearer ${other.token}` })
    assertStatus(res, 201)
    assert.equal(res.headers.get('x-ratelimit-limit'), String(LIMIT))
    assert.equal(res.headers.get('x-ratelimit-remaining'), String(LIMIT - 1))
    assertTooManyRequests(await org.request('GET', '/Users'))
  })

  test('an OAuth client has its own counter', async () => {
    const client = await srv.roster.oauthClients.create('limited', 'Entra')
    const token = await srv.send('POST', '/oauth/token', undefined, `grant_type=client_credentials&client_id=${client.record.id}&client_secret=${client.clientSecret}`, {
      'content-type': 'application/x-www-form-urlencoded',
    })
    assertStatus(token, 200)
    const auth = { authorization: `Bearer ${token.body.access_token}` }
    for (let i = 0; i < LIMIT; i++) assertStatus(await org.request('GET', '/Users', undefined, auth), 200)
    assertTooManyRequests(await org.request('GET', '/Users', undefined, auth))
  })

  test('each organization has its own limit, and one credential counts the same at /scim/v2 and /o/default/scim/v2', async () => {
    await srv.roster.tenants.updateSettings('default', { scimRateLimitPerMinute: 3 })
    for (let i = 0; i < 2; i++) assertStatus(await srv.request('GET', '/Users'), 200)
    assertStatus(await srv.send('GET', '/o/default/scim/v2/Users', srv.token), 200)
    assertTooManyRequests(await srv.send('GET', '/o/default/scim/v2/Users', srv.token))
    assertTooManyRequests(await srv.request('GET', '/Users'))
  })

  test('a refused request is in the audit log as rejected with 429', async () => {
    // Rejected requests are recorded once the response is sent: wait for them a little.
    const refused = async () =>
      (await srv.roster.store.audit.queryAuditEvents({ tenant: 'limited', outcome: 'failure', limit: 100 })).events.filter((e) => e.outcome.status === 429)
    const deadline = Date.now() + 3000
    while ((await refused()).length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    const events = await refused()
    // test 1: three by the first token; test 2: one more; test 3: one by the OAuth client.
    assert.equal(events.length, 5)
    assert.deepEqual(events.map((e) => e.actor.type).sort(), ['oauthClient', 'token', 'token', 'token', 'token'])
    assert.ok(events.every((e) => /requests per minute/.test(e.outcome.detail ?? '')))
  })
})

describe('Rate limits counted in Redis (ROSTER_REDIS_URL)', async () => {
  const url = process.env.ROSTER_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
  const { Redis } = await import('ioredis')
  const probe = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null })
  const skip = await probe.connect().then(
    () => false,
    (e: Error) => {
      if (process.env.CI === 'true') throw new Error(`Redis is required under CI: ${url}: ${e.message}`)
      console.warn(`\n*** SKIPPING rate limits in Redis: ${url} is unreachable (${e.message}) ***\n`)
      return `Redis unreachable at ${url}`
    },
  )
  probe.disconnect()
  let srv: TestServer
  before(async () => {
    if (!skip) srv = await startTestServer({ ROSTER_REDIS_URL: url })
  })
  after(async () => {
    if (!skip) await srv.close()
  })

  test("the organization's limit holds, with the same headers and 429", { skip }, async () => {
    const org = await srv.org(`redis-${Date.now().toString(36)}`, { scimRateLimitPerMinute: 2 })
    for (let i = 0; i < 2; i++) {
      const res = await org.request('GET', '/Users')
      assertStatus(res, 200)
      assert.equal(res.headers.get('x-ratelimit-remaining'), String(1 - i))
    }
    assertTooManyRequests(await org.request('GET', '/Users'))
  })
})
