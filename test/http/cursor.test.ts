import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { assertScimError, ERROR_SCHEMA, startTestServer, type ScimResponse, type TestServer } from './harness.js'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const LIST_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:ListResponse'
const SEARCH_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest'
const SCIM_JSON = /^application\/scim\+json/

/** A cursor-paged ListResponse (RFC 9865 §2): no startIndex; nextCursor present or not as said. */
function assertCursorPage(res: ScimResponse, expected: { totalResults: number; itemsPerPage: number; last: boolean }): any[] {
  assert.equal(res.status, 200, res.text)
  assert.match(res.headers.get('content-type') ?? '', SCIM_JSON)
  assert.deepEqual(res.body.schemas, [LIST_RESPONSE])
  assert.equal(res.body.totalResults, expected.totalResults, `totalResults in ${res.text}`)
  assert.equal(res.body.itemsPerPage, expected.itemsPerPage, `itemsPerPage in ${res.text}`)
  assert.equal('startIndex' in res.body, false, 'startIndex is an index-paging attribute')
  assert.equal('previousCursor' in res.body, false, 'previousCursor is not offered')
  if (expected.last) assert.equal('nextCursor' in res.body, false, 'nextCursor is omitted only on the last page')
  else assert.match(res.body.nextCursor, /^[A-Za-z0-9._~-]+$/, 'a cursor is a URL-safe string (RFC 9865 §2)')
  const resources: any[] = res.body.Resources ?? []
  assert.equal(resources.length, expected.itemsPerPage)
  return resources
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const query = (params: Record<string, string | number>) =>
  Object.entries(params)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&')

describe('cursor paging over HTTP (RFC 9865)', () => {
  let srv: TestServer
  const userIds: string[] = []
  const groupIds: string[] = []

  before(async () => {
    srv = await startTestServer()
    for (let i = 0; i < 25; i++) {
      const res = await srv.request('POST', '/Users', {
        schemas: [USER],
        userName: `cursor${String(i).padStart(2, '0')}`,
        ...(i % 3 ? { title: i % 2 ? 'Engineer' : 'manager' } : {}),
        active: i % 4 !== 0,
      })
      assert.equal(res.status, 201, res.text)
      userIds.push(res.body.id)
    }
    for (const displayName of ['Alpha', 'Beta', 'Gamma']) {
      const res = await srv.request('POST', '/Groups', { schemas: [GROUP], displayName })
      assert.equal(res.status, 201, res.text)
      groupIds.push(res.body.id)
    }
  })
  after(async () => {
    await srv.close()
  })

  /** The ids in index paging's order: what cursor paging must reproduce. */
  async function indexOrder(path: string, params: Record<string, string | number> = {}): Promise<string[]> {
    const res = await srv.request('GET', `${path}?${query({ ...params, count: 1000 })}`)
    assert.equal(res.status, 200, res.text)
    return res.body.Resources.map((r: any) => r.id)
  }

  /** Follows nextCursor with the same parameters ("identical to the initial query with the exception of the cursor value"). */
  async function walk(path: string, params: Record<string, string | number>, count: number, total: number): Promise<string[]> {
    const seen: string[] = []
    let res = await srv.request('GET', `${path}?cursor&${query({ ...params, count })}`)
    for (let pages = 1; pages < 100; pages++) {
      const last = total - seen.length <= count
      seen.push(...assertCursorPage(res, { totalResults: total, itemsPerPage: last ? total - seen.length : count, last }).map((r) => r.id))
      if (last) return seen
      // The cursor goes into the URL as it came: it needs no percent-encoding.
      res = await srv.request('GET', `${path}?${query({ ...params, count })}&cursor=${res.body.nextCursor}`)
    }
    assert.fail('the walk did not end')
  }

  test('GET /Users?cursor&count=7 follows nextCursor to the last page: every user once, in index order (RFC 9865 §2)', async () => {
    const walked = await walk('/Users', {}, 7, 25)
    assert.deepEqual(walked, await indexOrder('/Users'))
    assert.deepEqual([...walked].sort(), [...userIds].sort())
  })

  test('with a filter and sortBy descending, repeated on every request', async () => {
    const params = { filter: 'title pr', sortBy: 'userName', sortOrder: 'descending' }
    const expected = await indexOrder('/Users', params)
    assert.equal(expected.length, 16)
    assert.deepEqual(await walk('/Users', params, 5, 16), expected)
  })

  test('sortBy an attribute some users lack: those come last, and none is skipped', async () => {
    const params = { sortBy: 'title' }
    assert.deepEqual(await walk('/Users', params, 4, 25), await indexOrder('/Users', params))
  })

  test('a count that divides the total exactly: the last full page has no nextCursor', async () => {
    assert.deepEqual(await walk('/Users', { filter: 'active eq false' }, 7, 7), await indexOrder('/Users', { filter: 'active eq false' }))
  })

  test('POST /Users/.search with "cursor": "" and then each nextCursor (RFC 9865 §3)', async () => {
    const body = { schemas: [SEARCH_REQUEST], filter: 'active eq true', sortBy: 'userName', attributes: ['userName'], count: 8 }
    const seen: string[] = []
    let res = await srv.request('POST', '/Users/.search', { ...body, cursor: '' })
    seen.push(...assertCursorPage(res, { totalResults: 18, itemsPerPage: 8, last: false }).map((r) => r.id))
    res = await srv.request('POST', '/Users/.search', { ...body, cursor: res.body.nextCursor })
    seen.push(...assertCursorPage(res, { totalResults: 18, itemsPerPage: 8, last: false }).map((r) => r.id))
    res = await srv.request('POST', '/Users/.search', { ...body, cursor: res.body.nextCursor })
    const last = assertCursorPage(res, { totalResults: 18, itemsPerPage: 2, last: true })
    seen.push(...last.map((r) => r.id))
    assert.equal(last[0].title, undefined, 'attributes still apply')
    assert.deepEqual(seen, await indexOrder('/Users', { filter: 'active eq true', sortBy: 'userName' }))
  })

  test('POST /.search at the root with a cursor walks users, then groups', async () => {
    const expected = (await srv.request('POST', '/.search', { schemas: [SEARCH_REQUEST], count: 1000 })).body.Resources.map((r: any) => r.id)
    assert.equal(expected.length, 28)
    const seen: string[] = []
    let cursor = ''
    for (let page = 1; ; page++) {
      const res = await srv.request('POST', '/.search', { schemas: [SEARCH_REQUEST], cursor, count: 5 })
      const last = page === 6
      seen.push(...assertCursorPage(res, { totalResults: 28, itemsPerPage: last ? 3 : 5, last }).map((r) => r.id))
      if (last) break
      cursor = res.body.nextCursor
    }
    assert.deepEqual(seen, expected)
    assert.deepEqual(seen.slice(25).sort(), [...groupIds].sort())
  })

  test('POST /.search at the root: a page that ends exactly with the users still has a nextCursor for the groups', async () => {
    const first = await srv.request('POST', '/.search', { schemas: [SEARCH_REQUEST], filter: 'meta.resourceType pr', cursor: '', count: 25 })
    assertCursorPage(first, { totalResults: 28, itemsPerPage: 25, last: false })
    const second = await srv.request('POST', '/.search', { schemas: [SEARCH_REQUEST], filter: 'meta.resourceType pr', cursor: first.body.nextCursor, count: 25 })
    assert.deepEqual(assertCursorPage(second, { totalResults: 28, itemsPerPage: 3, last: true }).map((r) => r.id).sort(), [...groupIds].sort())
  })

  test('count=0 with a cursor answers totalResults only, without nextCursor (RFC 9865 §2 count)', async () => {
    assertCursorPage(await srv.request('GET', '/Users?cursor&count=0&filter=active%20eq%20true'), { totalResults: 18, itemsPerPage: 0, last: true })
  })

  test('users deleted behind the cursor do not make the walk skip any (as startIndex would)', async () => {
    const scratch: string[] = []
    for (let i = 0; i < 6; i++) {
      const res = await srv.request('POST', '/Users', { schemas: [USER], userName: `scratch${i}`, title: 'scratch' })
      scratch.push(res.body.id)
    }
    const params = { filter: 'title eq "scratch"' }
    // Two may share a created millisecond (then id decides), so the expected order is read, not assumed.
    const order = await indexOrder('/Users', params)
    assert.deepEqual([...order].sort(), [...scratch].sort())
    const first = await srv.request('GET', `/Users?cursor&count=3&${query(params)}`)
    const page1 = assertCursorPage(first, { totalResults: 6, itemsPerPage: 3, last: false }).map((r) => r.id)
    assert.deepEqual(page1, order.slice(0, 3))
    // Two users already returned go, one arrives: with startIndex=4 the next page would skip two users.
    for (const id of page1.slice(0, 2)) assert.equal((await srv.request('DELETE', `/Users/${id}`)).status, 204)
    await sleep(5) // created strictly after the others
    const added = await srv.request('POST', '/Users', { schemas: [USER], userName: 'scratch-late', title: 'scratch' })
    const second = await srv.request('GET', `/Users?count=3&${query(params)}&cursor=${first.body.nextCursor}`)
    // totalResults is the first page's count (6), carried by the cursor rather than counted again (now 5).
    const page2 = assertCursorPage(second, { totalResults: 6, itemsPerPage: 3, last: false }).map((r) => r.id)
    assert.deepEqual(page2, order.slice(3, 6))
    const third = await srv.request('GET', `/Users?count=3&${query(params)}&cursor=${second.body.nextCursor}`)
    assert.deepEqual(assertCursorPage(third, { totalResults: 6, itemsPerPage: 1, last: true }).map((r) => r.id), [added.body.id], 'a user added after the position is reached')
    for (const id of [...order.slice(2), added.body.id]) assert.equal((await srv.request('DELETE', `/Users/${id}`)).status, 204)
  })

  test('index paging is unchanged: startIndex present, no nextCursor', async () => {
    const res = await srv.request('GET', '/Users?startIndex=3&count=5')
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.startIndex, 3)
    assert.equal(res.body.itemsPerPage, 5)
    assert.equal('nextCursor' in res.body, false)
  })

  describe('errors (RFC 9865 §2.1)', () => {
    test('a cursor the server never issued → 400 invalidCursor', async () => {
      assertScimError(await srv.request('GET', '/Users?cursor=VZUTiyhEQJ94IR&count=10'), 400, 'invalidCursor', /not one this server issued/)
    })

    test('a cursor with characters outside the unreserved set → 400 invalidCursor', async () => {
      assertScimError(await srv.request('GET', `/Users?${query({ cursor: 'a/b+c=' })}`), 400, 'invalidCursor', /RFC 9865/)
    })

    test('a cursor from a query with another filter → 400 invalidCursor', async () => {
      const first = await srv.request('GET', '/Users?cursor&count=2&filter=title%20pr')
      assert.ok(first.body.nextCursor)
      assertScimError(await srv.request('GET', `/Users?count=2&filter=active%20eq%20true&cursor=${first.body.nextCursor}`), 400, 'invalidCursor', /another query/)
    })

    test('a /Users cursor sent to /Groups → 400 invalidCursor', async () => {
      const first = await srv.request('GET', '/Users?cursor&count=2')
      assertScimError(await srv.request('GET', `/Groups?count=2&cursor=${first.body.nextCursor}`), 400, 'invalidCursor', /another query/)
    })

    test('a /Users cursor sent to POST /.search at the root → 400 invalidCursor', async () => {
      const first = await srv.request('GET', '/Users?cursor&count=2')
      assertScimError(await srv.request('POST', '/.search', { schemas: [SEARCH_REQUEST], cursor: first.body.nextCursor, count: 2 }), 400, 'invalidCursor', /another query/)
    })

    test('startIndex and cursor together → 400 invalidValue', async () => {
      assertScimError(await srv.request('GET', '/Users?cursor&startIndex=1'), 400, 'invalidValue', /cannot be combined/)
      assertScimError(await srv.request('POST', '/Users/.search', { schemas: [SEARCH_REQUEST], cursor: '', startIndex: 1 }), 400, 'invalidValue', /cannot be combined/)
    })

    test('a count that is not an integer with a cursor → 400 invalidCount', async () => {
      assertScimError(await srv.request('GET', '/Users?cursor&count=ten'), 400, 'invalidCount', /count must be an integer/)
    })
  })

  test('ServiceProviderConfig advertises pagination: cursor and index, index by default, page sizes, no cursorTimeout (RFC 9865 §4)', async () => {
    const res = await srv.request('GET', '/ServiceProviderConfig')
    assert.equal(res.status, 200, res.text)
    assert.deepEqual(res.body.pagination, { cursor: true, index: true, defaultPaginationMethod: 'index', defaultPageSize: 1000, maxPageSize: 1000 })
  })
})

describe('cursor paging with a small maxResults (RFC 9865 §2, §4)', () => {
  let srv: TestServer

  before(async () => {
    srv = await startTestServer({ ROSTER_MAX_RESULTS: '2' })
    for (const userName of ['m1', 'm2', 'm3']) assert.equal((await srv.request('POST', '/Users', { schemas: [USER], userName })).status, 201)
  })
  after(async () => {
    await srv.close()
  })

  test('count above maxPageSize returns maxPageSize per page ("MAY return fewer results")', async () => {
    const first = await srv.request('GET', '/Users?cursor&count=10')
    assertCursorPage(first, { totalResults: 3, itemsPerPage: 2, last: false })
    const second = await srv.request('GET', `/Users?count=10&cursor=${first.body.nextCursor}`)
    assertCursorPage(second, { totalResults: 3, itemsPerPage: 1, last: true })
  })

  test('a cursor request without count pages by defaultPageSize', async () => {
    assertCursorPage(await srv.request('GET', '/Users?cursor'), { totalResults: 3, itemsPerPage: 2, last: false })
  })

  test('ServiceProviderConfig pagination follows ROSTER_MAX_RESULTS', async () => {
    const res = await srv.request('GET', '/ServiceProviderConfig')
    assert.equal(res.body.pagination.maxPageSize, 2)
    assert.equal(res.body.pagination.defaultPageSize, 2)
  })
})
