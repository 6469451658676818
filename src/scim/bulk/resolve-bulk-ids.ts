import { conflict } from '../errors.js'

/** RFC 7644 §3.7.2: a resource created in the same request is referenced as "bulkId:" + its bulkId. */
export const BULK_ID_PREFIX = 'bulkId:'

/** The bulkId a string references, or undefined. A reference is a whole value: "bulkId:qwerty", nothing around it. */
export function bulkIdOf(value: unknown): string | undefined {
  return typeof value === 'string' && value.startsWith(BULK_ID_PREFIX) && value.length > BULK_ID_PREFIX.length ? value.slice(BULK_ID_PREFIX.length) : undefined
}

/**
 * Every bulkId a value references, at any depth (RFC 7644 §3.7.2: Group members.value, the enterprise
 * manager.value, and "extensions that include references to other resources"), each once, in the order
 * first seen. Object keys are names, never references.
 */
export function findBulkIdReferences(value: unknown): string[] {
  const found = new Set<string>()
  const walk = (v: unknown): void => {
    const id = bulkIdOf(v)
    if (id !== undefined) found.add(id)
    else if (Array.isArray(v)) v.forEach(walk)
    else if (typeof v === 'object' && v !== null) Object.values(v).forEach(walk)
  }
  walk(value)
  return [...found]
}

/**
 * The bulkIds named as Group members: `members[].value` at the top of a resource, in any case. These are
 * the references whose target must exist before the resource is written, so a bulk job creates them first.
 */
export function findMemberBulkIdReferences(data: unknown): string[] {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return []
  const found = new Set<string>()
  for (const [key, members] of Object.entries(data)) {
    if (key.toLowerCase() !== 'members' || !Array.isArray(members)) continue
    for (const member of members) {
      if (typeof member !== 'object' || member === null) continue
      for (const [sub, value] of Object.entries(member)) {
        const id = sub.toLowerCase() === 'value' ? bulkIdOf(value) : undefined
        if (id !== undefined) found.add(id)
      }
    }
  }
  return [...found]
}

/**
 * A copy of `value` with every "bulkId:x" string, at any depth, replaced by `ids.get(x)`: the id the
 * service provider gave (or will give) the resource that the POST with bulkId x creates (RFC 7644 §3.7.2).
 *
 * Throws ScimError 409 (RFC 7644 §3.7.1: a reference that cannot be resolved is a conflict) naming the
 * first bulkId that `ids` does not know.
 *
 * @example resolveBulkIds({ members: [{ type: 'User', value: 'bulkId:qwerty' }] }, new Map([['qwerty', '92b725cd9465']]))
 *   // → { members: [{ type: 'User', value: '92b725cd9465' }] }
 */
export function resolveBulkIds<T>(value: T, ids: ReadonlyMap<string, string>): T {
  const walk = (v: unknown): unknown => {
    const bulkId = bulkIdOf(v)
    if (bulkId !== undefined) {
      const id = ids.get(bulkId)
      if (id === undefined) throw conflict(`"${BULK_ID_PREFIX}${bulkId}" cannot be resolved: no POST of this request has bulkId "${bulkId}" (RFC 7644 §3.7.2)`)
      return id
    }
    if (Array.isArray(v)) return v.map(walk)
    if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]))
    return v
  }
  return walk(value) as T
}
