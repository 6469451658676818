import type { ScimObject, TokenRecord } from '../ports.js'

/**
 * The copies of attributes an adapter keeps in indexed columns and in resource_emails, so eq and sw on
 * userName, externalId, displayName and emails.value search an index. userName, displayName and emails are
 * case-insensitive (RFC 7643 §4.1), so their copies are folded with JavaScript's toLowerCase, as filter
 * parameters are; externalId is caseExact.
 */
export interface IndexedValues {
  readonly userNameCi: string | null
  readonly externalId: string | null
  readonly displayNameCi: string | null
  /** Distinct, folded. */
  readonly emails: readonly string[]
}

export function indexedValuesOf(data: ScimObject): IndexedValues {
  const text = (v: unknown) => (typeof v === 'string' ? v : null)
  const emails = new Set<string>()
  if (Array.isArray(data.emails)) {
    for (const e of data.emails) {
      const value = typeof e === 'object' && e !== null ? (e as { value?: unknown }).value : undefined
      if (typeof value === 'string') emails.add(value.toLowerCase())
    }
  }
  return {
    userNameCi: text(data.userName)?.toLowerCase() ?? null,
    externalId: text(data.externalId),
    displayNameCi: text(data.displayName)?.toLowerCase() ?? null,
    emails: [...emails],
  }
}

export interface TokenRow {
  readonly id: string
  readonly tenant_id: string
  readonly name: string
  readonly prefix: string
  readonly hash: string
  readonly created_at: string
  readonly last_used_at: string | null
  readonly expires_at: string | null
  readonly revoked_at: string | null
}

export const TOKEN_COLUMNS = 'id, tenant_id, name, prefix, hash, created_at, last_used_at, expires_at, revoked_at'

export const toToken = (row: TokenRow): TokenRecord => ({
  id: row.id,
  tenant: row.tenant_id,
  name: row.name,
  prefix: row.prefix,
  hash: row.hash,
  createdAt: row.created_at,
  ...(row.last_used_at !== null ? { lastUsedAt: row.last_used_at } : {}),
  ...(row.expires_at !== null ? { expiresAt: row.expires_at } : {}),
  ...(row.revoked_at !== null ? { revokedAt: row.revoked_at } : {}),
})
