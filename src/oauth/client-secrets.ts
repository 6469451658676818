import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

/** OAuth client ids start with this; they are public (they name the client in logs and listings). */
export const CLIENT_ID_PREFIX = 'rsc_'
/** Client secrets start with this, so secret scanners and humans recognise a leaked one. */
export const CLIENT_SECRET_PREFIX = 'rcs_'

// rsc_ + 24 hex (96 random bits: unique, not secret). rcs_ + 43 base64url (256 random bits).
// Both use only characters that application/x-www-form-urlencoded leaves as they are, so a client
// that form-encodes them in HTTP Basic (RFC 6749 §2.3.1) and one that does not send the same bytes.
const CLIENT_ID_SHAPE = /^rsc_[0-9a-f]{24}$/
const CLIENT_SECRET_SHAPE = /^rcs_[A-Za-z0-9_-]{43}$/

export interface ClientCredentials {
  readonly clientId: string
  /** Shown once to the admin who created the client; never stored. */
  readonly clientSecret: string
  /** SHA-256 of the secret, hex: what the store keeps. */
  readonly secretHash: string
}

export function generateClientId(): string {
  return `${CLIENT_ID_PREFIX}${randomBytes(12).toString('hex')}`
}

export function generateClientSecret(): string {
  return `${CLIENT_SECRET_PREFIX}${randomBytes(32).toString('base64url')}`
}

export const isClientId = (text: string): boolean => CLIENT_ID_SHAPE.test(text)

/**
 * SHA-256, hex. A fast hash is enough for 256 random bits (no dictionary to try); a slow KDF would
 * only slow every token request. Same reasoning as bearer tokens in src/tokens/token-service.ts.
 */
export function hashClientSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex')
}

/** A new client id and secret, with the hash to store. */
export function generateClientCredentials(): ClientCredentials {
  const clientSecret = generateClientSecret()
  return { clientId: generateClientId(), clientSecret, secretHash: hashClientSecret(clientSecret) }
}

/**
 * Whether `presented` is the secret whose hash is `storedHash`, compared in constant time over the
 * hashes (both 32 bytes, so no length leaks). Malformed secrets are refused before hashing.
 */
export function verifyClientSecret(presented: string, storedHash: string): boolean {
  if (!CLIENT_SECRET_SHAPE.test(presented)) return false
  const expected = Buffer.from(storedHash, 'hex')
  const actual = createHash('sha256').update(presented).digest()
  return expected.length === actual.length && timingSafeEqual(expected, actual)
}
