import { formatAttributePath } from '../path/attribute-path.js'
import { assertNever, type FilterNode, type FilterValue } from './filter-ast.js'

// Binding strength, RFC 7644 §3.4.2.2: not (and any single expression) > and > or.
const PRECEDENCE = { or: 1, and: 2, atom: 3 } as const

const precedenceOf = (node: FilterNode): number => (node.kind === 'or' || node.kind === 'and' ? PRECEDENCE[node.kind] : PRECEDENCE.atom)

/**
 * Prints a filter as RFC 7644 §3.4.2.2 text that parseFilter reads back to the same tree: strings as JSON,
 * URN prefixes and attribute names as they are in the tree, parentheses only where precedence or the left
 * associativity of `and`/`or` needs them.
 *
 * @example formatFilter(and(eq('userType', 'Employee'), or(present('title'), eq('x', 1))))
 *   // 'userType eq "Employee" and (title pr or x eq 1)'
 * @returns the filter text. Throws no ScimError; a non-finite number (which no filter can spell) throws a TypeError.
 */
export function formatFilter(node: FilterNode): string {
  switch (node.kind) {
    case 'compare':
      return `${formatAttributePath(node.path)} ${node.op} ${formatValue(node.value)}`
    case 'present':
      return `${formatAttributePath(node.path)} pr`
    case 'and':
    case 'or': {
      const p = PRECEDENCE[node.kind]
      // Left operand keeps an equal-precedence child bare (a and b and c is (a and b) and c); the right does not.
      const left = precedenceOf(node.left) < p ? `(${formatFilter(node.left)})` : formatFilter(node.left)
      const right = precedenceOf(node.right) <= p ? `(${formatFilter(node.right)})` : formatFilter(node.right)
      return `${left} ${node.kind} ${right}`
    }
    case 'not':
      return `not (${formatFilter(node.operand)})`
    case 'valuePath':
      return `${formatAttributePath(node.path)}[${formatFilter(node.filter)}]`
    default:
      return assertNever(node)
  }
}

function formatValue(value: FilterValue): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`${value} cannot be written in a SCIM filter`)
    // String(-0) is "0", which would read back as +0.
    return Object.is(value, -0) ? '-0' : String(value)
  }
  return String(value)
}
