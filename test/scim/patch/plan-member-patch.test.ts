import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { ScimError } from '../../../src/scim/errors.js'
import { applyPatch } from '../../../src/scim/patch/apply-patch.js'
import type { MemberStep } from '../../../src/scim/patch/member-step.js'
import { parsePatchRequest } from '../../../src/scim/patch/parse-patch.js'
import { planMemberPatch } from '../../../src/scim/patch/plan-member-patch.js'
import type { ScimObject } from '../../../src/scim/schema/attribute.js'
import { SchemaRegistry } from '../../../src/scim/schema/schema-registry.js'
import { GROUP_SCHEMA, PATCH_OP } from '../../../src/scim/urns.js'

const registry = SchemaRegistry.withCoreSchemas()
const options = { registry, resourceType: 'Group' }
const parse = (...operations: unknown[]) => parsePatchRequest({ schemas: [PATCH_OP], Operations: operations })

const A = '89bb1940-b905-4575-9e7f-6f887cfb368e'
const B = '23a35c27-23d3-4c03-b4c5-6443c09e7173'
const C = 'f648f8d5ea4e4cd38e9c'

const translated: readonly {
  readonly title: string
  readonly operations: readonly unknown[]
  readonly steps: MemberStep[]
  /** The document operations expected in otherOperations, as request bodies. */
  readonly others?: readonly unknown[]
}[] = [
  {
    title: 'Entra ID: add members with "$ref": null → add (Microsoft, "Develop and plan provisioning for a SCIM endpoint")',
    operations: [{ op: 'Add', path: 'members', value: [{ $ref: null, value: C }] }],
    steps: [{ op: 'add', ids: [C] }],
  },
  {
    title: 'Okta: add members with a display → add (Okta, "SCIM 2.0 protocol reference")',
    operations: [{ op: 'add', path: 'members', value: [{ value: B, display: 'test.user@okta.local' }] }],
    steps: [{ op: 'add', ids: [B] }],
  },
  {
    title: 'Entra ID: remove members with a value array → remove (Microsoft, "Develop and plan provisioning for a SCIM endpoint")',
    operations: [{ op: 'Remove', path: 'members', value: [{ $ref: null, value: A }] }],
    steps: [{ op: 'remove', ids: [A] }],
  },
  {
    title: 'Okta: remove members[value eq "…"] → remove (Okta, "SCIM 2.0 protocol reference")',
    operations: [{ op: 'remove', path: `members[value eq "${A}"]` }],
    steps: [{ op: 'remove', ids: [A] }],
  },
  {
    title: 'remove members[value eq "a" or value eq "b"] → remove both',
    operations: [{ op: 'remove', path: `members[value eq "${A}" or VALUE eq "${B}"]` }],
    steps: [{ op: 'remove', ids: [A, B] }],
  },
  {
    title: 'remove members without value → replace with none (RFC 7644 §3.5.2.2)',
    operations: [{ op: 'remove', path: 'members' }],
    steps: [{ op: 'replace', ids: [] }],
  },
  {
    title: 'replace members → replace (RFC 7644 §3.5.2.3)',
    operations: [{ op: 'replace', path: 'members', value: [{ value: A }, { value: C }] }],
    steps: [{ op: 'replace', ids: [A, C] }],
  },
  {
    title: 'replace members with [] → replace with none',
    operations: [{ op: 'replace', path: 'members', value: [] }],
    steps: [{ op: 'replace', ids: [] }],
  },
  {
    title: 'add members with a single object value → add',
    operations: [{ op: 'add', path: 'members', value: { value: C } }],
    steps: [{ op: 'add', ids: [C] }],
  },
  {
    title: 'add members with the same id twice → add it once',
    operations: [{ op: 'add', path: 'members', value: [{ value: C }, { value: C }] }],
    steps: [{ op: 'add', ids: [C] }],
  },
  {
    title: 'add members with null or [] → no step',
    operations: [
      { op: 'add', path: 'members', value: null },
      { op: 'add', path: 'members', value: [] },
    ],
    steps: [],
  },
  {
    title: 'URN-qualified members path, any case',
    operations: [{ op: 'add', path: `${GROUP_SCHEMA}:MEMBERS`, value: [{ VALUE: C }] }],
    steps: [{ op: 'add', ids: [C] }],
  },
  {
    title: 'Entra ID: replace displayName alone → no step, one document operation (Microsoft, "Develop and plan provisioning for a SCIM endpoint")',
    operations: [{ op: 'Replace', path: 'displayName', value: '1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName' }],
    steps: [],
    others: [{ op: 'Replace', path: 'displayName', value: '1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName' }],
  },
  {
    title: 'Okta: no-path group rename → no step, one document operation (Okta, "SCIM 2.0 protocol reference")',
    operations: [{ op: 'replace', value: { id: 'abf4dd94-a4c0-4f67-89c9-76b03340cb9b', displayName: 'Test SCIMv2' } }],
    steps: [],
    others: [{ op: 'replace', value: { id: 'abf4dd94-a4c0-4f67-89c9-76b03340cb9b', displayName: 'Test SCIMv2' } }],
  },
  {
    title: 'no-path replace with members and displayName → replace step plus the rest as a document operation',
    operations: [{ op: 'replace', value: { displayName: 'Tour Guides', Members: [{ value: A }] } }],
    steps: [{ op: 'replace', ids: [A] }],
    others: [{ op: 'replace', value: { displayName: 'Tour Guides' } }],
  },
  {
    title: 'no-path add with only members → add step and no document operation',
    operations: [{ op: 'add', value: { members: [{ value: C }] } }],
    steps: [{ op: 'add', ids: [C] }],
  },
  {
    title: 'steps keep their order, document operations keep theirs',
    operations: [
      { op: 'remove', path: 'members' },
      { op: 'replace', path: 'displayName', value: 'one' },
      { op: 'add', path: 'members', value: [{ value: A }, { value: B }] },
      { op: 'add', path: 'externalId', value: 'two' },
      { op: 'remove', path: `members[value eq "${A}"]` },
    ],
    steps: [
      { op: 'replace', ids: [] },
      { op: 'add', ids: [A, B] },
      { op: 'remove', ids: [A] },
    ],
    others: [
      { op: 'replace', path: 'displayName', value: 'one' },
      { op: 'add', path: 'externalId', value: 'two' },
    ],
  },
]

describe('planMemberPatch: member operations become steps by id', () => {
  for (const { title, operations, steps, others = [] } of translated) {
    test(title, () => {
      const plan = planMemberPatch(parse(...operations), options)
      assert.deepStrictEqual(plan.memberSteps, steps)
      assert.deepStrictEqual(plan.otherOperations, others.length === 0 ? [] : parse(...others))
    })
  }
})

/** Member operations that need the member list in memory. */
const needsMembers: readonly { readonly title: string; readonly operations: readonly unknown[] }[] = [
  { title: 'a filter on display', operations: [{ op: 'remove', path: 'members[display eq "Babs Jensen"]' }] },
  { title: 'a filter on type', operations: [{ op: 'remove', path: 'members[type eq "Group"]' }] },
  { title: 'a filter mixing value and type', operations: [{ op: 'remove', path: `members[value eq "${A}" and type eq "User"]` }] },
  { title: 'a sub-attribute path members.value', operations: [{ op: 'replace', path: 'members.value', value: A }] },
  { title: 'replace on members[value eq "x"]', operations: [{ op: 'replace', path: `members[value eq "${A}"]`, value: { value: B } }] },
  { title: 'add on members[value eq "x"].type', operations: [{ op: 'add', path: `members[value eq "${A}"].type`, value: 'User' }] },
  { title: 'a dotted members key in a no-path value', operations: [{ op: 'replace', value: { 'members.value': A } }] },
  { title: 'members inside the core schema URN object of a no-path value', operations: [{ op: 'add', value: { [GROUP_SCHEMA]: { members: [{ value: A }] } } }] },
  {
    title: 'one such operation among translatable ones',
    operations: [
      { op: 'add', path: 'members', value: [{ value: C }] },
      { op: 'replace', path: 'displayName', value: 'x' },
      { op: 'remove', path: 'members[display eq "x"]' },
    ],
  },
]

describe('planMemberPatch: operations that need the member list → memberSteps null, all operations unchanged', () => {
  for (const { title, operations } of needsMembers) {
    test(title, () => {
      const parsed = parse(...operations)
      const plan = planMemberPatch(parsed, options)
      assert.equal(plan.memberSteps, null)
      assert.deepStrictEqual(plan.otherOperations, parsed)
    })
  }
})

describe('planMemberPatch: resource types without members', () => {
  test('User: memberSteps [] and every operation in otherOperations', () => {
    const parsed = parse({ op: 'replace', value: { active: false } }, { op: 'Replace', path: 'emails[type eq "work"].value', value: 'updatedEmail@microsoft.com' })
    const plan = planMemberPatch(parsed, { registry, resourceType: 'User' })
    assert.deepStrictEqual(plan, { memberSteps: [], otherOperations: parsed })
  })
})

const invalidMembers: readonly { readonly title: string; readonly operations: readonly unknown[] }[] = [
  { title: 'an empty value', operations: [{ op: 'add', path: 'members', value: [{ value: '' }] }] },
  { title: 'a number value', operations: [{ op: 'add', path: 'members', value: [{ value: 5 }] }] },
  { title: 'a member without value', operations: [{ op: 'add', path: 'members', value: [{ display: 'Babs' }] }] },
  { title: 'a member given as a bare string', operations: [{ op: 'replace', path: 'members', value: [A] }] },
  { title: 'an unknown member sub-attribute', operations: [{ op: 'add', path: 'members', value: [{ value: A, role: 'owner' }] }] },
  { title: 'an empty value in a remove value array', operations: [{ op: 'Remove', path: 'members', value: [{ value: '' }] }] },
  { title: 'an empty value in a value filter', operations: [{ op: 'remove', path: 'members[value eq ""]' }] },
  { title: 'a number in a value filter', operations: [{ op: 'remove', path: 'members[value eq 5]' }] },
  { title: 'a null member value in a no-path add object', operations: [{ op: 'add', value: { members: [{ value: null }] } }] },
]

describe('planMemberPatch: member values must be non-empty strings', () => {
  for (const { title, operations } of invalidMembers) {
    test(`${title} → 400 invalidValue`, () => {
      assert.throws(
        () => planMemberPatch(parse(...operations), options),
        (e: unknown) => {
          assert.ok(e instanceof ScimError, `expected a ScimError, got ${String(e)}`)
          assert.equal(e.status, 400)
          assert.equal(e.scimType, 'invalidValue')
          return true
        },
      )
    })
  }
})

/** What the store does with steps: the reference the plan must agree with. */
function applySteps(ids: readonly string[], steps: readonly MemberStep[]): string[] {
  let current = [...ids]
  for (const step of steps) {
    if (step.op === 'add') current = [...current, ...step.ids.filter((id) => !current.includes(id))]
    else if (step.op === 'remove') current = current.filter((id) => !step.ids.includes(id))
    else current = [...step.ids]
  }
  return current
}

describe('planMemberPatch agrees with applyPatch on the loaded member list', () => {
  const group = (): ScimObject => ({ schemas: [GROUP_SCHEMA], id: 'g1', displayName: 'Tour Guides', members: [{ value: A }, { value: B }] })
  for (const { title, operations } of translated) {
    test(title, () => {
      const parsed = parse(...operations)
      const plan = planMemberPatch(parsed, options)
      assert.ok(plan.memberSteps)
      const whole = applyPatch(group(), parsed, options).resource
      const { members: _loaded, ...unloaded } = group()
      const split = applyPatch(unloaded, plan.otherOperations, options).resource
      const wholeIds = ((whole.members as ScimObject[] | undefined) ?? []).map((m) => m.value)
      assert.deepStrictEqual(applySteps([A, B], plan.memberSteps), wholeIds)
      const { members: _omitted, ...wholeRest } = whole
      const { members: _none, ...splitRest } = split
      assert.deepStrictEqual(splitRest, wholeRest)
    })
  }
})
