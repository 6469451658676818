import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { AdminClient, assertAdmin, type AdminResponse } from './admin-client.js'
import { startTestServer, type TestOrg, type TestServer } from './harness.js'

const PASSWORD = 'correct horse battery staple'
const WEBHOOK_SECRET = 'whsec_test_3b7f0c'
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const LIST_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:ListResponse'
const FORM = { 'content-type': 'application/x-www-form-urlencoded' }

interface Delivery {
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

/** A local HTTP server standing in for an organization's webhook receiver. */
class WebhookReceiver {
  readonly deliveries: Delivery[] = []
  /** How to answer each request, in order; after the list, 204. `hang` never answers. */
  answers: (number | 'hang')[] = []
  private readonly server: Server
  private readonly hanging: ServerResponse[] = []

  constructor() {
    this.server = createServer((req, res) => {
      let body = ''
      req.on('data', (c: Buffer) => (body += c.toString()))
      req.on('end', () => {
        this.deliveries.push({ headers: req.headers, body })
        const answer = this.answers.shift() ?? 204
        if (answer === 'hang') this.hanging.push(res)
        else res.writeHead(answer).end()
      })
    })
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/roster?key=s3cr3t`
  }

  async waitFor(predicate: (d: Delivery) => boolean, timeoutMs = 10_000): Promise<Delivery> {
    const until = Date.now() + timeoutMs
    for (;;) {
      const hit = this.deliveries.find(predicate)
      if (hit) return hit
      if (Date.now() > until) throw new Error(`no matching webhook delivery in ${timeoutMs} ms; got ${JSON.stringify(this.deliveries.map((d) => d.body))}`)
      await new Promise((r) => setTimeout(r, 25))
    }
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy()
    this.server.closeAllConnections()
    await new Promise((resolve) => this.server.close(resolve))
  }
}

const eventOf = (d: Delivery) => JSON.parse(d.body) as Record<string, any>

describe('admin API', () => {
  let srv: TestServer
  let acme: TestOrg
  let owner: AdminClient
  let security: AdminClient
  let viewer: AdminClient
  let acmeAdmin: AdminClient
  let ownerId: string
  const receiver = new WebhookReceiver()
  let webhookUrl: string

  before(async () => {
    // The webhook receiver below listens on 127.0.0.1, which Roster refuses to post to unless told otherwise.
    srv = await startTestServer({ ROSTER_ADMIN_SIGNIN_LIMIT: '1000', ROSTER_ADMIN_RATE_LIMIT: '100000', ROSTER_WEBHOOK_SECRET: WEBHOOK_SECRET, ROSTER_WEBHOOK_ALLOW_PRIVATE: 'true' })
    acme = await srv.org('acme')
    await srv.org('globex')
    const make = async (email: string, role: 'owner' | 'securityAdmin' | 'viewer', tenant?: string) =>
      srv.roster.admins.create({ email, password: PASSWORD, role, ...(tenant ? { tenant } : {}) })
    ownerId = (await make('owner@example.com', 'owner')).id
    await make('security@example.com', 'securityAdmin')
    await make('viewer@example.com', 'viewer')
    await make('acme-admin@example.com', 'securityAdmin', 'acme')
    owner = await new AdminClient(srv.origin).signInOrFail('owner@example.com', PASSWORD)
    security = await new AdminClient(srv.origin).signInOrFail('security@example.com', PASSWORD)
    viewer = await new AdminClient(srv.origin).signInOrFail('viewer@example.com', PASSWORD)
    acmeAdmin = await new AdminClient(srv.origin).signInOrFail('acme-admin@example.com', PASSWORD)
    webhookUrl = await receiver.listen()
  })
  after(async () => {
    await srv.close()
    await receiver.close()
  })

  describe('sessions', () => {
    test('sign-in sets an HttpOnly, SameSite=Strict cookie and answers the admin (no hash) and a CSRF token', async () => {
      const client = new AdminClient(srv.origin)
      const res = await client.signIn('Owner@Example.com', PASSWORD)
      assertAdmin(res, 200)
      const cookie = res.headers.getSetCookie().find((c) => c.startsWith('roster_admin='))!
      assert.match(cookie, /; Path=\//)
      assert.match(cookie, /; HttpOnly/)
      assert.match(cookie, /; SameSite=Strict/)
      assert.doesNotMatch(cookie, /Secure/, 'plain http: no Secure attribute')
      assert.equal(res.body.admin.email, 'owner@example.com')
      assert.equal(res.body.admin.role, 'owner')
      assert.ok(!('passwordHash' in res.body.admin))
      assert.ok(res.body.permissions.includes('admins:manage'))
      assert.match(res.body.csrfToken, /^[A-Za-z0-9_-]{43}$/)
      assert.equal(res.headers.get('cache-control'), 'no-store')

      const me = await client.get('/me')
      assertAdmin(me, 200)
      assert.equal(me.body.kind, 'session')
      assert.equal(me.body.role, 'owner')
      assert.equal(me.body.organization, null)
      assert.equal(me.body.csrfToken, res.body.csrfToken)
    })

    test('a wrong password and an unknown e-mail get the same 401, and no cookie', async () => {
      for (const [email, password] of [
        ['owner@example.com', 'not the password at all'],
        ['nobody@example.com', PASSWORD],
      ] as const) {
        const client = new AdminClient(srv.origin)
        const res = await client.signIn(email, password)
        assertAdmin(res, 401, 'unauthenticated')
        assert.equal(res.body.error.message, 'Wrong e-mail address or password')
        assert.deepEqual(res.headers.getSetCookie(), [])
      }
    })

    test('sign-in from a page of another origin is refused', async () => {
      const res = await new AdminClient(srv.origin).call('POST', '/admin/api/session', { email: 'owner@example.com', password: PASSWORD }, { headers: { origin: 'https://evil.example' } })
      assertAdmin(res, 403, 'csrf_failed')
    })

    test('sign-out needs the CSRF token, ends the session and clears the cookie', async () => {
      const client = await new AdminClient(srv.origin).signInOrFail('viewer@example.com', PASSWORD)
      assertAdmin(await client.post('/session/logout', undefined, { csrf: false }), 403, 'csrf_failed')
      const res = await client.post('/session/logout')
      assertAdmin(res, 204)
      assert.match(res.headers.getSetCookie()[0] ?? '', /^roster_admin=; .*Max-Age=0/)
      assertAdmin(await client.get('/me'), 401, 'unauthenticated')
    })

    test('without credentials every endpoint, known or not, answers 401; a SCIM token is not an admin credential', async () => {
      const anonymous = new AdminClient(srv.origin)
      for (const path of ['/me', '/organizations', '/organizations/acme/tokens', '/no/such/endpoint']) assertAdmin(await anonymous.get(path), 401, 'unauthenticated')
      const scimToken = await anonymous.call('GET', '/admin/api/organizations', undefined, { headers: { authorization: `Bearer ${srv.token}` } })
      assertAdmin(scimToken, 401, 'unauthenticated')
    })

    test('errors are JSON { error: { code, message } } without stack traces: unknown endpoint, bad JSON, schema violation', async () => {
      assertAdmin(await owner.get('/no/such/endpoint'), 404, 'not_found')
      assertAdmin(await owner.post('/organizations', '{"id": ', {}), 400, 'invalid_request')
      const missing = await owner.post('/organizations/acme/tokens', {})
      assertAdmin(missing, 400, 'invalid_request')
      assert.match(missing.body.error.message, /name/)
      assertAdmin(await owner.post('/organizations/acme/tokens', { name: '   ' }), 400, 'invalid_request')
      // JSON can carry a lone surrogate, which is no text (PostgreSQL's jsonb refuses it in the audit event).
      assertAdmin(await owner.post('/organizations/acme/tokens', '{"name":"ci \\ud800"}'), 400, 'invalid_request')
      assertAdmin(await owner.post('/organizations', '{"id":"surrogate","name":"\\udfff Org"}'), 400, 'invalid_request')
      assertAdmin(await owner.post('/organizations/acme/tokens', { name: 'emoji \u{1F511} ok' }), 201)
    })
  })

  describe('CSRF', () => {
    test('a session needs the right X-CSRF-Token on every unsafe method', async () => {
      assertAdmin(await owner.post('/organizations/acme/tokens', { name: 'no csrf' }, { csrf: false }), 403, 'csrf_failed')
      assertAdmin(await owner.post('/organizations/acme/tokens', { name: 'wrong csrf' }, { csrf: 'A'.repeat(43) }), 403, 'csrf_failed')
      assertAdmin(await owner.post('/organizations/acme/tokens', { name: 'another session' }, { csrf: security.csrfToken! }), 403, 'csrf_failed')
      assertAdmin(await owner.patch('/organizations/acme', { name: 'Acme' }, { csrf: false }), 403, 'csrf_failed')
      assertAdmin(await owner.delete('/organizations/acme/tokens/000000000000', { csrf: false }), 403, 'csrf_failed')
      assertAdmin(await owner.put('/organizations/acme/settings', { auditReads: 'off' }, { csrf: false }), 403, 'csrf_failed')
      const foreign = await owner.post('/organizations/acme/tokens', { name: 'cross-site' }, { headers: { origin: 'https://evil.example' } })
      assertAdmin(foreign, 403, 'csrf_failed')
      assertAdmin(await owner.post('/organizations/acme/tokens', { name: 'with csrf' }), 201)
      const names = (await owner.get('/organizations/acme/tokens')).body.tokens.map((t: { name: string }) => t.name)
      assert.ok(names.includes('with csrf'))
      assert.ok(!names.some((n: string) => ['no csrf', 'wrong csrf', 'another session', 'cross-site'].includes(n)), 'refused requests changed nothing')
    })

    test('safe methods need no CSRF token', async () => {
      assertAdmin(await owner.get('/organizations', { csrf: false }), 200)
    })

    test('an API key needs no CSRF token', async () => {
      const key = (await owner.post('/api-keys', { name: 'CI', role: 'securityAdmin' })).body.apiKey
      const automation = AdminClient.withApiKey(srv.origin, key)
      const res = await automation.post('/organizations/acme/tokens', { name: 'from CI' })
      assertAdmin(res, 201)
      const me = await automation.get('/me')
      assert.equal(me.body.kind, 'apiKey')
      assert.equal(me.body.role, 'securityAdmin')
      assert.ok(!('csrfToken' in me.body))
    })
  })

  describe('roles', () => {
    test('a viewer reads but cannot create or revoke tokens, clients, settings or organizations', async () => {
      assertAdmin(await viewer.get('/organizations/acme/tokens'), 200)
      assertAdmin(await viewer.get('/organizations/acme/oauth-clients'), 200)
      assertAdmin(await viewer.get('/organizations/acme/settings'), 200)
      assertAdmin(await viewer.get('/organizations/acme/users'), 200)
      assertAdmin(await viewer.get('/organizations/acme/audit'), 200)
      assertAdmin(await viewer.post('/organizations/acme/tokens', { name: 'viewer token' }), 403, 'forbidden')
      assertAdmin(await viewer.delete('/organizations/acme/tokens/000000000000'), 403, 'forbidden')
      assertAdmin(await viewer.post('/organizations/acme/oauth-clients', { name: 'viewer client' }), 403, 'forbidden')
      assertAdmin(await viewer.put('/organizations/acme/settings', { auditReads: 'all' }), 403, 'forbidden')
      assertAdmin(await viewer.post('/organizations', { id: 'viewer-org', name: 'Nope' }), 403, 'forbidden')
      assertAdmin(await viewer.post('/oauth/keys/rotate'), 403, 'forbidden')
      assertAdmin(await viewer.get('/organizations/acme/audit/export'), 403, 'forbidden')
      assertAdmin(await viewer.get('/api-keys'), 403, 'forbidden')
    })

    test('a securityAdmin manages credentials, rotates keys and exports, but cannot manage admins, keys or organizations', async () => {
      assertAdmin(await security.post('/organizations/acme/tokens', { name: 'security token' }), 201)
      assertAdmin(await security.post('/organizations/acme/oauth-clients', { name: 'security client' }), 201)
      const rotated = await security.post('/oauth/keys/rotate')
      assertAdmin(rotated, 201)
      assert.equal(typeof rotated.body.kid, 'string')
      assert.ok(!('privateJwk' in rotated.body))
      assertAdmin(await security.get('/organizations/acme/audit/export'), 200)
      assertAdmin(await security.get('/admins'), 200)
      assertAdmin(await security.post('/admins', { email: 'new@example.com', password: PASSWORD, role: 'owner' }), 403, 'forbidden')
      assertAdmin(await security.patch(`/admins/${ownerId}`, { role: 'viewer' }), 403, 'forbidden')
      assertAdmin(await security.delete(`/admins/${ownerId}`), 403, 'forbidden')
      assertAdmin(await security.post('/api-keys', { name: 'mine', role: 'owner' }), 403, 'forbidden')
      assertAdmin(await security.put('/organizations/acme/settings', { auditReads: 'all' }), 403, 'forbidden')
      assertAdmin(await security.post('/organizations', { id: 'sec-org', name: 'Nope' }), 403, 'forbidden')
    })

    test('an admin of one organization sees only it: 404 for the others, as for one that does not exist', async () => {
      const list = await acmeAdmin.get('/organizations')
      assertAdmin(list, 200)
      assert.deepEqual(
        list.body.organizations.map((o: { id: string }) => o.id),
        ['acme'],
      )
      assertAdmin(await acmeAdmin.get('/organizations/acme/tokens'), 200)
      for (const path of ['/organizations/globex', '/organizations/globex/tokens', '/organizations/globex/users', '/organizations/globex/audit', '/organizations/default/summary']) {
        const res = await acmeAdmin.get(path)
        assertAdmin(res, 404, 'not_found')
        assert.equal(res.body.error.message, `Organization ${path.split('/')[2]} not found`, 'the answer for an organization that does not exist')
      }
      assert.equal((await owner.get('/organizations/no-such-org')).body.error.message, 'Organization no-such-org not found')
      assertAdmin(await acmeAdmin.post('/organizations/globex/tokens', { name: 'cross-org' }), 404, 'not_found')
      assertAdmin(await acmeAdmin.post('/organizations/acme/tokens', { name: 'own org' }), 201)
      assertAdmin(await acmeAdmin.post('/oauth/keys/rotate'), 403, 'forbidden')
      const admins = await acmeAdmin.get('/admins')
      assert.deepEqual(
        admins.body.admins.map((a: { email: string }) => a.email),
        ['acme-admin@example.com'],
      )
    })
  })

  describe('SCIM tokens', () => {
    test('create answers the token and the SCIM base URL once; the token works there; list never shows a secret; revoke fails the next request', async () => {
      const created = await security.post('/organizations/acme/tokens', { name: 'Okta production', expiresAt: '2999-01-01T00:00:00Z' })
      assertAdmin(created, 201)
      const { token, scimBaseUrl, id } = created.body
      assert.match(token, /^rst_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/)
      assert.equal(scimBaseUrl, `${srv.origin}/o/acme/scim/v2`)
      assert.equal(created.body.expiresAt, '2999-01-01T00:00:00.000Z')
      assert.equal(created.body.status, 'active')

      const ok = await fetch(`${scimBaseUrl}/Users`, { headers: { authorization: `Bearer ${token}` } })
      assert.equal(ok.status, 200)

      const listed = await security.get('/organizations/acme/tokens')
      assertAdmin(listed, 200)
      const row = listed.body.tokens.find((t: { id: string }) => t.id === id)
      assert.deepEqual(Object.keys(row).sort(), ['createdAt', 'expiresAt', 'id', 'lastUsedAt', 'name', 'prefix', 'revokedAt', 'status'])
      assert.equal(row.prefix, `rst_${id}`)
      assert.ok(!listed.text.includes(token.slice(17)), 'the secret is never listed')
      assert.ok(!listed.text.includes('"hash"'), 'nor the hash')

      assertAdmin(await security.delete(`/organizations/acme/tokens/${id}`), 204)
      const denied = await fetch(`${scimBaseUrl}/Users`, { headers: { authorization: `Bearer ${token}` } })
      assert.equal(denied.status, 401)
      assertAdmin(await security.delete(`/organizations/acme/tokens/${id}`), 404, 'not_found')
      const after = (await security.get('/organizations/acme/tokens')).body.tokens.find((t: { id: string }) => t.id === id)
      assert.equal(after.status, 'revoked')
    })

    test("the default organization's tokens are for /scim/v2; another organization's token id cannot be revoked through it", async () => {
      const created = await owner.post('/organizations/default/tokens', { name: 'default org' })
      assertAdmin(created, 201)
      assert.equal(created.body.scimBaseUrl, `${srv.origin}/scim/v2`)
      assert.equal((await fetch(`${srv.origin}/scim/v2/Users`, { headers: { authorization: `Bearer ${created.body.token}` } })).status, 200)
      assertAdmin(await owner.delete(`/organizations/acme/tokens/${created.body.id}`), 404, 'not_found')
      assert.equal((await fetch(`${srv.origin}/scim/v2/Users`, { headers: { authorization: `Bearer ${created.body.token}` } })).status, 200)
    })

    test('expiresAt must be a future ISO 8601 date-time', async () => {
      assertAdmin(await owner.post('/organizations/acme/tokens', { name: 'x', expiresAt: 'tomorrow' }), 400, 'invalid_request')
      assertAdmin(await owner.post('/organizations/acme/tokens', { name: 'x', expiresAt: '2000-01-01T00:00:00Z' }), 400, 'invalid_request')
    })
  })

  describe('OAuth clients', () => {
    test('create answers client_id and secret once with the token endpoint; the client gets tokens that work; revoke stops both', async () => {
      const created = await security.post('/organizations/acme/oauth-clients', { name: 'Entra ID' })
      assertAdmin(created, 201)
      const { clientId, clientSecret, tokenEndpoint, scimBaseUrl } = created.body
      assert.match(clientId, /^rsc_[0-9a-f]{24}$/)
      assert.match(clientSecret, /^rcs_/)
      assert.equal(tokenEndpoint, `${srv.origin}/o/acme/oauth/token`)
      assert.equal(scimBaseUrl, `${srv.origin}/o/acme/scim/v2`)

      const form = { method: 'POST', headers: { ...FORM, authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}` }, body: 'grant_type=client_credentials' }
      const issued = await fetch(tokenEndpoint, form)
      assert.equal(issued.status, 200)
      const accessToken = ((await issued.json()) as { access_token: string }).access_token
      assert.equal((await fetch(`${scimBaseUrl}/Users`, { headers: { authorization: `Bearer ${accessToken}` } })).status, 200)

      const listed = await security.get('/organizations/acme/oauth-clients')
      assert.ok(listed.body.clients.some((c: { clientId: string }) => c.clientId === clientId))
      assert.ok(!listed.text.includes(clientSecret), 'the secret is never listed')
      assert.ok(!listed.text.includes('secretHash'))

      assertAdmin(await security.delete(`/organizations/acme/oauth-clients/${clientId}`), 204)
      const refused = await fetch(tokenEndpoint, form)
      assert.equal(refused.status, 401)
      assert.equal(((await refused.json()) as { error: string }).error, 'invalid_client')
      assert.equal((await fetch(`${scimBaseUrl}/Users`, { headers: { authorization: `Bearer ${accessToken}` } })).status, 401)
      assertAdmin(await security.delete(`/organizations/acme/oauth-clients/${clientId}`), 404, 'not_found')
    })
  })

  describe('users and groups, read-only', () => {
    let bjensen: string
    before(async () => {
      const a = await acme.request('POST', '/Users', { schemas: [USER], userName: 'bjensen', name: { givenName: 'Barbara' } })
      assert.equal(a.status, 201, a.text)
      bjensen = a.body.id
      assert.equal((await acme.request('POST', '/Users', { schemas: [USER], userName: 'jsmith' })).status, 201)
      assert.equal((await acme.request('POST', '/Groups', { schemas: [GROUP], displayName: 'Engineering', members: [{ value: bjensen }] })).status, 201)
    })

    test('search with a SCIM filter, attributes and paging answers the SCIM ListResponse', async () => {
      const res = await viewer.get(`/organizations/acme/users?filter=${encodeURIComponent('userName eq "BJENSEN"')}&attributes=userName`)
      assertAdmin(res, 200)
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
      assert.deepEqual(res.body.schemas, [LIST_RESPONSE])
      assert.equal(res.body.totalResults, 1)
      assert.equal(res.body.Resources[0].userName, 'bjensen')
      assert.equal(res.body.Resources[0].name, undefined, 'attributes=userName leaves name out')

      const page = await viewer.get('/organizations/acme/users?startIndex=2&count=1&sortBy=userName')
      assert.equal(page.body.totalResults, 2)
      assert.equal(page.body.startIndex, 2)
      assert.equal(page.body.Resources[0].userName, 'jsmith')

      const groups = await viewer.get('/organizations/acme/groups')
      assert.equal(groups.body.totalResults, 1)
      assert.equal(groups.body.Resources[0].members[0].value, bjensen)

      const none = await viewer.get('/organizations/globex/users')
      assert.equal(none.body.totalResults, 0, 'another organization has its own users')
    })

    test('get by id answers the resource with its location at the organization SCIM URL; unknown id is 404; a bad filter is 400', async () => {
      const res = await viewer.get(`/organizations/acme/users/${bjensen}`)
      assertAdmin(res, 200)
      assert.equal(res.body.userName, 'bjensen')
      assert.equal(res.body.meta.location, `${srv.origin}/o/acme/scim/v2/Users/${bjensen}`)
      assertAdmin(await viewer.get(`/organizations/globex/users/${bjensen}`), 404, 'not_found')
      assertAdmin(await viewer.get(`/organizations/acme/users?filter=${encodeURIComponent('userName eq')}`), 400, 'invalid_request')
    })
  })

  describe('audit log', () => {
    before(async () => {
      // A failed SCIM request (duplicate userName) and a few admin acts.
      await acme.request('POST', '/Users', { schemas: [USER], userName: 'audit-user' })
      await acme.request('POST', '/Users', { schemas: [USER], userName: 'audit-user' })
      await owner.post('/organizations/acme/tokens', { name: 'audited token' })
    })

    test('admin acts are events with the admin as actor; filters by operation, actor and outcome; cursor paging', async () => {
      const created = await owner.get('/organizations/acme/audit?operation=token.create')
      assertAdmin(created, 200)
      const event = created.body.events.find((e: { changes: { attribute: string; after?: unknown }[] }) => e.changes.some((c) => c.after === 'audited token'))
      assert.ok(event, created.text)
      assert.deepEqual(event.actor, { type: 'admin', id: ownerId, name: 'owner@example.com' })
      assert.equal(event.resource.type, 'Token')
      assert.equal(event.outcome.status, 200)
      assert.ok(created.body.events.every((e: { operation: string }) => e.operation === 'token.create'))
      assert.ok(!created.text.includes('rst_'), 'no token in the log')

      const byActor = await owner.get(`/organizations/acme/audit?actorId=${ownerId}`)
      assert.ok(byActor.body.events.length > 0 && byActor.body.events.every((e: { actor: { id: string } }) => e.actor.id === ownerId))

      const failures = await owner.get('/organizations/acme/audit?outcome=failure')
      assert.ok(failures.body.events.length > 0, 'the duplicate userName was recorded')
      assert.ok(failures.body.events.every((e: { outcome: { status: number } }) => e.outcome.status >= 400))

      const first = await owner.get('/organizations/acme/audit?limit=2')
      assert.equal(first.body.events.length, 2)
      assert.equal(typeof first.body.nextCursor, 'string')
      const second = await owner.get(`/organizations/acme/audit?limit=2&cursor=${first.body.nextCursor}`)
      assert.equal(second.body.events.length, 2)
      const ids = [...first.body.events, ...second.body.events].map((e: { id: string }) => e.id)
      assert.equal(new Set(ids).size, 4, 'pages do not overlap')
      assert.ok(first.body.events[1].time >= second.body.events[0].time, 'newest first')
      assertAdmin(await owner.get('/organizations/acme/audit?cursor=bm90IGEgY3Vyc29y'), 400, 'invalid_request')
      assertAdmin(await owner.get('/organizations/acme/audit?from=yesterday'), 400, 'invalid_request')

      const future = await owner.get('/organizations/acme/audit?from=2999-01-01')
      assert.deepEqual(future.body.events, [])
    })

    test('NDJSON export: an attachment, one event per line, and itself recorded as audit.export', async () => {
      const res = await security.call('GET', '/admin/api/organizations/acme/audit/export?format=ndjson')
      assertAdmin(res, 200)
      assert.match(res.headers.get('content-type') ?? '', /^application\/x-ndjson/)
      assert.match(res.headers.get('content-disposition') ?? '', /^attachment; filename="roster-audit-acme-\d{4}-\d{2}-\d{2}\.ndjson"$/)
      const lines = res.text.trimEnd().split('\n')
      const events = lines.map((l) => JSON.parse(l) as { tenant: string; operation: string })
      assert.ok(events.length >= 3)
      assert.ok(events.every((e) => e.tenant === 'acme'))
      assert.ok(events.some((e) => e.operation === 'token.create'))
      const exports = await security.get('/organizations/acme/audit?operation=audit.export')
      assert.ok(exports.body.events.some((e: { actor: { name: string } }) => e.actor.name === 'security@example.com'))
    })

    test('CSV export: RFC 4180 with a header row, filtered by time', async () => {
      const res = await security.call('GET', '/admin/api/organizations/acme/audit/export?format=csv&operation=token.create')
      assertAdmin(res, 200)
      assert.match(res.headers.get('content-type') ?? '', /^text\/csv/)
      assert.match(res.headers.get('content-disposition') ?? '', /^attachment; filename=".*\.csv"$/)
      const rows = res.text.split('\r\n').filter(Boolean)
      assert.match(rows[0]!, /^id,time,tenant,operation,status,/)
      assert.ok(rows.length >= 2)
      assert.ok(rows.slice(1).every((r) => r.includes(',acme,token.create,200,')))
      const empty = await security.call('GET', '/admin/api/organizations/acme/audit/export?format=csv&to=2000-01-01T00:00:00Z')
      assert.deepEqual(empty.text.split('\r\n').filter(Boolean).length <= 1, true, 'nothing before 2000 (at most the header)')
    })

    test('summary: user and group counts, last activity, and the 24-hour error rate from the log', async () => {
      const res = await viewer.get('/organizations/acme/summary')
      assertAdmin(res, 200)
      const users = (await viewer.get('/organizations/acme/users?count=0')).body.totalResults
      const groups = (await viewer.get('/organizations/acme/groups?count=0')).body.totalResults
      assert.equal(res.body.users, users)
      assert.equal(res.body.groups, groups)
      assert.ok(users >= 3 && groups >= 1)
      const all: { time: string; outcome: { status: number } }[] = []
      let cursor: string | undefined
      do {
        const page: AdminResponse = await viewer.get(`/organizations/acme/audit?limit=500${cursor ? `&cursor=${cursor}` : ''}`)
        all.push(...page.body.events)
        cursor = page.body.nextCursor
      } while (cursor)
      const failures = all.filter((e) => e.outcome.status >= 400).length
      assert.ok(failures >= 1)
      // The summary itself adds no event, so the log read afterwards has the same numbers.
      assert.equal(res.body.last24Hours.events, all.length)
      assert.equal(res.body.last24Hours.failures, failures)
      assert.equal(res.body.last24Hours.errorRate, failures / all.length)
      assert.equal(res.body.lastActivity, all[0]!.time)
    })
  })

  describe('organizations and settings', () => {
    test('create, get, rename, delete; a taken id is 409, the default organization cannot be removed', async () => {
      const created = await owner.post('/organizations', { id: 'initech', name: 'Initech' })
      assertAdmin(created, 201)
      assert.deepEqual({ id: created.body.id, name: created.body.name, scimBaseUrl: created.body.scimBaseUrl }, { id: 'initech', name: 'Initech', scimBaseUrl: `${srv.origin}/o/initech/scim/v2` })
      assertAdmin(await owner.post('/organizations', { id: 'initech', name: 'Again' }), 409, 'conflict')
      assertAdmin(await owner.post('/organizations', { id: 'Not A Slug', name: 'Bad' }), 400, 'invalid_request')
      const renamed = await owner.patch('/organizations/initech', { name: 'Initech Corp' })
      assertAdmin(renamed, 200)
      assert.equal((await owner.get('/organizations/initech')).body.name, 'Initech Corp')
      assertAdmin(await acmeAdmin.delete('/organizations/acme'), 403, 'forbidden')
      assertAdmin(await owner.delete('/organizations/initech'), 204)
      assertAdmin(await owner.get('/organizations/initech'), 404, 'not_found')
      assertAdmin(await owner.delete('/organizations/default'), 400, 'invalid_request')
      const log = await owner.get('/organizations/default/audit?operation=organization.delete')
      assert.ok(log.body.events.some((e: { resource: { id: string } }) => e.resource.id === 'initech'), 'the removal is in the installation log')
    })

    test('settings: read, partial update, every problem reported at once; the webhook URL is never in the log', async () => {
      const read = await viewer.get('/organizations/globex/settings')
      assertAdmin(read, 200)
      assert.equal(read.body.settings.deletePolicy, 'delete')
      const updated = await owner.put('/organizations/globex/settings', { deletePolicy: 'deactivate', webhookUrl: 'https://hooks.example.com/T000/secret-path' })
      assertAdmin(updated, 200)
      assert.equal(updated.body.settings.deletePolicy, 'deactivate')
      assert.equal(updated.body.settings.auditReads, read.body.settings.auditReads, 'other settings stay')
      const bad = await owner.put('/organizations/globex/settings', { deletePolicy: 'shred', webhookUrl: 'ftp://x' })
      assertAdmin(bad, 400, 'invalid_request')
      assert.match(bad.body.error.message, /deletePolicy/)
      assert.match(bad.body.error.message, /webhookUrl/)
      const log = await owner.get('/organizations/globex/audit?operation=settings.update')
      assert.equal(log.body.events.length, 1)
      assert.ok(!log.text.includes('secret-path'))
      assert.ok(log.body.events[0].changes.some((c: { attribute: string; after: unknown }) => c.attribute === 'deletePolicy' && c.after === 'deactivate'))
    })
  })

  describe('admins and API keys (owners)', () => {
    test('create, list (no hashes), change role, disable (its sessions end), delete; every write is audited', async () => {
      const created = await owner.post('/admins', { email: 'Temp@Example.com', password: PASSWORD, role: 'viewer', organization: 'acme' })
      assertAdmin(created, 201)
      assert.equal(created.body.email, 'temp@example.com')
      assert.equal(created.body.tenant, 'acme')
      assert.ok(!('passwordHash' in created.body))
      const id = created.body.id
      assertAdmin(await owner.post('/admins', { email: 'temp@example.com', password: PASSWORD, role: 'viewer' }), 409, 'conflict')
      assertAdmin(await owner.post('/admins', { email: 'short@example.com', password: 'short', role: 'viewer' }), 400, 'invalid_request')
      assertAdmin(await owner.post('/admins', { email: 'x@example.com', password: PASSWORD, role: 'viewer', organization: 'no-such-org' }), 400, 'invalid_request')

      const list = await owner.get('/admins')
      assert.ok(list.body.admins.some((a: { id: string }) => a.id === id))
      assert.ok(!list.text.includes('passwordHash') && !list.text.includes('scrypt'))

      const temp = await new AdminClient(srv.origin).signInOrFail('temp@example.com', PASSWORD)
      assertAdmin(await temp.post('/organizations/acme/tokens', { name: 'as viewer' }), 403, 'forbidden')
      const promoted = await owner.patch(`/admins/${id}`, { role: 'securityAdmin' })
      assertAdmin(promoted, 200)
      assertAdmin(await temp.post('/organizations/acme/tokens', { name: 'as securityAdmin' }), 201, undefined)

      assertAdmin(await owner.patch(`/admins/${id}`, { disabled: true }), 200)
      assertAdmin(await temp.get('/me'), 401, 'unauthenticated')
      assertAdmin(await new AdminClient(srv.origin).signIn('temp@example.com', PASSWORD), 401, 'unauthenticated')

      const enabled = await owner.patch(`/admins/${id}`, { disabled: false, organization: null })
      assertAdmin(enabled, 200)
      assert.equal(enabled.body.disabledAt, undefined)
      assert.equal(enabled.body.tenant, undefined, 'now sees every organization')
      const again = await new AdminClient(srv.origin).signInOrFail('temp@example.com', PASSWORD)
      assertAdmin(await again.get('/organizations/globex/tokens'), 200)

      assertAdmin(await owner.delete(`/admins/${id}`), 204)
      assertAdmin(await owner.delete(`/admins/${id}`), 404, 'not_found')

      const log = await owner.get(`/organizations/default/audit?resourceId=${id}`)
      assert.deepEqual(
        log.body.events.map((e: { operation: string }) => e.operation).filter((o: string) => o !== 'admin.login').reverse(),
        ['admin.create', 'admin.update', 'admin.update', 'admin.update', 'admin.delete'],
      )
    })

    test('the last owner of the whole installation cannot be demoted, disabled or removed', async () => {
      assertAdmin(await owner.patch(`/admins/${ownerId}`, { role: 'viewer' }), 409, 'conflict')
      assertAdmin(await owner.patch(`/admins/${ownerId}`, { disabled: true }), 409, 'conflict')
      assertAdmin(await owner.patch(`/admins/${ownerId}`, { organization: 'acme' }), 409, 'conflict')
      assertAdmin(await owner.delete(`/admins/${ownerId}`), 409, 'conflict')
      assertAdmin(await owner.get('/me'), 200)
    })

    test('API keys: shown once, listed without secret, act with their role, revoked at once', async () => {
      const created = await owner.post('/api-keys', { name: 'Terraform', role: 'viewer' })
      assertAdmin(created, 201)
      const { apiKey, id } = created.body
      assert.match(apiKey, /^rak_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/)
      const listed = await owner.get('/api-keys')
      assert.ok(listed.body.apiKeys.some((k: { id: string; prefix: string }) => k.id === id && k.prefix === `rak_${id}`))
      assert.ok(!listed.text.includes(apiKey.slice(17)) && !listed.text.includes('"hash"'))
      const key = AdminClient.withApiKey(srv.origin, apiKey)
      assertAdmin(await key.get('/organizations/acme/tokens'), 200)
      assertAdmin(await key.post('/organizations/acme/tokens', { name: 'viewer key' }), 403, 'forbidden')
      assertAdmin(await owner.delete(`/api-keys/${id}`), 204)
      assertAdmin(await key.get('/organizations/acme/tokens'), 401, 'unauthenticated')
      const log = await owner.get(`/organizations/default/audit?resourceId=${id}`)
      assert.deepEqual(log.body.events.map((e: { operation: string }) => e.operation).reverse(), ['apiKey.create', 'apiKey.revoke'])
    })
  })

  describe('own password (PUT /me/password)', () => {
    const NEW_PASSWORD = 'a longer passphrase, new today'
    /** An admin of one organization with a viewer role: changing one's password needs no permission. */
    const makeSelf = async (email: string) => (await srv.roster.admins.create({ email, password: PASSWORD, role: 'viewer', tenant: 'acme' })).id
    const passwordEvents = async (id: string) => (await owner.get(`/organizations/default/audit?operation=admin.passwordChange&resourceId=${id}`)).body.events

    test('needs the current password; this session stays, the others end; only the new password signs in; audited without either', async () => {
      const id = await makeSelf('self@example.com')
      const here = await new AdminClient(srv.origin).signInOrFail('self@example.com', PASSWORD)
      const elsewhere = await new AdminClient(srv.origin).signInOrFail('self@example.com', PASSWORD)
      const changed = await here.put('/me/password', { currentPassword: PASSWORD, newPassword: NEW_PASSWORD })
      assertAdmin(changed, 200)
      assert.deepEqual(changed.body, { otherSessionsEnded: 1 })
      assert.equal(changed.headers.get('cache-control'), 'no-store')

      assertAdmin(await here.get('/me'), 200)
      assertAdmin(await elsewhere.get('/me'), 401, 'unauthenticated')
      assertAdmin(await new AdminClient(srv.origin).signIn('self@example.com', PASSWORD), 401, 'unauthenticated')
      await new AdminClient(srv.origin).signInOrFail('self@example.com', NEW_PASSWORD)

      const events = await passwordEvents(id)
      assert.equal(events.length, 1)
      assert.deepEqual(events[0].actor, { type: 'admin', id, name: 'self@example.com' })
      assert.deepEqual(events[0].resource, { type: 'Admin', id })
      assert.deepEqual(events[0].changes, [{ attribute: 'password', after: '[redacted]', changed: true }])
      assert.equal(events[0].outcome.status, 200)
      const log = await owner.get(`/organizations/default/audit?actorId=${id}`)
      assert.deepEqual(log.body.events.map((e: { operation: string }) => e.operation).sort(), ['admin.login', 'admin.login', 'admin.login', 'admin.passwordChange'])
      assert.ok(!log.text.includes(NEW_PASSWORD) && !log.text.includes(PASSWORD), 'neither password is in the log')
      assert.ok(!log.text.includes('scrypt$'), 'nor a hash')
    })

    test('a wrong current password is 403 and changes nothing; the attempt is audited as refused', async () => {
      const id = await makeSelf('wrong-current@example.com')
      const client = await new AdminClient(srv.origin).signInOrFail('wrong-current@example.com', PASSWORD)
      const refused = await client.put('/me/password', { currentPassword: 'not the current one', newPassword: NEW_PASSWORD })
      assertAdmin(refused, 403, 'forbidden')
      assert.equal(refused.body.error.message, 'The current password is wrong')
      assertAdmin(await client.get('/me'), 200, undefined)
      await new AdminClient(srv.origin).signInOrFail('wrong-current@example.com', PASSWORD)
      const events = await passwordEvents(id)
      assert.deepEqual(
        events.map((e: { outcome: { status: number }; changes: unknown[] }) => [e.outcome.status, e.changes]),
        [[403, []]],
      )
    })

    const refusedBodies = [
      { title: 'a new password the rules refuse is 400 naming every problem', email: 'weak-new@example.com', body: { currentPassword: PASSWORD, newPassword: ' short ' }, message: /at least 12 characters.*do not start or end with spaces/ },
      { title: 'no current password is 400', email: 'no-current@example.com', body: { newPassword: NEW_PASSWORD }, message: /currentPassword/ },
      { title: 'an empty new password is 400', email: 'empty-new@example.com', body: { currentPassword: PASSWORD, newPassword: '' }, message: /newPassword/ },
    ]
    for (const { title, email, body, message } of refusedBodies) {
      test(`${title}, and the password stays`, async () => {
        await makeSelf(email)
        const client = await new AdminClient(srv.origin).signInOrFail(email, PASSWORD)
        const res = await client.put('/me/password', body)
        assertAdmin(res, 400, 'invalid_request')
        assert.match(res.body.error.message, message)
        assert.ok(!res.text.includes(PASSWORD), 'the password is not echoed')
        await new AdminClient(srv.origin).signInOrFail(email, PASSWORD)
      })
    }

    test('an API key has no password: 403, whatever its role', async () => {
      const { apiKey } = await srv.roster.apiKeys.issue('owner key', 'owner', { createdBy: ownerId })
      const res = await AdminClient.withApiKey(srv.origin, apiKey).put('/me/password', { currentPassword: PASSWORD, newPassword: NEW_PASSWORD })
      assertAdmin(res, 403, 'forbidden')
      assert.match(res.body.error.message, /API key has no password/)
    })

    test("a session needs its CSRF token to change the password (another site's page cannot)", async () => {
      await makeSelf('csrf-self@example.com')
      const client = await new AdminClient(srv.origin).signInOrFail('csrf-self@example.com', PASSWORD)
      assertAdmin(await client.put('/me/password', { currentPassword: PASSWORD, newPassword: NEW_PASSWORD }, { csrf: false }), 403, 'csrf_failed')
      await new AdminClient(srv.origin).signInOrFail('csrf-self@example.com', PASSWORD)
    })
  })

  describe('webhooks', () => {
    test('token and client events reach the webhook with a valid HMAC-SHA256 signature', async () => {
      assertAdmin(await owner.put('/organizations/acme/settings', { webhookUrl }), 200)
      const token = (await security.post('/organizations/acme/tokens', { name: 'hooked token' })).body
      const delivery = await receiver.waitFor((d) => eventOf(d).type === 'token.created' && eventOf(d).tokenId === token.id)
      const event = eventOf(delivery)
      assert.deepEqual(Object.keys(event).sort(), ['actor', 'at', 'name', 'organization', 'tokenId', 'type'])
      assert.equal(event.organization, 'acme')
      assert.equal(event.name, 'hooked token')
      assert.equal(event.actor.type, 'admin')
      assert.equal(event.actor.name, 'security@example.com')
      assert.ok(!delivery.body.includes(token.token.slice(17)), 'never the secret')
      assert.equal(delivery.headers['content-type'], 'application/json')
      assert.equal(delivery.headers['x-roster-event'], 'token.created')
      const expected = `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(delivery.body).digest('hex')}`
      assert.equal(delivery.headers['x-roster-signature'], expected)

      await security.delete(`/organizations/acme/tokens/${token.id}`)
      await receiver.waitFor((d) => eventOf(d).type === 'token.revoked' && eventOf(d).tokenId === token.id)
      const client = (await security.post('/organizations/acme/oauth-clients', { name: 'hooked client' })).body
      const clientEvent = eventOf(await receiver.waitFor((d) => eventOf(d).type === 'oauthClient.created'))
      assert.equal(clientEvent.clientId, client.clientId)
      await security.delete(`/organizations/acme/oauth-clients/${client.clientId}`)
      await receiver.waitFor((d) => eventOf(d).type === 'oauthClient.revoked' && eventOf(d).clientId === client.clientId)
    })

    test('a failed delivery is retried with the same delivery id', async () => {
      receiver.answers = [503]
      const token = (await security.post('/organizations/acme/tokens', { name: 'retried' })).body
      const matching = (d: Delivery) => eventOf(d).tokenId === token.id
      await receiver.waitFor(matching)
      const deadline = Date.now() + 10_000
      while (receiver.deliveries.filter(matching).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
      const attempts = receiver.deliveries.filter(matching)
      assert.equal(attempts.length, 2, 'one retry after the 503, none after the 204')
      assert.equal(attempts[0]!.headers['x-roster-delivery'], attempts[1]!.headers['x-roster-delivery'])
    })

    test('a receiver that hangs or is down never delays or fails the admin request', async () => {
      receiver.answers = ['hang']
      const started = Date.now()
      assertAdmin(await security.post('/organizations/acme/tokens', { name: 'hung receiver' }), 201)
      await receiver.waitFor((d) => eventOf(d).name === 'hung receiver')
      assertAdmin(await security.post('/organizations/acme/tokens', { name: 'after hang' }), 201)

      const down = new WebhookReceiver()
      const downUrl = await down.listen()
      await down.close()
      assertAdmin(await owner.put('/organizations/acme/settings', { webhookUrl: downUrl }), 200)
      assertAdmin(await security.post('/organizations/acme/tokens', { name: 'receiver down' }), 201)
      assertAdmin(await security.post('/organizations/acme/oauth-clients', { name: 'receiver down' }), 201)
      assert.ok(Date.now() - started < 3_000, `admin requests took ${Date.now() - started} ms`)
      assertAdmin(await owner.put('/organizations/acme/settings', { webhookUrl: null }), 200)
    })
  })
})

describe('admin API webhook settings without ROSTER_WEBHOOK_ALLOW_PRIVATE', () => {
  let srv: TestServer
  let owner: AdminClient

  before(async () => {
    srv = await startTestServer()
    await srv.org('acme')
    await srv.roster.admins.create({ email: 'owner@example.com', password: PASSWORD, role: 'owner' })
    owner = await new AdminClient(srv.origin).signInOrFail('owner@example.com', PASSWORD)
  })
  after(async () => {
    await srv.close()
  })

  const refused: { webhookUrl: string; message: RegExp }[] = [
    { webhookUrl: 'http://127.0.0.1:8080/hook', message: /127\.0\.0\.1 is loopback \(127\.0\.0\.0\/8, RFC 1122\)/ },
    { webhookUrl: 'http://169.254.169.254/latest/meta-data/', message: /169\.254\.169\.254 is link-local/ },
    { webhookUrl: 'https://192.168.10.5/hook', message: /private \(192\.168\.0\.0\/16, RFC 1918\)/ },
    { webhookUrl: 'http://[::ffff:10.0.0.1]/hook', message: /private \(10\.0\.0\.0\/8, RFC 1918\)/ },
    { webhookUrl: 'http://[fd00::1]/hook', message: /unique-local/ },
    { webhookUrl: 'http://localhost:3000/hook', message: /loopback name/ },
    { webhookUrl: 'gopher://hooks.example.com/hook', message: /webhookUrl must be an http or https URL/ },
  ]
  for (const { webhookUrl, message } of refused) {
    test(`PUT settings with webhookUrl ${webhookUrl} is 400, saying why, and stores nothing`, async () => {
      const res = await owner.put('/organizations/acme/settings', { webhookUrl })
      assertAdmin(res, 400, 'invalid_request')
      assert.match(res.body.error.message, /webhookUrl/)
      assert.match(res.body.error.message, message)
      if (!webhookUrl.startsWith('gopher:')) assert.match(res.body.error.message, /ROSTER_WEBHOOK_ALLOW_PRIVATE=true/)
      assert.equal((await owner.get('/organizations/acme/settings')).body.settings.webhookUrl, undefined)
    })
  }

  test('a host name is accepted when saved (it is resolved and checked at each delivery)', async () => {
    assertAdmin(await owner.put('/organizations/acme/settings', { webhookUrl: 'https://hooks.example.com/roster' }), 200)
    assert.equal((await owner.get('/organizations/acme/settings')).body.settings.webhookUrl, 'https://hooks.example.com/roster')
  })
})

describe('admin API rate limits', () => {
  let srv: TestServer

  before(async () => {
    srv = await startTestServer({ ROSTER_ADMIN_SIGNIN_LIMIT: '3', ROSTER_ADMIN_RATE_LIMIT: '5' })
    await srv.roster.admins.create({ email: 'owner@example.com', password: PASSWORD, role: 'owner' })
    // Signs in for the per-session test; owner@example.com's failures lock it out in the first test.
    await srv.roster.admins.create({ email: 'viewer@example.com', password: PASSWORD, role: 'viewer' })
  })
  after(async () => {
    await srv.close()
  })

  const signIn = (email: string, password: string, ip: string) =>
    srv.roster.app.inject({ method: 'POST', url: '/admin/api/session', remoteAddress: ip, payload: { email, password } })

  test('failed sign-ins for one e-mail are limited, from any address: 429 with Retry-After, even with the right password', async () => {
    for (const ip of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) assert.equal((await signIn('owner@example.com', 'wrong password!!', ip)).statusCode, 401)
    const limited = await signIn('owner@example.com', PASSWORD, '10.0.0.4')
    assert.equal(limited.statusCode, 429)
    assert.ok(Number(limited.headers['retry-after']) > 0 && Number(limited.headers['retry-after']) <= 900)
    assert.equal(limited.json().error.code, 'rate_limited')
    assert.equal((await signIn('other@example.com', 'wrong password!!', '10.0.0.5')).statusCode, 401, 'another e-mail is not limited')
  })

  test('sign-ins from one address are limited whatever the e-mail', async () => {
    for (const email of ['a@example.com', 'b@example.com', 'c@example.com']) assert.equal((await signIn(email, 'wrong password!!', '10.0.1.1')).statusCode, 401)
    const limited = await signIn('d@example.com', 'wrong password!!', '10.0.1.1')
    assert.equal(limited.statusCode, 429)
    assert.ok(Number(limited.headers['retry-after']) > 0)
  })

  test('a wrong current password in a password change counts as a failed sign-in of that e-mail', async () => {
    await srv.roster.admins.create({ email: 'changer@example.com', password: PASSWORD, role: 'viewer' })
    const client = await new AdminClient(srv.origin).signInOrFail('changer@example.com', PASSWORD)
    for (let i = 0; i < 3; i++) assertAdmin(await client.put('/me/password', { currentPassword: 'wrong password!!', newPassword: 'the new passphrase' }), 403, 'forbidden')
    const limited = await client.put('/me/password', { currentPassword: PASSWORD, newPassword: 'the new passphrase' })
    assertAdmin(limited, 429, 'rate_limited')
    assert.ok(Number(limited.headers.get('retry-after')) > 60, 'the 15-minute sign-in window')
    assert.equal((await signIn('changer@example.com', PASSWORD, '10.0.2.1')).statusCode, 429, 'sign-in with the right password is locked as well')
  })

  test('requests per session are limited: 429 with Retry-After', async () => {
    const client = await new AdminClient(srv.origin).signInOrFail('viewer@example.com', PASSWORD)
    for (let i = 0; i < 5; i++) assertAdmin(await client.get('/me'), 200)
    const limited = await client.get('/me')
    assertAdmin(limited, 429, 'rate_limited')
    const retryAfter = Number(limited.headers.get('retry-after'))
    assert.ok(retryAfter > 0 && retryAfter <= 60, `Retry-After ${retryAfter}`)
  })

  test('requests per API key are limited, each key on its own', async () => {
    const admin = (await srv.roster.admins.list())[0]!
    const one = await srv.roster.apiKeys.issue('one', 'viewer', { createdBy: admin.id })
    const two = await srv.roster.apiKeys.issue('two', 'viewer', { createdBy: admin.id })
    const first = AdminClient.withApiKey(srv.origin, one.apiKey)
    for (let i = 0; i < 5; i++) assertAdmin(await first.get('/organizations'), 200)
    const limited = await first.get('/organizations')
    assertAdmin(limited, 429, 'rate_limited')
    assert.ok(Number(limited.headers.get('retry-after')) > 0)
    assertAdmin(await AdminClient.withApiKey(srv.origin, two.apiKey).get('/organizations'), 200)
  })
})
