import { randomUUID } from 'node:crypto'
import Fastify, { type FastifyInstance } from 'fastify'
import type { BulkService } from '../provisioning/bulk-service.js'
import type { ProvisioningService } from '../provisioning/resource-service.js'
import type { ServiceProviderFeatures } from '../scim/index.js'
import type { TokenService } from '../tokens/token-service.js'
import type { TenantService } from '../tenants/tenant-service.js'
import type { AuditStore } from '../store/ports.js'
import { registerScimAccess, type OAuthBearerVerifier } from './plugins/scim-access.js'
import { registerScimAudit } from './plugins/scim-audit.js'
import { registerScimJson } from './plugins/scim-json.js'
import { memoryRateLimitCounters, type RateLimitCounters } from './rate-limit-counters.js'
import { ORG_SCIM_PREFIX, SCIM_PREFIX } from './request-scope.js'
import { BulkSlots, registerBulkRoutes } from './routes/bulk.js'
import { registerDiscoveryRoutes } from './routes/discovery.js'
import { registerOAuthTokenRoutes } from './routes/oauth-token.js'
import { registerResourceRoutes } from './routes/resources.js'
import { registerRootRoutes } from './routes/root.js'
import { ADMIN_API_PREFIX, adminApiPlugin, type AdminApiDeps } from './routes/admin/admin-api.js'
import { sendAdminError, toAdminApiError } from './admin-error-handler.js'
import { answerClientError, registerScimErrorHandler, registerScimNotFoundHandler, sendScimError, toScimError } from './scim-error-handler.js'

/**
 * Bulk requests read and run at a time (BulkSlots). They share one database writer, but two, not one: while
 * one waits for its commit to be durable (an fdatasync on the thread pool), the other runs, and the event loop
 * no longer idles through each sync (bench, POST /Bulk on SQLite: 30% of the main thread idle with one).
 */
const BULK_REQUESTS_AT_ONCE = 2

export interface ServerDeps {
  readonly provisioning: ProvisioningService
  readonly tokens: TokenService
  /** Organizations: which exist, their settings (rate limit, audit of reads) and schema registries. */
  readonly tenants: TenantService
  /** Where rejected SCIM requests, audited reads and token requests are recorded. */
  readonly auditLog: Pick<AuditStore, 'insertAuditEvent'>
  /** OAuth 2.0 client credentials (RFC 6749 §4.4): the token endpoint, and its JWT access tokens on the SCIM API. */
  readonly oauth?: OAuthBearerVerifier & { readonly lifetimeSeconds?: number }
  /** Where SCIM requests are counted for the rate limit (Redis, shared by every instance); this process's memory when absent. */
  readonly rateLimitCounters?: RateLimitCounters
  readonly bodyLimit: number
  readonly maxResults: number
  /** Bulk (RFC 7644 §3.7) and its §3.7.4 limits, which ServiceProviderConfig advertises. */
  readonly bulk: { readonly service: BulkService; readonly maxOperations: number; readonly maxPayloadSize: number }
  readonly publicUrl?: string
  readonly trustProxy?: boolean
  /** pino options, or false for no logging (tests). */
  readonly logger?: false | { level: string }
  /** The admin API under /admin/api (its own authentication, errors and rate limits); absent: not served. */
  readonly admin?: AdminApiDeps
}

/**
 * Builds the HTTP server without listening (tests use inject or listen on port 0). The SCIM API is one
 * encapsulated plugin with its own auth hook, body parsers, error handler, audit and rate limits, mounted
 * at /scim/v2 (the default organization) and /o/{org}/scim/v2 (any organization).
 */
export function buildServer(deps: ServerDeps): FastifyInstance {
  const app = Fastify({
    logger:
      deps.logger === false
        ? false
        : {
            level: deps.logger?.level ?? 'info',
            // Tokens and cookies never reach a log line, whatever serializer a future change adds.
            redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization'], censor: '[redacted]' },
          },
    bodyLimit: deps.bodyLimit,
    trustProxy: deps.trustProxy ?? false,
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID()
    },
    return503OnClosing: true,
    // Router errors (a malformed percent-encoding, an over-long path segment) happen before any route
    // scope, so they are mapped here to the same SCIM error bodies.
    frameworkErrors: (error, request, reply) => {
      if (request.url.startsWith(`${ADMIN_API_PREFIX}/`)) sendAdminError(reply, toAdminApiError(error))
      else sendScimError(reply, toScimError(error))
    },
    clientErrorHandler: answerClientError,
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: 500 },
  })

  // Set as the request arrives, so every answer carries it, errors included; a callback hook, as it runs on
  // every request.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id)
    done()
  })

  app.get('/healthz', async () => ({ status: 'ok' }))

  const features: ServiceProviderFeatures = {
    patch: true,
    bulk: { supported: true, maxOperations: deps.bulk.maxOperations, maxPayloadSize: deps.bulk.maxPayloadSize },
    filter: { supported: true, maxResults: deps.maxResults },
    changePassword: true,
    sort: true,
    etag: true,
    // RFC 9865 §4. Index stays the default (§2.4: a provider adding cursors to index paging "should use
    // index as the default"); count without a value pages by maxResults in both methods; no cursorTimeout,
    // as a cursor is a position in the sort order and never expires.
    pagination: { cursor: true, index: true, defaultPaginationMethod: 'index', defaultPageSize: deps.maxResults, maxPageSize: deps.maxResults },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'OAuth Bearer Token',
        description: 'A bearer token (RFC 6750) that an administrator generates for the organization (rst_…)',
        specUri: 'https://www.rfc-editor.org/info/rfc6750',
        primary: true,
      },
      ...(deps.oauth
        ? [
            {
              type: 'oauthbearertoken',
              name: 'OAuth 2.0 client credentials',
              description: 'A JWT access token (RFC 9068) from POST /oauth/token with the client credentials grant (RFC 6749 §4.4) of an OAuth client of the organization',
              specUri: 'https://www.rfc-editor.org/info/rfc6749',
            },
          ]
        : []),
    ],
  }

  const tenantExists = (tenant: string) => deps.tenants.exists(tenant)
  // One scope for what both mounts share: the error handler, body parsers, audit, authentication and one
  // set of rate-limit counters (a credential counts the same whichever URL it uses). Each mount adds the
  // routes and its own 404 handler.
  app.register(async (scim) => {
    registerScimErrorHandler(scim)
    registerScimJson(scim)
    registerScimAudit(scim, {
      log: deps.auditLog,
      settingsFor: async (tenant) => (await deps.tenants.contextFor(tenant))?.settings,
      core: deps.provisioning.core,
    })
    registerScimAccess(scim, {
      tokens: deps.tokens,
      contextFor: (tenant) => deps.tenants.contextFor(tenant),
      counters: deps.rateLimitCounters ?? memoryRateLimitCounters(),
      ...(deps.oauth ? { oauth: deps.oauth } : {}),
    })
    const routeOptions = { provisioning: deps.provisioning, maxResults: deps.maxResults, ...(deps.publicUrl ? { publicUrl: deps.publicUrl } : {}) }
    const bulkSlots = new BulkSlots(BULK_REQUESTS_AT_ONCE)
    const mount = async (api: FastifyInstance) => {
      registerScimNotFoundHandler(api)
      registerDiscoveryRoutes(api, {
        registryFor: (tenant) => deps.provisioning.registryFor(tenant),
        features,
        ...(deps.publicUrl ? { publicUrl: deps.publicUrl } : {}),
      })
      registerResourceRoutes(api, routeOptions)
      registerRootRoutes(api, routeOptions)
      registerBulkRoutes(api, {
        bulk: deps.bulk.service,
        maxOperations: deps.bulk.maxOperations,
        maxPayloadSize: deps.bulk.maxPayloadSize,
        slots: bulkSlots,
        ...(deps.publicUrl ? { publicUrl: deps.publicUrl } : {}),
      })
    }
    scim.register(mount, { prefix: SCIM_PREFIX })
    scim.register(mount, { prefix: ORG_SCIM_PREFIX })
  })

  if (deps.oauth) {
    const { clients, ring, issuer, audience, lifetimeSeconds } = deps.oauth
    registerOAuthTokenRoutes(app, {
      endpoint: { clients, ring, issuer, audience, ...(lifetimeSeconds !== undefined ? { lifetimeSeconds } : {}) },
      auditLog: deps.auditLog,
      tenantExists,
    })
  }

  if (deps.admin) app.register(adminApiPlugin, { ...deps.admin, prefix: ADMIN_API_PREFIX })
  return app
}
