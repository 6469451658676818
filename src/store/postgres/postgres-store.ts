import { isDeepStrictEqual } from 'node:util'
import { DatabaseError, Pool, type PoolClient, type QueryConfig, type QueryResultRow } from 'pg'
import {
  invalidFilter,
  invalidValue,
  isScimError,
  notFound,
  preconditionFailed,
  uniqueness,
  type MemberStep,
  type ResolvedFilterNode,
  type ScimError,
  type ScimObject,
} from '../../scim/index.js'
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
import { AUDIT_EVENT_COLUMNS, auditEventOf, auditEventValues } from '../sql/audit-events.js'
import { compileFilter, matchesAtMostOne } from '../sql/compile-filter.js'
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
import { PostgresAuditStore, insertAuditEventWith, insertAuditEventsWith } from './postgres-audit-store.js'
import { StatementNames, bound, named } from './statements.js'

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
 *
 * Each round trip counts twice on a small machine: the backend that wakes up to answer takes a core from
 * Roster. So the fixed statements are named prepared statements (statements.ts), a GET with groups is
 * one statement, a list page counts its matches only when the page cannot tell how many there are, and
 * writes fold what they can into one statement.
 */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<Store> {
  const schema = assertSchemaName(options.schema ?? 'public')
  const pool = new Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    application_name: 'roster',
    // The pool hands a new connection out only once this SET has run, so its first query (and every
    // statement prepared on it: a prepared statement resolves its tables through the search_path of the
    // moment) reads `schema`. A connection that could not set it is closed, and the checkout fails with
    // the error, rather than be left to read another schema's tables. (A 'connect' listener, used before,
    // ran the SET concurrently with the caller's first query, which node-postgres deprecates.)
    // jit off: Roster's statements are short index searches, and PostgreSQL compiles a plan whose cost
    // estimate passes jit_above_cost. A generic plan's estimate for `LIMIT $n` is a tenth of the rows, so a
    // cursor page of 100 users was compiled, 450 ms of LLVM for a query that runs in 0.1 ms (EXPLAIN
    // ANALYZE at 100,000 users).
    onConnect: async (client) => {
      await client.query(`SET search_path TO "${schema}"; SET jit = off`)
    },
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
 * The statements query() runs, all with `$n` parameters: `countSql` with `params`; `pageSql` with
 * `pageParams` (the same plus the cursor position's) then LIMIT and OFFSET; or `listSql`, the count and the
 * page in one statement (one snapshot, one round trip) with the page's parameters, for cursor pages (whose
 * rows never tell how many match in all). The page selects the sort key as `sort_key`, from the ORDER BY's
 * own expression, for QueryResult.next (src/store/sql/keyset.ts). Exported so that the EXPLAIN tests plan
 * exactly what runs.
 */
export function buildPostgresQuerySql(tenant: string, resourceType: string, query: Pick<StoreQuery, 'filter' | 'sortBy' | 'sortOrder' | 'after' | 'groups'>) {
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
  // Unfiltered (exactly where SQLite's adapter reads its resource_counts), the total is the sum of the
  // (tenant, type)'s counter rows, kept by triggers (migration 3): a few rows, where COUNT(*) read an index
  // entry of every resource of the type. A tenant without resources of the type has no row, and SUM gives NULL.
  const countSql = query.filter
    ? `SELECT COUNT(*)::int AS total FROM resources r WHERE ${where}`
    : `SELECT COALESCE(SUM(rc.n), 0)::int AS total FROM resource_counts rc WHERE rc.tenant_id = $1 AND rc.resource_type = $2`
  // With a filter, the matches are found first and sorted after: the OFFSET 0 subquery is PostgreSQL's
  // optimisation fence, so the planner cannot walk resources_created (or a sortBy column's index) in order
  // and test the filter row by row, hoping to fill the LIMIT early. Measured with 20,000 users per tenant:
  // for `userName co "er1234"` (11 matches) it sometimes chose that walk, on a misestimate of the LIKE's
  // selectivity: over 12,000 rows read up to the 11th match, against 22 trigram hits. SQLite's adapter avoids the
  // same plan with its unary +. The count reads every match anyway, so sorting them costs little more.
  const from = query.filter ? `(SELECT * FROM resources r WHERE ${pageWhere} OFFSET 0) r` : `resources r WHERE ${pageWhere}`
  const plainPageSql = `SELECT ${RESOURCE_COLUMNS}, ${order.key} AS sort_key FROM ${from} ORDER BY ${order.orderBy} LIMIT ${limit} OFFSET ${offset}`
  // With groups, each user's (as listGroupsOf gives them) come with the page, in the same round trip: the
  // `userName eq` lookup IdPs send before each create is then one statement. row_number() keeps the page's order.
  // Only for a query that names one user at most (the IdPs' `userName eq` before a create): for a page of
  // many, the per-row subquery inflates the plan's estimates (a generic plan then sorted the whole type
  // instead of walking resources_created), and listGroupsOf reads the page's groups in one statement.
  const withGroups = query.groups === true && query.filter !== undefined && matchesAtMostOne(query.filter)
  const pageSql = withGroups
    ? `SELECT p.*, (WITH RECURSIVE ${reachFrom('= p.id')} SELECT json_agg(json_build_array(x.group_id, x.indirect, g.data ->> 'displayName') ORDER BY x.group_id) ${REACHED_GROUPS}) AS groups` +
      ` FROM (SELECT q.*, row_number() OVER () AS ord FROM (${plainPageSql}) q) p ORDER BY p.ord`
    : plainPageSql
  // The count is the outer row, so a page past the end still answers it. row_number() numbers the
  // page's rows in the order its ORDER BY … LIMIT delivers them, and the outer ORDER BY keeps that order.
  const listSql =
    `SELECT c.total, p.id, p.resource_type, p.data, p.version, p.created, p.last_modified, p.sort_key FROM (${countSql}) c` +
    ` LEFT JOIN (SELECT q.*, row_number() OVER () AS ord FROM (${plainPageSql}) q) p ON true ORDER BY p.ord`
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
  /** With the query's `groups`: the user's groups as [id, indirect, displayName] (null for none). */
  readonly groups?: GroupCell[] | null
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
  readonly user_name_ci: string | null
}

const toStored = (row: ResourceRow): StoredResource => ({
  id: row.id,
  resourceType: row.resource_type,
  data: row.data,
  version: row.version,
  created: row.created,
  lastModified: row.last_modified,
})

/**
 * What create returns: version 1, created = lastModified = now, and `data` as it will read back (JSON has
 * no undefined, -0 or NaN), parsed from the text written only when first read. No `json`: a read of the
 * resource cannot hand over that text (the jsonb column keeps no key order, and jsonb's own text does not
 * start with `schemas`), and what create returns is what a read gives.
 */
function createdFrom(input: NewResource, json: string): StoredResource {
  let data: ScimObject | undefined
  return {
    id: input.id,
    resourceType: input.resourceType,
    get data() {
      return (data ??= JSON.parse(json) as ScimObject)
    },
    version: 1,
    created: input.now,
    lastModified: input.now,
  }
}

/**
 * Whether jsonb may refuse `json`: it cannot hold U+0000 (22P05) nor a lone surrogate (22P02), which
 * JSON.stringify writes as \u0000 and \udXXX. A literal backslash-u in a value may match too, and then only
 * costs the careful path. The columns copied from the document (userName…) cannot fail otherwise.
 */
const mayBeRefusedByJsonb = (json: string) => json.includes('\\u0000') || json.includes('\\ud')

/** Writes the resource row and its emails in one statement (the CTE's INSERT runs exactly once). */
const INSERT_RESOURCE = named(`
  WITH inserted AS (
    INSERT INTO resources (tenant_id, resource_type, id, data, version, created, last_modified, user_name_ci, external_id, display_name_ci, password_hash)
    VALUES ($1, $2, $3, $4::jsonb, 1, $5, $5, $6, $7, $8, $9)
    RETURNING tenant_id, id
  )
  INSERT INTO resource_emails (tenant_id, resource_id, value_ci)
  SELECT inserted.tenant_id, inserted.id, e.value FROM inserted CROSS JOIN unnest($10::text[]) AS e(value)`)

/**
 * createMany's statement for a run of inputs without members: one row per input, in input order, with
 * their emails ($10, $11: each email's resource id and value, flattened). ON CONFLICT DO NOTHING skips an
 * input whose id or userName is taken, by an existing row or by an earlier row of the same statement,
 * instead of failing the statement; RETURNING names the inputs written. Ids are distinct within a run, so
 * emails follow their resource by id.
 */
const INSERT_RESOURCES = named(`
  WITH inserted AS (
    INSERT INTO resources (tenant_id, resource_type, id, data, version, created, last_modified, user_name_ci, external_id, display_name_ci, password_hash)
    SELECT $1, i.resource_type, i.id, i.data::jsonb, 1, i.now, i.now, i.user_name_ci, i.external_id, i.display_name_ci, i.password_hash
    FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[]) WITH ORDINALITY
      AS i(resource_type, id, data, now, user_name_ci, external_id, display_name_ci, password_hash, ord)
    ORDER BY i.ord
    ON CONFLICT DO NOTHING
    RETURNING id
  ), emails AS (
    INSERT INTO resource_emails (tenant_id, resource_id, value_ci)
    SELECT $1, e.resource_id, e.value FROM unnest($10::text[], $11::text[]) AS e(resource_id, value) JOIN inserted ON inserted.id = e.resource_id
  )
  SELECT id FROM inserted`)

const SELECT_RESOURCE = named(`SELECT ${RESOURCE_COLUMNS} FROM resources r WHERE r.tenant_id = $1 AND r.resource_type = $2 AND r.id = $3`)

/**
 * The groups a member is in, directly or through nested groups ($1 tenant), each once, with its
 * displayName: the `reach` CTE for listGroupsOf (members `$2::text[]`) and for a GET with groups (member
 * $3). UNION (not UNION ALL) drops rows already reached, and `indirect` takes two values only, so the
 * recursion ends even when nested groups contain each other.
 */
const reachFrom = (members: string) => `
  reach (member_id, group_id, indirect) AS (
    SELECT m.member_id, m.group_id, 0 FROM group_members m WHERE m.tenant_id = $1 AND m.member_id ${members}
    UNION
    SELECT reach.member_id, m.group_id, 1 FROM reach JOIN group_members m ON m.tenant_id = $1 AND m.member_id = reach.group_id
  )`
const REACHED_GROUPS = `
  FROM (SELECT member_id, group_id, MIN(indirect) AS indirect FROM reach GROUP BY member_id, group_id) x
  JOIN resources g ON g.tenant_id = $1 AND g.id = x.group_id`

const LIST_GROUPS_OF = named(`
  WITH RECURSIVE ${reachFrom('= ANY($2::text[])')}
  SELECT x.member_id, x.group_id, x.indirect, g.data ->> 'displayName' AS display ${REACHED_GROUPS}
  ORDER BY x.member_id, x.group_id`)

/**
 * The resource and its groups in one statement, the groups as listGroupsOf orders them, as a JSON array
 * of [id, indirect, displayName]. The groups' subquery is uncorrelated (it reads the parameters only), so
 * it runs once, and only when the resource exists.
 */
const SELECT_RESOURCE_WITH_GROUPS = named(`
  SELECT ${RESOURCE_COLUMNS}, (
    WITH RECURSIVE ${reachFrom('= $3')}
    SELECT json_agg(json_build_array(x.group_id, x.indirect, g.data ->> 'displayName') ORDER BY x.group_id) ${REACHED_GROUPS}
  ) AS groups
  FROM resources r WHERE r.tenant_id = $1 AND r.resource_type = $2 AND r.id = $3`)

type GroupCell = readonly [id: string, indirect: number, display: string | null]

const groupRefOf = (id: string, indirect: number, display: string | null): GroupRef => ({
  value: id,
  type: indirect ? 'indirect' : 'direct',
  ...(display !== null ? { display } : {}),
})

/**
 * The row a write reads first, locked as loadForWrite says: FOR NO KEY UPDATE for update(), FOR UPDATE for
 * delete(). user_name_ci tells update() whether the unique index can refuse its write.
 */
const SELECT_FOR_WRITE = {
  'FOR NO KEY UPDATE': named(
    `SELECT ${RESOURCE_COLUMNS}, r.password_hash, r.user_name_ci FROM resources r WHERE r.tenant_id = $1 AND r.resource_type = $2 AND r.id = $3 FOR NO KEY UPDATE`,
  ),
  'FOR UPDATE': named(`SELECT ${RESOURCE_COLUMNS}, r.password_hash, r.user_name_ci FROM resources r WHERE r.tenant_id = $1 AND r.resource_type = $2 AND r.id = $3 FOR UPDATE`),
} as const

const PASSWORD_HASH = named(`SELECT password_hash FROM resources WHERE tenant_id = $1 AND resource_type = $2 AND id = $3`)

const LIST_MEMBERS = named(`
  SELECT m.group_id, m.member_id, m.member_type, COALESCE(NULLIF(x.data ->> 'displayName', ''), x.data ->> 'userName') AS display
  FROM group_members m JOIN resources x ON x.tenant_id = m.tenant_id AND x.id = m.member_id
  WHERE m.tenant_id = $1 AND m.group_id = ANY($2::text[])
  ORDER BY m.group_id, m.member_id`)

/**
 * The audit event's INSERT as a data-modifying CTE of a write's statement, its values from `$first` on
 * (auditEventValues' order): the event commits with the write, one round trip fewer.
 */
const auditInsertCte = (first: number) => {
  const p = (k: number) => `$${first + k}`
  return `audit AS (INSERT INTO audit_events (${AUDIT_EVENT_COLUMNS}) VALUES (${p(0)}, ${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}, ${p(8)}::jsonb))`
}

/** `WITH a, b UPDATE …`, or the UPDATE alone. */
const withCtes = (ctes: readonly string[], statement: string) => (ctes.length > 0 ? `WITH ${ctes.join(', ')} ${statement}` : statement)

/**
 * update()'s write of data (and hash): $1–$8 as below; with `emails`, the emails' rows replaced by $9 in
 * the same statement (both CTEs read the statement's snapshot, so the DELETE removes only the rows that
 * were there before); with `audit`, the event inserted too (values after the others).
 */
const UPDATE_RESOURCE = new Map(
  [false, true].flatMap((emails) =>
    [false, true].map((audit) => {
      const ctes = [
        ...(emails
          ? [
              `dropped AS (DELETE FROM resource_emails WHERE tenant_id = $7 AND resource_id = $8)`,
              `added AS (INSERT INTO resource_emails (tenant_id, resource_id, value_ci) SELECT $7, $8, unnest($9::text[]))`,
            ]
          : []),
        ...(audit ? [auditInsertCte(emails ? 10 : 9)] : []),
      ]
      const update = `UPDATE resources SET data = $1::jsonb, version = version + 1, last_modified = $2, user_name_ci = $3, external_id = $4, display_name_ci = $5, password_hash = $6
        WHERE tenant_id = $7 AND id = $8`
      return [`${emails}/${audit}`, named(withCtes(ctes, update))] as const
    }),
  ),
)

/** A new version with the same data and hash (membership changed), with the audit event's INSERT when `audit`. */
const TOUCH_RESOURCE = new Map(
  [false, true].map((audit) => [audit, named(withCtes(audit ? [auditInsertCte(4)] : [], `UPDATE resources SET version = version + 1, last_modified = $1 WHERE tenant_id = $2 AND id = $3`))] as const),
)

/**
 * delete()'s lock of the groups the resource is in, before its own row: the order update() takes them in
 * (the group's row, then the member's through the foreign key check of an added membership), so a PUT of
 * a group racing the delete of one of its members waits instead of deadlocking. Ordered by id, so two
 * deletes agree too.
 */
const LOCK_GROUPS_OF = named(
  `SELECT 1 FROM resources WHERE tenant_id = $1 AND id IN (SELECT group_id FROM group_members WHERE tenant_id = $1 AND member_id = $2) ORDER BY id FOR NO KEY UPDATE`,
)

/**
 * delete()'s write, once the rows are locked and the version checked: a group that loses a member has a
 * new representation, so its version moves; the resource goes, and its resource_emails and group_members
 * rows (as group and as member) with it by ON DELETE CASCADE; with `audit`, the event is inserted.
 */
const DELETE_RESOURCE = new Map(
  [false, true].map((audit) => [
    audit,
    named(
      withCtes(
        [
          `bumped AS (UPDATE resources SET version = version + 1 WHERE tenant_id = $1 AND id IN (SELECT group_id FROM group_members WHERE tenant_id = $1 AND member_id = $2))`,
          ...(audit ? [auditInsertCte(3)] : []),
        ],
        `DELETE FROM resources WHERE tenant_id = $1 AND id = $2`,
      ),
    ),
  ] as const),
)

/**
 * An add step ($3 the ids): the ids that exist in the tenant, with their type and whether this statement
 * made them members. Users and Groups other than the group itself are added (ON CONFLICT: already members);
 * memberTypesOf then refuses the step if any id could not be, and the refusal rolls the transaction back.
 */
const ADD_MEMBERS = named(`
  WITH found AS (SELECT r.id, r.resource_type FROM resources r WHERE r.tenant_id = $1 AND r.id = ANY($3::text[])),
  added AS (
    INSERT INTO group_members (tenant_id, group_id, member_id, member_type)
    SELECT $1, $2, f.id, f.resource_type FROM found f WHERE f.resource_type IN ('User', 'Group') AND f.id <> $2
    ON CONFLICT (tenant_id, group_id, member_id) DO NOTHING
    RETURNING member_id
  )
  SELECT f.id, f.resource_type, EXISTS (SELECT 1 FROM added a WHERE a.member_id = f.id) AS added FROM found f`)

const REMOVE_MEMBERS = named(`DELETE FROM group_members WHERE tenant_id = $1 AND group_id = $2 AND member_id = ANY($3::text[])`)

/**
 * A replace step ($3 the ids): as ADD_MEMBERS, and the members not in the list removed. The DELETE and the
 * INSERT touch different rows (the INSERT's conflicts are the members that stay), so their order within
 * the statement does not matter; `changed` counts both.
 */
const REPLACE_MEMBERS = named(`
  WITH found AS (SELECT r.id, r.resource_type FROM resources r WHERE r.tenant_id = $1 AND r.id = ANY($3::text[])),
  removed AS (DELETE FROM group_members WHERE tenant_id = $1 AND group_id = $2 AND member_id <> ALL($3::text[]) RETURNING 1),
  added AS (
    INSERT INTO group_members (tenant_id, group_id, member_id, member_type)
    SELECT $1, $2, f.id, f.resource_type FROM found f WHERE f.resource_type IN ('User', 'Group') AND f.id <> $2
    ON CONFLICT (tenant_id, group_id, member_id) DO NOTHING
    RETURNING 1
  )
  SELECT f.id, f.resource_type, ((SELECT COUNT(*) FROM removed) + (SELECT COUNT(*) FROM added)) > 0 AS changed FROM found f
  UNION ALL
  SELECT NULL, NULL, ((SELECT COUNT(*) FROM removed) + (SELECT COUNT(*) FROM added)) > 0`)

/**
 * The filtered and sorted statements query() builds: one text per shape (the IdPs send a handful: userName,
 * externalId, displayName or member eq), at most this many named per process.
 */
const MAX_NAMED_QUERIES = 200

/**
 * Whether every comparison of the filter is eq or ne (or a presence test): then a named statement may
 * run on a generic plan, which cannot see the values, and lose nothing. Equality on an indexed column is
 * estimated from its number of distinct values whatever the value. Patterns and ranges (co, sw, ew, gt…)
 * are estimated from the value: a generic plan guesses. Measured at 100,000 users: once forced to its
 * generic plan, the count of `emails.value co "r1234"` (11 matches) hash-joined every user's row of
 * resources_created against the trigram hits, 29 ms against 0.17 ms. Those statements stay unnamed, so
 * PostgreSQL plans each with its values, as before.
 */
function comparesByEquality(node: ResolvedFilterNode): boolean {
  switch (node.kind) {
    case 'compare':
      return node.op === 'eq' || node.op === 'ne'
    case 'present':
      return true
    case 'and':
    case 'or':
      return comparesByEquality(node.left) && comparesByEquality(node.right)
    case 'not':
      return comparesByEquality(node.operand)
    case 'valuePath':
      return comparesByEquality(node.filter)
    default:
      return node satisfies never
  }
}

const MAX_ATTEMPTS = 5
/** deadlock_detected and serialization_failure: the transaction was rolled back whole and may run again. */
const isRetryable = (e: unknown) => e instanceof DatabaseError && (e.code === '40P01' || e.code === '40001')

type Client = Pick<PoolClient, 'query'>

/**
 * Runs `write`, a single statement that is its own transaction, again when PostgreSQL aborted it as a
 * deadlock victim (rolled back whole, so nothing of it stays), up to MAX_ATTEMPTS times as transaction().
 */
async function retryingAborts<T>(write: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write()
    } catch (e) {
      if (!(isRetryable(e) && attempt < MAX_ATTEMPTS)) throw e
    }
  }
}

class PostgresResourceStore implements ResourceStore {
  private readonly queries = new StatementNames(MAX_NAMED_QUERIES)

  constructor(private readonly pool: Pool) {}

  async create(tenant: string, input: NewResource): Promise<StoredResource> {
    const json = JSON.stringify(input.data)
    const created = createdFrom(input, json)
    if ((input.memberIds ?? []).length === 0 && !input.audit) {
      // One statement, its own transaction: no BEGIN/COMMIT round trips. Even so it can be a deadlock
      // victim (see transaction()): its trigger's counter row may be held by a transaction of a backend on
      // the same shard that waits for this statement's uncommitted id or userName. Aborted, the statement
      // left nothing behind and runs again; unretried, that create would be a 500.
      await withConstraintErrors(() => retryingAborts(() => this.insertNow(this.pool, tenant, input, json)), input.data)
    } else {
      await this.transaction(async (c) => {
        await withConstraintErrors(() => this.insertNow(c, tenant, input, json), input.data)
        await writeAuditEvent(c, tenant, input.audit, { after: created })
      })
    }
    return created
  }

  /**
   * Runs of inputs without members are written by one INSERT each (INSERT_RESOURCES): a Bulk of 100 users
   * is then BEGIN, two INSERTs and COMMIT instead of four statements per user. Only the inputs the INSERT
   * skipped (a taken id or userName) are written again, one at a time under a savepoint, to fail alone with
   * the error a single create gives. They are tried right after their run: the run's later inputs hold other
   * ids, and one can have taken a skipped input's userName only if that input's id was taken already, which
   * its resources_pkey (the table's first index) reports first, as it would have one at a time. Inputs with
   * members, or whose text jsonb may refuse (which fails a whole statement), go one at a time. The events of
   * the created inputs are inserted together at the end; hooks run in input order, each once its input is
   * known to be created.
   */
  async createMany(tenant: string, inputs: readonly NewResource[]): Promise<(StoredResource | ScimError)[]> {
    if (inputs.length === 0) return []
    const texts = inputs.map((input) => JSON.stringify(input.data))
    return this.transaction(async (c) => {
      const results: (StoredResource | ScimError)[] = []
      const events: AuditEvent[] = []
      const created = (k: number) => {
        const resource = createdFrom(inputs[k]!, texts[k]!)
        // Outside any savepoint's catch: whatever the hook throws, even a ScimError, rolls back the whole
        // call (ports.ts createMany).
        const event = auditEventOf(inputs[k]!.audit, tenant, { after: resource })
        if (event) events.push(event)
        results[k] = resource
      }
      const alone = async (k: number) => {
        const outcome = await this.createAlone(c, tenant, inputs[k]!, texts[k]!)
        if (outcome) results[k] = outcome
        else created(k)
      }
      let run: number[] = []
      let runIds = new Set<string>()
      const flush = async () => {
        if (run.length === 0) return
        const written = await this.insertRun(c, tenant, run.map((k) => inputs[k]!), run.map((k) => texts[k]!))
        for (const k of run) {
          if (written.has(inputs[k]!.id)) created(k)
          else await alone(k)
        }
        run = []
        runIds = new Set()
      }
      for (let k = 0; k < inputs.length; k++) {
        const input = inputs[k]!
        if ((input.memberIds ?? []).length > 0 || mayBeRefusedByJsonb(texts[k]!) || input.id.includes('\u0000')) {
          await flush()
          await alone(k)
          continue
        }
        if (runIds.has(input.id)) await flush()
        run.push(k)
        runIds.add(input.id)
      }
      await flush()
      await insertAuditEventsWith(c, events)
      return results
    })
  }

  async get(tenant: string, resourceType: string, id: string, options: GetOptions = {}): Promise<StoredResourceWithGroups | undefined> {
    if (!options.groups) {
      const { rows } = await this.pool.query<ResourceRow>(bound(SELECT_RESOURCE, [tenant, resourceType, id]))
      return rows[0] ? toStored(rows[0]) : undefined
    }
    const { rows } = await this.pool.query<ResourceRow & { groups: GroupCell[] | null }>(bound(SELECT_RESOURCE_WITH_GROUPS, [tenant, resourceType, id]))
    const row = rows[0]
    if (!row) return undefined
    return { ...toStored(row), groups: (row.groups ?? []).map(([groupId, indirect, display]) => groupRefOf(groupId, indirect, display)) }
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
      const json = JSON.stringify(change.data)
      const data = JSON.parse(json) as ScimObject
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
      // With new data, the text just written goes along: the response is written around it (render-json.ts)
      // instead of projecting and serialising the object, 1.8 µs against 8.3 µs for a 300-byte user.
      const updated: StoredResource = dataChanged
        ? { id, resourceType: stored.resourceType, json, data, version: row.version + 1, created: stored.created, lastModified: options.now }
        : { ...stored, version: row.version + 1, lastModified: options.now }
      // The hook's `after`: with withMembers, the members as they are now (read again only when they changed).
      const after = async (): Promise<CurrentResource> =>
        options.withMembers ? { ...updated, members: membersChanged ? ((await this.membersOf(c, tenant, [id])).get(id) ?? []) : (current.members ?? []) } : updated
      if (dataChanged || hashChanged) {
        const indexed = indexedValuesOf(data)
        const emails = dataChanged && !sameItems(indexed.emails, indexedValuesOf(stored.data).emails) ? indexed.emails : undefined
        // The hook may run before the write only when nothing can refuse the write (ports.ts: a refused
        // write never calls it): the userName's unique index cannot fire when the userName stays, and text
        // jsonb cannot hold is the other refusal. Then the event goes in with the UPDATE.
        const refusable = indexed.userNameCi !== row.user_name_ci || mayBeRefusedByJsonb(json)
        const event = !refusable && options.audit ? auditEventOf(options.audit, tenant, { before: current, after: await after() }) : undefined
        const statement = UPDATE_RESOURCE.get(`${emails !== undefined}/${event !== undefined}`)!
        const values = [json, options.now, indexed.userNameCi, indexed.externalId, indexed.displayNameCi, hash, tenant, id, ...(emails ? [emails] : []), ...(event ? auditEventValues(event) : [])]
        await withConstraintErrors(() => withAuditErrors(() => c.query(bound(statement, values)), event), data)
        if (refusable && options.audit) await writeAuditEvent(c, tenant, options.audit, { before: current, after: await after() })
      } else {
        // Only membership changed: nothing can refuse a new version number.
        const event = options.audit ? auditEventOf(options.audit, tenant, { before: current, after: await after() }) : undefined
        const values = [options.now, tenant, id, ...(event ? auditEventValues(event) : [])]
        await withAuditErrors(() => c.query(bound(TOUCH_RESOURCE.get(event !== undefined)!, values)), event)
      }
      return updated
    })
  }

  async delete(tenant: string, resourceType: string, id: string, options: DeleteOptions = {}): Promise<void> {
    await this.transaction(async (c) => {
      await c.query(bound(LOCK_GROUPS_OF, [tenant, id]))
      const row = await this.loadForWrite(c, tenant, resourceType, id, options.ifMatch, 'FOR UPDATE')
      // With both locks held and the version checked, nothing refuses the delete: its event goes with it.
      const event = auditEventOf(options.audit, tenant, { before: toStored(row) })
      await withAuditErrors(() => c.query(bound(DELETE_RESOURCE.get(event !== undefined)!, [tenant, id, ...(event ? auditEventValues(event) : [])])), event)
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
    // Named statements may run on generic plans (see comparesByEquality). A cursor adds a range on the
    // sort key: with a filter, which index serves the page then depends on where the position is, so only
    // unfiltered cursor pages are named.
    const nameable = query.filter ? !query.after && comparesByEquality(query.filter) : true
    const statement = (text: string, values: unknown[]): QueryConfig => (nameable ? this.queries.query(text, values) : { text, values })
    // The listSql of a cursor page with its total carries no groups: listGroupsOf reads them then.
    const toResult = (row: PageRow): StoredResourceWithGroups =>
      row.groups === undefined ? toStored(row) : { ...toStored(row), groups: (row.groups ?? []).map(([groupId, indirect, display]) => groupRefOf(groupId, indirect, display)) }
    const page = (rows: readonly PageRow[], total: { totalResults?: number }): QueryResult => {
      if (rows.length <= limit) return { ...total, resources: rows.map(toResult) }
      const last = rows[limit - 1]!
      return { ...total, resources: rows.slice(0, limit).map(toResult), next: { key: sortKeyOf(last), id: last.id } }
    }
    const count = async () => (await this.pool.query<{ total: number }>(statement(countSql, params))).rows[0]?.total ?? 0
    return withQueryErrors(async () => {
      if (limit === 0) return query.withTotal === false ? { resources: [] } : { totalResults: await count(), resources: [] }
      const values = [...pageParams, limit + 1, offset]
      if (query.withTotal === false) {
        const { rows } = await this.pool.query<PageRow>(statement(pageSql, values))
        return page(rows, {})
      }
      if (query.after) {
        // Past the end of the result the page is empty; the count still comes back, on a row of NULLs.
        const { rows } = await this.pool.query<{ total: number } & { [K in keyof PageRow]: PageRow[K] | null }>(statement(listSql, values))
        const found = rows.filter((row): row is { total: number } & PageRow => row.id !== null)
        return page(found, { totalResults: rows[0]?.total ?? 0 })
      }
      // A startIndex page is read alone first. It reads one row more than asked (LIMIT count + 1): when fewer
      // come back it is the last page, and the matches are the OFFSET's plus its rows (none, for an empty
      // first page). Only a full page, or an empty one after OFFSET rows that may not exist, needs the count,
      // in a statement (and so a snapshot) of its own. The IdPs' `userName eq` before a create, and any short
      // list, is then one statement that searches once; an unindexed filter is read once, not twice.
      // Measured at 100,000 users, the backends' CPU per query with 8 callers: `userName sw` (11 matches)
      // 0.33 ms against 0.48 with listSql (unnamed, so planning the count's search costs about what running
      // it does), `userName co "er1234"` 3.7 against 6.5 ms. The count behind a CASE in the page's statement
      // (a lazy InitPlan, run for a full page only) cost more than the page alone, also named: 0.13 against
      // 0.11 ms for `userName eq`. COUNT(*) OVER () in the page keeps every matching row, data included,
      // before the LIMIT: 256 ms against 25 ms for a full unfiltered page, whose count reads an index entry
      // of every resource of the type.
      const { rows } = await this.pool.query<PageRow>(statement(pageSql, values))
      const told = rows.length <= limit && (rows.length > 0 || offset === 0) ? offset + rows.length : undefined
      return page(rows, { totalResults: told ?? (await count()) })
    })
  }

  async listMembers(tenant: string, groupIds: readonly string[]): Promise<Map<string, MemberRef[]>> {
    return this.membersOf(this.pool, tenant, groupIds)
  }

  async listGroupsOf(tenant: string, userIds: readonly string[]): Promise<Map<string, GroupRef[]>> {
    const result = new Map<string, GroupRef[]>(userIds.map((id) => [id, []]))
    if (userIds.length === 0) return result
    const { rows } = await this.pool.query<{ member_id: string; group_id: string; indirect: number; display: string | null }>(bound(LIST_GROUPS_OF, [tenant, userIds]))
    for (const row of rows) result.get(row.member_id)?.push(groupRefOf(row.group_id, row.indirect, row.display))
    return result
  }

  async getPasswordHash(tenant: string, resourceType: string, id: string): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ password_hash: string | null }>(bound(PASSWORD_HASH, [tenant, resourceType, id]))
    return rows[0]?.password_hash ?? undefined
  }

  /**
   * Runs `work` in one transaction on one pooled connection. The writes take resource row locks in one
   * order (groups before members). Writes that insert or delete resources also lock a counter row per
   * (tenant, type) until they commit (migration 3's triggers, one shard per backend), in no order that
   * agrees with the rest: two transactions of backends on one shard deadlock when one writes Users then
   * Groups and the other Groups then Users, or when one waits for an id or userName the other has inserted
   * but not committed. Should PostgreSQL pick this transaction as a deadlock victim, it was rolled back
   * whole and is run again, up to MAX_ATTEMPTS times, after which the error goes up (a 500). Every write
   * that can fire those triggers runs here, in PostgresTenantStore's inTransaction (deleteTenant), or
   * through retryingAborts (create's single statement).
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

  private async insertNow(c: Client, tenant: string, input: NewResource, json: string): Promise<void> {
    const indexed = indexedValuesOf(input.data)
    await c.query(
      bound(INSERT_RESOURCE, [
        tenant,
        input.resourceType,
        input.id,
        json,
        input.now,
        indexed.userNameCi,
        indexed.externalId,
        indexed.displayNameCi,
        input.passwordHash ?? null,
        indexed.emails,
      ]),
    )
    if (input.memberIds && input.memberIds.length > 0) await this.applyMemberSteps(c, tenant, input.id, [{ op: 'add', ids: input.memberIds }])
  }

  /**
   * One input of createMany written on its own under a savepoint: undefined when it was created, else
   * the ScimError that refused it (rolled back to the savepoint, so it leaves nothing behind).
   */
  private async createAlone(c: Client, tenant: string, input: NewResource, json: string): Promise<ScimError | undefined> {
    await c.query('SAVEPOINT create_one')
    try {
      await withConstraintErrors(() => this.insertNow(c, tenant, input, json), input.data)
      await c.query('RELEASE SAVEPOINT create_one')
      return undefined
    } catch (e) {
      if (!isScimError(e)) throw e
      await c.query('ROLLBACK TO SAVEPOINT create_one')
      await c.query('RELEASE SAVEPOINT create_one')
      return e
    }
  }

  /** Writes a run of inputs without members (distinct ids) with INSERT_RESOURCES; returns the ids written. */
  private async insertRun(c: Client, tenant: string, inputs: readonly NewResource[], texts: readonly string[]): Promise<Set<string>> {
    const columns: unknown[][] = Array.from({ length: 8 }, () => [])
    const emailOwners: string[] = []
    const emailValues: string[] = []
    inputs.forEach((input, k) => {
      const indexed = indexedValuesOf(input.data)
      const row = [input.resourceType, input.id, texts[k], input.now, indexed.userNameCi, indexed.externalId, indexed.displayNameCi, input.passwordHash ?? null]
      row.forEach((value, i) => columns[i]!.push(value))
      for (const email of indexed.emails) {
        emailOwners.push(input.id)
        emailValues.push(email)
      }
    })
    const { rows } = await c.query<{ id: string }>(bound(INSERT_RESOURCES, [tenant, ...columns, emailOwners, emailValues]))
    return new Set(rows.map((r) => r.id))
  }

  private async loadForWrite(c: Client, tenant: string, resourceType: string, id: string, ifMatch: number | undefined, lock: keyof typeof SELECT_FOR_WRITE) {
    const { rows } = await c.query<ResourceRowWithSecret>(bound(SELECT_FOR_WRITE[lock], [tenant, resourceType, id]))
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
    const { rows } = await c.query<{ group_id: string; member_id: string; member_type: 'User' | 'Group'; display: string | null }>(bound(LIST_MEMBERS, [tenant, groupIds]))
    for (const row of rows) {
      const ref: MemberRef = { value: row.member_id, type: row.member_type, ...(row.display !== null ? { display: row.display } : {}) }
      result.get(row.group_id)?.push(ref)
    }
    return result
  }

  /**
   * Applies the steps in order, one statement per step rather than per member; returns whether
   * membership changed. Runs inside the transaction that holds the group's row lock, so concurrent
   * PATCHes of one group apply one after the other. A step with an id that cannot be a member throws
   * after its statement ran, and the throw rolls the transaction (or createMany's savepoint) back.
   */
  private async applyMemberSteps(c: Client, tenant: string, groupId: string, steps: readonly MemberStep[]): Promise<boolean> {
    let changed = false
    for (const step of steps) {
      switch (step.op) {
        case 'add': {
          const ids = [...new Set(step.ids)]
          if (ids.length === 0) break
          const { rows } = await c.query<{ id: string; resource_type: string; added: boolean }>(bound(ADD_MEMBERS, [tenant, groupId, ids]))
          memberTypesOf(groupId, ids, rows)
          changed = rows.some((r) => r.added) || changed
          break
        }
        case 'remove': {
          if (step.ids.length === 0) break
          const { rowCount } = await c.query(bound(REMOVE_MEMBERS, [tenant, groupId, [...step.ids]]))
          changed = (rowCount ?? 0) > 0 || changed
          break
        }
        case 'replace': {
          const ids = [...new Set(step.ids)]
          const { rows } = await c.query<{ id: string | null; resource_type: string | null; changed: boolean }>(bound(REPLACE_MEMBERS, [tenant, groupId, ids]))
          memberTypesOf(groupId, ids, rows.filter((r): r is { id: string; resource_type: string; changed: boolean } => r.id !== null))
          changed = rows.some((r) => r.changed) || changed
          break
        }
        default:
          step satisfies never
      }
    }
    return changed
  }
}

/**
 * Checks the ids of a member step against the rows found for them in the tenant: the first id (in the
 * order given) that cannot be a member fails with 400 invalidValue, as SQLite's check of one id at a time.
 */
function memberTypesOf(groupId: string, ids: readonly string[], found: readonly { id: string; resource_type: string }[]): void {
  const types = new Map(found.map((r) => [r.id, r.resource_type]))
  for (const id of ids) {
    if (id === groupId) throw invalidValue(`Group ${groupId} cannot be a member of itself`)
    const type = types.get(id)
    if (type === undefined) throw invalidValue(`Member "${id}" does not exist`)
    if (type !== 'User' && type !== 'Group') throw invalidValue(`Member "${id}" is a ${type}; members are Users or Groups`)
  }
}

/** Whether two lists hold the same strings (each list distinct), in any order. */
function sameItems(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false
  const set = new Set(b)
  return a.every((x) => set.has(x))
}

/** Inserts the event `hook` builds for a change, if any, through the change's transaction. */
async function writeAuditEvent(c: Client, tenant: string, hook: AuditHook | undefined, change: { before?: CurrentResource; after?: CurrentResource }): Promise<void> {
  const event = auditEventOf(hook, tenant, change)
  if (event) await insertAuditEventWith(c, event)
}

/**
 * Runs a write that carries `event`'s INSERT, turning a taken event id into the 409 insertAuditEventWith
 * raises for it (a ScimError, which the constraint translation below then leaves alone).
 */
async function withAuditErrors<T>(write: () => Promise<T>, event: AuditEvent | undefined): Promise<T> {
  try {
    return await write()
  } catch (e) {
    if (event && e instanceof DatabaseError && e.code === '23505' && e.constraint === 'audit_events_pkey') throw uniqueness(`An audit event with id "${event.id}" already exists`)
    throw e
  }
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

const INSERT_TOKEN = named(`INSERT INTO tokens (${TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`)
/** Every SCIM request looks its token up: no cache, so a revocation by another instance holds from its next request. */
const FIND_TOKEN = named(`SELECT ${TOKEN_COLUMNS} FROM tokens WHERE id = $1`)
const LIST_TOKENS = named(`SELECT ${TOKEN_COLUMNS} FROM tokens WHERE tenant_id = $1 ORDER BY created_at, id`)
const REVOKE_TOKEN = named(`UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND tenant_id = $3 AND revoked_at IS NULL`)
const TOUCH_TOKEN = named(`UPDATE tokens SET last_used_at = $1 WHERE id = $2`)
/**
 * The lock insertFirstToken holds for its check and insert. Under READ COMMITTED two transactions could
 * both find no token and both insert; holding this lock, the second's NOT EXISTS runs after the first has
 * committed and sees its row. Two-key form, so it never meets the migrations' one-key lock (PostgreSQL
 * keeps the two key spaces apart); the second key is the schema's, so deployments in other schemas of the
 * database do not queue on it. 0x526f7374 is "Rost" in ASCII.
 */
const LOCK_FIRST_TOKEN = `SELECT pg_advisory_xact_lock(${0x526f7374}, hashtext(current_schema()))`
const INSERT_FIRST_TOKEN = `INSERT INTO tokens (${TOKEN_COLUMNS}) SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 WHERE NOT EXISTS (SELECT 1 FROM tokens)`

class PostgresTokenStore implements TokenStore {
  constructor(private readonly pool: Pool) {}

  async insertToken(t: TokenRecord): Promise<void> {
    try {
      await this.pool.query(
        bound(INSERT_TOKEN, [t.id, t.tenant, t.name, t.prefix, t.hash, t.createdAt, t.lastUsedAt ?? null, t.expiresAt ?? null, t.revokedAt ?? null]),
      )
    } catch (e) {
      if (e instanceof DatabaseError && e.code === '23505' && e.constraint === 'tokens_pkey') throw uniqueness('A token with this id already exists')
      throw translateDriverError(e)
    }
  }

  async findToken(id: string): Promise<TokenRecord | undefined> {
    const row = (await this.rows<TokenRow>(bound(FIND_TOKEN, [id])))[0]
    return row ? toToken(row) : undefined
  }

  async listTokens(tenant: string): Promise<TokenRecord[]> {
    return (await this.rows<TokenRow>(bound(LIST_TOKENS, [tenant]))).map(toToken)
  }

  async revokeToken(tenant: string, id: string, at: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(bound(REVOKE_TOKEN, [at, id, tenant]))
    return (rowCount ?? 0) > 0
  }

  async touchToken(id: string, at: string): Promise<void> {
    await this.pool.query(bound(TOUCH_TOKEN, [at, id]))
  }

  /** Runs once per start: plain statements, not named ones (statements.ts) kept on every connection. */
  async insertFirstToken(t: TokenRecord): Promise<boolean> {
    const client = await this.pool.connect()
    let broken: Error | undefined
    try {
      await client.query('BEGIN')
      await client.query(LOCK_FIRST_TOKEN)
      const { rowCount } = await client.query(INSERT_FIRST_TOKEN, [t.id, t.tenant, t.name, t.prefix, t.hash, t.createdAt, t.lastUsedAt ?? null, t.expiresAt ?? null, t.revokedAt ?? null])
      await client.query('COMMIT')
      return rowCount === 1
    } catch (e) {
      await client.query('ROLLBACK').catch((err: Error) => (broken = err))
      throw translateDriverError(e)
    } finally {
      // A connection that cannot even roll back is dropped, not handed to the next caller.
      client.release(broken)
    }
  }

  private async rows<R extends QueryResultRow>(query: QueryConfig): Promise<R[]> {
    return (await this.pool.query<R>(query)).rows
  }
}
