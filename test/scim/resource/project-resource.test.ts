import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { isAttributeReturned, projectResource, type Projection } from '../../../src/scim/resource/project-resource.js'
import { defineAttribute as attr, type ScimObject } from '../../../src/scim/schema/attribute.js'
import { SchemaRegistry } from '../../../src/scim/schema/schema-registry.js'
import { ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA } from '../../../src/scim/urns.js'

const registry = SchemaRegistry.withCoreSchemas()
const ENT = ENTERPRISE_USER_SCHEMA

const meta = {
  resourceType: 'User',
  created: '2010-01-23T04:56:22.000Z',
  lastModified: '2011-05-13T04:42:34.000Z',
  location: 'https://example.com/v2/Users/u1',
  version: 'W/"1"',
}
const user: ScimObject = {
  schemas: [USER_SCHEMA, ENT],
  id: 'u1',
  externalId: 'e1',
  meta,
  userName: 'bjensen',
  name: { givenName: 'Barbara', familyName: 'Jensen' },
  emails: [
    { value: 'b@example.com', type: 'work', primary: true },
    { value: 'h@example.com', type: 'home' },
  ],
  password: '$argon2id$stored-hash',
  groups: [{ value: 'g1', display: 'Tour Guides' }],
  [ENT]: { department: 'Tours', manager: { value: 'm1', displayName: 'Boss' } },
}
const { password: _password, ...userWithoutPassword } = user
const base = { schemas: [USER_SCHEMA, ENT], id: 'u1' }

const project = (projection: Projection, resource = user) => projectResource(resource, { registry, resourceType: 'User', ...projection })

describe('projectResource: attributes and excludedAttributes (RFC 7644 §3.9) with returned (RFC 7643 §2.2)', () => {
  const cases: { title: string; projection: Projection; expected: ScimObject }[] = [
    { title: 'no parameters: every default attribute, never password', projection: {}, expected: userWithoutPassword },
    { title: 'attributes=userName: userName plus always-returned id and schemas', projection: { attributes: ['userName'] }, expected: { ...base, userName: 'bjensen' } },
    { title: 'attributes names are case-insensitive (RFC 7643 §2.1)', projection: { attributes: ['USERNAME'] }, expected: { ...base, userName: 'bjensen' } },
    { title: 'attributes=name.givenName: only that sub-attribute', projection: { attributes: ['name.givenName'] }, expected: { ...base, name: { givenName: 'Barbara' } } },
    { title: 'attributes=emails.value: that sub-attribute of every value', projection: { attributes: ['emails.value'] }, expected: { ...base, emails: [{ value: 'b@example.com' }, { value: 'h@example.com' }] } },
    { title: 'attributes=name: the whole complex attribute', projection: { attributes: ['name'] }, expected: { ...base, name: { givenName: 'Barbara', familyName: 'Jensen' } } },
    { title: 'attributes with a URN-qualified extension attribute', projection: { attributes: [`${ENT}:department`] }, expected: { ...base, [ENT]: { department: 'Tours' } } },
    { title: 'attributes with a URN-qualified extension sub-attribute', projection: { attributes: [`${ENT}:manager.value`] }, expected: { ...base, [ENT]: { manager: { value: 'm1' } } } },
    { title: 'attributes with a whole extension URN, in any case', projection: { attributes: [ENT.toUpperCase()] }, expected: { ...base, [ENT]: user[ENT] as ScimObject } },
    { title: 'attributes with an unqualified extension attribute (tolerance)', projection: { attributes: ['department'] }, expected: { ...base, [ENT]: { department: 'Tours' } } },
    { title: 'attributes with a URN-qualified core attribute', projection: { attributes: [`${USER_SCHEMA}:userName`] }, expected: { ...base, userName: 'bjensen' } },
    { title: 'attributes=meta.lastModified', projection: { attributes: ['meta.lastModified'] }, expected: { ...base, meta: { lastModified: meta.lastModified } } },
    { title: 'attributes=meta', projection: { attributes: ['meta'] }, expected: { ...base, meta } },
    { title: 'attributes=groups (readOnly, returned default)', projection: { attributes: ['groups'] }, expected: { ...base, groups: [{ value: 'g1', display: 'Tour Guides' }] } },
    { title: 'attributes=password: returned never wins', projection: { attributes: ['password', 'userName'] }, expected: { ...base, userName: 'bjensen' } },
    { title: 'attributes=id: nothing but the always-returned', projection: { attributes: ['id'] }, expected: base },
    { title: 'attributes=schemas: schemas is always there anyway; the name is ignored', projection: { attributes: ['schemas'] }, expected: base },
    { title: 'unknown names are ignored', projection: { attributes: ['shoeSize', 'name.nickname', 'urn:example:nope:x', 'userName', '!!'] }, expected: { ...base, userName: 'bjensen' } },
    { title: 'an attributes list of blanks counts as absent', projection: { attributes: [' '] }, expected: userWithoutPassword },
    { title: 'excludedAttributes=emails', projection: { excludedAttributes: ['emails'] }, expected: (({ emails, ...rest }) => rest)(userWithoutPassword) },
    { title: 'excludedAttributes=name.givenName keeps the rest of name', projection: { excludedAttributes: ['Name.GivenName'] }, expected: { ...userWithoutPassword, name: { familyName: 'Jensen' } } },
    { title: 'excludedAttributes=id: always-returned id stays', projection: { excludedAttributes: ['id'] }, expected: userWithoutPassword },
    { title: 'excludedAttributes=schemas: schemas stays', projection: { excludedAttributes: ['schemas'] }, expected: userWithoutPassword },
    { title: 'excludedAttributes with a whole extension URN', projection: { excludedAttributes: [ENT] }, expected: (({ [ENT]: _, ...rest }) => rest)(userWithoutPassword) },
    { title: 'excludedAttributes=meta', projection: { excludedAttributes: ['meta'] }, expected: (({ meta: _, ...rest }) => rest)(userWithoutPassword) },
    { title: 'excludedAttributes=meta.version', projection: { excludedAttributes: ['meta.version'] }, expected: { ...userWithoutPassword, meta: (({ version: _, ...rest }) => rest)(meta) } },
    { title: 'excluding every sub-attribute drops the complex attribute', projection: { excludedAttributes: ['name.givenName', 'name.familyName'] }, expected: (({ name: _, ...rest }) => rest)(userWithoutPassword) },
    { title: 'excluding the only attribute of an extension drops the extension object', projection: { excludedAttributes: [`${ENT}:department`, `${ENT}:manager`] }, expected: (({ [ENT]: _, ...rest }) => rest)(userWithoutPassword) },
    { title: 'both given: attributes selects, then excludedAttributes removes', projection: { attributes: ['name'], excludedAttributes: ['name.familyName'] }, expected: { ...base, name: { givenName: 'Barbara' } } },
  ]
  for (const { title, projection, expected } of cases) test(title, () => assert.deepEqual(project(projection), expected))

  test('keys no schema defines are left out', () => {
    assert.deepEqual(project({}, { schemas: [USER_SCHEMA], id: 'u1', userName: 'b', internalRowId: 7, name: { givenName: 'B', secret: 'x' } }), {
      schemas: [USER_SCHEMA],
      id: 'u1',
      userName: 'b',
      name: { givenName: 'B' },
    })
  })

  test('keeps the order of the stored keys', () => {
    assert.deepEqual(Object.keys(project({})), ['schemas', 'id', 'externalId', 'meta', 'userName', 'name', 'emails', 'groups', ENT])
  })

  test('does not modify the resource', () => {
    const copy = structuredClone(user)
    project({ attributes: ['name.givenName'] })
    assert.deepEqual(user, copy)
  })

  test('RFC 7643 §8.4 group with attributes=displayName (RFC 7644 §3.4.2.5 example)', () => {
    const group = JSON.parse(readFileSync(join(process.cwd(), 'test/fixtures/rfc7643/8.4-group.json'), 'utf8')) as ScimObject
    assert.deepEqual(projectResource(group, { registry, resourceType: 'Group', attributes: ['displayName'] }), {
      schemas: [GROUP_SCHEMA],
      id: 'e9e30dba-f08f-4109-8486-d5c6a331660a',
      displayName: 'Tour Guides',
    })
  })
})

describe('projectResource: returned always, never and request at both levels (RFC 7643 §2.2)', () => {
  const AUDIT = 'urn:example:params:scim:schemas:extension:audit:2.0:User'
  const auditRegistry = SchemaRegistry.withCoreSchemas([
    {
      schema: {
        id: AUDIT,
        name: 'Audit',
        attributes: [
          attr('note', { returned: 'request' }),
          attr('secret', { returned: 'never' }),
          attr('code', { returned: 'always' }),
          attr('plain'),
          attr('badge', {
            subAttributes: [attr('id', { returned: 'always' }), attr('label'), attr('internal', { returned: 'request' }), attr('pin', { returned: 'never' })],
          }),
          attr('hidden', { returned: 'request', subAttributes: [attr('a'), attr('b')] }),
        ],
      },
      resourceTypes: ['User'],
      required: false,
    },
  ])
  const resource: ScimObject = {
    schemas: [USER_SCHEMA, AUDIT],
    id: 'u1',
    userName: 'b',
    [AUDIT]: { note: 'n', secret: 's', code: 'c', plain: 'p', badge: { id: 'B', label: 'L', internal: 'I', pin: '1234' }, hidden: { a: 'A', b: 'B' } },
  }
  const run = (projection: Projection) => projectResource(resource, { registry: auditRegistry, resourceType: 'User', ...projection })[AUDIT]

  const cases: { title: string; projection: Projection; expected: unknown }[] = [
    { title: 'no parameters: default and always, neither request nor never', projection: {}, expected: { code: 'c', plain: 'p', badge: { id: 'B', label: 'L' } } },
    { title: 'request attribute named: returned', projection: { attributes: [`${AUDIT}:note`] }, expected: { note: 'n', code: 'c', badge: { id: 'B' } } },
    { title: 'always attribute and always sub-attribute survive an unrelated attributes list', projection: { attributes: ['userName'] }, expected: { code: 'c', badge: { id: 'B' } } },
    { title: 'always attribute survives being excluded', projection: { excludedAttributes: [`${AUDIT}:code`, `${AUDIT}:badge`] }, expected: { code: 'c', plain: 'p', badge: { id: 'B' } } },
    { title: 'never attribute and never sub-attribute stay out when named', projection: { attributes: [`${AUDIT}:secret`, `${AUDIT}:badge.pin`] }, expected: { code: 'c', badge: { id: 'B' } } },
    { title: 'request sub-attribute named: returned', projection: { attributes: [`${AUDIT}:badge.internal`] }, expected: { code: 'c', badge: { id: 'B', internal: 'I' } } },
    { title: 'the whole complex attribute named: its request sub-attributes too', projection: { attributes: [`${AUDIT}:badge`] }, expected: { code: 'c', badge: { id: 'B', label: 'L', internal: 'I' } } },
    { title: 'the extension URN named: its request attributes too', projection: { attributes: [AUDIT] }, expected: { note: 'n', code: 'c', plain: 'p', badge: { id: 'B', label: 'L', internal: 'I' }, hidden: { a: 'A', b: 'B' } } },
    { title: 'request complex attribute named by one sub-attribute', projection: { attributes: [`${AUDIT}:hidden.a`] }, expected: { code: 'c', badge: { id: 'B' }, hidden: { a: 'A' } } },
    { title: 'request attribute named and excluded: excluded', projection: { attributes: [`${AUDIT}:note`], excludedAttributes: [`${AUDIT}:note`] }, expected: { code: 'c', badge: { id: 'B' } } },
  ]
  for (const { title, projection, expected } of cases) test(title, () => assert.deepEqual(run(projection), expected))
})

describe('isAttributeReturned', () => {
  const cases: { title: string; resourceType: string; name: string; projection: Projection; expected: boolean }[] = [
    { title: 'members with no parameters', resourceType: 'Group', name: 'members', projection: {}, expected: true },
    { title: 'members with excludedAttributes=members', resourceType: 'Group', name: 'members', projection: { excludedAttributes: ['members'] }, expected: false },
    { title: 'members with excludedAttributes=MEMBERS', resourceType: 'Group', name: 'members', projection: { excludedAttributes: ['MEMBERS'] }, expected: false },
    { title: 'members with attributes=displayName', resourceType: 'Group', name: 'members', projection: { attributes: ['displayName'] }, expected: false },
    { title: 'members with attributes=members.value', resourceType: 'Group', name: 'members', projection: { attributes: ['members.value'] }, expected: true },
    { title: 'members with excludedAttributes=members.display', resourceType: 'Group', name: 'members', projection: { excludedAttributes: ['members.display'] }, expected: true },
    { title: 'members with every sub-attribute excluded', resourceType: 'Group', name: 'members', projection: { excludedAttributes: ['members.value', 'members.$ref', 'members.display', 'members.type'] }, expected: false },
    { title: 'groups with attributes=userName', resourceType: 'User', name: 'groups', projection: { attributes: ['userName'] }, expected: false },
    { title: 'groups with no parameters', resourceType: 'User', name: 'groups', projection: {}, expected: true },
    { title: 'id (always) with attributes=userName', resourceType: 'User', name: 'id', projection: { attributes: ['userName'] }, expected: true },
    { title: 'password (never) with attributes=password', resourceType: 'User', name: 'password', projection: { attributes: ['password'] }, expected: false },
    { title: 'a sub-attribute path, name.givenName, with attributes=name', resourceType: 'User', name: 'name.givenName', projection: { attributes: ['name'] }, expected: true },
    { title: 'a URN-qualified extension attribute with the extension excluded', resourceType: 'User', name: `${ENT}:manager`, projection: { excludedAttributes: [ENT] }, expected: false },
    { title: 'an unknown attribute', resourceType: 'User', name: 'shoeSize', projection: {}, expected: false },
  ]
  for (const { title, resourceType, name, projection, expected } of cases) {
    test(`${expected ? 'returns' : 'omits'} ${title}`, () => assert.equal(isAttributeReturned(name, { registry, resourceType, ...projection }), expected))
  }
})
