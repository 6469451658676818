/**
 * Token endpoint requests for the client credentials grant (RFC 6749 §4.4.2) and the errors they
 * can raise (RFC 6749 §5.2), as pure code: the HTTP layer hands over the Content-Type, the
 * Authorization header and the raw body text, and sends back what oauthErrorResponse returns.
 */

/** RFC 6749 §5.2 error codes (the subset a client credentials endpoint raises, plus invalid_grant for completeness). */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'

/** RFC 6749 §2.3: how the client authenticated. */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post'

export class OAuthError extends Error {
  override readonly name = 'OAuthError'
  constructor(
    readonly error: OAuthErrorCode,
    /** Shown to the client as error_description: ASCII without " or \ (RFC 6749 §5.2). */
    readonly description: string,
    readonly status: 400 | 401,
    /** True when the response must carry a WWW-Authenticate challenge (401). */
    readonly challenge = false,
  ) {
    super(description)
  }
}

export const invalidRequest = (description: string) => new OAuthError('invalid_request', description, 400)
export const unsupportedGrantType = (description: string) => new OAuthError('unsupported_grant_type', description, 400)
export const invalidScope = (description: string) => new OAuthError('invalid_scope', description, 400)
export const unauthorizedClient = (description: string) => new OAuthError('unauthorized_client', description, 400)

/**
 * RFC 6749 §5.2 invalid_client: "If the client attempted to authenticate via the Authorization request
 * header field, the authorization server MUST respond with an HTTP 401 … and include the
 * WWW-Authenticate response header field"; it MAY answer 401 to say which schemes it supports, which
 * we do when no credentials came at all. Credentials in the body that fail get the default 400.
 */
export function invalidClient(description: string, method: ClientAuthMethod | 'none'): OAuthError {
  return method === 'client_secret_post'
    ? new OAuthError('invalid_client', description, 400)
    : new OAuthError('invalid_client', description, 401, true)
}

export interface OAuthErrorResponse {
  readonly status: 400 | 401
  readonly headers: Readonly<Record<string, string>>
  readonly body: { readonly error: OAuthErrorCode; readonly error_description: string }
}

/** RFC 6749 §5.1/§5.2: JSON, never cached. */
export const TOKEN_RESPONSE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  pragma: 'no-cache',
}

export function oauthErrorResponse(err: OAuthError, realm = 'roster'): OAuthErrorResponse {
  return {
    status: err.status,
    headers: {
      ...TOKEN_RESPONSE_HEADERS,
      // RFC 7617 §2: realm is required; charset="UTF-8" says how we decode the credentials.
      ...(err.challenge ? { 'www-authenticate': `Basic realm="${realm}", charset="UTF-8"` } : {}),
    },
    body: { error: err.error, error_description: err.description },
  }
}

export interface TokenHttpRequest {
  readonly contentType: string | undefined
  readonly authorization: string | undefined
  /** The body as received, undecoded. */
  readonly body: string
}

export interface ClientCredentialsRequest {
  readonly grantType: 'client_credentials'
  readonly clientId: string
  readonly clientSecret: string
  readonly authMethod: ClientAuthMethod
  /** Requested scope tokens, each once, in the order given; empty when none was asked for. */
  readonly scope: readonly string[]
}

const MAX_CREDENTIAL_LENGTH = 512
// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), joined by single spaces
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/

/**
 * The client credentials grant request in `req`, or an OAuthError:
 * - invalid_request: not application/x-www-form-urlencoded (§4.4.2), a parameter more than once (§3.2),
 *   no grant_type, two authentication methods (§2.3), a client_id in the body unlike the one in Basic;
 * - unsupported_grant_type: any grant_type but client_credentials;
 * - invalid_client: no credentials, a malformed Basic header, or another Authorization scheme;
 * - invalid_scope: a scope that is not space-separated scope-tokens (§3.3).
 *
 * Client credentials come from HTTP Basic, where id and secret are each form-urlencoded before
 * joining with ":" (§2.3.1), or from client_id and client_secret in the body (§2.3.1, "NOT RECOMMENDED"
 * but what several IdPs send). Parameters sent without a value count as absent (§3.2).
 */
export function parseTokenRequest(req: TokenHttpRequest): ClientCredentialsRequest {
  const mediaType = req.contentType?.split(';')[0]?.trim().toLowerCase()
  if (mediaType !== 'application/x-www-form-urlencoded') {
    throw invalidRequest('the token request must be application/x-www-form-urlencoded')
  }
  const params = parseFormBody(req.body)

  const grantType = params.get('grant_type')
  if (!grantType) throw invalidRequest('grant_type is missing')
  if (grantType !== 'client_credentials') throw unsupportedGrantType('only the client_credentials grant is supported')

  const fromHeader = req.authorization ? parseBasicAuthorization(req.authorization) : undefined
  const bodyId = params.get('client_id')
  const bodySecret = params.get('client_secret')

  let clientId: string
  let clientSecret: string
  let authMethod: ClientAuthMethod
  if (fromHeader) {
    // RFC 6749 §2.3: "The client MUST NOT use more than one authentication method in each request."
    if (bodySecret !== undefined) throw invalidRequest('client credentials were sent both in the Authorization header and in the body')
    // §3.2.1 lets a client name itself with client_id; with Basic it must be the same client.
    if (bodyId !== undefined && bodyId !== fromHeader.clientId) throw invalidRequest('client_id differs from the client in the Authorization header')
    ;({ clientId, clientSecret } = fromHeader)
    authMethod = 'client_secret_basic'
  } else if (bodyId !== undefined && bodySecret !== undefined) {
    clientId = bodyId
    clientSecret = bodySecret
    authMethod = 'client_secret_post'
  } else {
    throw invalidClient('client authentication is required (HTTP Basic, or client_id and client_secret)', bodyId !== undefined || bodySecret !== undefined ? 'client_secret_post' : 'none')
  }
  if (clientId.length > MAX_CREDENTIAL_LENGTH || clientSecret.length > MAX_CREDENTIAL_LENGTH) {
    throw invalidClient('client credentials are too long', authMethod)
  }

  const scopeText = params.get('scope')
  if (scopeText !== undefined && !SCOPE.test(scopeText)) throw invalidScope('scope must be scope-tokens separated by single spaces')
  const scope = scopeText === undefined ? [] : [...new Set(scopeText.split(' '))]

  return { grantType: 'client_credentials', clientId, clientSecret, authMethod, scope }
}

/**
 * application/x-www-form-urlencoded parameters. RFC 6749 §3.2: "Parameters sent without a value MUST
 * be treated as if they were omitted" and "MUST NOT be included more than once".
 */
function parseFormBody(body: string): Map<string, string> {
  const params = new Map<string, string>()
  const seen = new Set<string>()
  for (const [name, value] of new URLSearchParams(body)) {
    if (seen.has(name)) throw invalidRequest(`parameter ${safeName(name)} is repeated`)
    seen.add(name)
    if (value !== '') params.set(name, value)
  }
  return params
}

/** RFC 7617 Basic credentials, each part form-urldecoded as RFC 6749 §2.3.1 asks. */
function parseBasicAuthorization(header: string): { clientId: string; clientSecret: string } {
  const m = /^([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)\s+(\S+)\s*$/.exec(header)
  // RFC 7235 §2.1: the scheme is case-insensitive.
  if (!m || m[1]!.toLowerCase() !== 'basic') throw invalidClient('only HTTP Basic client authentication is supported', 'client_secret_basic')
  const encoded = m[2]!
  if (!BASE64.test(encoded) || encoded.length % 4 !== 0) throw invalidClient('malformed Basic credentials', 'client_secret_basic')
  const decoded = Buffer.from(encoded, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) throw invalidClient('malformed Basic credentials', 'client_secret_basic')
  try {
    const clientId = formUrlDecode(decoded.slice(0, colon))
    const clientSecret = formUrlDecode(decoded.slice(colon + 1))
    if (!clientId || !clientSecret) throw invalidClient('malformed Basic credentials', 'client_secret_basic')
    return { clientId, clientSecret }
  } catch (err) {
    if (err instanceof OAuthError) throw err
    throw invalidClient('malformed percent-encoding in Basic credentials', 'client_secret_basic')
  }
}

/** The application/x-www-form-urlencoded decoding of one value: "+" is a space, then %XX (throws on a bad %). */
function formUrlDecode(text: string): string {
  return decodeURIComponent(text.replace(/\+/g, ' '))
}

/** A parameter name fit for error_description: printable ASCII without " or \, bounded. */
function safeName(name: string): string {
  return name.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, '?').slice(0, 40)
}
