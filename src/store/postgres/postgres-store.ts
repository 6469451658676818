import { isDeepStrictEqual } from 'node:util'
import { DatabaseError, Pool, type PoolClient, type QueryResultRow } from 'pg'
import { invalidFilter, invalidValue, isScimError, notFound, preconditionFailed, uniqueness, type MemberStep, type ScimError, type ScimObject } from '../../scim/index.js'
import type {
  AuditHook,
  CurrentResource,
  DeleteOptions,
  GroupRef,
  MemberRef,
  NewResource,
  QueryResult,
  ResourceChange,
  ResourceStore,
  Store,
  StoreCursor,
  StoreQuery,
  StoredResource,
  StoredResourceWithGroups,
  GetOptions,
  TokenRecord,
  TokenStore,
  UpdateOptions,
} from '../ports.js'
import { auditEventOf } from '../sql/audit-events.js'
import { compileFilter } from '../sql/compile-filter.js'
import { TOKEN_COLUMNS, indexedValuesOf, toToken, type TokenRow } from '../sql/resource-rows.js'
import { compileKeysetAfter, compileKeysetOrder } from '../sql/keyset.js'
import { postgresDialect } from '../sql/sql-dialect.js'
import { assertSchemaName, migratePostgres } from './migrations.js'
import {
  PostgresAdminApiKeyStore,
  PostgresAdminSessionStore,
  PostgresAdminStore,
  PostgresOAuthClientStore,
  PostgresSigningKeyStore,
  PostgresTenantStore,
} from './postgres-admin-stores.js'
import { PostgresAuditStore, insertAuditEventWith } from './postgres-audit-store.js'

export interface PostgresStoreOptions {
  /** Connections this instance keeps at most (node-postgres Pool `max`); default 10. */
  readonly poolSize?: number
  /** The PostgreSQL schema holding Roster's tables, created when missing; default `public`. */
  readonly schema?: string
}

/**
 * Opens a PostgreSQL database as a Store: a connection pool whose connections all use `schema`, which
 * is created and migrated first (under an advisory lock, so instances starting together migrate once).
 *
 * Several Roster instances may share one database: every read-then-write runs in one transaction on one
 * pooled connection, holding the row lock of the resource it changes, and the unique index on userName
 * decides between concurrent creates.
 */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<Store> {
  const schema = assertSchemaName(options.schema ?? 'public')
  const pool = new Pool({ connectionString: url, max: options.poolSize ?? 10, application_name: 'roster' })
  // Queries on a client run in the order they were queued, so this SET runs before the first query
  // of whoever checked the connection out. A connection that could not set it is closed rather than
  // left to read another schema's tables.
  pool.on('connect', (client) => {
    client.query(`SET search_path TO "${schema}"`).catch(() => client.end().catch(() => undefined))
  })
  // An idle connection that fails (the server restarted, a network cut) is discarded by the pool and
  // replaced on the next checkout; without a listener the 'error' event would end the process.
  pool.on('error', () => undefined)
  try {
    const client = await pool.connect()
    try {
      await migratePostgres(client, schema)
    } finally {
      client.release()
    }
  } catch (e) {
    await pool.end()
    throw e
  }
  let closing: Promise<void> | undefined
  return {
    resources: new PostgresResourceStore(pool),
    tokens: new PostgresTokenStore(pool),
    tenants: new PostgresTenantStore(pool),
    audit: new PostgresAuditStore(pool),
    admins: new PostgresAdminStore(pool),
    oauthClients: new PostgresOAuthClientStore(pool),
    signingKeys: new PostgresSigningKeyStore(pool),
    adminSessions: new PostgresAdminSessionStore(pool),
    adminApiKeys: new PostgresAdminApiKeyStore(pool),
    close: () => (closing ??= pool.end()),
  }
}

const RESOURCE_COLUMNS = 'r.id, r.resource_type, r.data, r.version, r.created, r.last_modified'

/**
 * The statements query() runs: `countSql` with `params`; `pageSql` with `pageParams` (the same plus the
 * cursor position's) then LIMIT and OFFSET; or `listSql`, the count and the page in one statement (one
 * snapshot, one round trip) with the page's parameters. The page selects the sort key as `sort_key`, from
 * the ORDER BY's own expression, for QueryResult.next (src/store/sql/keyset.ts). Exported so that the
 * EXPLAIN tests plan exactly what runs.
 */
export function buildPostgresQuerySql(tenant: string, resourceType: string, query: Pick<StoreQuery, 'filter' | 'sortBy' | 'sortOrder' | 'after'>) {
  const params: unknown[] = [tenant, resourceType]
  let where = 'r.tenant_id = $1 AND r.resource_type = $2'
  if (query.filter) {
    const compiled = compileFilter(query.filter, { dialect: postgresDialect, resourceType, tenant, firstParam: 3 })
    where += ` AND (${compiled.sql})`
    params.push(...compiled.params)
  }
  const order = compileKeysetOrder(query, { dialect: postgresDialect, resourceType })
  let pageWhere = where
  const pageParams = [...params]
  if (query.after) {
    // The count stays on the whole result: totalResults counts every match, not those after the cursor.
    const after = compileKeysetAfter(order, query.after, { dialect: postgresDialect, firstParam: params.length + 1 })
    pageWhere += ` AND ${after.sql}`
    pageParams.push(...after.params)
  }
  const limit = `$${pageParams.length + 1}`
  const offset = `$${pageParams.length + 2}`
  const countSql = `SELECT COUNT(*)::int AS total FROM resources r WHERE ${where}`
  // With a filter, the matches are found first and sorted after: the OFFSET 0 subquery is PostgreSQL's
  // optimisation fence, so the planner cannot walk resources_created (or a sortBy column's index) in order
  // and test the filter row by row, hoping to fill the LIMIT early. Measured with 20,000 users per tenant:
  // for `userName co "er1234"` (11 matches) it sometimes chose that walk, on a misestimate of the LIKE's
  // selectivity: over 12,000 rows read up to the 11th match, against 22 trigram hits. SQLite's adapter avoids the
  // same plan with its unary +. The count reads every match anyway, so sorting them costs little more.
  const from = query.filter ? `(SELECT * FROM resources r WHERE ${pageWhere} OFFSET 0) r` : `resources r WHERE ${pageWhere}`
  const pageSql = `SELECT ${RESOURCE_COLUMNS}, ${order.key} AS sort_key FROM ${from} ORDER BY ${order.orderBy} LIMIT ${limit} OFFSET ${offset}`
  // The count is the outer row, so a page past the end still answers it. row_number() numbers the
  // page's rows in the order its ORDER BY … LIMIT delivers them, and the outer ORDER BY keeps that order.
  const listSql =
    `SELECT c.total, p.id, p.resource_type, p.data, p.version, p.created, p.last_modified, p.sort_key FROM (${countSql}) c` +
    ` LEFT JOIN (SELECT q.*, row_number() OVER () AS ord FROM (${pageSql}) q) p ON true ORDER BY p.ord`
  return { countSql, pageSql, listSql, params, pageParams }
}

interface ResourceRow {
  readonly id: string
  readonly resource_type: string
  readonly data: ScimObject
  readonly version: number
  readonly created: string
  readonly last_modified: string
}

/** A row of a query page: the resource and its sort key, as the ORDER BY computed it. */
interface PageRow extends ResourceRow {
  readonly sort_key: unknown
}

/**
 * The sort key as a cursor holds it. node-postgres gives text, integers and booleans as JavaScript
 * values and numeric (the cast of JSON numbers) as its exact text, which the cursor keeps as is: the
 * predicate's parameter is cast back to numeric where it is compared, so no precision is lost.
 */
function sortKeyOf(row: PageRow): StoreCursor['key'] {
  const key = row.sort_key
  if (key === null || typeof key === 'string' || typeof key === 'number' || typeof key === 'boolean') return key
  throw new Error(`Unexpected sort key of type ${typeof key} for ${row.id}`)
}

interface ResourceRowWithSecret extends ResourceRow {
  readonly password_hash: string | null
}

const toStored = (row: ResourceRow): StoredResource => ({
  id: row.id,
  resourceType: row.resource_type,
  data: row.data,
  version: row.version,
  created: row.created,
  lastModified: row.last_modified,
})

/** The data as it will read back: JSON has no undefined, -0 or NaN, and the jsonb column keeps no key order. */
const asStored = (data: ScimObject) => JSON.parse(JSON.stringify(data)) as ScimObject

const createdFrom = (input: NewResource): StoredResource => ({
  id: input.id,
  resourceType: input.resourceType,
  data: asStored(input.data),
  version: 1,
  created: input.now,
  lastModified: input.now,
})

/** Writes the resource row and its emails in one statement (the CTE's INSERT runs exactly once). */
const INSERT_RESOURCE = `
  WITH inserted AS (
    INSERT INTO resources (tenant_id, resource_type, id, data, version, created, last_modified, user_name_ci, external_id, display_name_ci, password_hash)
    VALUES ($1, $2, $3, $4::jsonb, 1, $5, $5, $6, $7, $8, $9)
    RETURNING tenant_id, id
  )
  INSERT INTO resource_emails (tenant_id, resource_id, value_ci)
  SELECT inserted.tenant_id, inserted.id, e.value FROM inserted CROSS JOIN unnest($10::text[]) AS e(value)`

/** The row a write reads first, with the lock loadForWrite appends. */
const SELECT_FOR_WRITE = `SELECT ${RESOURCE_COLUMNS}, r.password_hash FROM resources r WHERE r.tenant_id = $1 AND r.resource_type = $2 AND r.id = $3`

const MAX_ATTEMPTS = 5
/** deadlock_detected and serialization_failure: the transaction was rolled back whole and may run again. */
const isRetryable = (e: unknown) => e instanceof DatabaseError && (e.code === '40P01' || e.code === '40001')

type Client = Pick<PoolClient, 'query'>

class PostgresResourceStore implements ResourceStore {
  constructor(private readonly pool: Pool) {}

  async create(tenant: string, input: NewResource): Promise<StoredResource> {
    const memberIds = input.memberIds ?? []
    const created = createdFrom(input)
    if (memberIds.length === 0 && !input.audit) {
      // One statement, its own transaction: no BEGIN/COMMIT round trips.
      await withConstraintErrors(() => this.insertNow(this.pool, tenant, input), input.data)
    } else {
      await this.transaction(async (c) => {
        await withConstraintErrors(() => this.insertNow(c, tenant, input), input.data)
        await writeAuditEvent(c, tenant, input.audit, { after: created })
      })
    }
    return created
  }

  async createMany(tenant: string, inputs: readonly NewResource[]): Promise<(StoredResource | ScimError)[]> {
    if (inputs.length === 0) return []
    return this.transaction(async (c) => {
      const results: (StoredResource | ScimError)[] = []
      for (const input of inputs) {
        await c.query('SAVEPOINT create_one')
        try {
          await withConstraintErrors(() => this.insertNow(c, tenant, input), input.data)
          await c.query('RELEASE SAVEPOINT create_one')
        } catch (e) {
          if (!isScimError(e)) throw e
          await c.query('ROLLBACK TO SAVEPOINT create_one')
          await c.query('RELEASE SAVEPOINT create_one')
          results.push(e)
          continue
        }
        // Outside the savepoint's catch: whatever the hook throws, even a ScimError, rolls back the whole
        // call (ports.ts createMany).
        const created = createdFrom(input)
        await writeAuditEvent(c, tenant, input.audit, { after: created })
        results.push(created)
      }
      return results
    })
  }

  async get(tenant: string, resourceType: string, id: string, options: GetOptions = {}): Promise<StoredResourceWithGroups | undefined> {
    const { rows } = await this.pool.query<ResourceRow>(`SELECT ${RESOURCE_COLUMNS} FROM resources r WHERE r.tenant_id = $1 AND r.resource_type = $2 AND r.id = $3`, [
      tenant,
      resourceType,
      id,
    ])
    if (!rows[0]) return undefined
    const stored = toStored(rows[0])
    return options.groups ? { ...stored, groups: (await this.listGroupsOf(tenant, [id])).get(id) ?? [] } : stored
  }

  async update(
    tenant: string,
    resourceType: string,
    id: string,
    mutate: (current: CurrentResource) => ResourceChange,
    options: UpdateOptions,
  ): Promise<StoredResource> {
    // mutate is pure (ports.ts), so a retry after a deadlock may call it again.
    return this.transaction(async (c) => {
      // FOR NO KEY UPDATE is the lock the UPDATE below takes anyway: it serialises writers of this row
      // but, unlike FOR UPDATE, lets other transactions insert group_members rows that reference it (their
      // foreign key check takes FOR KEY SHARE). With FOR UPDATE, two PATCHes each adding the other's group
      // as a member deadlock (test/store/postgres.test.ts measures it).
      const row = await this.loadForWrite(c, tenant, resourceType, id, options.ifMatch, 'FOR NO KEY UPDATE')
      const stored = toStored(row)
      const current: CurrentResource = options.withMembers ? { ...stored, members: (await this.membersOf(c, tenant, [id])).get(id) ?? [] } : stored
      const change = mutate(current)
      const data = asStored(change.data)
      // jsonb keeps no key order, so "unchanged" is structural equality, not text equality as in SQLite.
      const dataChanged = !isDeepStrictEqual(data, stored.data)
      const hash = change.passwordHash === undefined ? row.password_hash : change.passwordHash
      const hashChanged = hash !== row.password_hash
      const membersChanged = change.memberSteps ? await this.applyMemberSteps(c, tenant, id, change.memberSteps) : false
      if (!dataChanged && !hashChanged && !membersChanged) {
        // Nothing written; the hook still sees the request, with before === after (ports.ts AuditHook).
        await writeAuditEvent(c, tenant, options.audit, { before: current, after: current })
        return stored
      }
      if (dataChanged || hashChanged) {
        const indexed = indexedValuesOf(data)
        await withConstraintErrors(
          () =>
            c.query(
              `UPDATE resources SET data = $1::jsonb, version = version + 1, last_modified = $2, user_name_ci = $3, external_id = $4, display_name_ci = $5, password_hash = $6
               WHERE tenant_id = $7 AND id = $8`,
              [JSON.stringify(data), options.now, indexed.userNameCi, indexed.externalId, indexed.displayNameCi, hash, tenant, id],
            ),
          data,
        )
        const before = indexedValuesOf(stored.data).emails
        if (dataChanged && !isDeepStrictEqual(new Set(before), new Set(indexed.emails))) {
          await c.query(`DELETE FROM resource_emails WHERE tenant_id = $1 AND resource_id = $2`, [tenant, id])
          await c.query(`INSERT INTO resource_emails (tenant_id, resource_id, value_ci) SELECT $1, $2, unnest($3::text[])`, [tenant, id, indexed.emails])
        }
      } else {
        await c.query(`UPDATE resources SET version = version + 1, last_modified = $1 WHERE tenant_id = $2 AND id = $3`, [options.now, tenant, id])
      }
      const updated: StoredResource = { ...stored, data: dataChanged ? data : stored.data, version: row.version + 1, lastModified: options.now }
      if (options.audit) {
        const members = options.withMembers ? { members: membersChanged ? ((await this.membersOf(c, tenant, [id])).get(id) ?? []) : (current.members ?? []) } : {}
        await writeAuditEvent(c, tenant, options.audit, { before: current, after: { ...updated, ...members } })
      }
      return updated
    })
  }

  async delete(tenant: string, resourceType: string, id: string, options: DeleteOptions = {}): Promise<void> {
    await this.transaction(async (c) => {
      // Groups first, then the member: the order update() takes them in (the group's row, then the
      // member's through the foreign key check of an added membership), so a PUT of a group racing the
      // delete of one of its members waits instead of deadlocking. Ordered by id, so two deletes agree too.
      await c.query(
        `SELECT 1 FROM resources WHERE tenant_id = $1 AND id IN (SELECT group_id FROM group_members WHERE tenant_id = $1 AND member_id = $2) ORDER BY id FOR NO KEY UPDATE`,
        [tenant, id],
      )
      const row = await this.loadForWrite(c, tenant, resourceType, id, options.ifMatch, 'FOR UPDATE')
      // A group that loses a member on delete has a new representation, so its ETag must change too.
      await c.query(`UPDATE resources SET version = version + 1 WHERE tenant_id = $1 AND id IN (SELECT group_id FROM group_members WHERE tenant_id = $1 AND member_id = $2)`, [
        tenant,
        id,
      ])
      // resource_emails and group_members rows (as group and as member) go by ON DELETE CASCADE.
      await c.query(`DELETE FROM resources WHERE tenant_id = $1 AND id = $2`, [tenant, id])
      await writeAuditEvent(c, tenant, options.audit, { before: toStored(row) })
    })
  }

  /**
   * One page, and the count unless withTotal is false. The page reads one row more than asked: when it
   * comes back, more rows follow and the last row returned is QueryResult.next (as SQLite's adapter).
   */
  async query(tenant: string, resourceType: string, query: StoreQuery): Promise<QueryResult> {
    const { countSql, pageSql, listSql, params, pageParams } = buildPostgresQuerySql(tenant, resourceType, query)
    const offset = query.after ? 0 : Math.max(1, Math.trunc(query.startIndex)) - 1
    const limit = Math.max(0, Math.trunc(query.count))
    const page = (rows: readonly PageRow[], total: { totalResults?: number }): QueryResult => {
      if (rows.length <= limit) return { ...total, resources: rows.map(toStored) }
      const last = rows[limit - 1]!
      return { ...total, resources: rows.slice(0, limit).map(toStored), next: { key: sortKeyOf(last), id: last.id } }
    }
    return withQueryErrors(async () => {
      if (limit === 0) {
        if (query.withTotal === false) return { resources: [] }
        const { rows } = await this.pool.query<{ total: number }>(countSql, params)
        return { totalResults: rows[0]?.total ?? 0, resources: [] }
      }
      if (query.withTotal === false) {
        const { rows } = await this.pool.query<PageRow>(pageSql, [...pageParams, limit + 1, offset])
        return page(rows, {})
      }
      // Past the end of the result the page is empty; the count still comes back, on a row of NULLs.
      const { rows } = await this.pool.query<{ total: number } & { [K in keyof PageRow]: PageRow[K] | null }>(listSql, [...pageParams, limit + 1, offset])
      const found = rows.filter((row): row is { total: number } & PageRow => row.id !== null)
      return page(found, { totalResults: rows[0]?.total ?? 0 })
    })
  }

  async listMembers(tenant: string, groupIds: readonly string[]): Promise<Map<string, MemberRef[]>> {
    return this.membersOf(this.pool, tenant, groupIds)
  }

  async listGroupsOf(tenant: string, userIds: readonly string[]): Promise<Map<string, GroupRef[]>> {
    const result = new Map<string, GroupRef[]>(userIds.map((id) => [id, []]))
    if (userIds.length === 0) return result
    // UNION (not UNION ALL) drops rows already reached, and `indirect` takes two values only, so the
    // recursion ends even when nested groups contain each other.
    const { rows } = await this.pool.query<{ member_id: string; group_id: string; indirect: number; display: string | null }>(
      `WITH RECURSIVE reach (member_id, group_id, indirect) AS (
         SELECT m.member_id, m.group_id, 0 FROM group_members m WHERE m.tenant_id = $1 AND m.member_id = ANY($2::text[])
         UNION
         SELECT reach.member_id, m.group_id, 1 FROM reach JOIN group_members m ON m.tenant_id = $1 AND m.member_id = reach.group_id
       )
       SELECT x.member_id, x.group_id, x.indirect, g.data ->> 'displayName' AS display
       FROM (SELECT member_id, group_id, MIN(indirect) AS indirect FROM reach GROUP BY member_id, group_id) x
       JOIN resources g ON g.tenant_id = $1 AND g.id = x.group_id
       ORDER BY x.member_id, x.group_id`,
      [tenant, userIds],
    )
    for (const row of rows) {
      const ref: GroupRef = { value: row.group_id, type: row.indirect ? 'indirect' : 'direct', ...(row.display !== null ? { display: row.display } : {}) }
      result.get(row.member_id)?.push(ref)
    }
    return result
  }

  async getPasswordHash(tenant: string, resourceType: string, id: string): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ password_hash: string | null }>(
      `SELECT password_hash FROM resources WHERE tenant_id = $1 AND resource_type = $2 AND id = $3`,
      [tenant, resourceType, id],
    )
    return rows[0]?.password_hash ?? undefined
  }

  /**
   * Runs `work` in one transaction on one pooled connection. The writes take row locks in one order
   * (groups before members), so deadlocks should not happen; should PostgreSQL still pick this
   * transaction as a deadlock victim, it was rolled back whole and is run again, up to MAX_ATTEMPTS times.
   */
  private async transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect()
      let broken: Error | undefined
      try {
        await client.query('BEGIN')
        const result = await work(client)
        await client.query('COMMIT')
        return result
      } catch (e) {
        await client.query('ROLLBACK').catch((err: Error) => (broken = err))
        if (!(isRetryable(e) && attempt < MAX_ATTEMPTS)) throw translateDriverError(e)
      } finally {
        // A connection that cannot even roll back is dropped, not handed to the next caller.
        client.release(broken)
      }
    }
  }

  private async insertNow(c: Client, tenant: string, input: NewResource): Promise<void> {
    const indexed = indexedValuesOf(input.data)
    await c.query(INSERT_RESOURCE, [
      tenant,
      input.resourceType,
      input.id,
      JSON.stringify(input.data),
      input.now,
      indexed.userNameCi,
      indexed.externalId,
      indexed.displayNameCi,
      input.passwordHash ?? null,
      indexed.emails,
    ])
    if (input.memberIds && input.memberIds.length > 0) await this.applyMemberSteps(c, tenant, input.id, [{ op: 'add', ids: input.memberIds }])
  }

  private async loadForWrite(c: Client, tenant: string, resourceType: string, id: string, ifMatch: number | undefined, lock: 'FOR UPDATE' | 'FOR NO KEY UPDATE') {
    const { rows } = await c.query<ResourceRowWithSecret>(`${SELECT_FOR_WRITE} ${lock}`, [tenant, resourceType, id])
    const row = rows[0]
    if (!row) throw notFound(`${resourceType} ${id} not found`)
    if (ifMatch !== undefined && ifMatch !== row.version) {
      throw preconditionFailed(`${resourceType} ${id} is at version ${row.version}, not ${ifMatch}`)
    }
    return row
  }

  private async membersOf(c: Client, tenant: string, groupIds: readonly string[]): Promise<Map<string, MemberRef[]>> {
    const result = new Map<string, MemberRef[]>(groupIds.map((id) => [id, []]))
    if (groupIds.length === 0) return result
    const { rows } = await c.query<{ group_id: string; member_id: string; member_type: 'User' | 'Group'; display: string | null }>(
      `SELECT m.group_id, m.member_id, m.member_type, COALESCE(NULLIF(x.data ->> 'displayName', ''), x.data ->> 'userName') AS display
       FROM group_members m JOIN resources x ON x.tenant_id = m.tenant_id AND x.id = m.member_id
       WHERE m.tenant_id = $1 AND m.group_id = ANY($2::text[])
       ORDER BY m.group_id, m.member_id`,
      [tenant, groupIds],
    )
    for (const row of rows) {
      const ref: MemberRef = { value: row.member_id, type: row.member_type, ...(row.display !== null ? { display: row.display } : {}) }
      result.get(row.group_id)?.push(ref)
    }
    return result
  }

  /**
   * Applies the steps in order, one statement per step rather than per member; returns whether
   * membership changed. Runs inside the transaction that holds the group's row lock, so concurrent
   * PATCHes of one group apply one after the other.
   */
  private async applyMemberSteps(c: Client, tenant: string, groupId: string, steps: readonly MemberStep[]): Promise<boolean> {
    let changed = false
    for (const step of steps) {
      switch (step.op) {
        case 'add': {
          const types = await this.memberTypes(c, tenant, groupId, step.ids)
          if (types.size === 0) break
          const { rowCount } = await c.query(
            `INSERT INTO group_members (tenant_id, group_id, member_id, member_type)
             SELECT $1, $2, m.id, m.type FROM unnest($3::text[], $4::text[]) AS m(id, type)
             ON CONFLICT (tenant_id, group_id, member_id) DO NOTHING`,
            [tenant, groupId, [...types.keys()], [...types.values()]],
          )
          changed = (rowCount ?? 0) > 0 || changed
          break
        }
        case 'remove': {
          if (step.ids.length === 0) break
          const { rowCount } = await c.query(`DELETE FROM group_members WHERE tenant_id = $1 AND group_id = $2 AND member_id = ANY($3::text[])`, [tenant, groupId, [...step.ids]])
          changed = (rowCount ?? 0) > 0 || changed
          break
        }
        case 'replace': {
          const types = await this.memberTypes(c, tenant, groupId, step.ids)
          const { rows } = await c.query<{ member_id: string }>(`SELECT member_id FROM group_members WHERE tenant_id = $1 AND group_id = $2`, [tenant, groupId])
          const before = new Set(rows.map((r) => r.member_id))
          if (before.size === types.size && [...types.keys()].every((id) => before.has(id))) break
          await c.query(`DELETE FROM group_members WHERE tenant_id = $1 AND group_id = $2`, [tenant, groupId])
          if (types.size > 0) {
            await c.query(
              `INSERT INTO group_members (tenant_id, group_id, member_id, member_type) SELECT $1, $2, m.id, m.type FROM unnest($3::text[], $4::text[]) AS m(id, type)`,
              [tenant, groupId, [...types.keys()], [...types.values()]],
            )
          }
          changed = true
          break
        }
        default:
          step satisfies never
      }
    }
    return changed
  }

  /**
   * Each member's type, read from its row in the same tenant, in one query. The first id (in the order
   * given) that cannot be a member fails with 400 invalidValue, as SQLite's check of one id at a time.
   */
  private async memberTypes(c: Client, tenant: string, groupId: string, ids: readonly string[]): Promise<Map<string, 'User' | 'Group'>> {
    const unique = [...new Set(ids)]
    if (unique.length === 0) return new Map()
    const { rows } = await c.query<{ id: string; resource_type: string }>(`SELECT id, resource_type FROM resources WHERE tenant_id = $1 AND id = ANY($2::text[])`, [tenant, unique])
    const found = new Map(rows.map((r) => [r.id, r.resource_type]))
    const types = new Map<string, 'User' | 'Group'>()
    for (const id of unique) {
      if (id === groupId) throw invalidValue(`Group ${groupId} cannot be a member of itself`)
      const type = found.get(id)
      if (type === undefined) throw invalidValue(`Member "${id}" does not exist`)
      if (type !== 'User' && type !== 'Group') throw invalidValue(`Member "${id}" is a ${type}; members are Users or Groups`)
      types.set(id, type)
    }
    return types
  }
}

/** Inserts the event `hook` builds for a change, if any, through the change's transaction. */
async function writeAuditEvent(c: Client, tenant: string, hook: AuditHook | undefined, change: { before?: CurrentResource; after?: CurrentResource }): Promise<void> {
  const event = auditEventOf(hook, tenant, change)
  if (event) await insertAuditEventWith(c, event)
}

/**
 * Runs a write, turning the unique indexes' errors (SQLSTATE 23505) into ScimError 409 uniqueness,
 * named by the constraint that fired. `data` names the userName in the detail.
 */
async function withConstraintErrors<T>(write: () => Promise<T>, data: ScimObject): Promise<T> {
  try {
    return await write()
  } catch (e) {
    if (e instanceof DatabaseError && e.code === '23505') {
      if (e.constraint === 'resources_user_name_ci') {
        const userName = data.userName
        throw uniqueness(typeof userName === 'string' ? `userName "${userName}" is already in use` : 'userName is already in use')
      }
      if (e.constraint === 'resources_pkey') throw uniqueness('A resource with this id already exists')
    }
    throw translateDriverError(e)
  }
}

/** A filter value PostgreSQL cannot hold in text is a filter no stored value can match; say so as 400. */
async function withQueryErrors<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read()
  } catch (e) {
    if (e instanceof DatabaseError && NUL_CODES.has(e.code ?? '')) throw invalidFilter('Filter values cannot contain the NUL character (U+0000)')
    throw e
  }
}

/**
 * The driver errors a client can cause, as the ScimError that says why; anything else goes up as is
 * (a 500 with a log line). 22P05 / 22021: text and jsonb cannot hold U+0000, which JSON and SQLite can.
 * 23503 on a member: the member was deleted by another transaction between our check and our insert.
 */
function translateDriverError(e: unknown): unknown {
  if (!(e instanceof DatabaseError)) return e
  if (NUL_CODES.has(e.code ?? '')) return invalidValue('Values cannot contain the NUL character (U+0000)')
  if (e.code === '23503' && e.constraint === 'group_members_member_fkey') return invalidValue('A member was deleted while being added')
  return e
}

const NUL_CODES = new Set(['22P05', '22021'])

class PostgresTokenStore implements TokenStore {
  constructor(private readonly pool: Pool) {}

  async insertToken(t: TokenRecord): Promise<void> {
    try {
      await this.pool.query(`INSERT INTO tokens (${TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, [
        t.id,
        t.tenant,
        t.name,
        t.prefix,
        t.hash,
        t.createdAt,
        t.lastUsedAt ?? null,
        t.expiresAt ?? null,
        t.revokedAt ?? null,
      ])
    } catch (e) {
      if (e instanceof DatabaseError && e.code === '23505' && e.constraint === 'tokens_pkey') throw uniqueness('A token with this id already exists')
      throw translateDriverError(e)
    }
  }

  async findToken(id: string): Promise<TokenRecord | undefined> {
    const row = (await this.rows<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM tokens WHERE id = $1`, [id]))[0]
    return row ? toToken(row) : undefined
  }

  async listTokens(tenant: string): Promise<TokenRecord[]> {
    return (await this.rows<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM tokens WHERE tenant_id = $1 ORDER BY created_at, id`, [tenant])).map(toToken)
  }

  async revokeToken(tenant: string, id: string, at: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(`UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND tenant_id = $3 AND revoked_at IS NULL`, [at, id, tenant])
    return (rowCount ?? 0) > 0
  }

  async touchToken(id: string, at: string): Promise<void> {
    await this.pool.query(`UPDATE tokens SET last_used_at = $1 WHERE id = $2`, [at, id])
  }

  async countTokens(): Promise<number> {
    return (await this.rows<{ n: number }>(`SELECT COUNT(*)::int AS n FROM tokens`, []))[0]?.n ?? 0
  }

  private async rows<R extends QueryResultRow>(sql: string, params: unknown[]): Promise<R[]> {
    return (await this.pool.query<R>(sql, params)).rows
  }
}
