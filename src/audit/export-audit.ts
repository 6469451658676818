import { Readable, pipeline } from 'node:stream'
import { stringify } from 'csv-stringify'
import type { AuditEvent } from './audit-event.js'

export type AuditExportFormat = 'ndjson' | 'csv'

/** CSV columns, in order: the event flattened, with `changes` as one JSON column. */
export const AUDIT_CSV_COLUMNS = [
  'id',
  'time',
  'tenant',
  'operation',
  'status',
  'scimType',
  'detail',
  'actorType',
  'actorId',
  'actorName',
  'clientIp',
  'userAgent',
  'clientProduct',
  'requestId',
  'method',
  'path',
  'resourceType',
  'resourceId',
  'latencyMs',
  'changes',
] as const

export type AuditCsvColumn = (typeof AUDIT_CSV_COLUMNS)[number]

/**
 * An export as a byte stream for an HTTP response or a file. Events are pulled from `events` only as
 * the consumer reads (backpressure), so a year of audit log streams in constant memory, and a client
 * that disconnects stops the read of the store.
 */
export function exportAudit(events: AsyncIterable<AuditEvent>, format: AuditExportFormat): Readable {
  return format === 'csv' ? formatCsv(events) : Readable.from(formatNdjson(events), { objectMode: false })
}

/** One JSON document per line (https://github.com/ndjson/ndjson-spec), each line ending in "\n". */
export async function* formatNdjson(events: AsyncIterable<AuditEvent>): AsyncGenerator<string> {
  // JSON.stringify escapes \n and \r; U+2028/U+2029 it leaves raw, and some line readers split on them,
  // so they are escaped too (still the same JSON). A line never splits inside an event.
  for await (const event of events) yield `${JSON.stringify(event).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029')}\n`
}

/**
 * RFC 4180 CSV (CRLF line ends, a header row, fields quoted where needed) written by csv-stringify.
 * `changes` is one column holding the JSON array. Text fields that a spreadsheet would run as a
 * formula (=, +, -, @, tab, CR first) get a leading apostrophe: user agents, paths, userNames and
 * details come from callers (OWASP "CSV Injection").
 */
export function formatCsv(events: AsyncIterable<AuditEvent>): Readable {
  const rows = Readable.from(mapRows(events), { objectMode: true })
  const stringifier = stringify({ header: true, columns: [...AUDIT_CSV_COLUMNS], record_delimiter: 'windows' })
  // pipeline, not pipe: an error on either side destroys both, so the consumer sees it and the source stops.
  return pipeline(rows, stringifier, () => {})
}

async function* mapRows(events: AsyncIterable<AuditEvent>): AsyncGenerator<Record<AuditCsvColumn, string | number>> {
  for await (const event of events) yield toCsvRow(event)
}

/** One event as a CSV row, keyed by AUDIT_CSV_COLUMNS. */
export function toCsvRow(e: AuditEvent): Record<AuditCsvColumn, string | number> {
  return {
    id: text(e.id),
    time: text(e.time),
    tenant: text(e.tenant),
    operation: text(e.operation),
    status: e.outcome.status,
    scimType: text(e.outcome.scimType),
    detail: text(e.outcome.detail),
    actorType: text(e.actor.type),
    actorId: text(e.actor.id),
    actorName: text(e.actor.name),
    clientIp: text(e.client.ip),
    userAgent: text(e.client.userAgent),
    clientProduct: text(e.client.product),
    requestId: text(e.request.id),
    method: text(e.request.method),
    path: text(e.request.path),
    resourceType: text(e.resource.type),
    resourceId: text(e.resource.id),
    latencyMs: e.latencyMs,
    changes: JSON.stringify(e.changes),
  }
}

const FORMULA_START = /^[=+\-@\t\r]/

function text(value: string | undefined): string {
  if (value === undefined) return ''
  return FORMULA_START.test(value) ? `'${value}` : value
}
