import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { assertScimError, ERROR_SCHEMA, startTestServer, type ScimResponse, type TestServer } from './harness.js'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest'
const BULK_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:BulkResponse'
const SCIM_JSON = /^application\/scim\+json/

let seq = 0
const unique = (prefix: string) => `${prefix}.${process.pid}.${++seq}`
const bulkBody = (operations: unknown[], extra: Record<string, unknown> = {}) => ({ schemas: [BULK_REQUEST], ...extra, Operations: operations })
const postUser = (bulkId: string, userName: string, extra: Record<string, unknown> = {}) => ({ method: 'POST', path: '/Users', bulkId, data: { schemas: [USER], userName, ...extra } })
const postGroup = (bulkId: string, displayName: string, members: string[]) => ({
  method: 'POST',
  path: '/Groups',
  bulkId,
  data: { schemas: [GROUP], displayName, members: members.map((value) => ({ value })) },
})
const idOf = (location: string) => decodeURIComponent(location.split('/').at(-1)!)

/** POST /Bulk, asserting the envelope: 200, application/scim+json, BulkResponse. Returns its Operations. */
async function bulk(srv: TestServer, operations: unknown[], extra: Record<string, unknown> = {}): Promise<any[]> {
  const res = await srv.request('POST', '/Bulk', bulkBody(operations, extra))
  assert.equal(res.status, 200, res.text)
  assert.match(res.headers.get('content-type') ?? '', SCIM_JSON)
  assert.deepEqual(res.body.schemas, [BULK_RESPONSE])
  assert.ok(Array.isArray(res.body.Operations), res.text)
  return res.body.Operations
}

/** One result of a BulkResponse that failed: status as a string, and the RFC 7644 §3.12 Error as response. */
function assertFailed(result: any, status: number, scimType?: string, detail?: RegExp): void {
  assert.equal(result.status, String(status), JSON.stringify(result))
  assert.deepEqual(result.response?.schemas, [ERROR_SCHEMA], JSON.stringify(result))
  assert.equal(result.response.status, String(status))
  assert.equal(result.response.scimType, scimType)
  assert.equal(typeof result.response.detail, 'string')
  if (detail) assert.match(result.response.detail, detail)
}

async function countUsers(srv: TestServer, filter: string): Promise<number> {
  const res = await srv.request('GET', `/Users?count=0&filter=${encodeURIComponent(filter)}`)
  assert.equal(res.status, 200, res.text)
  return res.body.totalResults
}

describe('POST /Bulk (RFC 7644 §3.7)', () => {
  let srv: TestServer
  before(async () => {
    srv = await startTestServer()
  })
  after(async () => {
    await srv.close()
  })

  describe('bulkId references (RFC 7644 §3.7.2)', () => {
    for (const order of ['user first, as the RFC example', 'group listed before the user it names'] as const) {
      test(`a User and a Group naming it by bulkId, in one request: ${order}`, async () => {
        const alice = unique('Alice')
        const user = postUser('qwerty', alice)
        const group = { method: 'POST', path: '/Groups', bulkId: 'ytrewq', data: { schemas: [GROUP], displayName: 'Tour Guides', members: [{ type: 'User', value: 'bulkId:qwerty' }] } }
        const results = await bulk(srv, order === 'user first, as the RFC example' ? [user, group] : [group, user])
        assert.equal(results.length, 2)
        const byBulkId = new Map(results.map((r) => [r.bulkId, r]))
        assert.deepEqual(results.map((r) => r.bulkId), order === 'user first, as the RFC example' ? ['qwerty', 'ytrewq'] : ['ytrewq', 'qwerty'], 'results in request order')
        for (const r of results) assert.equal(r.status, '201', JSON.stringify(r))
        const userId = idOf(byBulkId.get('qwerty').location)
        const groupRes = await srv.request('GET', new URL(byBulkId.get('ytrewq').location).pathname.replace('/scim/v2', ''))
        assert.equal(groupRes.status, 200)
        assert.deepEqual(groupRes.body.members, [{ value: userId, $ref: `${srv.baseUrl}/Users/${userId}`, display: alice, type: 'User' }])
        const userRes = await srv.request('GET', `/Users/${userId}`)
        assert.deepEqual(userRes.body.groups.map((g: any) => [g.value, g.display, g.type]), [[idOf(byBulkId.get('ytrewq').location), 'Tour Guides', 'direct']])
      })
    }

    test('the enterprise manager.value names a User created later in the request (RFC 7644 §3.7.2)', async () => {
      const results = await bulk(srv, [
        postUser('bob', unique('Bob'), { schemas: [USER, ENTERPRISE], [ENTERPRISE]: { manager: { value: 'bulkId:alice' } } }),
        postUser('alice', unique('Alice')),
      ])
      assert.deepEqual(results.map((r) => r.status), ['201', '201'])
      const bob = await srv.request('GET', `/Users/${idOf(results[0].location)}`)
      assert.equal(bob.body[ENTERPRISE].manager.value, idOf(results[1].location))
    })

    test('RFC 7644 §3.7.1: two Groups naming each other are both created, each a member of the other', async () => {
      const results = await bulk(srv, [
        { method: 'POST', path: '/Groups', bulkId: 'qwerty', data: { schemas: [GROUP], displayName: 'Group A', members: [{ type: 'Group', value: 'bulkId:ytrewq' }] } },
        { method: 'POST', path: '/Groups', bulkId: 'ytrewq', data: { schemas: [GROUP], displayName: 'Group B', members: [{ type: 'Group', value: 'bulkId:qwerty' }] } },
      ])
      assert.deepEqual(results.map((r) => r.status), ['201', '201'])
      const [a, b] = results.map((r) => idOf(r.location))
      for (const [index, self, other] of [[0, a, b], [1, b, a]] as const) {
        const res = await srv.request('GET', `/Groups/${self}`)
        assert.deepEqual(res.body.members.map((m: any) => [m.value, m.type]), [[other, 'Group']])
        assert.equal(res.headers.get('etag'), results[index].version, 'the result carries the version after the members were added')
      }
    })

    test('RFC 7644 §3.7.1: when one Group of a cycle fails, the other keeps its location but answers 409, without that member', async () => {
      const results = await bulk(srv, [
        { method: 'POST', path: '/Groups', bulkId: 'a', data: { schemas: [GROUP], displayName: 'A', members: [{ value: 'bulkId:b' }, { value: 'no-such-id' }] } },
        { method: 'POST', path: '/Groups', bulkId: 'b', data: { schemas: [GROUP], displayName: 'B', members: [{ value: 'bulkId:a' }] } },
      ])
      assertFailed(results[0], 400, 'invalidValue', /no-such-id/)
      assert.equal(results[0].location, undefined)
      assertFailed(results[1], 409, undefined, /created, but not its member "bulkId:a"/)
      const b = await srv.request('GET', new URL(results[1].location).pathname.replace('/scim/v2', ''))
      assert.equal(b.status, 200)
      assert.equal(b.body.displayName, 'B')
      assert.equal(b.body.members, undefined)
    })

    test('a PATCH naming by bulkId a POST later in the request runs after it', async () => {
      const results = await bulk(srv, [
        { method: 'PATCH', path: '/Users/bulkId:later', data: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'Tour Guide' }] } },
        postUser('later', unique('later')),
      ])
      assert.deepEqual(results.map((r) => r.status), ['200', '201'])
      assert.equal(results[0].location, results[1].location)
      assert.equal(results[0].version, 'W/"2"')
      assert.equal((await srv.request('GET', new URL(results[1].location).pathname.replace('/scim/v2', ''))).body.title, 'Tour Guide')
    })

    test('an unknown bulkId fails that operation alone with 409 naming it; the others run (RFC 7644 §3.7.1)', async () => {
      const results = await bulk(srv, [postGroup('g', 'Nobody', ['bulkId:nope']), postUser('u', unique('u')), { method: 'DELETE', path: '/Users/bulkId:missing' }])
      assert.equal(results.length, 3)
      assertFailed(results[0], 409, undefined, /"bulkId:nope" cannot be resolved/)
      assert.equal(results[0].location, undefined, 'a failed POST has no location (RFC 7644 §3.7)')
      assert.equal(results[1].status, '201')
      assertFailed(results[2], 409, undefined, /"bulkId:missing"/)
    })

    for (const why of ['its POST is invalid', 'its userName is taken']) {
      test(`a Group naming a User whose POST failed (${why}) fails with 409; the Group is not created`, async () => {
        const taken = unique('taken')
        if (why === 'its userName is taken') assert.equal((await srv.request('POST', '/Users', { schemas: [USER], userName: taken })).status, 201)
        const user = why === 'its POST is invalid' ? { method: 'POST', path: '/Users', bulkId: 'u', data: { schemas: [USER] } } : postUser('u', taken)
        const displayName = unique('orphan')
        const results = await bulk(srv, [postGroup('g', displayName, ['bulkId:u']), user])
        assertFailed(results[0], 409, undefined, /"bulkId:u" cannot be resolved: the POST with that bulkId \(Operations\[1\]\) failed/)
        assertFailed(results[1], why === 'its POST is invalid' ? 400 : 409, why === 'its POST is invalid' ? 'invalidValue' : 'uniqueness')
        const groups = await srv.request('GET', `/Groups?filter=${encodeURIComponent(`displayName eq "${displayName}"`)}`)
        assert.equal(groups.body.totalResults, 0)
      })
    }
  })

  describe('the response (RFC 7644 §3.7.3)', () => {
    test('status as a string, location the resource answers at, version its ETag, no response body for a success', async () => {
      const results = await bulk(srv, [postUser('qwerty', unique('Alice'))])
      assert.deepEqual(Object.keys(results[0]).sort(), ['bulkId', 'location', 'method', 'status', 'version'])
      assert.equal(results[0].method, 'POST')
      assert.equal(results[0].status, '201')
      assert.ok(results[0].location.startsWith(`${srv.baseUrl}/Users/`), results[0].location)
      const res = await srv.request('GET', `/Users/${idOf(results[0].location)}`)
      assert.equal(res.status, 200)
      assert.equal(res.body.meta.location, results[0].location)
      assert.equal(res.headers.get('etag'), results[0].version)
    })

    test('PUT, PATCH and DELETE with the current version: 200, 200 and 204, each with its location', async () => {
      const created = (await srv.request('POST', '/Users', { schemas: [USER], userName: unique('pp') })).body
      const other = (await srv.request('POST', '/Users', { schemas: [USER], userName: unique('gone') })).body
      const results = await bulk(srv, [
        { method: 'PUT', path: `/Users/${created.id}`, version: created.meta.version, data: { schemas: [USER], userName: created.userName, title: 'Put' } },
        { method: 'PATCH', path: `/Users/${created.id}`, version: 'W/"2"', data: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'Patched' }] } },
        { method: 'DELETE', path: `/Users/${other.id}`, version: other.meta.version },
      ])
      assert.deepEqual(results, [
        { location: created.meta.location, method: 'PUT', version: 'W/"2"', status: '200' },
        { location: created.meta.location, method: 'PATCH', version: 'W/"3"', status: '200' },
        { location: other.meta.location, method: 'DELETE', status: '204' },
      ])
      const after = (await srv.request('GET', `/Users/${created.id}`)).body
      assert.equal(after.title, 'Put')
      assert.equal(after.displayName, 'Patched')
      assert.equal((await srv.request('GET', `/Users/${other.id}`)).status, 404)
    })

    test('a stale version is 412 inside that operation’s result, which changes nothing; the others run (RFC 7644 §3.7.3)', async () => {
      const u = (await srv.request('POST', '/Users', { schemas: [USER], userName: unique('v') })).body
      const results = await bulk(srv, [
        { method: 'PUT', path: `/Users/${u.id}`, version: 'W/"7"', data: { schemas: [USER], userName: u.userName, title: 'No' } },
        { method: 'PATCH', path: `/Users/${u.id}`, version: 'W/"7"', data: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'No' }] } },
        { method: 'DELETE', path: `/Users/${u.id}`, version: 'W/"7"' },
        { method: 'DELETE', path: '/Users/does-not-exist' },
        { method: 'PATCH', path: `/Users/${u.id}`, version: u.meta.version, data: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'Yes' }] } },
      ])
      for (const r of results.slice(0, 3)) {
        assertFailed(r, 412, undefined, /version/)
        assert.equal(r.location, u.meta.location, 'a failed PUT, PATCH or DELETE keeps its location (RFC 7644 §3.7.3)')
      }
      assertFailed(results[3], 404)
      assert.equal(results[4].status, '200')
      const now = await srv.request('GET', `/Users/${u.id}`)
      assert.equal(now.body.title, 'Yes')
    })

    test('an operation that cannot run as sent fails alone with 400, echoing its method and bulkId', async () => {
      const results = await bulk(srv, [
        { method: 'GET', path: '/Users' },
        { method: 'POST', path: '/Users', data: { schemas: [USER], userName: unique('no-bulkid') } },
        { method: 'POST', path: '/Widgets', bulkId: 'w', data: {} },
        postUser('ok', unique('ok')),
      ])
      assertFailed(results[0], 400, 'invalidValue', /method "GET"/)
      assert.equal(results[0].method, 'GET')
      assertFailed(results[1], 400, 'invalidValue', /"bulkId" is REQUIRED when method is POST/)
      assertFailed(results[2], 404, undefined, /\/Widgets/)
      assert.equal(results[2].bulkId, 'w')
      assert.equal(results[3].status, '201')
    })
  })

  describe('failOnErrors (RFC 7644 §3.7.3)', () => {
    test('failOnErrors 1: processing stops at the first error; later operations are neither answered nor run', async () => {
      const later = unique('never')
      const results = await bulk(srv, [postUser('ok', unique('ok')), { method: 'POST', path: '/Users', bulkId: 'bad', data: { schemas: [USER] } }, postUser('never', later)], {
        failOnErrors: 1,
      })
      assert.equal(results.length, 2)
      assert.equal(results[0].status, '201')
      assertFailed(results[1], 400, 'invalidValue')
      assert.equal(await countUsers(srv, `userName eq "${later}"`), 0)
    })

    test('failOnErrors 2 inside a run of POSTs: nothing after the second error is created', async () => {
      const taken = [unique('taken'), unique('taken')]
      for (const userName of taken) assert.equal((await srv.request('POST', '/Users', { schemas: [USER], userName })).status, 201)
      const prefix = unique('run')
      const results = await bulk(
        srv,
        [postUser('a', `${prefix}-a`), postUser('t1', taken[0]!), postUser('b', `${prefix}-b`), postUser('t2', taken[1]!), postUser('c', `${prefix}-c`)],
        { failOnErrors: 2 },
      )
      assert.deepEqual(results.map((r) => r.status), ['201', '409', '201', '409'])
      assertFailed(results[1], 409, 'uniqueness')
      assert.equal(await countUsers(srv, `userName sw "${prefix}"`), 2)
    })

    test('without failOnErrors every operation runs, whatever fails (RFC 7644 §3.7)', async () => {
      const prefix = unique('all')
      const results = await bulk(srv, [
        { method: 'POST', path: '/Users', bulkId: 'x', data: { schemas: [USER] } },
        postUser('a', `${prefix}-a`),
        { method: 'DELETE', path: '/Users/nope' },
        postUser('b', `${prefix}-b`),
      ])
      assert.deepEqual(results.map((r) => r.status), ['400', '201', '404', '201'])
    })
  })

  test('the request as a whole: 400 invalidSyntax without Operations, 400 invalidValue for a bulkId declared twice', async () => {
    assertScimError(await srv.request('POST', '/Bulk', { schemas: [BULK_REQUEST] }), 400, 'invalidSyntax', /Operations/)
    assertScimError(await srv.request('POST', '/Bulk', bulkBody([postUser('x', unique('a')), postUser('x', unique('b'))])), 400, 'invalidValue', /bulkId "x"/)
  })

  test('GET, PUT, PATCH, DELETE /Bulk → 405 with Allow: POST', async () => {
    for (const method of ['GET', 'PUT', 'PATCH', 'DELETE']) {
      const res = await srv.request(method, '/Bulk', method === 'GET' || method === 'DELETE' ? undefined : bulkBody([]))
      assertScimError(res, 405)
      assert.equal(res.headers.get('allow'), 'POST')
    }
  })
})

describe('Bulk at volume', () => {
  test('1,000 Users in one request are all created and all committed', async () => {
    const srv = await startTestServer()
    try {
      const prefix = unique('thousand')
      const results = await bulk(
        srv,
        Array.from({ length: 1000 }, (_, i) => postUser(`u${i}`, `${prefix}-${i}`, { emails: [{ value: `${prefix}-${i}@example.com`, type: 'work' }] })),
      )
      assert.equal(results.length, 1000)
      assert.equal(results.filter((r) => r.status === '201').length, 1000)
      assert.equal(new Set(results.map((r) => r.location)).size, 1000)
      assert.equal(await countUsers(srv, `userName sw "${prefix}"`), 1000)
      // Committed, not only visible to this connection: a restart on the same file still has them.
      await srv.roster.close()
      const again = await startTestServer({ ROSTER_DATA_DIR: srv.dataDir })
      try {
        assert.equal(await countUsers(again, `userName sw "${prefix}"`), 1000)
      } finally {
        await again.close()
      }
    } finally {
      await srv.close()
    }
  })
})

describe('Bulk limits (RFC 7644 §3.7.4)', () => {
  let srv: TestServer
  before(async () => {
    srv = await startTestServer({ ROSTER_BULK_MAX_OPERATIONS: '3', ROSTER_BULK_MAX_PAYLOAD: '8192', ROSTER_BODY_LIMIT: '1024' })
  })
  after(async () => {
    await srv.close()
  })

  test('ServiceProviderConfig advertises bulk as supported, with the configured limits', async () => {
    const res = await srv.request('GET', '/ServiceProviderConfig')
    assert.deepEqual(res.body.bulk, { supported: true, maxOperations: 3, maxPayloadSize: 8192 })
  })

  test('more operations than maxOperations → 413 naming the limit; nothing runs', async () => {
    const prefix = unique('over')
    const res = await srv.request('POST', '/Bulk', bulkBody([0, 1, 2, 3].map((i) => postUser(`u${i}`, `${prefix}-${i}`))))
    assertScimError(res, 413, undefined, /^The number of operations \(4\) exceeds the maxOperations \(3\)$/)
    assert.equal(await countUsers(srv, `userName sw "${prefix}"`), 0)
  })

  test('a body over maxPayloadSize → 413 naming maxPayloadSize', async () => {
    const res = await srv.request('POST', '/Bulk', bulkBody([postUser('u', unique('big'), { title: 'x'.repeat(9000) })]))
    assertScimError(res, 413, undefined, /^The size of the bulk operation exceeds the maxPayloadSize \(8192\)$/)
  })

  test('the server-wide body limit does not cut /Bulk below maxPayloadSize', async () => {
    const title = 'x'.repeat(3000)
    assertScimError(await srv.request('POST', '/Users', { schemas: [USER], userName: unique('plain'), title }), 413)
    const results = await bulk(srv, [postUser('u', unique('bulk'), { title })])
    assert.equal(results[0].status, '201')
  })
})
