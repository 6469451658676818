import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AdminAccountService } from '../../admin/admin-accounts.js'
import type { AdminApiKeyService } from '../../admin/api-keys.js'
import { can, isAdminRole, type AdminRole, type Permission } from '../../admin/roles.js'
import { isSameOriginRequest, readSessionCookie, requiresCsrfToken, verifyCsrfToken, type AdminSessionService } from '../../admin/sessions.js'
import { auditClientOf, auditRequestOf, type AuditContext } from '../../audit/audit-context.js'
import { csrfFailed, forbidden, rateLimited, unauthenticated } from '../admin-error-handler.js'
import type { RateLimit } from '../rate-limit-counters.js'

/**
 * What a route of the admin API requires, in its route config (`config: { adminAccess }`):
 * - `{ public: true }`: nothing (signing in);
 * - `{ permission }`: a signed-in admin or an API key whose role grants it (`can`), or any one when null;
 *   `installationWide` also refuses admins scoped to one organization (admins, API keys, signing keys,
 *   creating and removing organizations concern every organization).
 * A route without adminAccess (and any unknown path) needs a signed-in caller, so nothing is open by omission.
 */
export type AdminAccess = { readonly public: true } | { readonly permission: Permission | null; readonly installationWide?: boolean }

/** Who is calling the admin API. */
export interface AdminPrincipal {
  readonly kind: 'session' | 'apiKey'
  /** The admin's id, or the API key's id. */
  readonly id: string
  /** The admin's e-mail, or the API key's name. */
  readonly name: string
  readonly role: AdminRole
  /** Set for an admin who sees one organization only. API keys see every organization. */
  readonly tenant?: string
  /** The session's CSRF token (sessions only), for GET /me. */
  readonly csrfToken?: string
  /** The session id from the cookie (sessions only), to end it at sign-out. Never logged. */
  readonly sessionId?: string
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the admin API's authentication on every route that is not public. */
    adminPrincipal?: AdminPrincipal
  }
  interface FastifyContextConfig {
    adminAccess?: AdminAccess
  }
}

export interface AdminAuthOptions {
  readonly sessions: AdminSessionService
  readonly apiKeys: AdminApiKeyService
  readonly admins: Pick<AdminAccountService, 'get'>
  /** HTTPS deployments: the cookie is Secure and named __Host-roster_admin. */
  readonly secureCookies: boolean
  /** Requests per session or API key (429 with Retry-After beyond). */
  readonly limiter: RateLimit
  /** The console's origin; from each request's Host when unset. */
  readonly publicUrl?: string
}

const API_KEY = /^Bearer\s+(rak_\S+)\s*$/i

/**
 * Authentication of the admin API, separate from SCIM's: a session cookie (with the session's CSRF token
 * in X-CSRF-Token on every unsafe method) or an admin API key in Authorization (no cookie, so no CSRF).
 * The admin behind a session is read on every request, so a role change, a new scope or disabling takes
 * effect at once. Then the per-caller rate limit, then the route's permission.
 */
export function registerAdminAuth(app: FastifyInstance, options: AdminAuthOptions): void {
  app.decorateRequest('adminPrincipal', undefined)
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const access: AdminAccess = request.routeOptions.config.adminAccess ?? { permission: null }
    if ('public' in access) return
    const authenticated = await authenticate(request, options)
    if (!authenticated) throw unauthenticated()
    const { principal, rateKey } = authenticated
    if (principal.kind === 'session' && requiresCsrfToken(request.method)) {
      if (!isAllowedOrigin(request, options.publicUrl)) throw csrfFailed('Cross-origin requests are refused')
      const presented = request.headers['x-csrf-token']
      if (!verifyCsrfToken(principal.sessionId!, typeof presented === 'string' ? presented : undefined)) {
        throw csrfFailed('Send the CSRF token from sign-in (or GET /admin/api/me) in X-CSRF-Token')
      }
    }
    const decision = await options.limiter.consume(rateKey)
    if (!decision.allowed) throw rateLimited(decision.retryAfterSeconds)
    if (access.permission !== null && !can(principal.role, access.permission)) {
      throw forbidden(`The ${principal.role} role may not do this (needs ${access.permission})`)
    }
    if (access.installationWide && principal.tenant !== undefined) throw forbidden('Only admins of the whole installation may do this')
    request.adminPrincipal = principal
  })
}

async function authenticate(request: FastifyRequest, options: AdminAuthOptions): Promise<{ principal: AdminPrincipal; rateKey: string } | undefined> {
  const header = request.headers.authorization
  // An Authorization header is taken as the caller's credential even when a cookie comes along: a
  // request never silently falls back from one credential to the other.
  if (header !== undefined) {
    const m = API_KEY.exec(header)
    const key = m ? await options.apiKeys.verify(m[1]!) : undefined
    if (!key) return undefined
    return { principal: { kind: 'apiKey', id: key.keyId, name: key.name, role: key.role }, rateKey: `key:${key.keyId}` }
  }
  const sessionId = readSessionCookie(request.headers.cookie, options.secureCookies)
  const session = await options.sessions.validate(sessionId)
  if (!session) return undefined
  const admin = await options.admins.get(session.adminId)
  if (!admin || admin.disabledAt || !isAdminRole(admin.role)) {
    await options.sessions.destroy(sessionId!)
    return undefined
  }
  return {
    principal: {
      kind: 'session',
      id: admin.id,
      name: admin.email,
      role: admin.role,
      ...(admin.tenant !== undefined ? { tenant: admin.tenant } : {}),
      csrfToken: session.csrfToken,
      sessionId: sessionId!,
    },
    rateKey: `session:${session.record.idHash}`,
  }
}

/**
 * Fetch Metadata or Origin, when the client sends them, must name our own origin (isSameOriginRequest).
 * A request with neither is not from a browser (browsers send Origin on every cross-origin POST, PUT,
 * PATCH and DELETE), so it is not a cross-site request forgery; a cookie-authenticated one still needs
 * the CSRF token.
 */
export function isAllowedOrigin(request: FastifyRequest, publicUrl: string | undefined): boolean {
  const origin = request.headers.origin
  const secFetchSite = request.headers['sec-fetch-site']
  if (origin === undefined && secFetchSite === undefined) return true
  const own = publicUrl ? new URL(publicUrl).origin : `${request.protocol}://${request.host}`
  return isSameOriginRequest(
    { ...(typeof origin === 'string' ? { origin } : {}), ...(typeof secFetchSite === 'string' ? { secFetchSite } : {}) },
    [own],
  )
}

/** The signed-in caller; routes behind adminAccess always have one (a 500 here means a route lost its config). */
export function principalOf(request: FastifyRequest): AdminPrincipal {
  if (!request.adminPrincipal) throw new Error(`no admin principal on ${request.method} ${request.routeOptions.url ?? request.url}`)
  return request.adminPrincipal
}

/** The AuditContext of an admin API request: the principal as actor (anonymous before sign-in). */
export function adminAuditContextOf(request: FastifyRequest, reply: FastifyReply, actor?: AuditContext['actor']): AuditContext {
  const p = request.adminPrincipal
  return {
    actor: actor ?? (p ? { type: p.kind === 'session' ? 'admin' : 'apiKey', id: p.id, name: p.name } : { type: 'anonymous' }),
    client: auditClientOf(request.ip, request.headers['user-agent']),
    request: auditRequestOf(request.id, request.method, request.url),
    startedAt: Date.now() - reply.elapsedTime,
  }
}
