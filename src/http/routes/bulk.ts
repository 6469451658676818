import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { bulkPayloadTooLarge, methodNotAllowed, parseBulkRequest, renderBulkResponse } from '../../scim/index.js'
import type { BulkService } from '../../provisioning/bulk-service.js'
import { scopeOf } from '../request-scope.js'
import { SCIM_CONTENT_TYPE } from '../scim-error-handler.js'

export interface BulkRouteOptions {
  readonly bulk: BulkService
  /** RFC 7644 §3.7.4 limits, the same numbers ServiceProviderConfig advertises. */
  readonly maxOperations: number
  readonly maxPayloadSize: number
  readonly publicUrl?: string
}

/**
 * POST /Bulk (RFC 7644 §3.7). The body limit of this route is maxPayloadSize, whatever the server-wide
 * ROSTER_BODY_LIMIT says: both ways, so a Bulk request is never cut below what discovery promises.
 */
export function registerBulkRoutes(app: FastifyInstance, options: BulkRouteOptions): void {
  const { bulk, maxOperations, maxPayloadSize, publicUrl } = options
  app.post('/Bulk', {
    bodyLimit: maxPayloadSize,
    // Fastify refuses a body over bodyLimit (from Content-Length before reading it, or while reading) with its
    // own error. RFC 7644 §3.7.4: "the returned response MUST specify the limit exceeded", so it becomes the
    // SCIM error naming maxPayloadSize; throwing hands it to the SCIM scope's error handler as any other.
    errorHandler: (error: FastifyError) => {
      throw error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? bulkPayloadTooLarge(maxPayloadSize) : error
    },
    handler: async (request, reply) => {
      const parsed = parseBulkRequest(request.body, { maxOperations })
      const results = await bulk.execute(scopeOf(request, publicUrl), parsed, {
        onAuditError: (err) => request.log.error({ err }, 'audit event of a failed bulk operation not recorded'),
      })
      // RFC 7644 §3.7: 200 once the request was processed, whatever the outcome of each operation.
      return reply.code(200).type(SCIM_CONTENT_TYPE).send(renderBulkResponse(results))
    },
  })
  app.route({
    method: ['GET', 'PUT', 'PATCH', 'DELETE'],
    url: '/Bulk',
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      reply.header('allow', 'POST')
      throw methodNotAllowed(`${request.method} is not supported on /Bulk; allowed: POST`)
    },
  })
}
