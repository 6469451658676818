import { Buffer } from 'node:buffer'
import { createHash } from 'node:crypto'
import { invalidCursor } from '../errors.js'
import { formatFilter } from '../filter/format-filter.js'
import { formatAttributePath } from '../path/attribute-path.js'
import type { ListQuery } from './list-query.js'

/** A sort key value as the store read it: text, a number, a boolean, or null for a resource without one. */
export type CursorKey = string | number | boolean | null

/**
 * Where a cursor-paged list continues (RFC 9865): what the opaque `cursor` / `nextCursor` strings carry.
 * A cursor is a position in the sort order, not server state, so it never expires and costs nothing to keep.
 */
export interface ListCursor {
  /** The sort key and id of the last resource of the previous page. Absent: the start of `resourceType`. */
  readonly after?: { readonly key: CursorKey; readonly id: string }
  /** For a search across resource types (POST /.search at the root): the type the next page continues in. */
  readonly resourceType?: string
  /** totalResults as counted for the first page, answered again on later pages instead of counting each time. */
  readonly totalResults?: number
}

/** The longest cursor accepted: a long sort key (a displayName) fits many times over. */
const MAX_CURSOR_LENGTH = 8192

/**
 * A short digest of what fixes a list's order and membership: the endpoint (a resource type, or the root),
 * the filter and, with sortBy, sortBy and sortOrder. A cursor carries it so that one taken from another
 * query is refused instead of silently continuing elsewhere (RFC 9865 §2: the client "MUST query the same
 * service provider endpoint with all query parameters and values being identical to the initial query").
 * count, attributes and excludedAttributes may change between pages without harm, so they are left out.
 * The filter is hashed in formatFilter's canonical form and sortBy lower-cased (attribute names are
 * case-insensitive, RFC 7643 §2.1), so spacing and case of names do not matter.
 */
export function listQueryFingerprint(query: Pick<ListQuery, 'filter' | 'sortBy' | 'sortOrder'>, endpoint: string): string {
  const sort = query.sortBy ? [formatAttributePath(query.sortBy).toLowerCase(), query.sortOrder] : null
  const text = JSON.stringify([endpoint, query.filter ? formatFilter(query.filter) : null, sort])
  return createHash('sha256').update(text).digest('base64url').slice(0, 16)
}

/**
 * The opaque cursor string for `cursor`: base64url JSON, so only RFC 3986 §2.3 unreserved characters
 * (RFC 9865 §2). It is not signed: its key and id are bound as SQL parameters, so a forged cursor can
 * only choose a position in the client's own tenant, which it could reach by paging anyway.
 *
 * @example encodeListCursor({ after: { key: '2024-01-01T00:00:00.000Z', id: 'u7' }, totalResults: 40 }, 'fp')
 *   // 'eyJ2IjoxLCJmIjoiZnAiLCJrIjoi…' (decodeListCursor(it, 'fp') gives the cursor back)
 */
export function encodeListCursor(cursor: ListCursor, fingerprint: string): string {
  const wire: WireCursor = {
    v: 1,
    f: fingerprint,
    ...(cursor.after ? { k: cursor.after.key, i: cursor.after.id } : {}),
    ...(cursor.resourceType !== undefined ? { r: cursor.resourceType } : {}),
    ...(cursor.totalResults !== undefined ? { t: cursor.totalResults } : {}),
  }
  return Buffer.from(JSON.stringify(wire), 'utf8').toString('base64url')
}

/**
 * Reads a cursor made by encodeListCursor for the query whose fingerprint is given.
 * @throws ScimError 400 invalidCursor (RFC 9865 §2.1) when the text is not such a cursor, or was made
 *   for another query (another endpoint, filter, sortBy or sortOrder).
 */
export function decodeListCursor(text: string, fingerprint: string): ListCursor {
  const wire = parseWire(text)
  if (wire.f !== fingerprint) {
    throw invalidCursor('The cursor belongs to another query: page with the endpoint, filter, sortBy and sortOrder of the request that returned it (RFC 9865 §2)')
  }
  return {
    ...(wire.i !== undefined ? { after: { key: wire.k!, id: wire.i } } : {}),
    ...(wire.r !== undefined ? { resourceType: wire.r } : {}),
    ...(wire.t !== undefined ? { totalResults: wire.t } : {}),
  }
}

/** The JSON inside a cursor, with one-letter names to keep cursors short in URLs. */
interface WireCursor {
  readonly v: 1
  /** listQueryFingerprint of the query that issued it. */
  readonly f: string
  readonly k?: CursorKey
  readonly i?: string
  readonly r?: string
  readonly t?: number
}

const WIRE_KEYS: ReadonlySet<string> = new Set(['v', 'f', 'k', 'i', 'r', 't'])

function parseWire(text: string): WireCursor {
  const malformed = () =>
    invalidCursor('The cursor is not one this server issued: send the nextCursor of the previous page unchanged, or an empty cursor for the first page (RFC 9865 §2.1)')
  if (text.length === 0 || text.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(text)) throw malformed()
  const bytes = Buffer.from(text, 'base64url')
  // Buffer's decoder skips what it cannot read; a cursor we made re-encodes to exactly the same text.
  if (bytes.toString('base64url') !== text) throw malformed()
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch {
    throw malformed()
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed()
  const w = value as Record<string, unknown>
  if (Object.keys(w).some((k) => !WIRE_KEYS.has(k))) throw malformed()
  if (w.v !== 1 || typeof w.f !== 'string') throw malformed()
  if (w.i !== undefined || w.k !== undefined) {
    if (typeof w.i !== 'string' || !('k' in w) || !isCursorKey(w.k)) throw malformed()
  }
  if (w.r !== undefined && typeof w.r !== 'string') throw malformed()
  if (w.t !== undefined && !(typeof w.t === 'number' && Number.isSafeInteger(w.t) && w.t >= 0)) throw malformed()
  return w as unknown as WireCursor
}

function isCursorKey(value: unknown): value is CursorKey {
  return value === null || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))
}
