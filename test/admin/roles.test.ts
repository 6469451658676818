import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ADMIN_ROLES, PERMISSIONS, can, permissionsOf, type AdminRole, type Permission } from '../../src/admin/roles.js'

// The table as the product decides it, written out rather than derived from ROLE_PERMISSIONS, so a
// change to the code that is not also a decision here fails. O = owner, S = securityAdmin, V = viewer.
const TABLE: Record<Permission, string> = {
  'organizations:read': 'OSV',
  'organizations:manage': 'O',
  'tokens:read': 'OSV',
  'tokens:manage': 'OS',
  'oauthClients:read': 'OSV',
  'oauthClients:manage': 'OS',
  'signingKeys:rotate': 'OS',
  'settings:read': 'OSV',
  'settings:manage': 'O',
  'resources:read': 'OSV',
  'audit:read': 'OSV',
  'audit:export': 'OS',
  'admins:read': 'OS',
  'admins:manage': 'O',
  'apiKeys:manage': 'O',
}
const LETTER: Record<AdminRole, string> = { owner: 'O', securityAdmin: 'S', viewer: 'V' }

test('the table covers every permission', () => {
  assert.deepStrictEqual(Object.keys(TABLE).sort(), [...PERMISSIONS].sort())
})

for (const permission of PERMISSIONS) {
  for (const role of ADMIN_ROLES) {
    const expected = TABLE[permission].includes(LETTER[role])
    test(`${role} ${expected ? 'may' : 'may not'} ${permission}`, () => {
      assert.equal(can(role, permission), expected)
    })
  }
}

for (const role of ['', 'admin', 'Owner', 'OWNER', '__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
  test(`an unknown role ${JSON.stringify(role)} may do nothing`, () => {
    for (const permission of PERMISSIONS) assert.equal(can(role, permission), false, permission)
    assert.deepStrictEqual(permissionsOf(role), [])
  })
}

test('permissionsOf lists a role\'s permissions in PERMISSIONS order', () => {
  assert.deepStrictEqual(permissionsOf('viewer'), ['organizations:read', 'tokens:read', 'oauthClients:read', 'settings:read', 'resources:read', 'audit:read'])
  assert.deepStrictEqual(permissionsOf('owner'), [...PERMISSIONS])
})
