/**
 * Admin roles and what each may do. One table, read by `can`; the admin HTTP routes name the
 * permission they need, so a route added without one is visible in review.
 *
 * - owner: everything, including admins, admin API keys and organizations.
 * - securityAdmin: manages credentials (SCIM tokens, OAuth clients, signing keys) and reads and
 *   exports the audit log; reads everything else.
 * - viewer: reads configuration, users and groups and the audit log; changes nothing, exports nothing
 *   (an export is the whole log in one file, so it is a right of its own).
 */
export const ADMIN_ROLES = ['owner', 'securityAdmin', 'viewer'] as const
export type AdminRole = (typeof ADMIN_ROLES)[number]

export const PERMISSIONS = [
  'organizations:read',
  'organizations:manage',
  'tokens:read',
  'tokens:manage',
  'oauthClients:read',
  'oauthClients:manage',
  'signingKeys:rotate',
  'settings:read',
  'settings:manage',
  'resources:read',
  'audit:read',
  'audit:export',
  'admins:read',
  'admins:manage',
  'apiKeys:manage',
] as const
export type Permission = (typeof PERMISSIONS)[number]

const READ_ALL: readonly Permission[] = ['organizations:read', 'tokens:read', 'oauthClients:read', 'settings:read', 'resources:read', 'audit:read']

export const ROLE_PERMISSIONS: Readonly<Record<AdminRole, ReadonlySet<Permission>>> = {
  owner: new Set(PERMISSIONS),
  securityAdmin: new Set<Permission>([...READ_ALL, 'tokens:manage', 'oauthClients:manage', 'signingKeys:rotate', 'audit:export', 'admins:read']),
  viewer: new Set<Permission>(READ_ALL),
}

export const isAdminRole = (value: unknown): value is AdminRole => typeof value === 'string' && (ADMIN_ROLES as readonly string[]).includes(value)

/**
 * Whether `role` grants `permission`. Fails closed: a role read from storage that is not one of
 * ADMIN_ROLES (a typo, a role from a newer version, "__proto__") grants nothing.
 */
export function can(role: string, permission: Permission): boolean {
  return isAdminRole(role) && ROLE_PERMISSIONS[role].has(permission)
}

/** The permissions of a role, in PERMISSIONS order (for the console to show or hide controls). */
export function permissionsOf(role: string): Permission[] {
  return isAdminRole(role) ? PERMISSIONS.filter((p) => ROLE_PERMISSIONS[role].has(p)) : []
}
