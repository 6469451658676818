import { targetOf, type AttributeDefinition, type ResolvedAttribute, type ScimObject } from '../schema/attribute.js'
import { assertNever, type CompareOp, type FilterValue, type ResolvedFilterNode } from './filter-ast.js'
import { parseDateTime } from './resolve-filter.js'

/**
 * Evaluates a resolved filter against one resource in canonical form (RFC 7644 §3.4.2.2):
 * - a multi-valued attribute, or a sub-attribute of a multi-valued complex one (`emails.type`), matches when
 *   any of its values does; `attr[…]` matches when one element satisfies the whole inner filter;
 * - `pr` is true when the attribute has a non-empty value: not null, not "", not [] and not a complex value
 *   whose sub-attributes are all empty;
 * - `eq null` is exactly `not pr`, and `ne x` is exactly `not (eq x)`, so `ne` matches an absent attribute;
 * - any other comparison with an absent attribute is false;
 * - strings compare lower-cased unless the attribute is caseExact, dateTimes as instants, numbers as numbers.
 *
 * @returns whether the resource matches. Throws no ScimError: resolveFilter has refused every bad filter.
 */
export function matchFilter(resource: ScimObject, node: ResolvedFilterNode): boolean {
  return evaluate(node, (attr) => valuesInResource(resource, attr), resource)
}

/**
 * Evaluates the inner filter of a value path (`members[value eq "x"]`, RFC 7644 §3.5.2) against one element of
 * the multi-valued attribute: each inner node's `attr.subAttribute` names the element's field. Same semantics
 * as matchFilter.
 *
 * @returns whether the element matches.
 */
export function matchElement(element: ScimObject, node: ResolvedFilterNode): boolean {
  return evaluate(node, (attr) => valuesInElement(element, attr), undefined)
}

type ValueLookup = (attr: ResolvedAttribute) => unknown[]

function evaluate(node: ResolvedFilterNode, lookup: ValueLookup, resource: ScimObject | undefined): boolean {
  switch (node.kind) {
    case 'compare':
      return compareValues(lookup(node.attr), node.op, node.value, targetOf(node.attr))
    case 'present':
      return lookup(node.attr).some(isPresentValue)
    case 'and':
      return evaluate(node.left, lookup, resource) && evaluate(node.right, lookup, resource)
    case 'or':
      return evaluate(node.left, lookup, resource) || evaluate(node.right, lookup, resource)
    case 'not':
      return !evaluate(node.operand, lookup, resource)
    case 'valuePath': {
      // resolveFilter never nests a value path, so one can only appear at the resource level.
      if (!resource) throw new Error('a value path cannot be evaluated inside another value path')
      return complexValues(resource, node.attr).some((element) => matchElement(element, node.filter))
    }
    default:
      return assertNever(node)
  }
}

const isObject = (v: unknown): v is ScimObject => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Values as a list, nulls dropped: a single value, or the elements of a multi-valued one. */
const asList = (v: unknown): unknown[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v.filter((x) => x !== null && x !== undefined) : [v])

/** The canonical name first; any case as a fallback (RFC 7643 §2.1: attribute names are case-insensitive). */
function field(obj: ScimObject, name: string): unknown {
  if (Object.hasOwn(obj, name)) return obj[name]
  const lower = name.toLowerCase()
  const key = Object.keys(obj).find((k) => k.toLowerCase() === lower)
  return key === undefined ? undefined : obj[key]
}

function topValue(resource: ScimObject, attr: ResolvedAttribute): unknown {
  const container = attr.isExtension ? field(resource, attr.schema) : resource
  return isObject(container) ? field(container, attr.attribute.name) : undefined
}

function complexValues(resource: ScimObject, attr: ResolvedAttribute): ScimObject[] {
  return asList(topValue(resource, attr)).filter(isObject)
}

function valuesInResource(resource: ScimObject, attr: ResolvedAttribute): unknown[] {
  if (!attr.subAttribute) return asList(topValue(resource, attr))
  const name = attr.subAttribute.name
  return complexValues(resource, attr).flatMap((element) => asList(field(element, name)))
}

function valuesInElement(element: ScimObject, attr: ResolvedAttribute): unknown[] {
  return attr.subAttribute ? asList(field(element, attr.subAttribute.name)) : [element]
}

/** RFC 7644 §3.4.2.2 "pr": "If the attribute has a non-empty value, or if it contains a non-empty node for complex attributes". */
function isPresentValue(v: unknown): boolean {
  if (v === null || v === undefined || v === '') return false
  if (Array.isArray(v)) return v.some(isPresentValue)
  if (isObject(v)) return Object.values(v).some(isPresentValue)
  return true
}

function compareValues(values: unknown[], op: CompareOp, value: FilterValue, def: AttributeDefinition): boolean {
  if (op === 'ne') return !compareValues(values, 'eq', value, def)
  if (value === null) return op === 'eq' && !values.some(isPresentValue)
  return values.some((stored) => compareOne(stored, op, value, def))
}

function compareOne(stored: unknown, op: CompareOp, value: string | number | boolean, def: AttributeDefinition): boolean {
  switch (def.type) {
    case 'string':
    case 'reference':
    case 'binary':
      return typeof stored === 'string' && typeof value === 'string' && compareStrings(stored, op, value, def.caseExact)
    case 'dateTime': {
      if (typeof stored !== 'string' || typeof value !== 'string') return false
      if (op === 'co' || op === 'sw' || op === 'ew') return compareStrings(stored, op, value, def.caseExact)
      const a = parseDateTime(stored)
      const b = parseDateTime(value)
      return a !== undefined && b !== undefined && order(a, op, b)
    }
    case 'integer':
    case 'decimal':
      return typeof stored === 'number' && typeof value === 'number' && order(stored, op, value)
    case 'boolean':
      return op === 'eq' && stored === value
    case 'complex':
      return false
    default:
      return assertNever(def.type)
  }
}

function compareStrings(stored: string, op: CompareOp, value: string, caseExact: boolean): boolean {
  const a = caseExact ? stored : stored.toLowerCase()
  const b = caseExact ? value : value.toLowerCase()
  switch (op) {
    case 'co':
      return a.includes(b)
    case 'sw':
      return a.startsWith(b)
    case 'ew':
      return a.endsWith(b)
    default:
      return order(a, op, b)
  }
}

/** eq and the orderings; substring operators are not orderings and never match here. */
function order<T extends string | number>(a: T, op: CompareOp, b: T): boolean {
  switch (op) {
    case 'eq':
      return a === b
    case 'ne':
      return a !== b
    case 'gt':
      return a > b
    case 'ge':
      return a >= b
    case 'lt':
      return a < b
    case 'le':
      return a <= b
    case 'co':
    case 'sw':
    case 'ew':
      return false
    default:
      return assertNever(op)
  }
}
