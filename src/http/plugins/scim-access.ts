import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { OAuthClientService } from '../../oauth/oauth-clients.js'
import type { SigningKeyRing } from '../../oauth/signing-keys.js'
import { tooManyRequests, unauthorized } from '../../scim/index.js'
import type { TenantContext } from '../../tenants/tenant-service.js'
import { TOKEN_PREFIX, type TokenService } from '../../tokens/token-service.js'
import type { RateLimitCounters } from '../rate-limit-counters.js'
import type { RateDecision } from '../window-rate-limiter.js'
import { orgOf } from '../request-scope.js'

/** Who is calling the SCIM API: a Roster bearer token or an OAuth client, of one organization. */
export interface ScimActor {
  readonly type: 'token' | 'oauthClient'
  /** The token's id or the OAuth client_id: public, never the secret. */
  readonly id: string
  readonly name?: string
}

export interface ScimIdentity {
  readonly tenant: string
  readonly actor: ScimActor
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set on every authenticated SCIM request. */
    identity?: ScimIdentity
    /** The organization of an authenticated SCIM request: its settings and schema registry, read once. */
    tenantContext?: TenantContext
    /** When the request arrived (ms since the epoch), set first thing: audit latency counts from here. */
    receivedAt?: number
  }
}

/** Verifies the JWT access tokens of the OAuth 2.0 client credentials grant (src/oauth). */
export interface OAuthBearerVerifier {
  readonly clients: OAuthClientService
  readonly ring: SigningKeyRing
  readonly issuer: string
  readonly audience: string
}

export interface ScimAccessOptions {
  readonly tokens: TokenService
  readonly oauth?: OAuthBearerVerifier
  /** An organization's settings and registry, or undefined when it does not exist (cached by TenantService). */
  readonly contextFor: (tenant: string) => Promise<TenantContext | undefined>
  /** Where requests are counted for scimRateLimitPerMinute (this process's memory, or Redis). */
  readonly counters: RateLimitCounters
}

const BEARER = /^Bearer\s+(\S+)\s*$/i
// A compact JWS: three base64url parts (RFC 7515 §7.1).
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/
const MAX_JWT_LENGTH = 8192
const INVALID = 'The bearer token is invalid, expired or revoked'

/**
 * The identity a presented bearer credential proves: a `rst_…` token (TokenService) or a JWT access token
 * (OAuthClientService.verifyBearer, which also checks that the client is not revoked). Undefined for
 * anything else. Revoking either takes effect on the next request.
 */
export async function verifyScimBearer(presented: string, options: Pick<ScimAccessOptions, 'tokens' | 'oauth'>): Promise<ScimIdentity | undefined> {
  if (presented.startsWith(TOKEN_PREFIX)) {
    const token = await options.tokens.verify(presented)
    return token ? { tenant: token.tenant, actor: { type: 'token', id: token.tokenId, name: token.name } } : undefined
  }
  const { oauth } = options
  if (!oauth || presented.length > MAX_JWT_LENGTH || !JWT_SHAPE.test(presented)) return undefined
  const verified = await oauth.clients.verifyBearer(presented, oauth.ring, { issuer: oauth.issuer, audience: oauth.audience })
  return verified ? { tenant: verified.tenant, actor: { type: 'oauthClient', id: verified.clientId, name: verified.clientName } } : undefined
}

/**
 * What every SCIM request goes through first, in one onRequest hook (each hook Fastify runs costs a request
 * a few microseconds, and these run on every one):
 *
 * - RFC 6750 bearer authentication. A missing, malformed, unknown, revoked or expired credential answers 401
 *   with WWW-Authenticate (added by the error handler). The organization is the URL's (/o/{org}/scim/v2, or
 *   the default one at /scim/v2) and the credential must belong to it: a credential of another
 *   organization, and any URL naming an organization that does not exist, get the very same 401 as an
 *   invalid credential, so the answer never tells whether an organization exists.
 * - The organization's settings and registry, read once and kept on the request for the routes.
 * - The rate limit: each token or OAuth client (not each IP: an IdP's requests come from many addresses, and
 *   several IdPs may share one) may send the organization's scimRateLimitPerMinute requests a minute. Over
 *   it: 429 with Retry-After and a SCIM error. Counted before the body is read, so a client over its limit
 *   costs no body parsing. Every answer carries X-RateLimit-Limit, -Remaining and -Reset. Registered once
 *   for both mounts of the SCIM API, so one credential has one counter whichever URL it uses.
 */
export function registerScimAccess(app: FastifyInstance, options: ScimAccessOptions): void {
  app.decorateRequest('identity', undefined)
  app.decorateRequest('tenantContext', undefined)
  app.decorateRequest('receivedAt', undefined)
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    request.receivedAt = Date.now()
    const header = request.headers.authorization
    const m = header ? BEARER.exec(header) : null
    if (!m) throw unauthorized('A bearer token is required (Authorization: Bearer <token>)')
    const identity = await verifyScimBearer(m[1]!, options)
    if (!identity || identity.tenant !== orgOf(request)) throw unauthorized(INVALID)
    const context = await options.contextFor(identity.tenant)
    if (!context) throw unauthorized(INVALID)
    request.identity = identity
    request.tenantContext = context
    const key = `${identity.tenant}\u0000${identity.actor.type}\u0000${identity.actor.id}`
    const counted = options.counters.consume(key, context.settings.scimRateLimitPerMinute)
    // A counter store that is down (Redis) must not stop provisioning: the request goes through uncounted.
    const decision = counted instanceof Promise ? await counted.catch(() => undefined) : counted
    if (decision) limitRequest(reply, decision)
  })
}

function limitRequest(reply: FastifyReply, decision: RateDecision): void {
  reply.header('x-ratelimit-limit', decision.limit)
  reply.header('x-ratelimit-remaining', decision.remaining)
  reply.header('x-ratelimit-reset', decision.retryAfterSeconds)
  if (decision.allowed) return
  reply.header('retry-after', decision.retryAfterSeconds)
  throw tooManyRequests(`Too many requests: this credential may send ${decision.limit} requests per minute; retry in ${decision.retryAfterSeconds} seconds`)
}
