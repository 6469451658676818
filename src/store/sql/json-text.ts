/**
 * JSON text that PostgreSQL's jsonb accepts whatever strings `value` holds: a lone surrogate (which a JSON
 * client can send as "\ud800", and JSON.stringify writes back as such) becomes U+FFFD, as a UTF-8 encoder
 * would write it. For what Roster records rather than what a client stores (audit events, settings): a
 * resource's own text is refused instead (validateResource), so that a client never reads back other text
 * than it wrote. Both adapters use it, so both keep the same text.
 */
export function jsonText(value: unknown): string {
  const text = JSON.stringify(value)
  // The fast path: JSON.stringify escapes every lone surrogate as \udXXX. A literal backslash-u in a value
  // also matches, and then only costs the second pass.
  if (!text.includes('\\ud')) return text
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' ? toWellFormed(v) : v))
}

/** String.prototype.toWellFormed (Node >= 20), which the ES2022 library types do not declare. */
const toWellFormed = (s: string): string => (s as string & { toWellFormed(): string }).toWellFormed()
