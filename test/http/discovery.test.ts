import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { assertScimError, ERROR_SCHEMA, startTestServer, type ScimResponse, type TestServer } from './harness.js'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
const SERVICE_PROVIDER_CONFIG = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'
const RESOURCE_TYPE = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType'
const SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema'
const LIST_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:ListResponse'
const ACME = 'urn:ietf:params:scim:schemas:extension:acme:2.0:User'
const SCIM_JSON = /^application\/scim\+json/

function assertStatus(res: ScimResponse, status: number): void {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`)
  if (res.text) assert.match(res.headers.get('content-type') ?? '', SCIM_JSON)
}

/** RFC 7643 §7: every attribute definition carries these characteristics, sub-attributes too. */
function assertAttributeDefinitions(attributes: any[], where: string): void {
  for (const a of attributes) {
    const here = `${where}.${a.name}`
    assert.equal(typeof a.name, 'string', here)
    assert.ok(['string', 'boolean', 'decimal', 'integer', 'dateTime', 'binary', 'reference', 'complex'].includes(a.type), `${here}.type ${a.type}`)
    assert.equal(typeof a.multiValued, 'boolean', `${here}.multiValued`)
    assert.equal(typeof a.required, 'boolean', `${here}.required`)
    assert.ok(['readOnly', 'readWrite', 'immutable', 'writeOnly'].includes(a.mutability), `${here}.mutability ${a.mutability}`)
    assert.ok(['always', 'never', 'default', 'request'].includes(a.returned), `${here}.returned ${a.returned}`)
    assert.ok(['none', 'server', 'global'].includes(a.uniqueness), `${here}.uniqueness ${a.uniqueness}`)
    if (a.type === 'string' || a.type === 'reference') assert.equal(typeof a.caseExact, 'boolean', `${here}.caseExact`)
    if (a.type === 'complex') {
      assert.ok(Array.isArray(a.subAttributes) && a.subAttributes.length > 0, `${here}.subAttributes`)
      assertAttributeDefinitions(a.subAttributes, here)
    }
  }
}

const byName = (attributes: any[], name: string) => attributes.find((a) => a.name === name)

describe('Discovery endpoints (RFC 7644 §4, RFC 7643 §5–§7)', () => {
  let srv: TestServer

  before(async () => {
    srv = await startTestServer()
  })
  after(async () => {
    await srv.close()
  })

  test('GET /ServiceProviderConfig describes patch, filter with maxResults, sort, etag, bulk and authenticationSchemes (RFC 7643 §5)', async () => {
    const res = await srv.request('GET', '/ServiceProviderConfig')
    assertStatus(res, 200)
    const c = res.body
    assert.deepEqual(c.schemas, [SERVICE_PROVIDER_CONFIG])
    assert.deepEqual(c.patch, { supported: true })
    assert.equal(c.filter.supported, true)
    assert.equal(c.filter.maxResults, 1000)
    assert.deepEqual(c.sort, { supported: true })
    assert.deepEqual(c.etag, { supported: true })
    // RFC 7644 §3.7.4 limits, the defaults of ROSTER_BULK_MAX_OPERATIONS and ROSTER_BULK_MAX_PAYLOAD.
    assert.deepEqual(c.bulk, { supported: true, maxOperations: 1000, maxPayloadSize: 4_194_304 })
    assert.equal(typeof c.changePassword.supported, 'boolean')
    assert.ok(Array.isArray(c.authenticationSchemes) && c.authenticationSchemes.length > 0)
    const bearer = c.authenticationSchemes.find((s: any) => s.type === 'oauthbearertoken')
    assert.ok(bearer, 'an oauthbearertoken scheme (RFC 7643 §5)')
    assert.equal(typeof bearer.name, 'string')
    assert.equal(typeof bearer.description, 'string')
    assert.equal(c.meta.resourceType, 'ServiceProviderConfig')
    assert.equal(c.meta.location, `${srv.baseUrl}/ServiceProviderConfig`)
  })

  test('GET /ResourceTypes lists User and Group (RFC 7644 §4, RFC 7643 §6)', async () => {
    const res = await srv.request('GET', '/ResourceTypes')
    assertStatus(res, 200)
    assert.deepEqual(res.body.schemas, [LIST_RESPONSE])
    assert.equal(res.body.totalResults, 2)
    const types = new Map<string, any>(res.body.Resources.map((t: any) => [t.id, t]))
    assert.deepEqual([...types.keys()].sort(), ['Group', 'User'])
    const user = types.get('User')
    assert.deepEqual(user.schemas, [RESOURCE_TYPE])
    assert.equal(user.name, 'User')
    assert.equal(user.endpoint, '/Users')
    assert.equal(user.schema, USER)
    assert.deepEqual(user.schemaExtensions, [{ schema: ENTERPRISE, required: false }])
    const group = types.get('Group')
    assert.equal(group.endpoint, '/Groups')
    assert.equal(group.schema, GROUP)
  })

  test('GET /ResourceTypes/User answers the User resource type (RFC 7644 §4)', async () => {
    const res = await srv.request('GET', '/ResourceTypes/User')
    assertStatus(res, 200)
    assert.deepEqual(res.body.schemas, [RESOURCE_TYPE])
    assert.equal(res.body.id, 'User')
    assert.equal(res.body.endpoint, '/Users')
    assert.equal(res.body.schema, USER)
    assert.equal(res.body.meta.resourceType, 'ResourceType')
    assert.equal(res.body.meta.location, `${srv.baseUrl}/ResourceTypes/User`)
  })

  test('GET /ResourceTypes/Group answers the Group resource type (RFC 7644 §4)', async () => {
    const res = await srv.request('GET', '/ResourceTypes/Group')
    assertStatus(res, 200)
    assert.equal(res.body.id, 'Group')
    assert.deepEqual(res.body.schemaExtensions, [])
  })

  test('GET /Schemas lists the User, Group and Enterprise User schemas (RFC 7644 §4, RFC 7643 §7)', async () => {
    const res = await srv.request('GET', '/Schemas')
    assertStatus(res, 200)
    assert.deepEqual(res.body.schemas, [LIST_RESPONSE])
    assert.equal(res.body.totalResults, 3)
    const ids = res.body.Resources.map((s: any) => s.id).sort()
    assert.deepEqual(ids, [ENTERPRISE, GROUP, USER].sort())
    for (const s of res.body.Resources) {
      assert.deepEqual(s.schemas, [SCHEMA])
      assertAttributeDefinitions(s.attributes, s.id)
    }
  })

  test('GET /Schemas/{User URN} lists every attribute of RFC 7643 §4.1 with its characteristics', async () => {
    const res = await srv.request('GET', `/Schemas/${USER}`)
    assertStatus(res, 200)
    const s = res.body
    assert.deepEqual(s.schemas, [SCHEMA])
    assert.equal(s.id, USER)
    assert.equal(s.name, 'User')
    assert.equal(s.meta.resourceType, 'Schema')
    assert.equal(s.meta.location, `${srv.baseUrl}/Schemas/${USER}`)
    const names = s.attributes.map((a: any) => a.name)
    // RFC 7643 §4.1.1 singular, §4.1.2 multi-valued.
    const rfc = [
      'userName', 'name', 'displayName', 'nickName', 'profileUrl', 'title', 'userType', 'preferredLanguage', 'locale', 'timezone', 'active', 'password',
      'emails', 'phoneNumbers', 'ims', 'photos', 'addresses', 'groups', 'entitlements', 'roles', 'x509Certificates',
    ]
    for (const name of rfc) assert.ok(names.includes(name), `User schema lists ${name}`)
    assertAttributeDefinitions(s.attributes, 'User')

    const userName = byName(s.attributes, 'userName')
    assert.equal(userName.required, true)
    assert.equal(userName.uniqueness, 'server')
    assert.equal(userName.caseExact, false)
    const password = byName(s.attributes, 'password')
    assert.equal(password.mutability, 'writeOnly')
    assert.equal(password.returned, 'never')
    const groups = byName(s.attributes, 'groups')
    assert.equal(groups.mutability, 'readOnly')
    assert.equal(groups.multiValued, true)
    assert.deepEqual(byName(s.attributes, 'name').subAttributes.map((a: any) => a.name).sort(), ['familyName', 'formatted', 'givenName', 'honorificPrefix', 'honorificSuffix', 'middleName'])
    assert.deepEqual(byName(s.attributes, 'emails').subAttributes.map((a: any) => a.name).sort(), ['display', 'primary', 'type', 'value'])
    assert.deepEqual(
      byName(s.attributes, 'addresses').subAttributes.map((a: any) => a.name).sort(),
      ['country', 'formatted', 'locality', 'postalCode', 'primary', 'region', 'streetAddress', 'type'],
    )
    assert.equal(byName(s.attributes, 'active').type, 'boolean')
    assert.equal(byName(s.attributes, 'profileUrl').type, 'reference')
  })

  test('GET /Schemas/{Enterprise URN} lists the Enterprise User attributes (RFC 7643 §4.3)', async () => {
    const res = await srv.request('GET', `/Schemas/${ENTERPRISE}`)
    assertStatus(res, 200)
    assert.equal(res.body.id, ENTERPRISE)
    assert.deepEqual(res.body.attributes.map((a: any) => a.name).sort(), ['costCenter', 'department', 'division', 'employeeNumber', 'manager', 'organization'])
    assert.deepEqual(byName(res.body.attributes, 'manager').subAttributes.map((a: any) => a.name).sort(), ['$ref', 'displayName', 'value'])
  })

  test('GET /Schemas/{Group URN} lists displayName and members (RFC 7643 §4.2)', async () => {
    const res = await srv.request('GET', `/Schemas/${GROUP}`)
    assertStatus(res, 200)
    assert.deepEqual(res.body.attributes.map((a: any) => a.name).sort(), ['displayName', 'members'])
    assert.deepEqual(byName(res.body.attributes, 'members').subAttributes.map((a: any) => a.name).sort(), ['$ref', 'display', 'type', 'value'])
  })

  const missing = ['/ResourceTypes/Printer', '/Schemas/urn:ietf:params:scim:schemas:core:2.0:Printer']
  for (const path of missing) {
    test(`GET ${path} → 404 SCIM error (RFC 7644 §3.12)`, async () => {
      assertScimError(await srv.request('GET', path), 404)
    })
  }

  const filtered = ['/ServiceProviderConfig', '/ResourceTypes', '/Schemas']
  for (const path of filtered) {
    test(`GET ${path}?filter=… → 403 (RFC 7644 §4 "SHOULD respond with HTTP status code 403")`, async () => {
      assertScimError(await srv.request('GET', `${path}?filter=${encodeURIComponent('name eq "User"')}`), 403)
    })
  }

  const writes: readonly { method: string; path: string }[] = [
    { method: 'POST', path: '/ServiceProviderConfig' },
    { method: 'PUT', path: '/ServiceProviderConfig' },
    { method: 'PATCH', path: '/ServiceProviderConfig' },
    { method: 'DELETE', path: '/ServiceProviderConfig' },
    { method: 'POST', path: '/ResourceTypes' },
    { method: 'PUT', path: '/ResourceTypes/User' },
    { method: 'DELETE', path: '/ResourceTypes/User' },
    { method: 'POST', path: '/Schemas' },
    { method: 'PUT', path: `/Schemas/${USER}` },
    { method: 'DELETE', path: `/Schemas/${USER}` },
  ]
  for (const { method, path } of writes) {
    test(`${method} ${path} → 405 with Allow: GET (RFC 7644 §4, RFC 9110 §15.5.6)`, async () => {
      const res = await srv.request(method, path, method === 'DELETE' ? undefined : { schemas: [SCHEMA] })
      assertScimError(res, 405)
      assert.match(res.headers.get('allow') ?? '', /\bGET\b/)
    })
  }
})

describe('An extension schema file (ROSTER_SCHEMAS_FILE, RFC 7643 §7)', () => {
  let srv: TestServer
  let dir: string

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'roster-schemas-'))
    const file = join(dir, 'schemas.json')
    const acme = {
      id: ACME,
      name: 'AcmeUser',
      description: 'Acme Corp. additions to User',
      attributes: [
        {
          name: 'costCenterCode',
          type: 'string',
          multiValued: false,
          description: 'The cost center code the user is billed to',
          required: false,
          caseExact: false,
          mutability: 'readWrite',
          returned: 'default',
          uniqueness: 'none',
        },
        {
          name: 'badges',
          type: 'string',
          multiValued: true,
          description: 'Badges the user holds',
          required: false,
          caseExact: false,
          mutability: 'readWrite',
          returned: 'default',
          uniqueness: 'none',
        },
      ],
      meta: { resourceType: 'Schema', location: `/v2/Schemas/${ACME}` },
    }
    writeFileSync(file, JSON.stringify([acme], null, 2))
    srv = await startTestServer({ ROSTER_SCHEMAS_FILE: file })
  })
  after(async () => {
    await srv.close()
    rmSync(dir, { recursive: true, force: true })
  })

  test('the extension schema appears in /Schemas and at /Schemas/{urn} (RFC 7643 §7)', async () => {
    const list = await srv.request('GET', '/Schemas')
    assertStatus(list, 200)
    assert.ok(list.body.Resources.some((s: any) => s.id === ACME), 'listed in /Schemas')
    const res = await srv.request('GET', `/Schemas/${ACME}`)
    assertStatus(res, 200)
    assert.equal(res.body.name, 'AcmeUser')
    assertAttributeDefinitions(res.body.attributes, 'acme')
    const code = byName(res.body.attributes, 'costCenterCode')
    assert.equal(code.type, 'string')
    assert.equal(code.multiValued, false)
    const badges = byName(res.body.attributes, 'badges')
    assert.equal(badges.type, 'string')
    assert.equal(badges.multiValued, true)
  })

  test('the extension is listed in /ResourceTypes/User schemaExtensions (RFC 7643 §6)', async () => {
    const res = await srv.request('GET', '/ResourceTypes/User')
    assertStatus(res, 200)
    assert.deepEqual(
      res.body.schemaExtensions.map((e: any) => [e.schema, e.required]).sort(),
      [[ACME, false], [ENTERPRISE, false]].sort(),
    )
  })

  test('extension attributes round-trip on POST and GET, and filter finds them (RFC 7643 §3.3, RFC 7644 §3.4.2.2)', async () => {
    const created = await srv.request('POST', '/Users', {
      schemas: [USER, ACME],
      userName: 'acme.user',
      [ACME]: { costCenterCode: 'CC-42', badges: ['gold', 'silver'] },
    })
    assertStatus(created, 201)
    assert.ok(created.body.schemas.includes(ACME))
    assert.deepEqual(created.body[ACME], { costCenterCode: 'CC-42', badges: ['gold', 'silver'] })
    const got = await srv.request('GET', `/Users/${created.body.id}`)
    assertStatus(got, 200)
    assert.deepEqual(got.body[ACME], { costCenterCode: 'CC-42', badges: ['gold', 'silver'] })

    for (const filter of [`${ACME}:costCenterCode eq "CC-42"`, `${ACME}:costCenterCode eq "cc-42"`, `${ACME}:badges eq "silver"`, `${ACME}:badges pr`, 'costCenterCode sw "CC"']) {
      const res = await srv.request('GET', `/Users?filter=${encodeURIComponent(filter)}`)
      assertStatus(res, 200)
      assert.deepEqual(
        (res.body.Resources ?? []).map((r: any) => r.id),
        [created.body.id],
        filter,
      )
    }
    const none = await srv.request('GET', `/Users?filter=${encodeURIComponent(`${ACME}:badges eq "bronze"`)}`)
    assertStatus(none, 200)
    assert.equal(none.body.totalResults, 0)
  })

  test('PATCH with an extension attribute path updates it (RFC 7644 §3.5.2)', async () => {
    const created = await srv.request('POST', '/Users', { schemas: [USER, ACME], userName: 'acme.patch', [ACME]: { costCenterCode: 'CC-1' } })
    assertStatus(created, 201)
    const res = await srv.request('PATCH', `/Users/${created.body.id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [
        { op: 'replace', path: `${ACME}:costCenterCode`, value: 'CC-2' },
        { op: 'add', path: `${ACME}:badges`, value: ['bronze'] },
      ],
    })
    assertStatus(res, 200)
    assert.deepEqual(res.body[ACME], { costCenterCode: 'CC-2', badges: ['bronze'] })
  })

  const invalid: readonly { title: string; ext: unknown; scimType: string }[] = [
    { title: 'a number for the string costCenterCode', ext: { costCenterCode: 42 }, scimType: 'invalidValue' },
    { title: 'numbers in the string badges', ext: { badges: [1, 2] }, scimType: 'invalidValue' },
    { title: 'an array for the single-valued costCenterCode', ext: { costCenterCode: ['a', 'b'] }, scimType: 'invalidValue' },
    { title: 'an attribute the extension does not define', ext: { shoeSize: '42' }, scimType: 'invalidSyntax' },
  ]
  for (const [i, { title, ext, scimType }] of invalid.entries()) {
    test(`POST /Users with ${title} → 400 ${scimType} (RFC 7644 §3.3, §3.12)`, async () => {
      const res = await srv.request('POST', '/Users', { schemas: [USER, ACME], userName: `acme.invalid.${i}`, [ACME]: ext })
      assertScimError(res, 400, scimType)
    })
  }
})
