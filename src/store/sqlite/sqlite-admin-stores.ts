import Database from 'better-sqlite3'
import { uniqueness } from '../../scim/index.js'
import type {
  AdminApiKeyRecord,
  AdminApiKeyStore,
  AdminRecord,
  AdminSessionRecord,
  AdminSessionStore,
  AdminStore,
  OAuthClientRecord,
  OAuthClientStore,
  SealedJwk,
  SigningKeyStore,
  StoredSigningKey,
  TenantRecord,
  TenantSettings,
  TenantStore,
} from '../ports.js'
import {
  ADMIN_COLUMNS,
  API_KEY_COLUMNS,
  CLIENT_COLUMNS,
  SESSION_COLUMNS,
  SIGNING_KEY_COLUMNS,
  TENANT_COLUMNS,
  adminAssignments,
  apiKeyValues,
  clientValues,
  sessionValues,
  signingKeyValues,
  toAdmin,
  toApiKey,
  toClient,
  toSession,
  toSigningKey,
  toTenant,
  type AdminRow,
  type ApiKeyRow,
  type ClientRow,
  type SessionRow,
  type SigningKeyRow,
  type TenantRow,
} from '../sql/admin-rows.js'
import { jsonText } from '../sql/json-text.js'

/**
 * Runs an insert, turning a taken primary key or unique index into 409 uniqueness. `detail` names the
 * duplicate from the constraint that fired (SQLite's message names the table and column).
 */
function insertUnique(insert: () => void, detail: (constraint: string) => string): void {
  try {
    insert()
  } catch (e) {
    if (e instanceof Database.SqliteError && (e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || e.code === 'SQLITE_CONSTRAINT_UNIQUE')) {
      throw uniqueness(detail(e.message.replace(/^UNIQUE constraint failed: /, '')))
    }
    throw e
  }
}

/** The tables a tenant owns, children first: explicit deletes are cheaper than ON DELETE CASCADE row by row. */
// resource_counts last: deleting the resources updates it (its triggers), then its rows go too.
const TENANT_TABLES = ['group_members', 'resource_emails', 'resources', 'tokens', 'oauth_clients', 'audit_events', 'resource_counts'] as const

export class SqliteTenantStore implements TenantStore {
  private readonly s
  private readonly deleteNow

  constructor(db: Database.Database) {
    this.s = {
      insert: db.prepare(`INSERT INTO tenants (${TENANT_COLUMNS}) VALUES (?, ?, ?, ?)`),
      get: db.prepare<unknown[], TenantRow>(`SELECT ${TENANT_COLUMNS} FROM tenants WHERE id = ?`),
      list: db.prepare<unknown[], TenantRow>(`SELECT ${TENANT_COLUMNS} FROM tenants ORDER BY created_at, id`),
      update: db.prepare<unknown[], TenantRow>(
        `UPDATE tenants SET name = COALESCE(?, name), settings = COALESCE(?, settings) WHERE id = ? RETURNING ${TENANT_COLUMNS}`,
      ),
      delete: db.prepare(`DELETE FROM tenants WHERE id = ?`),
      owned: TENANT_TABLES.map((table) => db.prepare(`DELETE FROM ${table} WHERE tenant_id = ?`)),
    }
    this.deleteNow = db.transaction((id: string) => {
      if (this.s.delete.run(id).changes === 0) return false
      for (const statement of this.s.owned) statement.run(id)
      return true
    })
  }

  async insertTenant(record: TenantRecord): Promise<void> {
    insertUnique(
      () => this.s.insert.run(record.id, record.name, record.createdAt, jsonText(record.settings)),
      () => `An organization with id "${record.id}" already exists`,
    )
  }

  async getTenant(id: string): Promise<TenantRecord | undefined> {
    const row = this.s.get.get(id)
    return row ? toTenant(row) : undefined
  }

  async listTenants(): Promise<TenantRecord[]> {
    return this.s.list.all().map(toTenant)
  }

  async updateTenant(id: string, change: { readonly name?: string; readonly settings?: TenantSettings }): Promise<TenantRecord | undefined> {
    const row = this.s.update.get(change.name ?? null, change.settings ? jsonText(change.settings) : null, id)
    return row ? toTenant(row) : undefined
  }

  async deleteTenant(id: string): Promise<boolean> {
    return this.deleteNow.immediate(id)
  }
}

export class SqliteAdminStore implements AdminStore {
  private readonly s
  private readonly tx

  constructor(private readonly db: Database.Database) {
    this.s = {
      insert: db.prepare(`INSERT INTO admins (${ADMIN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      get: db.prepare<unknown[], AdminRow>(`SELECT ${ADMIN_COLUMNS} FROM admins WHERE id = ?`),
      byEmail: db.prepare<unknown[], AdminRow>(`SELECT ${ADMIN_COLUMNS} FROM admins WHERE email = ?`),
      list: db.prepare<unknown[], AdminRow>(`SELECT ${ADMIN_COLUMNS} FROM admins ORDER BY email`),
      delete: db.prepare(`DELETE FROM admins WHERE id = ?`),
      deleteSessions: db.prepare(`DELETE FROM admin_sessions WHERE admin_id = ?`),
      count: db.prepare<unknown[], { n: number }>(`SELECT COUNT(*) AS n FROM admins`),
    }
    this.tx = {
      delete: db.transaction((id: string) => {
        if (this.s.delete.run(id).changes === 0) return false
        this.s.deleteSessions.run(id)
        return true
      }),
    }
  }

  async insertAdmin(a: AdminRecord): Promise<void> {
    const email = a.email.toLowerCase()
    insertUnique(
      () => this.s.insert.run(a.id, email, a.name ?? null, a.role, a.tenant ?? null, a.passwordHash, a.createdAt, a.disabledAt ?? null),
      (constraint) => (constraint === 'admins.email' ? `An admin with email "${email}" already exists` : `An admin with id "${a.id}" already exists`),
    )
  }

  async getAdmin(id: string): Promise<AdminRecord | undefined> {
    const row = this.s.get.get(id)
    return row ? toAdmin(row) : undefined
  }

  async findAdminByEmail(email: string): Promise<AdminRecord | undefined> {
    const row = this.s.byEmail.get(email.toLowerCase())
    return row ? toAdmin(row) : undefined
  }

  async listAdmins(): Promise<AdminRecord[]> {
    return this.s.list.all().map(toAdmin)
  }

  async updateAdmin(id: string, change: Partial<Pick<AdminRecord, 'name' | 'role' | 'tenant' | 'passwordHash' | 'disabledAt'>>): Promise<AdminRecord | undefined> {
    const set = adminAssignments(change)
    if (set.length === 0) return this.getAdmin(id)
    // Column names come from ADMIN_UPDATABLE, never from the change. Admin updates are rare: prepared per call.
    const row = this.db
      .prepare<unknown[], AdminRow>(`UPDATE admins SET ${set.map((a) => `${a.column} = ?`).join(', ')} WHERE id = ? RETURNING ${ADMIN_COLUMNS}`)
      .get(...set.map((a) => a.value), id)
    return row ? toAdmin(row) : undefined
  }

  async deleteAdmin(id: string): Promise<boolean> {
    return this.tx.delete.immediate(id)
  }

  async countAdmins(): Promise<number> {
    return this.s.count.get()?.n ?? 0
  }
}

export class SqliteAdminSessionStore implements AdminSessionStore {
  private readonly s

  constructor(db: Database.Database) {
    this.s = {
      insert: db.prepare(`INSERT INTO admin_sessions (${SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      find: db.prepare<unknown[], SessionRow>(`SELECT ${SESSION_COLUMNS} FROM admin_sessions WHERE id_hash = ?`),
      touch: db.prepare(`UPDATE admin_sessions SET last_seen_at = ?, expires_at = ? WHERE id_hash = ?`),
      delete: db.prepare(`DELETE FROM admin_sessions WHERE id_hash = ?`),
      deleteOf: db.prepare(`DELETE FROM admin_sessions WHERE admin_id = ?`),
      deleteOthersOf: db.prepare(`DELETE FROM admin_sessions WHERE admin_id = ? AND id_hash <> ?`),
      deleteExpired: db.prepare(`DELETE FROM admin_sessions WHERE expires_at <= ? OR absolute_expires_at <= ?`),
    }
  }

  async insertSession(record: AdminSessionRecord): Promise<void> {
    insertUnique(() => this.s.insert.run(...sessionValues(record)), () => 'A session with this id already exists')
  }

  async findSession(idHash: string): Promise<AdminSessionRecord | undefined> {
    const row = this.s.find.get(idHash)
    return row ? toSession(row) : undefined
  }

  async touchSession(idHash: string, lastSeenAt: string, expiresAt: string): Promise<void> {
    this.s.touch.run(lastSeenAt, expiresAt, idHash)
  }

  async deleteSession(idHash: string): Promise<void> {
    this.s.delete.run(idHash)
  }

  async deleteSessionsOf(adminId: string): Promise<number> {
    return this.s.deleteOf.run(adminId).changes
  }

  async deleteOtherSessionsOf(adminId: string, keptIdHash: string): Promise<number> {
    return this.s.deleteOthersOf.run(adminId, keptIdHash).changes
  }

  async deleteExpiredSessions(now: string): Promise<number> {
    return this.s.deleteExpired.run(now, now).changes
  }
}

export class SqliteAdminApiKeyStore implements AdminApiKeyStore {
  private readonly s

  constructor(db: Database.Database) {
    this.s = {
      insert: db.prepare(`INSERT INTO admin_api_keys (${API_KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      find: db.prepare<unknown[], ApiKeyRow>(`SELECT ${API_KEY_COLUMNS} FROM admin_api_keys WHERE id = ?`),
      list: db.prepare<unknown[], ApiKeyRow>(`SELECT ${API_KEY_COLUMNS} FROM admin_api_keys ORDER BY created_at, id`),
      revoke: db.prepare(`UPDATE admin_api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`),
      touch: db.prepare(`UPDATE admin_api_keys SET last_used_at = ? WHERE id = ?`),
    }
  }

  async insertApiKey(record: AdminApiKeyRecord): Promise<void> {
    insertUnique(() => this.s.insert.run(...apiKeyValues(record)), () => `An API key with id "${record.id}" already exists`)
  }

  async findApiKey(id: string): Promise<AdminApiKeyRecord | undefined> {
    const row = this.s.find.get(id)
    return row ? toApiKey(row) : undefined
  }

  async listApiKeys(): Promise<AdminApiKeyRecord[]> {
    return this.s.list.all().map(toApiKey)
  }

  async revokeApiKey(id: string, at: string): Promise<boolean> {
    return this.s.revoke.run(at, id).changes > 0
  }

  async touchApiKey(id: string, at: string): Promise<void> {
    this.s.touch.run(at, id)
  }
}

export class SqliteOAuthClientStore implements OAuthClientStore {
  private readonly s

  constructor(db: Database.Database) {
    this.s = {
      insert: db.prepare(`INSERT INTO oauth_clients (${CLIENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      find: db.prepare<unknown[], ClientRow>(`SELECT ${CLIENT_COLUMNS} FROM oauth_clients WHERE id = ?`),
      list: db.prepare<unknown[], ClientRow>(`SELECT ${CLIENT_COLUMNS} FROM oauth_clients WHERE tenant_id = ? ORDER BY created_at, id`),
      revoke: db.prepare(`UPDATE oauth_clients SET revoked_at = ? WHERE id = ? AND tenant_id = ? AND revoked_at IS NULL`),
      touch: db.prepare(`UPDATE oauth_clients SET last_used_at = ? WHERE id = ?`),
    }
  }

  async insertClient(record: OAuthClientRecord): Promise<void> {
    insertUnique(() => this.s.insert.run(...clientValues(record)), () => `An OAuth client with id "${record.id}" already exists`)
  }

  async findClient(id: string): Promise<OAuthClientRecord | undefined> {
    const row = this.s.find.get(id)
    return row ? toClient(row) : undefined
  }

  async listClients(tenant: string): Promise<OAuthClientRecord[]> {
    return this.s.list.all(tenant).map(toClient)
  }

  async revokeClient(tenant: string, id: string, at: string): Promise<boolean> {
    return this.s.revoke.run(at, id, tenant).changes > 0
  }

  async touchClient(id: string, at: string): Promise<void> {
    this.s.touch.run(at, id)
  }
}

export class SqliteSigningKeyStore implements SigningKeyStore {
  private readonly s

  constructor(db: Database.Database) {
    this.s = {
      insert: db.prepare(`INSERT INTO signing_keys (${SIGNING_KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)`),
      list: db.prepare<unknown[], SigningKeyRow>(`SELECT ${SIGNING_KEY_COLUMNS} FROM signing_keys ORDER BY created_at, kid`),
      // `retired_at IS NULL`: a second retirement (another instance rotating again) keeps the first time.
      retire: db.prepare(`UPDATE signing_keys SET retired_at = ? WHERE kid = ? AND retired_at IS NULL`),
      // A bare JWK has no `enc` (sealed-jwk.ts isSealedJwk): a key sealed already keeps its first sealing.
      seal: db.prepare(`UPDATE signing_keys SET private_jwk = ? WHERE kid = ? AND json_extract(private_jwk, '$.enc') IS NULL`),
    }
  }

  async listKeys(): Promise<StoredSigningKey[]> {
    return this.s.list.all().map(toSigningKey)
  }

  async insertKey(key: StoredSigningKey): Promise<void> {
    insertUnique(() => this.s.insert.run(...signingKeyValues(key)), () => `A signing key with kid "${key.kid}" already exists`)
  }

  async retireKey(kid: string, at: string): Promise<void> {
    this.s.retire.run(at, kid)
  }

  async sealPrivateJwk(kid: string, sealed: SealedJwk): Promise<void> {
    this.s.seal.run(JSON.stringify(sealed), kid)
  }
}
