import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { TokenRecord, TokenStore } from '../store/ports.js'

/** Every token starts with this, so secret scanners and humans recognise a leaked Roster token. */
export const TOKEN_PREFIX = 'rst_'
const ID_LENGTH = 12
// rst_ + 12 hex id + _ + 43 base64url chars (32 random bytes = 256 bits of secret)
const TOKEN_SHAPE = /^rst_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/

export interface IssuedToken {
  /** The bearer token itself: shown once, never stored. */
  readonly token: string
  readonly record: TokenRecord
}

export interface TokenIdentity {
  readonly tokenId: string
  readonly tenant: string
  /** The token's name, for the audit log's actor. */
  readonly name: string
}

export interface TokenServiceOptions {
  readonly clock?: () => Date
  /** last_used_at is written at most this often per token, so authentication does not write on every request. */
  readonly touchIntervalMs?: number
}

const sha256 = (text: string) => createHash('sha256').update(text).digest()

/**
 * Bearer tokens: 256 random bits behind a recognisable prefix, stored only as a SHA-256 hash (a fast hash
 * suffices for secrets this long; a slow KDF would only slow every request), looked up by their public id
 * and compared in constant time. Revocation and expiry are read from the store on every request, so they
 * take effect on the next one, also when another process (the CLI) revoked the token.
 */
export class TokenService {
  private readonly clock: () => Date
  private readonly touchIntervalMs: number
  private readonly lastTouched = new Map<string, number>()

  constructor(private readonly store: TokenStore, options: TokenServiceOptions = {}) {
    this.clock = options.clock ?? (() => new Date())
    this.touchIntervalMs = options.touchIntervalMs ?? 60_000
  }

  async issue(tenant: string, name: string, options: { expiresAt?: Date } = {}): Promise<IssuedToken> {
    const issued = this.newToken(tenant, name, options)
    await this.store.insertToken(issued.record)
    return issued
  }

  /**
   * A token, when no token exists yet in any tenant (the first start's); undefined when one does. Atomic
   * in the store, so of several instances starting together on an empty database exactly one issues it.
   */
  async issueFirstToken(tenant: string, name: string): Promise<IssuedToken | undefined> {
    const issued = this.newToken(tenant, name)
    return (await this.store.insertFirstToken(issued.record)) ? issued : undefined
  }

  private newToken(tenant: string, name: string, options: { expiresAt?: Date } = {}): IssuedToken {
    const trimmed = name.trim()
    if (!trimmed || trimmed.length > 200) throw new Error('a token needs a name of 1 to 200 characters')
    const id = randomBytes(ID_LENGTH / 2).toString('hex')
    const token = `${TOKEN_PREFIX}${id}_${randomBytes(32).toString('base64url')}`
    const record: TokenRecord = {
      id,
      tenant,
      name: trimmed,
      prefix: `${TOKEN_PREFIX}${id}`,
      hash: sha256(token).toString('hex'),
      createdAt: this.clock().toISOString(),
      ...(options.expiresAt ? { expiresAt: options.expiresAt.toISOString() } : {}),
    }
    return { token, record }
  }

  /** The tenant a presented token belongs to, or undefined when it is malformed, unknown, revoked or expired. */
  async verify(presented: string): Promise<TokenIdentity | undefined> {
    const m = TOKEN_SHAPE.exec(presented)
    if (!m) return undefined
    const record = await this.store.findToken(m[1]!)
    if (!record) return undefined
    const expected = Buffer.from(record.hash, 'hex')
    const actual = sha256(presented)
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return undefined
    const now = this.clock()
    if (record.revokedAt) return undefined
    if (record.expiresAt && Date.parse(record.expiresAt) <= now.getTime()) return undefined
    const last = this.lastTouched.get(record.id) ?? (record.lastUsedAt ? Date.parse(record.lastUsedAt) : 0)
    if (now.getTime() - last >= this.touchIntervalMs) {
      this.lastTouched.set(record.id, now.getTime())
      await this.store.touchToken(record.id, now.toISOString())
    }
    return { tokenId: record.id, tenant: record.tenant, name: record.name }
  }

  list(tenant: string): Promise<TokenRecord[]> {
    return this.store.listTokens(tenant)
  }

  revoke(tenant: string, id: string): Promise<boolean> {
    return this.store.revokeToken(tenant, id, this.clock().toISOString())
  }
}
