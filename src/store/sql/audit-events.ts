import type { AuditEvent, AuditHook, AuditQuery, CurrentResource } from '../ports.js'
import { jsonText } from './json-text.js'
import type { SqlDialect } from './sql-dialect.js'

/**
 * The audit_events table as both adapters write and read it: the columns a query filters or orders on,
 * copied out of the event, and the whole event as JSON (what a query returns).
 */
export const AUDIT_EVENT_COLUMNS = 'id, tenant_id, time, actor_id, operation, resource_type, resource_id, status, event'

/** The values of AUDIT_EVENT_COLUMNS for one event, in that order; the event itself as JSON text. */
export function auditEventValues(event: AuditEvent): unknown[] {
  return [
    event.id,
    event.tenant,
    event.time,
    event.actor.id ?? null,
    event.operation,
    event.resource.type ?? null,
    event.resource.id ?? null,
    event.outcome.status,
    jsonText(event),
  ]
}

/**
 * Calls a write's audit hook (ports.ts AuditHook) and returns the event to insert with the write, if any.
 * An event for another tenant than the write's is refused: it would put one organization's change in
 * another's log. The error rolls the write back, like any error of the hook.
 */
export function auditEventOf(
  hook: AuditHook | undefined,
  tenant: string,
  change: { readonly before?: CurrentResource; readonly after?: CurrentResource },
): AuditEvent | undefined {
  if (!hook) return undefined
  const event = hook(change)
  if (event && event.tenant !== tenant) throw new Error(`audit event ${event.id} names tenant "${event.tenant}" for a write in tenant "${tenant}"`)
  return event
}

/** What queryAuditEvents runs: `sql` with `params`, reading one row more than `limit` to know whether a next page exists. */
export interface CompiledAuditQuery {
  readonly sql: string
  readonly params: unknown[]
}

/**
 * Compiles an AuditQuery. Every filter is an equality or a range on a column of its own, so the indexes
 * that start with the tenant serve it: (tenant_id, time, id) for the time range and the keyset,
 * (tenant_id, resource_type, resource_id, time, id) and (tenant_id, actor_id, time, id) when those are
 * given, each also delivering the rows in ORDER BY order (no sort). operation and outcome are checked on
 * the rows the index search reaches. The keyset predicate is a row comparison, which both engines turn
 * into one index range (as compileKeysetAfter's for resources).
 *
 * @example
 * compileAuditQuery({ tenant: 't', actorId: 'k1', limit: 50 }, sqliteDialect)
 * // SELECT event FROM audit_events WHERE tenant_id = ? AND actor_id = ? ORDER BY time DESC, id DESC LIMIT ?
 * // params ['t', 'k1', 51]
 */
export function compileAuditQuery(query: AuditQuery, dialect: SqlDialect): CompiledAuditQuery {
  const params: unknown[] = []
  const param = (value: unknown) => {
    params.push(value)
    return dialect.placeholder(params.length)
  }
  const where = [`tenant_id = ${param(query.tenant)}`]
  if (query.resourceType !== undefined) where.push(`resource_type = ${param(query.resourceType)}`)
  if (query.resourceId !== undefined) where.push(`resource_id = ${param(query.resourceId)}`)
  if (query.actorId !== undefined) where.push(`actor_id = ${param(query.actorId)}`)
  if (query.operation !== undefined) where.push(`operation = ${param(query.operation)}`)
  if (query.outcome === 'success') where.push('status < 400')
  else if (query.outcome === 'failure') where.push('status >= 400')
  if (query.from !== undefined) where.push(`time >= ${param(query.from)}`)
  if (query.to !== undefined) where.push(`time < ${param(query.to)}`)
  if (query.after !== undefined) where.push(`(time, id) < (${param(query.after.time)}, ${param(query.after.id)})`)
  const limit = param(pageLimit(query.limit) + 1)
  return { sql: `SELECT event FROM audit_events WHERE ${where.join(' AND ')} ORDER BY time DESC, id DESC LIMIT ${limit}`, params }
}

/** A page holds at least one event: limit 0 could never give a next position. */
export const pageLimit = (limit: number) => Math.max(1, Math.trunc(limit))

/** The page and its next position, from the limit + 1 events a compiled query read. */
export function auditPageOf(events: readonly AuditEvent[], limit: number): { events: AuditEvent[]; next?: { time: string; id: string } } {
  const n = pageLimit(limit)
  if (events.length <= n) return { events: [...events] }
  const page = events.slice(0, n)
  const last = page[n - 1]!
  return { events: page, next: { time: last.time, id: last.id } }
}
