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
  /** Bulk requests read and run at once, shared by every mount of the route (see BulkSlots). */
  readonly slots: BulkSlots
}

/**
 * How many Bulk requests are read and run at a time; the others wait, unread, in their sockets. A Bulk body
 * of 1,000 users is 1.4 MB of JSON and several times that once parsed, so 32 clients importing at once held
 * over 300 MB (bench, peak RSS); one at a time they are no slower in all, as they share one database writer.
 */
export class BulkSlots {
  private running = 0
  private readonly waiting: (() => void)[] = []

  constructor(private readonly size: number) {}

  /** Resolves with the function that gives the slot back (call it once). */
  async acquire(): Promise<() => void> {
    if (this.running >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve))
    else this.running++
    let released = false
    return () => {
      if (released) return
      released = true
      const next = this.waiting.shift()
      if (next) next()
      else this.running--
    }
  }
}

/**
 * POST /Bulk (RFC 7644 §3.7). The body limit of this route is maxPayloadSize, whatever the server-wide
 * ROSTER_BODY_LIMIT says: both ways, so a Bulk request is never cut below what discovery promises.
 */
export function registerBulkRoutes(app: FastifyInstance, options: BulkRouteOptions): void {
  const { bulk, maxOperations, maxPayloadSize, publicUrl, slots } = options
  app.post('/Bulk', {
    bodyLimit: maxPayloadSize,
    // After authentication and the rate limit (onRequest), before the body is read: a waiting request
    // costs no memory. The slot is given back when the response is done or the connection goes.
    preParsing: async (_request, reply, payload) => {
      const release = await slots.acquire()
      // A client gone while it waited: its response has closed already and will not say so again.
      if (reply.raw.closed) release()
      else reply.raw.once('close', release)
      return payload
    },
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
