import { existsSync, readFileSync } from 'node:fs'
import { SourceMap } from 'node:module'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The parts of a V8 .cpuprofile (what `node --cpu-prof` writes) that self time needs. */
interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number
    readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number; readonly columnNumber: number }
  }[]
  readonly samples: readonly number[]
  readonly timeDeltas: readonly number[]
}

export interface SelfTimeLine {
  readonly name: string
  /** Where the function is: our TypeScript source (through the compiler's source map) or the package file, 1-based line. */
  readonly where: string
  /** For an anonymous function of ours, the start of its source line, so a reader can tell which one it is. */
  readonly snippet?: string
  readonly selfMs: number
  /** Share of the busy (non-idle) time. */
  readonly percent: number
}

export interface ProfileSummary {
  readonly busyMs: number
  readonly idleMs: number
  readonly top: readonly SelfTimeLine[]
  /** Self time by place: node internals, each package, each of our source files. */
  readonly byPlace: readonly { readonly place: string; readonly selfMs: number; readonly percent: number }[]
}

const shorten = (url: string) => {
  if (!url) return '(native)'
  const nm = url.lastIndexOf('node_modules/')
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length)
  const dist = url.indexOf('/dist/')
  if (dist >= 0) return url.slice(dist + '/dist/'.length)
  return url.replace(/^file:\/\//, '')
}

const placeOf = (url: string, name: string) => {
  if (!url) return name.startsWith('(') ? name : '(native)'
  if (url.startsWith('node:')) return 'node internals'
  const nm = url.lastIndexOf('node_modules/')
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/')
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!
  }
  return shorten(url).replace(/\.js$/, '.ts')
}

const maps = new Map<string, SourceMap | undefined>()
const sources = new Map<string, string[] | undefined>()

/** The TypeScript position of a compiled position of ours (dist/…/*.js with its .js.map beside it). */
function originalPosition(url: string, line: number, column: number): { file: string; line: number } | undefined {
  if (!url.startsWith('file://') || url.includes('/node_modules/')) return undefined
  const js = fileURLToPath(url)
  if (!maps.has(js)) {
    const mapFile = `${js}.map`
    maps.set(js, existsSync(mapFile) ? new SourceMap(JSON.parse(readFileSync(mapFile, 'utf8'))) : undefined)
  }
  const entry = maps.get(js)?.findEntry(line, column) as { originalSource?: string; originalLine?: number } | undefined
  if (!entry?.originalSource || entry.originalLine === undefined) return undefined
  const file = entry.originalSource.startsWith('file://') ? fileURLToPath(entry.originalSource) : resolve(dirname(js), entry.originalSource)
  return { file, line: entry.originalLine }
}

/** Our files by their path from the project root (src/…, bench/…). */
const projectPath = (file: string) => {
  const m = /\/((?:src|bench|test)\/.*)$/.exec(file)
  return m ? m[1]! : file
}

function sourceLine(file: string, line: number): string | undefined {
  if (!sources.has(file)) sources.set(file, existsSync(file) ? readFileSync(file, 'utf8').split('\n') : undefined)
  const text = sources.get(file)?.[line]?.trim()
  return text ? (text.length > 90 ? `${text.slice(0, 87)}…` : text) : undefined
}

/** Self time per function (summed over a function's nodes), from a .cpuprofile file. */
export function summariseProfile(file: string, topN = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map<string, { name: string; where: string; place: string; us: number; snippet?: string }>()
  let idleUs = 0
  let busyUs = 0
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0
    const node = byId.get(id)
    if (!node) return
    const { functionName, url, lineNumber, columnNumber } = node.callFrame
    if (functionName === '(idle)') {
      idleUs += us
      return
    }
    busyUs += us
    const name = functionName || '(anonymous)'
    const original = url ? originalPosition(url, lineNumber, columnNumber) : undefined
    const where = original ? `${projectPath(original.file)}:${original.line + 1}` : url ? `${shorten(url)}:${lineNumber + 1}` : ''
    const key = `${name}@${where}`
    const snippet = original && name === '(anonymous)' ? sourceLine(original.file, original.line) : undefined
    const entry = self.get(key) ?? { name, where, place: original ? projectPath(original.file) : placeOf(url, name), us: 0, ...(snippet ? { snippet } : {}) }
    entry.us += us
    self.set(key, entry)
  })
  const pct = (us: number) => (busyUs > 0 ? (100 * us) / busyUs : 0)
  const top = [...self.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, topN)
    .map((e) => ({ name: e.name, where: e.where, selfMs: e.us / 1000, percent: pct(e.us), ...(e.snippet ? { snippet: e.snippet } : {}) }))
  const places = new Map<string, number>()
  for (const e of self.values()) places.set(e.place, (places.get(e.place) ?? 0) + e.us)
  const byPlace = [...places.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12)
    .map(([place, us]) => ({ place, selfMs: us / 1000, percent: pct(us) }))
  return { busyMs: busyUs / 1000, idleMs: idleUs / 1000, top, byPlace }
}

export function formatProfile(summary: ProfileSummary): string {
  const lines = [
    `busy ${summary.busyMs.toFixed(0)} ms, idle ${summary.idleMs.toFixed(0)} ms`,
    '',
    '| self % | self ms | function | where |',
    '| ---: | ---: | --- | --- |',
    ...summary.top.map((t) => `| ${t.percent.toFixed(1)} | ${t.selfMs.toFixed(0)} | \`${t.name}\`${t.snippet ? ` \`${t.snippet.replace(/\|/g, '\\|').replace(/`/g, "'")}\`` : ''} | ${t.where} |`),
    '',
    'By place: ' + summary.byPlace.map((p) => `${p.place} ${p.percent.toFixed(1)}%`).join(', '),
  ]
  return lines.join('\n')
}
