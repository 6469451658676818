import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { OAuthClientService } from '../../oauth/oauth-clients.js'
import type { SigningKeyRing } from '../../oauth/signing-keys.js'
import { unauthorized } from '../../scim/index.js'
import { TOKEN_PREFIX, type TokenService } from '../../tokens/token-service.js'
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
    /** Set by bearer authentication on every authenticated SCIM request. */
    identity?: ScimIdentity
  }
}

/** Verifies the JWT access tokens of the OAuth 2.0 client credentials grant (src/oauth). */
export interface OAuthBearerVerifier {
  readonly clients: OAuthClientService
  readonly ring: SigningKeyRing
  readonly issuer: string
  readonly audience: string
}

export interface BearerAuthOptions {
  readonly tokens: TokenService
  readonly oauth?: OAuthBearerVerifier
  /** Whether an organization exists (cached by TenantService). */
  readonly tenantExists: (tenant: string) => Promise<boolean>
}

const BEARER = /^Bearer\s+(\S+)\s*$/i
// A compact JWS: three base64url parts (RFC 7515 §7.1).
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/
const MAX_JWT_LENGTH = 8192

/**
 * The identity a presented bearer credential proves: a `rst_…` token (TokenService) or a JWT access token
 * (OAuthClientService.verifyBearer, which also checks that the client is not revoked). Undefined for
 * anything else. Neither is cached: revoking either takes effect on the next request.
 */
export async function verifyScimBearer(presented: string, options: BearerAuthOptions): Promise<ScimIdentity | undefined> {
  if (presented.startsWith(TOKEN_PREFIX)) {
    const token = await options.tokens.verify(presented)
    return token ? { tenant: token.tenant, actor: { type: 'token', id: token.tokenId, name: token.name } } : undefined
  }
  const { oauth } = options
  if (!oauth || presented.length > MAX_JWT_LENGTH || !JWT_SHAPE.test(presented)) return undefined
  const verified = await oauth.clients.verifyBearer(presented, oauth.ring, { issuer: oauth.issuer, audience: oauth.audience })
  return verified ? { tenant: verified.tenant, actor: { type: 'oauthClient', id: verified.clientId, name: verified.clientName } } : undefined
}

const INVALID = 'The bearer token is invalid, expired or revoked'

/**
 * RFC 6750 bearer authentication on every route of the scope it is registered in. A missing, malformed,
 * unknown, revoked or expired credential answers 401 with WWW-Authenticate (added by the error handler).
 *
 * The organization is the URL's (/o/{org}/scim/v2, or the default one at /scim/v2), and the credential
 * must belong to it. A credential of another organization, and any URL naming an organization that does
 * not exist, get the very same 401 as an invalid credential: the answer never tells whether an
 * organization exists.
 */
export function registerBearerAuth(app: FastifyInstance, options: BearerAuthOptions): void {
  app.decorateRequest('identity', undefined)
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const header = request.headers.authorization
    const m = header ? BEARER.exec(header) : null
    if (!m) throw unauthorized('A bearer token is required (Authorization: Bearer <token>)')
    const identity = await verifyScimBearer(m[1]!, options)
    if (!identity || identity.tenant !== orgOf(request) || !(await options.tenantExists(identity.tenant))) throw unauthorized(INVALID)
    request.identity = identity
  })
}
