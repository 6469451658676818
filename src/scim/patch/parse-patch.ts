import { invalidPath, invalidSyntax, invalidValue, noTarget } from '../errors.js'
import type { FilterNode } from '../filter/filter-ast.js'
import { parseFilter } from '../filter/parse-filter.js'
import { parseAttributePath, type AttributePath } from '../path/attribute-path.js'
import { PATCH_OP } from '../urns.js'

/**
 * RFC 7644 §3.5.2 PATH = attrPath / valuePath [subAttr].
 * `emails[type eq "work"].value` → attribute `{ attribute: 'emails' }`, filter `type eq "work"`, subAttribute `value`.
 * `name.givenName` → attribute `{ attribute: 'name', subAttribute: 'givenName' }`, no filter.
 * A bare extension URN parses as `{ schema: 'urn:…:enterprise:2.0', attribute: 'User' }`; applyPatch recognises
 * it with `registry.findSchema(resourceType, schema + ':' + attribute)`.
 */
export interface PatchPath {
  readonly text: string
  readonly attribute: AttributePath
  readonly filter?: FilterNode
  readonly subAttribute?: string
}

export interface PatchOperation {
  readonly op: 'add' | 'remove' | 'replace'
  readonly path?: PatchPath
  readonly value?: unknown
}

/** Bounds the work one request can ask for; the HTTP body limit bounds its size. */
export const MAX_PATCH_OPERATIONS = 1000

const OPS: readonly PatchOperation['op'][] = ['add', 'remove', 'replace']
const SUB_ATTRIBUTE = /^\.([A-Za-z$][\w$-]*)$/

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * Reads a member of a message object by name in any case: RFC 7643 §2.1 makes attribute names
 * case-insensitive, and Entra ID and others vary the case of `Operations`, `op`, `path` and `value`.
 * Two keys that differ only in case make the message ambiguous: invalidSyntax.
 */
function getKey(obj: Record<string, unknown>, name: string, where: string): unknown {
  const lower = name.toLowerCase()
  const keys = Object.keys(obj).filter((k) => k.toLowerCase() === lower)
  if (keys.length > 1) throw invalidSyntax(`${where} has "${name}" more than once (${keys.join(', ')})`)
  return keys.length === 1 ? obj[keys[0]!] : undefined
}

/**
 * Parses the body of a PATCH request (RFC 7644 §3.5.2) into operations; applyPatch and planMemberPatch
 * take them from here.
 *
 * Throws ScimError 400:
 * - invalidSyntax: not an object; `schemas` present without PatchOp; `Operations` missing, not an array or
 *   empty; an operation that is not an object; unknown `op`; `path` not a string; add/replace without `value`.
 * - invalidPath (or invalidFilter from the filter parser): a `path` that is not a PATH.
 * - noTarget: remove without `path` (RFC 7644 §3.5.2.2).
 * - invalidValue: more than MAX_PATCH_OPERATIONS operations; add/replace without path whose value is not
 *   an object (RFC 7644 §3.5.2.1 and §3.5.2.3: it must be a set of attributes).
 *
 * Accepted on input: `Operations`, `op`, `path` and `value` in any case, and `op` values in any case
 * (Entra ID sends "Add", "Replace", "Remove": Microsoft, "Develop and plan provisioning for a SCIM
 * endpoint"); a missing `schemas`; `"path": null` read as no path (RFC 7643 §2.5: null is unassigned).
 */
export function parsePatchRequest(body: unknown): PatchOperation[] {
  if (!isObject(body)) throw invalidSyntax('A PATCH request body must be a JSON object (RFC 7644 §3.5.2)')
  const schemas = getKey(body, 'schemas', 'The PATCH request')
  if (schemas !== undefined) {
    const ok = Array.isArray(schemas) && schemas.some((s) => typeof s === 'string' && s.toLowerCase() === PATCH_OP.toLowerCase())
    if (!ok) throw invalidSyntax(`"schemas" of a PATCH request must contain "${PATCH_OP}"`)
  }
  const operations = getKey(body, 'Operations', 'The PATCH request')
  if (!Array.isArray(operations)) throw invalidSyntax('A PATCH request must have an "Operations" array (RFC 7644 §3.5.2)')
  if (operations.length === 0) throw invalidSyntax('"Operations" must contain at least one operation (RFC 7644 §3.5.2)')
  if (operations.length > MAX_PATCH_OPERATIONS) {
    throw invalidValue(`A PATCH request may contain at most ${MAX_PATCH_OPERATIONS} operations; this one has ${operations.length}`)
  }
  return operations.map((raw, i) => parseOperation(raw, i))
}

function parseOperation(raw: unknown, index: number): PatchOperation {
  const where = `Operations[${index}]`
  if (!isObject(raw)) throw invalidSyntax(`${where} must be an object`)
  const opText = getKey(raw, 'op', where)
  const op = typeof opText === 'string' ? OPS.find((o) => o === opText.toLowerCase()) : undefined
  if (!op) throw invalidSyntax(`${where}.op must be "add", "remove" or "replace", not ${JSON.stringify(opText)}`)

  const pathText = getKey(raw, 'path', where)
  if (pathText !== undefined && pathText !== null && typeof pathText !== 'string') {
    throw invalidSyntax(`${where}.path must be a string`)
  }
  const path = typeof pathText === 'string' ? parsePatchPath(pathText) : undefined
  const value = getKey(raw, 'value', where)

  if (op === 'remove') {
    if (!path) throw noTarget(`${where}: "remove" requires a "path" (RFC 7644 §3.5.2.2)`)
    return value === undefined ? { op, path } : { op, path, value }
  }
  if (value === undefined) throw invalidSyntax(`${where}: "${op}" requires a "value" (RFC 7644 §3.5.2)`)
  if (!path && !isObject(value)) {
    throw invalidValue(`${where}: without a "path", the "value" of "${op}" must be an object of attributes (RFC 7644 §3.5.2)`)
  }
  return path ? { op, path, value } : { op, value }
}

/**
 * Parses a PATCH path (RFC 7644 §3.5.2 PATH). Brackets and quotes inside the filter's string literals
 * (`members[value eq "a]b"]`) are part of the value, not of the path.
 * Throws ScimError 400 invalidPath, or invalidFilter for a bad filter inside the brackets.
 */
export function parsePatchPath(text: string): PatchPath {
  const open = text.indexOf('[')
  if (open === -1) {
    if (text.includes(']')) throw invalidPath(`"${text}" is not a valid PATCH path`)
    return { text, attribute: parsePlainPath(text) }
  }
  const close = findClosingBracket(text, open)
  if (close === -1) throw invalidPath(`"${text}" has an unclosed "["`)
  const attribute = parseAttributePath(text.slice(0, open))
  if (attribute.subAttribute !== undefined) {
    throw invalidPath(`"${text}": a value filter applies to a multi-valued attribute, not to a sub-attribute`)
  }
  const filterText = text.slice(open + 1, close)
  if (filterText.trim() === '') throw invalidPath(`"${text}" has an empty value filter`)
  const rest = text.slice(close + 1)
  let subAttribute: string | undefined
  if (rest !== '') {
    const m = SUB_ATTRIBUTE.exec(rest)
    if (!m) throw invalidPath(`"${text}": only ".subAttribute" may follow a value filter`)
    subAttribute = m[1]
  }
  const filter = parseFilter(filterText)
  return { text, attribute, filter, ...(subAttribute !== undefined ? { subAttribute } : {}) }
}

/**
 * parseAttributePath, plus the whole-schema case when a URN's last segment is not an attribute name
 * (a custom extension such as `urn:acme:scim:2.0`): it splits at the last ':' as parseAttributePath does,
 * and applyPatch matches the rejoined URN against the resource type's schemas.
 */
function parsePlainPath(text: string): AttributePath {
  try {
    return parseAttributePath(text)
  } catch (e) {
    const trimmed = text.trim()
    const colon = trimmed.lastIndexOf(':')
    const last = trimmed.slice(colon + 1)
    if (/^urn:/i.test(trimmed) && colon > 4 && /^[\w.$-]+$/.test(last)) return { schema: trimmed.slice(0, colon), attribute: last }
    throw e
  }
}

/** Index of the `]` that closes the `[` at `open`, skipping string literals (with `\"` escapes); -1 if none. */
function findClosingBracket(text: string, open: number): number {
  let depth = 0
  let inString = false
  for (let i = open; i < text.length; i++) {
    const c = text[i]
    if (inString) {
      if (c === '\\') i++
      else if (c === '"') inString = false
    } else if (c === '"') inString = true
    else if (c === '[') depth++
    else if (c === ']') {
      depth--
      if (depth === 0) return i
    }
  }
  return -1
}
