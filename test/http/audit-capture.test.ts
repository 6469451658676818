import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { AuditEvent, AuditQuery } from '../../src/store/ports.js'
import { assertStatus, startTestServer, type ScimResponse, type TestOrg, type TestServer } from './harness.js'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest'
const REDACTED = '[redacted]'
// Okta's SCIM 2.0 reference shows this User-Agent; Entra ID's provisioning service sends the second.
const OKTA_UA = 'Okta SCIM Client 1.0.0'
const ENTRA_UA = 'Microsoft Azure AD SCIM provisioning'

const patchBody = (...Operations: unknown[]) => ({ schemas: [PATCH_OP], Operations })

describe('Audit capture on the SCIM API', () => {
  let srv: TestServer
  let org: TestOrg
  let tokenId: string

  const events = async (query: Omit<AuditQuery, 'limit'> & { limit?: number }): Promise<AuditEvent[]> =>
    [...(await srv.roster.store.audit.queryAuditEvents({ limit: 100, ...query })).events].reverse()

  /**
   * Events of rejected requests and reads are written once the response is sent (onResponse), so a test
   * that reads them right after its request waits a little for them.
   */
  async function eventually(query: Omit<AuditQuery, 'limit'>, count: number): Promise<AuditEvent[]> {
    const deadline = Date.now() + 3000
    for (;;) {
      const found = await events(query)
      if (found.length >= count || Date.now() > deadline) return found
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  before(async () => {
    srv = await startTestServer()
    org = await srv.org('audited')
    tokenId = (await srv.roster.tokens.list('audited'))[0]!.id
  })
  after(async () => {
    await srv.close()
  })

  test('a create is one event: every attribute as added, the password redacted, actor, client and request', async () => {
    const res = await org.request('POST', '/Users?attributes=userName', { schemas: [USER], userName: 'bjensen@example.com', name: { givenName: 'Barbara' }, password: 't1meMa$heen' }, { 'user-agent': OKTA_UA })
    assertStatus(res, 201)
    const [event, ...more] = await events({ tenant: 'audited', resourceId: res.body.id })
    assert.equal(more.length, 0, 'exactly one event')
    assert.equal(event!.operation, 'create')
    assert.deepEqual(event!.resource, { type: 'User', id: res.body.id })
    assert.deepEqual(event!.outcome, { status: 201 })
    assert.deepEqual(event!.actor, { type: 'token', id: tokenId, name: 'test audited' })
    assert.deepEqual(event!.client, { ip: '127.0.0.1', userAgent: OKTA_UA, product: 'Okta' })
    assert.deepEqual({ method: event!.request.method, path: event!.request.path }, { method: 'POST', path: '/o/audited/scim/v2/Users' })
    assert.equal(event!.request.id, res.headers.get('x-request-id'))
    assert.ok(event!.latencyMs >= 0)
    assert.deepEqual(event!.changes, [
      { attribute: 'name.givenName', after: 'Barbara' },
      { attribute: 'password', after: REDACTED, changed: true },
      { attribute: 'schemas', after: [USER] },
      { attribute: 'userName', after: 'bjensen@example.com' },
    ])
    assert.ok(!JSON.stringify(event).includes('t1meMa$heen'), 'the password never reaches the log')
    assert.ok(!JSON.stringify(event).includes(org.token), 'nor the token')
  })

  test('a PATCH is one event with before and after of what changed; a password change is redacted', async () => {
    const created = await org.request('POST', '/Users', { schemas: [USER], userName: 'patched@example.com', displayName: 'Before', title: 'Engineer' })
    const res = await org.request(
      'PATCH',
      `/Users/${created.body.id}`,
      patchBody({ op: 'replace', path: 'displayName', value: 'After' }, { op: 'replace', path: 'password', value: 'n3wSecret!' }),
      { 'user-agent': ENTRA_UA },
    )
    assertStatus(res, 200)
    const list = await events({ tenant: 'audited', resourceId: created.body.id })
    assert.deepEqual(list.map((e) => e.operation), ['create', 'patch'])
    const patch = list[1]!
    assert.deepEqual(patch.outcome, { status: 200 })
    assert.deepEqual(patch.changes, [
      { attribute: 'displayName', before: 'Before', after: 'After' },
      { attribute: 'password', after: REDACTED, changed: true },
    ])
    assert.equal(patch.client.product, 'Microsoft Entra ID')
    assert.ok(!JSON.stringify(patch).includes('n3wSecret!'))
  })

  test('a DELETE is one event with the attributes as they were; under the deactivate policy, a deactivate event', async () => {
    const created = await org.request('POST', '/Users', { schemas: [USER], userName: 'deleted@example.com', active: true })
    assertStatus(await org.request('DELETE', `/Users/${created.body.id}`), 204)
    const list = await events({ tenant: 'audited', resourceId: created.body.id })
    assert.deepEqual(list.map((e) => [e.operation, e.outcome.status]), [['create', 201], ['delete', 204]])
    assert.deepEqual(list[1]!.changes, [
      { attribute: 'active', before: true },
      { attribute: 'schemas', before: [USER] },
      { attribute: 'userName', before: 'deleted@example.com' },
    ])

    const soft = await srv.org('soft', { deletePolicy: 'deactivate' })
    const user = await soft.request('POST', '/Users', { schemas: [USER], userName: 'soft@example.com', active: true })
    assertStatus(await soft.request('DELETE', `/Users/${user.body.id}`), 204)
    const softEvents = await events({ tenant: 'soft', resourceId: user.body.id })
    assert.deepEqual(softEvents.map((e) => e.operation), ['create', 'deactivate'])
    assert.deepEqual(softEvents[1]!.changes, [{ attribute: 'active', before: true, after: false }])
  })

  test('group member changes are recorded as the member ids added and removed, not whole member lists', async () => {
    const ids: string[] = []
    for (const n of [1, 2, 3]) ids.push((await org.request('POST', '/Users', { schemas: [USER], userName: `member${n}@example.com` })).body.id)
    const [u1, u2, u3] = ids as [string, string, string]
    const group = await org.request('POST', '/Groups', { schemas: [GROUP], displayName: 'Audited group', members: [{ value: u1 }] })
    assertStatus(group, 201)
    assertStatus(await org.request('PATCH', `/Groups/${group.body.id}`, patchBody({ op: 'add', path: 'members', value: [{ value: u2 }] })), 204)
    assertStatus(await org.request('PATCH', `/Groups/${group.body.id}`, patchBody({ op: 'remove', path: `members[value eq "${u1}"]` })), 204)
    assertStatus(await org.request('PATCH', `/Groups/${group.body.id}`, patchBody({ op: 'replace', path: 'members', value: [{ value: u3 }] })), 204)
    assertStatus(await org.request('PUT', `/Groups/${group.body.id}`, { schemas: [GROUP], displayName: 'Renamed', members: [{ value: u1 }, { value: u3 }] }), 200)
    const list = await events({ tenant: 'audited', resourceId: group.body.id })
    assert.deepEqual(
      list.map((e) => [e.operation, e.outcome.status, e.changes.filter((c) => c.attribute === 'members')]),
      [
        ['create', 201, [{ attribute: 'members', after: [u1] }]],
        ['patch', 204, [{ attribute: 'members', after: [u2] }]],
        ['patch', 204, [{ attribute: 'members', before: [u1] }]],
        ['patch', 204, [{ attribute: 'members', before: [u2], after: [u3] }]],
        ['replace', 200, [{ attribute: 'members', after: [u1] }]],
      ],
    )
    assert.deepEqual(list[4]!.changes.find((c) => c.attribute === 'displayName'), { attribute: 'displayName', before: 'Audited group', after: 'Renamed' })
  })

  test('a failed write (412 stale If-Match, 409 uniqueness) records one rejected event and no success event', async () => {
    const created = await org.request('POST', '/Users', { schemas: [USER], userName: 'taken@example.com' })
    const stale = await org.request('PATCH', `/Users/${created.body.id}`, patchBody({ op: 'replace', path: 'displayName', value: 'X' }), { 'if-match': 'W/"99"' })
    assertStatus(stale, 412)
    const list = await eventually({ tenant: 'audited', resourceId: created.body.id }, 2)
    assert.deepEqual(list.map((e) => [e.operation, e.outcome.status]), [['create', 201], ['patch', 412]])
    assert.equal(list[1]!.outcome.detail, stale.body.detail)
    assert.deepEqual(list[1]!.changes, [])

    const successes = async () => (await events({ tenant: 'audited', operation: 'create', outcome: 'success' })).length
    const createdBefore = await successes()
    const duplicate = await org.request('POST', '/Users', { schemas: [USER], userName: 'TAKEN@example.com' })
    assertStatus(duplicate, 409)
    const rejected = await eventually({ tenant: 'audited', operation: 'create', outcome: 'failure' }, 1)
    assert.equal(rejected.length, 1)
    assert.deepEqual(rejected[0]!.outcome, { status: 409, scimType: 'uniqueness', detail: duplicate.body.detail })
    assert.deepEqual(rejected[0]!.resource, { type: 'User' })
    assert.equal(rejected[0]!.request.id, duplicate.headers.get('x-request-id'))
    assert.equal(await successes(), createdBefore, 'no success event for the refused create')
  })

  test('a 401 is recorded as request.rejected, under the URL\'s organization when it exists, else the default one', async () => {
    const bad = await org.request('GET', '/Users?filter=userName%20eq%20%22secret%22', undefined, { authorization: 'Bearer rst_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'user-agent': 'curl/8.0' })
    assertStatus(bad, 401)
    const here = await eventually({ tenant: 'audited', operation: 'request.rejected' }, 1)
    const event = here.find((e) => e.request.id === bad.headers.get('x-request-id'))
    assert.ok(event, 'recorded under the organization of the URL')
    assert.deepEqual(event.actor, { type: 'anonymous' })
    assert.deepEqual(event.outcome, { status: 401, detail: bad.body.detail })
    assert.equal(event.request.path, '/o/audited/scim/v2/Users', 'no query string (filters carry personal data)')
    assert.equal(event.client.userAgent, 'curl/8.0')

    const unknown = await srv.send('GET', '/o/no-such-org/scim/v2/Users', org.token)
    assertStatus(unknown, 401)
    const inDefault = await eventually({ tenant: 'default', operation: 'request.rejected' }, 1)
    assert.ok(inDefault.some((e) => e.request.id === unknown.headers.get('x-request-id')))
  })

  test('other rejected requests carry their scimType and detail (400 invalidFilter, 404)', async () => {
    const res = await org.request('GET', '/Users?filter=userName%20zz%20%22x%22')
    assertStatus(res, 400)
    const list = await eventually({ tenant: 'audited', operation: 'search', outcome: 'failure' }, 1)
    const event = list.find((e) => e.request.id === res.headers.get('x-request-id'))
    assert.ok(event)
    assert.deepEqual(event.outcome, { status: 400, scimType: 'invalidFilter', detail: res.body.detail })
    assert.deepEqual(event.actor, { type: 'token', id: tokenId, name: 'test audited' })
    const missing = await org.request('GET', '/Users/00000000-0000-0000-0000-000000000000')
    assertStatus(missing, 404)
    const reads = await eventually({ tenant: 'audited', operation: 'read', outcome: 'failure' }, 1)
    assert.ok(reads.some((e) => e.resource.id === '00000000-0000-0000-0000-000000000000' && e.outcome.status === 404))
    // No route, or a method the route refuses: no operation to name.
    const nowhere = await org.request('GET', '/NoSuchEndpoint')
    assertStatus(nowhere, 404)
    const refused = await org.request('PUT', '/Users', { schemas: [USER] })
    assertStatus(refused, 405)
    const rejected = await eventually({ tenant: 'audited', operation: 'request.rejected' }, 3)
    const byId = (r: ScimResponse) => rejected.find((e) => e.request.id === r.headers.get('x-request-id'))
    assert.deepEqual(byId(nowhere)?.outcome, { status: 404, detail: nowhere.body.detail })
    assert.deepEqual(byId(refused)?.outcome, { status: 405, detail: refused.body.detail })
    assert.deepEqual(byId(refused)?.actor, { type: 'token', id: tokenId, name: 'test audited' })
  })

  test('each bulk operation is one event; a failed one is recorded with its error', async () => {
    const res = await org.request('POST', '/Bulk', {
      schemas: [BULK_REQUEST],
      Operations: [
        { method: 'POST', path: '/Users', bulkId: 'u', data: { schemas: [USER], userName: 'bulk.audit@example.com', password: 'bulkS3cret' } },
        { method: 'PATCH', path: '/Users/bulkId:u', data: patchBody({ op: 'replace', path: 'displayName', value: 'Bulk' }) },
        { method: 'DELETE', path: '/Users/00000000-0000-0000-0000-000000000000' },
      ],
    })
    assertStatus(res, 200)
    const id = res.body.Operations[0].location.split('/').pop()
    const list = await events({ tenant: 'audited', resourceId: id })
    assert.deepEqual(list.map((e) => [e.operation, e.outcome.status, e.request.path]), [
      ['create', 201, '/o/audited/scim/v2/Bulk'],
      ['patch', 200, '/o/audited/scim/v2/Bulk'],
    ])
    assert.deepEqual(list[0]!.changes.find((c) => c.attribute === 'password'), { attribute: 'password', after: REDACTED, changed: true })
    const failed = await events({ tenant: 'audited', resourceId: '00000000-0000-0000-0000-000000000000', operation: 'delete' })
    assert.equal(failed.length, 1)
    assert.equal(failed[0]!.outcome.status, 404)
  })

  test("reads are recorded only as the organization's auditReads says: off, all, sample", async () => {
    const reader = await srv.org('reader')
    const user = await reader.request('POST', '/Users', { schemas: [USER], userName: 'read.me@example.com' })
    const readEvents = () => events({ tenant: 'reader', operation: 'read' })
    const searchEvents = () => events({ tenant: 'reader', operation: 'search' })

    const off = await reader.request('GET', `/Users/${user.body.id}`)
    assertStatus(off, 200)
    // The event would be written once the response is sent: give it that time before saying there is none.
    await new Promise((r) => setTimeout(r, 200))
    assert.equal((await readEvents()).length, 0, "auditReads 'off' (the default)")

    await srv.roster.tenants.updateSettings('reader', { auditReads: 'all' })
    const one = await reader.request('GET', `/Users/${user.body.id}`)
    const list = await reader.request('GET', '/Users?filter=userName%20eq%20%22read.me%40example.com%22')
    assertStatus(list, 200)
    const reads = await eventually({ tenant: 'reader', operation: 'read' }, 1)
    assert.deepEqual(reads.map((e) => [e.request.id, e.resource, e.outcome.status]), [[one.headers.get('x-request-id'), { type: 'User', id: user.body.id }, 200]])
    const searches = await eventually({ tenant: 'reader', operation: 'search' }, 1)
    assert.deepEqual(searches.map((e) => [e.request.path, e.resource]), [['/o/reader/scim/v2/Users', { type: 'User' }]])

    await srv.roster.tenants.updateSettings('reader', { auditReads: 'sample', auditReadSampleRate: 0 })
    await reader.request('GET', `/Users/${user.body.id}`)
    await new Promise((r) => setTimeout(r, 200))
    assert.equal((await readEvents()).length, 1, 'a sample rate of 0 records none')

    await srv.roster.tenants.updateSettings('reader', { auditReadSampleRate: 1 })
    await reader.request('GET', `/Users/${user.body.id}`)
    assert.equal((await eventually({ tenant: 'reader', operation: 'read' }, 2)).length, 2, 'a sample rate of 1 records every read')
    assert.equal((await searchEvents()).length, 1)
  })

  test('events are per organization: none of these landed in the default organization\'s log', async () => {
    const mine = await events({ tenant: 'default', actorId: tokenId })
    assert.deepEqual(mine, [])
  })
})
