import { issueAccessToken, type AccessTokenResponse } from './access-tokens.js'
import type { OAuthClientService } from './oauth-clients.js'
import type { SigningKeyRing } from './signing-keys.js'
import {
  OAuthError,
  TOKEN_RESPONSE_HEADERS,
  invalidClient,
  invalidScope,
  oauthErrorResponse,
  parseTokenRequest,
  type OAuthErrorResponse,
  type TokenHttpRequest,
} from './token-request.js'

export interface TokenEndpointDeps {
  readonly clients: OAuthClientService
  readonly ring: SigningKeyRing
  readonly issuer: string
  readonly audience: string
  readonly lifetimeSeconds?: number
  readonly clock?: () => Date
}

export type TokenEndpointResult =
  | {
      readonly status: 200
      readonly headers: Readonly<Record<string, string>>
      readonly body: AccessTokenResponse
      /** For the audit event: who got a token, for which organization. */
      readonly clientId: string
      readonly tenant: string
    }
  | (OAuthErrorResponse & {
      /** The client_id the caller named, unauthenticated: for the audit event's actor, never for access. */
      readonly claimedClientId?: string
    })

/**
 * The whole token endpoint for the client credentials grant (RFC 6749 §4.4): parse, authenticate the
 * client, check the scope, issue. Returns the HTTP status, headers and JSON body to send; protocol
 * errors come back as RFC 6749 §5.2 responses, anything else (a store that is down) is thrown.
 */
export async function exchangeClientCredentials(req: TokenHttpRequest, deps: TokenEndpointDeps): Promise<TokenEndpointResult> {
  let clientId: string | undefined
  try {
    const request = parseTokenRequest(req)
    clientId = request.clientId
    const client = await deps.clients.authenticate(request.clientId, request.clientSecret)
    if (!client) throw invalidClient('client authentication failed', request.authMethod)
    const notAllowed = request.scope.filter((s) => !client.scopes.includes(s))
    if (notAllowed.length > 0) throw invalidScope('the requested scope exceeds what this client may be granted')
    const granted = request.scope.length > 0 ? request.scope : client.scopes
    const body = await issueAccessToken(
      { clientId: client.id, tenant: client.tenant, ...(granted.length > 0 ? { scope: granted.join(' ') } : {}) },
      deps.ring,
      {
        issuer: deps.issuer,
        audience: deps.audience,
        ...(deps.lifetimeSeconds !== undefined ? { lifetimeSeconds: deps.lifetimeSeconds } : {}),
        ...(deps.clock ? { clock: deps.clock } : {}),
      },
    )
    return { status: 200, headers: TOKEN_RESPONSE_HEADERS, body, clientId: client.id, tenant: client.tenant }
  } catch (err) {
    if (!(err instanceof OAuthError)) throw err
    return { ...oauthErrorResponse(err), ...(clientId ? { claimedClientId: clientId } : {}) }
  }
}
