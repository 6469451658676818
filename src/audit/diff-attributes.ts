import type { ScimObject } from '../scim/index.js'
import { REDACTED, type AttributeChange } from './audit-event.js'

/** Names that hold secrets: their values never reach the audit log, at any depth. */
const SECRET_NAME = /password|secret|token/i

/**
 * Server-managed attributes left out of the diff: `id` never changes and is the event's resource.id;
 * `meta` changes on every write (lastModified, version) and would repeat the event's own time.
 */
const IGNORED = new Set(['id', 'meta'])

const isExtensionKey = (key: string) => /^urn:/i.test(key)

/**
 * The attributes that differ between two canonical SCIM documents of one resource (undefined for the
 * side that does not exist: before on create, after on delete).
 *
 * - Core attributes by name; extension attributes URN-qualified (`urn:…:enterprise:2.0:User:employeeNumber`).
 * - Single-valued complex attributes by sub-attribute (`name.givenName`, `urn:…:User:manager.value`).
 * - Multi-valued attributes as whole arrays, compared without regard to order (RFC 7643 §2.4: "The
 *   order of values … is not significant"), so an IdP that resends emails in another order records nothing.
 * - null, [] and {} count as absent (RFC 7643 §2.5: unassigned, null and the empty array are equivalent in state).
 * - Secrets: an attribute, sub-attribute or nested key whose name matches /password|secret|token/i is
 *   never shown; its values become "[redacted]" and the change carries `changed: true`.
 *
 * Output order is stable: core attributes by name, then extensions by URN and name.
 *
 * @example
 * diffAttributes({ userName: 'bjensen', name: { givenName: 'Barbara' } },
 *                { userName: 'bjensen', name: { givenName: 'Babs' }, password: 't1meMa$heen' })
 * // [{ attribute: 'name.givenName', before: 'Barbara', after: 'Babs' },
 * //  { attribute: 'password', after: '[redacted]', changed: true }]
 */
export function diffAttributes(before: ScimObject | undefined, after: ScimObject | undefined): AttributeChange[] {
  const b = before ?? {}
  const a = after ?? {}
  const keys = unionOfKeys(b, a).filter((k) => !IGNORED.has(k))
  const changes: AttributeChange[] = []
  for (const key of keys.filter((k) => !isExtensionKey(k))) diffAttribute(key, key, b[key], a[key], changes)
  for (const urn of keys.filter(isExtensionKey)) {
    const bv = b[urn]
    const av = a[urn]
    if (isComplexOrAbsent(bv) && isComplexOrAbsent(av)) {
      const bo = asObject(bv)
      const ao = asObject(av)
      for (const name of unionOfKeys(bo, ao)) diffAttribute(`${urn}:${name}`, name, bo[name], ao[name], changes)
    } else {
      // Not an extension object (malformed input): compare the value whole rather than drop it.
      diffValue(urn, urn, bv, av, changes)
    }
  }
  return changes
}

function diffAttribute(path: string, name: string, before: unknown, after: unknown, out: AttributeChange[]): void {
  if (!SECRET_NAME.test(name) && isComplexOrAbsent(before) && isComplexOrAbsent(after)) {
    const bo = asObject(before)
    const ao = asObject(after)
    for (const sub of unionOfKeys(bo, ao)) diffValue(`${path}.${sub}`, sub, bo[sub], ao[sub], out)
    return
  }
  diffValue(path, name, before, after, out)
}

function diffValue(path: string, name: string, before: unknown, after: unknown, out: AttributeChange[]): void {
  const b = normalize(before)
  const a = normalize(after)
  if (b === undefined && a === undefined) return
  if (b !== undefined && a !== undefined && sameValue(b, a)) return
  if (SECRET_NAME.test(name)) {
    out.push({ attribute: path, ...(b !== undefined ? { before: REDACTED } : {}), ...(a !== undefined ? { after: REDACTED } : {}), changed: true })
    return
  }
  const rb = redactDeep(b)
  const ra = redactDeep(a)
  out.push({
    attribute: path,
    ...(b !== undefined ? { before: rb.value } : {}),
    ...(a !== undefined ? { after: ra.value } : {}),
    ...(rb.redacted || ra.redacted ? { changed: true as const } : {}),
  })
}

/** RFC 7643 §2.5: null, the empty array and (for complex values) the empty object are unassigned. */
function normalize(value: unknown): unknown {
  if (value === null || value === undefined) return undefined
  if (Array.isArray(value) && value.length === 0) return undefined
  if (isPlainObject(value) && Object.keys(value).every((k) => normalize(value[k]) === undefined)) return undefined
  return value
}

/** A copy of `value` with every nested key named like a secret replaced by REDACTED. */
function redactDeep(value: unknown): { value: unknown; redacted: boolean } {
  if (Array.isArray(value)) {
    let redacted = false
    const items = value.map((v) => {
      const r = redactDeep(v)
      redacted ||= r.redacted
      return r.value
    })
    return { value: items, redacted }
  }
  if (isPlainObject(value)) {
    let redacted = false
    const copy: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) {
      if (SECRET_NAME.test(k) && normalize(v) !== undefined) {
        copy[k] = REDACTED
        redacted = true
      } else {
        const r = redactDeep(v)
        redacted ||= r.redacted
        copy[k] = r.value
      }
    }
    return { value: copy, redacted }
  }
  return { value, redacted: false }
}

/**
 * Whether two present values are the same SCIM value. Most attributes of a PATCH or PUT come back unchanged
 * and in the same order, so equal primitives and equal JSON texts are tried before the canonical texts,
 * which sort every object's keys and every array (a PATCH's audit diff spent most of its time there).
 */
function sameValue(b: unknown, a: unknown): boolean {
  if (b === a) return true
  if (typeof b !== 'object' || typeof a !== 'object') return false
  return JSON.stringify(b) === JSON.stringify(a) || canonicalJson(b) === canonicalJson(a)
}

/**
 * JSON with object keys sorted and arrays sorted by their elements' canonical text, so two values are
 * equal exactly when their canonical texts are: key order never matters, array order never matters
 * (SCIM has no ordered multi-valued attributes, RFC 7643 §2.4).
 */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).sort().join(',')}]`
  if (isPlainObject(value)) {
    const keys = Object.keys(value).filter((k) => normalize(value[k]) !== undefined).sort()
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isComplexOrAbsent(value: unknown): boolean {
  return value === undefined || value === null || isPlainObject(value)
}

const asObject = (value: unknown): Record<string, unknown> => (isPlainObject(value) ? value : {})

function unionOfKeys(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()
}
