import type { KeyObject } from 'node:crypto'
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose'
import type { SigningAlgorithm, SigningKeyStore, StoredSigningKey } from '../store/ports.js'
import { isSealedJwk, openSealedJwk, sealJwk } from './sealed-jwk.js'

/** The only algorithm we sign and accept: ECDSA P-256 with SHA-256 (RFC 7518 §3.4). */
export const SIGNING_ALGORITHM: SigningAlgorithm = 'ES256'

// The storage port lives with the others (src/store/ports.ts); re-exported for this module's users.
export type { SigningKeyStore, StoredSigningKey }

export interface SigningKeyRingOptions {
  readonly clock?: () => Date
  /**
   * How long keys read from the store are used before they are read again. Another instance's rotation
   * is seen within this time; a token signed with a key this instance has not seen yet makes it read
   * the store at once (at most once per minRefreshIntervalMs).
   */
  readonly cacheTtlMs?: number
  /** Unknown kids trigger at most one store read per this interval, so forged kids cannot flood the database. */
  readonly minRefreshIntervalMs?: number
  /** The longest lifetime of any token signed with these keys; issueAccessToken refuses longer ones. */
  readonly maxTokenLifetimeSeconds?: number
  /**
   * Clock skew allowed between instances, in seconds (default 30): verifyAccessToken accepts a token
   * this long past its exp, so a retired key must verify this much longer too.
   */
  readonly clockToleranceSeconds?: number
}

export interface ActiveSigningKey {
  readonly kid: string
  readonly privateKey: CryptoKey
}

/** A stored private key that the key-encryption key does not open (another key, or an altered row). */
export class SigningKeyDecryptionError extends Error {
  override readonly name = 'SigningKeyDecryptionError'
  constructor(
    readonly kid: string,
    cause: Error,
  ) {
    super(`OAuth signing key ${kid} cannot be decrypted: ${cause.message}`, { cause })
  }
}

interface LoadedKey {
  readonly stored: StoredSigningKey
  readonly publicKey: CryptoKey
  privateKey?: CryptoKey
}

/**
 * The keys that sign and verify OAuth access tokens, over a SigningKeyStore shared by all instances.
 *
 * Rotation without downtime, in two steps every instance takes on its own from the shared store:
 * 1. rotate() inserts the new key and sets the old keys' retiredAt one cache period ahead. For that
 *    period the old key still signs and the new one is only published (verifies, is in publicJwks),
 *    so by the time any instance signs with it, every instance has read it.
 * 2. From retiredAt on, the new key signs. A retired key keeps verifying until
 *    retiredAt + maxTokenLifetime + clockTolerance + cacheTtl, past the exp of the last token it signed.
 * A token naming a kid this instance has not read yet also makes it read the store at once (rate-limited),
 * which covers a first key created by another instance.
 *
 * Private keys reach the store sealed under the key-encryption key (sealed-jwk.ts), so a copy of the
 * database alone cannot mint tokens; they are opened to sign, and once at start to check the key.
 */
export class SigningKeyRing {
  private readonly clock: () => Date
  private readonly cacheTtlMs: number
  private readonly minRefreshIntervalMs: number
  readonly maxTokenLifetimeSeconds: number
  readonly clockToleranceSeconds: number
  private keys = new Map<string, LoadedKey>()
  private loadedAt = Number.NEGATIVE_INFINITY
  private loading: Promise<void> | undefined
  private creating: Promise<StoredSigningKey> | undefined

  /** `keyEncryptionKey`: the 32-byte AES-256-GCM key that seals the private keys; every instance must share it. */
  constructor(
    private readonly store: SigningKeyStore,
    private readonly keyEncryptionKey: KeyObject,
    options: SigningKeyRingOptions = {},
  ) {
    this.clock = options.clock ?? (() => new Date())
    this.cacheTtlMs = options.cacheTtlMs ?? 5_000
    this.minRefreshIntervalMs = options.minRefreshIntervalMs ?? 1_000
    this.maxTokenLifetimeSeconds = options.maxTokenLifetimeSeconds ?? 3_600
    this.clockToleranceSeconds = options.clockToleranceSeconds ?? 30
  }

  /** The key to sign with now, creating the first key when the store has none. */
  async ensureActiveKey(): Promise<ActiveSigningKey> {
    await this.refreshIfStale()
    let active = this.signingKey()
    if (!active) {
      // Concurrent first calls in this instance share one new key.
      this.creating ??= this.insertNewKey().finally(() => {
        this.creating = undefined
      })
      await this.creating
      active = this.signingKey()
    }
    if (!active) throw new Error('the signing key store did not return the key just inserted')
    active.privateKey ??= (await importJWK(this.privateJwkOf(active.stored), SIGNING_ALGORITHM)) as CryptoKey
    return { kid: active.stored.kid, privateKey: active.privateKey }
  }

  /**
   * Reads every stored key, checks that each sealed one opens with the key-encryption key, and seals the
   * ones stored bare (written before Roster encrypted them). Run at start, so that a wrong key fails the
   * start with the kid it cannot open rather than a later POST /oauth/token with a 500. Bare keys written
   * afterwards (by an older Roster still running) sign as they are until the next start seals them.
   */
  async sealStoredKeys(): Promise<void> {
    for (const key of await this.store.listKeys()) {
      // Opened only to see that it opens (it throws naming the kid); what it holds is not kept.
      if (isSealedJwk(key.privateJwk)) this.privateJwkOf(key)
      else await this.store.sealPrivateJwk(key.kid, sealJwk(key.privateJwk, key.kid, this.keyEncryptionKey))
    }
    await this.refresh(true)
  }

  /**
   * Adds a new key and retires the keys signing until now, one cache period ahead: the new key signs
   * from then on (see the class comment). Only the keys seen before the insert are retired, so two
   * instances rotating at once both leave a signing key (the newer wins) instead of retiring each other's.
   */
  async rotate(): Promise<StoredSigningKey> {
    await this.refresh(true)
    const now = this.clock().getTime()
    const previous = [...this.keys.values()].filter((k) => !isRetiredAt(k.stored, now)).map((k) => k.stored.kid)
    const key = await this.insertNewKey()
    const at = new Date(now + this.cacheTtlMs).toISOString()
    for (const kid of previous) await this.store.retireKey(kid, at)
    await this.refresh(true)
    return key
  }

  /**
   * The public key for a token's kid, when that key may still verify: not retired, or retired less
   * than maxTokenLifetime + clockTolerance + cacheTtl ago. Unknown kids cause one store read (rate-limited).
   */
  async verificationKey(kid: string): Promise<CryptoKey | undefined> {
    await this.refreshIfStale()
    if (!this.keys.has(kid) && this.clock().getTime() - this.loadedAt >= this.minRefreshIntervalMs) await this.refresh()
    const key = this.keys.get(kid)
    return key && this.mayVerify(key.stored) ? key.publicKey : undefined
  }

  /** The JWK Set of keys that may verify now (RFC 7517 §5), for a jwks_uri. Public parts only. */
  async publicJwks(): Promise<{ keys: JWK[] }> {
    await this.refreshIfStale()
    const keys = [...this.keys.values()]
      .filter((k) => this.mayVerify(k.stored))
      .map((k) => ({ ...k.stored.publicJwk, kid: k.stored.kid, alg: SIGNING_ALGORITHM, use: 'sig' }))
    return { keys }
  }

  /** Forget cached keys: the next call reads the store. */
  invalidate(): void {
    this.loadedAt = Number.NEGATIVE_INFINITY
  }

  private mayVerify(key: StoredSigningKey): boolean {
    if (!key.retiredAt) return true
    const until = Date.parse(key.retiredAt) + (this.maxTokenLifetimeSeconds + this.clockToleranceSeconds) * 1000 + this.cacheTtlMs
    return this.clock().getTime() < until
  }

  /**
   * The newest key not retired now and created at least one cache period ago (so every instance has
   * read it); failing that, the newest key not retired (the very first key, which has no predecessor).
   */
  private signingKey(): LoadedKey | undefined {
    const now = this.clock().getTime()
    const live = [...this.keys.values()].filter((k) => !isRetiredAt(k.stored, now))
    const published = live.filter((k) => Date.parse(k.stored.createdAt) <= now - this.cacheTtlMs)
    return newest(published) ?? newest(live)
  }

  /** The private JWK of a stored key, opened when sealed; throws naming the kid when it does not open. */
  private privateJwkOf(key: StoredSigningKey): JWK {
    if (!isSealedJwk(key.privateJwk)) return key.privateJwk
    try {
      return openSealedJwk(key.privateJwk, key.kid, this.keyEncryptionKey)
    } catch (e) {
      throw new SigningKeyDecryptionError(key.kid, e as Error)
    }
  }

  private async insertNewKey(): Promise<StoredSigningKey> {
    const { privateKey, publicKey } = await generateKeyPair(SIGNING_ALGORITHM, { extractable: true })
    const publicJwk = await exportJWK(publicKey)
    const kid = await calculateJwkThumbprint(publicJwk, 'sha256')
    const key: StoredSigningKey = {
      kid,
      algorithm: SIGNING_ALGORITHM,
      privateJwk: sealJwk(await exportJWK(privateKey), kid, this.keyEncryptionKey),
      publicJwk,
      createdAt: this.clock().toISOString(),
    }
    await this.store.insertKey(key)
    await this.refresh(true)
    return key
  }

  private async refreshIfStale(): Promise<void> {
    if (this.clock().getTime() - this.loadedAt >= this.cacheTtlMs) await this.refresh()
  }

  /**
   * Reads the store. Concurrent callers share one read; `fresh` starts a new one, for callers that
   * just wrote and must see their write (a read already under way may have started before it).
   */
  private async refresh(fresh = false): Promise<void> {
    if (this.loading && !fresh) return this.loading
    const read = this.load().finally(() => {
      if (this.loading === read) this.loading = undefined
    })
    this.loading = read
    await read
  }

  private async load(): Promise<void> {
    const stored = await this.store.listKeys()
    const next = new Map<string, LoadedKey>()
    for (const s of stored) {
      if (s.algorithm !== SIGNING_ALGORITHM) continue
      const cached = this.keys.get(s.kid)
      // Keep imported CryptoKeys across reloads: only retiredAt can change on a stored key (and a bare
      // private JWK become sealed, which holds the same key).
      if (cached) next.set(s.kid, { ...cached, stored: s })
      else next.set(s.kid, { stored: s, publicKey: (await importJWK(s.publicJwk, SIGNING_ALGORITHM)) as CryptoKey })
    }
    this.keys = next
    this.loadedAt = this.clock().getTime()
  }
}

const isRetiredAt = (key: StoredSigningKey, nowMs: number) => key.retiredAt !== undefined && Date.parse(key.retiredAt) <= nowMs

function newest(keys: readonly LoadedKey[]): LoadedKey | undefined {
  let best: LoadedKey | undefined
  for (const k of keys) {
    if (!best || k.stored.createdAt > best.stored.createdAt || (k.stored.createdAt === best.stored.createdAt && k.stored.kid > best.stored.kid)) best = k
  }
  return best
}
