import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { ScimError, type ScimType } from '../../../src/scim/errors.js'
import { applyPatch, type PatchResult } from '../../../src/scim/patch/apply-patch.js'
import { parsePatchRequest } from '../../../src/scim/patch/parse-patch.js'
import type { ScimObject } from '../../../src/scim/schema/attribute.js'
import { SchemaRegistry } from '../../../src/scim/schema/schema-registry.js'
import { ENTERPRISE_USER_SCHEMA as ENTERPRISE, GROUP_SCHEMA, PATCH_OP, USER_SCHEMA } from '../../../src/scim/urns.js'

const registry = SchemaRegistry.withCoreSchemas()

/** RFC 7643 §8.2-like user in canonical form, with the enterprise extension. */
function user(): ScimObject {
  return {
    schemas: [USER_SCHEMA, ENTERPRISE],
    id: '2819c223-7f76-453a-919d-413861904646',
    externalId: 'bjensen',
    userName: 'bjensen',
    name: { familyName: 'Jensen', givenName: 'Barbara' },
    displayName: 'Babs Jensen',
    active: true,
    emails: [
      { value: 'bjensen@example.com', type: 'work', primary: true },
      { value: 'babs@jensen.org', type: 'home' },
    ],
    [ENTERPRISE]: { department: 'Tour Operations', manager: { value: '26118915-6090-4610-87e4-49d8ca9f808d', displayName: 'John Smith' } },
    meta: { resourceType: 'User', created: '2010-01-23T04:56:22Z', lastModified: '2011-05-13T04:42:34Z', version: 'W/"3694e05e9dff591"' },
  }
}

/** A user as Entra ID first creates it: no emails, no name, no extension. */
function bareUser(): ScimObject {
  return { schemas: [USER_SCHEMA], id: 'u-bare', userName: 'Test_User_ab6490ee@testuser.com', active: true }
}

/** A group with its members loaded. */
function group(): ScimObject {
  return {
    schemas: [GROUP_SCHEMA],
    id: 'abf4dd94-a4c0-4f67-89c9-76b03340cb9b',
    displayName: 'Tour Guides',
    members: [
      { value: '89bb1940-b905-4575-9e7f-6f887cfb368e', type: 'User', display: 'Babs Jensen' },
      { value: '23a35c27-23d3-4c03-b4c5-6443c09e7173', type: 'User' },
    ],
  }
}

const fixtures = { user, bareUser, group } as const
type FixtureName = keyof typeof fixtures

function patch(name: FixtureName, operations: readonly unknown[]): PatchResult {
  const resourceType = name === 'group' ? 'Group' : 'User'
  return applyPatch(fixtures[name](), parsePatchRequest({ schemas: [PATCH_OP], Operations: operations }), { registry, resourceType })
}

interface Case {
  readonly title: string
  readonly base: FixtureName
  readonly operations: readonly unknown[]
  /** Turns a fresh copy of the base into the whole expected resource. */
  readonly expect: (r: ScimObject) => void
  /** Defaults to true. */
  readonly changed?: boolean
}

interface Failure {
  readonly title: string
  readonly base: FixtureName
  readonly operations: readonly unknown[]
  readonly scimType: ScimType
  readonly detail?: RegExp
}

const ext = (r: ScimObject) => r[ENTERPRISE] as ScimObject
const emails = (r: ScimObject) => r.emails as ScimObject[]
const members = (r: ScimObject) => r.members as ScimObject[]

function runCases(cases: readonly Case[]): void {
  for (const c of cases) {
    test(c.title, () => {
      const expected = fixtures[c.base]()
      c.expect(expected)
      const result = patch(c.base, c.operations)
      assert.deepStrictEqual(result.resource, expected)
      assert.equal(result.changed, c.changed ?? true)
    })
  }
}

function runFailures(failures: readonly Failure[]): void {
  for (const f of failures) {
    test(`${f.title} → 400 ${f.scimType}`, () => {
      assert.throws(
        () => patch(f.base, f.operations),
        (e: unknown) => {
          assert.ok(e instanceof ScimError, `expected a ScimError, got ${String(e)}`)
          assert.equal(e.status, 400)
          assert.equal(e.scimType, f.scimType)
          if (f.detail) assert.match(e.detail, f.detail)
          return true
        },
      )
    })
  }
}

describe('add (RFC 7644 §3.5.2.1)', () => {
  runCases([
    {
      title: 'simple attribute: sets a value that was absent (§3.5.2.1)',
      base: 'user',
      operations: [{ op: 'add', path: 'nickName', value: 'Babs' }],
      expect: (r) => void (r.nickName = 'Babs'),
    },
    {
      title: 'simple attribute: "the existing value is replaced" for a single-valued attribute (§3.5.2.1)',
      base: 'user',
      operations: [{ op: 'add', path: 'displayName', value: 'Barbara J.' }],
      expect: (r) => void (r.displayName = 'Barbara J.'),
    },
    {
      title: 'simple attribute: names in any case are written canonically (RFC 7643 §2.1)',
      base: 'user',
      operations: [{ op: 'add', path: 'NICKNAME', value: 'Babs' }],
      expect: (r) => void (r.nickName = 'Babs'),
    },
    {
      title: 'simple attribute: the value is not coerced (validateResource does it later)',
      base: 'user',
      operations: [{ op: 'Add', path: 'active', value: 'False' }],
      expect: (r) => void (r.active = 'False'),
    },
    {
      title: 'sub-attribute: sets one sub-attribute and keeps the others (§3.5.2.1)',
      base: 'user',
      operations: [{ op: 'add', path: 'Name.MiddleName', value: 'Jane' }],
      expect: (r) => void ((r.name as ScimObject).middleName = 'Jane'),
    },
    {
      title: 'sub-attribute: creates the complex attribute when absent',
      base: 'bareUser',
      operations: [{ op: 'add', path: 'name.givenName', value: 'Test' }],
      expect: (r) => void (r.name = { givenName: 'Test' }),
    },
    {
      title: 'complex attribute: "a set of sub-attributes" is merged (§3.5.2.1)',
      base: 'user',
      operations: [{ op: 'add', path: 'name', value: { givenName: 'Barb', MIDDLENAME: 'Jane' } }],
      expect: (r) => void (r.name = { familyName: 'Jensen', givenName: 'Barb', middleName: 'Jane' }),
    },
    {
      title: 'multi-valued: an array of values is appended (§3.5.2.1)',
      base: 'user',
      operations: [{ op: 'add', path: 'emails', value: [{ value: 'babs@other.example', type: 'other' }] }],
      expect: (r) => void emails(r).push({ value: 'babs@other.example', type: 'other' }),
    },
    {
      title: 'multi-valued: a single object is appended as one value',
      base: 'user',
      operations: [{ op: 'add', path: 'phoneNumbers', value: { value: '555-555-8377', type: 'work' } }],
      expect: (r) => void (r.phoneNumbers = [{ value: '555-555-8377', type: 'work' }]),
    },
    {
      title: 'multi-valued: a value equal to an existing one is not added twice',
      base: 'user',
      operations: [{ op: 'add', path: 'emails', value: [{ value: 'babs@jensen.org', type: 'home' }] }],
      expect: () => {},
      changed: false,
    },
    {
      title: 'multi-valued: a new primary value takes primary from the others (RFC 7643 §2.4)',
      base: 'user',
      operations: [{ op: 'add', path: 'emails', value: [{ value: 'babs@new.example', type: 'work', primary: true }] }],
      expect: (r) => {
        emails(r)[0]!.primary = false
        emails(r).push({ value: 'babs@new.example', type: 'work', primary: true })
      },
    },
    {
      title: 'multi-valued: primary "True" as a string counts as true, and is left for validateResource to convert (RFC 7643 §2.4)',
      base: 'user',
      operations: [{ op: 'add', path: 'emails', value: [{ value: 'babs@new.example', primary: 'True' }] }],
      expect: (r) => {
        emails(r)[0]!.primary = false
        emails(r).push({ value: 'babs@new.example', primary: 'True' })
      },
    },
    {
      title: 'multi-valued: Entra ID adds a member with "$ref": null (Microsoft, "Develop and plan provisioning for a SCIM endpoint")',
      base: 'group',
      operations: [{ op: 'Add', path: 'members', value: [{ $ref: null, value: 'f648f8d5ea4e4cd38e9c' }] }],
      expect: (r) => void members(r).push({ value: 'f648f8d5ea4e4cd38e9c' }),
    },
    {
      title: 'multi-valued: Okta adds a member with a display, which is readOnly and dropped (Okta, "SCIM 2.0 protocol reference")',
      base: 'group',
      operations: [{ op: 'add', path: 'members', value: [{ value: 'b1c2d3e4-0000-4000-8000-000000000001', display: 'test.user@okta.local' }] }],
      expect: (r) => void members(r).push({ value: 'b1c2d3e4-0000-4000-8000-000000000001' }),
    },
    {
      title: 'multi-valued: a member already present (same value) is not added twice, whatever else it says',
      base: 'group',
      operations: [{ op: 'add', path: 'members', value: [{ value: '23a35c27-23d3-4c03-b4c5-6443c09e7173', type: 'Group', display: 'x' }] }],
      expect: () => {},
      changed: false,
    },
    {
      title: 'multi-valued: the same new member twice in one value is added once',
      base: 'group',
      operations: [{ op: 'add', path: 'members', value: [{ value: 'n1' }, { value: 'n1' }] }],
      expect: (r) => void members(r).push({ value: 'n1' }),
    },
    {
      title: 'multi-valued: null adds nothing (RFC 7643 §2.5)',
      base: 'group',
      operations: [{ op: 'add', path: 'members', value: null }],
      expect: () => {},
      changed: false,
    },
    {
      title: 'valuePath + sub-attribute: sets the sub-attribute on every match (§3.5.2.1)',
      base: 'user',
      operations: [{ op: 'add', path: 'emails[type eq "work"].display', value: 'Work mail' }],
      expect: (r) => void (emails(r)[0]!.display = 'Work mail'),
    },
    {
      title: 'valuePath + sub-attribute: Entra ID adds a work email to a user without one, built from the eq filter (Microsoft, "Develop and plan provisioning for a SCIM endpoint")',
      base: 'bareUser',
      operations: [{ op: 'Add', path: 'emails[type eq "work"].value', value: 'Test_User_ab6490ee@testuser.com' }],
      expect: (r) => void (r.emails = [{ type: 'work', value: 'Test_User_ab6490ee@testuser.com' }]),
    },
    {
      title: 'valuePath + sub-attribute: "and" of eq comparisons builds the element with coerced values',
      base: 'bareUser',
      operations: [{ op: 'add', path: 'phoneNumbers[type eq "mobile" and primary eq "true"].value', value: '555-0100' }],
      expect: (r) => void (r.phoneNumbers = [{ type: 'mobile', primary: true, value: '555-0100' }]),
    },
    {
      title: 'valuePath without sub-attribute: the value is merged into each match',
      base: 'user',
      operations: [{ op: 'add', path: 'emails[value eq "BABS@JENSEN.ORG"]', value: { display: 'Home', primary: true } }],
      expect: (r) => {
        emails(r)[0]!.primary = false
        Object.assign(emails(r)[1]!, { display: 'Home', primary: true })
      },
    },
    {
      title: 'extension attribute by URN-qualified path (RFC 7644 §3.10)',
      base: 'user',
      operations: [{ op: 'add', path: `${ENTERPRISE}:employeeNumber`, value: '701984' }],
      expect: (r) => void (ext(r).employeeNumber = '701984'),
    },
    {
      title: 'extension attribute: Entra ID sends the manager as a bare id, which becomes {value} (Microsoft, "Develop and plan provisioning for a SCIM endpoint")',
      base: 'user',
      operations: [{ op: 'Add', path: `${ENTERPRISE}:manager`, value: 'managerId' }],
      expect: (r) => void (ext(r).manager = { value: 'managerId' }),
    },
    {
      title: 'extension attribute on a user without the extension: creates it and lists it in schemas (RFC 7643 §3)',
      base: 'bareUser',
      operations: [{ op: 'add', path: `${ENTERPRISE}:department`, value: 'Sales' }],
      expect: (r) => {
        r.schemas = [USER_SCHEMA, ENTERPRISE]
        r[ENTERPRISE] = { department: 'Sales' }
      },
    },
    {
      title: 'extension sub-attribute by URN-qualified dotted path',
      base: 'user',
      operations: [{ op: 'add', path: `${ENTERPRISE}:manager.value`, value: 'm2' }],
      expect: (r) => void ((ext(r).manager as ScimObject).value = 'm2'),
    },
    {
      title: 'whole extension URN: its attributes are merged, complex ones sub-attribute by sub-attribute (§3.5.2.1)',
      base: 'user',
      operations: [{ op: 'add', path: ENTERPRISE, value: { employeeNumber: '701984', Manager: { value: 'm2' } } }],
      expect: (r) => {
        ext(r).employeeNumber = '701984'
        ext(r).manager = { value: 'm2', displayName: 'John Smith' }
      },
    },
    {
      title: 'no path: single-valued set, complex merged, multi-valued appended (§3.5.2.1)',
      base: 'user',
      operations: [
        { op: 'add', value: { nickName: 'Babs', name: { middleName: 'Jane' }, emails: [{ value: 'b@other.example', type: 'other' }] } },
      ],
      expect: (r) => {
        r.nickName = 'Babs'
        ;(r.name as ScimObject).middleName = 'Jane'
        emails(r).push({ value: 'b@other.example', type: 'other' })
      },
    },
    {
      title: 'no path: dotted and URN-qualified keys and an extension object are expanded (Microsoft, "Known issues and resolutions with SCIM 2.0 protocol compliance")',
      base: 'bareUser',
      operations: [
        {
          op: 'Add',
          value: {
            'name.givenName': 'Test',
            'name.familyName': 'User',
            [`${ENTERPRISE}:department`]: 'Sales',
            [ENTERPRISE]: { costCenter: '4130' },
          },
        },
      ],
      expect: (r) => {
        r.schemas = [USER_SCHEMA, ENTERPRISE]
        r.name = { givenName: 'Test', familyName: 'User' }
        r[ENTERPRISE] = { department: 'Sales', costCenter: '4130' }
      },
    },
    {
      title: 'no path: readOnly id, meta, groups and schemas are ignored (RFC 7644 §3.5.1)',
      base: 'user',
      operations: [
        {
          op: 'add',
          value: { id: 'other', meta: { version: 'W/"x"' }, groups: [{ value: 'g' }], schemas: ['urn:x'], title: 'Tour Guide' },
        },
      ],
      expect: (r) => void (r.title = 'Tour Guide'),
    },
  ])

  runFailures([
    { title: 'unknown attribute in path (§3.5.2)', base: 'user', operations: [{ op: 'add', path: 'nickname2', value: 'x' }], scimType: 'invalidPath' },
    { title: 'unknown sub-attribute in path', base: 'user', operations: [{ op: 'add', path: 'name.nick', value: 'x' }], scimType: 'invalidPath' },
    { title: 'unknown key in a no-path value', base: 'user', operations: [{ op: 'add', value: { nickname2: 'x' } }], scimType: 'invalidValue', detail: /nickname2/ },
    { title: 'unknown sub-attribute inside a value object', base: 'user', operations: [{ op: 'add', path: 'emails', value: [{ value: 'a@b', kind: 'x' }] }], scimType: 'invalidValue', detail: /kind/ },
    { title: 'readOnly id as path (RFC 7643 §2.2)', base: 'user', operations: [{ op: 'add', path: 'id', value: 'x' }], scimType: 'mutability' },
    { title: 'readOnly groups as path', base: 'user', operations: [{ op: 'add', path: 'groups', value: [{ value: 'g1' }] }], scimType: 'mutability' },
    { title: 'readOnly members.display as path', base: 'group', operations: [{ op: 'add', path: 'members.display', value: 'x' }], scimType: 'mutability' },
    { title: 'readOnly manager.displayName as path', base: 'user', operations: [{ op: 'add', path: `${ENTERPRISE}:manager.displayName`, value: 'x' }], scimType: 'mutability' },
    { title: 'readOnly meta.version as a dotted key of a no-path value', base: 'user', operations: [{ op: 'add', value: { 'meta.version': 'x' } }], scimType: 'mutability' },
    {
      title: 'valuePath + sub-attribute, no match and a filter that is not eq-only (§3.5.2.1)',
      base: 'user',
      operations: [{ op: 'add', path: 'emails[value co "nowhere"].display', value: 'x' }],
      scimType: 'noTarget',
    },
    {
      title: 'valuePath without sub-attribute and no match',
      base: 'user',
      operations: [{ op: 'add', path: 'emails[type eq "other"]', value: { display: 'x' } }],
      scimType: 'noTarget',
    },
    { title: 'value filter on a single-valued complex attribute', base: 'user', operations: [{ op: 'add', path: 'name[givenName eq "Barbara"].familyName', value: 'x' }], scimType: 'invalidPath' },
    { title: 'value filter on a simple attribute', base: 'user', operations: [{ op: 'add', path: 'userName[value eq "x"]', value: 'x' }], scimType: 'invalidPath' },
    { title: 'bad filter text', base: 'user', operations: [{ op: 'add', path: 'emails[type zz "work"].value', value: 'x' }], scimType: 'invalidFilter' },
    { title: 'filter on an unknown sub-attribute', base: 'user', operations: [{ op: 'add', path: 'emails[kind eq "work"].value', value: 'x' }], scimType: 'invalidFilter' },
    { title: 'a string for a complex attribute without a value sub-attribute', base: 'user', operations: [{ op: 'add', path: 'name', value: 'Barbara' }], scimType: 'invalidValue' },
    { title: 'a string for an element of a multi-valued complex attribute', base: 'user', operations: [{ op: 'add', path: 'emails', value: 'a@b.example' }], scimType: 'invalidValue' },
    { title: 'the core schema URN as path', base: 'user', operations: [{ op: 'add', path: USER_SCHEMA, value: { nickName: 'x' } }], scimType: 'invalidPath' },
    { title: 'a whole extension URN with a string value', base: 'user', operations: [{ op: 'add', path: ENTERPRISE, value: 'x' }], scimType: 'invalidValue' },
    { title: 'an extension the resource type does not have', base: 'group', operations: [{ op: 'add', path: `${ENTERPRISE}:department`, value: 'x' }], scimType: 'invalidPath' },
  ])
})

describe('replace (RFC 7644 §3.5.2.3)', () => {
  runCases([
    {
      title: 'simple attribute: Entra ID renames a group (Microsoft, "Develop and plan provisioning for a SCIM endpoint")',
      base: 'group',
      operations: [{ op: 'Replace', path: 'displayName', value: '1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName' }],
      expect: (r) => void (r.displayName = '1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName'),
    },
    {
      title: 'simple attribute: Entra ID disables a user (Microsoft, "Develop and plan provisioning for a SCIM endpoint")',
      base: 'user',
      operations: [{ op: 'Replace', path: 'active', value: false }],
      expect: (r) => void (r.active = false),
    },
    {
      title: 'simple attribute without a value: treated as add (§3.5.2.3)',
      base: 'user',
      operations: [{ op: 'replace', path: 'title', value: 'Tour Guide' }],
      expect: (r) => void (r.title = 'Tour Guide'),
    },
    {
      title: 'simple attribute: null makes it unassigned (RFC 7643 §2.5)',
      base: 'user',
      operations: [{ op: 'replace', path: 'displayName', value: null }],
      expect: (r) => void delete r.displayName,
    },
    {
      title: 'simple attribute: the same value changes nothing',
      base: 'user',
      operations: [{ op: 'replace', path: 'userName', value: 'bjensen' }],
      expect: () => {},
      changed: false,
    },
    {
      title: 'sub-attribute: name.familyName, with Entra ID\'s valuePath in the same request (Microsoft, "Develop and plan provisioning for a SCIM endpoint")',
      base: 'user',
      operations: [
        { op: 'Replace', path: 'emails[type eq "work"].value', value: 'updatedEmail@microsoft.com' },
        { op: 'Replace', path: 'name.familyName', value: 'updatedFamilyName' },
      ],
      expect: (r) => {
        emails(r)[0]!.value = 'updatedEmail@microsoft.com'
        ;(r.name as ScimObject).familyName = 'updatedFamilyName'
      },
    },
    {
      title: 'complex attribute: given sub-attributes replace, the others stay (§3.5.2.3)',
      base: 'user',
      operations: [{ op: 'replace', path: 'name', value: { givenName: 'Barb' } }],
      expect: (r) => void ((r.name as ScimObject).givenName = 'Barb'),
    },
    {
      title: 'multi-valued without filter: all values are replaced (§3.5.2.3)',
      base: 'user',
      operations: [{ op: 'replace', path: 'emails', value: [{ value: 'only@example.com', type: 'work', primary: true }] }],
      expect: (r) => void (r.emails = [{ value: 'only@example.com', type: 'work', primary: true }]),
    },
    {
      title: 'multi-valued without filter: an empty array removes the attribute (RFC 7643 §2.5)',
      base: 'user',
      operations: [{ op: 'replace', path: 'emails', value: [] }],
      expect: (r) => void delete r.emails,
    },
    {
      title: 'multi-valued: members replaced, duplicates by value collapsed',
      base: 'group',
      operations: [{ op: 'replace', path: 'members', value: [{ value: 'n1' }, { value: 'n2', display: 'ignored' }, { value: 'n1', type: 'User' }] }],
      expect: (r) => void (r.members = [{ value: 'n1' }, { value: 'n2' }]),
    },
    {
      title: 'multi-valued: of two primary values given, the last keeps primary (RFC 7643 §2.4)',
      base: 'user',
      operations: [{ op: 'replace', path: 'emails', value: [{ value: 'a@x.example', primary: true }, { value: 'b@x.example', primary: true }] }],
      expect: (r) => void (r.emails = [{ value: 'a@x.example', primary: false }, { value: 'b@x.example', primary: true }]),
    },
    {
      title: 'valuePath + sub-attribute: Entra ID adds a work email to a user without one (Microsoft, "Develop and plan provisioning for a SCIM endpoint")',
      base: 'bareUser',
      operations: [{ op: 'Replace', path: 'emails[type eq "work"].value', value: 'updatedEmail@microsoft.com' }],
      expect: (r) => void (r.emails = [{ type: 'work', value: 'updatedEmail@microsoft.com' }]),
    },
    {
      title: 'valuePath + sub-attribute: primary true moves primary (RFC 7643 §2.4)',
      base: 'user',
      operations: [{ op: 'replace', path: 'emails[type eq "home"].primary', value: true }],
      expect: (r) => {
        emails(r)[0]!.primary = false
        emails(r)[1]!.primary = true
      },
    },
    {
      title: 'valuePath + sub-attribute: null clears the sub-attribute of each match',
      base: 'user',
      operations: [{ op: 'replace', path: 'emails[type eq "work"].primary', value: null }],
      expect: (r) => void delete emails(r)[0]!.primary,
    },
    {
      title: 'valuePath without sub-attribute: each match is replaced by the value (§3.5.2.3)',
      base: 'user',
      operations: [{ op: 'replace', path: 'emails[type eq "home"]', value: { value: 'babs@new.example', type: 'home' } }],
      expect: (r) => void (emails(r)[1] = { value: 'babs@new.example', type: 'home' }),
    },
    {
      title: 'valuePath without sub-attribute: a member replaced by one already present leaves one',
      base: 'group',
      operations: [{ op: 'replace', path: 'members[value eq "89bb1940-b905-4575-9e7f-6f887cfb368e"]', value: { value: '23a35c27-23d3-4c03-b4c5-6443c09e7173' } }],
      expect: (r) => void members(r).shift(),
    },
    {
      title: 'extension attribute by URN-qualified path',
      base: 'user',
      operations: [{ op: 'replace', path: `${ENTERPRISE}:Department`, value: 'Sales' }],
      expect: (r) => void (ext(r).department = 'Sales'),
    },
    {
      title: 'extension attribute: the manager as a bare id (Microsoft, "Develop and plan provisioning for a SCIM endpoint")',
      base: 'user',
      operations: [{ op: 'Replace', path: `${ENTERPRISE}:manager`, value: 'managerId' }],
      expect: (r) => void (ext(r).manager = { value: 'managerId' }),
    },
    {
      title: 'extension attribute named without its URN, when only one extension defines it',
      base: 'user',
      operations: [{ op: 'replace', path: 'costCenter', value: '4130' }],
      expect: (r) => void (ext(r).costCenter = '4130'),
    },
    {
      title: 'whole extension URN: each given attribute replaces its value, the others stay (§3.5.2.3)',
      base: 'user',
      operations: [{ op: 'replace', path: ENTERPRISE, value: { department: 'Sales' } }],
      expect: (r) => void (ext(r).department = 'Sales'),
    },
    {
      title: 'no path: Okta deactivates a user (Okta, "SCIM 2.0 protocol reference")',
      base: 'user',
      operations: [{ op: 'replace', value: { active: false } }],
      expect: (r) => void (r.active = false),
    },
    {
      title: 'no path: Okta renames a group and sends its id, which is ignored (Okta, "SCIM 2.0 protocol reference")',
      base: 'group',
      operations: [{ op: 'replace', value: { id: 'abf4dd94-a4c0-4f67-89c9-76b03340cb9b', displayName: 'Test SCIMv2' } }],
      expect: (r) => void (r.displayName = 'Test SCIMv2'),
    },
    {
      title: 'no path: multi-valued replaced, single-valued complex merged (§3.5.2.3)',
      base: 'user',
      operations: [{ op: 'replace', value: { emails: [{ value: 'x@y.example' }], name: { givenName: 'B' } } }],
      expect: (r) => {
        r.emails = [{ value: 'x@y.example' }]
        ;(r.name as ScimObject).givenName = 'B'
      },
    },
    {
      title: 'no path: an extension object under its URN, in any case',
      base: 'user',
      operations: [{ op: 'replace', value: { [ENTERPRISE.toUpperCase()]: { DEPARTMENT: 'Sales' } } }],
      expect: (r) => void (ext(r).department = 'Sales'),
    },
  ])

  runFailures([
    {
      title: 'valuePath + sub-attribute, no match and an "or" filter (§3.5.2.3)',
      base: 'bareUser',
      operations: [{ op: 'replace', path: 'emails[type eq "work" or type eq "home"].value', value: 'x@y' }],
      scimType: 'noTarget',
      detail: /§3\.5\.2\.3/,
    },
    {
      title: 'valuePath + sub-attribute, no match and a "ne" filter',
      base: 'bareUser',
      operations: [{ op: 'replace', path: 'emails[type ne "work"].value', value: 'x@y' }],
      scimType: 'noTarget',
    },
    {
      title: 'valuePath without sub-attribute and no match (§3.5.2.3)',
      base: 'user',
      operations: [{ op: 'replace', path: 'emails[type eq "other"]', value: { value: 'x@y', type: 'other' } }],
      scimType: 'noTarget',
    },
    {
      title: 'valuePath without sub-attribute and a string value',
      base: 'user',
      operations: [{ op: 'replace', path: 'emails[type eq "work"]', value: 'x@y' }],
      scimType: 'invalidValue',
    },
    { title: 'readOnly id (RFC 7643 §2.2)', base: 'group', operations: [{ op: 'replace', path: 'id', value: 'x' }], scimType: 'mutability' },
    { title: 'readOnly meta.lastModified', base: 'user', operations: [{ op: 'replace', path: 'meta.lastModified', value: '2020-01-01T00:00:00Z' }], scimType: 'mutability' },
    { title: 'readOnly URN-qualified key in a no-path value', base: 'user', operations: [{ op: 'replace', value: { [`${USER_SCHEMA}:id`]: 'x' } }], scimType: 'mutability' },
    { title: 'unknown attribute in path', base: 'group', operations: [{ op: 'replace', path: 'description', value: 'x' }], scimType: 'invalidPath' },
    { title: 'unknown attribute inside an extension object', base: 'user', operations: [{ op: 'replace', path: ENTERPRISE, value: { office: '5A' } }], scimType: 'invalidValue' },
    { title: 'unknown schema URN key in a no-path value', base: 'user', operations: [{ op: 'replace', value: { 'urn:acme:scim:2.0:User:office': '5A' } }], scimType: 'invalidValue' },
  ])
})

describe('remove (RFC 7644 §3.5.2.2)', () => {
  runCases([
    {
      title: 'simple attribute: removed (§3.5.2.2)',
      base: 'user',
      operations: [{ op: 'remove', path: 'displayName' }],
      expect: (r) => void delete r.displayName,
    },
    {
      title: 'simple attribute without a value: no change, not an error (idempotent)',
      base: 'user',
      operations: [{ op: 'remove', path: 'nickName' }],
      expect: () => {},
      changed: false,
    },
    {
      title: 'sub-attribute: removed from the complex attribute (§3.5.2.2)',
      base: 'user',
      operations: [{ op: 'remove', path: 'name.givenName' }],
      expect: (r) => void delete (r.name as ScimObject).givenName,
    },
    {
      title: 'sub-attribute: removing the last one removes the complex attribute',
      base: 'user',
      operations: [{ op: 'remove', path: 'name.givenName' }, { op: 'remove', path: 'name.familyName' }],
      expect: (r) => void delete r.name,
    },
    {
      title: 'multi-valued without filter or value: all values removed (§3.5.2.2)',
      base: 'user',
      operations: [{ op: 'remove', path: 'emails' }],
      expect: (r) => void delete r.emails,
    },
    {
      title: 'multi-valued: all members removed',
      base: 'group',
      operations: [{ op: 'remove', path: 'members' }],
      expect: (r) => void delete r.members,
    },
    {
      title: 'multi-valued with a value array: Entra ID removes one member (Microsoft, "Develop and plan provisioning for a SCIM endpoint")',
      base: 'group',
      operations: [{ op: 'Remove', path: 'members', value: [{ $ref: null, value: '89bb1940-b905-4575-9e7f-6f887cfb368e' }] }],
      expect: (r) => void members(r).shift(),
    },
    {
      title: 'multi-valued with a value array naming no current member: no change',
      base: 'group',
      operations: [{ op: 'Remove', path: 'members', value: [{ $ref: null, value: 'f648f8d5ea4e4cd38e9c' }] }],
      expect: () => {},
      changed: false,
    },
    {
      title: 'multi-valued with a value array: member ids compare exactly, like the store compares ids',
      base: 'group',
      operations: [{ op: 'Remove', path: 'members', value: [{ value: '89BB1940-B905-4575-9E7F-6F887CFB368E' }] }],
      expect: () => {},
      changed: false,
    },
    {
      title: 'multi-valued with a value array: emails compare as caseExact false says',
      base: 'user',
      operations: [{ op: 'remove', path: 'emails', value: [{ value: 'BABS@JENSEN.ORG' }] }],
      expect: (r) => void emails(r).pop(),
    },
    {
      title: 'valuePath: Okta removes one member (Okta, "SCIM 2.0 protocol reference")',
      base: 'group',
      operations: [{ op: 'remove', path: 'members[value eq "89bb1940-b905-4575-9e7f-6f887cfb368e"]' }],
      expect: (r) => void members(r).shift(),
    },
    {
      title: 'valuePath with no match: no change, not an error (IdPs retry removals)',
      base: 'group',
      operations: [{ op: 'remove', path: 'members[value eq "00000000-0000-0000-0000-000000000000"]' }],
      expect: () => {},
      changed: false,
    },
    {
      title: 'valuePath: removing every value removes the attribute',
      base: 'user',
      operations: [{ op: 'remove', path: 'emails[value ew ".com" or value ew ".org"]' }],
      expect: (r) => void delete r.emails,
    },
    {
      title: 'valuePath + sub-attribute: the sub-attribute is removed from each match (§3.5.2.2)',
      base: 'user',
      operations: [{ op: 'remove', path: 'emails[type eq "work"].primary' }],
      expect: (r) => void delete emails(r)[0]!.primary,
    },
    {
      title: 'multi-valued sub-attribute without filter: removed from every value',
      base: 'user',
      operations: [{ op: 'remove', path: 'emails.type' }],
      expect: (r) => {
        delete emails(r)[0]!.type
        delete emails(r)[1]!.type
      },
    },
    {
      title: 'extension attribute by URN-qualified path',
      base: 'user',
      operations: [{ op: 'remove', path: `${ENTERPRISE}:manager` }],
      expect: (r) => void delete ext(r).manager,
    },
    {
      title: 'extension attributes: removing the last one removes the extension and its schemas entry (RFC 7643 §3)',
      base: 'user',
      operations: [
        { op: 'remove', path: `${ENTERPRISE}:manager` },
        { op: 'remove', path: `${ENTERPRISE}:department` },
      ],
      expect: (r) => {
        delete r[ENTERPRISE]
        r.schemas = [USER_SCHEMA]
      },
    },
    {
      title: 'whole extension URN: the extension is deleted and unlisted from schemas (§3.5.2.2)',
      base: 'user',
      operations: [{ op: 'remove', path: ENTERPRISE.toLowerCase() }],
      expect: (r) => {
        delete r[ENTERPRISE]
        r.schemas = [USER_SCHEMA]
      },
    },
    {
      title: 'whole extension URN on a user without it: no change',
      base: 'bareUser',
      operations: [{ op: 'remove', path: ENTERPRISE }],
      expect: () => {},
      changed: false,
    },
  ])

  runFailures([
    { title: 'no path (§3.5.2.2)', base: 'user', operations: [{ op: 'remove' }], scimType: 'noTarget' },
    { title: 'readOnly id (RFC 7643 §2.2)', base: 'user', operations: [{ op: 'remove', path: 'id' }], scimType: 'mutability' },
    { title: 'readOnly meta', base: 'user', operations: [{ op: 'remove', path: 'meta' }], scimType: 'mutability' },
    { title: 'readOnly groups by valuePath', base: 'user', operations: [{ op: 'remove', path: 'groups[value eq "g1"]' }], scimType: 'mutability' },
    { title: 'readOnly members.display by valuePath', base: 'group', operations: [{ op: 'remove', path: 'members[value eq "x"].display' }], scimType: 'mutability' },
    { title: 'unknown attribute', base: 'user', operations: [{ op: 'remove', path: 'office' }], scimType: 'invalidPath' },
    { title: 'value filter on a simple attribute', base: 'user', operations: [{ op: 'remove', path: 'displayName[value eq "x"]' }], scimType: 'invalidPath' },
    { title: 'a value array whose elements carry no value', base: 'group', operations: [{ op: 'remove', path: 'members', value: [{ display: 'x' }] }], scimType: 'invalidValue' },
    { title: 'a value array of strings for a complex attribute', base: 'group', operations: [{ op: 'remove', path: 'members', value: ['x'] }], scimType: 'invalidValue' },
  ])
})

describe('applyPatch as a whole (RFC 7644 §3.5.2)', () => {
  test('never mutates its input', () => {
    const input = deepFreeze(user())
    const result = applyPatch(input, parsePatchRequest({ Operations: [{ op: 'add', path: 'emails[type eq "work"].display', value: 'x' }, { op: 'remove', path: 'name' }] }), {
      registry,
      resourceType: 'User',
    })
    assert.deepStrictEqual(input, user())
    assert.notStrictEqual(result.resource, input)
    assert.equal((result.resource.emails as ScimObject[])[0]!.display, 'x')
  })

  test('operations apply in order: a later one sees an earlier one\'s result', () => {
    const result = patch('bareUser', [
      { op: 'add', path: 'nickName', value: 'Babs' },
      { op: 'replace', path: 'nickName', value: 'Barb' },
      { op: 'add', path: 'emails[type eq "work"].value', value: 'a@x.example' },
      { op: 'add', path: 'emails[type eq "work"].display', value: 'Work' },
    ])
    assert.equal(result.resource.nickName, 'Barb')
    assert.deepStrictEqual(result.resource.emails, [{ type: 'work', value: 'a@x.example', display: 'Work' }])
  })

  test('an operation that fails aborts the request: nothing of the earlier ones escapes (§3.5.2: atomic)', () => {
    const input = user()
    assert.throws(
      () =>
        applyPatch(input, parsePatchRequest({ Operations: [{ op: 'replace', path: 'displayName', value: 'x' }, { op: 'replace', path: 'id', value: 'y' }] }), {
          registry,
          resourceType: 'User',
        }),
      { name: 'ScimError', status: 400, scimType: 'mutability' },
    )
    assert.deepStrictEqual(input, user())
  })

  test('changed is false when the operations leave the resource as it was', () => {
    const result = patch('user', [
      { op: 'replace', path: 'displayName', value: 'x' },
      { op: 'replace', path: 'displayName', value: 'Babs Jensen' },
    ])
    assert.equal(result.changed, false)
    assert.deepStrictEqual(result.resource, user())
  })
})

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v)
    Object.freeze(value)
  }
  return value
}

describe('immutable sub-attributes of multi-valued attributes (RFC 7643 §2.2)', () => {
  const patchOf = (op: string, path: string, value: unknown) => parsePatchRequest({ schemas: [PATCH_OP], Operations: [{ op, path, value }] })
  const g = (): ScimObject => ({ schemas: [GROUP_SCHEMA], displayName: 'G', members: [{ value: 'u1', type: 'User' }] })
  test('replace members[value eq "u1"].value with another id is mutability', () => {
    assert.throws(
      () => applyPatch(g(), patchOf('replace', 'members[value eq "u1"].value', 'u2'), { registry, resourceType: 'Group' }),
      (e: unknown) => e instanceof ScimError && e.status === 400 && e.scimType === 'mutability',
    )
  })
  test('replace members[value eq "u1"].value with the same id changes nothing', () => {
    const r = applyPatch(g(), patchOf('replace', 'members[value eq "u1"].value', 'u1'), { registry, resourceType: 'Group' })
    assert.equal(r.changed, false)
  })
})
