import Database, { type Statement } from 'better-sqlite3'
import { uniqueness } from '../../scim/index.js'
import type { AuditEvent, AuditPage, AuditQuery, AuditStore, AuditSummary } from '../ports.js'
import { AUDIT_EVENT_COLUMNS, auditEventValues, auditPageOf, compileAuditQuery } from '../sql/audit-events.js'
import { sqliteDialect } from '../sql/sql-dialect.js'

/**
 * Prepares the one INSERT of an audit event, for the audit store and for the resource store, which runs it
 * inside its write's transaction (ports.ts AuditHook). A taken id is 409 uniqueness, raised as a ScimError
 * so that the resource store's own translation of constraint errors (a taken resource id) never claims it.
 */
export function prepareAuditEventInsert(db: Database.Database): (event: AuditEvent) => void {
  const insert = db.prepare(`INSERT INTO audit_events (${AUDIT_EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
  return (event) => {
    try {
      insert.run(...auditEventValues(event))
    } catch (e) {
      if (e instanceof Database.SqliteError && e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw uniqueness(`An audit event with id "${event.id}" already exists`)
      throw e
    }
  }
}

const MAX_CACHED_QUERIES = 64

export class SqliteAuditStore implements AuditStore {
  /** compileAuditQuery gives one text per combination of filters: few, so each is prepared once. */
  private readonly queries = new Map<string, Statement<unknown[], { event: string }>>()
  private readonly s
  private readonly tx

  constructor(private readonly db: Database.Database, private readonly insertEvent: (event: AuditEvent) => void) {
    this.s = {
      // Oldest first, a batch at a time: each call is one short write transaction, so a prune of a year of
      // events never keeps the (single) writer lock from SCIM writes for long.
      prune: db.prepare(
        `DELETE FROM audit_events WHERE rowid IN (
           SELECT rowid FROM audit_events WHERE tenant_id = ? AND time < ? ORDER BY time, id LIMIT ?
         )`,
      ),
      count: db.prepare<unknown[], { events: number; failures: number }>(
        `SELECT COUNT(*) AS events, COALESCE(SUM(status >= 400), 0) AS failures FROM audit_events WHERE tenant_id = ? AND time >= ?`,
      ),
      // The first entry of audit_events_time for the tenant: one index step, whatever the log's size.
      last: db.prepare<unknown[], { time: string }>(`SELECT time FROM audit_events WHERE tenant_id = ? ORDER BY time DESC, id DESC LIMIT 1`),
    }
    this.tx = {
      // One read transaction, so the counts and the last time come from one snapshot.
      summarize: db.transaction((tenant: string, since: string) => ({ counts: this.s.count.get(tenant, since), last: this.s.last.get(tenant) })),
    }
  }

  async insertAuditEvent(event: AuditEvent): Promise<void> {
    this.insertEvent(event)
  }

  async queryAuditEvents(query: AuditQuery): Promise<AuditPage> {
    const { sql, params } = compileAuditQuery(query, sqliteDialect)
    const rows = this.prepared(sql).all(...params)
    return auditPageOf(
      rows.map((r) => JSON.parse(r.event) as AuditEvent),
      query.limit,
    )
  }

  async pruneAuditEvents(tenant: string, before: string, batchSize: number): Promise<number> {
    const n = Math.trunc(batchSize)
    if (n < 1) return 0
    return this.s.prune.run(tenant, before, n).changes
  }

  async summarizeAudit(tenant: string, since: string): Promise<AuditSummary> {
    const { counts, last } = this.tx.summarize(tenant, since)
    return {
      events: counts?.events ?? 0,
      failures: counts?.failures ?? 0,
      ...(last?.time ? { lastActivity: last.time } : {}),
    }
  }

  private prepared(sql: string): Statement<unknown[], { event: string }> {
    let statement = this.queries.get(sql)
    if (!statement) {
      if (this.queries.size >= MAX_CACHED_QUERIES) this.queries.delete(this.queries.keys().next().value!)
      statement = this.db.prepare<unknown[], { event: string }>(sql)
      this.queries.set(sql, statement)
    }
    return statement
  }
}
