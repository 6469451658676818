import type { FastifyRequest } from 'fastify'
import { unauthorized, type Projection } from '../scim/index.js'
import { preconditionsOfIfMatch, versionOfEtag, type Preconditions, type RequestScope } from '../provisioning/resource-service.js'

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
