import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { assertStatus, assertScimError, ERROR_SCHEMA, startTestServer, type ScimResponse, type TestServer } from './harness.js'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
const LIST_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:ListResponse'
const SEARCH_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest'
const SCIM_JSON = /^application\/scim\+json/

/** A ListResponse (RFC 7644 §3.4.2) with the paging numbers given. */
function assertListResponse(res: ScimResponse, expected: { totalResults: number; itemsPerPage: number; startIndex: number }): any[] {
  assertStatus(res, 200)
  assert.match(res.headers.get('content-type') ?? '', SCIM_JSON)
  assert.deepEqual(res.body.schemas, [LIST_RESPONSE])
  assert.equal(res.body.totalResults, expected.totalResults, `totalResults in ${res.text}`)
  assert.equal(res.body.itemsPerPage, expected.itemsPerPage, `itemsPerPage in ${res.text}`)
  assert.equal(res.body.startIndex, expected.startIndex, `startIndex in ${res.text}`)
  const resources: any[] = res.body.Resources ?? []
  assert.ok(Array.isArray(resources))
  assert.equal(resources.length, expected.itemsPerPage, 'itemsPerPage is the size of this page')
  return resources
}

const query = (params: Record<string, string | number>) =>
  Object.entries(params)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&')

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('Lists, filters, paging and sorting over HTTP (RFC 7644 §3.4)', () => {
  let srv: TestServer
  const users: Record<'alice' | 'bob' | 'carol' | 'dave', any> = {} as never
  const groups: Record<'design' | 'teamRed', any> = {} as never
  /** u.userName → short name, to print and compare results. */
  const shortName = (r: any) => String(r.userName ?? r.displayName).replace(/\.list$/, '')

  async function create(path: string, body: Record<string, unknown>): Promise<any> {
    const res = await srv.request('POST', path, body)
    assertStatus(res, 201)
    return res.body
  }

  before(async () => {
    srv = await startTestServer()
    users.alice = await create('/Users', {
      schemas: [USER, ENTERPRISE],
      userName: 'alice.list',
      externalId: 'EXT-a',
      displayName: 'Alice Anders',
      name: { givenName: 'Alice', familyName: 'Anders' },
      title: 'Engineer',
      userType: 'Employee',
      active: true,
      emails: [
        { value: 'alice@example.com', type: 'work', primary: true },
        { value: 'alice@home.org', type: 'home' },
      ],
      [ENTERPRISE]: { employeeNumber: '1001', department: 'Eng' },
    })
    // meta.created of alice strictly before bob's, for the meta.created filter.
    await sleep(5)
    users.bob = await create('/Users', {
      schemas: [USER, ENTERPRISE],
      userName: 'bob.list',
      externalId: 'ext-b',
      displayName: 'Bob Brown',
      name: { givenName: 'Bob', familyName: 'Brown' },
      title: 'Manager',
      userType: 'Contractor',
      active: false,
      emails: [{ value: 'bob@example.org', type: 'work' }],
      [ENTERPRISE]: { department: 'Sales' },
    })
    // Later lastModified for carol and dave, for the dateTime filters.
    await sleep(30)
    users.carol = await create('/Users', {
      schemas: [USER],
      userName: 'carol.list',
      externalId: 'EXT-c',
      // Lower-case on purpose: sorting on a caseExact-false attribute ignores case (RFC 7644 §3.4.2.3).
      displayName: 'carol Chen',
      name: { givenName: 'Carol', familyName: 'Chen' },
      userType: 'Employee',
      active: true,
      emails: [{ value: 'carol@example.com', type: 'home' }],
    })
    users.dave = await create('/Users', {
      schemas: [USER],
      userName: 'dave.list',
      displayName: 'Dave Davis',
      nickName: 'D',
      name: { givenName: 'Dave', familyName: 'Davis' },
      title: 'Engineer',
      userType: 'Intern',
      active: true,
    })
    groups.design = await create('/Groups', { schemas: [GROUP], displayName: 'Design', members: [{ value: users.alice.id }] })
    groups.teamRed = await create('/Groups', { schemas: [GROUP], displayName: 'Team Red', members: [{ value: users.bob.id }, { value: users.carol.id }] })
  })
  after(async () => {
    await srv.close()
  })

  /** Replaces {alice.id}, {bob.lastModified}, {design.id} … in a filter template with the fixture's values. */
  const fill = (template: string): string =>
    template.replace(/\{(\w+)\.(\w+)\}/g, (_, who: string, field: string) => {
      const r = (users as Record<string, any>)[who] ?? (groups as Record<string, any>)[who]
      return field === 'id' ? r.id : r.meta[field]
    })

  async function listUsers(params: Record<string, string | number>): Promise<ScimResponse> {
    return srv.request('GET', `/Users?${query(params)}`)
  }

  async function filterUsers(filter: string): Promise<string[]> {
    const res = await listUsers({ filter, count: 100 })
    assertStatus(res, 200)
    assert.deepEqual(res.body.schemas, [LIST_RESPONSE])
    const names = (res.body.Resources ?? []).map(shortName).sort()
    assert.equal(res.body.totalResults, names.length, `totalResults for ${filter}`)
    return names
  }

  describe('filter (RFC 7644 §3.4.2.2)', () => {
    const cases: readonly { filter: string; expected: string[]; why: string }[] = [
      { filter: 'userName eq "alice.list"', expected: ['alice'], why: 'eq' },
      { filter: 'userName eq "ALICE.LIST"', expected: ['alice'], why: 'userName eq is case-insensitive (RFC 7643 §4.1.1 caseExact false)' },
      { filter: 'userName EQ "bob.list"', expected: ['bob'], why: 'operators are case-insensitive' },
      { filter: 'UserName eq "bob.list"', expected: ['bob'], why: 'attribute names are case-insensitive (RFC 7643 §2.1)' },
      { filter: 'externalId eq "EXT-a"', expected: ['alice'], why: 'externalId eq' },
      { filter: 'externalId eq "ext-a"', expected: [], why: 'externalId is caseExact (RFC 7643 §3.1)' },
      { filter: 'externalId eq "ext-b"', expected: ['bob'], why: 'externalId caseExact, exact case' },
      { filter: 'userName ne "alice.list"', expected: ['bob', 'carol', 'dave'], why: 'ne' },
      { filter: 'displayName co "o"', expected: ['bob', 'carol'], why: 'co' },
      { filter: 'displayName co "ANDERS"', expected: ['alice'], why: 'co is case-insensitive on caseExact false' },
      { filter: 'userName sw "c"', expected: ['carol'], why: 'sw' },
      { filter: 'displayName ew "S"', expected: ['alice', 'dave'], why: 'ew' },
      { filter: 'userName gt "bob.list"', expected: ['carol', 'dave'], why: 'gt on a string' },
      { filter: 'userName ge "bob.list"', expected: ['bob', 'carol', 'dave'], why: 'ge on a string' },
      { filter: 'userName lt "BOB.LIST"', expected: ['alice'], why: 'lt, case-insensitive' },
      { filter: 'userName le "bob.list"', expected: ['alice', 'bob'], why: 'le on a string' },
      { filter: 'title pr', expected: ['alice', 'bob', 'dave'], why: 'pr' },
      { filter: 'nickName pr', expected: ['dave'], why: 'pr on a rarely set attribute' },
      { filter: 'active eq true', expected: ['alice', 'carol', 'dave'], why: 'boolean true' },
      { filter: 'active eq false', expected: ['bob'], why: 'boolean false' },
      { filter: 'active ne true', expected: ['bob'], why: 'boolean ne' },
      { filter: 'title eq "Engineer" and userType eq "Employee"', expected: ['alice'], why: 'and' },
      { filter: 'userType eq "Contractor" or userType eq "Intern"', expected: ['bob', 'dave'], why: 'or' },
      { filter: 'not (title pr)', expected: ['carol'], why: 'not' },
      { filter: 'not (userName eq "alice.list") and active eq true', expected: ['carol', 'dave'], why: 'not binds to its parentheses' },
      { filter: 'userType eq "Employee" or title pr and active eq false', expected: ['alice', 'bob', 'carol'], why: '"and" binds tighter than "or"' },
      { filter: '(userType eq "Employee" or title pr) and active eq false', expected: ['bob'], why: 'parentheses override precedence' },
      { filter: 'userType eq "Employee" and (title eq "Engineer" or displayName sw "carol")', expected: ['alice', 'carol'], why: 'parenthesised or inside and' },
      { filter: 'emails[type eq "work" and value co "example.com"]', expected: ['alice'], why: 'valuePath: both conditions on the same email' },
      { filter: 'emails[type eq "home" and value co "example.com"]', expected: ['carol'], why: 'valuePath does not mix values of different emails' },
      { filter: 'emails[type eq "work"] and active eq false', expected: ['bob'], why: 'valuePath inside and' },
      { filter: 'emails.value co "example.org"', expected: ['bob'], why: 'sub-attribute of a multi-valued attribute' },
      { filter: 'emails.type eq "home"', expected: ['alice', 'carol'], why: 'any value matches' },
      { filter: 'emails co "carol@"', expected: ['carol'], why: 'a complex attribute compares its value sub-attribute' },
      { filter: 'name.familyName eq "anders"', expected: ['alice'], why: 'sub-attribute of a complex attribute' },
      { filter: 'name.givenName sw "A" or nickName pr', expected: ['alice', 'dave'], why: 'sub-attribute in or' },
      { filter: `${USER}:userName eq "bob.list"`, expected: ['bob'], why: 'URN-qualified core attribute' },
      { filter: `${USER}:name.givenName eq "Carol"`, expected: ['carol'], why: 'URN-qualified sub-attribute' },
      { filter: `${ENTERPRISE}:department eq "Eng"`, expected: ['alice'], why: 'URN-qualified extension attribute' },
      { filter: `${ENTERPRISE}:employeeNumber pr`, expected: ['alice'], why: 'pr on an extension attribute' },
      { filter: `schemas eq "${ENTERPRISE}"`, expected: ['alice', 'bob'], why: 'schemas (RFC 7644 §3.4.2.2 example)' },
      { filter: 'meta.resourceType eq "User"', expected: ['alice', 'bob', 'carol', 'dave'], why: 'meta.resourceType' },
      { filter: 'id eq "{carol.id}"', expected: ['carol'], why: 'id' },
      { filter: 'meta.lastModified gt "{bob.lastModified}"', expected: ['carol', 'dave'], why: 'dateTime gt' },
      { filter: 'meta.lastModified ge "{bob.lastModified}"', expected: ['bob', 'carol', 'dave'], why: 'dateTime ge' },
      { filter: 'meta.lastModified lt "{carol.lastModified}"', expected: ['alice', 'bob'], why: 'dateTime lt' },
      { filter: 'meta.created le "{alice.created}"', expected: ['alice'], why: 'dateTime le on meta.created' },
      { filter: 'meta.lastModified gt "2000-01-01T00:00:00Z"', expected: ['alice', 'bob', 'carol', 'dave'], why: 'dateTime gt, all' },
      { filter: 'meta.lastModified lt "2000-01-01T00:00:00Z"', expected: [], why: 'dateTime lt, none' },
    ]
    for (const { filter, expected, why } of cases) {
      test(`GET /Users?filter=${filter} → [${expected.join(', ')}]: ${why} (RFC 7644 §3.4.2.2)`, async () => {
        assert.deepEqual(await filterUsers(fill(filter)), expected)
      })
    }

    const groupCases: readonly { filter: string; expected: string[]; why: string }[] = [
      { filter: 'displayName eq "design"', expected: ['Design'], why: 'displayName is caseExact false' },
      { filter: 'members[value eq "{bob.id}"]', expected: ['Team Red'], why: 'members valuePath' },
      { filter: 'members.value eq "{alice.id}"', expected: ['Design'], why: 'members.value' },
      { filter: 'id eq "{design.id}" and members[value eq "{alice.id}"]', expected: ['Design'], why: 'the membership check Entra ID sends' },
      { filter: 'id eq "{design.id}" and members[value eq "{bob.id}"]', expected: [], why: 'membership check, not a member' },
    ]
    for (const { filter, expected, why } of groupCases) {
      test(`GET /Groups?filter=${filter} → [${expected.join(', ')}]: ${why} (RFC 7644 §3.4.2.2)`, async () => {
        const res = await srv.request('GET', `/Groups?${query({ filter: fill(filter), excludedAttributes: 'members' })}`)
        assertStatus(res, 200)
        assert.deepEqual((res.body.Resources ?? []).map((g: any) => g.displayName).sort(), expected)
        assert.equal(res.body.totalResults, expected.length)
      })
    }

    const invalid: readonly { filter: string; why: string }[] = [
      { filter: 'userName eq', why: 'missing value' },
      { filter: 'userName xx "a"', why: 'unknown operator' },
      { filter: 'userName eq bjensen', why: 'unquoted string' },
      { filter: '(userName eq "a"', why: 'unclosed parenthesis' },
      { filter: 'userName eq "a")', why: 'unopened parenthesis' },
      { filter: 'userName eq "a', why: 'unterminated string' },
      { filter: 'title pr and', why: 'dangling and' },
      { filter: 'not userName eq "a"', why: 'not without parentheses' },
      { filter: 'emails[type eq "work"', why: 'unclosed valuePath' },
    ]
    for (const { filter, why } of invalid) {
      test(`GET /Users?filter=${filter} → 400 invalidFilter with the position: ${why} (RFC 7644 §3.4.2.2, §3.12)`, async () => {
        const res = await listUsers({ filter })
        assertScimError(res, 400, 'invalidFilter')
        assert.match(res.body.detail, /position \d+/)
      })
    }

    const unresolvable: readonly { filter: string; why: string }[] = [
      { filter: 'favouriteColour eq "blue"', why: 'unknown attribute' },
      { filter: 'name.nickname eq "x"', why: 'unknown sub-attribute' },
      { filter: 'password eq "secret"', why: 'a returned "never" attribute cannot be probed' },
      { filter: 'active gt true', why: 'gt on a boolean' },
      { filter: 'meta.lastModified gt "yesterday"', why: 'not a dateTime' },
    ]
    for (const { filter, why } of unresolvable) {
      test(`GET /Users?filter=${filter} → 400 invalidFilter: ${why} (RFC 7644 §3.4.2.2, §3.12)`, async () => {
        assertScimError(await listUsers({ filter }), 400, 'invalidFilter')
      })
    }
  })

  describe('paging (RFC 7644 §3.4.2.4)', () => {
    test('GET /Users without parameters lists every user in a ListResponse (RFC 7644 §3.4.2)', async () => {
      const resources = assertListResponse(await srv.request('GET', '/Users'), { totalResults: 4, itemsPerPage: 4, startIndex: 1 })
      assert.deepEqual(resources.map(shortName).sort(), ['alice', 'bob', 'carol', 'dave'])
    })

    const pages: readonly { params: Record<string, string | number>; expected: string[]; startIndex: number; why: string }[] = [
      { params: { startIndex: 1, count: 2 }, expected: ['alice', 'bob'], startIndex: 1, why: 'first page' },
      { params: { startIndex: 3, count: 2 }, expected: ['carol', 'dave'], startIndex: 3, why: 'second page, startIndex is 1-based' },
      { params: { startIndex: 4, count: 5 }, expected: ['dave'], startIndex: 4, why: 'a last page shorter than count' },
      { params: { startIndex: 2 }, expected: ['bob', 'carol', 'dave'], startIndex: 2, why: 'startIndex without count' },
      { params: { startIndex: 10, count: 5 }, expected: [], startIndex: 10, why: 'startIndex past the end: an empty page' },
      { params: { startIndex: 0, count: 1 }, expected: ['alice'], startIndex: 1, why: 'startIndex below 1 is read as 1' },
      { params: { startIndex: -3, count: 1 }, expected: ['alice'], startIndex: 1, why: 'negative startIndex is read as 1' },
    ]
    for (const { params, expected, startIndex, why } of pages) {
      test(`GET /Users?${query(params)} → [${expected.join(', ')}]: ${why} (RFC 7644 §3.4.2.4)`, async () => {
        const res = await listUsers({ ...params, sortBy: 'userName' })
        const resources = assertListResponse(res, { totalResults: 4, itemsPerPage: expected.length, startIndex })
        assert.deepEqual(resources.map(shortName), expected)
      })
    }

    for (const count of [0, -1]) {
      test(`GET /Users?count=${count} answers totalResults only, with no Resources (RFC 7644 §3.4.2.4)`, async () => {
        const res = await listUsers({ count })
        assertListResponse(res, { totalResults: 4, itemsPerPage: 0, startIndex: 1 })
        assert.ok(res.body.Resources === undefined || res.body.Resources.length === 0)
      })
    }

    test('count=0 with a filter counts the matches (RFC 7644 §3.4.2.4)', async () => {
      assertListResponse(await listUsers({ count: 0, filter: 'active eq true' }), { totalResults: 3, itemsPerPage: 0, startIndex: 1 })
    })

    test('paging walks every user exactly once (RFC 7644 §3.4.2.4)', async () => {
      const seen: string[] = []
      for (let startIndex = 1; startIndex <= 4; startIndex += 3) {
        const res = await listUsers({ startIndex, count: 3, sortBy: 'userName' })
        assertStatus(res, 200)
        seen.push(...(res.body.Resources ?? []).map(shortName))
      }
      assert.deepEqual(seen, ['alice', 'bob', 'carol', 'dave'])
    })
  })

  describe('sorting (RFC 7644 §3.4.2.3)', () => {
    const sorts: readonly { params: Record<string, string>; expected: string[]; why: string }[] = [
      { params: { sortBy: 'userName' }, expected: ['alice', 'bob', 'carol', 'dave'], why: 'ascending by default' },
      { params: { sortBy: 'userName', sortOrder: 'ascending' }, expected: ['alice', 'bob', 'carol', 'dave'], why: 'ascending' },
      { params: { sortBy: 'userName', sortOrder: 'descending' }, expected: ['dave', 'carol', 'bob', 'alice'], why: 'descending' },
      { params: { sortBy: 'displayName' }, expected: ['alice', 'bob', 'carol', 'dave'], why: 'case-insensitive for caseExact false ("carol Chen")' },
      { params: { sortBy: 'displayName', sortOrder: 'descending' }, expected: ['dave', 'carol', 'bob', 'alice'], why: 'case-insensitive, descending' },
      { params: { sortBy: 'name.familyName', sortOrder: 'descending' }, expected: ['dave', 'carol', 'bob', 'alice'], why: 'a sub-attribute' },
      { params: { sortBy: 'externalId' }, expected: ['alice', 'carol', 'bob', 'dave'], why: 'caseExact: "EXT-a" < "EXT-c" < "ext-b" in code point order; unassigned (dave) last' },
      { params: { sortBy: `${USER}:userName`, sortOrder: 'descending' }, expected: ['dave', 'carol', 'bob', 'alice'], why: 'a URN-qualified path' },
    ]
    for (const { params, expected, why } of sorts) {
      test(`GET /Users?${query(params)} → [${expected.join(', ')}]: ${why} (RFC 7644 §3.4.2.3)`, async () => {
        const res = await listUsers(params)
        assertStatus(res, 200)
        assert.deepEqual((res.body.Resources ?? []).map(shortName), expected)
      })
    }

    test('unassigned values sort last ascending and first descending (RFC 7644 §3.4.2.3)', async () => {
      const asc = (await listUsers({ sortBy: 'title' })).body.Resources.map((r: any) => r.title ?? null)
      assert.equal(asc.at(-1), null, `ascending: ${JSON.stringify(asc)}`)
      assert.deepEqual(asc.slice(0, 3), ['Engineer', 'Engineer', 'Manager'])
      const desc = (await listUsers({ sortBy: 'title', sortOrder: 'descending' })).body.Resources.map((r: any) => r.title ?? null)
      assert.equal(desc[0], null, `descending: ${JSON.stringify(desc)}`)
      assert.deepEqual(desc.slice(1), ['Manager', 'Engineer', 'Engineer'])
    })

    const badSorts: readonly { sortBy: string; why: string }[] = [
      { sortBy: 'favouriteColour', why: 'an unknown attribute' },
      { sortBy: 'name', why: 'a complex attribute: "the attribute name must be a path to a sub-attribute"' },
    ]
    for (const { sortBy, why } of badSorts) {
      test(`sortBy=${sortBy} → 400 invalidValue: ${why} (RFC 7644 §3.4.2.3, §3.12)`, async () => {
        assertScimError(await listUsers({ sortBy }), 400, 'invalidValue')
      })
    }
  })

  describe('attributes and excludedAttributes on lists (RFC 7644 §3.4.2.5, §3.9)', () => {
    test('attributes=userName returns id and userName only of the User attributes', async () => {
      const res = await listUsers({ attributes: 'userName', sortBy: 'userName' })
      assertStatus(res, 200)
      for (const r of res.body.Resources) {
        assert.equal(typeof r.id, 'string', 'id is returned "always" (RFC 7643 §3.1)')
        assert.equal(typeof r.userName, 'string')
        for (const gone of ['displayName', 'name', 'emails', 'title', 'active', ENTERPRISE]) assert.equal(gone in r, false, `${gone} not asked for`)
      }
    })

    test('attributes=name.givenName returns that sub-attribute only', async () => {
      const res = await listUsers({ attributes: 'name.givenName', filter: 'userName eq "alice.list"' })
      assertStatus(res, 200)
      assert.deepEqual(res.body.Resources[0].name, { givenName: 'Alice' })
      assert.equal(res.body.Resources[0].userName, undefined)
    })

    test('attributes with a URN-qualified extension attribute returns only it from the extension', async () => {
      const res = await listUsers({ attributes: `${ENTERPRISE}:department`, filter: 'userName eq "alice.list"' })
      assertStatus(res, 200)
      assert.deepEqual(res.body.Resources[0][ENTERPRISE], { department: 'Eng' })
      assert.equal(res.body.Resources[0].emails, undefined)
    })

    test('excludedAttributes=emails,name omits those and keeps the rest', async () => {
      const res = await listUsers({ excludedAttributes: 'emails,name', filter: 'userName eq "alice.list"' })
      assertStatus(res, 200)
      const r = res.body.Resources[0]
      assert.equal(r.emails, undefined)
      assert.equal(r.name, undefined)
      assert.equal(r.userName, 'alice.list')
      assert.equal(r.displayName, 'Alice Anders')
      assert.equal(r[ENTERPRISE]?.department, 'Eng')
    })

    test('excludedAttributes=id cannot remove an attribute returned "always" (RFC 7643 §2.2)', async () => {
      const res = await listUsers({ excludedAttributes: 'id', filter: 'userName eq "alice.list"' })
      assertStatus(res, 200)
      assert.equal(res.body.Resources[0].id, users.alice.id)
    })
  })

  describe('POST /.search (RFC 7644 §3.4.3)', () => {
    test('POST /Users/.search with filter, sort, paging and attributes', async () => {
      const res = await srv.request('POST', '/Users/.search', {
        schemas: [SEARCH_REQUEST],
        filter: 'userType eq "Employee"',
        sortBy: 'userName',
        sortOrder: 'descending',
        startIndex: 1,
        count: 10,
        attributes: ['userName', 'displayName'],
      })
      const resources = assertListResponse(res, { totalResults: 2, itemsPerPage: 2, startIndex: 1 })
      assert.deepEqual(resources.map(shortName), ['carol', 'alice'])
      for (const r of resources) assert.equal(r.emails, undefined)
      assert.equal(resources[0].displayName, 'carol Chen')
    })

    test('POST /Users/.search with excludedAttributes and a second page', async () => {
      const res = await srv.request('POST', '/Users/.search', { schemas: [SEARCH_REQUEST], sortBy: 'userName', startIndex: 2, count: 2, excludedAttributes: ['emails'] })
      const resources = assertListResponse(res, { totalResults: 4, itemsPerPage: 2, startIndex: 2 })
      assert.deepEqual(resources.map(shortName), ['bob', 'carol'])
      for (const r of resources) assert.equal(r.emails, undefined)
    })

    test('POST /Users/.search with an invalid filter → 400 invalidFilter', async () => {
      assertScimError(await srv.request('POST', '/Users/.search', { schemas: [SEARCH_REQUEST], filter: 'userName eq' }), 400, 'invalidFilter')
    })

    test('POST /Groups/.search finds groups', async () => {
      const res = await srv.request('POST', '/Groups/.search', { schemas: [SEARCH_REQUEST], filter: 'displayName sw "team"' })
      const resources = assertListResponse(res, { totalResults: 1, itemsPerPage: 1, startIndex: 1 })
      assert.equal(resources[0].id, groups.teamRed.id)
    })

    test('POST /.search at the root returns users and groups together', async () => {
      const res = await srv.request('POST', '/.search', { schemas: [SEARCH_REQUEST] })
      const resources = assertListResponse(res, { totalResults: 6, itemsPerPage: 6, startIndex: 1 })
      assert.deepEqual(resources.map((r) => r.meta.resourceType).sort(), ['Group', 'Group', 'User', 'User', 'User', 'User'])
      assert.deepEqual(resources.map((r) => r.id).sort(), [...Object.values(users), ...Object.values(groups)].map((r) => r.id).sort())
    })

    test('POST /.search at the root with a filter both types understand', async () => {
      const res = await srv.request('POST', '/.search', { schemas: [SEARCH_REQUEST], filter: 'displayName sw "D"', attributes: ['displayName'] })
      const resources = assertListResponse(res, { totalResults: 2, itemsPerPage: 2, startIndex: 1 })
      assert.deepEqual(resources.map((r) => r.displayName).sort(), ['Dave Davis', 'Design'])
      for (const r of resources) assert.equal(r.userName, undefined)
    })

    test('POST /.search at the root with a User-only attribute finds users only', async () => {
      const res = await srv.request('POST', '/.search', { schemas: [SEARCH_REQUEST], filter: 'userName sw "a"' })
      const resources = assertListResponse(res, { totalResults: 1, itemsPerPage: 1, startIndex: 1 })
      assert.equal(resources[0].id, users.alice.id)
    })

    test('POST /.search at the root pages across types', async () => {
      const first = await srv.request('POST', '/.search', { schemas: [SEARCH_REQUEST], startIndex: 1, count: 4 })
      const second = await srv.request('POST', '/.search', { schemas: [SEARCH_REQUEST], startIndex: 5, count: 4 })
      const a = assertListResponse(first, { totalResults: 6, itemsPerPage: 4, startIndex: 1 })
      const b = assertListResponse(second, { totalResults: 6, itemsPerPage: 2, startIndex: 5 })
      assert.equal(new Set([...a, ...b].map((r) => r.id)).size, 6)
    })

    test('POST /.search at the root with a filter no type understands → 400 invalidFilter', async () => {
      assertScimError(await srv.request('POST', '/.search', { schemas: [SEARCH_REQUEST], filter: 'favouriteColour eq "blue"' }), 400, 'invalidFilter')
    })
  })
})

describe('maxResults caps count (RFC 7644 §3.4.2.4, RFC 7643 §5)', () => {
  let srv: TestServer

  before(async () => {
    srv = await startTestServer({ ROSTER_MAX_RESULTS: '2' })
    for (const userName of ['m1', 'm2', 'm3']) assertStatus(await srv.request('POST', '/Users', { schemas: [USER], userName }), 201)
  })
  after(async () => {
    await srv.close()
  })

  test('ServiceProviderConfig advertises filter.maxResults (RFC 7643 §5)', async () => {
    const res = await srv.request('GET', '/ServiceProviderConfig')
    assertStatus(res, 200)
    assert.equal(res.body.filter.maxResults, 2)
  })

  const capped: readonly { title: string; send: (s: TestServer) => Promise<ScimResponse> }[] = [
    { title: 'GET /Users?count=10', send: (s) => s.request('GET', '/Users?count=10') },
    { title: 'GET /Users without count', send: (s) => s.request('GET', '/Users') },
    { title: 'POST /Users/.search with count 10', send: (s) => s.request('POST', '/Users/.search', { schemas: [SEARCH_REQUEST], count: 10 }) },
    { title: 'POST /.search with count 10', send: (s) => s.request('POST', '/.search', { schemas: [SEARCH_REQUEST], count: 10 }) },
  ]
  for (const { title, send } of capped) {
    test(`${title} returns at most maxResults with the full totalResults (RFC 7644 §3.4.2.4)`, async () => {
      assertListResponse(await send(srv), { totalResults: 3, itemsPerPage: 2, startIndex: 1 })
    })
  }
})
