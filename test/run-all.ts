import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { dirname, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * `npm test`'s runner: every compiled test file under dist/test, run by node's test runner with the spec
 * reporter (its summary ends with "ℹ pass N" and "ℹ fail N"). `node --test dist/test/` found the files on
 * Node 20 only: from Node 21 on, the runner's arguments are glob patterns, and a directory is not one.
 * Arguments narrow the run to the files under those folders of dist/test, e.g. `http/idp`.
 */
const root = dirname(fileURLToPath(import.meta.url))
const under = process.argv.slice(2).map((folder) => join(root, folder))
const files = readdirSync(root, { recursive: true, encoding: 'utf8' })
  .filter((name) => name.endsWith('.test.js'))
  .map((name) => join(root, name))
  .filter((file) => under.length === 0 || under.some((folder) => file === folder || file.startsWith(folder + sep)))
  .sort()
if (files.length === 0) {
  process.stderr.write(`no test files under ${under.map((f) => relative(process.cwd(), f)).join(', ') || relative(process.cwd(), root)}\n`)
  process.exit(1)
}
const run = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...files.map((f) => relative(process.cwd(), f))], { stdio: 'inherit' })
process.exit(run.status ?? 1)
