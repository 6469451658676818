import { invalidFilter, isScimError, type ScimError } from '../errors.js'
import { parseAttributePath, type AttributePath } from '../path/attribute-path.js'
import { and, compare, COMPARE_OPS, not, or, present, valuePath, type CompareOp, type FilterNode, type FilterValue } from './filter-ast.js'

/** Longer filters are refused before any work is done: no IdP sends anything close (abuse guard). */
export const MAX_FILTER_LENGTH = 10_000
/** Parentheses, `not (…)` and `[…]` count one level each; the cap keeps recursion far from the stack limit. */
export const MAX_FILTER_DEPTH = 64

type Token =
  | { readonly kind: '(' | ')' | '[' | ']' | 'end'; readonly pos: number }
  | { readonly kind: 'word'; readonly pos: number; readonly text: string }
  | { readonly kind: 'string'; readonly pos: number; readonly text: string; readonly value: string }

// compValue = false / null / true / number / string: number as JSON (RFC 7159 §6) spells it.
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/
const WHITESPACE = /\s/
const DELIMITERS = new Set(['(', ')', '[', ']', '"'])
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' }

/**
 * Parses a SCIM filter (RFC 7644 §3.4.2.2) into a FilterNode tree.
 *
 * Precedence is `not` > `and` > `or`; `and` and `or` associate to the left. Operators, `and`/`or`/`not` and
 * `true`/`false`/`null` are case-insensitive; attribute names are kept as written (the SchemaRegistry matches
 * them case-insensitively later). Inside `attr[…]` paths are relative to `attr` and may not open another `[`.
 *
 * @example parseFilter('emails[type eq "work"]') // valuePath('emails', eq('type', 'work'))
 * @returns the tree; positions in error details are 0-based offsets into `text`.
 * @throws ScimError 400 invalidFilter for any syntax error, for text over 10,000 characters and for nesting
 *   deeper than 64 levels.
 */
export function parseFilter(text: string): FilterNode {
  if (typeof text !== 'string') throw invalidFilter('Filter must be a string (position 0)')
  if (text.length > MAX_FILTER_LENGTH) {
    throw invalidFilter(`Filter is longer than ${MAX_FILTER_LENGTH} characters (at position ${MAX_FILTER_LENGTH})`)
  }
  return new FilterParser(tokenize(text)).parse()
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < text.length) {
    const ch = text[i]!
    if (WHITESPACE.test(ch)) {
      i++
    } else if (ch === '(' || ch === ')' || ch === '[' || ch === ']') {
      tokens.push({ kind: ch, pos: i })
      i++
    } else if (ch === '"') {
      const token = readString(text, i)
      tokens.push(token)
      i += token.text.length
    } else {
      const start = i
      while (i < text.length && !WHITESPACE.test(text[i]!) && !DELIMITERS.has(text[i]!)) i++
      tokens.push({ kind: 'word', pos: start, text: text.slice(start, i) })
    }
  }
  tokens.push({ kind: 'end', pos: text.length })
  return tokens
}

/** A JSON string (RFC 8259 §7). Raw control characters are tolerated: filters arrive URL-decoded. */
function readString(text: string, start: number): Token & { kind: 'string' } {
  let value = ''
  let i = start + 1
  while (i < text.length) {
    const ch = text[i]!
    if (ch === '"') return { kind: 'string', pos: start, text: text.slice(start, i + 1), value }
    if (ch !== '\\') {
      value += ch
      i++
      continue
    }
    const esc = text[i + 1]
    if (esc === undefined) break
    const simple = SIMPLE_ESCAPES[esc]
    if (simple !== undefined) {
      value += simple
      i += 2
    } else if (esc === 'u') {
      const hex = text.slice(i + 2, i + 6)
      if (!/^[0-9A-Fa-f]{4}$/.test(hex)) throw invalidFilter(`Invalid \\u escape at position ${i} in filter: four hex digits expected`)
      value += String.fromCharCode(Number.parseInt(hex, 16))
      i += 6
    } else {
      throw invalidFilter(`Invalid escape "\\${esc}" at position ${i} in filter`)
    }
  }
  throw invalidFilter(`Unterminated string starting at position ${start} in filter`)
}

const isKeyword = (t: Token, keyword: 'and' | 'or' | 'not'): boolean => t.kind === 'word' && t.text.toLowerCase() === keyword
const isAndOr = (t: Token): boolean => isKeyword(t, 'and') || isKeyword(t, 'or')
const isCompareOp = (s: string): s is CompareOp => (COMPARE_OPS as readonly string[]).includes(s)
const clip = (s: string): string => (s.length > 40 ? `${s.slice(0, 40)}…` : s)

function describe(t: Token): string {
  switch (t.kind) {
    case 'end':
      return 'end of filter'
    case 'word':
      return `"${clip(t.text)}"`
    case 'string':
      return `string ${clip(t.text)}`
    default:
      return `"${t.kind}"`
  }
}

/** Recursive descent over the token list; one method per grammar rule of RFC 7644 §3.4.2.2 Figure 1. */
class FilterParser {
  private index = 0
  private depth = 0

  constructor(private readonly tokens: readonly Token[]) {}

  parse(): FilterNode {
    const node = this.parseOr(false)
    const rest = this.peek()
    if (rest.kind !== 'end') {
      throw this.unexpected(rest, rest.kind === ')' || rest.kind === ']' ? 'nothing is open to close' : 'expected "and", "or" or the end of the filter')
    }
    return node
  }

  private peek(): Token {
    // The list always ends with an 'end' token and the parser never moves past it.
    return this.tokens[this.index]!
  }

  private next(): Token {
    const t = this.peek()
    if (t.kind !== 'end') this.index++
    return t
  }

  private unexpected(t: Token, hint?: string): ScimError {
    const where = t.kind === 'end' ? '' : ' in filter'
    return invalidFilter(`Unexpected ${describe(t)} at position ${t.pos}${where}${hint ? `: ${hint}` : ''}`)
  }

  private parseOr(inValuePath: boolean): FilterNode {
    let left = this.parseAnd(inValuePath)
    while (isKeyword(this.peek(), 'or')) {
      this.next()
      left = or(left, this.parseAnd(inValuePath))
    }
    return left
  }

  private parseAnd(inValuePath: boolean): FilterNode {
    let left = this.parseUnary(inValuePath)
    while (isKeyword(this.peek(), 'and')) {
      this.next()
      left = and(left, this.parseUnary(inValuePath))
    }
    return left
  }

  private parseUnary(inValuePath: boolean): FilterNode {
    const t = this.peek()
    if (t.kind === '(') {
      this.next()
      return this.parseGroup(t, inValuePath, ')')
    }
    if (isKeyword(t, 'not')) {
      this.next()
      const open = this.peek()
      // RFC 7644 Figure 1: [ "not" ] "(" valFilter ")": not always takes a parenthesised filter.
      if (open.kind !== '(') throw this.unexpected(open, 'expected "(" after "not"')
      this.next()
      return not(this.parseGroup(open, inValuePath, ')'))
    }
    if (t.kind === 'word' && !isAndOr(t)) return this.parseAttributeExpression(t, inValuePath)
    throw this.unexpected(t, 'expected an attribute path, "(" or "not"')
  }

  /** The inside of `(…)` or `[…]`, whose opening token has just been consumed. */
  private parseGroup(open: Token, inValuePath: boolean, close: ')' | ']'): FilterNode {
    this.depth++
    if (this.depth > MAX_FILTER_DEPTH) {
      throw invalidFilter(`Filter nests deeper than ${MAX_FILTER_DEPTH} levels at position ${open.pos}`)
    }
    const inner = this.parseOr(inValuePath)
    const end = this.peek()
    if (end.kind !== close) throw this.unexpected(end, `expected "${close}" to close "${open.kind}" at position ${open.pos}`)
    this.next()
    this.depth--
    return inner
  }

  private parseAttributeExpression(pathToken: Token & { kind: 'word' }, inValuePath: boolean): FilterNode {
    this.next()
    const path = toAttributePath(pathToken)
    const t = this.peek()
    if (t.kind === '[') {
      if (inValuePath) throw this.unexpected(t, 'a value path cannot contain another "["')
      this.next()
      const inner = this.parseGroup(t, true, ']')
      const sub = this.peek()
      if (sub.kind === 'word' && sub.text.startsWith('.')) {
        // Tolerance: Entra ID's tutorial ("Develop and plan provisioning for a SCIM endpoint", /Users) sends
        // `emails[type eq "work"].value eq "x"`, which RFC 7644's grammar lacks. We read it as the element
        // filter `emails[type eq "work" and value eq "x"]`, which is what it means.
        this.next()
        const subPath = toAttributePath({ ...sub, text: sub.text.slice(1), pos: sub.pos + 1 })
        if (subPath.schema !== undefined || subPath.subAttribute !== undefined) throw this.unexpected(sub, 'expected one sub-attribute name after "]"')
        return valuePath(path, and(inner, this.parseComparison(subPath, sub)))
      }
      return valuePath(path, inner)
    }
    return this.parseComparison(path, pathToken)
  }

  /** `op value` or `pr` after a path whose token has been consumed. */
  private parseComparison(path: AttributePath, pathToken: Token & { kind: 'word' }): FilterNode {
    const t = this.peek()
    if (t.kind !== 'word') throw this.unexpected(t, `expected an operator after "${clip(pathToken.text)}"`)
    const op = t.text.toLowerCase()
    this.next()
    if (op === 'pr') {
      const after = this.peek()
      if (after.kind === 'string' || (after.kind === 'word' && !isAndOr(after))) throw this.unexpected(after, '"pr" takes no value')
      return present(path)
    }
    if (!isCompareOp(op)) {
      throw invalidFilter(`Unknown operator "${clip(t.text)}" at position ${t.pos} in filter: expected eq, ne, co, sw, ew, gt, ge, lt, le or pr`)
    }
    return compare(path, op, this.parseValue(t))
  }

  private parseValue(opToken: Token & { kind: 'word' }): FilterValue {
    const t = this.peek()
    const hint = `expected a value after "${clip(opToken.text)}"`
    if (t.kind === 'string') {
      this.next()
      return t.value
    }
    if (t.kind !== 'word') throw this.unexpected(t, hint)
    const lower = t.text.toLowerCase()
    let value: FilterValue
    if (lower === 'true') value = true
    else if (lower === 'false') value = false
    else if (lower === 'null') value = null
    else if (JSON_NUMBER.test(t.text)) {
      value = Number(t.text)
      if (!Number.isFinite(value)) throw this.unexpected(t, 'number out of range')
    } else throw this.unexpected(t, `${hint} (strings must be in double quotes)`)
    this.next()
    return value
  }
}

function toAttributePath(t: Token & { kind: 'word' }): AttributePath {
  try {
    return parseAttributePath(t.text)
  } catch (e) {
    if (isScimError(e)) throw invalidFilter(`Invalid attribute path "${clip(t.text)}" at position ${t.pos} in filter`)
    throw e
  }
}
