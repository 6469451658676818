import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { assertStatus, assertScimError, ERROR_SCHEMA, startTestServer, type ScimResponse, type TestOrg, type TestServer } from './harness.js'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest'
const SEARCH_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest'
const ACME = 'urn:ietf:params:scim:schemas:extension:acme:2.0:User'
const SCIM_JSON = /^application\/scim\+json/

const ACME_SCHEMA = {
  id: ACME,
  name: 'AcmeUser',
  attributes: [{ name: 'badgeNumber', type: 'string', multiValued: false, required: false }],
}

const patchBody = (...Operations: unknown[]) => ({ schemas: [PATCH_OP], Operations })
const ids = (list: any): string[] => (list.Resources ?? []).map((r: any) => r.id).sort()

/** Every endpoint of the SCIM API, with a request the right organization's token would get answered. */
interface Endpoint {
  readonly method: string
  /** {user} and {group} stand for the fixture's ids. */
  readonly path: string
  readonly body?: (f: Fixture) => unknown
}

const ENDPOINTS: readonly Endpoint[] = [
  { method: 'GET', path: '/Users' },
  { method: 'GET', path: '/Users/{user}' },
  { method: 'POST', path: '/Users', body: () => ({ schemas: [USER], userName: 'intruder@example.com' }) },
  { method: 'PUT', path: '/Users/{user}', body: () => ({ schemas: [USER], userName: 'intruder@example.com' }) },
  { method: 'PATCH', path: '/Users/{user}', body: () => patchBody({ op: 'replace', path: 'displayName', value: 'Intruder' }) },
  { method: 'DELETE', path: '/Users/{user}' },
  { method: 'POST', path: '/Users/.search', body: () => ({ schemas: [SEARCH_REQUEST] }) },
  { method: 'GET', path: '/Groups' },
  { method: 'GET', path: '/Groups/{group}' },
  { method: 'POST', path: '/Groups', body: () => ({ schemas: [GROUP], displayName: 'Intruders' }) },
  { method: 'PUT', path: '/Groups/{group}', body: () => ({ schemas: [GROUP], displayName: 'Intruders' }) },
  { method: 'PATCH', path: '/Groups/{group}', body: () => patchBody({ op: 'remove', path: 'members' }) },
  { method: 'DELETE', path: '/Groups/{group}' },
  { method: 'POST', path: '/Groups/.search', body: () => ({ schemas: [SEARCH_REQUEST] }) },
  { method: 'POST', path: '/.search', body: () => ({ schemas: [SEARCH_REQUEST] }) },
  { method: 'POST', path: '/Bulk', body: (f) => ({ schemas: [BULK_REQUEST], Operations: [{ method: 'DELETE', path: `/Users/${f.user.id}` }] }) },
  { method: 'GET', path: '/ServiceProviderConfig' },
  { method: 'GET', path: '/ResourceTypes' },
  { method: 'GET', path: '/ResourceTypes/User' },
  { method: 'GET', path: '/Schemas' },
  { method: 'GET', path: `/Schemas/${USER}` },
  { method: 'GET', path: '/Me' },
  { method: 'GET', path: '/NoSuchEndpoint' },
]

const fill = (path: string, f: Fixture) => path.replace('{user}', f.user.id).replace('{group}', f.group.id)

/** An organization with one user and one group (the user its member). */
interface Fixture {
  readonly org: TestOrg
  readonly user: any
  readonly group: any
}

async function populate(org: TestOrg, tag: string): Promise<Fixture> {
  const u = await org.request('POST', '/Users', { schemas: [USER], userName: `shared.${tag}@example.com`, externalId: `ext-${tag}`, displayName: `User ${tag}` })
  assertStatus(u, 201)
  const g = await org.request('POST', '/Groups', { schemas: [GROUP], displayName: `Group ${tag}`, members: [{ value: u.body.id }] })
  assertStatus(g, 201)
  return { org, user: u.body, group: g.body }
}

describe('Organizations: each is isolated behind its own SCIM base URL', () => {
  let srv: TestServer
  let a: Fixture
  let b: Fixture
  /** What an invalid token gets: every refusal below must be indistinguishable from it. */
  let invalidTokenBody: unknown

  before(async () => {
    srv = await startTestServer()
    a = await populate(await srv.org('org-a', { extensionSchemas: [ACME_SCHEMA] }), 'a')
    b = await populate(await srv.org('org-b'), 'b')
    const invalid = await b.org.request('GET', '/Users', undefined, { authorization: 'Bearer rst_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' })
    assertScimError(invalid, 401)
    invalidTokenBody = invalid.body
  })
  after(async () => {
    await srv.close()
  })

  describe("A's token on B's URL → 401, the same body as an invalid token", () => {
    for (const endpoint of ENDPOINTS) {
      test(`${endpoint.method} ${endpoint.path}`, async () => {
        const res = await srv.send(endpoint.method, `/o/org-b/scim/v2${fill(endpoint.path, b)}`, a.org.token, endpoint.body?.(b))
        assertScimError(res, 401)
        assert.deepEqual(res.body, invalidTokenBody)
        assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer /)
      })
    }

    test("B's resources are unchanged after every refused request", async () => {
      const user = await b.org.request('GET', `/Users/${b.user.id}`)
      assertStatus(user, 200)
      assert.equal(user.body.displayName, 'User b')
      assert.equal(user.body.meta.version, b.user.meta.version)
      const group = await b.org.request('GET', `/Groups/${b.group.id}`)
      assertStatus(group, 200)
      assert.deepEqual(group.body.members.map((m: any) => m.value), [b.user.id])
      const users = await b.org.request('GET', '/Users')
      assert.deepEqual(ids(users.body), [b.user.id])
    })
  })

  test('an unknown organization answers 401 with the same body, for a valid token as for none (no enumeration)', async () => {
    // Not %2e%2e: fetch resolves /o/%2e%2e/scim/v2 to /scim/v2 before sending (WHATWG URL dot segments).
    for (const org of ['no-such-org', 'Org-A', 'ORG-B', 'a'.repeat(70), 'org-a%2Fscim', '%00']) {
      for (const token of [a.org.token, srv.token]) {
        const res = await srv.send('GET', `/o/${org}/scim/v2/Users`, token)
        assertScimError(res, 401)
        assert.deepEqual(res.body, invalidTokenBody, `GET /o/${org}/scim/v2/Users`)
      }
    }
  })

  test("the default organization's token on an organization's URL, and an organization's token on /scim/v2 → 401", async () => {
    const defaultOnA = await srv.send('GET', '/o/org-a/scim/v2/Users', srv.token)
    assertScimError(defaultOnA, 401)
    assert.deepEqual(defaultOnA.body, invalidTokenBody)
    const aOnDefault = await srv.request('GET', '/Users', undefined, { authorization: `Bearer ${a.org.token}` })
    assertScimError(aOnDefault, 401)
    assert.deepEqual(aOnDefault.body, invalidTokenBody)
  })

  describe("with its own token on its own URL, A never reaches B's resources", () => {
    test("GET B's user and group by id → 404", async () => {
      assertScimError(await a.org.request('GET', `/Users/${b.user.id}`), 404)
      assertScimError(await a.org.request('GET', `/Groups/${b.group.id}`), 404)
    })

    test("a filter on B's userName, externalId or id matches nothing; the same filter in B finds it", async () => {
      for (const filter of [`userName eq "${b.user.userName}"`, `externalId eq "ext-b"`, `id eq "${b.user.id}"`, `userName sw "shared."`]) {
        const inA = await a.org.request('GET', `/Users?filter=${encodeURIComponent(filter)}`)
        assertStatus(inA, 200)
        assert.ok(!ids(inA.body).includes(b.user.id), `${filter} in A`)
        const inB = await b.org.request('GET', `/Users?filter=${encodeURIComponent(filter)}`)
        assert.deepEqual(ids(inB.body), [b.user.id], `${filter} in B`)
      }
      const groups = await a.org.request('GET', `/Groups?filter=${encodeURIComponent(`displayName eq "Group b"`)}`)
      assert.equal(groups.body.totalResults, 0)
    })

    test('counts and pages hold only its own resources (count=0, startIndex, cursor)', async () => {
      const count = await a.org.request('GET', '/Users?count=0')
      assert.equal(count.body.totalResults, 1)
      const page = await a.org.request('GET', '/Users?startIndex=1&count=10')
      assert.deepEqual(ids(page.body), [a.user.id])
      const cursor = await a.org.request('GET', '/Users?cursor=&count=1')
      assertStatus(cursor, 200)
      assert.deepEqual(ids(cursor.body), [a.user.id])
      assert.equal(cursor.body.nextCursor, undefined)
      const groups = await a.org.request('GET', '/Groups?count=0')
      assert.equal(groups.body.totalResults, 1)
    })

    test('searches per type and at the root find only its own resources', async () => {
      const users = await a.org.request('POST', '/Users/.search', { schemas: [SEARCH_REQUEST], filter: `id eq "${b.user.id}"` })
      assertStatus(users, 200)
      assert.equal(users.body.totalResults, 0)
      const groups = await a.org.request('POST', '/Groups/.search', { schemas: [SEARCH_REQUEST] })
      assert.deepEqual(ids(groups.body), [a.group.id])
      const root = await a.org.request('POST', '/.search', { schemas: [SEARCH_REQUEST] })
      assertStatus(root, 200)
      assert.deepEqual(ids(root.body), [a.group.id, a.user.id].sort())
      const rootById = await a.org.request('POST', '/.search', { schemas: [SEARCH_REQUEST], filter: `id eq "${b.user.id}" or id eq "${b.group.id}"` })
      assert.equal(rootById.body.totalResults, 0)
    })

    test("PATCH, PUT and DELETE of B's user and group → 404, and B's stay as they were", async () => {
      assertScimError(await a.org.request('PATCH', `/Users/${b.user.id}`, patchBody({ op: 'replace', path: 'displayName', value: 'Hijacked' })), 404)
      assertScimError(await a.org.request('PUT', `/Users/${b.user.id}`, { schemas: [USER], userName: 'hijacked@example.com' }), 404)
      assertScimError(await a.org.request('DELETE', `/Users/${b.user.id}`), 404)
      assertScimError(await a.org.request('PATCH', `/Groups/${b.group.id}`, patchBody({ op: 'add', path: 'members', value: [{ value: a.user.id }] })), 404)
      assertScimError(await a.org.request('PUT', `/Groups/${b.group.id}`, { schemas: [GROUP], displayName: 'Hijacked' }), 404)
      assertScimError(await a.org.request('DELETE', `/Groups/${b.group.id}`), 404)
      const user = await b.org.request('GET', `/Users/${b.user.id}`)
      assert.equal(user.body.userName, b.user.userName)
      assert.equal(user.body.meta.version, b.user.meta.version)
      const group = await b.org.request('GET', `/Groups/${b.group.id}`)
      assert.equal(group.body.displayName, 'Group b')
      assert.deepEqual(group.body.members.map((m: any) => m.value), [b.user.id])
    })

    test("B's user cannot be a member of A's group: POST, PUT and PATCH → 400 invalidValue (RFC 7643 §4.2)", async () => {
      assertScimError(await a.org.request('POST', '/Groups', { schemas: [GROUP], displayName: 'Mixed', members: [{ value: b.user.id }] }), 400, 'invalidValue')
      assertScimError(await a.org.request('PATCH', `/Groups/${a.group.id}`, patchBody({ op: 'add', path: 'members', value: [{ value: b.user.id }] })), 400, 'invalidValue')
      assertScimError(await a.org.request('PUT', `/Groups/${a.group.id}`, { schemas: [GROUP], displayName: 'Group a', members: [{ value: b.user.id }] }), 400, 'invalidValue')
      assertScimError(await a.org.request('PATCH', `/Groups/${a.group.id}`, patchBody({ op: 'add', path: 'members', value: [{ value: b.group.id }] })), 400, 'invalidValue')
      const group = await a.org.request('GET', `/Groups/${a.group.id}`)
      assert.deepEqual(group.body.members.map((m: any) => m.value), [a.user.id])
      const user = await b.org.request('GET', `/Users/${b.user.id}`)
      assert.deepEqual(user.body.groups.map((g: any) => g.value), [b.group.id], "B's user is in B's group only")
    })

    test("Bulk cannot reach B's resources: member references → 400 invalidValue, PUT/PATCH/DELETE → 404", async () => {
      const res = await a.org.request('POST', '/Bulk', {
        schemas: [BULK_REQUEST],
        Operations: [
          { method: 'POST', path: '/Groups', bulkId: 'g1', data: { schemas: [GROUP], displayName: 'Bulk mixed', members: [{ value: b.user.id }] } },
          { method: 'PATCH', path: `/Groups/${a.group.id}`, data: patchBody({ op: 'add', path: 'members', value: [{ value: b.user.id }] }) },
          { method: 'PATCH', path: `/Users/${b.user.id}`, data: patchBody({ op: 'replace', path: 'displayName', value: 'Hijacked' }) },
          { method: 'PUT', path: `/Groups/${b.group.id}`, data: { schemas: [GROUP], displayName: 'Hijacked' } },
          { method: 'DELETE', path: `/Users/${b.user.id}` },
          { method: 'DELETE', path: `/Groups/${b.group.id}` },
        ],
      })
      assertStatus(res, 200)
      const statuses = res.body.Operations.map((o: any) => o.status)
      assert.deepEqual(statuses, ['400', '400', '404', '404', '404', '404'])
      assert.equal(res.body.Operations[0].response.scimType, 'invalidValue')
      assert.equal(res.body.Operations[1].response.scimType, 'invalidValue')
      const user = await b.org.request('GET', `/Users/${b.user.id}`)
      assertStatus(user, 200)
      assert.equal(user.body.displayName, 'User b')
      const group = await b.org.request('GET', `/Groups/${b.group.id}`)
      assert.equal(group.body.displayName, 'Group b')
    })

    test('the same userName may exist in two organizations (uniqueness is per organization)', async () => {
      const res = await a.org.request('POST', '/Users', { schemas: [USER], userName: b.user.userName.toUpperCase() })
      assertStatus(res, 201)
      assertStatus(await a.org.request('DELETE', `/Users/${res.body.id}`), 204)
    })
  })

  describe('locations name the base URL the client used', () => {
    test("meta.location, Location, member $ref and groups $ref under /o/{org}/scim/v2", async () => {
      const res = await a.org.request('POST', '/Users', { schemas: [USER], userName: 'located@example.com' })
      assertStatus(res, 201)
      assert.equal(res.body.meta.location, `${a.org.baseUrl}/Users/${res.body.id}`)
      assert.equal(res.headers.get('location'), res.body.meta.location)
      const group = await a.org.request('GET', `/Groups/${a.group.id}`)
      assert.equal(group.body.meta.location, `${a.org.baseUrl}/Groups/${a.group.id}`)
      assert.equal(group.body.members[0].$ref, `${a.org.baseUrl}/Users/${a.user.id}`)
      const user = await a.org.request('GET', `/Users/${a.user.id}`)
      assert.equal(user.body.groups[0].$ref, `${a.org.baseUrl}/Groups/${a.group.id}`)
      const spc = await a.org.request('GET', '/ServiceProviderConfig')
      assert.equal(spc.body.meta.location, `${a.org.baseUrl}/ServiceProviderConfig`)
      assertStatus(await a.org.request('DELETE', `/Users/${res.body.id}`), 204)
    })

    test('the default organization answers at /scim/v2 and at /o/default/scim/v2, each with its own locations', async () => {
      const created = await srv.request('POST', '/Users', { schemas: [USER], userName: 'default.user@example.com' })
      assertStatus(created, 201)
      assert.equal(created.body.meta.location, `${srv.baseUrl}/Users/${created.body.id}`)
      const viaOrg = await srv.send('GET', `/o/default/scim/v2/Users/${created.body.id}`, srv.token)
      assertStatus(viaOrg, 200)
      assert.equal(viaOrg.body.meta.location, `${srv.origin}/o/default/scim/v2/Users/${created.body.id}`)
      const list = await srv.request('GET', '/Users')
      assert.deepEqual(ids(list.body), [created.body.id], "the default organization sees none of the others' users")
    })
  })

  describe('discovery per organization', () => {
    test("A's /Schemas and /ResourceTypes show its extension schema; B's do not", async () => {
      const schemasA = await a.org.request('GET', '/Schemas')
      assertStatus(schemasA, 200)
      assert.ok(schemasA.body.Resources.some((s: any) => s.id === ACME))
      assertStatus(await a.org.request('GET', `/Schemas/${ACME}`), 200)
      const userA = await a.org.request('GET', '/ResourceTypes/User')
      assert.deepEqual(userA.body.schemaExtensions.map((e: any) => e.schema), [ENTERPRISE, ACME])

      const schemasB = await b.org.request('GET', '/Schemas')
      assert.ok(!schemasB.body.Resources.some((s: any) => s.id === ACME))
      assertScimError(await b.org.request('GET', `/Schemas/${ACME}`), 404)
      const userB = await b.org.request('GET', '/ResourceTypes/User')
      assert.deepEqual(userB.body.schemaExtensions.map((e: any) => e.schema), [ENTERPRISE])
      const defaultSchemas = await srv.request('GET', '/Schemas')
      assert.ok(!defaultSchemas.body.Resources.some((s: any) => s.id === ACME))
    })

    test("A's extension is validated and stored in A; in B the same attribute is refused", async () => {
      const inA = await a.org.request('POST', '/Users', { schemas: [USER, ACME], userName: 'badge@example.com', [ACME]: { badgeNumber: 'B-7' } })
      assertStatus(inA, 201)
      assert.equal(inA.body[ACME].badgeNumber, 'B-7')
      const found = await a.org.request('GET', `/Users?filter=${encodeURIComponent(`${ACME}:badgeNumber eq "B-7"`)}`)
      assert.deepEqual(ids(found.body), [inA.body.id])
      const inB = await b.org.request('POST', '/Users', { schemas: [USER, ACME], userName: 'badge@example.com', [ACME]: { badgeNumber: 'B-7' } })
      assert.equal(inB.status, 400, inB.text)
      assertScimError(await b.org.request('GET', `/Users?filter=${encodeURIComponent(`${ACME}:badgeNumber eq "B-7"`)}`), 400, 'invalidFilter')
      assertStatus(await a.org.request('DELETE', `/Users/${inA.body.id}`), 204)
    })

    test('a change to the settings applies at once to the next request (extension schema added to B)', async () => {
      await srv.roster.tenants.updateSettings('org-b', { extensionSchemas: [ACME_SCHEMA] })
      try {
        const schemasB = await b.org.request('GET', '/Schemas')
        assert.ok(schemasB.body.Resources.some((s: any) => s.id === ACME))
      } finally {
        await srv.roster.tenants.updateSettings('org-b', { extensionSchemas: [] })
      }
      const after = await b.org.request('GET', '/Schemas')
      assert.ok(!after.body.Resources.some((s: any) => s.id === ACME))
    })
  })

  describe('an organization that serves Users only', () => {
    let c: TestOrg
    let user: any

    before(async () => {
      c = await srv.org('users-only', { resourceTypes: ['User'] })
      const res = await c.request('POST', '/Users', { schemas: [USER], userName: 'only.user@example.com' })
      assertStatus(res, 201)
      user = res.body
    })

    for (const [method, path, body] of [
      ['GET', '/Groups'],
      ['POST', '/Groups', { schemas: [GROUP], displayName: 'Nope' }],
      ['GET', '/Groups/00000000-0000-0000-0000-000000000000'],
      ['PATCH', '/Groups/00000000-0000-0000-0000-000000000000', patchBody({ op: 'remove', path: 'members' })],
      ['PUT', '/Groups/00000000-0000-0000-0000-000000000000', { schemas: [GROUP], displayName: 'Nope' }],
      ['DELETE', '/Groups/00000000-0000-0000-0000-000000000000'],
      ['POST', '/Groups/.search', { schemas: [SEARCH_REQUEST] }],
      ['GET', '/ResourceTypes/Group'],
      ['GET', `/Schemas/${GROUP}`],
    ] as [string, string, unknown?][]) {
      test(`${method} ${path} → 404 SCIM error`, async () => {
        assertScimError(await c.request(method, path, body), 404)
      })
    }

    test('discovery lists the User type and its schemas only; a user has no groups attribute to list', async () => {
      const types = await c.request('GET', '/ResourceTypes')
      assert.deepEqual(types.body.Resources.map((t: any) => t.name), ['User'])
      assert.equal(types.body.totalResults, 1)
      const schemas = await c.request('GET', '/Schemas')
      assert.deepEqual(schemas.body.Resources.map((s: any) => s.id).sort(), [ENTERPRISE, USER].sort())
      const got = await c.request('GET', `/Users/${user.id}`)
      assertStatus(got, 200)
    })

    test('the root search reads Users only, and a Bulk operation on /Groups is 404', async () => {
      const root = await c.request('POST', '/.search', { schemas: [SEARCH_REQUEST] })
      assertStatus(root, 200)
      assert.deepEqual(ids(root.body), [user.id])
      const bulk = await c.request('POST', '/Bulk', {
        schemas: [BULK_REQUEST],
        Operations: [
          { method: 'POST', path: '/Groups', bulkId: 'g', data: { schemas: [GROUP], displayName: 'Nope' } },
          { method: 'POST', path: '/Users', bulkId: 'u', data: { schemas: [USER], userName: 'bulk.only@example.com' } },
        ],
      })
      assertStatus(bulk, 200)
      assert.deepEqual(bulk.body.Operations.map((o: any) => o.status), ['404', '201'])
    })
  })

  test('the default organization at /scim/v2 keeps working: create, read, patch, delete', async () => {
    const created = await srv.request('POST', '/Users', { schemas: [USER], userName: 'still.default@example.com' })
    assertStatus(created, 201)
    assertStatus(await srv.request('PATCH', `/Users/${created.body.id}`, patchBody({ op: 'replace', path: 'displayName', value: 'Still' })), 200)
    const got = await srv.request('GET', `/Users/${created.body.id}`)
    assert.equal(got.body.displayName, 'Still')
    assertScimError(await a.org.request('GET', `/Users/${created.body.id}`), 404)
    assertStatus(await srv.request('DELETE', `/Users/${created.body.id}`), 204)
  })
})
