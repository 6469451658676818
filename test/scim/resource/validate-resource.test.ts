import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { ScimError, type ScimType } from '../../../src/scim/errors.js'
import { validateResource, type ValidateOptions } from '../../../src/scim/resource/validate-resource.js'
import { defineAttribute as attr, type ScimObject } from '../../../src/scim/schema/attribute.js'
import { SchemaRegistry } from '../../../src/scim/schema/schema-registry.js'
import { ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA } from '../../../src/scim/urns.js'

const registry = SchemaRegistry.withCoreSchemas()
const ENT = ENTERPRISE_USER_SCHEMA

/** A custom extension exercising what the core schemas lack: immutable attributes and every scalar type. */
const BADGE_SCHEMA = 'urn:example:params:scim:schemas:extension:badge:2.0:User'
const badgeRegistry = SchemaRegistry.withCoreSchemas([
  {
    schema: {
      id: BADGE_SCHEMA,
      name: 'Badge',
      attributes: [
        attr('badgeId', { required: true, mutability: 'immutable', caseExact: false }),
        attr('level', { type: 'integer' }),
        attr('ratio', { type: 'decimal' }),
        attr('issuedAt', { type: 'dateTime' }),
        attr('photo', { type: 'binary' }),
        attr('checksum', { mutability: 'readOnly' }),
        attr('tags', { multiValued: true }),
        attr('issuer', { subAttributes: [attr('id', { mutability: 'immutable' }), attr('name'), attr('code', { required: true })] }),
      ],
    },
    resourceTypes: ['User'],
    required: false,
  },
])
const REQUIRED_SCHEMA = 'urn:example:params:scim:schemas:extension:hr:2.0:User'
const requiredExtensionRegistry = SchemaRegistry.withCoreSchemas([
  { schema: { id: REQUIRED_SCHEMA, name: 'Hr', attributes: [attr('costCode')] }, resourceTypes: ['User'], required: true },
])

const fixture = (name: string): ScimObject => JSON.parse(readFileSync(join(process.cwd(), 'test/fixtures/rfc7643', name), 'utf8')) as ScimObject

const createUser = (input: unknown, reg = registry) => validateResource(input, { registry: reg, resourceType: 'User', context: 'create' })
const createGroup = (input: unknown) => validateResource(input, { registry, resourceType: 'Group', context: 'create' })

function assertScimError(fn: () => unknown, scimType: ScimType, ...details: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ScimError, `expected a ScimError, got ${String(e)}`)
    assert.equal(e.status, 400)
    assert.equal(e.scimType, scimType)
    for (const d of details) assert.match(e.detail, d)
    return true
  })
}

describe('RFC 7643 §8 examples', () => {
  test('§8.2 full user: readOnly id, meta and groups dropped, writeOnly password kept', () => {
    const { id, meta, groups, ...expected } = fixture('8.2-full-user.json')
    assert.ok(id && meta && groups)
    assert.deepEqual(createUser(fixture('8.2-full-user.json')), expected)
  })

  test('§8.3 enterprise user: extension kept under its URN, manager.displayName (readOnly) dropped', () => {
    const input = fixture('8.3-enterprise-user.json')
    const { id, meta, groups, [ENT]: enterprise, ...core } = input
    const { manager, ...rest } = enterprise as { manager: { displayName: string } & ScimObject }
    const { displayName, ...managerWithoutDisplay } = manager
    assert.ok(id && meta && groups && displayName)
    assert.deepEqual(createUser(input), { ...core, [ENT]: { ...rest, manager: managerWithoutDisplay } })
  })

  test('§8.4 group: members keep only value; display (readOnly) and $ref (server-computed) dropped', () => {
    assert.deepEqual(createGroup(fixture('8.4-group.json')), {
      schemas: [GROUP_SCHEMA],
      displayName: 'Tour Guides',
      members: [{ value: '2819c223-7f76-453a-919d-413861904646' }, { value: '902c246b-6245-4190-8e05-00816be7344a' }],
    })
  })

  test('§8.2 full user validated twice gives the same document (the canonical form is a fixed point)', () => {
    const once = createUser(fixture('8.2-full-user.json'))
    assert.deepEqual(createUser(once), once)
  })
})

describe('canonical names and schemas (RFC 7643 §2.1, §3)', () => {
  const cases: { title: string; input: ScimObject; expected: ScimObject }[] = [
    {
      title: 'attribute and sub-attribute names match case-insensitively and come back canonical (§2.1)',
      input: { USERNAME: 'bjensen', Name: { GIVENNAME: 'Barbara' }, EMAILS: [{ Value: 'b@example.com', PRIMARY: true }] },
      expected: { schemas: [USER_SCHEMA], userName: 'bjensen', name: { givenName: 'Barbara' }, emails: [{ value: 'b@example.com', primary: true }] },
    },
    {
      title: 'missing schemas is filled in',
      input: { userName: 'bjensen' },
      expected: { schemas: [USER_SCHEMA], userName: 'bjensen' },
    },
    {
      title: 'schemas without the core URN gets it added, first',
      input: { schemas: [ENT], userName: 'bjensen', [ENT]: { department: 'Tours' } },
      expected: { schemas: [USER_SCHEMA, ENT], userName: 'bjensen', [ENT]: { department: 'Tours' } },
    },
    {
      title: 'schema URNs match case-insensitively and come back canonical, deduplicated',
      input: { schemas: ['URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER', USER_SCHEMA, ENT.toLowerCase()], userName: 'bjensen' },
      expected: { schemas: [USER_SCHEMA, ENT], userName: 'bjensen' },
    },
    {
      title: 'an extension listed in schemas without data stays listed',
      input: { schemas: [USER_SCHEMA, ENT], userName: 'bjensen' },
      expected: { schemas: [USER_SCHEMA, ENT], userName: 'bjensen' },
    },
    {
      title: 'an extension with data but not listed in schemas is added to schemas',
      input: { schemas: [USER_SCHEMA], userName: 'bjensen', [ENT.toUpperCase()]: { Department: 'Tours' } },
      expected: { schemas: [USER_SCHEMA, ENT], userName: 'bjensen', [ENT]: { department: 'Tours' } },
    },
    {
      title: 'an extension object that is empty after dropping leaves schemas as the client listed it',
      input: { userName: 'bjensen', [ENT]: { department: null } },
      expected: { schemas: [USER_SCHEMA], userName: 'bjensen' },
    },
    {
      title: 'Entra: URN-qualified extension attribute at the top level is expanded into the extension',
      input: { userName: 'bjensen', [`${ENT}:department`]: 'Tours', [`${ENT}:manager`]: 'boss-id' },
      expected: { schemas: [USER_SCHEMA, ENT], userName: 'bjensen', [ENT]: { department: 'Tours', manager: { value: 'boss-id' } } },
    },
    {
      title: 'Entra: URN-qualified core attribute and dotted sub-attribute are expanded into place',
      input: { [`${USER_SCHEMA}:userName`]: 'bjensen', 'name.givenName': 'Barbara', 'NAME.familyName': 'Jensen' },
      expected: { schemas: [USER_SCHEMA], userName: 'bjensen', name: { givenName: 'Barbara', familyName: 'Jensen' } },
    },
    {
      title: 'dotted keys merge with the complex value given whole',
      input: { userName: 'bjensen', name: { givenName: 'Barbara' }, 'name.familyName': 'Jensen' },
      expected: { schemas: [USER_SCHEMA], userName: 'bjensen', name: { givenName: 'Barbara', familyName: 'Jensen' } },
    },
    {
      title: 'URN-qualified extension sub-attribute (manager.value) is expanded',
      input: { userName: 'bjensen', [`${ENT}:manager.value`]: 'boss-id' },
      expected: { schemas: [USER_SCHEMA, ENT], userName: 'bjensen', [ENT]: { manager: { value: 'boss-id' } } },
    },
    {
      title: 'dotted key inside the extension object is expanded',
      input: { userName: 'bjensen', [ENT]: { 'manager.value': 'boss-id' } },
      expected: { schemas: [USER_SCHEMA, ENT], userName: 'bjensen', [ENT]: { manager: { value: 'boss-id' } } },
    },
  ]
  for (const { title, input, expected } of cases) test(title, () => assert.deepEqual(createUser(input), expected))

  test('output keys: schemas, then core attributes in schema order, then extensions', () => {
    const out = createUser({ [ENT]: { department: 'x' }, title: 'T', externalId: 'e', userName: 'u' })
    assert.deepEqual(Object.keys(out), ['schemas', 'externalId', 'userName', 'title', ENT])
  })

  const syntaxCases: { title: string; input: unknown; detail: RegExp; resourceType?: string }[] = [
    { title: 'body that is an array', input: [{ userName: 'x' }], detail: /JSON object/ },
    { title: 'body that is a string', input: 'userName=x', detail: /JSON object/ },
    { title: 'body that is null', input: null, detail: /JSON object/ },
    { title: 'schemas that is a string', input: { schemas: USER_SCHEMA, userName: 'x' }, detail: /"schemas" must be an array/ },
    { title: 'schemas holding a non-string', input: { schemas: [USER_SCHEMA, 7], userName: 'x' }, detail: /"schemas" must be an array/ },
    { title: 'data under a URN that schemas lists but no schema defines', input: { schemas: [USER_SCHEMA, 'urn:example:nope'], userName: 'x', 'urn:example:nope': { a: 1 } }, detail: /urn:example:nope/ },
    { title: 'schemas naming the Group schema on a User', input: { schemas: [GROUP_SCHEMA], userName: 'x' }, detail: /Group/ },
    { title: 'unknown top-level attribute', input: { userName: 'x', shoeSize: 42 }, detail: /Unknown attribute "shoeSize"/ },
    { title: 'unknown sub-attribute', input: { userName: 'x', name: { nickname: 'B' } }, detail: /Unknown sub-attribute "name\.nickname"/ },
    { title: 'unknown sub-attribute of a multi-valued attribute', input: { userName: 'x', emails: [{ value: 'a@b', label: 'w' }] }, detail: /emails\[0\]\.label/ },
    { title: 'unknown dotted sub-attribute', input: { userName: 'x', 'name.middle': 'J' }, detail: /Unknown sub-attribute "name\.middle"/ },
    { title: 'unknown extension attribute', input: { userName: 'x', [ENT]: { floor: 3 } }, detail: /Unknown attribute ".*enterprise:2\.0:User:floor"/ },
    { title: 'unknown URN-qualified attribute', input: { userName: 'x', [`${ENT}:floor`]: 3 }, detail: /floor/ },
    { title: 'extension attribute without its URN at the top level (RFC 7643 §3.3)', input: { userName: 'x', department: 'Tours' }, detail: /Unknown attribute "department"/ },
    { title: 'extension of another resource type (enterprise on a Group)', input: { displayName: 'g', [ENT]: { department: 'x' } }, detail: /Unknown attribute ".*enterprise:2\.0:User"/, resourceType: 'Group' },
    { title: 'extension value that is not an object', input: { userName: 'x', [ENT]: 'Tours' }, detail: /must be a JSON object/ },
    { title: 'the same attribute twice, differing in case (§2.1)', input: { userName: 'x', USERNAME: 'y' }, detail: /appears more than once/ },
    { title: 'the same extension attribute twice, qualified and nested', input: { userName: 'x', [ENT]: { department: 'a' }, [`${ENT}:department`]: 'b' }, detail: /department" appears more than once/ },
    { title: 'the same sub-attribute twice, whole and dotted', input: { userName: 'x', name: { givenName: 'a' }, 'name.givenName': 'b' }, detail: /name\.givenName" appears more than once/ },
    { title: 'a dotted key into a multi-valued attribute', input: { userName: 'x', 'emails.value': 'a@b' }, detail: /multi-valued/ },
    { title: 'the core schema URN used as a key', input: { userName: 'x', [USER_SCHEMA]: { title: 'T' } }, detail: /core schema/ },
  ]
  for (const { title, input, detail, resourceType = 'User' } of syntaxCases) {
    test(`rejects ${title} with invalidSyntax`, () =>
      assertScimError(() => validateResource(input, { registry, resourceType, context: 'create' }), 'invalidSyntax', detail))
  }
})

test('a surrogate pair (an astral character) is well-formed text and kept', () => {
  const user = createUser(JSON.parse('{"userName":"u\\ud83d\\ude00"}'))
  assert.equal(user.userName, 'u\u{1F600}')
})

describe('unassigned values are dropped (RFC 7643 §2.5)', () => {
  const cases: { title: string; input: ScimObject; expected: ScimObject }[] = [
    { title: 'null attribute', input: { userName: 'u', title: null }, expected: { schemas: [USER_SCHEMA], userName: 'u' } },
    { title: 'empty array', input: { userName: 'u', emails: [] }, expected: { schemas: [USER_SCHEMA], userName: 'u' } },
    { title: 'empty complex object', input: { userName: 'u', name: {} }, expected: { schemas: [USER_SCHEMA], userName: 'u' } },
    { title: 'complex object of nulls', input: { userName: 'u', name: { givenName: null } }, expected: { schemas: [USER_SCHEMA], userName: 'u' } },
    { title: 'null and empty elements of a multi-valued attribute', input: { userName: 'u', emails: [null, {}, { value: 'a@b' }] }, expected: { schemas: [USER_SCHEMA], userName: 'u', emails: [{ value: 'a@b' }] } },
    { title: 'null sub-attribute next to a value', input: { userName: 'u', name: { givenName: 'B', familyName: null } }, expected: { schemas: [USER_SCHEMA], userName: 'u', name: { givenName: 'B' } } },
    { title: 'null extension object', input: { userName: 'u', [ENT]: null }, expected: { schemas: [USER_SCHEMA], userName: 'u' } },
    { title: 'null schemas', input: { schemas: null, userName: 'u' }, expected: { schemas: [USER_SCHEMA], userName: 'u' } },
  ]
  for (const { title, input, expected } of cases) test(`drops ${title}`, () => assert.deepEqual(createUser(input), expected))
})

describe('mutability (RFC 7643 §2.2, RFC 7644 §3.5.1)', () => {
  const cases: { title: string; input: ScimObject; expected: ScimObject; reg?: SchemaRegistry; type?: string }[] = [
    {
      title: 'ignores readOnly id and meta on create (§3.1)',
      input: { id: 'client-chosen', meta: { resourceType: 'User', created: 'not even a date' }, userName: 'u' },
      expected: { schemas: [USER_SCHEMA], userName: 'u' },
    },
    {
      title: 'ignores readOnly groups, whatever their shape (§4.1.2)',
      input: { userName: 'u', groups: 'garbage' },
      expected: { schemas: [USER_SCHEMA], userName: 'u' },
    },
    {
      title: 'ignores readOnly manager.displayName (§4.3)',
      input: { userName: 'u', [ENT]: { manager: { value: 'm', displayName: 'Boss' } } },
      expected: { schemas: [USER_SCHEMA, ENT], userName: 'u', [ENT]: { manager: { value: 'm' } } },
    },
    {
      title: 'ignores a readOnly attribute of a custom extension',
      input: { userName: 'u', [BADGE_SCHEMA]: { badgeId: 'b1', checksum: 'abc' } },
      expected: { schemas: [USER_SCHEMA, BADGE_SCHEMA], userName: 'u', [BADGE_SCHEMA]: { badgeId: 'b1' } },
      reg: badgeRegistry,
    },
    {
      title: 'ignores a dotted key into a readOnly attribute',
      input: { userName: 'u', 'meta.created': '2020-01-01T00:00:00Z' },
      expected: { schemas: [USER_SCHEMA], userName: 'u' },
    },
    {
      title: 'keeps writeOnly password for the caller to hash',
      input: { userName: 'u', password: 't1meMa$heen' },
      expected: { schemas: [USER_SCHEMA], userName: 'u', password: 't1meMa$heen' },
    },
    {
      title: 'accepts immutable values on create',
      input: { userName: 'u', [BADGE_SCHEMA]: { badgeId: 'b1', issuer: { id: 'i1', code: 'c' } } },
      expected: { schemas: [USER_SCHEMA, BADGE_SCHEMA], userName: 'u', [BADGE_SCHEMA]: { badgeId: 'b1', issuer: { id: 'i1', code: 'c' } } },
      reg: badgeRegistry,
    },
  ]
  for (const { title, input, expected, reg } of cases) test(title, () => assert.deepEqual(createUser(input, reg), expected))

  const existing: ScimObject = {
    schemas: [USER_SCHEMA, BADGE_SCHEMA],
    id: 'u1',
    meta: { resourceType: 'User' },
    userName: 'bjensen',
    password: '$argon2id$stored-hash',
    groups: [{ value: 'g1' }],
    [BADGE_SCHEMA]: { badgeId: 'B-1', checksum: 'c', issuer: { id: 'I-1', name: 'HQ', code: 'x' } },
  }
  const replace = (input: ScimObject) => validateResource(input, { registry: badgeRegistry, resourceType: 'User', context: 'replace', existing })

  test('replace keeps an immutable value the input omits', () => {
    assert.deepEqual(replace({ userName: 'bjensen' }), {
      schemas: [USER_SCHEMA, BADGE_SCHEMA],
      userName: 'bjensen',
      [BADGE_SCHEMA]: { badgeId: 'B-1', issuer: { id: 'I-1' } },
    })
  })

  test('replace accepts the same immutable value, compared by caseExact (stored spelling kept)', () => {
    const out = replace({ userName: 'bjensen', [BADGE_SCHEMA]: { badgeId: 'b-1', issuer: { id: 'I-1', code: 'y' } } })
    assert.deepEqual(out[BADGE_SCHEMA], { badgeId: 'B-1', issuer: { id: 'I-1', code: 'y' } })
  })

  test('replace treats null for an immutable value as omitted (§2.5)', () => {
    const out = replace({ userName: 'bjensen', [BADGE_SCHEMA]: { badgeId: null } })
    assert.deepEqual(out[BADGE_SCHEMA], { badgeId: 'B-1', issuer: { id: 'I-1' } })
  })

  test('replace rejects a different immutable value with mutability (RFC 7644 §3.5.1)', () => {
    assertScimError(() => replace({ userName: 'bjensen', [BADGE_SCHEMA]: { badgeId: 'B-2' } }), 'mutability', /badgeId" is immutable/)
  })

  test('replace rejects a different immutable sub-attribute of a single-valued complex attribute', () => {
    assertScimError(() => replace({ userName: 'bjensen', [BADGE_SCHEMA]: { badgeId: 'B-1', issuer: { id: 'I-2', code: 'x' } } }), 'mutability', /issuer\.id" is immutable/)
  })

  test('replace accepts a first value for an immutable attribute that had none', () => {
    const out = validateResource(
      { userName: 'bjensen', [BADGE_SCHEMA]: { badgeId: 'B-9' } },
      { registry: badgeRegistry, resourceType: 'User', context: 'replace', existing: { schemas: [USER_SCHEMA], id: 'u1', userName: 'bjensen' } },
    )
    assert.deepEqual(out[BADGE_SCHEMA], { badgeId: 'B-9' })
  })

  test("replace without existing skips the immutable check (as on create)", () => {
    const out = validateResource({ userName: 'u', [BADGE_SCHEMA]: { badgeId: 'B-2' } }, { registry: badgeRegistry, resourceType: 'User', context: 'replace' })
    assert.deepEqual(out[BADGE_SCHEMA], { badgeId: 'B-2' })
  })

  test('create ignores existing: immutable values are accepted', () => {
    const out = validateResource({ userName: 'u', [BADGE_SCHEMA]: { badgeId: 'B-2' } }, { registry: badgeRegistry, resourceType: 'User', context: 'create', existing })
    assert.deepEqual(out[BADGE_SCHEMA], { badgeId: 'B-2' })
  })

  test('replace carries over neither writeOnly password nor readOnly id, meta, groups (the caller owns them)', () => {
    const out = replace({ userName: 'bjensen' })
    for (const key of ['password', 'id', 'meta', 'groups']) assert.equal(key in out, false, key)
  })

  test('replace of group members is not an immutable change: PUT replaces the member set', () => {
    const options: ValidateOptions = {
      registry,
      resourceType: 'Group',
      context: 'replace',
      existing: { schemas: [GROUP_SCHEMA], id: 'g1', displayName: 'G', members: [{ value: 'a' }, { value: 'b' }] },
    }
    assert.deepEqual(validateResource({ displayName: 'G', members: [{ value: 'c' }] }, options).members, [{ value: 'c' }])
  })
})

describe('required attributes (RFC 7643 §2.2)', () => {
  const cases: { title: string; run: () => unknown; detail: RegExp }[] = [
    { title: 'userName missing on a User (§4.1.1)', run: () => createUser({ name: { givenName: 'B' } }), detail: /"userName" is required/ },
    { title: 'userName null on a User', run: () => createUser({ userName: null }), detail: /"userName" is required/ },
    { title: 'userName empty on a User', run: () => createUser({ userName: '' }), detail: /"userName" is required/ },
    { title: 'displayName missing on a Group (§4.2)', run: () => createGroup({ members: [] }), detail: /"displayName" is required/ },
    {
      title: 'a required extension attribute, when the extension has data',
      run: () => createUser({ userName: 'u', [BADGE_SCHEMA]: { level: 2 } }, badgeRegistry),
      detail: /badge:2\.0:User:badgeId" is required/,
    },
    {
      title: 'a required sub-attribute of a complex value',
      run: () => createUser({ userName: 'u', [BADGE_SCHEMA]: { badgeId: 'b', issuer: { name: 'HQ' } } }, badgeRegistry),
      detail: /issuer\.code" is required/,
    },
    {
      title: 'an extension the resource type declares required (RFC 7643 §6)',
      run: () => createUser({ userName: 'u' }, requiredExtensionRegistry),
      detail: /extension ".*hr:2\.0:User" is required/,
    },
  ]
  for (const { title, run, detail } of cases) test(`rejects ${title} with invalidValue`, () => assertScimError(run, 'invalidValue', detail))

  test("an optional extension's required attributes bind only when the extension is present", () => {
    assert.deepEqual(createUser({ userName: 'u' }, badgeRegistry), { schemas: [USER_SCHEMA], userName: 'u' })
  })

  test('a required extension with data passes', () => {
    const out = createUser({ userName: 'u', [REQUIRED_SCHEMA]: { costCode: 'C1' } }, requiredExtensionRegistry)
    assert.deepEqual(out, { schemas: [USER_SCHEMA, REQUIRED_SCHEMA], userName: 'u', [REQUIRED_SCHEMA]: { costCode: 'C1' } })
  })
})

describe('types (RFC 7643 §2.3)', () => {
  const badge = (values: ScimObject) => createUser({ userName: 'u', [BADGE_SCHEMA]: { badgeId: 'b', ...values } }, badgeRegistry)[BADGE_SCHEMA]

  const accepted: { title: string; run: () => unknown; expected: unknown }[] = [
    { title: 'boolean true', run: () => createUser({ userName: 'u', active: true }).active, expected: true },
    { title: 'Entra boolean "True" (§2.3.2 tolerance)', run: () => createUser({ userName: 'u', active: 'True' }).active, expected: true },
    { title: 'Entra boolean "False"', run: () => createUser({ userName: 'u', active: 'False' }).active, expected: false },
    { title: 'boolean "TRUE" in a sub-attribute', run: () => createUser({ userName: 'u', emails: [{ value: 'a@b', primary: 'TRUE' }] }).emails, expected: [{ value: 'a@b', primary: true }] },
    { title: 'integer 3 (§2.3.4)', run: () => badge({ level: 3 }), expected: { badgeId: 'b', level: 3 } },
    { title: 'integer as numeric string "-12"', run: () => badge({ level: '-12' }), expected: { badgeId: 'b', level: -12 } },
    { title: 'decimal 1.5 (§2.3.3)', run: () => badge({ ratio: 1.5 }), expected: { badgeId: 'b', ratio: 1.5 } },
    { title: 'decimal as numeric string "2.5e3"', run: () => badge({ ratio: '2.5e3' }), expected: { badgeId: 'b', ratio: 2500 } },
    { title: 'dateTime with Z (§2.3.5)', run: () => badge({ issuedAt: '2011-05-13T04:42:34Z' }), expected: { badgeId: 'b', issuedAt: '2011-05-13T04:42:34.000Z' } },
    { title: 'dateTime with offset, normalised to UTC', run: () => badge({ issuedAt: '2011-05-13T04:42:34.5+02:00' }), expected: { badgeId: 'b', issuedAt: '2011-05-13T02:42:34.500Z' } },
    { title: 'dateTime without zone, read as UTC', run: () => badge({ issuedAt: '2011-05-13T04:42:34' }), expected: { badgeId: 'b', issuedAt: '2011-05-13T04:42:34.000Z' } },
    { title: 'binary base64 (§2.3.6)', run: () => badge({ photo: 'aGVsbG8=' }), expected: { badgeId: 'b', photo: 'aGVsbG8=' } },
    { title: 'reference as a string (§2.3.7)', run: () => createUser({ userName: 'u', profileUrl: 'https://example.com/b' }).profileUrl, expected: 'https://example.com/b' },
    { title: 'Entra manager as a bare id becomes { value } (§2.3.8 tolerance)', run: () => createUser({ userName: 'u', [ENT]: { manager: 'm1' } })[ENT], expected: { manager: { value: 'm1' } } },
    { title: 'a string element of a complex multi-valued attribute becomes { value }', run: () => createUser({ userName: 'u', emails: ['a@b'] }).emails, expected: [{ value: 'a@b' }] },
    { title: 'a single complex value of a multi-valued attribute is wrapped in an array', run: () => createUser({ userName: 'u', emails: { value: 'a@b' } }).emails, expected: [{ value: 'a@b' }] },
    { title: 'a single simple value of a multi-valued attribute is wrapped in an array', run: () => badge({ tags: 'vip' }), expected: { badgeId: 'b', tags: ['vip'] } },
    { title: 'one primary among several values (§2.4)', run: () => createUser({ userName: 'u', emails: [{ value: 'a', primary: true }, { value: 'b', primary: false }] }).emails, expected: [{ value: 'a', primary: true }, { value: 'b', primary: false }] },
  ]
  for (const { title, run, expected } of accepted) test(`accepts ${title}`, () => assert.deepEqual(run(), expected))

  const rejected: { title: string; input: ScimObject; detail: RegExp }[] = [
    { title: 'a number for a string attribute', input: { userName: 42 }, detail: /"userName" must be a string, got a number 42/ },
    { title: 'a boolean for a string attribute', input: { userName: 'u', title: true }, detail: /"title" must be a string/ },
    { title: 'an object for a string attribute', input: { userName: 'u', title: { value: 'x' } }, detail: /"title" must be a string, got an object/ },
    { title: 'an array for a single-valued attribute', input: { userName: ['u'] }, detail: /"userName" is single-valued/ },
    { title: '"yes" for a boolean', input: { userName: 'u', active: 'yes' }, detail: /"active" must be a boolean/ },
    { title: '1 for a boolean', input: { userName: 'u', active: 1 }, detail: /"active" must be a boolean/ },
    { title: '1.5 for an integer', input: { userName: 'u', [BADGE_SCHEMA]: { badgeId: 'b', level: 1.5 } }, detail: /level" must be an integer/ },
    { title: '"1.5" for an integer', input: { userName: 'u', [BADGE_SCHEMA]: { badgeId: 'b', level: '1.5' } }, detail: /level" must be an integer/ },
    { title: '"abc" for a decimal', input: { userName: 'u', [BADGE_SCHEMA]: { badgeId: 'b', ratio: 'abc' } }, detail: /ratio" must be a decimal/ },
    { title: 'a date without time for a dateTime', input: { userName: 'u', [BADGE_SCHEMA]: { badgeId: 'b', issuedAt: '2011-05-13' } }, detail: /issuedAt" must be an xsd:dateTime/ },
    { title: 'February 30 for a dateTime', input: { userName: 'u', [BADGE_SCHEMA]: { badgeId: 'b', issuedAt: '2021-02-30T00:00:00Z' } }, detail: /issuedAt" must be an xsd:dateTime/ },
    { title: 'a number for a dateTime', input: { userName: 'u', [BADGE_SCHEMA]: { badgeId: 'b', issuedAt: 1300000000 } }, detail: /issuedAt" must be an xsd:dateTime/ },
    { title: 'non-base64 text for binary', input: { userName: 'u', [BADGE_SCHEMA]: { badgeId: 'b', photo: 'not base64!' } }, detail: /photo" must be base64/ },
    { title: 'unpadded base64 for binary (RFC 4648 §4)', input: { userName: 'u', [BADGE_SCHEMA]: { badgeId: 'b', photo: 'aGVsbG8' } }, detail: /photo" must be base64/ },
    { title: 'a string for a complex attribute without a value sub-attribute', input: { userName: 'u', name: 'Barbara Jensen' }, detail: /"name" must be a complex value/ },
    { title: 'a number for a complex attribute', input: { userName: 'u', [ENT]: { manager: 7 } }, detail: /manager" must be a complex value/ },
    { title: 'a nested complex value inside a complex attribute (§2.3.8)', input: { userName: 'u', name: { givenName: { first: 'B' } } }, detail: /"name\.givenName" must be a string, got an object/ },
    { title: 'an array for a single-valued sub-attribute', input: { userName: 'u', emails: [{ value: ['a', 'b'] }] }, detail: /"emails\[0\]\.value" is single-valued/ },
    { title: 'two primary values (§2.4)', input: { userName: 'u', emails: [{ value: 'a', primary: true }, { value: 'b', primary: 'True' }] }, detail: /"emails" has 2 values with "primary": true/ },
    { title: 'a lone high surrogate in userName', input: JSON.parse('{"userName":"a\\ud800b"}'), detail: /"userName" must be Unicode text; it holds a lone surrogate/ },
    { title: 'a lone low surrogate in a sub-attribute', input: JSON.parse('{"userName":"u","name":{"givenName":"\\udc00"}}'), detail: /"name\.givenName" must be Unicode text/ },
    { title: 'a lone surrogate in a multi-valued value', input: JSON.parse('{"userName":"u","emails":[{"value":"x\\udbff"}]}'), detail: /"emails\[0\]\.value" must be Unicode text/ },
    { title: 'a lone surrogate in a reference', input: JSON.parse('{"userName":"u","profileUrl":"https://e.example/\\ud800"}'), detail: /"profileUrl" must be Unicode text/ },
  ]
  for (const { title, input, detail } of rejected) {
    test(`rejects ${title} with invalidValue`, () => assertScimError(() => createUser(input, badgeRegistry), 'invalidValue', detail))
  }

  test('never echoes a writeOnly value into the error detail', () => {
    assert.throws(
      () => createUser({ userName: 'u', password: 123456 }),
      (e: unknown) => e instanceof ScimError && e.scimType === 'invalidValue' && /"password" must be a string, got a number/.test(e.detail) && !e.detail.includes('123456'),
    )
  })
})

describe('Group members (RFC 7643 §4.2)', () => {
  const accepted: { title: string; members: unknown; expected: unknown }[] = [
    { title: 'keeps value and type', members: [{ value: 'u1', type: 'User' }], expected: [{ value: 'u1', type: 'User' }] },
    { title: 'canonicalises type in any case', members: [{ value: 'u1', type: 'user' }, { value: 'g1', type: 'GROUP' }], expected: [{ value: 'u1', type: 'User' }, { value: 'g1', type: 'Group' }] },
    { title: 'drops display (readOnly) and $ref (server-computed)', members: [{ value: 'u1', display: 'Babs', $ref: 'https://x/Users/u1' }], expected: [{ value: 'u1' }] },
    { title: 'reads a bare id as { value }', members: ['u1'], expected: [{ value: 'u1' }] },
  ]
  for (const { title, members, expected } of accepted) {
    test(title, () => assert.deepEqual(createGroup({ displayName: 'G', members }).members, expected))
  }

  const rejected: { title: string; members: unknown; detail: RegExp }[] = [
    { title: 'a member without value', members: [{ display: 'Babs' }], detail: /"members\[0\]\.value" is required/ },
    { title: 'a member with an empty value', members: [{ value: '' }], detail: /"members\[0\]\.value" is required/ },
    { title: 'a member with a numeric value', members: [{ value: 17 }], detail: /"members\[0\]\.value" must be a string/ },
    { title: 'a member with an unknown type', members: [{ value: 'u1', type: 'Device' }], detail: /"members\[0\]\.type" must be "User" or "Group"/ },
  ]
  for (const { title, members, detail } of rejected) {
    test(`rejects ${title} with invalidValue`, () => assertScimError(() => createGroup({ displayName: 'G', members }), 'invalidValue', detail))
  }

  test('a numeric member value is reported once, not also as missing', () => {
    assert.throws(
      () => createGroup({ displayName: 'G', members: [{ value: 17 }] }),
      (e: unknown) => e instanceof ScimError && !/problems/.test(e.detail),
    )
  })
})

describe('problems are collected and thrown once (valibot style)', () => {
  test('lists every problem in one detail', () => {
    assertScimError(
      () => createUser({ userName: 42, active: 'maybe', emails: [{ value: 'a', primary: true }, { value: 'b', primary: true }] }),
      'invalidValue',
      /^3 problems: \(1\) "userName" must be a string.*; \(2\) "active" must be a boolean.*; \(3\) "emails" has 2 values/,
    )
  })

  test('invalidSyntax wins over invalidValue, and both are listed', () => {
    assertScimError(() => createUser({ userName: 42, shoeSize: 9 }), 'invalidSyntax', /Unknown attribute "shoeSize"/, /"userName" must be a string/)
  })

  test('mutability wins over invalidSyntax and invalidValue', () => {
    const existing = { schemas: [USER_SCHEMA, BADGE_SCHEMA], id: 'u1', userName: 'u', [BADGE_SCHEMA]: { badgeId: 'B-1' } }
    assertScimError(
      () =>
        validateResource(
          { userName: 'u', active: 'maybe', shoeSize: 9, [BADGE_SCHEMA]: { badgeId: 'B-2' } },
          { registry: badgeRegistry, resourceType: 'User', context: 'replace', existing },
        ),
      'mutability',
      /3 problems/,
      /badgeId" is immutable/,
      /shoeSize/,
      /"active" must be a boolean/,
    )
  })

  test('reports a missing required attribute together with type problems', () => {
    assertScimError(() => createGroup({ members: [{ value: 'u1', type: 'Robot' }] }), 'invalidValue', /2 problems/, /members\[0\]\.type/, /"displayName" is required/)
  })
})

describe('tolerances for what Entra ID documents (accepted on input, RFC form on output)', () => {
  test('an unknown URN in schemas with no data is ignored and not echoed (Entra tutorial, Create Group with the ADSCIM schema)', () => {
    const out = createGroup({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group', 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group'],
      displayName: 'Group1DisplayName',
    })
    assert.deepEqual(out.schemas, ['urn:ietf:params:scim:schemas:core:2.0:Group'])
    assert.equal(out.displayName, 'Group1DisplayName')
  })
  test('an unknown attribute whose value is null is ignored (RFC 7643 §2.5; Entra tutorial Example 2 sends "department": null)', () => {
    const out = createUser({ userName: 'x', department: null, manager: null })
    assert.deepEqual(out, { schemas: [USER_SCHEMA], userName: 'x' })
  })
  test('an unknown attribute with a value is still rejected', () => {
    assertScimError(() => createUser({ userName: 'x', department: 'Tours', manager: null }), 'invalidSyntax', /Unknown attribute "department"/)
  })
})
