import { DatabaseError, type Pool, type PoolClient, type QueryResultRow } from 'pg'
import { invalidValue, uniqueness } from '../../scim/index.js'
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
import { StatementNames } from './statements.js'
import { jsonText } from '../sql/json-text.js'

/**
 * Runs a write, turning a unique violation (23505) of one of `details`' constraints into 409 uniqueness
 * with its detail, and text PostgreSQL cannot hold (U+0000, which SQLite stores) into 400 invalidValue.
 */
async function write<T>(run: () => Promise<T>, details: Readonly<Record<string, string>> = {}): Promise<T> {
  try {
    return await run()
  } catch (e) {
    if (e instanceof DatabaseError) {
      const detail = e.code === '23505' && e.constraint ? details[e.constraint] : undefined
      if (detail) throw uniqueness(detail)
      if (e.code === '22P05' || e.code === '22021') throw invalidValue('Values cannot contain the NUL character (U+0000)')
    }
    throw e
  }
}

const MAX_ATTEMPTS = 5
/** deadlock_detected and serialization_failure: the transaction was rolled back whole and may run again. */
const isRetryable = (e: unknown) => e instanceof DatabaseError && (e.code === '40P01' || e.code === '40001')

/** Runs `work` in one transaction on one pooled connection, again when PostgreSQL picked it as a deadlock victim. */
async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect()
    let broken: Error | undefined
    try {
      await client.query('BEGIN')
      const result = await work(client)
      await client.query('COMMIT')
      return result
    } catch (e) {
      await client.query('ROLLBACK').catch((err: Error) => (broken = err))
      if (!(isRetryable(e) && attempt < MAX_ATTEMPTS)) throw e
    } finally {
      // A connection that cannot even roll back is dropped, not handed to the next caller.
      client.release(broken)
    }
  }
}

const placeholders = (n: number) => Array.from({ length: n }, (_, i) => `$${i + 1}`).join(', ')

/**
 * The statements of these stores, named (statements.ts): their texts are fixed, or built from column
 * names only (updateAdmin's SET list), so a few dozen at most.
 */
const statements = new StatementNames(100)

/** Common reads: the rows of a statement. */
abstract class PostgresTable {
  constructor(protected readonly pool: Pool) {}

  protected async rows<R extends QueryResultRow>(sql: string, params: unknown[]): Promise<R[]> {
    return (await this.pool.query<R>(statements.query(sql, params))).rows
  }

  protected async changed(sql: string, params: unknown[]): Promise<number> {
    return (await this.pool.query(statements.query(sql, params))).rowCount ?? 0
  }
}

/**
 * The tables a tenant owns, children first: explicit deletes are cheaper than ON DELETE CASCADE row by row,
 * and take the resource rows' locks after the memberships', as a group PUT takes a group's then its members'.
 */
const TENANT_TABLES = ['group_members', 'resource_emails', 'resources', 'tokens', 'oauth_clients', 'audit_events'] as const

/**
 * Run once the tenant's resources are deleted, whose number the triggers of migration 3 have already taken
 * off its counter rows: those rows are folded into one per resource type, none where the total is 0, so a
 * removed tenant leaves no rows (its shards sum to 0, but need not each be 0). Not a plain DELETE of them:
 * a create racing this transaction may commit a resource of the tenant that the DELETE of resources did not
 * see (nothing locks a tenant's id against creates), and its count must stay with it. The fold's DELETE
 * waits for the counter row such a create holds, then deletes its committed version, whose n RETURNING
 * hands to the sum; a shard row the create inserted new is not seen and stays. ON CONFLICT: that new row
 * may be shard 0 (and the INSERT may reuse the key of a row this statement deleted, which is no conflict).
 */
const FOLD_RESOURCE_COUNTS = `
  WITH folded AS (DELETE FROM resource_counts WHERE tenant_id = $1 RETURNING resource_type, n)
  INSERT INTO resource_counts AS c (tenant_id, resource_type, shard, n)
  SELECT $1, resource_type, 0, SUM(n) FROM folded GROUP BY resource_type HAVING SUM(n) <> 0
  ON CONFLICT (tenant_id, resource_type, shard) DO UPDATE SET n = c.n + EXCLUDED.n`

export class PostgresTenantStore extends PostgresTable implements TenantStore {
  async insertTenant(record: TenantRecord): Promise<void> {
    await write(
      () => this.pool.query(`INSERT INTO tenants (${TENANT_COLUMNS}) VALUES ($1, $2, $3, $4::jsonb)`, [record.id, record.name, record.createdAt, jsonText(record.settings)]),
      { tenants_pkey: `An organization with id "${record.id}" already exists` },
    )
  }

  async getTenant(id: string): Promise<TenantRecord | undefined> {
    const row = (await this.rows<TenantRow>(`SELECT ${TENANT_COLUMNS} FROM tenants WHERE id = $1`, [id]))[0]
    return row ? toTenant(row) : undefined
  }

  async listTenants(): Promise<TenantRecord[]> {
    return (await this.rows<TenantRow>(`SELECT ${TENANT_COLUMNS} FROM tenants ORDER BY created_at, id`, [])).map(toTenant)
  }

  async updateTenant(id: string, change: { readonly name?: string; readonly settings?: TenantSettings }): Promise<TenantRecord | undefined> {
    const rows = await write(() =>
      this.rows<TenantRow>(`UPDATE tenants SET name = COALESCE($1, name), settings = COALESCE($2::jsonb, settings) WHERE id = $3 RETURNING ${TENANT_COLUMNS}`, [
        change.name ?? null,
        change.settings ? jsonText(change.settings) : null,
        id,
      ]),
    )
    return rows[0] ? toTenant(rows[0]) : undefined
  }

  async deleteTenant(id: string): Promise<boolean> {
    return inTransaction(this.pool, async (c) => {
      // The tenant's row first: a second deleteTenant of the same id waits here, then finds nothing.
      const { rowCount } = await c.query(`DELETE FROM tenants WHERE id = $1`, [id])
      if (!rowCount) return false
      for (const table of TENANT_TABLES) await c.query(`DELETE FROM ${table} WHERE tenant_id = $1`, [id])
      await c.query(FOLD_RESOURCE_COUNTS, [id])
      return true
    })
  }
}

export class PostgresAdminStore extends PostgresTable implements AdminStore {
  async insertAdmin(a: AdminRecord): Promise<void> {
    const email = a.email.toLowerCase()
    await write(
      () =>
        this.pool.query(`INSERT INTO admins (${ADMIN_COLUMNS}) VALUES (${placeholders(8)})`, [
          a.id,
          email,
          a.name ?? null,
          a.role,
          a.tenant ?? null,
          a.passwordHash,
          a.createdAt,
          a.disabledAt ?? null,
        ]),
      { admins_email_key: `An admin with email "${email}" already exists`, admins_pkey: `An admin with id "${a.id}" already exists` },
    )
  }

  async getAdmin(id: string): Promise<AdminRecord | undefined> {
    const row = (await this.rows<AdminRow>(`SELECT ${ADMIN_COLUMNS} FROM admins WHERE id = $1`, [id]))[0]
    return row ? toAdmin(row) : undefined
  }

  async findAdminByEmail(email: string): Promise<AdminRecord | undefined> {
    const row = (await this.rows<AdminRow>(`SELECT ${ADMIN_COLUMNS} FROM admins WHERE email = $1`, [email.toLowerCase()]))[0]
    return row ? toAdmin(row) : undefined
  }

  async listAdmins(): Promise<AdminRecord[]> {
    return (await this.rows<AdminRow>(`SELECT ${ADMIN_COLUMNS} FROM admins ORDER BY email`, [])).map(toAdmin)
  }

  async updateAdmin(id: string, change: Partial<Pick<AdminRecord, 'name' | 'role' | 'tenant' | 'passwordHash' | 'disabledAt'>>): Promise<AdminRecord | undefined> {
    const set = adminAssignments(change)
    if (set.length === 0) return this.getAdmin(id)
    // Column names come from ADMIN_UPDATABLE, never from the change.
    const assignments = set.map((a, i) => `${a.column} = $${i + 1}`).join(', ')
    const rows = await write(() =>
      this.rows<AdminRow>(`UPDATE admins SET ${assignments} WHERE id = $${set.length + 1} RETURNING ${ADMIN_COLUMNS}`, [...set.map((a) => a.value), id]),
    )
    return rows[0] ? toAdmin(rows[0]) : undefined
  }

  async deleteAdmin(id: string): Promise<boolean> {
    return inTransaction(this.pool, async (c) => {
      const { rowCount } = await c.query(`DELETE FROM admins WHERE id = $1`, [id])
      if (!rowCount) return false
      await c.query(`DELETE FROM admin_sessions WHERE admin_id = $1`, [id])
      return true
    })
  }

  async countAdmins(): Promise<number> {
    return (await this.rows<{ n: number }>(`SELECT COUNT(*)::int AS n FROM admins`, []))[0]?.n ?? 0
  }
}

export class PostgresAdminSessionStore extends PostgresTable implements AdminSessionStore {
  async insertSession(record: AdminSessionRecord): Promise<void> {
    await write(() => this.pool.query(`INSERT INTO admin_sessions (${SESSION_COLUMNS}) VALUES (${placeholders(8)})`, sessionValues(record)), {
      admin_sessions_pkey: 'A session with this id already exists',
    })
  }

  async findSession(idHash: string): Promise<AdminSessionRecord | undefined> {
    const row = (await this.rows<SessionRow>(`SELECT ${SESSION_COLUMNS} FROM admin_sessions WHERE id_hash = $1`, [idHash]))[0]
    return row ? toSession(row) : undefined
  }

  async touchSession(idHash: string, lastSeenAt: string, expiresAt: string): Promise<void> {
    await this.changed(`UPDATE admin_sessions SET last_seen_at = $1, expires_at = $2 WHERE id_hash = $3`, [lastSeenAt, expiresAt, idHash])
  }

  async deleteSession(idHash: string): Promise<void> {
    await this.changed(`DELETE FROM admin_sessions WHERE id_hash = $1`, [idHash])
  }

  async deleteSessionsOf(adminId: string): Promise<number> {
    return this.changed(`DELETE FROM admin_sessions WHERE admin_id = $1`, [adminId])
  }

  async deleteOtherSessionsOf(adminId: string, keptIdHash: string): Promise<number> {
    return this.changed(`DELETE FROM admin_sessions WHERE admin_id = $1 AND id_hash <> $2`, [adminId, keptIdHash])
  }

  async deleteExpiredSessions(now: string): Promise<number> {
    return this.changed(`DELETE FROM admin_sessions WHERE expires_at <= $1 OR absolute_expires_at <= $1`, [now])
  }
}

export class PostgresAdminApiKeyStore extends PostgresTable implements AdminApiKeyStore {
  async insertApiKey(record: AdminApiKeyRecord): Promise<void> {
    await write(() => this.pool.query(`INSERT INTO admin_api_keys (${API_KEY_COLUMNS}) VALUES (${placeholders(10)})`, apiKeyValues(record)), {
      admin_api_keys_pkey: `An API key with id "${record.id}" already exists`,
    })
  }

  async findApiKey(id: string): Promise<AdminApiKeyRecord | undefined> {
    const row = (await this.rows<ApiKeyRow>(`SELECT ${API_KEY_COLUMNS} FROM admin_api_keys WHERE id = $1`, [id]))[0]
    return row ? toApiKey(row) : undefined
  }

  async listApiKeys(): Promise<AdminApiKeyRecord[]> {
    return (await this.rows<ApiKeyRow>(`SELECT ${API_KEY_COLUMNS} FROM admin_api_keys ORDER BY created_at, id`, [])).map(toApiKey)
  }

  async revokeApiKey(id: string, at: string): Promise<boolean> {
    return (await this.changed(`UPDATE admin_api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, [at, id])) > 0
  }

  async touchApiKey(id: string, at: string): Promise<void> {
    await this.changed(`UPDATE admin_api_keys SET last_used_at = $1 WHERE id = $2`, [at, id])
  }
}

export class PostgresOAuthClientStore extends PostgresTable implements OAuthClientStore {
  async insertClient(record: OAuthClientRecord): Promise<void> {
    const values = clientValues(record)
    await write(() => this.pool.query(`INSERT INTO oauth_clients (${CLIENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8)`, values), {
      oauth_clients_pkey: `An OAuth client with id "${record.id}" already exists`,
    })
  }

  async findClient(id: string): Promise<OAuthClientRecord | undefined> {
    const row = (await this.rows<ClientRow>(`SELECT ${CLIENT_COLUMNS} FROM oauth_clients WHERE id = $1`, [id]))[0]
    return row ? toClient(row) : undefined
  }

  async listClients(tenant: string): Promise<OAuthClientRecord[]> {
    return (await this.rows<ClientRow>(`SELECT ${CLIENT_COLUMNS} FROM oauth_clients WHERE tenant_id = $1 ORDER BY created_at, id`, [tenant])).map(toClient)
  }

  async revokeClient(tenant: string, id: string, at: string): Promise<boolean> {
    return (await this.changed(`UPDATE oauth_clients SET revoked_at = $1 WHERE id = $2 AND tenant_id = $3 AND revoked_at IS NULL`, [at, id, tenant])) > 0
  }

  async touchClient(id: string, at: string): Promise<void> {
    await this.changed(`UPDATE oauth_clients SET last_used_at = $1 WHERE id = $2`, [at, id])
  }
}

export class PostgresSigningKeyStore extends PostgresTable implements SigningKeyStore {
  async listKeys(): Promise<StoredSigningKey[]> {
    return (await this.rows<SigningKeyRow>(`SELECT ${SIGNING_KEY_COLUMNS} FROM signing_keys ORDER BY created_at, kid`, [])).map(toSigningKey)
  }

  async insertKey(key: StoredSigningKey): Promise<void> {
    await write(() => this.pool.query(`INSERT INTO signing_keys (${SIGNING_KEY_COLUMNS}) VALUES ($1, $2, $3::jsonb, $4::jsonb, $5, $6)`, signingKeyValues(key)), {
      signing_keys_pkey: `A signing key with kid "${key.kid}" already exists`,
    })
  }

  /** `retired_at IS NULL`: a second retirement (another instance rotating again) keeps the first time. */
  async retireKey(kid: string, at: string): Promise<void> {
    await this.changed(`UPDATE signing_keys SET retired_at = $1 WHERE kid = $2 AND retired_at IS NULL`, [at, kid])
  }

  /**
   * A bare JWK has no `enc` (sealed-jwk.ts isSealedJwk). Of two instances sealing one key at once, the
   * second waits for the first's row lock, then finds `enc` and changes nothing.
   */
  async sealPrivateJwk(kid: string, sealed: SealedJwk): Promise<void> {
    await this.changed(`UPDATE signing_keys SET private_jwk = $1::jsonb WHERE kid = $2 AND NOT (private_jwk ? 'enc')`, [JSON.stringify(sealed), kid])
  }
}
