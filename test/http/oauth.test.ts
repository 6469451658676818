import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeProtectedHeader } from 'jose'
import { assertStatus, ERROR_SCHEMA, startTestServer, type ScimResponse, type TestOrg, type TestServer } from './harness.js'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const FORM = { 'content-type': 'application/x-www-form-urlencoded' }

function assertUnauthorized(res: ScimResponse): void {
  assertStatus(res, 401)
  assert.deepEqual(res.body.schemas, [ERROR_SCHEMA])
  assert.equal(res.body.status, '401')
  assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer /)
}

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`

describe('OAuth 2.0 client credentials (RFC 6749 §4.4) for the SCIM API', () => {
  let srv: TestServer
  let acme: TestOrg
  let client: { id: string; secret: string }

  /** POST /oauth/token (or an organization's) with HTTP Basic client authentication. */
  const tokenRequest = (credentials: { id: string; secret: string }, path = '/oauth/token', body = 'grant_type=client_credentials') =>
    srv.send('POST', path, undefined, body, { ...FORM, authorization: basic(credentials.id, credentials.secret) })

  async function accessToken(credentials = client, path?: string): Promise<string> {
    const res = await tokenRequest(credentials, path)
    assertStatus(res, 200)
    return res.body.access_token
  }

  before(async () => {
    srv = await startTestServer()
    acme = await srv.org('acme')
    await srv.org('globex')
    const created = await srv.roster.oauthClients.create('acme', 'Okta production')
    client = { id: created.record.id, secret: created.clientSecret }
  })
  after(async () => {
    await srv.close()
  })

  test('the token endpoint answers an RFC 6749 §5.1 response: JSON, Cache-Control no-store, a Bearer JWT (RFC 9068)', async () => {
    const res = await tokenRequest(client)
    assertStatus(res, 200)
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
    assert.equal(res.headers.get('cache-control'), 'no-store')
    assert.equal(res.headers.get('pragma'), 'no-cache')
    assert.equal(res.body.token_type, 'Bearer')
    assert.equal(res.body.expires_in, 3600)
    assert.equal(typeof res.body.access_token, 'string')
    assert.equal(decodeProtectedHeader(res.body.access_token).typ, 'at+jwt')
  })

  test('client_secret_post works too, and an organization\'s own token endpoint issues for its clients', async () => {
    const post = await srv.send('POST', '/oauth/token', undefined, `grant_type=client_credentials&client_id=${client.id}&client_secret=${client.secret}`, FORM)
    assertStatus(post, 200)
    const own = await tokenRequest(client, '/o/acme/oauth/token')
    assertStatus(own, 200)
    assertStatus(await acme.request('GET', '/Users', undefined, { authorization: `Bearer ${own.body.access_token}` }), 200)
  })

  test('the access token works on the SCIM API of its organization: create, read, list', async () => {
    const jwt = await accessToken()
    const auth = { authorization: `Bearer ${jwt}` }
    const created = await acme.request('POST', '/Users', { schemas: [USER], userName: 'oauth.user@example.com' }, auth)
    assertStatus(created, 201)
    assert.equal(created.body.meta.location, `${acme.baseUrl}/Users/${created.body.id}`)
    assertStatus(await acme.request('GET', `/Users/${created.body.id}`, undefined, auth), 200)
    const list = await acme.request('GET', '/Users', undefined, auth)
    assert.deepEqual(list.body.Resources.map((u: any) => u.id), [created.body.id])
    // The write is attributed to the OAuth client in the audit log.
    const page = await srv.roster.store.audit.queryAuditEvents({ tenant: 'acme', resourceId: created.body.id, limit: 10 })
    assert.deepEqual(page.events.map((e) => [e.operation, e.actor]), [['create', { type: 'oauthClient', id: client.id, name: 'Okta production' }]])
  })

  test('a wrong secret → invalid_client: 401 with a Basic challenge for HTTP Basic, 400 for body credentials (RFC 6749 §5.2)', async () => {
    const viaBasic = await tokenRequest({ id: client.id, secret: 'rcs_wrong' })
    assertStatus(viaBasic, 401)
    assert.equal(viaBasic.body.error, 'invalid_client')
    assert.match(viaBasic.headers.get('www-authenticate') ?? '', /^Basic realm="roster"/)
    assert.equal(viaBasic.headers.get('cache-control'), 'no-store')
    const viaBody = await srv.send('POST', '/oauth/token', undefined, `grant_type=client_credentials&client_id=${client.id}&client_secret=rcs_wrong`, FORM)
    assertStatus(viaBody, 400)
    assert.equal(viaBody.body.error, 'invalid_client')
    const unknown = await tokenRequest({ id: 'rsc_000000000000000000000000', secret: client.secret })
    assertStatus(unknown, 401)
    assert.deepEqual(unknown.body, viaBasic.body, 'an unknown client and a wrong secret look the same')
  })

  test('protocol errors: another grant type, JSON instead of a form (RFC 6749 §4.4.2, §5.2)', async () => {
    const grant = await tokenRequest(client, '/oauth/token', 'grant_type=password&username=a&password=b')
    assertStatus(grant, 400)
    assert.equal(grant.body.error, 'unsupported_grant_type')
    const json = await srv.send('POST', '/oauth/token', undefined, { grant_type: 'client_credentials' }, { 'content-type': 'application/json', authorization: basic(client.id, client.secret) })
    assertStatus(json, 400)
    assert.equal(json.body.error, 'invalid_request')
  })

  test("another organization's token endpoint refuses the client as it refuses a wrong secret", async () => {
    const res = await tokenRequest(client, '/o/globex/oauth/token')
    assertStatus(res, 401)
    assert.equal(res.body.error, 'invalid_client')
    const wrong = await tokenRequest({ id: client.id, secret: 'rcs_wrong' }, '/o/globex/oauth/token')
    assert.deepEqual(res.body, wrong.body)
    const unknownOrg = await tokenRequest(client, '/o/no-such-org/oauth/token')
    assertStatus(unknownOrg, 401)
    assert.deepEqual(unknownOrg.body, wrong.body)
  })

  test("the access token on another organization's URL, or on /scim/v2, → 401 like an invalid token", async () => {
    const jwt = await accessToken()
    const invalid = await srv.send('GET', '/o/globex/scim/v2/Users', undefined, undefined, { authorization: 'Bearer not.a.token' })
    assertUnauthorized(invalid)
    for (const path of ['/o/globex/scim/v2/Users', '/scim/v2/Users', '/o/no-such-org/scim/v2/Users', '/o/globex/scim/v2/ServiceProviderConfig']) {
      const res = await srv.send('GET', path, jwt)
      assertUnauthorized(res)
      assert.deepEqual(res.body, invalid.body, path)
    }
  })

  test('a tampered or foreign JWT → 401', async () => {
    const jwt = await accessToken()
    const [h, p, sig] = jwt.split('.')
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString())
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, org: 'globex' })).toString('base64url')}.${sig}`
    assertUnauthorized(await srv.send('GET', '/o/globex/scim/v2/Users', forged))
    assertUnauthorized(await srv.send('GET', '/o/acme/scim/v2/Users', forged))
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${p}.`
    assertUnauthorized(await srv.send('GET', '/o/acme/scim/v2/Users', none))
  })

  test("a revoked client's access tokens fail from the next request on", async () => {
    const created = await srv.roster.oauthClients.create('acme', 'Temporary')
    const temp = { id: created.record.id, secret: created.clientSecret }
    const jwt = await accessToken(temp)
    assertStatus(await acme.request('GET', '/Users', undefined, { authorization: `Bearer ${jwt}` }), 200)
    assert.equal(await srv.roster.oauthClients.revoke('acme', temp.id), true)
    assertUnauthorized(await acme.request('GET', '/Users', undefined, { authorization: `Bearer ${jwt}` }))
    const again = await tokenRequest(temp)
    assertStatus(again, 401)
    assert.equal(again.body.error, 'invalid_client')
  })

  test('a signing key rotation keeps the tokens signed before it valid, and new tokens work', async () => {
    const before = await accessToken()
    const oldKid = decodeProtectedHeader(before).kid
    const rotated = await srv.roster.signingKeys.rotate()
    assert.notEqual(rotated.kid, oldKid)
    const jwks = await srv.roster.signingKeys.publicJwks()
    assert.deepEqual(jwks.keys.map((k) => k.kid).sort(), [oldKid, rotated.kid].sort(), 'both keys verify during the window')
    assertStatus(await acme.request('GET', '/Users', undefined, { authorization: `Bearer ${before}` }), 200)
    const afterRotation = await accessToken()
    assertStatus(await acme.request('GET', '/Users', undefined, { authorization: `Bearer ${afterRotation}` }), 200)
    assertStatus(await acme.request('GET', '/Users', undefined, { authorization: `Bearer ${before}` }), 200)
  })

  test('ServiceProviderConfig lists the administrator token and the OAuth client credentials, both oauthbearertoken (RFC 7643 §5)', async () => {
    const res = await acme.request('GET', '/ServiceProviderConfig')
    assertStatus(res, 200)
    const schemes = res.body.authenticationSchemes
    assert.equal(schemes.length, 2)
    assert.ok(schemes.every((s: any) => s.type === 'oauthbearertoken' && typeof s.name === 'string' && typeof s.description === 'string'))
    assert.deepEqual(schemes.map((s: any) => s.specUri), ['https://www.rfc-editor.org/info/rfc6750', 'https://www.rfc-editor.org/info/rfc6749'])
    assert.equal(schemes.filter((s: any) => s.primary === true).length, 1)
  })

  test('token requests are audited without the secret: success under the client\'s organization, failure too', async () => {
    await tokenRequest({ id: client.id, secret: 'rcs_wrong_for_audit' })
    await tokenRequest(client)
    const page = await srv.roster.store.audit.queryAuditEvents({ tenant: 'acme', operation: 'oauth.token', limit: 100 })
    assert.ok(page.events.some((e) => e.outcome.status === 200 && e.actor.id === client.id))
    const failures = await srv.roster.store.audit.queryAuditEvents({ tenant: 'default', operation: 'oauth.token', outcome: 'failure', limit: 100 })
    assert.ok(failures.events.some((e) => e.outcome.status === 401 && e.actor.id === client.id && /invalid_client/.test(e.outcome.detail ?? '')))
    const all = JSON.stringify([...page.events, ...failures.events])
    assert.ok(!all.includes(client.secret) && !all.includes('rcs_wrong_for_audit'), 'no secret in the log')
  })
})
