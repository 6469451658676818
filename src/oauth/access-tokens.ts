import { randomUUID } from 'node:crypto'
import { SignJWT, errors, jwtVerify, type JWTVerifyGetKey } from 'jose'
import { SIGNING_ALGORITHM, type SigningKeyRing } from './signing-keys.js'

/**
 * RFC 9068 §2.1: access tokens carry typ "at+jwt", so no other JWT signed with these keys (now or
 * later: ID tokens, links in e-mails) can be replayed as an access token.
 */
export const ACCESS_TOKEN_TYPE = 'at+jwt'

export interface AccessTokenRequest {
  readonly clientId: string
  readonly tenant: string
  /** Granted scope, space-separated (RFC 6749 §3.3). */
  readonly scope?: string
}

export interface IssueAccessTokenOptions {
  /** Defaults to 3600; at most the ring's maxTokenLifetimeSeconds, which bounds how long a retired key must verify. */
  readonly lifetimeSeconds?: number
  readonly issuer: string
  readonly audience: string
  readonly clock?: () => Date
}

/** RFC 6749 §5.1 successful response body. */
export interface AccessTokenResponse {
  readonly access_token: string
  readonly token_type: 'Bearer'
  readonly expires_in: number
  readonly scope?: string
}

export interface VerifyAccessTokenOptions {
  readonly issuer: string
  readonly audience: string
  /** Seconds of clock skew allowed on exp; default and maximum: the ring's clockToleranceSeconds. */
  readonly clockTolerance?: number
  readonly clock?: () => Date
}

export interface VerifiedAccessToken {
  readonly clientId: string
  readonly tenant: string
  readonly jti: string
  /** Seconds since the epoch. */
  readonly exp: number
  readonly scope?: string
}

/**
 * Signs an access token for the client credentials grant (RFC 6749 §4.4.3) as an RFC 9068 JWT:
 * header { alg: ES256, kid, typ: at+jwt }, claims iss, aud, sub = client_id = clientId, org = tenant,
 * iat, exp, jti and scope when given.
 */
export async function issueAccessToken(
  request: AccessTokenRequest,
  ring: SigningKeyRing,
  options: IssueAccessTokenOptions,
): Promise<AccessTokenResponse> {
  const lifetime = options.lifetimeSeconds ?? 3600
  if (!Number.isInteger(lifetime) || lifetime <= 0 || lifetime > ring.maxTokenLifetimeSeconds) {
    throw new Error(`an access token lifetime must be a whole number of seconds from 1 to ${ring.maxTokenLifetimeSeconds}`)
  }
  const key = await ring.ensureActiveKey()
  const iat = Math.floor((options.clock ?? (() => new Date()))().getTime() / 1000)
  const access_token = await new SignJWT({
    org: request.tenant,
    client_id: request.clientId,
    ...(request.scope ? { scope: request.scope } : {}),
  })
    .setProtectedHeader({ alg: SIGNING_ALGORITHM, kid: key.kid, typ: ACCESS_TOKEN_TYPE })
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setSubject(request.clientId)
    .setIssuedAt(iat)
    .setExpirationTime(iat + lifetime)
    .setJti(randomUUID())
    .sign(key.privateKey)
  return { access_token, token_type: 'Bearer', expires_in: lifetime, ...(request.scope ? { scope: request.scope } : {}) }
}

/**
 * The client and organization an access token was issued to, or undefined when it is not one of ours
 * and valid now: malformed, bad signature, unknown or no-longer-valid kid, algorithm other than ES256
 * (so never "none", never an HMAC keyed with our public key), typ other than at+jwt, wrong iss or aud,
 * expired, or missing a claim.
 *
 * This checks the token alone. Whether its client is still allowed (not revoked since the token was
 * issued) is the caller's question: OAuthClientService.verifyBearer asks both.
 */
export async function verifyAccessToken(
  jwt: string,
  ring: SigningKeyRing,
  options: VerifyAccessTokenOptions,
): Promise<VerifiedAccessToken | undefined> {
  const clockTolerance = options.clockTolerance ?? ring.clockToleranceSeconds
  if (clockTolerance > ring.clockToleranceSeconds) {
    // A retired key verifies only clockToleranceSeconds past the last exp it signed; more would refuse valid tokens after a rotation.
    throw new Error(`clockTolerance ${clockTolerance} exceeds the key ring's clockToleranceSeconds ${ring.clockToleranceSeconds}`)
  }
  const getKey: JWTVerifyGetKey = async (header) => {
    if (header.alg !== SIGNING_ALGORITHM) throw new errors.JOSEAlgNotAllowed('only ES256 is accepted')
    if (typeof header.kid !== 'string' || header.kid.length > 128) throw new errors.JWKSNoMatchingKey('no kid')
    const key = await ring.verificationKey(header.kid)
    if (!key) throw new errors.JWKSNoMatchingKey('unknown or expired kid')
    return key
  }
  try {
    const { payload } = await jwtVerify(jwt, getKey, {
      algorithms: [SIGNING_ALGORITHM],
      typ: ACCESS_TOKEN_TYPE,
      issuer: options.issuer,
      audience: options.audience,
      clockTolerance,
      requiredClaims: ['iss', 'aud', 'sub', 'iat', 'exp', 'jti', 'org'],
      ...(options.clock ? { currentDate: options.clock() } : {}),
    })
    const { sub, org, jti, exp, scope } = payload
    if (typeof sub !== 'string' || typeof org !== 'string' || typeof jti !== 'string' || typeof exp !== 'number') return undefined
    if (scope !== undefined && typeof scope !== 'string') return undefined
    return { clientId: sub, tenant: org, jti, exp, ...(scope ? { scope } : {}) }
  } catch (err) {
    // Every token fault means the same to the caller: not authenticated. Anything else (the key store
    // is down) is ours and must surface as a 500, not as a 401 that makes IdPs disable provisioning.
    if (err instanceof errors.JOSEError) return undefined
    throw err
  }
}
