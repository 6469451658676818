import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { assertStatus, assertScimError, ERROR_SCHEMA, startTestServer, type ScimResponse, type TestServer } from './harness.js'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const SCIM_JSON = /^application\/scim\+json/

let seq = 0
const unique = (prefix: string) => `${prefix}.${process.pid}.${++seq}`
const patchBody = (...Operations: unknown[]) => ({ schemas: [PATCH_OP], Operations })
const memberIds = (g: any): string[] => (g.members ?? []).map((m: any) => m.value).sort()
const sorted = (...ids: string[]) => [...ids].sort()
const groupIds = (u: any): string[] => (u.groups ?? []).map((g: any) => g.value).sort()

describe('Groups over HTTP', () => {
  let srv: TestServer

  before(async () => {
    srv = await startTestServer()
  })
  after(async () => {
    await srv.close()
  })

  async function createUser(displayName?: string): Promise<any> {
    const res = await srv.request('POST', '/Users', { schemas: [USER], userName: unique('member'), ...(displayName ? { displayName } : {}) })
    assertStatus(res, 201)
    return res.body
  }

  async function createGroup(displayName: string, members: string[] = []): Promise<any> {
    const res = await srv.request('POST', '/Groups', { schemas: [GROUP], displayName, members: members.map((value) => ({ value })) })
    assertStatus(res, 201)
    return res.body
  }

  async function get(path: string): Promise<any> {
    const res = await srv.request('GET', path)
    assertStatus(res, 200)
    return res.body
  }

  /** alice and bob in Engineering; Engineering (a group) and carol in Org. */
  async function nestedFixture() {
    const alice = await createUser('Alice Adams')
    const bob = await createUser('Bob Burns')
    const carol = await createUser('Carol Cole')
    const engineering = await createGroup(unique('Engineering'), [alice.id, bob.id])
    const org = await createGroup(unique('Org'), [engineering.id, carol.id])
    return { alice, bob, carol, engineering, org }
  }

  test('POST /Groups with users and a nested group answers 201 with Location and ETag (RFC 7644 §3.3, RFC 7643 §4.2)', async () => {
    const alice = await createUser('Alice')
    const inner = await createGroup(unique('Inner'))
    const displayName = unique('Outer')
    const res = await srv.request('POST', '/Groups', { schemas: [GROUP], displayName, members: [{ value: alice.id }, { value: inner.id }] })
    assertStatus(res, 201)
    assert.match(res.headers.get('content-type') ?? '', SCIM_JSON)
    assert.equal(res.body.displayName, displayName)
    assert.equal(res.body.meta.resourceType, 'Group')
    assert.equal(res.headers.get('location'), res.body.meta.location)
    assert.equal(res.body.meta.location, `${srv.baseUrl}/Groups/${res.body.id}`)
    assert.equal(res.headers.get('etag'), res.body.meta.version)
    assert.deepEqual(memberIds(res.body), sorted(alice.id, inner.id))
  })

  test('GET /Groups/{id} shows members with value, $ref, display and type (RFC 7643 §4.2)', async () => {
    const { carol, engineering, org } = await nestedFixture()
    const g = await get(`/Groups/${org.id}`)
    assert.equal(g.members.length, 2)
    const byValue = new Map<string, any>(g.members.map((m: any) => [m.value, m]))
    assert.deepEqual(byValue.get(carol.id), { value: carol.id, $ref: `${srv.baseUrl}/Users/${carol.id}`, display: 'Carol Cole', type: 'User' })
    assert.deepEqual(byValue.get(engineering.id), {
      value: engineering.id,
      $ref: `${srv.baseUrl}/Groups/${engineering.id}`,
      display: engineering.displayName,
      type: 'Group',
    })
  })

  test("a user's groups attribute lists direct and indirect groups (RFC 7643 §4.1.2)", async () => {
    const { alice, carol, engineering, org } = await nestedFixture()
    const a = await get(`/Users/${alice.id}`)
    const groups = [...(a.groups ?? [])].sort((x: any, y: any) => (x.type < y.type ? -1 : 1))
    assert.deepEqual(groups, [
      { value: engineering.id, $ref: `${srv.baseUrl}/Groups/${engineering.id}`, display: engineering.displayName, type: 'direct' },
      { value: org.id, $ref: `${srv.baseUrl}/Groups/${org.id}`, display: org.displayName, type: 'indirect' },
    ])
    const c = await get(`/Users/${carol.id}`)
    assert.deepEqual(
      (c.groups ?? []).map((x: any) => [x.value, x.type]),
      [[org.id, 'direct']],
    )
  })

  test("filter groups.value finds a user through direct and indirect groups, as its groups attribute lists them (RFC 7644 §3.4.2.2, RFC 7643 §4.1.2)", async () => {
    const { alice, bob, carol, engineering, org } = await nestedFixture()
    const ids = async (filter: string) =>
      ((await get(`/Users?filter=${encodeURIComponent(filter)}&attributes=userName`)).Resources ?? []).map((r: any) => r.id).sort()
    assert.deepEqual(await ids(`groups.value eq "${engineering.id}"`), sorted(alice.id, bob.id))
    assert.deepEqual(await ids(`groups.value eq "${org.id}"`), sorted(alice.id, bob.id, carol.id), 'alice and bob are in Org through Engineering')
  })

  test('groups is readOnly: PUT with groups ignores them (RFC 7644 §3.5.1, RFC 7643 §4.1.2)', async () => {
    const { alice, engineering, org } = await nestedFixture()
    const other = await createGroup(unique('Other'))
    const res = await srv.request('PUT', `/Users/${alice.id}`, {
      schemas: [USER],
      userName: alice.userName,
      displayName: 'Alice Adams',
      groups: [{ value: other.id, type: 'direct' }],
    })
    assertStatus(res, 200)
    const after = await get(`/Users/${alice.id}`)
    assert.deepEqual(groupIds(after), sorted(engineering.id, org.id))
    assert.deepEqual(memberIds(await get(`/Groups/${other.id}`)), [])
  })

  const groupsPatches: readonly { title: string; op: Record<string, unknown> }[] = [
    { title: 'add', op: { op: 'add', path: 'groups', value: [{ value: 'GROUP_ID' }] } },
    { title: 'replace', op: { op: 'replace', path: 'groups', value: [{ value: 'GROUP_ID' }] } },
    { title: 'remove', op: { op: 'remove', path: 'groups' } },
  ]
  for (const { title, op } of groupsPatches) {
    test(`PATCH ${title} on path "groups" → 400 mutability (RFC 7643 §4.1.2 readOnly, RFC 7644 §3.12)`, async () => {
      const { alice, engineering } = await nestedFixture()
      const other = await createGroup(unique('Other'))
      const withId = JSON.parse(JSON.stringify(op).replace('GROUP_ID', other.id))
      assertScimError(await srv.request('PATCH', `/Users/${alice.id}`, patchBody(withId)), 400, 'mutability')
      assert.ok(groupIds(await get(`/Users/${alice.id}`)).includes(engineering.id))
      assert.deepEqual(memberIds(await get(`/Groups/${other.id}`)), [])
    })
  }

  test('PATCH without a path whose value holds groups is ignored or rejected with mutability (RFC 7643 §4.1.2 readOnly)', async () => {
    const { alice, engineering, org } = await nestedFixture()
    const other = await createGroup(unique('Other'))
    const res = await srv.request('PATCH', `/Users/${alice.id}`, patchBody({ op: 'add', value: { groups: [{ value: other.id }] } }))
    if (res.status === 400) assertScimError(res, 400, 'mutability')
    else assertStatus(res, 200)
    assert.deepEqual(groupIds(await get(`/Users/${alice.id}`)), sorted(engineering.id, org.id))
    assert.deepEqual(memberIds(await get(`/Groups/${other.id}`)), [])
  })

  describe('PATCH /Groups/{id} members (RFC 7644 §3.5.2)', () => {
    test('PATCH add member answers 204 with an ETag and GET shows the member (RFC 7644 §3.5.2.1)', async () => {
      const a = await createUser('A')
      const b = await createUser('B')
      const g = await createGroup(unique('Add'), [a.id])
      const res = await srv.request('PATCH', `/Groups/${g.id}`, patchBody({ op: 'add', path: 'members', value: [{ value: b.id }] }))
      assertStatus(res, 204)
      assert.equal(res.text, '')
      const after = await srv.request('GET', `/Groups/${g.id}`)
      assert.equal(res.headers.get('etag'), after.headers.get('etag'))
      assert.notEqual(res.headers.get('etag'), g.meta.version)
      assert.deepEqual(memberIds(after.body), sorted(a.id, b.id))
    })

    test('adding an existing member again leaves one entry (RFC 7644 §3.5.2.1 "SHALL NOT" duplicate)', async () => {
      const a = await createUser('A')
      const g = await createGroup(unique('Dup'), [a.id])
      const res = await srv.request('PATCH', `/Groups/${g.id}`, patchBody({ op: 'add', path: 'members', value: [{ value: a.id }, { value: a.id }] }))
      assertStatus(res, 204)
      assert.deepEqual(memberIds(await get(`/Groups/${g.id}`)), [a.id])
    })

    test('remove members[value eq "…"] removes that member only (RFC 7644 §3.5.2.2)', async () => {
      const a = await createUser('A')
      const b = await createUser('B')
      const g = await createGroup(unique('Remove'), [a.id, b.id])
      const res = await srv.request('PATCH', `/Groups/${g.id}`, patchBody({ op: 'remove', path: `members[value eq "${a.id}"]` }))
      assertStatus(res, 204)
      assert.deepEqual(memberIds(await get(`/Groups/${g.id}`)), [b.id])
      assert.deepEqual(groupIds(await get(`/Users/${a.id}`)), [])
    })

    test('remove of all members with path "members" (RFC 7644 §3.5.2.2)', async () => {
      const a = await createUser('A')
      const g = await createGroup(unique('Clear'), [a.id])
      assertStatus(await srv.request('PATCH', `/Groups/${g.id}`, patchBody({ op: 'remove', path: 'members' })), 204)
      assert.deepEqual(memberIds(await get(`/Groups/${g.id}`)), [])
    })

    const replaces: readonly { title: string; op: (ids: string[]) => Record<string, unknown> }[] = [
      { title: 'with path "members"', op: (ids) => ({ op: 'replace', path: 'members', value: ids.map((value) => ({ value })) }) },
      { title: 'without a path', op: (ids) => ({ op: 'replace', value: { members: ids.map((value) => ({ value })) } }) },
    ]
    for (const { title, op } of replaces) {
      test(`replace members ${title} sets exactly the given members (RFC 7644 §3.5.2.3)`, async () => {
        const a = await createUser('A')
        const b = await createUser('B')
        const c = await createUser('C')
        const g = await createGroup(unique('Replace'), [a.id, b.id])
        assertStatus(await srv.request('PATCH', `/Groups/${g.id}`, patchBody(op([b.id, c.id]))), 204)
        assert.deepEqual(memberIds(await get(`/Groups/${g.id}`)), sorted(b.id, c.id))
      })
    }

    test('replace members[value eq "…"].value → 400 mutability: members.value is immutable (RFC 7643 §2.2, §8.7.1)', async () => {
      const a = await createUser('A')
      const b = await createUser('B')
      const g = await createGroup(unique('Immutable'), [a.id])
      const res = await srv.request('PATCH', `/Groups/${g.id}`, patchBody({ op: 'replace', path: `members[value eq "${a.id}"].value`, value: b.id }))
      assertScimError(res, 400, 'mutability')
      assert.deepEqual(memberIds(await get(`/Groups/${g.id}`)), [a.id])
    })

    test('replace members[value eq "…"].display → 400 mutability: display is readOnly (RFC 7643 §4.2)', async () => {
      const a = await createUser('A')
      const g = await createGroup(unique('ReadOnlyDisplay'), [a.id])
      const res = await srv.request('PATCH', `/Groups/${g.id}`, patchBody({ op: 'replace', path: `members[value eq "${a.id}"].display`, value: 'X' }))
      assertScimError(res, 400, 'mutability')
    })

    test('a group cannot be a member of itself → 400 invalidValue', async () => {
      const g = await createGroup(unique('Self'))
      assertScimError(await srv.request('PATCH', `/Groups/${g.id}`, patchBody({ op: 'add', path: 'members', value: [{ value: g.id }] })), 400, 'invalidValue')
    })

    test('a membership cycle is refused with invalidValue or, if accepted, every read still answers (RFC 7643 §4.1.2 indirect groups)', async () => {
      const { alice, engineering, org } = await nestedFixture()
      const res = await srv.request('PATCH', `/Groups/${engineering.id}`, patchBody({ op: 'add', path: 'members', value: [{ value: org.id }] }))
      if (res.status === 400) assertScimError(res, 400, 'invalidValue')
      else assertStatus(res, 204)
      assert.deepEqual(groupIds(await get(`/Users/${alice.id}`)), sorted(engineering.id, org.id))
      assertStatus(await srv.request('GET', `/Groups/${engineering.id}`), 200)
      assertStatus(await srv.request('GET', `/Groups/${org.id}`), 200)
      assertStatus(await srv.request('GET', '/Groups'), 200)
      assertStatus(await srv.request('GET', `/Users?filter=${encodeURIComponent(`groups.value eq "${org.id}"`)}`), 200)
    })

    test('PATCH with ?attributes=displayName answers 200 with that projection (RFC 7644 §3.5.2, §3.9)', async () => {
      const a = await createUser('A')
      const g = await createGroup(unique('Projected'), [a.id])
      const res = await srv.request('PATCH', `/Groups/${g.id}?attributes=displayName`, patchBody({ op: 'replace', path: 'displayName', value: 'Renamed' }))
      assertStatus(res, 200)
      assert.equal(res.body.id, g.id)
      assert.equal(res.body.displayName, 'Renamed')
      assert.equal('members' in res.body, false)
      assert.equal(res.headers.get('etag'), (await srv.request('GET', `/Groups/${g.id}`)).headers.get('etag'))
    })

    test('PATCH add of an unknown member id → 400 invalidValue and the group is unchanged (RFC 7644 §3.12)', async () => {
      const a = await createUser('A')
      const g = await createGroup(unique('Unknown'), [a.id])
      const res = await srv.request('PATCH', `/Groups/${g.id}`, patchBody({ op: 'add', path: 'members', value: [{ value: 'no-such-member' }] }))
      assertScimError(res, 400, 'invalidValue')
      assert.deepEqual(memberIds(await get(`/Groups/${g.id}`)), [a.id])
    })

    test('PATCH member add and displayName change that fails later changes nothing (RFC 7644 §3.5.2 atomic)', async () => {
      const a = await createUser('A')
      const b = await createUser('B')
      const g = await createGroup(unique('Atomic'), [a.id])
      const res = await srv.request(
        'PATCH',
        `/Groups/${g.id}`,
        patchBody({ op: 'add', path: 'members', value: [{ value: b.id }] }, { op: 'replace', path: 'displayName', value: 'New' }, { op: 'add', path: 'members', value: [{ value: 'no-such-member' }] }),
      )
      assertScimError(res, 400, 'invalidValue')
      const after = await get(`/Groups/${g.id}`)
      assert.deepEqual(memberIds(after), [a.id])
      assert.equal(after.displayName, g.displayName)
    })
  })

  test('POST /Groups with an unknown member id → 400 invalidValue (RFC 7644 §3.12)', async () => {
    const res = await srv.request('POST', '/Groups', { schemas: [GROUP], displayName: unique('Bad'), members: [{ value: 'no-such-member' }] })
    assertScimError(res, 400, 'invalidValue')
  })

  test('PUT /Groups/{id} with an unknown member id → 400 invalidValue and the group is unchanged (RFC 7644 §3.5.1)', async () => {
    const a = await createUser('A')
    const g = await createGroup(unique('PutBad'), [a.id])
    const res = await srv.request('PUT', `/Groups/${g.id}`, { schemas: [GROUP], displayName: g.displayName, members: [{ value: 'no-such-member' }] })
    assertScimError(res, 400, 'invalidValue')
    assert.deepEqual(memberIds(await get(`/Groups/${g.id}`)), [a.id])
  })

  test('POST /Groups without displayName → 400 invalidValue (RFC 7643 §4.2 REQUIRED)', async () => {
    assertScimError(await srv.request('POST', '/Groups', { schemas: [GROUP] }), 400, 'invalidValue')
  })

  test('PUT /Groups/{id} without members clears them (RFC 7644 §3.5.1)', async () => {
    const a = await createUser('A')
    const g = await createGroup(unique('PutClear'), [a.id])
    const res = await srv.request('PUT', `/Groups/${g.id}`, { schemas: [GROUP], displayName: 'Cleared' })
    assertStatus(res, 200)
    assert.equal(res.body.displayName, 'Cleared')
    assert.deepEqual(memberIds(res.body), [])
    assert.deepEqual(memberIds(await get(`/Groups/${g.id}`)), [])
    assert.deepEqual(groupIds(await get(`/Users/${a.id}`)), [])
  })

  test('excludedAttributes=members omits members on GET and on lists (RFC 7644 §3.9)', async () => {
    const a = await createUser('A')
    const g = await createGroup(unique('Excluded'), [a.id])
    const one = await get(`/Groups/${g.id}?excludedAttributes=members`)
    assert.equal('members' in one, false)
    assert.equal(one.displayName, g.displayName)
    assert.equal(one.id, g.id)
    const list = await get(`/Groups?excludedAttributes=members&filter=${encodeURIComponent(`displayName eq "${g.displayName}"`)}`)
    assert.equal(list.totalResults, 1)
    assert.equal('members' in list.Resources[0], false)
    assert.equal(list.Resources[0].displayName, g.displayName)
  })

  test('the member list is never read when the answer leaves it out: excludedAttributes=members, member PATCHes by id', async () => {
    const a = await createUser('A')
    const b = await createUser('B')
    const g = await createGroup(unique('NeverLoaded'), [a.id])
    // The service's own store handle, counted: the store itself is a proxy that keeps its method wrappers.
    const provisioning = srv.roster.provisioning as unknown as { store: object }
    const store = provisioning.store
    let reads = 0
    provisioning.store = new Proxy(store, {
      get(target, key) {
        const value: unknown = Reflect.get(target, key)
        if (typeof value !== 'function') return value
        return (...args: unknown[]) => {
          if (key === 'listMembers') reads++
          return (value as (...a: unknown[]) => unknown).apply(target, args)
        }
      },
    })
    try {
      const calls: [string, string, unknown?][] = [
        ['GET', `/Groups/${g.id}?excludedAttributes=members`],
        ['GET', `/Groups?excludedAttributes=members&filter=${encodeURIComponent(`displayName eq "${g.displayName}"`)}`],
        ['PATCH', `/Groups/${g.id}`, patchBody({ op: 'add', path: 'members', value: [{ value: b.id }] })],
        ['PATCH', `/Groups/${g.id}`, patchBody({ op: 'remove', path: `members[value eq "${a.id}"]` })],
      ]
      for (const [method, path, body] of calls) {
        const res = await srv.request(method, path, body)
        assert.ok(res.status === 200 || res.status === 204, `${method} ${path}: ${res.status} ${res.text}`)
      }
      assert.equal(reads, 0)
      // The spy sees the reads it should: a GET that returns members reads them once.
      assert.deepEqual(memberIds(await get(`/Groups/${g.id}`)), [b.id])
      assert.equal(reads, 1)
    } finally {
      provisioning.store = store
    }
  })

  test("DELETE of a group removes it from its users' groups, direct and indirect (RFC 7644 §3.6)", async () => {
    const { alice, carol, engineering, org } = await nestedFixture()
    assertStatus(await srv.request('DELETE', `/Groups/${engineering.id}`), 204)
    assertScimError(await srv.request('GET', `/Groups/${engineering.id}`), 404)
    assert.deepEqual(groupIds(await get(`/Users/${alice.id}`)), [], 'alice was in Org only through Engineering')
    assert.deepEqual(memberIds(await get(`/Groups/${org.id}`)), [carol.id])
    assertStatus(await srv.request('DELETE', `/Groups/${org.id}`), 204)
    assert.deepEqual(groupIds(await get(`/Users/${carol.id}`)), [])
  })

  test("DELETE of a user removes it from groups' members (RFC 7644 §3.6)", async () => {
    const { alice, bob, engineering } = await nestedFixture()
    assertStatus(await srv.request('DELETE', `/Users/${alice.id}`), 204)
    assert.deepEqual(memberIds(await get(`/Groups/${engineering.id}`)), [bob.id])
  })
})
