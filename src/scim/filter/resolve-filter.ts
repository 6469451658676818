import { invalidFilter, isScimError } from '../errors.js'
import { formatAttributePath, type AttributePath } from '../path/attribute-path.js'
import { defineAttribute, targetOf, type AttributeDefinition, type ResolvedAttribute } from '../schema/attribute.js'
import { findSubAttribute, type SchemaRegistry } from '../schema/schema-registry.js'
import { assertNever, type CompareOp, type FilterNode, type FilterValue, type ResolvedFilterNode } from './filter-ast.js'

/**
 * `schemas` is on every resource (RFC 7643 §3) but no schema and no common-attribute list defines it, and
 * RFC 7644 §3.4.2.2 filters on it (`schemas eq "urn:…:enterprise:2.0:User"`). Schema URIs compare
 * case-insensitively (RFC 7643 §2.1), hence caseExact false. A string, as RFC 7643 §3 describes it.
 */
const SCHEMAS_ATTRIBUTE: AttributeDefinition = defineAttribute('schemas', { multiValued: true, mutability: 'readOnly', returned: 'always' })

/**
 * Binds every attribute path of a parsed filter to its definitions and coerces each value to the type of the
 * attribute it is compared with (RFC 7644 §3.4.2.2):
 * - a complex attribute compared without a sub-attribute (`emails co "x"`) means its `value` sub-attribute;
 * - inside `attr[…]`, `attr` must be complex and inner paths name its sub-attributes;
 * - gt/ge/lt/le are refused on boolean and binary, co/sw/ew on boolean, integer and decimal, null on all but eq/ne;
 * - dateTime values are normalised to ISO 8601 UTC (`new Date(v).toISOString()`); numeric strings become
 *   numbers, "true"/"false" strings (any case) become booleans, numbers compared with strings become strings.
 * Attributes returned 'never' (password) cannot be filtered on, so a filter cannot probe a secret.
 *
 * @returns the same tree shape with `attr: ResolvedAttribute` in place of `path`.
 * @throws ScimError 400 invalidFilter for an unknown attribute (the registry's invalidPath is re-raised as
 *   invalidFilter, RFC 7644 §3.12) or any of the refusals above.
 */
export function resolveFilter(node: FilterNode, registry: SchemaRegistry, resourceType: string): ResolvedFilterNode {
  return resolveNode(node, (path) => resolvePath(registry, resourceType, path))
}

type PathResolver = (path: AttributePath) => ResolvedAttribute

function resolveNode(node: FilterNode, resolve: PathResolver): ResolvedFilterNode {
  switch (node.kind) {
    case 'compare': {
      const attr = compareTarget(resolve(node.path), node.path)
      return { kind: 'compare', attr, op: node.op, value: coerceValue(attr, node.op, node.value, node.path) }
    }
    case 'present':
      return { kind: 'present', attr: resolve(node.path) }
    case 'and':
    case 'or':
      return { kind: node.kind, left: resolveNode(node.left, resolve), right: resolveNode(node.right, resolve) }
    case 'not':
      return { kind: 'not', operand: resolveNode(node.operand, resolve) }
    case 'valuePath': {
      const outer = resolve(node.path)
      const shown = formatAttributePath(node.path)
      if (outer.subAttribute || outer.attribute.type !== 'complex') {
        throw invalidFilter(`"${shown}[…]" needs a complex attribute before "["`)
      }
      return { kind: 'valuePath', attr: outer, filter: resolveNode(node.filter, innerResolver(outer, shown)) }
    }
    default:
      return assertNever(node)
  }
}

/** Inside `emails[…]`: `type` means emails.type. A URN, a dotted path or another `[` has no meaning there. */
function innerResolver(outer: ResolvedAttribute, shown: string): PathResolver {
  return (path) => {
    if (path.schema !== undefined || path.subAttribute !== undefined) {
      throw invalidFilter(`"${formatAttributePath(path)}" inside "${shown}[…]" must be a plain sub-attribute name`)
    }
    const sub = findSubAttribute(outer.attribute, path.attribute)
    if (!sub) throw invalidFilter(`Unknown sub-attribute "${path.attribute}" inside "${shown}[…]"`)
    return refuseSecret({ ...outer, subAttribute: sub }, `${shown}.${path.attribute}`)
  }
}

function resolvePath(registry: SchemaRegistry, resourceType: string, path: AttributePath): ResolvedAttribute {
  let resolved: ResolvedAttribute
  try {
    resolved = registry.resolve(resourceType, path)
  } catch (e) {
    if (!isScimError(e) || e.scimType !== 'invalidPath') throw e
    const schemas = schemasAttribute(registry, resourceType, path)
    if (!schemas) throw invalidFilter(e.detail)
    resolved = schemas
  }
  return refuseSecret(resolved, formatAttributePath(path))
}

/** The registry does not know `schemas`; bind it here, bare or prefixed with the core schema URN. */
function schemasAttribute(registry: SchemaRegistry, resourceType: string, path: AttributePath): ResolvedAttribute | undefined {
  if (path.attribute.toLowerCase() !== 'schemas' || path.subAttribute !== undefined) return undefined
  const core = registry.schemasOf(resourceType)[0]
  if (!core) return undefined
  if (path.schema !== undefined && path.schema.toLowerCase() !== core.definition.id.toLowerCase()) return undefined
  return { schema: core.definition.id, isExtension: false, isCommon: true, attribute: SCHEMAS_ATTRIBUTE }
}

function refuseSecret(attr: ResolvedAttribute, shown: string): ResolvedAttribute {
  if (attr.attribute.returned === 'never' || attr.subAttribute?.returned === 'never') {
    throw invalidFilter(`"${shown}" cannot be used in a filter: it is never returned`)
  }
  return attr
}

/** RFC 7644 §3.4.2.2: a complex attribute compared as a whole is compared through its `value` sub-attribute. */
function compareTarget(attr: ResolvedAttribute, path: AttributePath): ResolvedAttribute {
  if (attr.subAttribute || attr.attribute.type !== 'complex') return attr
  const value = findSubAttribute(attr.attribute, 'value')
  if (!value) throw invalidFilter(`"${formatAttributePath(path)}" is complex: compare one of its sub-attributes`)
  return { ...attr, subAttribute: value }
}

const ORDERING_OPS: ReadonlySet<CompareOp> = new Set(['gt', 'ge', 'lt', 'le'])
const SUBSTRING_OPS: ReadonlySet<CompareOp> = new Set(['co', 'sw', 'ew'])

function coerceValue(attr: ResolvedAttribute, op: CompareOp, value: FilterValue, path: AttributePath): FilterValue {
  const def = targetOf(attr)
  const shown = formatAttributePath(path)
  const refuse = (why: string) => invalidFilter(`"${shown} ${op} ${JSON.stringify(value)}": ${why}`)
  if (ORDERING_OPS.has(op) && (def.type === 'boolean' || def.type === 'binary')) {
    throw refuse(`"${op}" is not defined for ${def.type} attributes (RFC 7644 §3.4.2.2)`)
  }
  if (SUBSTRING_OPS.has(op) && (def.type === 'boolean' || def.type === 'integer' || def.type === 'decimal')) {
    throw refuse(`"${op}" is only defined for string, reference, binary and dateTime attributes`)
  }
  if (value === null) {
    if (op !== 'eq' && op !== 'ne') throw refuse('null can only be compared with eq or ne')
    return null
  }
  switch (def.type) {
    case 'string':
    case 'reference':
    case 'binary':
      if (typeof value === 'number') return String(value)
      if (typeof value !== 'string') throw refuse(`${def.type} attributes take a string value`)
      return value
    case 'dateTime': {
      if (typeof value !== 'string') throw refuse('dateTime attributes take a string value')
      // A substring test runs on the stored text, so the value stays as written (`meta.created sw "2011-05"`).
      if (SUBSTRING_OPS.has(op)) return value
      const ms = parseDateTime(value)
      if (ms === undefined) throw refuse('not an RFC 3339 / xsd:dateTime value')
      return new Date(ms).toISOString()
    }
    case 'integer':
    case 'decimal': {
      const n = typeof value === 'string' ? numericString(value) : value
      if (typeof n !== 'number') throw refuse(`${def.type} attributes take a number`)
      if (def.type === 'integer' && !Number.isInteger(n)) throw refuse('integer attributes take a whole number')
      return n
    }
    case 'boolean':
      if (typeof value === 'boolean') return value
      // Entra ID sends booleans as strings ("True"/"False"), see Microsoft Learn "Known issues and
      // resolutions with SCIM 2.0 protocol compliance of the Microsoft Entra user provisioning service".
      if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true'
      throw refuse('boolean attributes take true or false')
    case 'complex':
      // compareTarget has already replaced a complex target by its `value` sub-attribute.
      throw refuse('complex attributes cannot be compared')
    default:
      return assertNever(def.type)
  }
}

/** A tolerance: `"42"` compared with an integer attribute means 42. */
function numericString(s: string): number | undefined {
  const t = s.trim()
  if (!/^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(t)) return undefined
  const n = Number(t)
  return Number.isFinite(n) ? n : undefined
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})?)?$/

/**
 * Milliseconds since the epoch for an xsd:dateTime (RFC 7643 §2.3.5) or a bare date, or undefined.
 * A date-time without an offset is read as UTC, not in the server's time zone (which Date.parse would use),
 * so a filter means the same on every host. Impossible dates (`2011-02-30`) are refused rather than rolled over.
 */
export function parseDateTime(text: string): number | undefined {
  const m = DATE_TIME.exec(text.trim())
  if (!m) return undefined
  const [, year, month, day, hour, minute, second, zone] = m
  const y = Number(year)
  const mo = Number(month)
  const d = Number(day)
  const probe = new Date(0)
  probe.setUTCFullYear(y, mo - 1, d)
  if (probe.getUTCFullYear() !== y || probe.getUTCMonth() !== mo - 1 || probe.getUTCDate() !== d) return undefined
  if (hour !== undefined && (Number(hour) > 23 || Number(minute) > 59 || Number(second ?? 0) > 59)) return undefined
  const iso = hour === undefined ? text.trim() : zone === undefined ? `${text.trim()}Z` : text.trim()
  const ms = Date.parse(iso)
  return Number.isNaN(ms) ? undefined : ms
}
