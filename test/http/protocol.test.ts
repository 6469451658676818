import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { DEFAULT_TENANT } from '../../src/store/ports.js'
import { assertStatus, assertScimError, ERROR_SCHEMA, startTestServer, type ScimResponse, type TestServer } from './harness.js'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest'
const SCIM_JSON = /^application\/scim\+json/
const WEAK_ETAG = /^W\/"[^"]+"$/

/** Everything of a SCIM error but the scimType. */
function assertScimErrorShape(res: ScimResponse): void {
  assert.match(res.headers.get('content-type') ?? '', SCIM_JSON, `content-type of ${res.status} ${res.text}`)
  assert.deepEqual(res.body?.schemas, [ERROR_SCHEMA], res.text)
  assert.equal(res.body.status, String(res.status))
  assert.equal(typeof res.body.detail, 'string')
  assert.ok(res.body.detail.length > 0, 'detail is not empty')
}

let seq = 0
const unique = (prefix: string) => `${prefix}.${process.pid}.${++seq}`
const patchBody = (...Operations: unknown[]) => ({ schemas: [PATCH_OP], Operations })

/** fetch with a Blob of no type as the body: unlike a string body, fetch then adds no Content-Type of its own. */
async function sendWithoutContentType(srv: TestServer, method: string, path: string, json: string): Promise<ScimResponse> {
  const res = await fetch(`${srv.baseUrl}${path}`, { method, headers: { authorization: `Bearer ${srv.token}` }, body: new Blob([json]) })
  const text = await res.text()
  let body: unknown
  try {
    body = text ? JSON.parse(text) : undefined
  } catch {
    body = undefined
  }
  return { status: res.status, headers: res.headers, body, text }
}

describe('Protocol over HTTP', () => {
  let srv: TestServer

  before(async () => {
    srv = await startTestServer()
  })
  after(async () => {
    await srv.close()
  })

  async function createUser(extra: Record<string, unknown> = {}): Promise<any> {
    const res = await srv.request('POST', '/Users', { schemas: [USER], userName: unique('proto'), displayName: 'Proto Col', ...extra })
    assertStatus(res, 201)
    return res.body
  }

  describe('authentication (RFC 7644 §2, RFC 6750 §3)', () => {
    const refused: readonly { title: string; authorization: string | null | ((s: TestServer) => string) }[] = [
      { title: 'no Authorization header', authorization: null },
      { title: 'a wrong token of the right shape', authorization: `Bearer rst_000000000000_${'A'.repeat(43)}` },
      { title: 'a token that is not one of ours', authorization: 'Bearer not-a-roster-token' },
      { title: 'Basic instead of Bearer', authorization: 'Basic dXNlcjpwYXNzd29yZA==' },
      { title: '"Bearer" with no token', authorization: 'Bearer' },
      { title: 'the token without the Bearer scheme', authorization: (s) => s.token },
      { title: 'the token with trailing garbage', authorization: (s) => `Bearer ${s.token} extra` },
      { title: 'the token with one character changed', authorization: (s) => `Bearer ${s.token.slice(0, -1)}${s.token.endsWith('A') ? 'B' : 'A'}` },
    ]
    for (const { title, authorization } of refused) {
      test(`${title} → 401 with WWW-Authenticate: Bearer and a SCIM error (RFC 7644 §2, RFC 6750 §3)`, async () => {
        const auth = typeof authorization === 'function' ? authorization(srv) : authorization
        const res = await srv.request('GET', '/Users', undefined, { authorization: auth })
        assertScimError(res, 401)
        assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer\b/)
      })
    }

    test('a write without a token → 401 and nothing is created (RFC 7644 §2)', async () => {
      const userName = unique('intruder')
      const res = await srv.request('POST', '/Users', { schemas: [USER], userName }, { authorization: null })
      assertScimError(res, 401)
      const found = await srv.request('GET', `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`)
      assertStatus(found, 200)
      assert.equal(found.body.totalResults, 0)
    })

    test('discovery endpoints require the token too (RFC 7644 §2)', async () => {
      const res = await srv.request('GET', '/ServiceProviderConfig', undefined, { authorization: null })
      assertScimError(res, 401)
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer\b/)
    })

    test('the auth scheme is case-insensitive: "bearer <token>" is accepted (RFC 9110 §11.1)', async () => {
      assertStatus(await srv.request('GET', '/Users', undefined, { authorization: `bearer ${srv.token}` }), 200)
    })

    test('a revoked token → 401 on the next request (RFC 6750 §3.1 invalid_token)', async () => {
      const issued = await srv.roster.tokens.issue(DEFAULT_TENANT, 'to be revoked')
      const auth = { authorization: `Bearer ${issued.token}` }
      assertStatus(await srv.request('GET', '/Users', undefined, auth), 200)
      assert.equal(await srv.roster.tokens.revoke(DEFAULT_TENANT, issued.record.id), true)
      const res = await srv.request('GET', '/Users', undefined, auth)
      assertScimError(res, 401)
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer\b/)
      assertStatus(await srv.request('GET', '/Users'), 200)
    })

    test('GET /healthz at the server root answers 200 without a token', async () => {
      const res = await fetch(new URL('/healthz', srv.baseUrl))
      assert.equal(res.status, 200)
      assert.deepEqual(await res.json(), { status: 'ok' })
    })
  })

  describe('content types (RFC 7644 §3.1, §8.1)', () => {
    const accepted = ['application/scim+json', 'application/scim+json; charset=utf-8', 'application/json', 'application/json; charset=UTF-8']
    for (const type of accepted) {
      test(`POST /Users with Content-Type ${type} → 201 (RFC 7644 §8.1)`, async () => {
        const res = await srv.request('POST', '/Users', { schemas: [USER], userName: unique('ct') }, { 'content-type': type })
        assertStatus(res, 201)
        assert.match(res.headers.get('content-type') ?? '', SCIM_JSON)
      })
    }

    test('POST /Users with a JSON body and no Content-Type → 201', async () => {
      const userName = unique('no-ct')
      const res = await sendWithoutContentType(srv, 'POST', '/Users', JSON.stringify({ schemas: [USER], userName }))
      assertStatus(res, 201)
      assert.equal(res.body.userName, userName)
    })

    test('PATCH with Content-Type application/json → 200 (RFC 7644 §8.1, as Okta and Entra ID send it)', async () => {
      const u = await createUser()
      const res = await srv.request('PATCH', `/Users/${u.id}`, patchBody({ op: 'replace', path: 'title', value: 'JSON' }), { 'content-type': 'application/json' })
      assertStatus(res, 200)
      assert.equal(res.body.title, 'JSON')
    })

    const unsupported: readonly { type: string; body: string }[] = [
      { type: 'text/plain', body: JSON.stringify({ schemas: [USER], userName: 'plain' }) },
      { type: 'application/xml', body: '<User><userName>xml</userName></User>' },
      { type: 'application/x-www-form-urlencoded', body: 'userName=form' },
    ]
    for (const { type, body } of unsupported) {
      test(`POST /Users with Content-Type ${type} → 415 SCIM error (RFC 7644 §3.12, RFC 9110 §15.5.16)`, async () => {
        assertScimError(await srv.request('POST', '/Users', body, { 'content-type': type }), 415)
      })
    }

    const malformed: readonly { title: string; body: string }[] = [
      { title: 'truncated JSON', body: '{"userName": ' },
      { title: 'unquoted keys', body: '{userName: "x"}' },
      { title: 'a trailing comma', body: '{"userName": "x",}' },
      { title: 'two JSON values', body: '{"userName": "x"}{"userName": "y"}' },
      { title: 'an empty body', body: '' },
    ]
    for (const { title, body } of malformed) {
      test(`POST /Users with ${title} → 400 invalidSyntax (RFC 7644 §3.12)`, async () => {
        // request() sends no body for undefined only, so '' is sent as an empty body with the SCIM content type.
        const res = await srv.request('POST', '/Users', body, { 'content-type': 'application/scim+json' })
        assertScimError(res, 400, 'invalidSyntax')
      })
    }

    test('PATCH with malformed JSON → 400 invalidSyntax (RFC 7644 §3.12)', async () => {
      const u = await createUser()
      assertScimError(await srv.request('PATCH', `/Users/${u.id}`, '{"Operations": [', { 'content-type': 'application/scim+json' }), 400, 'invalidSyntax')
    })

    const responses: readonly { title: string; send: (s: TestServer, id: string) => Promise<ScimResponse> }[] = [
      { title: 'GET /Users', send: (s) => s.request('GET', '/Users') },
      { title: 'GET /Users/{id}', send: (s, id) => s.request('GET', `/Users/${id}`) },
      { title: 'PUT /Users/{id}', send: (s, id) => s.request('GET', `/Users/${id}`).then((r) => s.request('PUT', `/Users/${id}`, { schemas: [USER], userName: r.body.userName })) },
      { title: 'PATCH /Users/{id}', send: (s, id) => s.request('PATCH', `/Users/${id}`, patchBody({ op: 'replace', path: 'title', value: 't' })) },
      { title: 'POST /Users/.search', send: (s) => s.request('POST', '/Users/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'] }) },
      { title: 'GET /ServiceProviderConfig', send: (s) => s.request('GET', '/ServiceProviderConfig') },
      { title: 'GET /Schemas', send: (s) => s.request('GET', '/Schemas') },
      { title: 'a 404 error', send: (s) => s.request('GET', '/Users/nope') },
      { title: 'a 401 error', send: (s) => s.request('GET', '/Users', undefined, { authorization: null }) },
    ]
    for (const { title, send } of responses) {
      test(`${title} answers Content-Type application/scim+json (RFC 7644 §8.1)`, async () => {
        const u = await createUser()
        const res = await send(srv, u.id)
        assert.ok(res.text.length > 0, `${title} has a body`)
        assert.match(res.headers.get('content-type') ?? '', SCIM_JSON)
      })
    }
  })

  describe('ETags (RFC 7644 §3.14)', () => {
    const single: readonly { title: string; status: number; send: (s: TestServer) => Promise<ScimResponse> }[] = [
      { title: 'POST /Users', status: 201, send: (s) => s.request('POST', '/Users', { schemas: [USER], userName: unique('etag') }) },
      { title: 'GET /Users/{id}', status: 200, send: async (s) => s.request('GET', `/Users/${(await createUser()).id}`) },
      { title: 'PUT /Users/{id}', status: 200, send: async (s) => { const u = await createUser(); return s.request('PUT', `/Users/${u.id}`, { schemas: [USER], userName: u.userName }) } },
      { title: 'PATCH /Users/{id}', status: 200, send: async (s) => s.request('PATCH', `/Users/${(await createUser()).id}`, patchBody({ op: 'replace', path: 'title', value: 'x' })) },
      { title: 'POST /Groups', status: 201, send: (s) => s.request('POST', '/Groups', { schemas: [GROUP], displayName: unique('etag group') }) },
      {
        title: 'GET /Groups/{id}',
        status: 200,
        send: async (s) => s.request('GET', `/Groups/${(await s.request('POST', '/Groups', { schemas: [GROUP], displayName: unique('g') })).body.id}`),
      },
      {
        title: 'PATCH /Groups/{id} answering 204',
        status: 204,
        send: async (s) => s.request('PATCH', `/Groups/${(await s.request('POST', '/Groups', { schemas: [GROUP], displayName: unique('g') })).body.id}`, patchBody({ op: 'replace', path: 'displayName', value: unique('renamed') })),
      },
    ]
    for (const { title, status, send } of single) {
      test(`${title} answers ${status} with an ETag equal to meta.version (RFC 7644 §3.14)`, async () => {
        const res = await send(srv)
        assertStatus(res, status)
        const etag = res.headers.get('etag') ?? ''
        assert.match(etag, WEAK_ETAG)
        if (res.body) assert.equal(etag, res.body.meta.version)
      })
    }

    test('GET with If-None-Match of the current ETag → 304 with no body (RFC 7644 §3.14, RFC 9110 §13.1.2)', async () => {
      const u = await createUser()
      const res = await srv.request('GET', `/Users/${u.id}`, undefined, { 'if-none-match': u.meta.version })
      assertStatus(res, 304)
      assert.equal(res.text, '')
      assert.equal(res.headers.get('etag'), u.meta.version)
    })

    test('GET with If-None-Match of a stale ETag → 200 with the resource (RFC 7644 §3.14)', async () => {
      const u = await createUser()
      const patched = await srv.request('PATCH', `/Users/${u.id}`, patchBody({ op: 'replace', path: 'title', value: 'new' }))
      assertStatus(patched, 200)
      const res = await srv.request('GET', `/Users/${u.id}`, undefined, { 'if-none-match': u.meta.version })
      assertStatus(res, 200)
      assert.equal(res.body.title, 'new')
      assert.equal(res.headers.get('etag'), patched.body.meta.version)
    })

    const writes: readonly { method: string; body?: (u: any) => unknown }[] = [
      { method: 'PUT', body: (u) => ({ schemas: [USER], userName: u.userName, displayName: 'Changed' }) },
      { method: 'PATCH', body: () => patchBody({ op: 'replace', path: 'displayName', value: 'Changed' }) },
      { method: 'DELETE' },
    ]
    for (const { method, body } of writes) {
      for (const stale of ['W/"999999"', '"not-an-etag-of-ours"']) {
        test(`${method} with a stale If-Match ${stale} → 412 and the user is unchanged (RFC 7644 §3.14)`, async () => {
          const u = await createUser()
          assertScimError(await srv.request(method, `/Users/${u.id}`, body?.(u), { 'if-match': stale }), 412)
          const got = await srv.request('GET', `/Users/${u.id}`)
          assertStatus(got, 200)
          assert.deepEqual(got.body, u)
        })
      }

      test(`${method} with the current If-Match succeeds (RFC 7644 §3.14)`, async () => {
        const u = await createUser()
        const res = await srv.request(method, `/Users/${u.id}`, body?.(u), { 'if-match': u.meta.version })
        if (method === 'DELETE') {
          assertStatus(res, 204)
          assertScimError(await srv.request('GET', `/Users/${u.id}`), 404)
          return
        }
        assertStatus(res, 200)
        assert.equal(res.body.displayName, 'Changed')
        const etag = res.headers.get('etag')
        assert.match(etag ?? '', WEAK_ETAG)
        assert.notEqual(etag, u.meta.version, 'a new ETag')
        assert.equal(etag, res.body.meta.version)
        // The old ETag is now stale.
        assertScimError(await srv.request(method, `/Users/${u.id}`, body?.(u), { 'if-match': u.meta.version }), 412)
      })
    }

    test('PUT with If-Match: * succeeds (RFC 9110 §13.1.1)', async () => {
      const u = await createUser()
      assertStatus(await srv.request('PUT', `/Users/${u.id}`, { schemas: [USER], userName: u.userName }, { 'if-match': '*' }), 200)
    })
  })

  describe('endpoints that are not there (RFC 7644 §3.11, §3.12)', () => {
    test('GET /Me → 501 SCIM error (RFC 7644 §3.11)', async () => {
      assertScimError(await srv.request('GET', '/Me'), 501)
    })

    test('POST /Bulk is there, as ServiceProviderConfig bulk.supported says: 200 BulkResponse; GET /Bulk → 405 (RFC 7644 §3.7)', async () => {
      const res = await srv.request('POST', '/Bulk', {
        schemas: [BULK_REQUEST],
        Operations: [{ method: 'POST', path: '/Users', bulkId: 'q1', data: { schemas: [USER], userName: unique('bulk') } }],
      })
      assertStatus(res, 200)
      assert.match(res.headers.get('content-type') ?? '', SCIM_JSON)
      assert.deepEqual(res.body.schemas, ['urn:ietf:params:scim:api:messages:2.0:BulkResponse'])
      assert.deepEqual(res.body.Operations.map((o: any) => [o.method, o.bulkId, o.status]), [['POST', 'q1', '201']])
      assert.equal((await srv.request('GET', new URL(res.body.Operations[0].location).pathname.replace('/scim/v2', ''))).status, 200)
      const get = await srv.request('GET', '/Bulk')
      assertScimError(get, 405)
      assert.equal(get.headers.get('allow'), 'POST')
    })

    const unknown: readonly { method: string; path: string }[] = [
      { method: 'GET', path: '/Widgets' },
      { method: 'POST', path: '/Widgets' },
      { method: 'GET', path: '/Users/some-id/extra' },
      { method: 'GET', path: '/v1/Users' },
    ]
    for (const { method, path } of unknown) {
      test(`${method} ${path} → 404 SCIM error (RFC 7644 §3.12)`, async () => {
        assertScimError(await srv.request(method, path, method === 'POST' ? { schemas: [USER] } : undefined), 404)
      })
    }

    const wrongMethods: readonly { method: string; path: (id: string) => string; allow: RegExp }[] = [
      { method: 'POST', path: (id) => `/Users/${id}`, allow: /PUT/ },
      { method: 'PUT', path: () => '/Users', allow: /POST/ },
      { method: 'DELETE', path: () => '/Users', allow: /GET/ },
      { method: 'PATCH', path: () => '/Groups', allow: /POST/ },
    ]
    for (const { method, path, allow } of wrongMethods) {
      test(`${method} ${path(':id')} → 405 SCIM error with Allow (RFC 7644 §3.12, RFC 9110 §15.5.6)`, async () => {
        const u = await createUser()
        const res = await srv.request(method, path(u.id), method === 'DELETE' ? undefined : { schemas: [USER], userName: unique('x') })
        assertScimError(res, 405)
        assert.match(res.headers.get('allow') ?? '', allow)
      })
    }
  })

  describe('attributes and excludedAttributes on write responses (RFC 7644 §3.9)', () => {
    test('POST /Users?attributes=userName answers 201 with id and userName only', async () => {
      const res = await srv.request('POST', '/Users?attributes=userName', { schemas: [USER], userName: unique('proj'), displayName: 'Hidden', title: 'Hidden' })
      assertStatus(res, 201)
      assert.equal(typeof res.body.id, 'string')
      assert.equal(typeof res.body.userName, 'string')
      assert.equal(res.body.displayName, undefined)
      assert.equal(res.body.title, undefined)
      assert.ok(res.headers.get('location')?.endsWith(`/Users/${res.body.id}`))
      assert.match(res.headers.get('etag') ?? '', WEAK_ETAG)
      const full = await srv.request('GET', `/Users/${res.body.id}`)
      assert.equal(full.body.displayName, 'Hidden', 'the projection shapes the response, not what is stored')
    })

    test('PUT /Users/{id}?excludedAttributes=displayName answers 200 without displayName', async () => {
      const u = await createUser()
      const res = await srv.request('PUT', `/Users/${u.id}?excludedAttributes=displayName`, { schemas: [USER], userName: u.userName, displayName: 'Put', title: 'T' })
      assertStatus(res, 200)
      assert.equal(res.body.displayName, undefined)
      assert.equal(res.body.title, 'T')
      assert.equal(res.body.userName, u.userName)
    })

    test('PATCH /Users/{id}?attributes=displayName answers 200 with id and displayName only', async () => {
      const u = await createUser()
      const res = await srv.request('PATCH', `/Users/${u.id}?attributes=displayName`, patchBody({ op: 'replace', path: 'displayName', value: 'Patched' }))
      assertStatus(res, 200)
      assert.equal(res.body.id, u.id)
      assert.equal(res.body.displayName, 'Patched')
      assert.equal(res.body.userName, undefined)
    })
  })

  describe('x-request-id', () => {
    const requests: readonly { title: string; send: (s: TestServer) => Promise<ScimResponse> }[] = [
      { title: 'a success', send: (s) => s.request('GET', '/Users') },
      { title: 'a 404', send: (s) => s.request('GET', '/Users/nope') },
      { title: 'a 401', send: (s) => s.request('GET', '/Users', undefined, { authorization: null }) },
      { title: 'a 400', send: (s) => s.request('GET', `/Users?filter=${encodeURIComponent('userName eq')}`) },
    ]
    for (const { title, send } of requests) {
      test(`${title} carries an x-request-id header`, async () => {
        const res = await send(srv)
        assert.ok((res.headers.get('x-request-id') ?? '').length > 0, `x-request-id on ${res.status}`)
      })
    }

    test('a well-formed x-request-id from the client is echoed; a hostile one is replaced', async () => {
      const echoed = await srv.request('GET', '/Users', undefined, { 'x-request-id': 'roster-test-42' })
      assert.equal(echoed.headers.get('x-request-id'), 'roster-test-42')
      const hostile = await srv.request('GET', '/Users', undefined, { 'x-request-id': 'a b<script>' })
      const id = hostile.headers.get('x-request-id') ?? ''
      assert.ok(id.length > 0)
      assert.notEqual(id, 'a b<script>')
    })
  })

  describe('no 500 for hostile input (RFC 7644 §3.12)', () => {
    const deepArray = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`
    const deepObject = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`
    const longFilter = Array.from({ length: 1200 }, (_, i) => `userName eq "u${i}"`).join(' or ')
    const okFilter = Array.from({ length: 440 }, (_, i) => `userName eq "u${String(i).padStart(3, '0')}"`).join(' or ')

    interface HostileCase {
      readonly title: string
      readonly method: string
      /** Built after a user exists, so PATCH cases can target it. */
      readonly path: (id: string) => string
      readonly body?: unknown
      readonly headers?: Record<string, string>
      /** Acceptable statuses: anything but these (and every 5xx) fails. */
      readonly allowed: readonly number[]
      readonly scimType?: string
    }

    const cases: readonly HostileCase[] = [
      { title: 'POST /Users with 50,000 nested arrays', method: 'POST', path: () => '/Users', body: `{"schemas":["${USER}"],"userName":"deep1","emails":${deepArray(50_000)}}`, allowed: [400] },
      { title: 'POST /Users with 20,000 nested objects', method: 'POST', path: () => '/Users', body: `{"schemas":["${USER}"],"userName":"deep2","name":${deepObject(20_000)}}`, allowed: [400] },
      { title: 'POST /Users with nesting in an unknown attribute', method: 'POST', path: () => '/Users', body: `{"schemas":["${USER}"],"userName":"deep3","x":${deepObject(20_000)}}`, allowed: [400] },
      { title: 'PATCH with a deeply nested value', method: 'PATCH', path: (id) => `/Users/${id}`, body: `{"schemas":["${PATCH_OP}"],"Operations":[{"op":"add","path":"nickName","value":${deepArray(50_000)}}]}`, allowed: [400] },
      { title: 'PATCH without a path and a deeply nested value', method: 'PATCH', path: (id) => `/Users/${id}`, body: `{"schemas":["${PATCH_OP}"],"Operations":[{"op":"add","value":{"name":${deepObject(20_000)}}}]}`, allowed: [400] },
      { title: 'a filter one string over 10,000 characters', method: 'GET', path: () => `/Users?filter=${encodeURIComponent(`userName eq "${'a'.repeat(10_000)}"`)}`, allowed: [400], scimType: 'invalidFilter' },
      { title: 'POST /Users/.search with a 25,000-character filter', method: 'POST', path: () => '/Users/.search', body: { filter: longFilter }, allowed: [400], scimType: 'invalidFilter' },
      // 35 KB of URL is over Node's 16 KB header limit: refused before routing, but still owed a SCIM error body.
      { title: 'GET with a 25,000-character filter in a 35 KB URL', method: 'GET', path: () => `/Users?filter=${encodeURIComponent(longFilter)}`, allowed: [400, 414, 431] },
      { title: 'a filter of 440 or-ed terms under the length limit', method: 'GET', path: () => `/Users?filter=${encodeURIComponent(okFilter)}`, allowed: [200, 400] },
      { title: 'a filter with unbalanced quotes', method: 'GET', path: () => `/Users?filter=${encodeURIComponent('userName eq "abc')}`, allowed: [400], scimType: 'invalidFilter' },
      { title: 'a filter with a stray quote mid-way', method: 'GET', path: () => `/Users?filter=${encodeURIComponent('userName eq "a" and displayName eq "b')}`, allowed: [400], scimType: 'invalidFilter' },
      { title: 'a filter with unbalanced parentheses', method: 'GET', path: () => `/Users?filter=${encodeURIComponent('((userName eq "a")')}`, allowed: [400], scimType: 'invalidFilter' },
      { title: 'a filter nested 3,000 parentheses deep', method: 'GET', path: () => `/Users?filter=${encodeURIComponent(`${'('.repeat(3000)}userName eq "a"${')'.repeat(3000)}`)}`, allowed: [400], scimType: 'invalidFilter' },
      { title: 'a filter with a NUL character in a value', method: 'GET', path: () => `/Users?filter=${encodeURIComponent('userName eq "a\u0000b"')}`, allowed: [200] },
      { title: 'a filter with SQL in a value', method: 'GET', path: () => `/Users?filter=${encodeURIComponent(`userName eq "x'); DROP TABLE resources; --"`)}`, allowed: [200] },
      { title: 'a filter with a LIKE wildcard in co', method: 'GET', path: () => `/Users?filter=${encodeURIComponent('userName co "%_\\\\"')}`, allowed: [200] },
      { title: 'an empty filter', method: 'GET', path: () => '/Users?filter=', allowed: [200, 400] },
      { title: 'filter given twice', method: 'GET', path: () => `/Users?filter=${encodeURIComponent('userName pr')}&filter=${encodeURIComponent('title pr')}`, allowed: [200, 400] },
      { title: 'an id of URL-encoded control bytes', method: 'GET', path: () => '/Users/%00%01%ff%fe', allowed: [400, 404] },
      { title: 'an id of encoded path traversal', method: 'GET', path: () => '/Users/..%2F..%2F..%2Fetc%2Fpasswd', allowed: [400, 404] },
      { title: 'an id with a broken percent-encoding', method: 'GET', path: () => '/Users/%E0%A4%A', allowed: [400, 404] },
      { title: 'an id with quotes and SQL', method: 'GET', path: () => `/Users/${encodeURIComponent(`' OR 1=1 --`)}`, allowed: [404] },
      { title: 'an id of 2,000 characters', method: 'GET', path: () => `/Users/${'a'.repeat(2000)}`, allowed: [400, 404, 414] },
      { title: 'PUT on a garbage id', method: 'PUT', path: () => '/Users/%00%ff', body: { schemas: [USER], userName: 'garbage.put' }, allowed: [400, 404] },
      { title: 'DELETE on a garbage id', method: 'DELETE', path: () => '/Users/%E0%A4%A', allowed: [400, 404] },
      { title: 'a PATCH body that is an array', method: 'PATCH', path: (id) => `/Users/${id}`, body: [{ op: 'replace', path: 'title', value: 'x' }], allowed: [400], scimType: 'invalidSyntax' },
      { title: 'PATCH Operations that is an object', method: 'PATCH', path: (id) => `/Users/${id}`, body: { schemas: [PATCH_OP], Operations: { op: 'replace', path: 'title', value: 'x' } }, allowed: [400], scimType: 'invalidSyntax' },
      { title: 'PATCH Operations that is a string', method: 'PATCH', path: (id) => `/Users/${id}`, body: { schemas: [PATCH_OP], Operations: 'replace title' }, allowed: [400], scimType: 'invalidSyntax' },
      { title: 'PATCH Operations of null', method: 'PATCH', path: (id) => `/Users/${id}`, body: { schemas: [PATCH_OP], Operations: [null] }, allowed: [400], scimType: 'invalidSyntax' },
      { title: 'PATCH with a numeric path', method: 'PATCH', path: (id) => `/Users/${id}`, body: patchBody({ op: 'replace', path: 42, value: 'x' }), allowed: [400], scimType: 'invalidSyntax' },
      { title: 'PATCH with a path whose filter is over 10,000 characters', method: 'PATCH', path: (id) => `/Users/${id}`, body: patchBody({ op: 'replace', path: `emails[value co "${'x'.repeat(12_000)}"].display`, value: 'x' }), allowed: [400] },
      { title: 'PATCH with a 9,000-character path that matches nothing', method: 'PATCH', path: (id) => `/Users/${id}`, body: patchBody({ op: 'replace', path: `emails[value co "${'x'.repeat(9000)}"].display`, value: 'x' }), allowed: [400], scimType: 'noTarget' },
      { title: 'PATCH on a group with a member filter of the wrong type', method: 'PATCH', path: () => '/Groups/nope', body: patchBody({ op: 'remove', path: 'members[value gt true]' }), allowed: [400, 404] },
      { title: 'POST /Users with a null body', method: 'POST', path: () => '/Users', body: 'null', allowed: [400], scimType: 'invalidSyntax' },
      { title: 'POST /Users with an array body', method: 'POST', path: () => '/Users', body: '[]', allowed: [400], scimType: 'invalidSyntax' },
      { title: 'POST /Users with a string body', method: 'POST', path: () => '/Users', body: '"userName"', allowed: [400], scimType: 'invalidSyntax' },
      { title: 'POST /Users with a number body', method: 'POST', path: () => '/Users', body: '123', allowed: [400], scimType: 'invalidSyntax' },
      { title: 'POST /Users with __proto__', method: 'POST', path: () => '/Users', body: `{"schemas":["${USER}"],"userName":"proto.pollution","__proto__":{"admin":true}}`, allowed: [201, 400] },
      { title: 'POST /Users with constructor.prototype', method: 'POST', path: () => '/Users', body: `{"schemas":["${USER}"],"userName":"ctor.pollution","constructor":{"prototype":{"admin":true}}}`, allowed: [201, 400] },
      { title: 'POST /Users with an empty userName', method: 'POST', path: () => '/Users', body: { schemas: [USER], userName: '' }, allowed: [400], scimType: 'invalidValue' },
      { title: 'POST /Users with emails as a string', method: 'POST', path: () => '/Users', body: { schemas: [USER], userName: 'emails.string', emails: 'a@example.com' }, allowed: [201, 400] },
      { title: 'POST /Users with schemas as a string', method: 'POST', path: () => '/Users', body: { schemas: USER, userName: 'schemas.string' }, allowed: [201, 400] },
      { title: 'POST /Users with data under an unknown schema URN', method: 'POST', path: () => '/Users', body: { schemas: [USER, 'urn:evil:schema'], userName: 'schemas.evil', 'urn:evil:schema': { admin: true } }, allowed: [400], scimType: 'invalidSyntax' },
      { title: 'POST /Users with a 500,000-character userName', method: 'POST', path: () => '/Users', body: { schemas: [USER], userName: 'u'.repeat(500_000) }, allowed: [201, 400, 413] },
      { title: 'POST /Users/.search with a numeric filter', method: 'POST', path: () => '/Users/.search', body: { filter: 42 }, allowed: [400] },
      { title: 'POST /Users/.search with attributes as a string', method: 'POST', path: () => '/Users/.search', body: { attributes: 'userName' }, allowed: [200, 400] },
      { title: 'POST /.search with a body that is an array', method: 'POST', path: () => '/.search', body: [], allowed: [400] },
      { title: 'startIndex=abc', method: 'GET', path: () => '/Users?startIndex=abc', allowed: [200, 400] },
      { title: 'count=abc', method: 'GET', path: () => '/Users?count=abc', allowed: [200, 400] },
      { title: 'count=1e309', method: 'GET', path: () => '/Users?count=1e309', allowed: [200, 400] },
      { title: 'startIndex=99999999999999999999', method: 'GET', path: () => '/Users?startIndex=99999999999999999999', allowed: [200, 400] },
      { title: 'count=-99999999999', method: 'GET', path: () => '/Users?count=-99999999999', allowed: [200, 400] },
      { title: 'startIndex=1.5', method: 'GET', path: () => '/Users?startIndex=1.5&count=2.5', allowed: [200, 400] },
      { title: 'sortBy of a NUL byte', method: 'GET', path: () => '/Users?sortBy=%00', allowed: [400] },
      { title: 'sortBy of a complex attribute', method: 'GET', path: () => '/Users?sortBy=name', allowed: [200, 400] },
      { title: 'sortOrder of garbage', method: 'GET', path: () => '/Users?sortBy=userName&sortOrder=sideways', allowed: [200, 400] },
      { title: 'attributes of commas only', method: 'GET', path: () => '/Users?attributes=,,,,', allowed: [200, 400] },
      { title: 'attributes naming garbage', method: 'GET', path: () => `/Users?attributes=${encodeURIComponent('urn:x:::.[]')}`, allowed: [200, 400] },
      { title: 'If-Match of garbage on PUT', method: 'PUT', path: (id) => `/Users/${id}`, body: { schemas: [USER], userName: 'ifmatch.garbage' }, headers: { 'if-match': 'W/"\u00ff' }, allowed: [400, 412] },
      { title: 'If-None-Match of garbage on GET', method: 'GET', path: (id) => `/Users/${id}`, headers: { 'if-none-match': ',,,W/' }, allowed: [200] },
    ]

    for (const c of cases) {
      test(`${c.title} → ${c.allowed.join(' or ')}${c.scimType ? ` ${c.scimType}` : ''}, never 500`, async () => {
        const u = await createUser()
        const res = await srv.request(c.method, c.path(u.id), c.body, c.headers)
        assert.ok(res.status < 500, `answered ${res.status}: ${res.text.slice(0, 500)}`)
        assert.ok(c.allowed.includes(res.status), `expected ${c.allowed.join(' or ')}, got ${res.status}: ${res.text.slice(0, 500)}`)
        if (res.status >= 400) {
          assertScimErrorShape(res)
          if (c.scimType) assert.equal(res.body.scimType, c.scimType, res.text.slice(0, 500))
        }
      })
    }

    test('after the hostile inputs the store still answers', async () => {
      const res = await srv.request('GET', '/Users?count=1')
      assertStatus(res, 200)
      assert.ok(res.body.totalResults > 0)
    })
  })
})

describe('Body limit (ROSTER_BODY_LIMIT, RFC 7644 §3.12)', () => {
  let srv: TestServer

  before(async () => {
    srv = await startTestServer({ ROSTER_BODY_LIMIT: '2048' })
  })
  after(async () => {
    await srv.close()
  })

  test('a body under the limit is accepted', async () => {
    assertStatus(await srv.request('POST', '/Users', { schemas: [USER], userName: 'small', displayName: 'x'.repeat(1000) }), 201)
  })

  const tooLarge: readonly { title: string; method: string; path: string; body: unknown }[] = [
    { title: 'POST /Users', method: 'POST', path: '/Users', body: { schemas: [USER], userName: 'large', displayName: 'x'.repeat(4000) } },
    { title: 'PATCH /Users/{id}', method: 'PATCH', path: '/Users/any', body: patchBody({ op: 'replace', path: 'displayName', value: 'x'.repeat(4000) }) },
    { title: 'POST /.search', method: 'POST', path: '/.search', body: { filter: `userName eq "${'x'.repeat(4000)}"` } },
  ]
  for (const { title, method, path, body } of tooLarge) {
    test(`${title} with a body over the limit → 413 SCIM error`, async () => {
      assertScimError(await srv.request(method, path, body), 413)
    })
  }

  test('a body over the limit sent without Content-Length (chunked) → 413 SCIM error', async () => {
    const bytes = new TextEncoder().encode(JSON.stringify({ schemas: [USER], userName: 'chunked', displayName: 'x'.repeat(4000) }))
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.subarray(0, 1000))
        controller.enqueue(bytes.subarray(1000))
        controller.close()
      },
    })
    const res = await fetch(`${srv.baseUrl}/Users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${srv.token}`, 'content-type': 'application/scim+json' },
      body: stream,
      duplex: 'half',
    } as RequestInit)
    const text = await res.text()
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      body = undefined
    }
    assertScimError({ status: res.status, headers: res.headers, body, text }, 413)
  })
})
