import { createSecretKey, randomBytes } from 'node:crypto'
import type { SigningKeyStore, StoredSigningKey } from '../../src/oauth/signing-keys.js'
import { isSealedJwk, type SealedJwk } from '../../src/oauth/sealed-jwk.js'

/** A key-encryption key for rings in tests (ROSTER_SECRET_KEY or the key file in production). */
export const TEST_KEY_ENCRYPTION_KEY = createSecretKey(randomBytes(32))

/** SigningKeyStore in memory; one instance shared by several rings stands for one database. */
export class MemorySigningKeyStore implements SigningKeyStore {
  readonly keys = new Map<string, StoredSigningKey>()
  reads = 0

  async listKeys(): Promise<StoredSigningKey[]> {
    this.reads++
    return [...this.keys.values()].map((k) => ({ ...k }))
  }

  async insertKey(key: StoredSigningKey): Promise<void> {
    if (this.keys.has(key.kid)) throw new Error(`duplicate kid ${key.kid}`)
    this.keys.set(key.kid, { ...key })
  }

  async retireKey(kid: string, at: string): Promise<void> {
    const key = this.keys.get(kid)
    if (key && !key.retiredAt) this.keys.set(kid, { ...key, retiredAt: at })
  }

  async sealPrivateJwk(kid: string, sealed: SealedJwk): Promise<void> {
    const key = this.keys.get(kid)
    if (key && !isSealedJwk(key.privateJwk)) this.keys.set(kid, { ...key, privateJwk: sealed })
  }
}
