import type { FastifyRequest } from 'fastify'
import { auditClientOf, auditRequestOf, type AuditContext } from '../audit/audit-context.js'
import { unauthorized, type Projection } from '../scim/index.js'
import { preconditionsOfIfMatch, versionOfEtag, type Preconditions, type RequestScope } from '../provisioning/resource-service.js'
import { DEFAULT_TENANT } from '../store/ports.js'

/** Where the default organization's SCIM API is mounted. */
export const SCIM_PREFIX = '/scim/v2'
/** Where every organization's SCIM API is mounted, the default one's too. */
export const ORG_SCIM_PREFIX = '/o/:org/scim/v2'

const ORG_URL = /^\/+o\/+([^/?#]+)\/+scim\/v2(?:[/?#]|$)/

/**
 * The organization a SCIM URL names: {org} of /o/{org}/scim/v2, or the default one for /scim/v2. Read from
 * the route's params, or from the URL itself when no route matched (a 404). Not checked to exist.
 */
export function orgOf(request: FastifyRequest): string {
  const param = (request.params as { org?: unknown } | undefined)?.org
  if (typeof param === 'string') return param
  const m = ORG_URL.exec(request.url)
  if (!m) return DEFAULT_TENANT
  try {
    return decodeURIComponent(m[1]!)
  } catch {
    return ''
  }
}

/** Whether the request came through /o/{org}/scim/v2 rather than /scim/v2. */
function isOrgUrl(request: FastifyRequest): boolean {
  return typeof (request.params as { org?: unknown } | undefined)?.org === 'string' || ORG_URL.test(request.url)
}

/**
 * The tenant (from the credential, which bearer auth has checked against the URL), the base URL the client
 * reached us at (or the configured public URL; /scim/v2 or /o/{org}/scim/v2, whichever was used), and the
 * request's AuditContext.
 */
export function scopeOf(request: FastifyRequest, publicUrl: string | undefined): RequestScope {
  if (!request.identity) throw unauthorized()
  const origin = publicUrl ?? `${request.protocol}://${request.host}`
  const tenant = request.identity.tenant
  const path = isOrgUrl(request) ? `/o/${encodeURIComponent(tenant)}${SCIM_PREFIX}` : SCIM_PREFIX
  const context = request.tenantContext
  let audit: AuditContext | undefined
  return {
    tenant,
    baseUrl: `${origin}${path}`,
    // Built when a write first asks for it: a read has no use for it (recognising the client alone runs a
    // handful of regular expressions over the User-Agent).
    get audit() {
      return (audit ??= auditContextOf(request))
    },
    ...(context ? { tenantContext: { registry: context.registry, settings: context.settings } } : {}),
  }
}

/** Who made the request (the credential's public id and name, or anonymous), from where, and when. */
export function auditContextOf(request: FastifyRequest): AuditContext {
  const identity = request.identity
  return {
    actor: identity ? { type: identity.actor.type, id: identity.actor.id, ...(identity.actor.name !== undefined ? { name: identity.actor.name } : {}) } : { type: 'anonymous' },
    client: auditClientOf(request.ip, request.headers['user-agent']),
    request: auditRequestOf(request.id, request.method, request.url),
    startedAt: request.receivedAt ?? Date.now(),
  }
}

const param = (query: unknown, name: string): string | undefined => {
  if (!query || typeof query !== 'object') return undefined
  const lower = name.toLowerCase()
  for (const [k, v] of Object.entries(query as Record<string, unknown>)) {
    if (k.toLowerCase() !== lower) continue
    const first = Array.isArray(v) ? v[0] : v
    return typeof first === 'string' ? first : undefined
  }
  return undefined
}

const list = (text: string | undefined) => text?.split(',').map((s) => s.trim()).filter(Boolean)

/** RFC 7644 §3.9: attributes / excludedAttributes on every read and write response. */
export function projectionOf(request: FastifyRequest): Projection {
  const attributes = list(param(request.query, 'attributes'))
  const excludedAttributes = list(param(request.query, 'excludedAttributes'))
  return { ...(attributes?.length ? { attributes } : {}), ...(excludedAttributes?.length ? { excludedAttributes } : {}) }
}

export function hasProjection(request: FastifyRequest): boolean {
  const p = projectionOf(request)
  return p.attributes !== undefined || p.excludedAttributes !== undefined
}

/** RFC 7644 §3.14 / RFC 7232: the If-Match header, read by preconditionsOfIfMatch. */
export function preconditionsOf(request: FastifyRequest): Preconditions {
  const header = request.headers['if-match']
  return header === undefined ? {} : preconditionsOfIfMatch(header)
}

/** If-None-Match on GET: true when the client already holds this version (answer 304). */
export function clientHasVersion(request: FastifyRequest, version: number): boolean {
  const header = request.headers['if-none-match']
  if (header === undefined) return false
  return header.split(',').some((t) => t.trim() === '*' || versionOfEtag(t) === version)
}
