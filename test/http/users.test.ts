import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { assertStatus, assertScimError, ERROR_SCHEMA, startTestServer, type ScimResponse, type TestServer } from './harness.js'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const SCIM_JSON = /^application\/scim\+json/

let seq = 0
const unique = (prefix: string) => `${prefix}.${process.pid}.${++seq}`

const patchBody = (...Operations: unknown[]) => ({ schemas: [PATCH_OP], Operations })

describe('Users over HTTP', () => {
  let srv: TestServer

  before(async () => {
    srv = await startTestServer()
  })
  after(async () => {
    await srv.close()
  })

  async function createUser(body: Record<string, unknown> = {}): Promise<any> {
    const res = await srv.request('POST', '/Users', { schemas: [USER], userName: unique('user'), ...body })
    assertStatus(res, 201)
    return res.body
  }

  async function getUser(id: string): Promise<ScimResponse> {
    return srv.request('GET', `/Users/${id}`)
  }

  describe('POST /Users (RFC 7644 §3.3)', () => {
    test('POST /Users answers 201 with Location and ETag (RFC 7644 §3.3)', async () => {
      const userName = unique('bjensen')
      const res = await srv.request('POST', '/Users', { schemas: [USER], userName, displayName: 'Babs Jensen' })
      assertStatus(res, 201)
      assert.match(res.headers.get('content-type') ?? '', SCIM_JSON)
      const u = res.body
      assert.equal(typeof u.id, 'string')
      assert.ok(u.id.length > 0)
      assert.equal(u.userName, userName)
      assert.equal(u.displayName, 'Babs Jensen')
      assert.ok(u.schemas.includes(USER))
      // RFC 7644 §3.3: "the Location header ... SHALL contain the same value as ... meta.location".
      assert.equal(res.headers.get('location'), u.meta.location)
      assert.equal(u.meta.location, `${srv.baseUrl}/Users/${u.id}`)
      // RFC 7644 §3.14: the ETag header carries the same value as meta.version.
      assert.equal(res.headers.get('etag'), u.meta.version)
      assert.match(u.meta.version, /^W\/".+"$/)
    })

    test('POST /Users sets meta.resourceType, created and lastModified (RFC 7643 §3.1)', async () => {
      const startedAt = Date.now()
      const u = await createUser()
      assert.equal(u.meta.resourceType, 'User')
      const created = Date.parse(u.meta.created)
      const lastModified = Date.parse(u.meta.lastModified)
      assert.ok(!Number.isNaN(created), `meta.created ${u.meta.created} is a dateTime`)
      assert.ok(!Number.isNaN(lastModified), `meta.lastModified ${u.meta.lastModified} is a dateTime`)
      assert.ok(created >= startedAt - 1000 && created <= Date.now() + 1000, 'meta.created is now')
      assert.ok(lastModified >= created, 'lastModified is not before created')
    })

    test('password is never returned (RFC 7643 §4.1.1, returned "never")', async () => {
      const u = await createUser({ password: 't1meMachine!' })
      assert.equal(u.password, undefined, 'POST response')
      const got = await getUser(u.id)
      assertStatus(got, 200)
      assert.equal(got.body.password, undefined, 'GET response')
      const asked = await srv.request('GET', `/Users/${u.id}?attributes=password,userName`)
      assertStatus(asked, 200)
      assert.equal(asked.body.password, undefined, 'GET ?attributes=password')
      assert.equal(asked.body.userName, u.userName)
      const listed = await srv.request('GET', `/Users?filter=${encodeURIComponent(`id eq "${u.id}"`)}&attributes=password`)
      assertStatus(listed, 200)
      assert.equal(listed.body.Resources?.[0]?.password, undefined, 'list ?attributes=password')
    })

    test('enterprise extension attributes round-trip (RFC 7643 §4.3)', async () => {
      const manager = await createUser({ displayName: 'The Boss' })
      const enterprise = {
        employeeNumber: '701984',
        costCenter: '4130',
        organization: 'Universal Studios',
        division: 'Theme Park',
        department: 'Tour Operations',
        manager: { value: manager.id },
      }
      const u = await createUser({ schemas: [USER, ENTERPRISE], [ENTERPRISE]: enterprise })
      assert.deepEqual(u.schemas.slice().sort(), [ENTERPRISE, USER].sort())
      for (const body of [u, (await getUser(u.id)).body]) {
        const ext = body[ENTERPRISE]
        assert.ok(ext, `extension object present in ${JSON.stringify(body)}`)
        for (const key of ['employeeNumber', 'costCenter', 'organization', 'division', 'department'] as const) {
          assert.equal(ext[key], enterprise[key], key)
        }
        assert.equal(ext.manager?.value, manager.id)
      }
    })

    test('null values and empty arrays in the body are dropped (RFC 7643 §2.5)', async () => {
      const u = await createUser({ displayName: null, nickName: null, emails: [], name: { givenName: 'Ann', familyName: null } })
      assert.equal('displayName' in u, false, 'displayName: null is unassigned')
      assert.equal('nickName' in u, false, 'nickName: null is unassigned')
      assert.equal('emails' in u, false, 'emails: [] is unassigned')
      assert.deepEqual(u.name, { givenName: 'Ann' })
      const got = (await getUser(u.id)).body
      assert.equal('displayName' in got, false)
      assert.deepEqual(got.name, { givenName: 'Ann' })
    })

    const rejected: readonly { title: string; body: Record<string, unknown>; status: number; scimType: string }[] = [
      { title: 'an unknown attribute → 400 invalidSyntax', body: { schemas: [USER], userName: unique('x'), favouriteColour: 'blue' }, status: 400, scimType: 'invalidSyntax' },
      { title: 'a missing userName → 400 invalidValue (RFC 7643 §4.1.1 REQUIRED)', body: { schemas: [USER], displayName: 'No Name' }, status: 400, scimType: 'invalidValue' },
      { title: 'userName of the wrong type → 400 invalidValue', body: { schemas: [USER], userName: { nested: true } }, status: 400, scimType: 'invalidValue' },
      { title: 'active as a string → 400 invalidValue (RFC 7643 §2.3.2)', body: { schemas: [USER], userName: unique('x'), active: 'maybe' }, status: 400, scimType: 'invalidValue' },
    ]
    for (const { title, body, status, scimType } of rejected) {
      test(`POST /Users with ${title} (RFC 7644 §3.3, §3.12)`, async () => {
        assertScimError(await srv.request('POST', '/Users', body), status, scimType)
      })
    }

    test('POST /Users listing an unknown schema URN with no data under it → 201, the URN left out of schemas (Entra ID tolerance, RFC 7643 §3)', async () => {
      // validate-resource.ts: Entra ID's tutorial lists an ADSCIM URN in schemas with no attributes under it.
      const u = await createUser({ schemas: [USER, 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/User'] })
      assert.deepEqual(u.schemas, [USER])
    })

    const badSchemas: readonly { title: string; body: Record<string, unknown> }[] = [
      { title: 'data under an unknown schema URN', body: { schemas: [USER, 'urn:example:unknown:2.0:User'], 'urn:example:unknown:2.0:User': { badge: 'x' } } },
      { title: 'the schema of another resource type', body: { schemas: [USER, 'urn:ietf:params:scim:schemas:core:2.0:Group'] } },
      { title: 'schemas that is not an array', body: { schemas: USER } },
    ]
    for (const { title, body } of badSchemas) {
      test(`POST /Users with ${title} → 400 invalidSyntax (RFC 7643 §3)`, async () => {
        assertScimError(await srv.request('POST', '/Users', { userName: unique('schemas'), ...body }), 400, 'invalidSyntax')
      })
    }

    test('POST /Users with a userName taken in another case → 409 uniqueness (RFC 7644 §3.3, RFC 7643 §4.1.1 caseExact false)', async () => {
      const userName = unique('Duplicate.Name')
      await createUser({ userName })
      assertScimError(await srv.request('POST', '/Users', { schemas: [USER], userName: userName.toUpperCase() }), 409, 'uniqueness')
      assertScimError(await srv.request('POST', '/Users', { schemas: [USER], userName }), 409, 'uniqueness')
    })
  })

  describe('GET /Users/{id} (RFC 7644 §3.4.1)', () => {
    test('GET /Users/{id} answers 200 with the resource and its ETag (RFC 7644 §3.4.1)', async () => {
      const u = await createUser({ displayName: 'Read Me' })
      const res = await getUser(u.id)
      assertStatus(res, 200)
      assert.match(res.headers.get('content-type') ?? '', SCIM_JSON)
      assert.equal(res.headers.get('etag'), u.meta.version)
      assert.deepEqual(res.body, u)
    })

    test('GET /Users/{id} for an unknown id → 404 SCIM error (RFC 7644 §3.12)', async () => {
      assertScimError(await getUser('2819c223-7f76-453a-919d-000000000000'), 404)
    })

    test('GET /Users/{id} with the id of a Group → 404 (RFC 7644 §3.4.1, ids are per endpoint)', async () => {
      const g = await srv.request('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: unique('Group') })
      assertStatus(g, 201)
      assertScimError(await getUser(g.body.id), 404)
    })
  })

  describe('PUT /Users/{id} (RFC 7644 §3.5.1)', () => {
    test('PUT replaces the resource: attributes not sent are cleared (RFC 7644 §3.5.1)', async () => {
      const u = await createUser({
        schemas: [USER, ENTERPRISE],
        displayName: 'Before',
        nickName: 'Nick',
        title: 'Tour Guide',
        emails: [{ value: 'before@example.com', type: 'work' }],
        name: { givenName: 'Bea', familyName: 'Fore' },
        [ENTERPRISE]: { department: 'Old' },
      })
      const res = await srv.request('PUT', `/Users/${u.id}`, { schemas: [USER], userName: u.userName, displayName: 'After', name: { givenName: 'Bea' } })
      assertStatus(res, 200)
      for (const body of [res.body, (await getUser(u.id)).body]) {
        assert.equal(body.displayName, 'After')
        assert.equal(body.userName, u.userName)
        assert.deepEqual(body.name, { givenName: 'Bea' }, 'name.familyName was not sent, so it is cleared')
        for (const gone of ['nickName', 'title', 'emails', ENTERPRISE]) assert.equal(gone in body, false, `${gone} was not sent, so it is cleared`)
        assert.deepEqual(body.schemas, [USER])
      }
    })

    test('PUT answers 200 with a new ETag and lastModified (RFC 7644 §3.5.1, §3.14)', async () => {
      const u = await createUser({ displayName: 'v1' })
      await new Promise((r) => setTimeout(r, 5))
      const res = await srv.request('PUT', `/Users/${u.id}`, { schemas: [USER], userName: u.userName, displayName: 'v2' })
      assertStatus(res, 200)
      assert.equal(res.headers.get('etag'), res.body.meta.version)
      assert.notEqual(res.body.meta.version, u.meta.version)
      assert.equal(res.body.meta.created, u.meta.created)
      assert.ok(Date.parse(res.body.meta.lastModified) > Date.parse(u.meta.lastModified), 'lastModified moves forward')
    })

    test('PUT ignores readOnly id and meta in the body (RFC 7644 §3.5.1 "readOnly ... SHALL be ignored")', async () => {
      const u = await createUser({ displayName: 'Keep my id' })
      const res = await srv.request('PUT', `/Users/${u.id}`, {
        schemas: [USER],
        id: 'not-the-real-id',
        userName: u.userName,
        displayName: 'Still me',
        meta: { resourceType: 'Group', created: '2000-01-01T00:00:00Z', lastModified: '2000-01-01T00:00:00Z', location: 'https://evil.example/x', version: 'W/"999"' },
      })
      assertStatus(res, 200)
      assert.equal(res.body.id, u.id)
      assert.equal(res.body.displayName, 'Still me')
      assert.equal(res.body.meta.resourceType, 'User')
      assert.equal(res.body.meta.created, u.meta.created)
      assert.equal(res.body.meta.location, u.meta.location)
      assert.notEqual(res.body.meta.version, 'W/"999"')
      assertStatus(await getUser(u.id), 200)
      assertScimError(await getUser('not-the-real-id'), 404)
    })

    test('PUT without userName → 400 invalidValue and the user is unchanged (RFC 7643 §4.1.1)', async () => {
      const u = await createUser({ displayName: 'Unchanged' })
      assertScimError(await srv.request('PUT', `/Users/${u.id}`, { schemas: [USER], displayName: 'Lost' }), 400, 'invalidValue')
      assert.deepEqual((await getUser(u.id)).body, u)
    })

    test('PUT to another user\'s userName in another case → 409 uniqueness (RFC 7644 §3.5.1)', async () => {
      const a = await createUser()
      const b = await createUser()
      assertScimError(await srv.request('PUT', `/Users/${b.id}`, { schemas: [USER], userName: a.userName.toUpperCase() }), 409, 'uniqueness')
    })

    test('PUT on an unknown id → 404 SCIM error (RFC 7644 §3.5.1)', async () => {
      assertScimError(await srv.request('PUT', '/Users/does-not-exist', { schemas: [USER], userName: unique('ghost') }), 404)
    })
  })

  describe('PATCH /Users/{id} (RFC 7644 §3.5.2)', () => {
    const base = () => ({
      schemas: [USER],
      displayName: 'Patch Me',
      nickName: 'Pat',
      name: { givenName: 'Pat', familyName: 'Ching' },
      emails: [
        { value: 'pat@work.example', type: 'work', primary: true },
        { value: 'pat@home.example', type: 'home' },
      ],
    })

    async function patch(id: string, ...ops: unknown[]): Promise<ScimResponse> {
      return srv.request('PATCH', `/Users/${id}`, patchBody(...ops))
    }

    const cases: readonly { title: string; ops: unknown[]; check: (u: any, before: any) => void }[] = [
      {
        title: 'add with a path sets a single-valued attribute (RFC 7644 §3.5.2.1)',
        ops: [{ op: 'add', path: 'title', value: 'Tour Guide' }],
        check: (u) => assert.equal(u.title, 'Tour Guide'),
      },
      {
        title: 'add with a path to a multi-valued attribute appends (RFC 7644 §3.5.2.1)',
        ops: [{ op: 'add', path: 'emails', value: [{ value: 'pat@other.example', type: 'other' }] }],
        check: (u) =>
          assert.deepEqual(
            u.emails.map((e: any) => e.value).sort(),
            ['pat@home.example', 'pat@other.example', 'pat@work.example'],
          ),
      },
      {
        title: 'add without a path merges the value object (RFC 7644 §3.5.2.1)',
        ops: [{ op: 'add', value: { title: 'Lead', emails: [{ value: 'pat@third.example', type: 'other' }] } }],
        check: (u) => {
          assert.equal(u.title, 'Lead')
          assert.equal(u.emails.length, 3)
          assert.equal(u.nickName, 'Pat')
        },
      },
      {
        title: 'replace with a sub-attribute path (RFC 7644 §3.5.2.3)',
        ops: [{ op: 'replace', path: 'name.givenName', value: 'Patricia' }],
        check: (u) => assert.deepEqual(u.name, { givenName: 'Patricia', familyName: 'Ching' }),
      },
      {
        title: 'replace without a path leaves sub-attributes not given unchanged (RFC 7644 §3.5.2.3)',
        ops: [{ op: 'replace', value: { displayName: 'Replaced', name: { givenName: 'Patty' }, active: false } }],
        check: (u) => {
          assert.equal(u.displayName, 'Replaced')
          assert.equal(u.active, false)
          assert.deepEqual(u.name, { givenName: 'Patty', familyName: 'Ching' })
        },
      },
      {
        title: 'replace of a whole multi-valued attribute (RFC 7644 §3.5.2.3)',
        ops: [{ op: 'replace', path: 'emails', value: [{ value: 'only@example.com', type: 'work' }] }],
        check: (u) => assert.deepEqual(u.emails.map((e: any) => e.value), ['only@example.com']),
      },
      {
        title: 'replace through a valuePath changes only the matching value (RFC 7644 §3.5.2.3)',
        ops: [{ op: 'replace', path: 'emails[type eq "work"].value', value: 'pat@new-work.example' }],
        check: (u) => {
          const work = u.emails.find((e: any) => e.type === 'work')
          const home = u.emails.find((e: any) => e.type === 'home')
          assert.equal(work.value, 'pat@new-work.example')
          assert.equal(work.primary, true, 'other sub-attributes of the matched value stay')
          assert.equal(home.value, 'pat@home.example')
        },
      },
      {
        title: 'remove with a path (RFC 7644 §3.5.2.2)',
        ops: [{ op: 'remove', path: 'nickName' }],
        check: (u) => assert.equal('nickName' in u, false),
      },
      {
        title: 'remove of a sub-attribute (RFC 7644 §3.5.2.2)',
        ops: [{ op: 'remove', path: 'name.familyName' }],
        check: (u) => assert.deepEqual(u.name, { givenName: 'Pat' }),
      },
      {
        title: 'remove through a valuePath removes the matching values only (RFC 7644 §3.5.2.2)',
        ops: [{ op: 'remove', path: 'emails[type eq "home"]' }],
        check: (u) => assert.deepEqual(u.emails.map((e: any) => e.type), ['work']),
      },
      {
        title: 'replace with an extension URN attribute path (RFC 7644 §3.5.2, §3.10)',
        ops: [{ op: 'replace', path: `${ENTERPRISE}:department`, value: 'Tour Operations' }],
        check: (u) => {
          assert.equal(u[ENTERPRISE]?.department, 'Tour Operations')
          assert.ok(u.schemas.includes(ENTERPRISE), 'schemas lists the extension now in use (RFC 7643 §3)')
        },
      },
      {
        title: 'add with the extension URN itself as path merges into the extension (RFC 7644 §3.5.2.1)',
        ops: [
          { op: 'add', path: `${ENTERPRISE}:department`, value: 'Ops' },
          { op: 'add', path: ENTERPRISE, value: { costCenter: '4130', manager: { value: 'mgr-1' } } },
        ],
        check: (u) => {
          assert.equal(u[ENTERPRISE]?.department, 'Ops')
          assert.equal(u[ENTERPRISE]?.costCenter, '4130')
          assert.equal(u[ENTERPRISE]?.manager?.value, 'mgr-1')
        },
      },
      {
        title: 'add without a path with an extension object in the value (RFC 7644 §3.5.2.1)',
        ops: [{ op: 'add', value: { [ENTERPRISE]: { employeeNumber: 'E-9' } } }],
        check: (u) => assert.equal(u[ENTERPRISE]?.employeeNumber, 'E-9'),
      },
      {
        title: 'remove with an extension URN sub-attribute path (RFC 7644 §3.5.2.2)',
        ops: [
          { op: 'add', path: `${ENTERPRISE}:manager`, value: { value: 'mgr-2' } },
          { op: 'add', path: `${ENTERPRISE}:division`, value: 'Parks' },
          { op: 'remove', path: `${ENTERPRISE}:manager` },
        ],
        check: (u) => {
          assert.equal(u[ENTERPRISE]?.division, 'Parks')
          assert.equal(u[ENTERPRISE]?.manager, undefined)
        },
      },
    ]
    for (const { title, ops, check } of cases) {
      test(`PATCH ${title}`, async () => {
        const before = await createUser(base())
        const res = await patch(before.id, ...ops)
        assertStatus(res, 200)
        assert.match(res.headers.get('content-type') ?? '', SCIM_JSON)
        assert.equal(res.headers.get('etag'), res.body.meta.version)
        assert.notEqual(res.body.meta.version, before.meta.version, 'a change makes a new version')
        check(res.body, before)
        const got = await getUser(before.id)
        assertStatus(got, 200)
        check(got.body, before)
        assert.deepEqual(got.body, res.body, 'GET shows what PATCH answered')
      })
    }

    const atomic: readonly { title: string; second: unknown; scimType: string }[] = [
      { title: 'a valuePath that matches nothing', second: { op: 'replace', path: 'emails[value co "nowhere"].display', value: 'x' }, scimType: 'noTarget' },
      { title: 'a value of the wrong type', second: { op: 'replace', path: 'active', value: 'not-a-boolean' }, scimType: 'invalidValue' },
      { title: 'a readOnly attribute', second: { op: 'replace', path: 'id', value: 'other-id' }, scimType: 'mutability' },
      { title: 'removing the required userName', second: { op: 'remove', path: 'userName' }, scimType: 'invalidValue' },
    ]
    for (const { title, second, scimType } of atomic) {
      test(`PATCH is all-or-nothing: a second operation on ${title} fails and leaves the user unchanged (RFC 7644 §3.5.2)`, async () => {
        const before = await createUser(base())
        const res = await patch(before.id, { op: 'replace', path: 'displayName', value: 'Should Not Stick' }, second)
        assertScimError(res, 400, scimType)
        const got = await getUser(before.id)
        assertStatus(got, 200)
        assert.deepEqual(got.body, before, 'neither operation took effect')
        assert.equal(got.headers.get('etag'), before.meta.version)
      })
    }

    const errors: readonly { title: string; ops: unknown[]; scimType: string }[] = [
      { title: 'remove without a path → noTarget (RFC 7644 §3.5.2.2)', ops: [{ op: 'remove' }], scimType: 'noTarget' },
      { title: 'replace of whole values through a valuePath that matches nothing → noTarget (RFC 7644 §3.5.2.3)', ops: [{ op: 'replace', path: 'emails[type eq "pager"]', value: { value: 'x@example.com', type: 'pager' } }], scimType: 'noTarget' },
      { title: 'replace through a non-eq valuePath that matches nothing → noTarget (RFC 7644 §3.5.2.3)', ops: [{ op: 'replace', path: 'emails[value co "nowhere"].value', value: 'x' }], scimType: 'noTarget' },
      { title: 'add through a valuePath that matches nothing → noTarget (RFC 7644 §3.5.2.1)', ops: [{ op: 'add', path: 'emails[value sw "zzz"].display', value: 'x' }], scimType: 'noTarget' },
      { title: 'an unknown attribute path → invalidPath (RFC 7644 §3.12)', ops: [{ op: 'add', path: 'favouriteColour', value: 'blue' }], scimType: 'invalidPath' },
      { title: 'an unknown sub-attribute path → invalidPath (RFC 7644 §3.12)', ops: [{ op: 'replace', path: 'name.nickname', value: 'x' }], scimType: 'invalidPath' },
      { title: 'an unclosed value filter → invalidPath (RFC 7644 §3.12)', ops: [{ op: 'replace', path: 'emails[type eq "work"', value: 'x' }], scimType: 'invalidPath' },
      { title: 'an unknown extension URN → invalidPath (RFC 7644 §3.12)', ops: [{ op: 'add', path: 'urn:ietf:params:scim:schemas:extension:nope:2.0:User:badge', value: 'x' }], scimType: 'invalidPath' },
      { title: 'replace of readOnly id → mutability (RFC 7643 §2.2, RFC 7644 §3.12)', ops: [{ op: 'replace', path: 'id', value: 'x' }], scimType: 'mutability' },
      { title: 'replace of readOnly meta.created → mutability (RFC 7643 §3.1)', ops: [{ op: 'replace', path: 'meta.created', value: '2000-01-01T00:00:00Z' }], scimType: 'mutability' },
      { title: 'remove of readOnly groups → mutability (RFC 7643 §4.1.2)', ops: [{ op: 'remove', path: 'groups' }], scimType: 'mutability' },
      { title: 'an unknown op → invalidSyntax (RFC 7644 §3.5.2)', ops: [{ op: 'move', path: 'title', value: 'x' }], scimType: 'invalidSyntax' },
    ]
    for (const { title, ops, scimType } of errors) {
      test(`PATCH with ${title}`, async () => {
        const before = await createUser(base())
        assertScimError(await patch(before.id, ...ops), 400, scimType)
        assert.deepEqual((await getUser(before.id)).body, before)
      })
    }

    test('PATCH replace of emails[type eq "fax"].value with no fax email adds one: the Entra ID tolerance to RFC 7644 §3.5.2.3 noTarget', async () => {
      // Microsoft, "Develop and plan provisioning for a SCIM endpoint": Entra ID sends this for a user who
      // has no such email yet. apply-patch.ts (setFiltered) accepts it for eq-only filters with a sub-attribute.
      const before = await createUser(base())
      const res = await patch(before.id, { op: 'replace', path: 'emails[type eq "fax"].value', value: 'pat@fax.example' })
      assertStatus(res, 200)
      assert.deepEqual(
        res.body.emails.map((e: any) => [e.type, e.value]),
        [['work', 'pat@work.example'], ['home', 'pat@home.example'], ['fax', 'pat@fax.example']],
      )
    })

    test("PATCH replace of userName to another user's in another case → 409 uniqueness (RFC 7644 §3.5.2, §3.12)", async () => {
      const taken = await createUser()
      const u = await createUser()
      assertScimError(await patch(u.id, { op: 'replace', path: 'userName', value: taken.userName.toUpperCase() }), 409, 'uniqueness')
      assert.equal((await getUser(u.id)).body.userName, u.userName)
    })

    test('PATCH that changes nothing keeps the version (RFC 7644 §3.14)', async () => {
      const u = await createUser({ title: 'Same' })
      const res = await patch(u.id, { op: 'replace', path: 'title', value: 'Same' })
      assertStatus(res, 200)
      assert.equal(res.headers.get('etag'), u.meta.version)
      assert.equal(res.body.meta.lastModified, u.meta.lastModified)
    })

    test('PATCH without the PatchOp schema in schemas → 400 invalidSyntax (RFC 7644 §3.5.2)', async () => {
      const u = await createUser()
      const res = await srv.request('PATCH', `/Users/${u.id}`, { schemas: [USER], Operations: [{ op: 'replace', path: 'title', value: 'x' }] })
      assertScimError(res, 400, 'invalidSyntax')
    })

    test('PATCH on an unknown id → 404 SCIM error (RFC 7644 §3.5.2)', async () => {
      assertScimError(await patch('does-not-exist', { op: 'replace', path: 'title', value: 'x' }), 404)
    })
  })

  describe('DELETE /Users/{id} (RFC 7644 §3.6)', () => {
    test('DELETE answers 204, then the user is gone: GET, PATCH, PUT and DELETE answer 404 (RFC 7644 §3.6)', async () => {
      const u = await createUser()
      const res = await srv.request('DELETE', `/Users/${u.id}`)
      assertStatus(res, 204)
      assert.equal(res.text, '')
      assertScimError(await getUser(u.id), 404)
      assertScimError(await srv.request('PATCH', `/Users/${u.id}`, patchBody({ op: 'replace', path: 'title', value: 'x' })), 404)
      assertScimError(await srv.request('PUT', `/Users/${u.id}`, { schemas: [USER], userName: u.userName }), 404)
      assertScimError(await srv.request('DELETE', `/Users/${u.id}`), 404)
      const listed = await srv.request('GET', `/Users?filter=${encodeURIComponent(`userName eq "${u.userName}"`)}`)
      assertStatus(listed, 200)
      assert.equal(listed.body.totalResults, 0)
    })

    test('a deleted userName can be used again (RFC 7644 §3.6)', async () => {
      const u = await createUser()
      assertStatus(await srv.request('DELETE', `/Users/${u.id}`), 204)
      const again = await srv.request('POST', '/Users', { schemas: [USER], userName: u.userName })
      assertStatus(again, 201)
      assert.notEqual(again.body.id, u.id)
    })
  })
})

describe('Users over HTTP with ROSTER_DELETE_POLICY=deactivate', () => {
  let srv: TestServer

  before(async () => {
    srv = await startTestServer({ ROSTER_DELETE_POLICY: 'deactivate' })
  })
  after(async () => {
    await srv.close()
  })

  test('DELETE answers 204 and deactivates: GET still 200 with active false, filter active eq false finds it, PATCH active=true reactivates (RFC 7644 §3.6)', async () => {
    const created = await srv.request('POST', '/Users', { schemas: [USER], userName: unique('leaver'), active: true })
    assertStatus(created, 201)
    const id = created.body.id

    const del = await srv.request('DELETE', `/Users/${id}`)
    assertStatus(del, 204)
    assert.equal(del.text, '')

    const got = await srv.request('GET', `/Users/${id}`)
    assertStatus(got, 200)
    assert.equal(got.body.active, false)
    assert.equal(got.body.userName, created.body.userName)

    const found = await srv.request('GET', `/Users?filter=${encodeURIComponent('active eq false')}`)
    assertStatus(found, 200)
    assert.ok(
      (found.body.Resources ?? []).some((r: any) => r.id === id && r.active === false),
      `active eq false lists ${id}: ${found.text}`,
    )

    const patched = await srv.request('PATCH', `/Users/${id}`, patchBody({ op: 'replace', path: 'active', value: true }))
    assertStatus(patched, 200)
    assert.equal(patched.body.active, true)
    assert.equal((await srv.request('GET', `/Users/${id}`)).body.active, true)

    const none = await srv.request('GET', `/Users?filter=${encodeURIComponent('active eq false')}`)
    assertStatus(none, 200)
    assert.ok(!(none.body.Resources ?? []).some((r: any) => r.id === id), 'a reactivated user no longer matches active eq false')
  })

  test('DELETE of a user created without active also leaves it with active false (RFC 7644 §3.6)', async () => {
    const created = await srv.request('POST', '/Users', { schemas: [USER], userName: unique('never-active') })
    assertStatus(created, 201)
    assertStatus(await srv.request('DELETE', `/Users/${created.body.id}`), 204)
    const got = await srv.request('GET', `/Users/${created.body.id}`)
    assertStatus(got, 200)
    assert.equal(got.body.active, false)
  })

  test('DELETE of a Group, which has no active attribute, still deletes it (RFC 7644 §3.6)', async () => {
    const g = await srv.request('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: unique('Group') })
    assertStatus(g, 201)
    assertStatus(await srv.request('DELETE', `/Groups/${g.body.id}`), 204)
    assertScimError(await srv.request('GET', `/Groups/${g.body.id}`), 404)
  })
})
