// Okta's provisioning requests, replayed in the order Okta documents them, against a real listening Roster.
// Source: Okta Developer, "SCIM 2.0 Protocol Reference" ("Okta and SCIM Version 2.0",
// developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20, formerly /docs/reference/scim/scim-20/).
// Request paths, query strings and bodies are the documented ones; only ids are ours, since the server
// assigns them. docs/idp-quirks.md lists each deviation accepted here and what Roster answers instead.
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { memberIdsOf, assertNoContent, assertListResponse, assertScimError, startTestServer, ERROR_SCHEMA, type ScimResponse, type TestServer } from '../harness.js'

// URNs spelled out as the docs spell them, not imported from src/: the test checks the server's output.
const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

// Every documented request carries "User-Agent: Okta SCIM Client 1.0.0". The reference prints no request
// Content-Type; Okta's older "SCIM Protocol" page (developer.okta.com/reference/scim/) notes that "Okta sends
// application/scim+json as the Content-Type".
const OKTA_HEADERS = { 'user-agent': 'Okta SCIM Client 1.0.0' }
const OKTA_BODY_HEADERS = { ...OKTA_HEADERS, 'content-type': 'application/scim+json' }

let server: TestServer

before(async () => {
  server = await startTestServer()
})

after(async () => {
  await server.close()
})

function okta(method: string, path: string, body?: unknown): Promise<ScimResponse> {
  return server.request(method, path, body, body === undefined ? OKTA_HEADERS : OKTA_BODY_HEADERS)
}

/** 201 with Location = meta.location and ETag = meta.version (RFC 7644 §3.3, RFC 7643 §3.1); returns the id. */
function assertCreated(res: ScimResponse, endpoint: '/Users' | '/Groups'): string {
  assert.equal(res.status, 201, res.text)
  const id: unknown = res.body.id
  assert.equal(typeof id, 'string')
  assert.ok((id as string).length > 0)
  const location = res.headers.get('location')
  assert.ok(location?.endsWith(`${endpoint}/${encodeURIComponent(id as string)}`), `Location ${location}`)
  assert.equal(location, res.body.meta.location)
  const etag = res.headers.get('etag')
  assert.match(etag ?? '', /^(W\/)?"[^"]*"$/)
  assert.equal(etag, res.body.meta.version)
  return id as string
}

/**
 * A ListResponse (RFC 7644 §3.4.2) whose page starts at 1; returns Resources ([] if absent). The reference's
 * note: "The itemsPerPage, startIndex, and totalResults values need to be exchanged as integers, not as strings."
 */
/** §"Create the User": the user's application profile, with Okta's placeholder password and empty groups. */
function createUserRequest(userName: string, externalId: string) {
  return {
    schemas: [USER_SCHEMA],
    userName,
    name: { givenName: 'Test', familyName: 'User' },
    emails: [{ primary: true, value: userName, type: 'work' }],
    displayName: 'Test User',
    locale: 'en-US',
    externalId,
    groups: [],
    password: '1mz050nq',
    active: true,
  }
}

describe('Okta §"SCIM User operations", in order', () => {
  let userId = ''
  let createdEtag = ''

  // §"Determine if the User already exists": the documented query string, before the user exists.
  test('Determine if the User already exists: none yet → empty ListResponse', async () => {
    const res = await okta('GET', '/Users?filter=userName%20eq%20%22test.user%40okta.local%22&startIndex=1&count=100')
    assertListResponse(res, 0)
  })

  // §"Create the User": POST /Users with password and emails → 201 Created with the user.
  test('Create the User: 201 with Location, ETag and the user, password not returned', async () => {
    const res = await okta('POST', '/Users', createUserRequest('test.user@okta.local', '00ujl29u0le5T6Aj10h7'))
    userId = assertCreated(res, '/Users')
    createdEtag = res.headers.get('etag') ?? ''
    assert.ok(res.body.schemas.includes(USER_SCHEMA))
    assert.equal(res.body.userName, 'test.user@okta.local')
    assert.deepEqual(res.body.name, { givenName: 'Test', familyName: 'User' })
    assert.deepEqual(res.body.emails, [{ primary: true, value: 'test.user@okta.local', type: 'work' }])
    assert.equal(res.body.displayName, 'Test User')
    assert.equal(res.body.locale, 'en-US')
    assert.equal(res.body.externalId, '00ujl29u0le5T6Aj10h7')
    assert.equal(res.body.active, true)
    assert.deepEqual(res.body.groups ?? [], [])
    assert.equal(res.body.meta.resourceType, 'User')
    // RFC 7643 §4.1.1: password is returned "never".
    assert.ok(!('password' in res.body), 'password must not be returned')
  })

  // §"Determine if the User already exists", once it does: Okta matches on userName, which RFC 7643 §4.1.1
  // makes caseExact false, so a lookup in another case must find the same user.
  test('Determine if the User already exists: found, and found again with the userName in another case', async () => {
    assert.ok(userId, 'Create the User must have passed')
    const exact = await okta('GET', '/Users?filter=userName%20eq%20%22test.user%40okta.local%22&startIndex=1&count=100')
    const [found] = assertListResponse(exact, 1)
    assert.equal(found.id, userId)
    assert.equal(found.userName, 'test.user@okta.local')

    const otherCase = await okta('GET', '/Users?filter=userName%20eq%20%22TEST.User%40OKTA.local%22&startIndex=1&count=100')
    const [again] = assertListResponse(otherCase, 1)
    assert.equal(again.id, userId)
    assert.equal(again.userName, 'test.user@okta.local', 'the stored userName keeps its case')
  })

  // §"Create the User": "If the User object that Okta tries to create exists in the Service Provider
  // application, then the Service Provider needs to respond with an error schema to stop the provisioning
  // job" (409 Conflict). The reference prints "status": 409; RFC 7644 §3.12 makes it the string "409".
  test('Create the User again: 409 uniqueness, status "409" as a string', async () => {
    const res = await okta('POST', '/Users', createUserRequest('test.user@okta.local', '00ujl29u0le5T6Aj10h7'))
    assertScimError(res, 409, 'uniqueness')
  })

  test('Create the User with the same userName in another case: 409 uniqueness', async () => {
    const res = await okta('POST', '/Users', createUserRequest('Test.User@Okta.Local', '00ujl29u0le5T6Aj10h8'))
    assertScimError(res, 409, 'uniqueness')
  })

  // §"Retrieve Users": GET /Users?startIndex=1&count=100, paged with integers.
  test('Retrieve Users: startIndex=1&count=100 lists the user', async () => {
    assert.ok(userId, 'Create the User must have passed')
    const res = await okta('GET', '/Users?startIndex=1&count=100')
    const resources = assertListResponse(res, 1)
    assert.equal(resources[0].id, userId)
  })

  // §"Retrieve a specific User" and §"Update a specific User (PUT)" → "Retrieve the User".
  test('Retrieve a specific User: 200 with the user and its ETag', async () => {
    assert.ok(userId, 'Create the User must have passed')
    const res = await okta('GET', `/Users/${userId}`)
    assert.equal(res.status, 200, res.text)
    assert.equal(res.headers.get('etag'), createdEtag)
    assert.equal(res.body.id, userId)
    assert.equal(res.body.userName, 'test.user@okta.local')
    assert.equal(res.body.active, true)
    assert.deepEqual(res.body.emails, [{ primary: true, value: 'test.user@okta.local', type: 'work' }])
    assert.ok(!('password' in res.body), 'password must not be returned')
  })

  // §"Update a specific User (PUT)" → "Update the User": Okta sends back the whole object it read, with the
  // change (middleName), including id, the readOnly groups and meta.
  test('Update the User (PUT): 200 with the replaced user and a new ETag', async () => {
    assert.ok(userId, 'Create the User must have passed')
    const res = await okta('PUT', `/Users/${userId}`, {
      schemas: [USER_SCHEMA],
      id: userId,
      userName: 'test.user@okta.local',
      name: { givenName: 'Another', middleName: 'Excited', familyName: 'User' },
      emails: [{ primary: true, value: 'test.user@okta.local', type: 'work', display: 'test.user@okta.local' }],
      active: true,
      groups: [],
      meta: { resourceType: 'User' },
    })
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.id, userId)
    assert.equal(res.body.userName, 'test.user@okta.local')
    assert.deepEqual(res.body.name, { givenName: 'Another', middleName: 'Excited', familyName: 'User' })
    assert.deepEqual(res.body.emails, [{ primary: true, value: 'test.user@okta.local', type: 'work', display: 'test.user@okta.local' }])
    assert.equal(res.body.active, true)
    const etag = res.headers.get('etag')
    assert.equal(etag, res.body.meta.version)
    assert.notEqual(etag, createdEtag, 'a replace must move the ETag')

    const stored = await okta('GET', `/Users/${userId}`)
    assert.deepEqual(stored.body.name, { givenName: 'Another', middleName: 'Excited', familyName: 'User' })
  })

  // §"Update a specific User (PATCH)": deactivation is a "replace" without path, value {"active": false}.
  // "The response from the SCIM server needs to be the updated User object" (or 204); Roster answers 200.
  test('Deactivate the User (PATCH): replace {"active": false} → 200 with active false', async () => {
    assert.ok(userId, 'Create the User must have passed')
    const res = await okta('PATCH', `/Users/${userId}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] })
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.id, userId)
    assert.strictEqual(res.body.active, false)
    assert.equal(res.body.userName, 'test.user@okta.local')
    assert.equal(res.body.name.middleName, 'Excited', 'the rest of the user is untouched')
  })

  // §"Delete Users": Okta never deletes; a deactivated user must still be found when Okta checks whether
  // the user exists (§"Create Users": "If the User is found on the SCIM server, but the Okta account isn't
  // active, activate the User in Okta").
  test('Determine if the User already exists, after deactivation: still found, active false', async () => {
    assert.ok(userId, 'Create the User must have passed')
    const res = await okta('GET', '/Users?filter=userName%20eq%20%22test.user%40okta.local%22&startIndex=1&count=100')
    const [found] = assertListResponse(res, 1)
    assert.equal(found.id, userId)
    assert.strictEqual(found.active, false)
  })

  // §"Update a specific User (PATCH)" lists "Activating a user" among the PATCH requests; its body is the
  // deactivation one with true.
  test('Activate the User (PATCH): replace {"active": true} → 200 with active true', async () => {
    assert.ok(userId, 'Create the User must have passed')
    const res = await okta('PATCH', `/Users/${userId}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: true } }] })
    assert.equal(res.status, 200, res.text)
    assert.strictEqual(res.body.active, true)
  })
})

describe('Okta §"SCIM Group operations", in order', () => {
  let groupId = ''
  // The two users of the reference's membership examples (23a35c27-… and 89bb1940-…), provisioned first.
  let userA = ''
  let userB = ''

  before(async () => {
    const a = await okta('POST', '/Users', createUserRequest('group.member.a@okta.local', '00ugroupmembera'))
    userA = assertCreated(a, '/Users')
    const b = await okta('POST', '/Users', createUserRequest('group.member.b@okta.local', '00ugroupmemberb'))
    userB = assertCreated(b, '/Users')
  })

  // §"Retrieve Groups": "Okta checks that the Group object exists on the SCIM server through a GET method
  // request with the filter=displayName eq "${groupName}"" before it pushes the group.
  test('Retrieve Groups by displayName before the push: empty ListResponse', async () => {
    const res = await okta('GET', '/Groups?filter=displayName%20eq%20%22Test%20SCIMv2%22&startIndex=1&count=100')
    assertListResponse(res, 0)
  })

  // §"Create Groups": POST /Groups with "members": [] → 201 Created.
  test('Create Groups: 201 with Location, ETag and the group', async () => {
    const res = await okta('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Test SCIMv2', members: [] })
    groupId = assertCreated(res, '/Groups')
    assert.deepEqual(res.body.schemas, [GROUP_SCHEMA])
    assert.equal(res.body.displayName, 'Test SCIMv2')
    assert.deepEqual(res.body.members ?? [], [])
    assert.equal(res.body.meta.resourceType, 'Group')
  })

  test('Retrieve Groups by displayName after the push: the group', async () => {
    assert.ok(groupId, 'Create Groups must have passed')
    const res = await okta('GET', '/Groups?filter=displayName%20eq%20%22Test%20SCIMv2%22&startIndex=1&count=100')
    const [found] = assertListResponse(res, 1)
    assert.equal(found.id, groupId)
    assert.equal(found.displayName, 'Test SCIMv2')
  })

  // §"Retrieve Groups": GET /Groups?startIndex=1&count=100.
  test('Retrieve Groups: startIndex=1&count=100 lists the group', async () => {
    assert.ok(groupId, 'Create Groups must have passed')
    const res = await okta('GET', '/Groups?startIndex=1&count=100')
    const resources = assertListResponse(res, 1)
    assert.equal(resources[0].id, groupId)
  })

  // §"Retrieve specific Groups": GET /Groups/{id}.
  test('Retrieve specific Groups: 200 with the group', async () => {
    assert.ok(groupId, 'Create Groups must have passed')
    const res = await okta('GET', `/Groups/${groupId}`)
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.id, groupId)
    assert.equal(res.body.displayName, 'Test SCIMv2')
    assert.match(res.headers.get('etag') ?? '', /^(W\/)?"[^"]*"$/)
  })

  // §"Update a specific Group name": "replace" without path; the value repeats the group's `id` (readOnly,
  // RFC 7643 §3.1) beside displayName. The reference allows 204; Roster answers 204 to a group PATCH that
  // does not ask for attributes.
  test('Update a specific Group name: replace {id, displayName} → 204', async () => {
    assert.ok(groupId, 'Create Groups must have passed')
    const res = await okta('PATCH', `/Groups/${groupId}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', value: { id: groupId, displayName: 'Test SCIMv2' } }],
    })
    assertNoContent(res)
    const stored = await okta('GET', `/Groups/${groupId}`)
    assert.equal(stored.body.id, groupId)
    assert.equal(stored.body.displayName, 'Test SCIMv2')
  })

  // The same request with the new name the reference's response shows ("Test SCIMv20"): the rename applies
  // and the `id` in the value changes nothing.
  test('Update a specific Group name to "Test SCIMv20": renamed, id unchanged', async () => {
    assert.ok(groupId, 'Create Groups must have passed')
    const res = await okta('PATCH', `/Groups/${groupId}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', value: { id: groupId, displayName: 'Test SCIMv20' } }],
    })
    assertNoContent(res)
    const stored = await okta('GET', `/Groups/${groupId}`)
    assert.equal(stored.body.id, groupId)
    assert.equal(stored.body.displayName, 'Test SCIMv20')
  })

  // §"Update specific Group membership", the "add" operation of the documented PATCH on its own: it puts
  // in the member that the documented request then removes.
  test('Update specific Group membership: add members [B] → 204, B is a member', async () => {
    assert.ok(groupId && userB, 'Create Groups must have passed')
    const res = await okta('PATCH', `/Groups/${groupId}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'add', path: 'members', value: [{ value: userB, display: 'group.member.b@okta.local' }] }],
    })
    assertNoContent(res)
    assert.deepEqual(await memberIdsOf(okta, groupId), [userB])
  })

  // §"Update specific Group membership", the documented PATCH: remove members[value eq "B"], then add A.
  test('Update specific Group membership: remove members[value eq "B"] and add A → 204, only A', async () => {
    assert.ok(groupId && userA && userB, 'Create Groups must have passed')
    const res = await okta('PATCH', `/Groups/${groupId}`, {
      schemas: [PATCH_OP],
      Operations: [
        { op: 'remove', path: `members[value eq "${userB}"]` },
        { op: 'add', path: 'members', value: [{ value: userA, display: 'test.user@okta.local' }] },
      ],
    })
    assertNoContent(res)
    assert.deepEqual(await memberIdsOf(okta, groupId), [userA])
  })

  // Okta re-sends membership on every push: adding a member it already has must not list it twice.
  test('Update specific Group membership: add A again → still one entry for A', async () => {
    assert.ok(groupId && userA, 'Create Groups must have passed')
    const res = await okta('PATCH', `/Groups/${groupId}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'add', path: 'members', value: [{ value: userA, display: 'test.user@okta.local' }] }],
    })
    assertNoContent(res)
    assert.deepEqual(await memberIdsOf(okta, groupId), [userA])
  })

  // §"Update specific Group membership": "a full push of the membership ... using the replace operation".
  test('Update specific Group membership: replace members [A, B] → 204, exactly A and B', async () => {
    assert.ok(groupId && userA && userB, 'Create Groups must have passed')
    const res = await okta('PATCH', `/Groups/${groupId}`, {
      schemas: [PATCH_OP],
      Operations: [
        {
          op: 'replace',
          path: 'members',
          value: [
            { value: userA, display: 'test.user@okta.local' },
            { value: userB, display: 'test.user@okta.local' },
          ],
        },
      ],
    })
    assertNoContent(res)
    assert.deepEqual(await memberIdsOf(okta, groupId), [userA, userB].sort())
  })

  // §"Update specific Group membership", custom (AIW) integrations: PUT /Groups/{id} with the whole group
  // → "The SCIM server response is to return the updated Group object".
  test('Update specific Group membership (PUT): 200, displayName and members replaced', async () => {
    assert.ok(groupId && userA, 'Create Groups must have passed')
    const res = await okta('PUT', `/Groups/${groupId}`, {
      schemas: [GROUP_SCHEMA],
      displayName: 'Test SCIMv2',
      members: [{ value: userA, display: 'test.user@okta.local' }],
    })
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.id, groupId)
    assert.equal(res.body.displayName, 'Test SCIMv2')
    assert.deepEqual((res.body.members ?? []).map((m: { value: string }) => m.value), [userA])
    assert.equal(res.headers.get('etag'), res.body.meta.version)
    assert.deepEqual(await memberIdsOf(okta, groupId), [userA])
  })

  // §"Delete a specific Group": DELETE /Groups/{id} → 204 No Content.
  test('Delete a specific Group: 204, then the group is gone (404)', async () => {
    assert.ok(groupId, 'Create Groups must have passed')
    assertNoContent(await okta('DELETE', `/Groups/${groupId}`))
    assertScimError(await okta('GET', `/Groups/${groupId}`), 404)
    const list = await okta('GET', '/Groups?filter=displayName%20eq%20%22Test%20SCIMv2%22&startIndex=1&count=100')
    assertListResponse(list, 0)
  })
})
