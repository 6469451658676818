import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { and, compare, eq, not, or, present, valuePath, type FilterNode } from '../../../src/scim/filter/filter-ast.js'
import { formatFilter } from '../../../src/scim/filter/format-filter.js'
import { parseFilter } from '../../../src/scim/filter/parse-filter.js'
import { validFilters } from './filter-cases.js'

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'

describe('formatFilter round-trips every valid filter of the parse table', () => {
  for (const { text, expected } of validFilters) {
    test(`parseFilter(formatFilter(parseFilter(${JSON.stringify(text)}))) is the same tree`, () => {
      assert.deepStrictEqual(parseFilter(formatFilter(parseFilter(text))), expected)
    })
  }
})

describe('formatFilter: exact text', () => {
  const cases: readonly { readonly tree: FilterNode; readonly text: string; readonly why: string }[] = [
    { tree: eq('userName', 'bjensen'), text: 'userName eq "bjensen"', why: 'strings as JSON' },
    { tree: eq('displayName', 'a "b" \\ c\n'), text: String.raw`displayName eq "a \"b\" \\ c\n"`, why: 'JSON escapes' },
    { tree: eq({ schema: ENTERPRISE, attribute: 'manager', subAttribute: 'value' }, 'x'), text: `${ENTERPRISE}:manager.value eq "x"`, why: 'URN prefix kept' },
    { tree: present('title'), text: 'title pr', why: 'pr has no value' },
    { tree: compare('x', 'ge', -1.5e-7), text: 'x ge -1.5e-7', why: 'numbers as JavaScript prints them, which JSON reads' },
    { tree: eq('x', 1e21), text: 'x eq 1e+21', why: 'a large number' },
    { tree: eq('active', false), text: 'active eq false', why: 'booleans' },
    { tree: eq('title', null), text: 'title eq null', why: 'null' },
    { tree: and(present('a'), or(present('b'), present('c'))), text: 'a pr and (b pr or c pr)', why: 'or under and needs parentheses' },
    { tree: or(and(present('a'), present('b')), present('c')), text: 'a pr and b pr or c pr', why: 'and under or needs none' },
    { tree: and(and(present('a'), present('b')), present('c')), text: 'a pr and b pr and c pr', why: 'left-nested and needs none' },
    { tree: and(present('a'), and(present('b'), present('c'))), text: 'a pr and (b pr and c pr)', why: 'right-nested and keeps its shape' },
    { tree: or(present('a'), or(present('b'), present('c'))), text: 'a pr or (b pr or c pr)', why: 'right-nested or keeps its shape' },
    { tree: and(or(present('a'), present('b')), present('c')), text: '(a pr or b pr) and c pr', why: 'or on the left of and' },
    { tree: not(present('a')), text: 'not (a pr)', why: 'not always takes parentheses' },
    { tree: valuePath('emails', and(eq('type', 'work'), not(present('primary')))), text: 'emails[type eq "work" and not (primary pr)]', why: 'value path' },
  ]
  for (const { tree, text, why } of cases) {
    test(`prints ${JSON.stringify(text)} (${why})`, () => {
      assert.equal(formatFilter(tree), text)
      assert.deepStrictEqual(parseFilter(text), tree)
    })
  }

  test('keeps negative zero', () => {
    const text = formatFilter(eq('x', -0))
    assert.equal(text, 'x eq -0')
    const back = parseFilter(text)
    assert.ok(back.kind === 'compare' && Object.is(back.value, -0))
  })

  test('refuses a number no filter can spell', () => {
    assert.throws(() => formatFilter(eq('x', Number.NaN)), TypeError)
    assert.throws(() => formatFilter(eq('x', Number.POSITIVE_INFINITY)), TypeError)
  })

  test('a string with every control character and a lone surrogate survives', () => {
    const value = `${Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join('')}\u2028\ud800"\\/`
    assert.deepStrictEqual(parseFilter(formatFilter(eq('displayName', value))), eq('displayName', value))
  })
})
