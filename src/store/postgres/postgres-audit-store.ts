import { DatabaseError, type Pool, type PoolClient } from 'pg'
import { uniqueness } from '../../scim/index.js'
import type { AuditEvent, AuditPage, AuditQuery, AuditStore, AuditSummary } from '../ports.js'
import { AUDIT_EVENT_COLUMNS, auditEventValues, auditPageOf, compileAuditQuery } from '../sql/audit-events.js'
import { postgresDialect } from '../sql/sql-dialect.js'

const INSERT_AUDIT_EVENT = `INSERT INTO audit_events (${AUDIT_EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)`

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
    await client.query(INSERT_AUDIT_EVENT, auditEventValues(event))
  } catch (e) {
    if (e instanceof DatabaseError && e.code === '23505' && e.constraint === 'audit_events_pkey') throw uniqueness(`An audit event with id "${event.id}" already exists`)
    throw e
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
