import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { AdminAccountService } from '../../../admin/admin-accounts.js'
import type { AdminActions } from '../../../admin/admin-actions.js'
import type { AdminApiKeyService } from '../../../admin/api-keys.js'
import type { AdminSessionService } from '../../../admin/sessions.js'
import type { OAuthClientService } from '../../../oauth/oauth-clients.js'
import type { ProvisioningService } from '../../../provisioning/resource-service.js'
import { DEFAULT_TENANT, type AuditStore, type ResourceStore, type TenantRecord } from '../../../store/ports.js'
import type { TenantService } from '../../../tenants/tenant-service.js'
import type { TokenService } from '../../../tokens/token-service.js'
import { notFound, registerAdminErrorHandling } from '../../admin-error-handler.js'
import { registerAdminAuth } from '../../plugins/admin-auth.js'
import { memoryRateLimitCounters, rateLimitOf, withMemoryFallback, type RateLimit, type RateLimitCounters } from '../../rate-limit-counters.js'
import { registerAccountRoutes } from './account-routes.js'
import { registerAuditRoutes } from './audit-routes.js'
import { registerCredentialRoutes } from './credential-routes.js'
import { registerDirectoryRoutes } from './directory-routes.js'
import { registerOrganizationRoutes } from './organization-routes.js'
import { registerSessionRoutes } from './session-routes.js'

/** Where the admin API is mounted. */
export const ADMIN_API_PREFIX = '/admin/api'

export interface AdminApiDeps {
  readonly actions: AdminActions
  readonly tenants: TenantService
  readonly tokens: TokenService
  readonly oauthClients: OAuthClientService
  readonly admins: AdminAccountService
  readonly apiKeys: AdminApiKeyService
  readonly sessions: AdminSessionService
  readonly provisioning: ProvisioningService
  readonly resources: ResourceStore
  readonly audit: AuditStore
  readonly maxResults: number
  /** Requests per minute per admin session or API key. */
  readonly rateLimitPerMinute: number
  /** Sign-in attempts per 15 minutes from one IP address, and failed ones for one e-mail address. */
  readonly signInAttemptsPerWindow: number
  /**
   * Where those limits are counted: Redis (ROSTER_REDIS_URL), shared by every instance, so that instances
   * behind a load balancer enforce one limit, in this process's memory while Redis fails. Absent: memory.
   */
  readonly rateLimitCounters?: RateLimitCounters
  readonly publicUrl?: string
  readonly clock?: () => Date
}

/** The admin API's limits, counted where AdminApiDeps.rateLimitCounters says. */
export interface AdminLimiters {
  readonly perCaller: RateLimit
  readonly signInPerIp: RateLimit
  /** Failed sign-ins and wrong current passwords of a password change, per e-mail address. */
  readonly signInFailuresPerEmail: RateLimit
}

export const SIGN_IN_WINDOW_MS = 15 * 60_000

declare module 'fastify' {
  interface FastifyRequest {
    /** The organization named by the route's :org, once the caller may see it. */
    adminOrganization?: TenantRecord
  }
}

/**
 * The admin API: JSON under /admin/api, as one encapsulated plugin with its own authentication
 * (sessions and API keys, never SCIM tokens), error format (`{ error: { code, message } }`) and rate
 * limits. Register it with `{ prefix: ADMIN_API_PREFIX }`.
 *
 * Rate limits are counted here rather than with @fastify/rate-limit: sign-in needs two counters on one
 * route (per IP, and failures per e-mail, which is known only after parsing), and the per-caller limit
 * is keyed by the authenticated session or key, which only this plugin's authentication knows.
 */
export async function adminApiPlugin(app: FastifyInstance, deps: AdminApiDeps): Promise<void> {
  const counters = deps.rateLimitCounters ? withMemoryFallback(deps.rateLimitCounters) : memoryRateLimitCounters()
  const signIn = { limit: deps.signInAttemptsPerWindow, windowMs: SIGN_IN_WINDOW_MS }
  const limiters: AdminLimiters = {
    perCaller: rateLimitOf(counters, { prefix: 'caller:', limit: deps.rateLimitPerMinute, windowMs: 60_000 }),
    signInPerIp: rateLimitOf(counters, { prefix: 'signin-ip:', ...signIn }),
    signInFailuresPerEmail: rateLimitOf(counters, { prefix: 'signin-failures:', ...signIn }),
  }
  registerAdminErrorHandling(app)
  registerAdminAuth(app, {
    sessions: deps.sessions,
    apiKeys: deps.apiKeys,
    admins: deps.admins,
    secureCookies: usesSecureCookies(deps.publicUrl),
    limiter: limiters.perCaller,
    ...(deps.publicUrl ? { publicUrl: deps.publicUrl } : {}),
  })
  app.decorateRequest('adminOrganization', undefined)
  // Every route with :org: an admin scoped to another organization gets the same 404 as for one that
  // does not exist, so scoped admins cannot learn which organizations there are.
  app.addHook('preHandler', async (request: FastifyRequest) => {
    const org = (request.params as { org?: string } | undefined)?.org
    if (org === undefined) return
    const scope = request.adminPrincipal?.tenant
    if (scope !== undefined && scope !== org) throw notFound(`Organization ${org} not found`)
    request.adminOrganization = await deps.tenants.get(org)
  })
  app.addHook('onSend', async (_request, reply, payload) => {
    // Answers carry credentials and personal data: never cached by a browser or a proxy.
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store')
    return payload
  })

  registerSessionRoutes(app, deps, limiters)
  registerOrganizationRoutes(app, deps)
  registerCredentialRoutes(app, deps)
  registerDirectoryRoutes(app, deps)
  registerAuditRoutes(app, deps)
  registerAccountRoutes(app, deps)
}

/** The session cookie is Secure (and __Host- prefixed) when the configured public URL is https. */
export const usesSecureCookies = (publicUrl: string | undefined) => publicUrl?.startsWith('https:') ?? false

/** The organization of a route with :org (set by the preHandler above). */
export function organizationOf(request: FastifyRequest): TenantRecord {
  if (!request.adminOrganization) throw new Error(`no organization on ${request.method} ${request.routeOptions.url ?? request.url}`)
  return request.adminOrganization
}

/** Where clients reach this server: the configured public URL, or the request's own origin. */
export function originOf(request: FastifyRequest, publicUrl: string | undefined): string {
  return publicUrl ?? `${request.protocol}://${request.host}`
}

/** An organization's SCIM base URL: /scim/v2 for the default organization, /o/{org}/scim/v2 for the others. */
export function scimBaseUrlOf(origin: string, org: string): string {
  return org === DEFAULT_TENANT ? `${origin}/scim/v2` : `${origin}/o/${encodeURIComponent(org)}/scim/v2`
}

/** The OAuth 2.0 token endpoint (RFC 6749 §3.2) clients of an organization use. */
export function tokenEndpointOf(origin: string, org: string): string {
  return `${origin}/o/${encodeURIComponent(org)}/oauth/token`
}
