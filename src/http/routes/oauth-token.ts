import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { buildAuditEvent } from '../../audit/audit-context.js'
import { exchangeClientCredentials, type TokenEndpointDeps, type TokenEndpointResult } from '../../oauth/token-endpoint.js'
import { TOKEN_RESPONSE_HEADERS, invalidClient, oauthErrorResponse, parseTokenRequest, type TokenHttpRequest } from '../../oauth/token-request.js'
import { DEFAULT_TENANT, type AuditStore } from '../../store/ports.js'
import { auditContextOf } from '../request-scope.js'

export interface OAuthTokenRouteOptions {
  readonly endpoint: TokenEndpointDeps
  readonly auditLog: Pick<AuditStore, 'insertAuditEvent'>
  /** Whether an organization exists (cached by TenantService). */
  readonly tenantExists: (tenant: string) => Promise<boolean>
  readonly clock?: () => Date
}

/** Token requests are a few hundred bytes; nothing larger is read. */
const BODY_LIMIT = 16_384

/**
 * The OAuth 2.0 token endpoint for the client credentials grant (RFC 6749 §4.4): POST /oauth/token for
 * any organization's clients, and POST /o/{org}/oauth/token, which answers only for that organization's
 * (another organization's client gets the same invalid_client as a wrong secret, so the URL never tells
 * whether a client exists elsewhere). The body is read as text and parsed by src/oauth, which also decides
 * every status, header (Cache-Control: no-store) and JSON body sent. Each request is one 'oauth.token'
 * audit event, without the secret.
 */
export function registerOAuthTokenRoutes(app: FastifyInstance, options: OAuthTokenRouteOptions): void {
  const clock = options.clock ?? (() => new Date())
  app.register(async (oauth) => {
    oauth.removeAllContentTypeParsers()
    // Any media type is read as text: parseTokenRequest answers invalid_request for anything but a form.
    oauth.addContentTypeParser('*', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_request, body, done) => done(null, body))
    oauth.addHook('onRequest', async (request: FastifyRequest) => {
      request.receivedAt = clock().getTime()
    })
    oauth.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
        return reply.code(413).headers(TOKEN_RESPONSE_HEADERS).send(JSON.stringify({ error: 'invalid_request', error_description: 'the request body is too large' }))
      }
      request.log.error({ err: error }, 'token request failed')
      return reply.code(500).headers(TOKEN_RESPONSE_HEADERS).send(JSON.stringify({ error: 'server_error', error_description: 'internal server error' }))
    })

    const handle = async (request: FastifyRequest<{ Params: { org?: string } }>, reply: FastifyReply) => {
      const org = request.params.org
      const http: TokenHttpRequest = {
        contentType: request.headers['content-type'],
        authorization: request.headers.authorization,
        body: typeof request.body === 'string' ? request.body : '',
      }
      let result: TokenEndpointResult = await exchangeClientCredentials(http, options.endpoint)
      if (org !== undefined && result.status === 200 && result.tenant !== org) {
        // The credentials are good, for another organization: answered as if they were not.
        const method = parseTokenRequest(http).authMethod
        result = { ...oauthErrorResponse(invalidClient('client authentication failed', method)), claimedClientId: result.clientId }
      }
      await record(request, org, result)
      return reply.code(result.status).headers(result.headers).send(JSON.stringify(result.body))
    }
    oauth.post('/oauth/token', handle)
    oauth.post('/o/:org/oauth/token', handle)
  })

  async function record(request: FastifyRequest, org: string | undefined, result: TokenEndpointResult): Promise<void> {
    try {
      const context = auditContextOf(request)
      const clientId = result.status === 200 ? result.clientId : result.claimedClientId
      const tenant = result.status === 200 ? result.tenant : org !== undefined && (await options.tenantExists(org)) ? org : DEFAULT_TENANT
      await options.auditLog.insertAuditEvent(
        buildAuditEvent(
          // The client_id of a failed request is what the caller claimed, unauthenticated: a hint for the reader.
          { ...context, actor: clientId !== undefined ? { type: 'oauthClient', id: clientId.slice(0, 128) } : { type: 'anonymous' } },
          {
            tenant,
            operation: 'oauth.token',
            outcome: { status: result.status, ...(result.status !== 200 ? { detail: `${result.body.error}: ${result.body.error_description}` } : {}) },
            time: clock(),
          },
        ),
      )
    } catch (err) {
      request.log.error({ err }, 'audit event not recorded')
    }
  }
}
