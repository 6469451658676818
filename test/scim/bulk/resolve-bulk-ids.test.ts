import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { ScimError } from '../../../src/scim/errors.js'
import { findBulkIdReferences, findMemberBulkIdReferences, resolveBulkIds } from '../../../src/scim/bulk/resolve-bulk-ids.js'
import { ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA } from '../../../src/scim/urns.js'

const ids = new Map([
  ['qwerty', '92b725cd9465'],
  ['ytrewq', 'e9e30dba-f08f-4109-8486-d5c6a331660a'],
])

const cases: readonly { readonly title: string; readonly value: unknown; readonly references: string[]; readonly members: string[]; readonly resolved: unknown }[] = [
  {
    title: 'RFC 7644 §3.7.2: a Group member',
    value: { schemas: [GROUP_SCHEMA], displayName: 'Tour Guides', members: [{ type: 'User', value: 'bulkId:qwerty' }] },
    references: ['qwerty'],
    members: ['qwerty'],
    resolved: { schemas: [GROUP_SCHEMA], displayName: 'Tour Guides', members: [{ type: 'User', value: '92b725cd9465' }] },
  },
  {
    title: 'RFC 7644 §3.7.2: the enterprise manager.value, which is not a member',
    value: { schemas: [USER_SCHEMA, ENTERPRISE_USER_SCHEMA], userName: 'Bob', [ENTERPRISE_USER_SCHEMA]: { manager: { value: 'bulkId:qwerty' } } },
    references: ['qwerty'],
    members: [],
    resolved: { schemas: [USER_SCHEMA, ENTERPRISE_USER_SCHEMA], userName: 'Bob', [ENTERPRISE_USER_SCHEMA]: { manager: { value: '92b725cd9465' } } },
  },
  {
    title: 'RFC 7644 §3.7.1: members in any case, several, each reference found once',
    value: { Members: [{ Value: 'bulkId:ytrewq' }, { value: 'bulkId:qwerty' }, { value: 'bulkId:ytrewq' }, { value: 'plain-id' }] },
    references: ['ytrewq', 'qwerty'],
    members: ['ytrewq', 'qwerty'],
    resolved: { Members: [{ Value: ids.get('ytrewq') }, { value: ids.get('qwerty') }, { value: ids.get('ytrewq') }, { value: 'plain-id' }] },
  },
  {
    title: 'any attribute of an extension, and an array of strings',
    value: { 'urn:example:ext': { sponsor: 'bulkId:ytrewq', tags: ['bulkId:qwerty', 'x'] } },
    references: ['ytrewq', 'qwerty'],
    members: [],
    resolved: { 'urn:example:ext': { sponsor: ids.get('ytrewq'), tags: [ids.get('qwerty'), 'x'] } },
  },
  {
    title: 'a reference is a whole value: text around it, the bare prefix and keys are not references',
    value: { note: 'see bulkId:qwerty', prefix: 'bulkId:', 'bulkId:qwerty': 1, upper: 'BULKID:qwerty' },
    references: [],
    members: [],
    resolved: { note: 'see bulkId:qwerty', prefix: 'bulkId:', 'bulkId:qwerty': 1, upper: 'BULKID:qwerty' },
  },
  {
    title: 'a path id',
    value: 'bulkId:ytrewq',
    references: ['ytrewq'],
    members: [],
    resolved: ids.get('ytrewq'),
  },
  {
    title: 'numbers, booleans and null pass through',
    value: { a: 1, b: true, c: null, d: [null, 2] },
    references: [],
    members: [],
    resolved: { a: 1, b: true, c: null, d: [null, 2] },
  },
]

describe('bulkId references (RFC 7644 §3.7.2)', () => {
  for (const { title, value, references, members, resolved } of cases) {
    test(`finds and resolves: ${title}`, () => {
      assert.deepStrictEqual(findBulkIdReferences(value), references)
      assert.deepStrictEqual(findMemberBulkIdReferences(value), members)
      assert.deepStrictEqual(resolveBulkIds(value, ids), resolved)
    })
  }

  test('resolving does not change the value it was given', () => {
    const value = { members: [{ value: 'bulkId:qwerty' }] }
    resolveBulkIds(value, ids)
    assert.deepStrictEqual(value, { members: [{ value: 'bulkId:qwerty' }] })
  })

  test('an unknown bulkId is 409 naming it (RFC 7644 §3.7.1: a reference that cannot be resolved)', () => {
    assert.throws(
      () => resolveBulkIds({ members: [{ value: 'bulkId:qwerty' }, { value: 'bulkId:nope' }] }, ids),
      (e: unknown) => e instanceof ScimError && e.status === 409 && e.scimType === undefined && e.detail.includes('"bulkId:nope"'),
    )
  })
})
