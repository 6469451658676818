import Database, { type Statement } from 'better-sqlite3'
import { invalidValue, isScimError, notFound, preconditionFailed, uniqueness, type MemberStep, type ScimError, type ScimObject } from '../../scim/index.js'
import type {
  AuditEvent,
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
import { compileFilter, matchesAtMostOne } from '../sql/compile-filter.js'
import { TOKEN_COLUMNS, indexedValuesOf, toToken, type TokenRow } from '../sql/resource-rows.js'
import { compileKeysetAfter, compileKeysetOrder } from '../sql/keyset.js'
import { sqliteDialect } from '../sql/sql-dialect.js'
import { migrateSqlite } from './migrations.js'
import {
  SqliteAdminApiKeyStore,
  SqliteAdminSessionStore,
  SqliteAdminStore,
  SqliteOAuthClientStore,
  SqliteSigningKeyStore,
  SqliteTenantStore,
} from './sqlite-admin-stores.js'
import { SqliteAuditStore, prepareAuditEventInsert } from './sqlite-audit-store.js'
import { GroupCommit, withGroupCommit } from './group-commit.js'
import { ExternalCommits, GroupFacts } from './group-facts.js'
import { Checkpointer } from './checkpointer.js'

export interface SqliteStoreOptions {
  /**
   * 'full' (the default) syncs the WAL after every commit before anything is answered, so an acknowledged
   * write survives a power loss; 'normal' syncs at checkpoints only: a crash of the machine (not of the
   * process) may lose the last commits.
   */
  readonly synchronous?: 'full' | 'normal'
  /** Told when a background checkpoint fails (the next pass tries again). */
  readonly onCheckpointError?: (message: string) => void
}

/** What SQLite truncates the WAL back to when it starts it over after a checkpoint (bytes). */
const JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024

/**
 * Opens (creating and migrating as needed) a SQLite database file as a Store. better-sqlite3 is
 * synchronous: each port method runs in one transaction (IMMEDIATE for writes, so a read-then-write
 * cannot be overtaken by another connection); writes of one event-loop turn share a commit (GroupCommit),
 * and no method resolves before what it did or saw is durable.
 */
export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): Store {
  const db = new Database(path)
  const inMemory = path === ':memory:' || path === ''
  try {
    db.pragma('journal_mode = WAL')
    // NORMAL whichever durability is asked: with 'full', GroupCommit syncs the WAL itself after each commit,
    // off the event loop (see group-commit.ts).
    db.pragma('synchronous = NORMAL')
    // Checkpoints run on the Checkpointer's thread, never inside a COMMIT on the event loop.
    if (!inMemory) db.pragma('wal_autocheckpoint = 0')
    db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT}`)
    db.pragma('foreign_keys = ON')
    db.pragma('busy_timeout = 5000')
    // SQLite's default page cache is 2 MB: at 1,000,000 users (a 1.35 GB file) every B-tree level past it
    // was a pread per lookup (bench: the primary-key SELECT went from 8.8% of a GET at 100,000 users to 20%
    // at 1,000,000). 32 MiB holds the interior pages of every index at that size; the leaves a lookup needs
    // are random reads whatever the cache. Measured at 1,000,000 users against 64 MiB: GET, userName eq and
    // Bulk within the run-to-run noise, and 30 MB less peak RSS (243 MB against 273 MB; the budget is 300).
    db.pragma(`cache_size = -${SQLITE_CACHE_KIB}`)
    // The tables' CHECK constraints (json_valid of every document and audit event, member_type) guard the
    // file against other writers; this connection writes only JSON.stringify output and checked values,
    // and re-parsing each document in SQLite was a tenth of an insert's instructions (callgrind: 113,000
    // against 102,000 per user row). Other connections, the CLI's included, keep them.
    db.pragma('ignore_check_constraints = ON')
    // SQLite's lower() folds ASCII only; this folds as the `_ci` columns were folded (in JavaScript).
    db.function('scim_lower', { deterministic: true }, (value: unknown) => (typeof value === 'string' ? value.toLowerCase() : value))
    migrateSqlite(db)
  } catch (e) {
    db.close()
    throw e
  }
  const insertAuditEvent = prepareAuditEventInsert(db)
  const commits = new ExternalCommits(db)
  const groupFacts = new GroupFacts(db, commits)
  // A batch that rolls back may have been read from: what was learnt from it goes.
  const commit = new GroupCommit(db, {
    ...(options.synchronous !== 'normal' && !inMemory ? { walPath: `${path}-wal` } : {}),
    onRollback: () => groupFacts.forgetAll(),
  })
  const checkpointer = inMemory ? undefined : new Checkpointer(path, { journalSizeLimit: JOURNAL_SIZE_LIMIT, onError: options.onCheckpointError })
  // Credential and organization lookups need not wait for a write batch to be durable: what they find
  // decides whether a request may go on, and is never handed to the client.
  const unsynced = new Set(['findToken', 'getTenant', 'findClient', 'listKeys'])
  const wrap = <T extends object>(store: T) => withGroupCommit(store, commit, { unsynced })
  return {
    resources: wrap(new SqliteResourceStore(db, insertAuditEvent, groupFacts)),
    tokens: wrap(new SqliteTokenStore(db, commits)),
    tenants: wrap(new SqliteTenantStore(db)),
    audit: wrap(new SqliteAuditStore(db, insertAuditEvent)),
    admins: wrap(new SqliteAdminStore(db)),
    oauthClients: wrap(new SqliteOAuthClientStore(db)),
    signingKeys: wrap(new SqliteSigningKeyStore(db)),
    adminSessions: wrap(new SqliteAdminSessionStore(db)),
    adminApiKeys: wrap(new SqliteAdminApiKeyStore(db)),
    close: async () => {
      await commit.drain()
      await checkpointer?.close()
      if (db.open) db.close()
    },
  }
}

/**
 * The COUNT and page statements query() runs, with their parameters: `params` for the COUNT, `pageParams`
 * for the page (the same plus the keyset predicate's), after which the page binds its LIMIT and OFFSET.
 * The page selects the sort key as `sort_key`, from the ORDER BY's own expression, for QueryResult.next.
 * Exported so that the EXPLAIN QUERY PLAN tests plan exactly what runs.
 */
export function buildQuerySql(tenant: string, resourceType: string, query: Pick<StoreQuery, 'filter' | 'sortBy' | 'sortOrder' | 'after'>, options: { readonly groupIds?: boolean } = {}) {
  const params: unknown[] = [tenant, resourceType]
  let where = 'r.tenant_id = ? AND r.resource_type = ?'
  if (query.filter) {
    const compiled = compileFilter(query.filter, { dialect: sqliteDialect, resourceType, tenant, firstParam: 3 })
    where += ` AND (${compiled.sql})`
    params.push(...compiled.params)
  }
  // With a filter, the unary + keeps SQLite from walking an ORDER BY index (resources_created) to satisfy
  // LIMIT early instead of searching the filter's index: measured on 3.53, `externalId eq` with
  // "ORDER BY r.created, r.id LIMIT 10" scanned the whole tenant through resources_created.
  // The same goes for the range of a cursor position (see KeysetAfterContext.term). An unindexed filter
  // then costs a search of the tenant and a sort per page, as it does with startIndex.
  const hint = query.filter ? (expr: string) => `+${expr}` : (expr: string) => expr
  const order = compileKeysetOrder(query, { dialect: sqliteDialect, resourceType, orderTerm: hint })
  let pageWhere = where
  const pageParams = [...params]
  if (query.after) {
    // The COUNT stays on the whole result: totalResults counts every match, not those after the cursor.
    const after = compileKeysetAfter(order, query.after, { dialect: sqliteDialect, term: hint })
    pageWhere += ` AND ${after.sql}`
    pageParams.push(...after.params)
  }
  // One resource at most: no ORDER BY, and no LIMIT/OFFSET either (query() applies them to the row). Both
  // cost: measured at 1,000,000 users, the `userName eq` page took 31 µs with `LIMIT ? OFFSET ?` and 16 µs
  // without, and sorting the one row had doubled it before that.
  const single = query.filter !== undefined && matchesAtMostOne(query.filter)
  const orderBy = single ? '' : ` ORDER BY ${order.orderBy}`
  // The ids of each user's direct groups, read with its row as get does (getWithGroups).
  const groups = options.groupIds ? `, (${GROUP_IDS_OF_R}) AS group_ids` : ''
  return {
    // Unfiltered, the count is kept by triggers (migration 4); a tenant with none of the type has no row.
    countSql: query.filter
      ? `SELECT COUNT(*) AS n FROM resources r WHERE ${where}`
      : `SELECT COALESCE((SELECT n FROM resource_counts c WHERE c.tenant_id = ? AND c.resource_type = ?), 0) AS n`,
    pageSql: `SELECT ${RESOURCE_COLUMNS}, ${order.key} AS sort_key${groups} FROM resources r WHERE ${pageWhere}${orderBy}${single ? '' : ' LIMIT ? OFFSET ?'}`,
    params,
    pageParams,
    /** Whether the page binds LIMIT and OFFSET after pageParams (see pageValues). */
    limited: !single,
  }
}

/** What the page statement of buildQuerySql binds, for `limit` rows after `offset`. */
export function pageValues(q: { readonly pageParams: readonly unknown[]; readonly limited: boolean }, limit: number, offset: number): unknown[] {
  return q.limited ? [...q.pageParams, limit, offset] : [...q.pageParams]
}

/** The JSON array of the ids of the direct groups of the resource `r` (group_members_member covers it). */
const GROUP_IDS_OF_R = `SELECT json_group_array(m.group_id) FROM group_members m WHERE m.tenant_id = r.tenant_id AND m.member_id = r.id`

const RESOURCE_COLUMNS = 'r.id, r.resource_type, r.data, r.version, r.created, r.last_modified'

interface ResourceRow {
  readonly id: string
  readonly resource_type: string
  readonly data: string
  readonly version: number
  readonly created: string
  readonly last_modified: string
}

/** A row of a query page: the resource and its sort key, as the ORDER BY computed it. */
interface PageRow extends ResourceRow {
  readonly sort_key: unknown
  /** With buildQuerySql's groupIds: the ids of the user's direct groups, as a JSON array. */
  readonly group_ids?: string
}

/** `limit` rows of the page after `offset`: by the statement's LIMIT and OFFSET, or here for a statement without them. */
function readPage(page: Statement<unknown[], PageRow>, built: ReturnType<typeof buildQuerySql>, limit: number, offset: number): PageRow[] {
  const rows = page.all(...pageValues(built, limit, offset))
  return built.limited ? rows : rows.slice(offset, offset + limit)
}

/** A page read with one row more than `limit`: when that row came back, the last row returned is `next`. */
function pageOf(rows: readonly PageRow[], limit: number, total: { totalResults?: number }, toResult: (row: PageRow) => StoredResource): QueryResult {
  if (rows.length <= limit) return { ...total, resources: rows.map(toResult) }
  const last = rows[limit - 1]!
  return { ...total, resources: rows.slice(0, limit).map(toResult), next: { key: sortKeyOf(last), id: last.id } }
}

/** The sort key as a cursor holds it: SQLite gives text, numbers (booleans as 0/1) or NULL here. */
function sortKeyOf(row: PageRow): StoreCursor['key'] {
  const key = row.sort_key
  if (key === null || typeof key === 'string' || typeof key === 'number') return key
  throw new Error(`Unexpected sort key of type ${typeof key} for ${row.id}`)
}

interface ResourceRowWithSecret extends ResourceRow {
  readonly password_hash: string | null
}

/**
 * A stored resource whose `data` is parsed from `json` (the text as stored) when first read: a response
 * written from the text (render-json.ts) never parses it.
 */
function storedOf(id: string, resourceType: string, json: string, version: number, created: string, lastModified: string): StoredResource {
  let data: ScimObject | undefined
  return {
    id,
    resourceType,
    json,
    get data() {
      return (data ??= JSON.parse(json) as ScimObject)
    },
    version,
    created,
    lastModified,
  }
}

/**
 * What create returns: version 1, created = lastModified = now, the text as stored and the input's data
 * itself (validated documents are plain JSON, which the text reads back as; the audit of a create reads it,
 * and parsing the text again was 4% of a Bulk import).
 */
const createdFrom = (input: NewResource, text: string): StoredResource => ({
  id: input.id,
  resourceType: input.resourceType,
  json: text,
  data: input.data,
  version: 1,
  created: input.now,
  lastModified: input.now,
})

const toStored = (row: ResourceRow): StoredResource => storedOf(row.id, row.resource_type, row.data, row.version, row.created, row.last_modified)

const MAX_CACHED_STATEMENTS = 256
/** Token rows kept in memory at most (SqliteTokenStore): past it they are all dropped and read again. */
const MAX_CACHED_TOKENS = 10_000
/** The page cache of the connection, in KiB (see openSqliteStore). */
export const SQLITE_CACHE_KIB = 32_768

class SqliteResourceStore implements ResourceStore {
  private readonly queryCache = new Map<string, Statement>()
  private readonly s
  private readonly tx

  /** `insertAuditEvent` writes the event an AuditHook returns, inside the write's transaction. */
  constructor(
    private readonly db: Database.Database,
    private readonly insertAuditEvent: (event: AuditEvent) => void,
    private readonly groupFacts: GroupFacts,
  ) {
    const p = <R = unknown>(sql: string) => db.prepare<unknown[], R>(sql)
    this.s = {
      insert: p(
        `INSERT INTO resources (tenant_id, resource_type, id, data, version, created, last_modified, user_name_ci, external_id, display_name_ci, password_hash)
         VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)`,
      ),
      select: p<ResourceRowWithSecret>(`SELECT ${RESOURCE_COLUMNS}, r.password_hash FROM resources r WHERE r.tenant_id = ? AND r.resource_type = ? AND r.id = ?`),
      get: p<ResourceRow>(`SELECT ${RESOURCE_COLUMNS} FROM resources r WHERE r.tenant_id = ? AND r.resource_type = ? AND r.id = ?`),
      // The resource and the ids of its direct groups (group_members_member covers them) in one statement:
      // each statement outside a transaction takes and drops SQLite's read locks (about 3 µs here). Their
      // names come from GroupFacts. No ORDER BY in the aggregate: it made SQLite build a temporary B-tree per
      // row (measured 17 µs against 43 µs); the few ids are sorted here.
      getWithGroups: p<ResourceRow & { group_ids: string }>(
        `SELECT ${RESOURCE_COLUMNS}, (${GROUP_IDS_OF_R}) AS group_ids FROM resources r WHERE r.tenant_id = ? AND r.resource_type = ? AND r.id = ?`,
      ),
      update: p(
        `UPDATE resources SET data = ?, version = version + 1, last_modified = ?, user_name_ci = ?, external_id = ?, display_name_ci = ?, password_hash = ?
         WHERE tenant_id = ? AND id = ?`,
      ),
      updateData: p(`UPDATE resources SET data = ?, version = version + 1, last_modified = ?, password_hash = ? WHERE tenant_id = ? AND id = ?`),
      touch: p(`UPDATE resources SET version = version + 1, last_modified = ? WHERE tenant_id = ? AND id = ?`),
      delete: p(`DELETE FROM resources WHERE tenant_id = ? AND id = ?`),
      // A group that loses a member on delete has a new representation, so its ETag must change too.
      bumpGroupsOf: p(`UPDATE resources SET version = version + 1 WHERE tenant_id = ? AND id IN (SELECT group_id FROM group_members WHERE tenant_id = ? AND member_id = ?)`),
      deleteEmails: p(`DELETE FROM resource_emails WHERE tenant_id = ? AND resource_id = ?`),
      insertEmail: p(`INSERT INTO resource_emails (tenant_id, resource_id, value_ci) VALUES (?, ?, ?)`),
      typeOf: p<{ resource_type: string }>(`SELECT resource_type FROM resources WHERE tenant_id = ? AND id = ?`),
      memberIds: p<{ member_id: string }>(`SELECT member_id FROM group_members WHERE tenant_id = ? AND group_id = ?`),
      addMember: p(
        `INSERT INTO group_members (tenant_id, group_id, member_id, member_type) VALUES (?, ?, ?, ?)
         ON CONFLICT (tenant_id, group_id, member_id) DO NOTHING`,
      ),
      removeMember: p(`DELETE FROM group_members WHERE tenant_id = ? AND group_id = ? AND member_id = ?`),
      removeAllMembers: p(`DELETE FROM group_members WHERE tenant_id = ? AND group_id = ?`),
      listMembers: p<{ group_id: string; member_id: string; member_type: 'User' | 'Group'; display: unknown }>(
        `SELECT m.group_id, m.member_id, m.member_type,
                COALESCE(NULLIF(json_extract(x.data, '$.displayName'), ''), json_extract(x.data, '$.userName')) AS display
         FROM group_members m JOIN resources x ON x.tenant_id = m.tenant_id AND x.id = m.member_id
         WHERE m.tenant_id = ? AND m.group_id IN (SELECT value FROM json_each(?))
         ORDER BY m.group_id, m.member_id`,
      ),
      // UNION (not UNION ALL) drops rows already reached, and `indirect` takes two values only, so the
      // recursion ends even when nested groups contain each other. The CROSS JOINs fix SQLite's join order
      // (the small side outside): with plain joins it read every membership and every resource of the
      // tenant (EXPLAIN QUERY PLAN on 3.53). Each step up is a group inside a group: group_members_nested.
      listGroupsOf: p<{ member_id: string; group_id: string; indirect: number; display: unknown }>(
        `WITH RECURSIVE reach (member_id, group_id, indirect) AS (
           SELECT m.member_id, m.group_id, 0 FROM group_members m
           WHERE m.tenant_id = ? AND m.member_id IN (SELECT value FROM json_each(?))
           UNION
           SELECT reach.member_id, m.group_id, 1 FROM reach CROSS JOIN group_members m
           WHERE m.tenant_id = ? AND m.member_id = reach.group_id AND m.member_type = 'Group'
         )
         SELECT x.member_id, x.group_id, x.indirect, json_extract(g.data, '$.displayName') AS display
         FROM (SELECT member_id, group_id, MIN(indirect) AS indirect FROM reach GROUP BY member_id, group_id) x
         CROSS JOIN resources g WHERE g.tenant_id = ? AND g.id = x.group_id
         ORDER BY x.member_id, x.group_id`,
      ),
      // Without nested groups in the tenant every group is a direct one: one index search per user.
      directGroupIds: db.prepare<unknown[], string>(`SELECT group_id FROM group_members WHERE tenant_id = ? AND member_id = ? ORDER BY group_id`).pluck(),
      directGroupsOfMany: p<{ member_id: string; group_id: string }>(
        `SELECT m.member_id, m.group_id FROM group_members m
         WHERE m.tenant_id = ? AND m.member_id IN (SELECT value FROM json_each(?))
         ORDER BY m.member_id, m.group_id`,
      ),
      passwordHash: p<{ password_hash: string | null }>(`SELECT password_hash FROM resources WHERE tenant_id = ? AND resource_type = ? AND id = ?`),
    }
    // Transaction wrappers are made once: making one per call costs more than the read it wraps
    // (measured 25 µs against 12 µs for get). Writes run them .immediate().
    this.tx = {
      create: db.transaction(this.createNow.bind(this)),
      createMany: db.transaction(this.insertEachNow.bind(this)),
      update: db.transaction(this.updateNow.bind(this)),
      delete: db.transaction(this.deleteNow.bind(this)),
      // COUNT and page read one snapshot. Reads of one statement need no transaction (a statement is its own
      // snapshot), and BEGIN/COMMIT around them cost 11% of a GET /Users/{id} (bench profile).
      query: db.transaction(this.queryNow.bind(this)),
    }
  }

  async create(tenant: string, input: NewResource): Promise<StoredResource> {
    const text = JSON.stringify(input.data)
    return withConstraintErrors(() => this.tx.create.immediate(tenant, input, text), input.data)
  }

  async createMany(tenant: string, inputs: readonly NewResource[]): Promise<(StoredResource | ScimError)[]> {
    if (inputs.length === 0) return []
    const texts = inputs.map((input) => JSON.stringify(input.data))
    return this.tx.createMany.immediate(tenant, inputs, texts)
  }

  async get(tenant: string, resourceType: string, id: string, options: GetOptions = {}): Promise<StoredResourceWithGroups | undefined> {
    if (!options.groups) {
      const row = this.s.get.get(tenant, resourceType, id)
      return row ? toStored(row) : undefined
    }
    const row = this.s.getWithGroups.get(tenant, resourceType, id)
    if (!row) return undefined
    const groups = this.groupFacts.nested(tenant) ? (this.groupsOf(tenant, [id]).get(id) ?? []) : this.directGroups(tenant, row.group_ids)
    // Not a spread of toStored(row): that would read (and parse) its data.
    return Object.assign(toStored(row), { groups })
  }

  /** The direct groups named by a `group_ids` column, in id order, with their display names. */
  private directGroups(tenant: string, groupIds: string): GroupRef[] {
    return (JSON.parse(groupIds) as string[]).sort().map((groupId) => this.directGroup(tenant, groupId))
  }

  private directGroup(tenant: string, groupId: string): GroupRef {
    const display = this.groupFacts.displayOf(tenant, groupId)
    return { value: groupId, type: 'direct', ...(display !== undefined ? { display } : {}) }
  }

  async update(
    tenant: string,
    resourceType: string,
    id: string,
    mutate: (current: CurrentResource) => ResourceChange,
    options: UpdateOptions,
  ): Promise<StoredResource> {
    const attempt: { data?: ScimObject } = {}
    return withConstraintErrors(() => this.tx.update.immediate(tenant, resourceType, id, mutate, options, attempt), () => attempt.data)
  }

  async delete(tenant: string, resourceType: string, id: string, options: DeleteOptions = {}): Promise<void> {
    this.tx.delete.immediate(tenant, resourceType, id, options.ifMatch, options.audit)
  }

  async query(tenant: string, resourceType: string, query: StoreQuery): Promise<QueryResult> {
    // Users' direct groups come with the page when asked, unless the tenant nests groups (listGroupsOf then).
    const groupIds = query.groups === true && !this.groupFacts.nested(tenant)
    const built = buildQuerySql(tenant, resourceType, query, { groupIds })
    const { countSql, pageSql, params } = built
    const offset = query.after ? 0 : Math.max(1, Math.trunc(query.startIndex)) - 1
    const limit = Math.max(0, Math.trunc(query.count))
    const count = query.withTotal === false ? undefined : this.cached<{ n: number }>(countSql)
    const page = this.cached<PageRow>(pageSql)
    const toResult = (row: PageRow) => (groupIds ? Object.assign(toStored(row), { groups: this.directGroups(tenant, row.group_ids!) }) : toStored(row))
    if (limit === 0) return count ? { totalResults: count.get(...params)?.n ?? 0, resources: [] } : { resources: [] }
    // A first page that holds every match needs no COUNT: the IdPs' `userName eq` lookup before each create
    // is such a page. A first page with more to come is counted by a second statement, outside a
    // transaction but in the same synchronous call: no write of this connection can come between them, and
    // no other connection writes resources (the CLI writes tokens, organizations and admins).
    if (offset === 0 && !query.after) {
      const rows = readPage(page, built, limit + 1, 0)
      const total = count ? { totalResults: rows.length <= limit ? rows.length : (count.get(...params)?.n ?? 0) } : {}
      return pageOf(rows, limit, total, toResult)
    }
    return this.tx.query(count, page, built, limit, offset, toResult)
  }

  async listMembers(tenant: string, groupIds: readonly string[]): Promise<Map<string, MemberRef[]>> {
    return this.membersOf(tenant, groupIds)
  }

  async listGroupsOf(tenant: string, userIds: readonly string[]): Promise<Map<string, GroupRef[]>> {
    return this.groupsOf(tenant, userIds)
  }

  private groupsOf(tenant: string, userIds: readonly string[]): Map<string, GroupRef[]> {
    const result = new Map<string, GroupRef[]>(userIds.map((id) => [id, []]))
    if (userIds.length === 0) return result
    if (!this.groupFacts.nested(tenant)) {
      if (userIds.length === 1) {
        const id = userIds[0]!
        result.set(id, this.s.directGroupIds.all(tenant, id).map((groupId) => this.directGroup(tenant, groupId)))
        return result
      }
      for (const row of this.s.directGroupsOfMany.all(tenant, JSON.stringify(userIds))) result.get(row.member_id)?.push(this.directGroup(tenant, row.group_id))
      return result
    }
    for (const row of this.s.listGroupsOf.all(tenant, JSON.stringify(userIds), tenant, tenant)) {
      const ref: GroupRef = { value: row.group_id, type: row.indirect ? 'indirect' : 'direct', ...(typeof row.display === 'string' ? { display: row.display } : {}) }
      result.get(row.member_id)?.push(ref)
    }
    return result
  }

  async getPasswordHash(tenant: string, resourceType: string, id: string): Promise<string | undefined> {
    return this.s.passwordHash.get(tenant, resourceType, id)?.password_hash ?? undefined
  }

  /** create's transaction: the resource, then its audit event. */
  private createNow(tenant: string, input: NewResource, text: string): StoredResource {
    this.insertNow(tenant, input, text)
    const created = createdFrom(input, text)
    this.writeAuditEvent(tenant, input.audit, { after: created })
    return created
  }

  /** Inserts the event `hook` builds for a change, if any. Runs inside the change's transaction. */
  private writeAuditEvent(tenant: string, hook: AuditHook | undefined, change: { before?: CurrentResource; after?: CurrentResource }): void {
    const event = auditEventOf(hook, tenant, change)
    if (event) this.insertAuditEvent(event)
  }

  /**
   * Writes one new resource. Every refusal comes before the first write (members are checked first), and
   * the first write, the INSERT a unique index may refuse, is atomic as a statement (SQLite's ABORT undoes
   * the statement and keeps the transaction). So a refused input leaves nothing behind, also inside
   * createMany's transaction, without a SAVEPOINT per input: measured on this adapter (WAL, 1,000 users per
   * batch), a SAVEPOINT per input made createMany 2–3× slower (median 130 ms against 50 ms), every input
   * spilling the index pages it touched to a sub-journal file.
   */
  private insertNow(tenant: string, input: NewResource, text: string): void {
    if (input.resourceType === 'Group') this.groupFacts.forget(tenant)
    const members = (input.memberIds ?? []).map((id) => [id, this.memberType(tenant, input.id, id)] as const)
    const indexed = indexedValuesOf(input.data)
    this.s.insert.run(
      tenant,
      input.resourceType,
      input.id,
      text,
      input.now,
      input.now,
      indexed.userNameCi,
      indexed.externalId,
      indexed.displayNameCi,
      input.passwordHash ?? null,
    )
    this.writeEmails(tenant, input.id, indexed.emails, false)
    for (const [id, type] of members) this.s.addMember.run(tenant, input.id, id, type)
  }

  /**
   * createMany's transaction: each input is written as create writes it, and one that is refused (a
   * ScimError) leaves nothing behind (see insertNow) while the others go on. Members are checked against
   * the rows written so far, earlier inputs included. Any other error (an I/O error, a bug) rolls back the
   * whole batch and rejects. The audit hook runs outside the refusal's catch: whatever it throws, even a
   * ScimError, rolls back the whole batch (ports.ts createMany).
   */
  private insertEachNow(tenant: string, inputs: readonly NewResource[], texts: readonly string[]): (StoredResource | ScimError)[] {
    return inputs.map((input, k) => {
      const text = texts[k]!
      try {
        withConstraintErrors(() => this.insertNow(tenant, input, text), input.data)
      } catch (e) {
        if (isScimError(e)) return e
        throw e
      }
      const created = createdFrom(input, text)
      this.writeAuditEvent(tenant, input.audit, { after: created })
      return created
    })
  }

  /** `attempt.data` records the data being written, for the uniqueness error's detail. */
  private updateNow(
    tenant: string,
    resourceType: string,
    id: string,
    mutate: (current: CurrentResource) => ResourceChange,
    options: UpdateOptions,
    attempt: { data?: ScimObject },
  ): StoredResource {
    const row = this.loadForWrite(tenant, resourceType, id, options.ifMatch)
    if (row.resource_type === 'Group') this.groupFacts.forget(tenant)
    const stored = toStored(row)
    const current: CurrentResource = options.withMembers ? { ...stored, members: this.membersOf(tenant, [id]).get(id) ?? [] } : stored
    const change = mutate(current)
    const text = JSON.stringify(change.data)
    // Text equality: the stored text came from JSON.stringify too, so unchanged data gives the same text.
    const dataChanged = text !== row.data
    const hash = change.passwordHash === undefined ? row.password_hash : change.passwordHash
    const hashChanged = hash !== row.password_hash
    const membersChanged = change.memberSteps ? this.applyMemberSteps(tenant, id, change.memberSteps) : false
    if (!dataChanged && !hashChanged && !membersChanged) {
      // Nothing written; the hook still sees the request, with before === after (ports.ts AuditHook).
      this.writeAuditEvent(tenant, options.audit, { before: current, after: current })
      return stored
    }
    if (dataChanged || hashChanged) {
      attempt.data = change.data
      const indexed = indexedValuesOf(change.data)
      const before = indexedValuesOf(stored.data)
      // Only what changed is written: an UPDATE that sets an indexed column rewrites its index entry even
      // to the same value, and the emails' rows have two indexes of their own. A PATCH of a title then
      // touches the row's page only (and the audit event's).
      if (indexed.userNameCi === before.userNameCi && indexed.externalId === before.externalId && indexed.displayNameCi === before.displayNameCi) {
        this.s.updateData.run(text, options.now, hash, tenant, id)
      } else {
        this.s.update.run(text, options.now, indexed.userNameCi, indexed.externalId, indexed.displayNameCi, hash, tenant, id)
      }
      if (dataChanged && !sameItems(indexed.emails, before.emails)) this.writeEmails(tenant, id, indexed.emails, true)
    } else {
      this.s.touch.run(options.now, tenant, id)
    }
    const updated = dataChanged ? storedOf(id, stored.resourceType, text, row.version + 1, stored.created, options.now) : storedOf(id, stored.resourceType, row.data, row.version + 1, stored.created, options.now)
    if (options.audit) {
      const members = options.withMembers ? { members: membersChanged ? (this.membersOf(tenant, [id]).get(id) ?? []) : (current.members ?? []) } : {}
      this.writeAuditEvent(tenant, options.audit, { before: current, after: { ...updated, ...members } })
    }
    return updated
  }

  private deleteNow(tenant: string, resourceType: string, id: string, ifMatch: number | undefined, audit: AuditHook | undefined): void {
    const row = this.loadForWrite(tenant, resourceType, id, ifMatch)
    if (row.resource_type === 'Group') this.groupFacts.forget(tenant)
    this.s.bumpGroupsOf.run(tenant, tenant, id)
    // resource_emails and group_members rows (as group and as member) go by ON DELETE CASCADE.
    this.s.delete.run(tenant, id)
    this.writeAuditEvent(tenant, audit, { before: toStored(row) })
  }

  /**
   * One page, and the COUNT unless `count` is undefined (withTotal: false). The page reads one row more
   * than asked: when it comes back, more rows follow and the last row returned is QueryResult.next.
   */
  private queryNow(
    count: Statement<unknown[], { n: number }> | undefined,
    page: Statement<unknown[], PageRow>,
    built: ReturnType<typeof buildQuerySql>,
    limit: number,
    offset: number,
    toResult: (row: PageRow) => StoredResource,
  ): QueryResult {
    const totalResults = count ? (count.get(...built.params)?.n ?? 0) : undefined
    const total = totalResults === undefined ? {} : { totalResults }
    if (totalResults !== undefined && offset >= totalResults) return { ...total, resources: [] }
    return pageOf(readPage(page, built, limit + 1, offset), limit, total, toResult)
  }

  private loadForWrite(tenant: string, resourceType: string, id: string, ifMatch: number | undefined): ResourceRowWithSecret {
    const row = this.s.select.get(tenant, resourceType, id)
    if (!row) throw notFound(`${resourceType} ${id} not found`)
    if (ifMatch !== undefined && ifMatch !== row.version) {
      throw preconditionFailed(`${resourceType} ${id} is at version ${row.version}, not ${ifMatch}`)
    }
    return row
  }

  private membersOf(tenant: string, groupIds: readonly string[]): Map<string, MemberRef[]> {
    const result = new Map<string, MemberRef[]>(groupIds.map((id) => [id, []]))
    if (groupIds.length === 0) return result
    for (const row of this.s.listMembers.all(tenant, JSON.stringify(groupIds))) {
      const ref: MemberRef = { value: row.member_id, type: row.member_type, ...(typeof row.display === 'string' ? { display: row.display } : {}) }
      result.get(row.group_id)?.push(ref)
    }
    return result
  }

  private writeEmails(tenant: string, id: string, emails: readonly string[], replace: boolean): void {
    if (replace) this.s.deleteEmails.run(tenant, id)
    for (const value of emails) this.s.insertEmail.run(tenant, id, value)
  }

  /** Applies the steps in order; returns whether membership changed. Must run inside a transaction. */
  private applyMemberSteps(tenant: string, groupId: string, steps: readonly MemberStep[]): boolean {
    let changed = false
    for (const step of steps) {
      switch (step.op) {
        case 'add':
          for (const id of step.ids) changed = this.s.addMember.run(tenant, groupId, id, this.memberType(tenant, groupId, id)).changes > 0 || changed
          break
        case 'remove':
          for (const id of step.ids) changed = this.s.removeMember.run(tenant, groupId, id).changes > 0 || changed
          break
        case 'replace': {
          const types = new Map(step.ids.map((id) => [id, this.memberType(tenant, groupId, id)]))
          const before = new Set(this.s.memberIds.all(tenant, groupId).map((r) => r.member_id))
          if (before.size === types.size && [...types.keys()].every((id) => before.has(id))) break
          this.s.removeAllMembers.run(tenant, groupId)
          for (const [id, type] of types) this.s.addMember.run(tenant, groupId, id, type)
          changed = true
          break
        }
        default:
          step satisfies never
      }
    }
    return changed
  }

  /** The member's type, read from its row in the same tenant; invalidValue when it cannot be a member. */
  private memberType(tenant: string, groupId: string, memberId: string): 'User' | 'Group' {
    if (memberId === groupId) throw invalidValue(`Group ${groupId} cannot be a member of itself`)
    const row = this.s.typeOf.get(tenant, memberId)
    if (!row) throw invalidValue(`Member "${memberId}" does not exist`)
    if (row.resource_type !== 'User' && row.resource_type !== 'Group') {
      throw invalidValue(`Member "${memberId}" is a ${row.resource_type}; members are Users or Groups`)
    }
    return row.resource_type
  }

  /** Filter and sort shapes are few, values are parameters: statements are cached by their text. */
  private cached<R>(sql: string): Statement<unknown[], R> {
    let statement = this.queryCache.get(sql)
    if (!statement) {
      if (this.queryCache.size >= MAX_CACHED_STATEMENTS) this.queryCache.delete(this.queryCache.keys().next().value!)
      statement = this.db.prepare(sql)
      this.queryCache.set(sql, statement)
    }
    return statement as Statement<unknown[], R>
  }
}

/** Whether two lists hold the same strings (each list distinct), in any order. */
function sameItems(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false
  const set = new Set(b)
  return a.every((x) => set.has(x))
}

/**
 * Runs a write, turning the unique indexes' errors into ScimError 409 uniqueness. `data` names the
 * value in the detail (the data being written, or a function giving it once the write has run).
 */
function withConstraintErrors<T>(write: () => T, data: ScimObject | (() => ScimObject | undefined)): T {
  try {
    return write()
  } catch (e) {
    if (!(e instanceof Database.SqliteError)) throw e
    const values = typeof data === 'function' ? data() : data
    if (e.code === 'SQLITE_CONSTRAINT_UNIQUE' && e.message.includes('user_name_ci')) {
      const userName = values?.userName
      throw uniqueness(typeof userName === 'string' ? `userName "${userName}" is already in use` : 'userName is already in use')
    }
    if (e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw uniqueness('A resource with this id already exists')
    throw e
  }
}

/**
 * Tokens, with the rows read kept in memory: every SCIM request looks its token up, and the lookup was 5% of
 * a GET /Users/{id} (bench profile). The rows are dropped as soon as another connection has committed
 * anything (PRAGMA data_version moves: the CLI revoking a token while the server runs), and this store's own
 * writes update them, so a revocation still applies from the very next request.
 */
class SqliteTokenStore implements TokenStore {
  private readonly tx
  private readonly rows = new Map<string, TokenRow>()
  private seenVersion = -1

  constructor(db: Database.Database, private readonly commits: ExternalCommits) {
    const insert = db.prepare(`INSERT INTO tokens (${TOKEN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
    const find = db.prepare<unknown[], TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM tokens WHERE id = ?`)
    const list = db.prepare<unknown[], TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM tokens WHERE tenant_id = ? ORDER BY created_at, id`)
    const revoke = db.prepare(`UPDATE tokens SET revoked_at = ? WHERE id = ? AND tenant_id = ? AND revoked_at IS NULL`)
    const touch = db.prepare(`UPDATE tokens SET last_used_at = ? WHERE id = ?`)
    // Run in a write transaction (.immediate, within the group commit's BEGIN IMMEDIATE): the write lock is
    // taken before the NOT EXISTS is read, so another process cannot insert between the check and the insert.
    const insertFirst = db.prepare(`INSERT INTO tokens (${TOKEN_COLUMNS}) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM tokens)`)
    this.tx = {
      insert: db.transaction((t: TokenRecord) => {
        insert.run(t.id, t.tenant, t.name, t.prefix, t.hash, t.createdAt, t.lastUsedAt ?? null, t.expiresAt ?? null, t.revokedAt ?? null)
      }),
      // Single-statement reads run bare: every SCIM request looks its token up.
      find: (id: string) => find.get(id),
      list: (tenant: string) => list.all(tenant),
      revoke: db.transaction((tenant: string, id: string, at: string) => revoke.run(at, id, tenant).changes > 0),
      touch: db.transaction((id: string, at: string) => {
        touch.run(at, id)
      }),
      insertFirst: db.transaction(
        (t: TokenRecord) => insertFirst.run(t.id, t.tenant, t.name, t.prefix, t.hash, t.createdAt, t.lastUsedAt ?? null, t.expiresAt ?? null, t.revokedAt ?? null).changes > 0,
      ),
    }
  }

  async insertToken(record: TokenRecord): Promise<void> {
    try {
      this.tx.insert.immediate(record)
    } catch (e) {
      if (e instanceof Database.SqliteError && e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw uniqueness('A token with this id already exists')
      throw e
    }
  }

  async findToken(id: string): Promise<TokenRecord | undefined> {
    const version = this.commits.version()
    if (version !== this.seenVersion) {
      this.rows.clear()
      this.seenVersion = version
    }
    let row = this.rows.get(id)
    if (!row) {
      row = this.tx.find(id)
      if (!row) return undefined
      if (this.rows.size >= MAX_CACHED_TOKENS) this.rows.clear()
      this.rows.set(id, row)
    }
    return toToken(row)
  }

  async listTokens(tenant: string): Promise<TokenRecord[]> {
    return this.tx.list(tenant).map(toToken)
  }

  async revokeToken(tenant: string, id: string, at: string): Promise<boolean> {
    this.rows.delete(id)
    return this.tx.revoke.immediate(tenant, id, at)
  }

  async touchToken(id: string, at: string): Promise<void> {
    this.tx.touch.immediate(id, at)
    const row = this.rows.get(id)
    if (row) this.rows.set(id, { ...row, last_used_at: at })
  }

  async insertFirstToken(record: TokenRecord): Promise<boolean> {
    return this.tx.insertFirst.immediate(record)
  }
}
