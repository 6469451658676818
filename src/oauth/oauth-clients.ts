import { generateClientCredentials, isClientId, verifyClientSecret } from './client-secrets.js'
import { verifyAccessToken, type VerifiedAccessToken, type VerifyAccessTokenOptions } from './access-tokens.js'
import type { SigningKeyRing } from './signing-keys.js'
import type { OAuthClientRecord, OAuthClientStore } from '../store/ports.js'

// The storage port lives with the others (src/store/ports.ts); re-exported for this module's users.
export type { OAuthClientRecord, OAuthClientStore }

export interface CreatedOAuthClient {
  /** Shown once; only its hash is stored. */
  readonly clientSecret: string
  readonly record: OAuthClientRecord
}

export interface OAuthClientServiceOptions {
  readonly clock?: () => Date
  /** last_used_at is written at most this often per client. */
  readonly touchIntervalMs?: number
}

/**
 * OAuth clients of one installation: created per organization by a security admin, authenticated at
 * the token endpoint, revoked with effect on the next request, also for access tokens already issued
 * (verifyBearer reads the client on every request, as bearer tokens are read in TokenService).
 */
export class OAuthClientService {
  private readonly clock: () => Date
  private readonly touchIntervalMs: number
  private readonly lastTouched = new Map<string, number>()

  constructor(private readonly store: OAuthClientStore, options: OAuthClientServiceOptions = {}) {
    this.clock = options.clock ?? (() => new Date())
    this.touchIntervalMs = options.touchIntervalMs ?? 60_000
  }

  async create(tenant: string, name: string, options: { scopes?: readonly string[] } = {}): Promise<CreatedOAuthClient> {
    const trimmed = name.trim()
    if (!trimmed || trimmed.length > 200) throw new Error('an OAuth client needs a name of 1 to 200 characters')
    const { clientId, clientSecret, secretHash } = generateClientCredentials()
    const record: OAuthClientRecord = {
      id: clientId,
      tenant,
      name: trimmed,
      secretHash,
      scopes: [...new Set(options.scopes ?? [])],
      createdAt: this.clock().toISOString(),
    }
    await this.store.insertClient(record)
    return { clientSecret, record }
  }

  /** The live client whose id and secret these are, or undefined (unknown, wrong secret, revoked). */
  async authenticate(clientId: string, clientSecret: string): Promise<OAuthClientRecord | undefined> {
    if (!isClientId(clientId)) return undefined
    const record = await this.store.findClient(clientId)
    if (!record || !verifyClientSecret(clientSecret, record.secretHash) || record.revokedAt) return undefined
    await this.touch(record)
    return record
  }

  /**
   * The access token's client and organization when the token is valid (verifyAccessToken) and its
   * client still exists in that organization, unrevoked. This is what SCIM authentication should call.
   */
  async verifyBearer(jwt: string, ring: SigningKeyRing, options: VerifyAccessTokenOptions): Promise<(VerifiedAccessToken & { readonly clientName: string }) | undefined> {
    const token = await verifyAccessToken(jwt, ring, options)
    if (!token) return undefined
    const record = await this.store.findClient(token.clientId)
    if (!record || record.revokedAt || record.tenant !== token.tenant) return undefined
    await this.touch(record)
    // The client's name as of now, for the audit log's actor (names can change later).
    return { ...token, clientName: record.name }
  }

  list(tenant: string): Promise<OAuthClientRecord[]> {
    return this.store.listClients(tenant)
  }

  revoke(tenant: string, id: string): Promise<boolean> {
    return this.store.revokeClient(tenant, id, this.clock().toISOString())
  }

  private async touch(record: OAuthClientRecord): Promise<void> {
    const now = this.clock().getTime()
    const last = this.lastTouched.get(record.id) ?? (record.lastUsedAt ? Date.parse(record.lastUsedAt) : 0)
    if (now - last < this.touchIntervalMs) return
    this.lastTouched.set(record.id, now)
    await this.store.touchClient(record.id, new Date(now).toISOString())
  }
}
