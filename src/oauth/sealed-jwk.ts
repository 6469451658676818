import { createCipheriv, createDecipheriv, randomBytes, type KeyObject } from 'node:crypto'
import type { JWK } from 'jose'
import type { SealedJwk } from '../store/ports.js'

export type { SealedJwk }

/** GCM's recommended IV length (NIST SP 800-38D §8.2): 96 bits, random per seal. */
const IV_BYTES = 12
const TAG_BYTES = 16

/**
 * A private JWK encrypted with AES-256-GCM under `keyEncryptionKey` (32 bytes): a fresh random 96-bit IV
 * each time, and `kid` as additional authenticated data, so a sealed key copied onto another key's row
 * fails to open instead of signing under the wrong kid.
 */
export function sealJwk(jwk: JWK, kid: string, keyEncryptionKey: KeyObject): SealedJwk {
  const iv = randomBytes(IV_BYTES)
  const cipher = createCipheriv('aes-256-gcm', keyEncryptionKey, iv, { authTagLength: TAG_BYTES })
  cipher.setAAD(Buffer.from(kid, 'utf8'))
  const data = Buffer.concat([cipher.update(JSON.stringify(jwk), 'utf8'), cipher.final()])
  return { enc: 'A256GCM', iv: iv.toString('base64url'), tag: cipher.getAuthTag().toString('base64url'), data: data.toString('base64url') }
}

/**
 * The JWK inside a sealed one. Throws when the envelope is malformed, or when GCM's authentication fails:
 * another key-encryption key, another kid, or any changed byte of iv, tag or data.
 */
export function openSealedJwk(sealed: SealedJwk, kid: string, keyEncryptionKey: KeyObject): JWK {
  if (sealed.enc !== 'A256GCM') throw new Error(`unsupported encryption "${String(sealed.enc)}" (expected A256GCM)`)
  const iv = Buffer.from(sealed.iv, 'base64url')
  const tag = Buffer.from(sealed.tag, 'base64url')
  if (iv.length !== IV_BYTES) throw new Error(`the IV is ${iv.length} bytes, expected ${IV_BYTES}`)
  // GCM would verify a shortened tag (down to 4 bytes) just as happily, and a short tag is easier to forge.
  if (tag.length !== TAG_BYTES) throw new Error(`the authentication tag is ${tag.length} bytes, expected ${TAG_BYTES}`)
  const decipher = createDecipheriv('aes-256-gcm', keyEncryptionKey, iv, { authTagLength: TAG_BYTES })
  decipher.setAAD(Buffer.from(kid, 'utf8'))
  decipher.setAuthTag(tag)
  let text: string
  try {
    text = Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64url')), decipher.final()]).toString('utf8')
  } catch {
    // node:crypto says "Unsupported state or unable to authenticate data", which names neither cause.
    throw new Error('authentication failed: another key-encryption key, or the stored key was altered')
  }
  return JSON.parse(text) as JWK
}

/**
 * Whether a stored private key is sealed rather than a bare JWK (as written before Roster encrypted them).
 * A JWK never has `enc` (RFC 7517 §4 and the JWA registry define no such member; it is a JWE header).
 */
export function isSealedJwk(value: SealedJwk | JWK): value is SealedJwk {
  return typeof value === 'object' && value !== null && 'enc' in value
}
