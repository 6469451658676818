import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { buildAuditEvent } from '../../audit/audit-context.js'
import type { AuditOperation, AuditResource } from '../../audit/audit-event.js'
import type { SchemaRegistry } from '../../scim/index.js'
import { DEFAULT_TENANT, type AuditStore, type TenantSettings } from '../../store/ports.js'
import { auditContextOf, orgOf } from '../request-scope.js'

export interface ScimAuditOptions {
  readonly log: Pick<AuditStore, 'insertAuditEvent'>
  /** An organization's settings, or undefined when it does not exist (cached by TenantService). */
  readonly settingsFor: (tenant: string) => Promise<TenantSettings | undefined>
  /** The core resource types, to name the resource type of a route (/Users → User). */
  readonly core: SchemaRegistry
  readonly clock?: () => Date
  /** For auditReads 'sample'. */
  readonly random?: () => number
}

/**
 * The SCIM API's part of the audit log that no write transaction can hold:
 * - every rejected request (4xx, 5xx), 401s included, with the scimType and detail answered, once the
 *   response is sent; under the URL's organization when it exists, else the default one;
 * - reads (GET, searches) as the organization's auditReads setting says: none, all, or a sample.
 * Successful writes are not recorded here: the services record them inside their own transaction, and a
 * Bulk request records each operation. Events never hold the credential nor the body.
 */
export function registerScimAudit(app: FastifyInstance, options: ScimAuditOptions): void {
  const clock = options.clock ?? (() => new Date())
  const random = options.random ?? Math.random
  // A callback hook, not an async one: it runs after every SCIM response, and for a successful request with
  // reads not audited (the usual case) it has nothing to do.
  app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    if (reply.statusCode < 400 && (request.tenantContext?.settings.auditReads ?? 'off') === 'off') return done()
    // The response is gone already; a lost event is logged, never turned into an error for the client.
    record(request, reply).catch((err: unknown) => request.log.error({ err }, 'audit event not recorded'))
    done()
  })

  async function record(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const status = reply.statusCode
    const kind = requestKindOf(request, options.core)
    if (status < 400) {
      if (kind.operation !== 'read' && kind.operation !== 'search') return
      const tenant = request.identity?.tenant
      const settings = request.tenantContext?.settings
      if (!tenant || !settings || !isReadRecorded(settings, random)) return
      await options.log.insertAuditEvent(buildAuditEvent(auditContextOf(request), { tenant, operation: kind.operation, resource: kind.resource, outcome: { status }, time: clock() }))
      return
    }
    const tenant = request.identity?.tenant ?? (await knownTenant(request))
    const error = request.scimError
    await options.log.insertAuditEvent(
      buildAuditEvent(auditContextOf(request), {
        tenant,
        operation: status === 401 ? 'request.rejected' : kind.operation,
        resource: kind.resource,
        outcome: { status, ...(error?.scimType ? { scimType: error.scimType } : {}), ...(error ? { detail: error.detail } : {}) },
        time: clock(),
      }),
    )
  }

  /** The URL's organization when it exists, else the default one (the log of an unknown org has nowhere to go). */
  async function knownTenant(request: FastifyRequest): Promise<string> {
    const org = orgOf(request)
    return org !== DEFAULT_TENANT && org !== '' && (await options.settingsFor(org)) ? org : DEFAULT_TENANT
  }
}

function isReadRecorded(settings: TenantSettings, random: () => number): boolean {
  switch (settings.auditReads) {
    case 'all':
      return true
    case 'sample':
      return random() < settings.auditReadSampleRate
    case 'off':
      return false
    default:
      return settings.auditReads satisfies never
  }
}

const DISCOVERY = new Set(['/ServiceProviderConfig', '/ResourceTypes', '/ResourceTypes/:id', '/Schemas', '/Schemas/:id'])

/**
 * What a SCIM request asks for, from its route: the operation and the resource it names. A request that
 * matched no route, or a method a route refuses (405), is 'request.rejected'.
 */
export function requestKindOf(request: FastifyRequest, core: SchemaRegistry): { operation: AuditOperation; resource: AuditResource } {
  const pattern = request.routeOptions.url
  const rejected = { operation: 'request.rejected' as const, resource: {} }
  if (pattern === undefined) return rejected
  const at = pattern.indexOf('/scim/v2')
  const route = at < 0 ? pattern : pattern.slice(at + '/scim/v2'.length)
  const method = request.method
  const id = (request.params as { id?: unknown } | undefined)?.id
  if (route === '/.search') return method === 'POST' ? { operation: 'search', resource: {} } : rejected
  if (route === '/Bulk') return method === 'POST' ? { operation: 'bulk', resource: {} } : rejected
  if (DISCOVERY.has(route)) return method === 'GET' ? { operation: 'read', resource: {} } : rejected
  const m = /^(\/[^/]+)(\/\.search|\/:id)?$/.exec(route)
  const type = m ? core.listResourceTypes().find((t) => t.endpoint === m[1]) : undefined
  if (!m || !type) return rejected
  const resource: AuditResource = { type: type.name, ...(m[2] === '/:id' && typeof id === 'string' ? { id } : {}) }
  const operation = operationOf(method, m[2])
  return operation ? { operation, resource } : rejected
}

function operationOf(method: string, tail: string | undefined): AuditOperation | undefined {
  if (tail === '/.search') return method === 'POST' ? 'search' : undefined
  if (tail === undefined) return method === 'GET' ? 'search' : method === 'POST' ? 'create' : undefined
  switch (method) {
    case 'GET':
    case 'HEAD':
      return 'read'
    case 'PUT':
      return 'replace'
    case 'PATCH':
      return 'patch'
    case 'DELETE':
      return 'delete'
    default:
      return undefined
  }
}
