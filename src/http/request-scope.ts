import type { FastifyRequest } from 'fastify'
import { preconditionFailed, unauthorized, type Projection } from '../scim/index.js'
import type { Preconditions, RequestScope } from '../provisioning/resource-service.js'

/** Where the SCIM API is mounted. */
export const SCIM_PREFIX = '/scim/v2'

/** The tenant (from the token) and the base URL the client reached us at (or the configured public URL). */
export function scopeOf(request: FastifyRequest, publicUrl: string | undefined): RequestScope {
  if (!request.identity) throw unauthorized()
  const origin = publicUrl ?? `${request.protocol}://${request.host}`
  return { tenant: request.identity.tenant, baseUrl: `${origin}${SCIM_PREFIX}` }
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

const ETAG = /^\s*(?:W\/)?"(\d+)"\s*$/

/**
 * RFC 7644 §3.14 / RFC 7232: If-Match with `*` or our own weak ETags. A list is accepted; an entity tag that
 * is not one of ours can never match, so it fails with 412 rather than being ignored.
 */
export function preconditionsOf(request: FastifyRequest): Preconditions {
  const header = request.headers['if-match']
  if (header === undefined) return {}
  const tags = header.split(',').map((t) => t.trim()).filter(Boolean)
  if (tags.includes('*')) return {}
  for (const t of tags) {
    const m = ETAG.exec(t)
    if (m) return { ifMatch: Number(m[1]) }
  }
  throw preconditionFailed(`If-Match ${header} does not match the current version`)
}

/** If-None-Match on GET: true when the client already holds this version (answer 304). */
export function clientHasVersion(request: FastifyRequest, version: number): boolean {
  const header = request.headers['if-none-match']
  if (header === undefined) return false
  return header.split(',').some((t) => t.trim() === '*' || Number(ETAG.exec(t)?.[1]) === version)
}
