import { randomUUID } from 'node:crypto'
import Fastify, { type FastifyInstance } from 'fastify'
import type { BulkService } from '../provisioning/bulk-service.js'
import type { ProvisioningService } from '../provisioning/resource-service.js'
import type { ServiceProviderFeatures } from '../scim/index.js'
import type { TokenService } from '../tokens/token-service.js'
import { registerBearerAuth } from './plugins/bearer-auth.js'
import { registerScimJson } from './plugins/scim-json.js'
import { SCIM_PREFIX } from './request-scope.js'
import { registerBulkRoutes } from './routes/bulk.js'
import { registerDiscoveryRoutes } from './routes/discovery.js'
import { registerResourceRoutes } from './routes/resources.js'
import { registerRootRoutes } from './routes/root.js'
import { answerClientError, registerScimErrorHandling, sendScimError, toScimError } from './scim-error-handler.js'

export interface ServerDeps {
  readonly provisioning: ProvisioningService
  readonly tokens: TokenService
  readonly bodyLimit: number
  readonly maxResults: number
  /** Bulk (RFC 7644 §3.7) and its §3.7.4 limits, which ServiceProviderConfig advertises. */
  readonly bulk: { readonly service: BulkService; readonly maxOperations: number; readonly maxPayloadSize: number }
  readonly publicUrl?: string
  readonly trustProxy?: boolean
  /** pino options, or false for no logging (tests). */
  readonly logger?: false | { level: string }
}

/**
 * Builds the HTTP server without listening (tests use inject or listen on port 0). The SCIM API is one
 * encapsulated plugin under /scim/v2 with its own auth hook, body parsers and error handler.
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
    frameworkErrors: (error, _request, reply) => {
      sendScimError(reply, toScimError(error))
    },
    clientErrorHandler: answerClientError,
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: 500 },
  })

  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('x-request-id', request.id)
    return payload
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
  }

  app.register(
    async (scim) => {
      registerScimErrorHandling(scim)
      registerScimJson(scim)
      registerBearerAuth(scim, deps.tokens)
      const routeOptions = { provisioning: deps.provisioning, maxResults: deps.maxResults, ...(deps.publicUrl ? { publicUrl: deps.publicUrl } : {}) }
      registerDiscoveryRoutes(scim, { registry: deps.provisioning.registry, features, ...(deps.publicUrl ? { publicUrl: deps.publicUrl } : {}) })
      registerResourceRoutes(scim, routeOptions)
      registerRootRoutes(scim, routeOptions)
      registerBulkRoutes(scim, {
        bulk: deps.bulk.service,
        maxOperations: deps.bulk.maxOperations,
        maxPayloadSize: deps.bulk.maxPayloadSize,
        ...(deps.publicUrl ? { publicUrl: deps.publicUrl } : {}),
      })
    },
    { prefix: SCIM_PREFIX },
  )
  return app
}
