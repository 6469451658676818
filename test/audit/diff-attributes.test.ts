import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { diffAttributes } from '../../src/audit/diff-attributes.js'
import { REDACTED, type AttributeChange } from '../../src/audit/audit-event.js'
import type { ScimObject } from '../../src/scim/index.js'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
const ACME = 'urn:ietf:params:scim:schemas:extension:acme:2.0:User'

// Every secret value in these cases contains this marker; no diff may ever contain it.
const SECRET = 'S3CRET'

interface Case {
  readonly name: string
  readonly before: ScimObject | undefined
  readonly after: ScimObject | undefined
  readonly expected: AttributeChange[]
}

const cases: Case[] = [
  {
    name: 'create: every attribute of the new resource, id and meta left out, password redacted',
    before: undefined,
    after: {
      schemas: [USER],
      id: '2819c223',
      meta: { resourceType: 'User', version: 'W/"1"' },
      userName: 'bjensen',
      name: { givenName: 'Barbara', familyName: 'Jensen' },
      active: true,
      password: `t1meMa$heen-${SECRET}`,
    },
    expected: [
      { attribute: 'active', after: true },
      { attribute: 'name.familyName', after: 'Jensen' },
      { attribute: 'name.givenName', after: 'Barbara' },
      { attribute: 'password', after: REDACTED, changed: true },
      { attribute: 'schemas', after: [USER] },
      { attribute: 'userName', after: 'bjensen' },
    ],
  },
  {
    name: 'delete: every attribute of the old resource as before',
    before: { schemas: [USER], userName: 'bjensen', active: true },
    after: undefined,
    expected: [
      { attribute: 'active', before: true },
      { attribute: 'schemas', before: [USER] },
      { attribute: 'userName', before: 'bjensen' },
    ],
  },
  {
    name: 'a password change shows that it changed, never either value',
    before: { userName: 'bjensen', password: `old-${SECRET}` },
    after: { userName: 'bjensen', password: `new-${SECRET}` },
    expected: [{ attribute: 'password', before: REDACTED, after: REDACTED, changed: true }],
  },
  {
    name: 'a password set by PATCH (none before) is redacted',
    before: { userName: 'bjensen' },
    after: { userName: 'bjensen', password: `new-${SECRET}` },
    expected: [{ attribute: 'password', after: REDACTED, changed: true }],
  },
  {
    name: 'a password removed is redacted',
    before: { userName: 'bjensen', password: `old-${SECRET}` },
    after: { userName: 'bjensen' },
    expected: [{ attribute: 'password', before: REDACTED, changed: true }],
  },
  {
    name: 'the same password again records nothing',
    before: { password: `same-${SECRET}` },
    after: { password: `same-${SECRET}` },
    expected: [],
  },
  {
    name: 'a sub-attribute of a single-valued complex attribute by its dotted name',
    before: { name: { givenName: 'Barbara', familyName: 'Jensen' } },
    after: { name: { givenName: 'Babs', familyName: 'Jensen' } },
    expected: [{ attribute: 'name.givenName', before: 'Barbara', after: 'Babs' }],
  },
  {
    name: 'a complex attribute that appears: its sub-attributes as added',
    before: { userName: 'bjensen' },
    after: { userName: 'bjensen', name: { formatted: 'Ms. Barbara J Jensen III' } },
    expected: [{ attribute: 'name.formatted', after: 'Ms. Barbara J Jensen III' }],
  },
  {
    name: 'a multi-valued attribute as the whole array before and after',
    before: { emails: [{ value: 'bjensen@example.com', type: 'work', primary: true }] },
    after: { emails: [{ value: 'babs@example.com', type: 'work', primary: true }] },
    expected: [
      {
        attribute: 'emails',
        before: [{ value: 'bjensen@example.com', type: 'work', primary: true }],
        after: [{ value: 'babs@example.com', type: 'work', primary: true }],
      },
    ],
  },
  {
    name: 'values in another order are no change (RFC 7643 §2.4)',
    before: { emails: [{ value: 'a@example.com', type: 'work' }, { type: 'home', value: 'b@example.com' }] },
    after: { emails: [{ value: 'b@example.com', type: 'home' }, { value: 'a@example.com', type: 'work' }] },
    expected: [],
  },
  {
    name: 'null, [] and absent are the same state (RFC 7643 §2.5)',
    before: { nickName: null, emails: [], name: {} },
    after: {},
    expected: [],
  },
  {
    name: 'case is a change: the stored value changed',
    before: { userName: 'BJensen' },
    after: { userName: 'bjensen' },
    expected: [{ attribute: 'userName', before: 'BJensen', after: 'bjensen' }],
  },
  {
    name: 'extension attributes by URN-qualified name, sub-attributes dotted',
    before: { [ENTERPRISE]: { employeeNumber: '701984', manager: { value: '26118915', displayName: 'John Smith' } } },
    after: { [ENTERPRISE]: { employeeNumber: '701985', manager: { value: '26118916', displayName: 'John Smith' } } },
    expected: [
      { attribute: `${ENTERPRISE}:employeeNumber`, before: '701984', after: '701985' },
      { attribute: `${ENTERPRISE}:manager.value`, before: '26118915', after: '26118916' },
    ],
  },
  {
    name: 'core attributes come before extensions',
    before: {},
    after: { [ENTERPRISE]: { department: 'Tour Operations' }, userName: 'bjensen' },
    expected: [
      { attribute: 'userName', after: 'bjensen' },
      { attribute: `${ENTERPRISE}:department`, after: 'Tour Operations' },
    ],
  },
  {
    name: 'an extension attribute named like a secret is redacted',
    before: { [ACME]: { apiToken: `tok-${SECRET}-1`, badgeNumber: '1' } },
    after: { [ACME]: { apiToken: `tok-${SECRET}-2`, badgeNumber: '1' } },
    expected: [{ attribute: `${ACME}:apiToken`, before: REDACTED, after: REDACTED, changed: true }],
  },
  {
    name: 'any top-level name matching /password|secret|token/i is redacted',
    before: {},
    after: { clientSecret: `cs-${SECRET}`, refreshTOKEN: `rt-${SECRET}`, oldPassword: `op-${SECRET}` },
    expected: [
      { attribute: 'clientSecret', after: REDACTED, changed: true },
      { attribute: 'oldPassword', after: REDACTED, changed: true },
      { attribute: 'refreshTOKEN', after: REDACTED, changed: true },
    ],
  },
  {
    name: 'a secret sub-attribute of a complex attribute is redacted, its siblings are not',
    before: { credentials: { kind: 'totp', sharedSecret: `a-${SECRET}` } },
    after: { credentials: { kind: 'hotp', sharedSecret: `b-${SECRET}` } },
    expected: [
      { attribute: 'credentials.kind', before: 'totp', after: 'hotp' },
      { attribute: 'credentials.sharedSecret', before: REDACTED, after: REDACTED, changed: true },
    ],
  },
  {
    name: 'a complex attribute named like a secret is redacted whole',
    before: {},
    after: { passwordPolicy: { minLength: 12, history: `h-${SECRET}` } },
    expected: [{ attribute: 'passwordPolicy', after: REDACTED, changed: true }],
  },
  {
    name: 'secrets inside multi-valued elements are redacted in place; the change is marked',
    before: { apiKeys: [{ value: 'k1', secret: `x-${SECRET}` }] },
    after: { apiKeys: [{ value: 'k1', secret: `y-${SECRET}` }] },
    expected: [
      {
        attribute: 'apiKeys',
        before: [{ value: 'k1', secret: REDACTED }],
        after: [{ value: 'k1', secret: REDACTED }],
        changed: true,
      },
    ],
  },
  {
    name: 'meta and id changes are not attribute changes',
    before: { id: 'a', meta: { version: 'W/"1"', lastModified: '2025-01-01T00:00:00Z' }, active: true },
    after: { id: 'a', meta: { version: 'W/"2"', lastModified: '2025-01-02T00:00:00Z' }, active: false },
    expected: [{ attribute: 'active', before: true, after: false }],
  },
  {
    name: 'no change, no entries',
    before: { userName: 'bjensen', name: { givenName: 'Barbara' }, emails: [{ value: 'a@example.com' }] },
    after: { userName: 'bjensen', name: { givenName: 'Barbara' }, emails: [{ value: 'a@example.com' }] },
    expected: [],
  },
]

describe('diffAttributes', () => {
  for (const c of cases) {
    test(c.name, () => {
      const changes = diffAttributes(c.before, c.after)
      assert.deepStrictEqual(changes, c.expected)
      assert.ok(!JSON.stringify(changes).includes(SECRET), `a secret value leaked into ${JSON.stringify(changes)}`)
    })
  }

  test('does not modify its inputs', () => {
    const before = { apiKeys: [{ value: 'k1', secret: `x-${SECRET}` }], password: `p-${SECRET}` }
    const after = { apiKeys: [{ value: 'k2', secret: `x-${SECRET}` }] }
    const copy = structuredClone({ before, after })
    diffAttributes(before, after)
    assert.deepStrictEqual({ before, after }, copy)
  })
})
