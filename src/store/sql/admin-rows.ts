import type {
  AdminApiKeyRecord,
  AdminRecord,
  AdminRoleName,
  AdminSessionRecord,
  OAuthClientRecord,
  SigningAlgorithm,
  StoredSigningKey,
  TenantRecord,
  TenantSettings,
} from '../ports.js'

/**
 * Rows of the organization and administration tables as both adapters read them (same column names in
 * SQLite and PostgreSQL), and the records they become. JSON columns arrive as text from SQLite and as
 * parsed values from PostgreSQL's jsonb; `fromJson` takes either. Each of those columns holds an object
 * or an array, never a bare JSON string, so a string is always JSON text to parse.
 */
export const fromJson = <T>(value: unknown): T => (typeof value === 'string' ? JSON.parse(value) : value) as T

/** `{ key: value }` when value is not NULL, else nothing: optional record fields stay absent, not undefined. */
const optional = <K extends string>(key: K, value: string | null): { [P in K]?: string } => (value === null ? {} : ({ [key]: value } as { [P in K]: string }))

export const TENANT_COLUMNS = 'id, name, created_at, settings'

export interface TenantRow {
  readonly id: string
  readonly name: string
  readonly created_at: string
  readonly settings: unknown
}

export const toTenant = (row: TenantRow): TenantRecord => ({
  id: row.id,
  name: row.name,
  createdAt: row.created_at,
  settings: fromJson<TenantSettings>(row.settings),
})

export const ADMIN_COLUMNS = 'id, email, name, role, tenant_id, password_hash, created_at, disabled_at'

export interface AdminRow {
  readonly id: string
  readonly email: string
  readonly name: string | null
  readonly role: string
  readonly tenant_id: string | null
  readonly password_hash: string
  readonly created_at: string
  readonly disabled_at: string | null
}

export const toAdmin = (row: AdminRow): AdminRecord => ({
  id: row.id,
  email: row.email,
  ...optional('name', row.name),
  // As stored: a role a newer Roster wrote is passed on, and the domain (isAdminRole) grants it nothing.
  role: row.role as AdminRoleName,
  ...optional('tenant', row.tenant_id),
  passwordHash: row.password_hash,
  createdAt: row.created_at,
  ...optional('disabledAt', row.disabled_at),
})

/** The admin columns an AdminStore.updateAdmin change may set, by record key. */
export const ADMIN_UPDATABLE = { name: 'name', role: 'role', tenant: 'tenant_id', passwordHash: 'password_hash', disabledAt: 'disabled_at' } as const

/** The optional ones, which a change can clear. */
const ADMIN_CLEARABLE: ReadonlySet<string> = new Set(['name', 'tenant', 'disabledAt'])

/**
 * The column assignments of an updateAdmin change, in a fixed order (ports.ts AdminStore.updateAdmin):
 * every key with a value, and the optional keys present with undefined, which become NULL.
 */
export function adminAssignments(change: Partial<Record<keyof typeof ADMIN_UPDATABLE, string | undefined>>): { column: string; value: string | null }[] {
  return (Object.keys(ADMIN_UPDATABLE) as (keyof typeof ADMIN_UPDATABLE)[])
    .filter((key) => change[key] !== undefined || (ADMIN_CLEARABLE.has(key) && Object.hasOwn(change, key)))
    .map((key) => ({ column: ADMIN_UPDATABLE[key], value: change[key] ?? null }))
}

export const SESSION_COLUMNS = 'id_hash, admin_id, created_at, last_seen_at, expires_at, absolute_expires_at, ip, user_agent'

export interface SessionRow {
  readonly id_hash: string
  readonly admin_id: string
  readonly created_at: string
  readonly last_seen_at: string
  readonly expires_at: string
  readonly absolute_expires_at: string
  readonly ip: string | null
  readonly user_agent: string | null
}

export const sessionValues = (s: AdminSessionRecord): unknown[] => [
  s.idHash,
  s.adminId,
  s.createdAt,
  s.lastSeenAt,
  s.expiresAt,
  s.absoluteExpiresAt,
  s.ip ?? null,
  s.userAgent ?? null,
]

export const toSession = (row: SessionRow): AdminSessionRecord => ({
  idHash: row.id_hash,
  adminId: row.admin_id,
  createdAt: row.created_at,
  lastSeenAt: row.last_seen_at,
  expiresAt: row.expires_at,
  absoluteExpiresAt: row.absolute_expires_at,
  ...optional('ip', row.ip),
  ...optional('userAgent', row.user_agent),
})

export const API_KEY_COLUMNS = 'id, name, role, prefix, hash, created_by, created_at, last_used_at, expires_at, revoked_at'

export interface ApiKeyRow {
  readonly id: string
  readonly name: string
  readonly role: string
  readonly prefix: string
  readonly hash: string
  readonly created_by: string
  readonly created_at: string
  readonly last_used_at: string | null
  readonly expires_at: string | null
  readonly revoked_at: string | null
}

export const apiKeyValues = (k: AdminApiKeyRecord): unknown[] => [
  k.id,
  k.name,
  k.role,
  k.prefix,
  k.hash,
  k.createdBy,
  k.createdAt,
  k.lastUsedAt ?? null,
  k.expiresAt ?? null,
  k.revokedAt ?? null,
]

export const toApiKey = (row: ApiKeyRow): AdminApiKeyRecord => ({
  id: row.id,
  name: row.name,
  role: row.role as AdminRoleName,
  prefix: row.prefix,
  hash: row.hash,
  createdBy: row.created_by,
  createdAt: row.created_at,
  ...optional('lastUsedAt', row.last_used_at),
  ...optional('expiresAt', row.expires_at),
  ...optional('revokedAt', row.revoked_at),
})

export const CLIENT_COLUMNS = 'id, tenant_id, name, secret_hash, scopes, created_at, last_used_at, revoked_at'

export interface ClientRow {
  readonly id: string
  readonly tenant_id: string
  readonly name: string
  readonly secret_hash: string
  readonly scopes: unknown
  readonly created_at: string
  readonly last_used_at: string | null
  readonly revoked_at: string | null
}

export const clientValues = (c: OAuthClientRecord): unknown[] => [
  c.id,
  c.tenant,
  c.name,
  c.secretHash,
  JSON.stringify(c.scopes),
  c.createdAt,
  c.lastUsedAt ?? null,
  c.revokedAt ?? null,
]

export const toClient = (row: ClientRow): OAuthClientRecord => ({
  id: row.id,
  tenant: row.tenant_id,
  name: row.name,
  secretHash: row.secret_hash,
  scopes: fromJson<string[]>(row.scopes),
  createdAt: row.created_at,
  ...optional('lastUsedAt', row.last_used_at),
  ...optional('revokedAt', row.revoked_at),
})

export const SIGNING_KEY_COLUMNS = 'kid, algorithm, private_jwk, public_jwk, created_at, retired_at'

export interface SigningKeyRow {
  readonly kid: string
  readonly algorithm: string
  readonly private_jwk: unknown
  readonly public_jwk: unknown
  readonly created_at: string
  readonly retired_at: string | null
}

export const signingKeyValues = (k: StoredSigningKey): unknown[] => [
  k.kid,
  k.algorithm,
  JSON.stringify(k.privateJwk),
  JSON.stringify(k.publicJwk),
  k.createdAt,
  k.retiredAt ?? null,
]

export const toSigningKey = (row: SigningKeyRow): StoredSigningKey => ({
  kid: row.kid,
  // As stored: SigningKeyRing skips keys of an algorithm it does not know.
  algorithm: row.algorithm as SigningAlgorithm,
  privateJwk: fromJson<StoredSigningKey['privateJwk']>(row.private_jwk),
  publicJwk: fromJson<StoredSigningKey['publicJwk']>(row.public_jwk),
  createdAt: row.created_at,
  ...optional('retiredAt', row.retired_at),
})
