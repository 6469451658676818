import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { ScimError } from '../../../src/scim/errors.js'
import { and, eq, present, valuePath } from '../../../src/scim/filter/filter-ast.js'
import { parseFilter } from '../../../src/scim/filter/parse-filter.js'
import { validFilters } from './filter-cases.js'

/** Invalid filters; every detail must name a position. */
const invalidFilters: readonly { readonly text: string; readonly why: string; readonly detail?: RegExp }[] = [
  { text: '', why: 'empty filter', detail: /position 0/ },
  { text: '   ', why: 'only whitespace', detail: /position 3/ },
  { text: 'userName', why: 'attribute without operator', detail: /position 8/ },
  { text: 'userName eq', why: 'missing value after an operator', detail: /end of filter at position 11.*value after "eq"/ },
  { text: 'userName eq )', why: 'a parenthesis instead of a value', detail: /position 12/ },
  { text: 'userName eq bjensen', why: 'unquoted string value', detail: /"bjensen" at position 12.*double quotes/ },
  { text: 'userName xx "a"', why: 'unknown operator', detail: /Unknown operator "xx" at position 9/ },
  { text: 'userName eq "bjensen', why: 'unterminated string', detail: /Unterminated string starting at position 12/ },
  { text: 'userName eq "bjensen\\"', why: 'string ending in an escaped quote', detail: /Unterminated string starting at position 12/ },
  { text: 'userName eq "a\\x"', why: 'unknown escape', detail: /Invalid escape "\\x" at position 14/ },
  { text: 'userName eq "a\\u12"', why: 'short \\u escape', detail: /position 14/ },
  { text: 'userName eq "a\\u12G4"', why: 'non-hex \\u escape', detail: /position 14/ },
  { text: 'title pr "x"', why: 'pr with a value', detail: /string "x" at position 9.*"pr" takes no value/ },
  { text: 'title pr x', why: 'pr with a bare value', detail: /"x" at position 9.*"pr" takes no value/ },
  { text: 'title pr and', why: 'and without right operand', detail: /end of filter at position 12/ },
  { text: 'and title pr', why: 'and without left operand', detail: /"and" at position 0/ },
  { text: 'title pr or or userName pr', why: 'doubled or', detail: /"or" at position 12/ },
  { text: 'title pr userName pr', why: 'two expressions without and/or', detail: /"userName" at position 9/ },
  { text: 'userName eq "a" "b"', why: 'trailing string', detail: /position 16/ },
  { text: 'userName eq "a" garbage', why: 'trailing word', detail: /"garbage" at position 16/ },
  { text: 'userName eq "a")', why: 'unbalanced ")"', detail: /"\)" at position 15/ },
  { text: '(userName eq "a"', why: 'unclosed "("', detail: /end of filter at position 16.*"\)"/ },
  { text: '()', why: 'empty parentheses', detail: /"\)" at position 1/ },
  { text: 'not title pr', why: 'not without parentheses', detail: /"title" at position 4.*"\(" after "not"/ },
  { text: 'not', why: 'bare not', detail: /position 3/ },
  { text: 'emails[type eq "work"', why: 'unclosed "["', detail: /position 21.*"\]"/ },
  { text: 'emails[type eq "work"]]', why: 'extra "]"', detail: /"\]" at position 22/ },
  { text: 'emails[type eq "work")', why: '")" closing "["', detail: /"\)" at position 21/ },
  { text: 'emails[]', why: 'empty value path', detail: /"\]" at position 7/ },
  { text: 'emails[type[value eq "x"]]', why: '"[" nested inside "["', detail: /"\[" at position 11/ },
  { text: 'emails[type eq "work"].value', why: 'sub-attribute after a value path with no comparison', detail: /end of filter at position 28/ },
  { text: 'emails[type eq "work"].name.x eq "y"', why: 'two levels after a value path', detail: /".name.x" at position 22/ },
  { text: '[type eq "work"]', why: 'value path without attribute', detail: /"\[" at position 0/ },
  { text: 'userName[type eq "work"', why: 'unclosed value path', detail: /position 23/ },
  { text: '5 eq "x"', why: 'attribute path starting with a digit', detail: /Invalid attribute path "5" at position 0/ },
  { text: 'name.givenName.x eq "x"', why: 'two levels of sub-attribute', detail: /Invalid attribute path "name.givenName.x" at position 0/ },
  { text: 'urn:ietf:params:scim:schemas:core:2.0:User: eq "x"', why: 'URN without attribute name', detail: /position 0/ },
  { text: 'user@name eq "x"', why: 'illegal character in attribute name', detail: /position 0/ },
  { text: 'x eq 01', why: 'number with a leading zero', detail: /"01" at position 5/ },
  { text: 'x eq 1.', why: 'number ending with a dot', detail: /"1." at position 5/ },
  { text: 'x eq .5', why: 'number starting with a dot', detail: /".5" at position 5/ },
  { text: 'x eq +1', why: 'number with a plus sign', detail: /"\+1" at position 5/ },
  { text: 'x eq 1e999', why: 'number out of range', detail: /"1e999" at position 5.*out of range/ },
  { text: "userName eq 'bjensen'", why: 'single-quoted string', detail: /position 12/ },
  { text: 'userName eq "a" and', why: 'dangling and', detail: /position 19/ },
  { text: `userName eq "${'x'.repeat(10_000)}"`, why: 'filter over 10,000 characters', detail: /10000 characters.*position 10000/ },
  { text: `${'('.repeat(65)}title pr${')'.repeat(65)}`, why: '65 levels of parentheses', detail: /deeper than 64 levels at position 64/ },
  { text: `${'not ('.repeat(65)}title pr${')'.repeat(65)}`, why: '65 levels of not', detail: /deeper than 64 levels at position/ },
  { text: '('.repeat(9_000), why: 'thousands of open parentheses do not overflow the stack', detail: /deeper than 64 levels at position 64/ },
]

describe('parseFilter: valid filters (RFC 7644 §3.4.2.2)', () => {
  for (const { text, expected, why } of validFilters) {
    test(`parses ${JSON.stringify(text)}${why ? ` (${why})` : ''}`, () => {
      assert.deepStrictEqual(parseFilter(text), expected)
    })
  }

  test('accepts 64 levels of parentheses', () => {
    assert.deepStrictEqual(parseFilter(`${'('.repeat(64)}title pr${')'.repeat(64)}`), present('title'))
  })

  test('accepts a filter of exactly 10,000 characters', () => {
    const prefix = 'userName eq "'
    const text = `${prefix}${'x'.repeat(10_000 - prefix.length - 1)}"`
    assert.equal(text.length, 10_000)
    assert.deepStrictEqual(parseFilter(text), eq('userName', 'x'.repeat(10_000 - prefix.length - 1)))
  })

  test('a long and-chain is not nesting and parses left-deep', () => {
    const text = Array.from({ length: 1_000 }, () => 'a pr').join(' and ')
    let expected = present('a')
    for (let i = 1; i < 1_000; i++) expected = and(expected, present('a'))
    assert.deepStrictEqual(parseFilter(text), expected)
  })
})

describe('parseFilter: invalid filters are ScimError 400 invalidFilter naming the position', () => {
  for (const { text, why, detail } of invalidFilters) {
    test(`rejects ${why}: ${JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text)}`, () => {
      assert.throws(
        () => parseFilter(text),
        (e: unknown) => {
          assert.ok(e instanceof ScimError, `expected a ScimError, got ${String(e)}`)
          assert.equal(e.status, 400)
          assert.equal(e.scimType, 'invalidFilter')
          assert.match(e.detail, /position \d+/)
          if (detail) assert.match(e.detail, detail)
          return true
        },
      )
    })
  }
})

test('reads Entra ID\'s emails[type eq "work"].value eq "x" as emails[type eq "work" and value eq "x"] (Entra tutorial, /Users)', () => {
  assert.deepEqual(parseFilter('emails[type eq "work"].value eq "x@example.com"'), valuePath('emails', and(eq('type', 'work'), eq('value', 'x@example.com'))))
})
