import assert from 'node:assert/strict'
import { test } from 'node:test'
import { jsonText } from '../../../src/store/sql/json-text.js'

const cases: { title: string; value: unknown; expected: string }[] = [
  { title: 'plain values as JSON.stringify writes them', value: { a: 'x', n: 1, list: ['y', null] }, expected: '{"a":"x","n":1,"list":["y",null]}' },
  { title: 'a surrogate pair kept', value: { key: '\u{1F511}' }, expected: '{"key":"\u{1F511}"}' },
  { title: 'a lone high surrogate as U+FFFD', value: { name: 'ci \ud800' }, expected: '{"name":"ci \ufffd"}' },
  { title: 'a lone low surrogate, deep in an array, as U+FFFD', value: { changes: [{ after: ['\udc00x'] }] }, expected: '{"changes":[{"after":["\ufffdx"]}]}' },
  { title: 'a literal backslash-u text kept as is', value: { path: '\\ud800' }, expected: '{"path":"\\\\ud800"}' },
]

for (const { title, value, expected } of cases) {
  test(`jsonText: ${title}`, () => {
    const text = jsonText(value)
    assert.equal(text, expected)
    assert.ok((text as string & { isWellFormed(): boolean }).isWellFormed())
  })
}
