import type { FastifyInstance } from 'fastify'
import type { AuditExportQuery } from '../../../admin/admin-actions.js'
import type { AuditExportFormat } from '../../../audit/export-audit.js'
import type { AuditQuery } from '../../../store/ports.js'
import { invalidRequest } from '../../admin-error-handler.js'
import { adminAuditContextOf } from '../../plugins/admin-auth.js'
import { organizationOf, type AdminApiDeps } from './admin-api.js'

interface AuditFilterQuery {
  from?: string
  to?: string
  resourceType?: string
  resourceId?: string
  actorId?: string
  outcome?: 'success' | 'failure'
  operation?: string
}

const filterProperties = {
  from: { type: 'string', maxLength: 64 },
  to: { type: 'string', maxLength: 64 },
  resourceType: { type: 'string', maxLength: 100 },
  resourceId: { type: 'string', maxLength: 200 },
  actorId: { type: 'string', maxLength: 200 },
  outcome: { type: 'string', enum: ['success', 'failure'] },
  operation: { type: 'string', maxLength: 100 },
} as const

export const MAX_AUDIT_PAGE = 500

const EXPORT_TYPES: Record<AuditExportFormat, string> = {
  ndjson: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
}

/**
 * The audit log of an organization: queries (newest first, filtered by time range, resource, actor,
 * outcome and operation, paged by an opaque cursor) and exports (the same filters, NDJSON or CSV,
 * streamed as an attachment, and themselves recorded as an `audit.export` event).
 */
export function registerAuditRoutes(app: FastifyInstance, deps: AdminApiDeps): void {
  app.get<{ Params: { org: string }; Querystring: AuditFilterQuery & { limit?: number; cursor?: string } }>(
    '/organizations/:org/audit',
    {
      config: { adminAccess: { permission: 'audit:read' } },
      schema: {
        querystring: {
          type: 'object',
          properties: { ...filterProperties, limit: { type: 'integer', minimum: 1, maximum: MAX_AUDIT_PAGE }, cursor: { type: 'string', maxLength: 512 } },
        },
      },
    },
    async (request) => {
      const q = request.query
      const query: AuditQuery = {
        ...auditFilters(organizationOf(request).id, q),
        limit: q.limit ?? 100,
        ...(q.cursor !== undefined ? { after: decodeAuditCursor(q.cursor) } : {}),
      }
      const page = await deps.audit.queryAuditEvents(query)
      return { events: page.events, ...(page.next ? { nextCursor: encodeAuditCursor(page.next) } : {}) }
    },
  )

  app.get<{ Params: { org: string }; Querystring: AuditFilterQuery & { format?: AuditExportFormat } }>(
    '/organizations/:org/audit/export',
    {
      config: { adminAccess: { permission: 'audit:export' } },
      schema: { querystring: { type: 'object', properties: { ...filterProperties, format: { type: 'string', enum: ['ndjson', 'csv'] } } } },
    },
    async (request, reply) => {
      const org = organizationOf(request).id
      const format = request.query.format ?? 'ndjson'
      const stream = await deps.actions.exportAuditLog(adminAuditContextOf(request, reply), auditFilters(org, request.query), format)
      const day = (deps.clock?.() ?? new Date()).toISOString().slice(0, 10)
      return reply
        .type(EXPORT_TYPES[format])
        .header('content-disposition', `attachment; filename="roster-audit-${org}-${day}.${format}"`)
        .send(stream)
    },
  )
}

function auditFilters(tenant: string, q: AuditFilterQuery): AuditExportQuery {
  return {
    tenant,
    ...(q.from !== undefined ? { from: isoTime('from', q.from) } : {}),
    ...(q.to !== undefined ? { to: isoTime('to', q.to) } : {}),
    ...(q.resourceType !== undefined ? { resourceType: q.resourceType } : {}),
    ...(q.resourceId !== undefined ? { resourceId: q.resourceId } : {}),
    ...(q.actorId !== undefined ? { actorId: q.actorId } : {}),
    ...(q.outcome !== undefined ? { outcome: q.outcome } : {}),
    ...(q.operation !== undefined ? { operation: q.operation } : {}),
  }
}

/**
 * Event times are stored as toISOString() text and compared as text, so bounds are normalized to the
 * same form ("2025-01-01" and "2025-01-01T00:00:00+00:00" both become 2025-01-01T00:00:00.000Z).
 */
export function isoTime(name: string, text: string): string {
  const t = new Date(text)
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(t.getTime())) throw invalidRequest(`${name} must be an ISO 8601 date or date-time`)
  return t.toISOString()
}

/** The store's (time, id) position as an opaque cursor. */
export function encodeAuditCursor(position: { time: string; id: string }): string {
  return Buffer.from(JSON.stringify([position.time, position.id])).toString('base64url')
}

export function decodeAuditCursor(cursor: string): { time: string; id: string } {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string') return { time: value[0], id: value[1] }
  } catch {
    // falls through to the error below
  }
  throw invalidRequest('cursor is not one this API returned')
}
