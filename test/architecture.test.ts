import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { test } from 'node:test'

// Dependencies point one way (STYLE.md "Layout"): a scan of import specifiers keeps them so.
const SRC = resolve(process.cwd(), 'src')

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    return statSync(p).isDirectory() ? filesUnder(p) : p.endsWith('.ts') ? [p] : []
  })
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  return [...text.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => (m[1] ?? m[2])!)
}

/** The src-relative folder an import lands in, or the package name for a bare specifier. */
function target(file: string, spec: string): string {
  if (!spec.startsWith('.')) return `pkg:${spec}`
  return relative(SRC, resolve(file, '..', spec))
}

const rules: { layer: string; forbid: (t: string, file: string) => boolean; why: string }[] = [
  {
    layer: 'scim',
    forbid: (t) => !t.startsWith('scim') && !t.startsWith('pkg:node:'),
    why: 'src/scim is the protocol as pure code: it imports nothing else of ours and no packages',
  },
  {
    layer: 'scim',
    forbid: (t) => /^pkg:node:(fs|net|http|https|child_process|worker_threads|dgram|dns|tls)/.test(t),
    why: 'src/scim does no I/O',
  },
  { layer: 'store', forbid: (t) => /^(http|provisioning|tokens|cli)/.test(t) || t === 'pkg:fastify', why: 'the store sees only scim/' },
  { layer: 'provisioning', forbid: (t) => /^store\/(sqlite|postgres|sql)/.test(t) || /^http/.test(t) || t === 'pkg:fastify' || t === 'pkg:better-sqlite3' || t === 'pkg:pg', why: 'use cases see store/ports.ts only' },
  { layer: 'tokens', forbid: (t) => /^store\/(sqlite|postgres|sql)/.test(t) || /^http/.test(t) || t === 'pkg:fastify', why: 'use cases see store/ports.ts only' },
  { layer: 'tenants', forbid: (t) => /^store\/(sqlite|postgres|sql)/.test(t) || /^http/.test(t) || t === 'pkg:fastify', why: 'use cases see store/ports.ts only' },
  { layer: 'audit', forbid: (t) => /^store\/(sqlite|postgres|sql)/.test(t) || /^http/.test(t) || t === 'pkg:fastify', why: 'use cases see store/ports.ts only' },
  { layer: 'http', forbid: (t) => /^store\/(sqlite|postgres|sql)/.test(t) || t === 'pkg:better-sqlite3' || t === 'pkg:pg', why: 'http never touches an adapter' },
]

for (const rule of rules) {
  test(`src/${rule.layer}: ${rule.why}`, () => {
    const dir = join(SRC, rule.layer)
    const files = filesUnder(dir)
    assert.ok(files.length > 0, `src/${rule.layer} has files`)
    const offences = files.flatMap((f) =>
      importsOf(f)
        .filter((spec) => rule.forbid(target(f, spec), f))
        .map((spec) => `${relative(SRC, f)} imports ${spec}`),
    )
    assert.deepEqual(offences, [])
  })
}

test('other layers import src/scim only through its index', () => {
  const offences = filesUnder(SRC)
    .filter((f) => !relative(SRC, f).startsWith('scim'))
    .flatMap((f) => importsOf(f).filter((s) => s.startsWith('.') && /^scim\/(?!index\.js$)/.test(target(f, s))).map((s) => `${relative(SRC, f)} imports ${s}`))
  assert.deepEqual(offences, [])
})
