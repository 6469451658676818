import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { AdminApiKeyRecord, AdminApiKeyStore } from '../store/ports.js'
import { isAdminRole, type AdminRole } from './roles.js'

/** Every admin API key starts with this, so secret scanners and humans recognise a leaked one. */
export const API_KEY_PREFIX = 'rak_'
// rak_ + 12 hex id + _ + 43 base64url chars (256 random bits), the shape of SCIM tokens (rst_…)
const API_KEY_SHAPE = /^rak_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/

// The storage port lives with the others (src/store/ports.ts); re-exported for this module's users.
export type { AdminApiKeyRecord, AdminApiKeyStore }

export interface IssuedApiKey {
  /** Shown once, never stored. */
  readonly apiKey: string
  readonly record: AdminApiKeyRecord
}

export interface ApiKeyIdentity {
  readonly keyId: string
  readonly name: string
  readonly role: AdminRole
}

export interface AdminApiKeyOptions {
  readonly clock?: () => Date
  readonly touchIntervalMs?: number
}

const sha256 = (text: string) => createHash('sha256').update(text).digest()

/**
 * API keys for the admin API (automation, CI), sent as `Authorization: Bearer rak_…`. Bound to a role
 * at creation; stored as SHA-256 and compared in constant time, as SCIM bearer tokens are (see
 * src/tokens/token-service.ts for why a fast hash is right for 256-bit secrets). They carry no cookie,
 * so CSRF does not apply to them. Only owners manage them (`apiKeys:manage` in roles.ts): a key is an
 * admin credential.
 */
export class AdminApiKeyService {
  private readonly clock: () => Date
  private readonly touchIntervalMs: number
  private readonly lastTouched = new Map<string, number>()

  constructor(private readonly store: AdminApiKeyStore, options: AdminApiKeyOptions = {}) {
    this.clock = options.clock ?? (() => new Date())
    this.touchIntervalMs = options.touchIntervalMs ?? 60_000
  }

  async issue(name: string, role: AdminRole, options: { createdBy: string; expiresAt?: Date }): Promise<IssuedApiKey> {
    const trimmed = name.trim()
    if (!trimmed || trimmed.length > 200) throw new Error('an API key needs a name of 1 to 200 characters')
    if (!isAdminRole(role)) throw new Error(`unknown role ${String(role)}`)
    const now = this.clock()
    if (options.expiresAt && options.expiresAt.getTime() <= now.getTime()) throw new Error('an API key cannot expire in the past')
    const id = randomBytes(6).toString('hex')
    const apiKey = `${API_KEY_PREFIX}${id}_${randomBytes(32).toString('base64url')}`
    const record: AdminApiKeyRecord = {
      id,
      name: trimmed,
      role,
      prefix: `${API_KEY_PREFIX}${id}`,
      hash: sha256(apiKey).toString('hex'),
      createdBy: options.createdBy,
      createdAt: now.toISOString(),
      ...(options.expiresAt ? { expiresAt: options.expiresAt.toISOString() } : {}),
    }
    await this.store.insertApiKey(record)
    return { apiKey, record }
  }

  /** The key's id, name and role, or undefined when it is malformed, unknown, revoked or expired. */
  async verify(presented: string): Promise<ApiKeyIdentity | undefined> {
    const m = API_KEY_SHAPE.exec(presented)
    if (!m) return undefined
    const record = await this.store.findApiKey(m[1]!)
    if (!record) return undefined
    const expected = Buffer.from(record.hash, 'hex')
    const actual = sha256(presented)
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return undefined
    const now = this.clock().getTime()
    if (record.revokedAt) return undefined
    if (record.expiresAt && Date.parse(record.expiresAt) <= now) return undefined
    // A role that is no longer known (stored by a newer version, edited by hand) grants nothing.
    if (!isAdminRole(record.role)) return undefined
    const last = this.lastTouched.get(record.id) ?? (record.lastUsedAt ? Date.parse(record.lastUsedAt) : 0)
    if (now - last >= this.touchIntervalMs) {
      this.lastTouched.set(record.id, now)
      await this.store.touchApiKey(record.id, new Date(now).toISOString())
    }
    return { keyId: record.id, name: record.name, role: record.role }
  }

  list(): Promise<AdminApiKeyRecord[]> {
    return this.store.listApiKeys()
  }

  revoke(id: string): Promise<boolean> {
    return this.store.revokeApiKey(id, this.clock().toISOString())
  }
}
