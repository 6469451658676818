import { DatabaseError, type Pool, type PoolClient } from 'pg'
import { uniqueness } from '../../scim/index.js'
import type { AuditEvent, AuditPage, AuditQuery, AuditStore, AuditSummary } from '../ports.js'
import { AUDIT_EVENT_COLUMNS, auditEventValues, auditPageOf, compileAuditQuery } from '../sql/audit-events.js'
import { postgresDialect } from '../sql/sql-dialect.js'
import { bound, named } from './statements.js'

const INSERT_AUDIT_EVENT = named(`INSERT INTO audit_events (${AUDIT_EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)`)

/**
 * Several events in one statement, one array per column (auditEventValues' order). ON CONFLICT DO NOTHING
 * and RETURNING tell which id was taken (by a stored event or an earlier one of the same statement)
 * without a failed statement, so the 409 names it as the one-event INSERT does.
 */
const INSERT_AUDIT_EVENTS = named(`
  INSERT INTO audit_events (${AUDIT_EVENT_COLUMNS})
  SELECT ${AUDIT_EVENT_COLUMNS}
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[], $9::jsonb[]) WITH ORDINALITY AS e(${AUDIT_EVENT_COLUMNS}, ord)
  ORDER BY ord
  ON CONFLICT DO NOTHING
  RETURNING id`)

/**
 * pruneAuditEvents' statement ($1 tenant, $2 before, $3 batch size): the oldest rows are found on
 * audit_events_time and deleted by ctid (a TID scan, no second index search); SKIP LOCKED lets two
 * instances pruning at once take different rows instead of queueing on the same ones. Exported for the
 * EXPLAIN test.
 */
export const PRUNE_AUDIT_EVENTS_SQL = `DELETE FROM audit_events WHERE ctid = ANY(ARRAY(
  SELECT ctid FROM audit_events WHERE tenant_id = $1 AND time < $2 ORDER BY time, id LIMIT $3 FOR UPDATE SKIP LOCKED
))`

/**
 * Inserts one audit event through `client`: the pool for a standalone event, or the connection of a
 * resource write's transaction (ports.ts AuditHook). A taken id is 409 uniqueness, raised as a ScimError
 * so that the resource store's own translation of constraint errors (a taken resource id) never claims it.
 */
export async function insertAuditEventWith(client: Pick<PoolClient, 'query'>, event: AuditEvent): Promise<void> {
  try {
    await client.query(bound(INSERT_AUDIT_EVENT, auditEventValues(event)))
  } catch (e) {
    if (e instanceof DatabaseError && e.code === '23505' && e.constraint === 'audit_events_pkey') throw uniqueness(`An audit event with id "${event.id}" already exists`)
    throw e
  }
}

/**
 * Inserts events through a write's transaction (createMany's) in one statement. A taken id is 409
 * uniqueness naming the first such event, and the caller's transaction then rolls back, written events
 * included, as when the events were inserted one at a time.
 */
export async function insertAuditEventsWith(client: Pick<PoolClient, 'query'>, events: readonly AuditEvent[]): Promise<void> {
  if (events.length === 0) return
  if (events.length === 1) return insertAuditEventWith(client, events[0]!)
  const columns: unknown[][] = Array.from({ length: 9 }, () => [])
  for (const event of events) auditEventValues(event).forEach((value, i) => columns[i]!.push(value))
  const { rows } = await client.query<{ id: string }>(bound(INSERT_AUDIT_EVENTS, columns))
  if (rows.length === events.length) return
  const written = new Set(rows.map((r) => r.id))
  const seen = new Set<string>()
  for (const event of events) {
    if (!written.has(event.id) || seen.has(event.id)) throw uniqueness(`An audit event with id "${event.id}" already exists`)
    seen.add(event.id)
  }
}

export class PostgresAuditStore implements AuditStore {
  constructor(private readonly pool: Pool) {}

  async insertAuditEvent(event: AuditEvent): Promise<void> {
    await insertAuditEventWith(this.pool, event)
  }

  async queryAuditEvents(query: AuditQuery): Promise<AuditPage> {
    const { sql, params } = compileAuditQuery(query, postgresDialect)
    const { rows } = await this.pool.query<{ event: AuditEvent }>(sql, params)
    return auditPageOf(
      rows.map((r) => r.event),
      query.limit,
    )
  }

  /** Oldest first, a batch per call, each its own short transaction, so a prune of a year of events holds few row locks and never for long. */
  async pruneAuditEvents(tenant: string, before: string, batchSize: number): Promise<number> {
    const n = Math.trunc(batchSize)
    if (n < 1) return 0
    const { rowCount } = await this.pool.query(PRUNE_AUDIT_EVENTS_SQL, [tenant, before, n])
    return rowCount ?? 0
  }

  async summarizeAudit(tenant: string, since: string): Promise<AuditSummary> {
    // One statement: the counts and the last time come from one snapshot.
    const { rows } = await this.pool.query<{ events: number; failures: number; last: string | null }>(
      `SELECT c.events, c.failures, (SELECT time FROM audit_events WHERE tenant_id = $1 ORDER BY time DESC, id DESC LIMIT 1) AS last
       FROM (SELECT COUNT(*)::int AS events, (COUNT(*) FILTER (WHERE status >= 400))::int AS failures
             FROM audit_events WHERE tenant_id = $1 AND time >= $2) c`,
      [tenant, since],
    )
    const row = rows[0]
    return {
      events: row?.events ?? 0,
      failures: row?.failures ?? 0,
      ...(row?.last ? { lastActivity: row.last } : {}),
    }
  }
}
