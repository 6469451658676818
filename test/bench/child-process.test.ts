import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { startScriptNodeFlags } from '../../bench/child-process.js'

const withStartScript = (start: string | undefined): string => {
  const file = join(mkdtempSync(join(tmpdir(), 'roster-start-')), 'package.json')
  writeFileSync(file, JSON.stringify({ scripts: start === undefined ? {} : { start } }))
  return file
}

test("the bench starts Roster with the flags of this repository's npm start", () => {
  assert.deepEqual(startScriptNodeFlags(), ['--max-semi-space-size=4'])
})

const cases: { start: string; flags: string[] }[] = [
  { start: 'node dist/src/main.js', flags: [] },
  { start: 'node --max-semi-space-size=4 dist/src/main.js', flags: ['--max-semi-space-size=4'] },
  { start: 'node --enable-source-maps  --max-semi-space-size=8 dist/src/main.js', flags: ['--enable-source-maps', '--max-semi-space-size=8'] },
]
for (const { start, flags } of cases) {
  test(`startScriptNodeFlags: "${start}"`, () => assert.deepEqual(startScriptNodeFlags(withStartScript(start)), flags))
}

for (const start of [undefined, 'tsx src/main.ts', 'node dist/src/main.js --port 1', 'npm run build && node dist/src/main.js']) {
  test(`startScriptNodeFlags refuses a start script it cannot read: ${JSON.stringify(start)}`, () => {
    assert.throws(() => startScriptNodeFlags(withStartScript(start)), /start script is not/)
  })
}
