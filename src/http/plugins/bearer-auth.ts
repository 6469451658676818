import type { FastifyInstance, FastifyRequest } from 'fastify'
import { unauthorized } from '../../scim/index.js'
import type { TokenIdentity, TokenService } from '../../tokens/token-service.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by bearer authentication on every SCIM request. */
    identity?: TokenIdentity
  }
}

const BEARER = /^Bearer\s+(\S+)\s*$/i

/**
 * RFC 6750 bearer authentication on every route of the scope it is registered in. A missing, malformed,
 * unknown, revoked or expired token answers 401 with WWW-Authenticate (added by the error handler).
 */
export function registerBearerAuth(app: FastifyInstance, tokens: TokenService): void {
  app.decorateRequest('identity', undefined)
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const header = request.headers.authorization
    const m = header ? BEARER.exec(header) : null
    if (!m) throw unauthorized('A bearer token is required (Authorization: Bearer <token>)')
    const identity = await tokens.verify(m[1]!)
    if (!identity) throw unauthorized('The bearer token is invalid, expired or revoked')
    request.identity = identity
  })
}
