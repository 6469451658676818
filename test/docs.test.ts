import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'

// docs/errors.md stays in step with the ScimType union, as Fastify's errors test does with Errors.md.
test('docs/errors.md documents every ScimType and no other', () => {
  const source = readFileSync('src/scim/errors.ts', 'utf8')
  const union = /export type ScimType =([^]*?)\n\n/.exec(source)?.[1] ?? ''
  const types = [...union.matchAll(/'(\w+)'/g)].map((m) => m[1]).sort()
  assert.ok(types.length >= 10, 'found the ScimType union')
  const docs = readFileSync('docs/errors.md', 'utf8')
  const documented = [...docs.matchAll(/^\| `(\w+)` \| \d{3} \|/gm)].map((m) => m[1]).sort()
  assert.deepEqual(documented, types)
})
