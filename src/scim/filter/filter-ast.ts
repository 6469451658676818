import type { AttributePath } from '../path/attribute-path.js'
import type { ResolvedAttribute } from '../schema/attribute.js'

/** RFC 7644 §3.4.2.2 Table 3. `pr` has its own node kind because it takes no value. */
export type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le'
export const COMPARE_OPS: readonly CompareOp[] = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']

/** compValue = false / null / true / number / string (RFC 7644 §3.4.2.2 ABNF). */
export type FilterValue = string | number | boolean | null

/**
 * A parsed filter: pure data. Inside a valuePath, paths are relative to the multi-valued attribute
 * (`emails[type eq "work"]` has an inner path `{ attribute: 'type' }`).
 */
export type FilterNode =
  | { readonly kind: 'compare'; readonly path: AttributePath; readonly op: CompareOp; readonly value: FilterValue }
  | { readonly kind: 'present'; readonly path: AttributePath }
  | { readonly kind: 'and' | 'or'; readonly left: FilterNode; readonly right: FilterNode }
  | { readonly kind: 'not'; readonly operand: FilterNode }
  | { readonly kind: 'valuePath'; readonly path: AttributePath; readonly filter: FilterNode }

/**
 * A filter whose paths are bound to attribute definitions by resolveFilter. Inside a valuePath the inner
 * nodes' `attr` has the multi-valued attribute as `attribute` and the compared field as `subAttribute`.
 * Values are already coerced to the attribute's type (dateTime normalised to ISO 8601 UTC).
 */
export type ResolvedFilterNode =
  | { readonly kind: 'compare'; readonly attr: ResolvedAttribute; readonly op: CompareOp; readonly value: FilterValue }
  | { readonly kind: 'present'; readonly attr: ResolvedAttribute }
  | { readonly kind: 'and' | 'or'; readonly left: ResolvedFilterNode; readonly right: ResolvedFilterNode }
  | { readonly kind: 'not'; readonly operand: ResolvedFilterNode }
  | { readonly kind: 'valuePath'; readonly attr: ResolvedAttribute; readonly filter: ResolvedFilterNode }

export function assertNever(x: never): never {
  throw new Error(`unhandled node: ${JSON.stringify(x)}`)
}

// Builders, used by the parser and by tests to write expected trees.
const toPath = (p: string | AttributePath): AttributePath => {
  if (typeof p !== 'string') return p
  const m = /^(urn:.*):([^:]+)$/i.exec(p)
  const schema = m?.[1]
  const rest = m?.[2] ?? p
  const [attribute = '', subAttribute] = rest.split('.', 2)
  return { ...(schema ? { schema } : {}), attribute, ...(subAttribute !== undefined ? { subAttribute } : {}) }
}
export const compare = (path: string | AttributePath, op: CompareOp, value: FilterValue): FilterNode => ({ kind: 'compare', path: toPath(path), op, value })
export const eq = (path: string | AttributePath, value: FilterValue) => compare(path, 'eq', value)
export const present = (path: string | AttributePath): FilterNode => ({ kind: 'present', path: toPath(path) })
export const and = (left: FilterNode, right: FilterNode): FilterNode => ({ kind: 'and', left, right })
export const or = (left: FilterNode, right: FilterNode): FilterNode => ({ kind: 'or', left, right })
export const not = (operand: FilterNode): FilterNode => ({ kind: 'not', operand })
export const valuePath = (path: string | AttributePath, filter: FilterNode): FilterNode => ({ kind: 'valuePath', path: toPath(path), filter })
