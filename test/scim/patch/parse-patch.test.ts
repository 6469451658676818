import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { ScimError, type ScimType } from '../../../src/scim/errors.js'
import { and, eq, or } from '../../../src/scim/filter/filter-ast.js'
import { parsePatchPath, parsePatchRequest, type PatchOperation } from '../../../src/scim/patch/parse-patch.js'
import { ENTERPRISE_USER_SCHEMA, PATCH_OP, USER_SCHEMA } from '../../../src/scim/urns.js'

const body = (...operations: unknown[]) => ({ schemas: [PATCH_OP], Operations: operations })

const validRequests: readonly { readonly title: string; readonly body: unknown; readonly expected: PatchOperation[] }[] = [
  {
    title: 'Entra ID: replace a group displayName, op "Replace" (Microsoft, "Develop and plan provisioning for a SCIM endpoint")',
    body: {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'Replace', path: 'displayName', value: '1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName' }],
    },
    expected: [
      {
        op: 'replace',
        path: { text: 'displayName', attribute: { attribute: 'displayName' } },
        value: '1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName',
      },
    ],
  },
  {
    title: 'Entra ID: add members with "$ref": null (Microsoft, "Develop and plan provisioning for a SCIM endpoint")',
    body: body({ op: 'Add', path: 'members', value: [{ $ref: null, value: 'f648f8d5ea4e4cd38e9c' }] }),
    expected: [{ op: 'add', path: { text: 'members', attribute: { attribute: 'members' } }, value: [{ $ref: null, value: 'f648f8d5ea4e4cd38e9c' }] }],
  },
  {
    title: 'Entra ID: remove members with a value array (Microsoft, "Develop and plan provisioning for a SCIM endpoint")',
    body: body({ op: 'Remove', path: 'members', value: [{ $ref: null, value: 'f648f8d5ea4e4cd38e9c' }] }),
    expected: [{ op: 'remove', path: { text: 'members', attribute: { attribute: 'members' } }, value: [{ $ref: null, value: 'f648f8d5ea4e4cd38e9c' }] }],
  },
  {
    title: 'Entra ID: valuePath with sub-attribute and a sub-attribute path (Microsoft, "Develop and plan provisioning for a SCIM endpoint")',
    body: body(
      { op: 'Replace', path: 'emails[type eq "work"].value', value: 'updatedEmail@microsoft.com' },
      { op: 'Replace', path: 'name.familyName', value: 'updatedFamilyName' },
    ),
    expected: [
      {
        op: 'replace',
        path: { text: 'emails[type eq "work"].value', attribute: { attribute: 'emails' }, filter: eq('type', 'work'), subAttribute: 'value' },
        value: 'updatedEmail@microsoft.com',
      },
      { op: 'replace', path: { text: 'name.familyName', attribute: { attribute: 'name', subAttribute: 'familyName' } }, value: 'updatedFamilyName' },
    ],
  },
  {
    title: 'Entra ID: manager by its URN-qualified path (Microsoft, "Develop and plan provisioning for a SCIM endpoint")',
    body: body({ op: 'Add', path: `${ENTERPRISE_USER_SCHEMA}:manager`, value: 'managerId' }),
    expected: [
      { op: 'add', path: { text: `${ENTERPRISE_USER_SCHEMA}:manager`, attribute: { schema: ENTERPRISE_USER_SCHEMA, attribute: 'manager' } }, value: 'managerId' },
    ],
  },
  {
    title: 'Okta: no-path replace of active (Okta, "SCIM 2.0 protocol reference")',
    body: body({ op: 'replace', value: { active: false } }),
    expected: [{ op: 'replace', value: { active: false } }],
  },
  {
    title: 'Okta: no-path group rename carrying id (Okta, "SCIM 2.0 protocol reference")',
    body: body({ op: 'replace', value: { id: 'abf4dd94-a4c0-4f67-89c9-76b03340cb9b', displayName: 'Test SCIMv2' } }),
    expected: [{ op: 'replace', value: { id: 'abf4dd94-a4c0-4f67-89c9-76b03340cb9b', displayName: 'Test SCIMv2' } }],
  },
  {
    title: 'Okta: remove one member by valuePath (Okta, "SCIM 2.0 protocol reference")',
    body: body({ op: 'remove', path: 'members[value eq "89bb1940-b905-4575-9e7f-6f887cfb368e"]' }),
    expected: [
      {
        op: 'remove',
        path: {
          text: 'members[value eq "89bb1940-b905-4575-9e7f-6f887cfb368e"]',
          attribute: { attribute: 'members' },
          filter: eq('value', '89bb1940-b905-4575-9e7f-6f887cfb368e'),
        },
      },
    ],
  },
  {
    title: 'bare extension URN as path: schema + attribute rejoin to the URN (RFC 7644 §3.5.2)',
    body: body({ op: 'remove', path: ENTERPRISE_USER_SCHEMA }),
    expected: [
      { op: 'remove', path: { text: ENTERPRISE_USER_SCHEMA, attribute: { schema: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0', attribute: 'User' } } },
    ],
  },
  {
    title: 'custom extension URN whose last segment is a version (urn:acme:scim:2.0)',
    body: body({ op: 'remove', path: 'urn:acme:scim:2.0' }),
    expected: [{ op: 'remove', path: { text: 'urn:acme:scim:2.0', attribute: { schema: 'urn:acme:scim', attribute: '2.0' } } }],
  },
  {
    title: 'URN-qualified valuePath with sub-attribute (RFC 7644 §3.5.2 PATH)',
    body: body({ op: 'replace', path: `${USER_SCHEMA}:emails[type eq "work" and primary eq true].display`, value: 'Work' }),
    expected: [
      {
        op: 'replace',
        path: {
          text: `${USER_SCHEMA}:emails[type eq "work" and primary eq true].display`,
          attribute: { schema: USER_SCHEMA, attribute: 'emails' },
          filter: and(eq('type', 'work'), eq('primary', true)),
          subAttribute: 'display',
        },
        value: 'Work',
      },
    ],
  },
  {
    title: '"]" inside a filter string literal belongs to the value',
    body: body({ op: 'remove', path: 'members[value eq "a]b"]' }),
    expected: [{ op: 'remove', path: { text: 'members[value eq "a]b"]', attribute: { attribute: 'members' }, filter: eq('value', 'a]b') } }],
  },
  {
    title: 'escaped quote followed by "]" and "[" inside a filter string literal',
    body: body({ op: 'remove', path: 'members[value eq "a\\"]b[" or value eq "c"]' }),
    expected: [
      {
        op: 'remove',
        path: { text: 'members[value eq "a\\"]b[" or value eq "c"]', attribute: { attribute: 'members' }, filter: or(eq('value', 'a"]b['), eq('value', 'c')) },
      },
    ],
  },
  {
    title: '"Operations", "op", "path" and "value" in any case; "schemas" in any case',
    body: { SCHEMAS: [PATCH_OP.toUpperCase()], operations: [{ OP: 'ADD', Path: 'nickName', Value: 'Babs' }] },
    expected: [{ op: 'add', path: { text: 'nickName', attribute: { attribute: 'nickName' } }, value: 'Babs' }],
  },
  {
    title: 'a missing "schemas" is tolerated',
    body: { Operations: [{ op: 'replace', path: 'active', value: false }] },
    expected: [{ op: 'replace', path: { text: 'active', attribute: { attribute: 'active' } }, value: false }],
  },
  {
    title: '"path": null is no path (RFC 7643 §2.5: null is unassigned)',
    body: body({ op: 'add', path: null, value: { nickName: 'Babs' } }),
    expected: [{ op: 'add', value: { nickName: 'Babs' } }],
  },
  {
    title: 'replace with a null value keeps the null (applyPatch gives it meaning)',
    body: body({ op: 'replace', path: 'nickName', value: null }),
    expected: [{ op: 'replace', path: { text: 'nickName', attribute: { attribute: 'nickName' } }, value: null }],
  },
]

describe('parsePatchRequest: valid requests (RFC 7644 §3.5.2)', () => {
  for (const { title, body: b, expected } of validRequests) {
    test(title, () => assert.deepStrictEqual(parsePatchRequest(b), expected))
  }

  test('accepts 1,000 operations', () => {
    const ops = Array.from({ length: 1000 }, () => ({ op: 'replace', path: 'active', value: true }))
    assert.equal(parsePatchRequest(body(...ops)).length, 1000)
  })
})

const invalidRequests: readonly { readonly title: string; readonly body: unknown; readonly scimType: ScimType; readonly detail?: RegExp }[] = [
  { title: 'body is an array', body: [], scimType: 'invalidSyntax' },
  { title: 'body is null', body: null, scimType: 'invalidSyntax' },
  { title: 'body is a string', body: 'Operations', scimType: 'invalidSyntax' },
  { title: 'schemas without PatchOp', body: { schemas: [USER_SCHEMA], Operations: [{ op: 'add', path: 'nickName', value: 'x' }] }, scimType: 'invalidSyntax', detail: /PatchOp/ },
  { title: 'schemas is a string', body: { schemas: PATCH_OP, Operations: [{ op: 'add', path: 'nickName', value: 'x' }] }, scimType: 'invalidSyntax' },
  { title: 'no Operations', body: { schemas: [PATCH_OP] }, scimType: 'invalidSyntax', detail: /Operations/ },
  { title: 'Operations is an object', body: { schemas: [PATCH_OP], Operations: { op: 'add' } }, scimType: 'invalidSyntax' },
  { title: 'Operations is empty', body: body(), scimType: 'invalidSyntax', detail: /at least one/ },
  { title: '"Operations" and "operations" both present', body: { Operations: [], operations: [] }, scimType: 'invalidSyntax', detail: /more than once/ },
  {
    title: 'more than 1,000 operations',
    body: body(...Array.from({ length: 1001 }, () => ({ op: 'replace', path: 'active', value: true }))),
    scimType: 'invalidValue',
    detail: /at most 1000 operations; this one has 1001/,
  },
  { title: 'an operation that is not an object', body: body('add'), scimType: 'invalidSyntax', detail: /Operations\[0\]/ },
  { title: 'unknown op "move"', body: body({ op: 'move', path: 'nickName', value: 'x' }), scimType: 'invalidSyntax', detail: /"move"/ },
  { title: 'missing op', body: body({ path: 'nickName', value: 'x' }), scimType: 'invalidSyntax' },
  { title: 'op that is not a string', body: body({ op: 1, path: 'nickName', value: 'x' }), scimType: 'invalidSyntax' },
  { title: '"op" and "Op" both present', body: body({ op: 'add', Op: 'remove', path: 'nickName', value: 'x' }), scimType: 'invalidSyntax' },
  { title: 'path that is not a string', body: body({ op: 'add', path: ['nickName'], value: 'x' }), scimType: 'invalidSyntax', detail: /path must be a string/ },
  { title: 'empty path', body: body({ op: 'add', path: '', value: 'x' }), scimType: 'invalidPath' },
  { title: 'path with a space inside a name', body: body({ op: 'add', path: 'nick Name', value: 'x' }), scimType: 'invalidPath' },
  { title: 'path with two sub-attribute levels', body: body({ op: 'add', path: 'name.givenName.x', value: 'x' }), scimType: 'invalidPath' },
  { title: 'unclosed "["', body: body({ op: 'remove', path: 'emails[type eq "work"' }), scimType: 'invalidPath', detail: /unclosed/ },
  { title: '"]" without "["', body: body({ op: 'remove', path: 'emails]' }), scimType: 'invalidPath' },
  { title: 'empty value filter', body: body({ op: 'remove', path: 'emails[]' }), scimType: 'invalidPath' },
  { title: 'text after the value filter that is not .subAttr', body: body({ op: 'remove', path: 'emails[type eq "work"]value' }), scimType: 'invalidPath' },
  { title: 'two sub-attributes after the value filter', body: body({ op: 'remove', path: 'emails[type eq "work"].value.x' }), scimType: 'invalidPath' },
  { title: 'value filter after a sub-attribute', body: body({ op: 'remove', path: 'name.givenName[value eq "x"]' }), scimType: 'invalidPath' },
  { title: 'bad filter inside the brackets', body: body({ op: 'remove', path: 'emails[type zz "work"]' }), scimType: 'invalidFilter' },
  { title: 'unterminated string inside the brackets', body: body({ op: 'remove', path: 'members[value eq "a]' }), scimType: 'invalidPath' },
  { title: 'remove without path (RFC 7644 §3.5.2.2)', body: body({ op: 'remove' }), scimType: 'noTarget' },
  { title: 'remove with "path": null (RFC 7644 §3.5.2.2)', body: body({ op: 'Remove', path: null, value: [{ value: 'x' }] }), scimType: 'noTarget' },
  { title: 'add without value (RFC 7644 §3.5.2.1)', body: body({ op: 'add', path: 'nickName' }), scimType: 'invalidSyntax', detail: /requires a "value"/ },
  { title: 'replace without value (RFC 7644 §3.5.2.3)', body: body({ op: 'replace' }), scimType: 'invalidSyntax' },
  { title: 'no-path add whose value is a string (RFC 7644 §3.5.2.1)', body: body({ op: 'add', value: 'x' }), scimType: 'invalidValue' },
  { title: 'no-path replace whose value is an array (RFC 7644 §3.5.2.3)', body: body({ op: 'replace', value: [{ active: false }] }), scimType: 'invalidValue' },
]

describe('parsePatchRequest: invalid requests (RFC 7644 §3.5.2, §3.12)', () => {
  for (const { title, body: b, scimType, detail } of invalidRequests) {
    test(`rejects ${title} with 400 ${scimType}`, () => {
      assert.throws(
        () => parsePatchRequest(b),
        (e: unknown) => {
          assert.ok(e instanceof ScimError, `expected a ScimError, got ${String(e)}`)
          assert.equal(e.status, 400)
          assert.equal(e.scimType, scimType)
          if (detail) assert.match(e.detail, detail)
          return true
        },
      )
    })
  }
})

describe('parsePatchPath', () => {
  test('keeps names as written; the registry makes them canonical later (RFC 7643 §2.1)', () => {
    assert.deepStrictEqual(parsePatchPath('EMAILS[TYPE eq "work"].VALUE'), {
      text: 'EMAILS[TYPE eq "work"].VALUE',
      attribute: { attribute: 'EMAILS' },
      filter: eq('TYPE', 'work'),
      subAttribute: 'VALUE',
    })
  })
})
