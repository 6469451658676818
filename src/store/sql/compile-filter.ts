import {
  GROUP_SCHEMA,
  USER_SCHEMA,
  assertNever,
  invalidValue,
  invalidFilter,
  type AttributeDefinition,
  type CompareOp,
  type FilterValue,
  type ResolvedAttribute,
  type ResolvedFilterNode,
} from '../../scim/index.js'
import type { JsonPathSegment, JsonValueType, SqlDialect } from './sql-dialect.js'

export interface CompiledSql {
  readonly sql: string
  readonly params: unknown[]
}

export interface FilterContext {
  readonly dialect: SqlDialect
  readonly resourceType: string
  /**
   * The tenant, bound again inside the email and membership subqueries so that they are uncorrelated:
   * SQLite then runs them once, from their own index, instead of once per candidate row.
   */
  readonly tenant: string
  /** The position of the first parameter this fragment binds (Postgres `$n`); 1 when omitted. */
  readonly firstParam?: number
}

export interface SortKeyContext {
  readonly dialect: SqlDialect
  readonly resourceType: string
}

/**
 * Compiles a resolved filter (RFC 7644 §3.4.2.2) into a WHERE fragment over the resources table aliased
 * `r`. Every value becomes a parameter; column names and JSON paths come only from attribute definitions.
 *
 * Indexed columns serve id, externalId, userName, displayName, meta.created, meta.lastModified and
 * meta.resourceType; emails.value, Group members and User groups (direct and indirect, as the groups
 * attribute lists them) read their own tables through uncorrelated `r.id IN (…)` subqueries; everything
 * else reads the JSON in `r.data` (any element matches for a multi-valued attribute). `ne`, `not` and `eq null` are true where the value is absent: negations
 * are written `NOT COALESCE((…), false)` because SQL's NOT of NULL is NULL.
 *
 * Throws ScimError 400 invalidFilter for comparisons the attribute's type does not allow (`gt` on a
 * boolean, `co` on a number) and for attributes that are not stored (meta.version, meta.location, $ref).
 *
 * @example
 * compileFilter(resolved(`userName sw "Bj"`), { dialect: sqliteDialect, resourceType: 'User', tenant: 't' })
 * // { sql: '(r.user_name_ci >= ? AND r.user_name_ci < ?)', params: ['bj', 'bk'] }
 */
export function compileFilter(node: ResolvedFilterNode, context: FilterContext): CompiledSql {
  const state: CompileState = { ...context, firstParam: context.firstParam ?? 1, params: [], aliases: 0 }
  const sql = compileNode(node, state, RESOURCE)
  return { sql, params: state.params }
}

/**
 * Whether no more than one resource can match: the filter is, or has among its top-level `and` terms, an
 * `eq` on id or on a User's userName with a non-null value (both unique within a tenant and type). Such a
 * query needs no ORDER BY; measured on SQLite, the sort of the one row SQLite otherwise prepares doubled the
 * cost of the `userName eq` lookup IdPs send before every create (33 µs against 16 µs).
 */
export function matchesAtMostOne(node: ResolvedFilterNode): boolean {
  if (node.kind === 'and') return matchesAtMostOne(node.left) || matchesAtMostOne(node.right)
  if (node.kind !== 'compare' || node.op !== 'eq' || node.value === null || node.attr.subAttribute || node.attr.isExtension) return false
  const { attr } = node
  return (attr.isCommon && attr.attribute.name === 'id') || (attr.schema === USER_SCHEMA && attr.attribute.name === 'userName')
}

/**
 * The ORDER BY expression for sortBy (RFC 7644 §3.4.2.3), without direction. Case-insensitive strings
 * sort by their lower-cased form; a multi-valued attribute sorts by its primary element's value, or its
 * first element's when none is primary. Throws ScimError 400 for attributes that cannot be sorted on.
 */
export function compileSortKey(attr: ResolvedAttribute, context: SortKeyContext): string {
  const { dialect } = context
  if (attr.isCommon && attr.attribute.name === 'meta') {
    switch (attr.subAttribute?.name) {
      case 'created':
        return 'r.created'
      case 'lastModified':
        return 'r.last_modified'
      case 'resourceType':
        return 'r.resource_type'
      case 'version':
        return 'r.version'
      default:
        throw invalidValue(`Cannot sort by meta${attr.subAttribute ? `.${attr.subAttribute.name}` : ''}`)
    }
  }
  const column = indexedColumn(attr)
  if (column) return column.expr
  if (isMembership(attr)) throw invalidValue(`Cannot sort by ${attr.attribute.name}`)
  const def = attr.attribute
  const sub = attr.subAttribute ?? (def.type === 'complex' ? valueSubAttribute(def) : undefined)
  if (def.type === 'complex' && !sub) throw invalidValue(`Cannot sort by complex attribute ${def.name}`)
  const target = sub ?? def
  const type = jsonTypeOf(target)
  const base = basePath(attr)
  const inElement = sub ? [sub.name] : []
  let expr: string
  if (!def.multiValued) {
    expr = dialect.jsonValue('r.data', [...base, ...inElement], type)
  } else {
    const first = dialect.jsonValue('r.data', [...base, 0, ...inElement], type)
    const primary = def.subAttributes?.find((a) => a.name === 'primary' && a.type === 'boolean')
    const alias = 's1'
    expr = primary
      ? `COALESCE((SELECT ${dialect.elementValue(alias, inElement, type)} FROM ${dialect.jsonArrayElements('r.data', base, alias)}` +
        ` WHERE ${dialect.elementValue(alias, [primary.name], 'boolean')} = ${dialect.trueLiteral} LIMIT 1), ${first})`
      : first
  }
  return sortsLowerCased(target) ? dialect.lower(expr) : expr
}

// ---------------------------------------------------------------------------------------------------

interface CompileState {
  readonly dialect: SqlDialect
  readonly resourceType: string
  readonly tenant: string
  readonly firstParam: number
  readonly params: unknown[]
  aliases: number
}

/** How a compared value is read, and how it must be compared. */
interface Operand {
  readonly expr: string
  readonly type: OperandType
  /** caseExact false on a string: both sides are lower-cased. */
  readonly caseInsensitive: boolean
  /** The expression already holds lower-cased text (a `_ci` column), so only the parameter is folded. */
  readonly folded: boolean
  /** A plain indexed column: `sw` becomes a range its index serves. */
  readonly indexed: boolean
}

type OperandType = 'text' | 'dateTime' | 'number' | 'boolean'

/**
 * The elements of a multi-valued attribute: JSON array elements in r.data, or the rows of a side table.
 * `any` opens the subquery (binding its own parameters first, so they come before the condition's in
 * text order) and wraps the element condition built by `condition`.
 */
interface Collection {
  any(state: CompileState, condition: (element: ElementScope) => string): string
  nonEmpty(state: CompileState): string
}

interface ElementScope {
  readonly kind: 'element'
  readonly attribute: AttributeDefinition
  operand(sub: AttributeDefinition | undefined): Operand
}

const RESOURCE = { kind: 'resource' } as const
type Scope = typeof RESOURCE | ElementScope

function compileNode(node: ResolvedFilterNode, state: CompileState, scope: Scope): string {
  switch (node.kind) {
    case 'and':
    case 'or': {
      const left = compileNode(node.left, state, scope)
      const right = compileNode(node.right, state, scope)
      return `(${left} ${node.kind === 'and' ? 'AND' : 'OR'} ${right})`
    }
    case 'not':
      return negate(compileNode(node.operand, state, scope), state)
    case 'compare':
      return compileCompare(node.attr, node.op, node.value, state, scope)
    case 'present':
      return compilePresent(node.attr, state, scope)
    case 'valuePath':
      return compileValuePath(node.attr, node.filter, state, scope)
    default:
      return assertNever(node)
  }
}

function negate(sql: string, state: CompileState): string {
  return `NOT COALESCE(${isGrouped(sql) ? sql : `(${sql})`}, ${state.dialect.falseLiteral})`
}

function compileCompare(attr: ResolvedAttribute, op: CompareOp, value: FilterValue, state: CompileState, scope: Scope): string {
  // RFC 7644 §3.4.2.2 gives no meaning to null beyond "absent": eq null ⇔ not present, ne null ⇔ present.
  if (value === null) {
    if (op === 'eq') return negate(compilePresent(attr, state, scope), state)
    if (op === 'ne') return compilePresent(attr, state, scope)
    throw invalidFilter(`"${op}" cannot compare ${shown(attr)} with null`)
  }
  // ne is the negation of eq, so it also matches resources where the attribute is absent.
  if (op === 'ne') return negate(compileCompare(attr, 'eq', value, state, scope), state)
  if (scope.kind === 'element') return compareOperand(scope.operand(elementSub(attr)), op, value, state, attr)
  const column = indexedColumn(attr)
  if (column) return compareOperand(column, op, value, state, attr)
  if (attr.attribute.multiValued) {
    const sub = elementSub(attr)
    const pinned = op === 'eq' && sub?.name === 'value' && typeof value === 'string' ? value : undefined
    const shape: ConditionShape = { subs: sub ? [sub.name] : [], negated: false, ...(pinned !== undefined ? { pinnedValue: pinned } : {}) }
    return collectionOf(attr, shape).any(state, (element) => compareOperand(element.operand(sub), op, value, state, attr))
  }
  return compareOperand(jsonOperand(attr, state), op, value, state, attr)
}

function compilePresent(attr: ResolvedAttribute, state: CompileState, scope: Scope): string {
  if (scope.kind === 'element') return attr.subAttribute ? presentOperand(scope.operand(attr.subAttribute)) : presentElement(scope, state)
  const column = indexedColumn(attr)
  if (column) return presentOperand(column)
  const def = attr.attribute
  if (def.name === 'meta' && attr.isCommon && !attr.subAttribute) return state.dialect.trueLiteral // every stored resource has meta
  if (def.multiValued) {
    const sub = attr.subAttribute
    const collection = collectionOf(attr, { subs: sub ? [sub.name] : [], negated: false })
    return sub ? collection.any(state, (element) => presentOperand(element.operand(sub))) : collection.nonEmpty(state)
  }
  if (def.type === 'complex' && !attr.subAttribute) {
    // RFC 7644 §3.4.2.2 pr: "a non-empty node for complex attributes", i.e. one of its sub-attributes is present.
    return anyOf((def.subAttributes ?? []).map((sub) => presentOperand(jsonOperand({ ...attr, subAttribute: sub }, state))), state)
  }
  return presentOperand(jsonOperand(attr, state))
}

/** An element is present when it is a non-empty value, or for a complex one when one of its sub-attributes is. */
function presentElement(element: ElementScope, state: CompileState): string {
  const def = element.attribute
  if (def.type !== 'complex') return presentOperand(element.operand(undefined))
  return anyOf((def.subAttributes ?? []).map((sub) => presentOperand(element.operand(sub))), state)
}

function anyOf(conditions: readonly string[], state: CompileState): string {
  if (conditions.length === 0) return state.dialect.falseLiteral
  return conditions.length === 1 ? conditions[0]! : `(${conditions.join(' OR ')})`
}

function compileValuePath(attr: ResolvedAttribute, filter: ResolvedFilterNode, state: CompileState, scope: Scope): string {
  if (scope.kind === 'element') throw invalidFilter(`A value filter cannot be nested inside ${scope.attribute.name}[…]`)
  if (!attr.attribute.multiValued) {
    // name[givenName eq "x"]: the inner paths resolve as name.givenName does, against the resource.
    if (attr.attribute.type !== 'complex') throw invalidFilter(`${shown(attr)} is not complex; it takes no value filter`)
    return compileNode(filter, state, RESOURCE)
  }
  return collectionOf(attr, shapeOf(filter)).any(state, (element) => compileNode(filter, state, element))
}

// ---------------------------------------------------------------------------------------------------
// Comparisons on one operand

function compareOperand(operand: Operand, op: Exclude<CompareOp, 'ne'>, value: Exclude<FilterValue, null>, state: CompileState, attr: ResolvedAttribute): string {
  const { dialect } = state
  switch (operand.type) {
    case 'boolean':
      if (op !== 'eq') throw invalidFilter(`"${op}" is not defined for boolean ${shown(attr)}`)
      if (typeof value !== 'boolean') throw invalidFilter(`${shown(attr)} is boolean; compare it with true or false`)
      return `${operand.expr} = ${bind(state, dialect.booleanParam(value))}`
    case 'number':
      if (op === 'co' || op === 'sw' || op === 'ew') throw invalidFilter(`"${op}" is not defined for number ${shown(attr)}`)
      if (typeof value !== 'number') throw invalidFilter(`${shown(attr)} is a number; compare it with a number`)
      return `${operand.expr} ${SQL_OPERATOR[op]} ${bind(state, value)}`
    case 'text':
    case 'dateTime': {
      if (typeof value !== 'string') throw invalidFilter(`${shown(attr)} is a string; compare it with a string`)
      if (operand.type === 'dateTime') {
        // resolveFilter normalised the value of eq and the orderings to ISO 8601 UTC, the form stored, so
        // the text compares as the instant. co/sw/ew keep the value as written and test the stored text;
        // caseExact false there means upper-casing the value, as that text's only letters are T and Z.
        if (op === 'co' || op === 'sw' || op === 'ew') return compareText(operand, op, operand.caseInsensitive ? value.toUpperCase() : value, operand.expr, state)
        return compareText(operand, op, value, operand.expr, state)
      }
      const ci = operand.caseInsensitive
      const lhs = ci && !operand.folded ? dialect.lower(operand.expr) : operand.expr
      return compareText(operand, op, ci ? value.toLowerCase() : value, lhs, state)
    }
    default:
      return assertNever(operand.type)
  }
}

function compareText(operand: Operand, op: Exclude<CompareOp, 'ne'>, value: string, lhs: string, state: CompileState): string {
  const { dialect } = state
  switch (op) {
    case 'eq':
    case 'gt':
    case 'ge':
    case 'lt':
    case 'le':
      return `${lhs} ${SQL_OPERATOR[op]} ${bind(state, value)}`
    case 'sw':
      if (operand.indexed && lhs === operand.expr) return prefixRange(lhs, value, state)
      return dialect.matchPattern(lhs, bind(state, dialect.pattern(op, value)))
    case 'co':
    case 'ew': {
      const match = dialect.matchPattern(lhs, bind(state, dialect.pattern(op, value)))
      // SQLite's userName index is partial (WHERE user_name_ci IS NOT NULL): only with that term in the
      // query may the planner scan the index alone instead of every row. Measured at 100,000 users:
      // `userName co` 329 ms → 18 ms for the COUNT (bench profile, BENCHMARKS.md). Same result set: a
      // pattern never matches NULL.
      if (dialect.name === 'sqlite' && lhs === 'r.user_name_ci') return `(${lhs} IS NOT NULL AND ${match})`
      return match
    }
    default:
      return assertNever(op)
  }
}

const SQL_OPERATOR = { eq: '=', gt: '>', ge: '>=', lt: '<', le: '<=' } as const

/** pr (RFC 7644 §3.4.2.2): a value that is not null and, for strings, not empty. */
function presentOperand(operand: Operand): string {
  return operand.type === 'text' || operand.type === 'dateTime' ? `${operand.expr} <> ''` : `${operand.expr} IS NOT NULL`
}

/**
 * `sw` on an indexed column as `col >= prefix AND col < next`, where next is the prefix with its last
 * code point incremented: both engines compare these columns by code point (SQLite BINARY, Postgres
 * COLLATE "C"), so the index serves the range where a LIKE/GLOB pattern would not always be used.
 */
function prefixRange(column: string, prefix: string, state: CompileState): string {
  const upper = nextPrefix(prefix)
  const low = `${column} >= ${bind(state, prefix)}`
  return upper === undefined ? low : `(${low} AND ${column} < ${bind(state, upper)})`
}

/** The least string greater than every string that starts with `prefix`; undefined when there is none. */
export function nextPrefix(prefix: string): string | undefined {
  const points = Array.from(prefix, (c) => c.codePointAt(0)!)
  while (points.length > 0) {
    let last = points.pop()! + 1
    if (last >= 0xd800 && last <= 0xdfff) last = 0xe000 // surrogates are not characters
    if (last <= 0x10ffff) return String.fromCodePoint(...points, last)
  }
  return undefined
}

// ---------------------------------------------------------------------------------------------------
// Where an attribute is stored

const COLUMN = (expr: string, type: OperandType, caseInsensitive = false, folded = false): Operand => ({ expr, type, caseInsensitive, folded, indexed: true })

/** The column that holds the attribute, for the attributes that have one. */
function indexedColumn(attr: ResolvedAttribute): Operand | undefined {
  const name = attr.attribute.name
  if (attr.isCommon) {
    if (name === 'id') return COLUMN('r.id', 'text')
    if (name === 'externalId') return COLUMN('r.external_id', 'text', !attr.attribute.caseExact)
    if (name === 'meta') {
      switch (attr.subAttribute?.name) {
        case 'created':
          return COLUMN('r.created', 'dateTime', !attr.subAttribute.caseExact)
        case 'lastModified':
          return COLUMN('r.last_modified', 'dateTime', !attr.subAttribute.caseExact)
        case 'resourceType':
          return COLUMN('r.resource_type', 'text')
        case 'version':
          // The ETag's text is the HTTP layer's choice; the store keeps only the number.
          throw invalidFilter('meta.version is not filterable')
        case 'location':
          throw invalidFilter('meta.location is not filterable')
        default:
          return undefined
      }
    }
    return undefined
  }
  if (attr.isExtension || attr.subAttribute) return undefined
  if (attr.schema === USER_SCHEMA && name === 'userName') return COLUMN('r.user_name_ci', 'text', true, true)
  if ((attr.schema === USER_SCHEMA || attr.schema === GROUP_SCHEMA) && name === 'displayName') return COLUMN('r.display_name_ci', 'text', true, true)
  return undefined
}

const isMembership = (attr: ResolvedAttribute) =>
  !attr.isExtension &&
  ((attr.schema === GROUP_SCHEMA && attr.attribute.name === 'members') || (attr.schema === USER_SCHEMA && attr.attribute.name === 'groups'))

/** What a collection needs to know of the element condition before compiling it. */
interface ConditionShape {
  /** The sub-attributes the condition reads ('' for the element itself). */
  readonly subs: readonly string[]
  /** The condition holds a not, a ne or an eq null: absent values can satisfy it. */
  readonly negated: boolean
  /** The condition requires `value eq pinnedValue` (a top-level conjunct), so a search can start there. */
  readonly pinnedValue?: string
}

/**
 * The elements of a multi-valued attribute, read from a side table when it holds every field used.
 * resource_emails has rows only for emails whose value is a string, so it serves a condition only when
 * that condition implies a value (no not / ne / eq null inside the element condition).
 */
function collectionOf(attr: ResolvedAttribute, shape: ConditionShape): Collection {
  if (!attr.isExtension && attr.schema === GROUP_SCHEMA && attr.attribute.name === 'members') return membersCollection(attr, shape)
  if (!attr.isExtension && attr.schema === USER_SCHEMA && attr.attribute.name === 'groups') return groupsCollection(attr, shape)
  const { subs, negated } = shape
  if (!attr.isExtension && attr.schema === USER_SCHEMA && attr.attribute.name === 'emails' && !negated && subs.length > 0 && subs.every((s) => s === 'value')) {
    return emailCollection(attr)
  }
  return jsonCollection(attr)
}

function jsonCollection(attr: ResolvedAttribute): Collection {
  const path = basePath(attr)
  const any: Collection['any'] = (state, condition) => {
    const alias = `e${++state.aliases}`
    const element: ElementScope = {
      kind: 'element',
      attribute: attr.attribute,
      operand(sub) {
        const target = sub ?? attr.attribute
        if (target.type === 'complex') throw invalidFilter(`${attr.attribute.name} is complex; name one of its sub-attributes`)
        const type = operandTypeOf(target)
        return { expr: state.dialect.elementValue(alias, sub ? [sub.name] : [], jsonTypeOf(target)), type, caseInsensitive: isCaseInsensitive(target), folded: false, indexed: false }
      },
    }
    const from = state.dialect.jsonArrayElements('r.data', path, alias)
    return `EXISTS (SELECT 1 FROM ${from} WHERE ${condition(element)})`
  }
  return { any, nonEmpty: (state) => any(state, (element) => presentElement(element, state)) }
}

/** resource_emails holds each email's value, lower-cased (emails.value is caseExact false). */
function emailCollection(attr: ResolvedAttribute): Collection {
  return {
    any(state, condition) {
      const alias = `m${++state.aliases}`
      const tenant = bind(state, state.tenant)
      const element: ElementScope = {
        kind: 'element',
        attribute: attr.attribute,
        operand: () => ({ expr: `${alias}.value_ci`, type: 'text', caseInsensitive: true, folded: true, indexed: true }),
      }
      return `r.id IN (SELECT ${alias}.resource_id FROM resource_emails ${alias} WHERE ${alias}.tenant_id = ${tenant} AND ${condition(element)})`
    },
    // Elements without a value have no row here, so presence of the attribute itself reads the JSON.
    nonEmpty: jsonCollection(attr).nonEmpty,
  }
}

/**
 * A Group's members: its group_members rows. value compares exactly: it is a resource id, and ids are
 * caseExact (RFC 7643 §3.1). display reads the member's row (joined only when the filter uses it): its
 * displayName, else its userName, both already lower-cased.
 */
function membersCollection(attr: ResolvedAttribute, shape: ConditionShape): Collection {
  const open = (state: CompileState, alias: string, joined: string | undefined) => {
    const join = joined ? ` JOIN resources ${joined} ON ${joined}.tenant_id = ${alias}.tenant_id AND ${joined}.id = ${alias}.member_id` : ''
    return `r.id IN (SELECT ${alias}.group_id FROM group_members ${alias}${join} WHERE ${alias}.tenant_id = ${bind(state, state.tenant)}`
  }
  return {
    any(state, condition) {
      const n = ++state.aliases
      const alias = `m${n}`
      const joined = shape.subs.includes('display') ? `x${n}` : undefined
      const head = open(state, alias, joined)
      const element: ElementScope = {
        kind: 'element',
        attribute: attr.attribute,
        operand(sub) {
          const name = sub?.name ?? 'value'
          if (name === 'value') return { expr: `${alias}.member_id`, type: 'text', caseInsensitive: false, folded: false, indexed: true }
          if (name === 'type') return { expr: `${alias}.member_type`, type: 'text', caseInsensitive: !sub?.caseExact, folded: false, indexed: false }
          if (name === 'display' && joined) {
            return { expr: `COALESCE(${joined}.display_name_ci, ${joined}.user_name_ci)`, type: 'text', caseInsensitive: true, folded: true, indexed: false }
          }
          throw invalidFilter(`${attr.attribute.name}.${name} is not filterable`)
        },
      }
      return `${head} AND ${condition(element)})`
    },
    nonEmpty: (state) => `${open(state, `m${++state.aliases}`, undefined)})`,
  }
}

/**
 * A User's groups as its groups attribute lists them (RFC 7643 §4.1.2): direct memberships and the
 * groups reached through nested groups, `direct` winning when both hold. A recursive CTE walks down from
 * the groups (only from `value` when the condition pins it, the common `groups.value eq "…"`, else from
 * every group of the tenant); UNION keeps membership cycles finite.
 */
function groupsCollection(attr: ResolvedAttribute, shape: ConditionShape): Collection {
  return {
    any(state, condition) {
      const n = ++state.aliases
      const [walk, closure, joined] = [`g${n}`, `c${n}`, `x${n}`]
      // Parameters are bound in text order: each bind() call below comes after the text before it.
      let text = `r.id IN (WITH RECURSIVE ${walk} (group_id, member_id, indirect) AS (`
      text += `SELECT m.group_id, m.member_id, 0 FROM group_members m WHERE m.tenant_id = ${bind(state, state.tenant)}`
      if (shape.pinnedValue !== undefined) text += ` AND m.group_id = ${bind(state, shape.pinnedValue)}`
      text +=
        // CROSS JOIN keeps SQLite from putting group_members outside the one-row recursive step (it then
        // read every membership of the tenant per step); Postgres reads it as a plain join.
        ` UNION SELECT ${walk}.group_id, m.member_id, 1 FROM ${walk} CROSS JOIN group_members m WHERE m.tenant_id = ${bind(state, state.tenant)} AND m.group_id = ${walk}.member_id)` +
        ` SELECT ${closure}.member_id FROM (SELECT group_id, member_id, MIN(indirect) AS indirect FROM ${walk} GROUP BY group_id, member_id) ${closure}`
      let where = ''
      if (shape.subs.includes('display')) {
        text += ` CROSS JOIN resources ${joined}`
        where = `${joined}.tenant_id = ${bind(state, state.tenant)} AND ${joined}.id = ${closure}.group_id AND `
      }
      const element: ElementScope = {
        kind: 'element',
        attribute: attr.attribute,
        operand(sub) {
          const name = sub?.name ?? 'value'
          if (name === 'value') return { expr: `${closure}.group_id`, type: 'text', caseInsensitive: false, folded: false, indexed: false }
          if (name === 'type') {
            const expr = `CASE ${closure}.indirect WHEN 0 THEN 'direct' ELSE 'indirect' END`
            return { expr, type: 'text', caseInsensitive: !sub?.caseExact, folded: false, indexed: false }
          }
          if (name === 'display' && shape.subs.includes('display')) {
            return { expr: `${joined}.display_name_ci`, type: 'text', caseInsensitive: true, folded: true, indexed: false }
          }
          throw invalidFilter(`${attr.attribute.name}.${name} is not filterable`)
        },
      }
      return `${text} WHERE ${where}${condition(element)})`
    },
    // Some group is reached exactly when there is a direct membership.
    nonEmpty(state) {
      const alias = `m${++state.aliases}`
      return `r.id IN (SELECT ${alias}.member_id FROM group_members ${alias} WHERE ${alias}.tenant_id = ${bind(state, state.tenant)})`
    },
  }
}

/** A single-valued attribute read from r.data (a complex one by its `value`, as manager.value). */
function jsonOperand(attr: ResolvedAttribute, state: CompileState): Operand {
  const def = attr.attribute
  const sub = attr.subAttribute ?? (def.type === 'complex' ? valueSubAttribute(def) : undefined)
  if (def.type === 'complex' && !sub) throw invalidFilter(`${def.name} is complex; name one of its sub-attributes`)
  const target = sub ?? def
  return {
    expr: state.dialect.jsonValue('r.data', sub ? [...basePath(attr), sub.name] : basePath(attr), jsonTypeOf(target)),
    type: operandTypeOf(target),
    caseInsensitive: isCaseInsensitive(target),
    folded: false,
    indexed: false,
  }
}

// ---------------------------------------------------------------------------------------------------
// Definitions

/** Where the top-level attribute lives in r.data: under its extension URN key, or at the top level. */
function basePath(attr: ResolvedAttribute): JsonPathSegment[] {
  return attr.isExtension ? [attr.schema, attr.attribute.name] : [attr.attribute.name]
}

/** The sub-attribute an element comparison reads: the named one, or `value` (RFC 7644 §3.4.2.2's `emails co "x"`). */
function elementSub(attr: ResolvedAttribute): AttributeDefinition | undefined {
  return attr.subAttribute ?? (attr.attribute.type === 'complex' ? valueSubAttribute(attr.attribute) : undefined)
}

const valueSubAttribute = (def: AttributeDefinition) => def.subAttributes?.find((a) => a.name === 'value')

function operandTypeOf(def: AttributeDefinition): OperandType {
  switch (def.type) {
    case 'string':
    case 'reference':
    case 'binary':
      return 'text'
    case 'dateTime':
      return 'dateTime'
    case 'integer':
    case 'decimal':
      return 'number'
    case 'boolean':
      return 'boolean'
    case 'complex':
      throw invalidFilter(`${def.name} is complex; name one of its sub-attributes`)
    default:
      return assertNever(def.type)
  }
}

function jsonTypeOf(def: AttributeDefinition): JsonValueType {
  const t = operandTypeOf(def)
  return t === 'dateTime' ? 'text' : t
}

/** Strings compare lower-cased unless caseExact; for dateTime this only matters to co/sw/ew (see compareOperand). */
const isCaseInsensitive = (def: AttributeDefinition) => !def.caseExact && (operandTypeOf(def) === 'text' || operandTypeOf(def) === 'dateTime')
const sortsLowerCased = (def: AttributeDefinition) => !def.caseExact && operandTypeOf(def) === 'text'

function shapeOf(filter: ResolvedFilterNode): ConditionShape {
  const pinned = pinnedValueOf(filter)
  return { subs: subAttributesUsed(filter), negated: hasNegation(filter), ...(pinned !== undefined ? { pinnedValue: pinned } : {}) }
}

function subAttributesUsed(node: ResolvedFilterNode): string[] {
  switch (node.kind) {
    case 'and':
    case 'or':
      return [...subAttributesUsed(node.left), ...subAttributesUsed(node.right)]
    case 'not':
      return subAttributesUsed(node.operand)
    case 'compare':
    case 'present':
    case 'valuePath': {
      const sub = node.attr.subAttribute ?? (node.kind === 'compare' ? elementSub(node.attr) : undefined)
      return [sub?.name ?? '']
    }
    default:
      return assertNever(node)
  }
}

function hasNegation(node: ResolvedFilterNode): boolean {
  switch (node.kind) {
    case 'and':
    case 'or':
      return hasNegation(node.left) || hasNegation(node.right)
    case 'not':
      return true
    case 'compare':
      return node.op === 'ne' || node.value === null
    case 'present':
      return false
    case 'valuePath':
      return hasNegation(node.filter)
    default:
      return assertNever(node)
  }
}

/** The value a condition requires through a top-level `value eq "…"` conjunct, if any. */
function pinnedValueOf(node: ResolvedFilterNode): string | undefined {
  if (node.kind === 'and') return pinnedValueOf(node.left) ?? pinnedValueOf(node.right)
  if (node.kind !== 'compare' || node.op !== 'eq' || typeof node.value !== 'string') return undefined
  return elementSub(node.attr)?.name === 'value' ? node.value : undefined
}

const shown = (attr: ResolvedAttribute) => `${attr.attribute.name}${attr.subAttribute ? `.${attr.subAttribute.name}` : ''}`

function bind(state: CompileState, value: unknown): string {
  state.params.push(value)
  return state.dialect.placeholder(state.firstParam + state.params.length - 1)
}

/** True when `sql` is one parenthesised group: `(a AND b)` but not `(a) AND (b)`. */
function isGrouped(sql: string): boolean {
  if (!sql.startsWith('(') || !sql.endsWith(')')) return false
  let depth = 0
  let quoted = false
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]
    if (c === "'") quoted = !quoted
    if (quoted) continue
    if (c === '(') depth++
    else if (c === ')' && --depth === 0 && i < sql.length - 1) return false
  }
  return depth === 0
}
