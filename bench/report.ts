import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, release, totalmem } from 'node:os'
import type { MemoryReport } from './child-process.js'
import type { Measurement } from './measure.js'
import type { OperationKey } from './operations.js'
import type { SeedStats } from './seed.js'

/** The issue's targets, stated at 1,000,000 users on 2 cores; ratios are req/s over the baseline's. */
export const RATIO_TARGETS: Partial<Record<OperationKey, number>> = { getById: 0.5, filterEq: 0.4, patchUser: 0.25, postUser: 0.25 }
export const CURSOR_DEPTH_FACTOR = 1.5
export const BIG_GROUP_FACTOR = 2
export const RSS_LIMIT_BYTES = 300 * 1024 * 1024
export const BULK_USERS_PER_SECOND = 5_000

export interface OperationRow {
  readonly key: OperationKey
  readonly label: string
  readonly measurement: Measurement
  readonly counters?: Record<string, number>
}

export interface StoreReport {
  readonly store: 'sqlite' | 'postgres'
  readonly users: number
  readonly command: string
  /** Which code was measured (commit, and whether src/ had uncommitted changes). */
  readonly code: string
  readonly startedAt: string
  readonly durationSeconds: number
  readonly connections: number
  readonly ceiling: Measurement
  readonly seed: SeedStats
  readonly storeNote: string
  readonly rows: readonly OperationRow[]
  readonly memory: MemoryReport
  readonly notes: readonly string[]
  readonly profiles: readonly { readonly title: string; readonly text: string }[]
}

export interface TargetCheck {
  readonly what: string
  readonly value: string
  readonly target: string
  readonly pass: boolean
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`
const int = (n: number) => Math.round(n).toLocaleString('en-US')
const ms = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1))

/** Every target that the rows of one run can decide, with its value and verdict. */
export function checkTargets(report: StoreReport): TargetCheck[] {
  const row = (key: OperationKey) => report.rows.find((r) => r.key === key)
  const checks: TargetCheck[] = []
  for (const [key, min] of Object.entries(RATIO_TARGETS) as [OperationKey, number][]) {
    const r = row(key)
    if (!r) continue
    const ratio = r.measurement.requestsPerSecond / report.ceiling.requestsPerSecond
    checks.push({ what: r.label, value: `ratio ${ratio.toFixed(3)}`, target: `>= ${min}`, pass: ratio >= min && r.measurement.failed === 0 })
  }
  const first = row('cursorFirst')
  const deep = row('cursorDeep')
  if (first && deep) {
    const slower = first.measurement.requestsPerSecond / deep.measurement.requestsPerSecond
    checks.push({ what: 'deep cursor page vs first cursor page', value: `${slower.toFixed(2)}x slower`, target: `<= ${CURSOR_DEPTH_FACTOR}x`, pass: slower <= CURSOR_DEPTH_FACTOR })
  }
  const big = row('memberBig')
  const empty = row('memberEmpty')
  if (big && empty) {
    const slower = empty.measurement.requestsPerSecond / big.measurement.requestsPerSecond
    checks.push({ what: 'member add: big group vs empty group', value: `${slower.toFixed(2)}x slower`, target: `<= ${BIG_GROUP_FACTOR}x`, pass: slower <= BIG_GROUP_FACTOR && big.measurement.failed === 0 })
  }
  const bulk = row('bulk')
  if (bulk) {
    const perSecond = (bulk.counters?.committed ?? 0) / bulk.measurement.seconds
    checks.push({
      what: `Bulk import${report.store === 'sqlite' ? '' : ' (target is for SQLite)'}`,
      value: `${int(perSecond)} users/s`,
      target: `>= ${int(BULK_USERS_PER_SECOND)} users/s`,
      pass: perSecond >= BULK_USERS_PER_SECOND,
    })
  }
  checks.push({ what: 'Roster peak RSS', value: `${mb(report.memory.peakRssBytes)} (VmHWM ${mb(report.memory.hwmBytes)})`, target: `< ${mb(RSS_LIMIT_BYTES)}`, pass: Math.max(report.memory.peakRssBytes, report.memory.hwmBytes) < RSS_LIMIT_BYTES })
  return checks
}

const cpuOf = (m: Measurement) => (m.cpu ? `${m.cpu.server.toFixed(0)}%${m.cpu.postgres >= 1 ? ` [${m.cpu.postgres.toFixed(0)}%]` : ''} / ${m.cpu.client.toFixed(0)}%` : '')

/** A warning for each operation during which other processes used a noticeable share of the machine. */
function contention(report: StoreReport): string[] {
  const busy = [{ label: 'baseline', m: report.ceiling }, ...report.rows.map((r) => ({ label: r.label, m: r.measurement }))].filter((x) => (x.m.cpu?.other ?? 0) >= 10)
  if (busy.length === 0) return ['- Other processes used under 10% of a core during every operation.']
  const flattered = busy.some((x) => x.m === report.ceiling) ? ' A busy baseline means a low ceiling: every ratio of this run is then flattered.' : ''
  return [
    `- **Shared machine**: other processes used ${busy.map((x) => `${x.m.cpu!.other.toFixed(0)}% of a core during ${x.label}`).join('; ')}. Those operations are measured low.${flattered}`,
  ]
}

const STORE_NAMES = { sqlite: 'SQLite', postgres: 'PostgreSQL' } as const

/** The markdown section of one (store, N) run. */
export function formatReport(report: StoreReport): string {
  const ceiling = report.ceiling.requestsPerSecond
  const verdict = (key: OperationKey) => {
    const min = RATIO_TARGETS[key]
    if (min === undefined) return ''
    const r = report.rows.find((x) => x.key === key)!
    return r.measurement.requestsPerSecond / ceiling >= min && r.measurement.failed === 0 ? `>= ${min} **pass**` : `>= ${min} **FAIL**`
  }
  const failures = (m: Measurement) => (m.failed === 0 ? '' : ` (${int(m.failed)} failed: ${JSON.stringify(m.statusCodes)})`)
  const lines = [
    `### ${STORE_NAMES[report.store]}, N = ${int(report.users)} users`,
    '',
    `Run ${report.startedAt} on ${report.code}: \`${report.command}\`; ${report.durationSeconds} s per operation, ${report.connections} connections. ${report.storeNote}`,
    `Seeded in ${report.seed.seconds.toFixed(1)} s through the store port's \`${report.seed.method}\` (${int(report.seed.usersPerSecond)} users/s; not a measured operation).`,
    '',
    '| operation | req/s | p50 ms | p99 ms | ratio | target | CPU server [pg] / client | RSS |',
    '| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |',
    `| baseline: bare Fastify GET, fixed 1 KB user (the ceiling) | ${int(ceiling)} | ${ms(report.ceiling.p50Ms)} | ${ms(report.ceiling.p99Ms)} | 1 | | ${cpuOf(report.ceiling)} | |`,
    ...report.rows.map((r) => {
      const m = r.measurement
      const extra =
        r.key === 'bulk' && r.counters
          ? `; **${int((r.counters.committed ?? 0) / m.seconds)} users/s** committed${r.counters.failedOps ? `, ${int(r.counters.failedOps)} operations failed` : ''}`
          : (r.key === 'memberBig' || r.key === 'memberEmpty') && r.counters
            ? `; ${int(r.counters.fresh ?? 0)} of ${int(r.counters.sent ?? 0)} adds were fresh users`
            : ''
      return `| ${r.label}${failures(m)}${extra} | ${int(m.requestsPerSecond)} | ${ms(m.p50Ms)} | ${ms(m.p99Ms)} | ${(m.requestsPerSecond / ceiling).toFixed(3)} | ${verdict(r.key)} | ${cpuOf(m)} | ${m.peakRssBytes ? mb(m.peakRssBytes) : ''} |`
    }),
    '',
    '| target | value | wanted | |',
    '| --- | --- | --- | --- |',
    ...checkTargets(report).map((c) => `| ${c.what} | ${c.value} | ${c.target} | ${c.pass ? 'pass' : '**FAIL**'} |`),
    '',
    `- CPU: the Roster (or baseline) process's CPU time during the operation, in % of one core; PostgreSQL's processes in brackets; then the client's (autocannon, in the runner). A server near 100% is CPU-bound; well below, it waits (fsync, the database) or the client is the limit (a client near 100%).`,
    '- RSS: the largest VmRSS of the Roster process sampled during the operation.',
    ...contention(report),
    ...report.notes.map((n) => `- ${n}`),
  ]
  for (const p of report.profiles) lines.push('', `<details><summary>${p.title}</summary>`, '', p.text, '', '</details>')
  return lines.join('\n')
}

export interface MachineInfo {
  readonly cores: number
  readonly cpuModel: string
  readonly ramGiB: number
  readonly kernel: string
  readonly node: string
  readonly sqlite: string
  readonly postgres?: string
}

export function describeMachine(versions: { sqlite: string; postgres?: string }): MachineInfo {
  let model = cpus()[0]?.model ?? 'unknown'
  try {
    model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? model
  } catch {
    // not Linux: os.cpus() has it
  }
  return {
    cores: cpus().length,
    cpuModel: model,
    ramGiB: totalmem() / 1024 ** 3,
    kernel: `Linux ${release()}`,
    node: process.version,
    ...versions,
  }
}

export function formatMachine(m: MachineInfo): string {
  return [
    `- ${m.cores} cores, ${m.cpuModel}; ${m.ramGiB.toFixed(1)} GiB RAM; ${m.kernel}`,
    `- Node ${m.node}; SQLite ${m.sqlite} (better-sqlite3)${m.postgres ? `; PostgreSQL ${m.postgres}` : ''}`,
    '- Client (autocannon, in the runner), Roster and the baseline share the machine: each server gets about one core.',
  ].join('\n')
}

/**
 * Replaces the text between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->` in the file (creating the file
 * or appending the section when missing), so reruns update their own section and leave the prose alone.
 */
export function updateSection(file: string, name: string, content: string, heading = '# Benchmarks\n'): void {
  const begin = `<!-- bench:${name} -->`
  const end = `<!-- /bench:${name} -->`
  const block = `${begin}\n${content.trim()}\n${end}`
  const text = existsSync(file) ? readFileSync(file, 'utf8') : heading
  const from = text.indexOf(begin)
  const to = text.indexOf(end)
  const next = from >= 0 && to > from ? text.slice(0, from) + block + text.slice(to + end.length) : `${text.trimEnd()}\n\n${block}\n`
  writeFileSync(file, next)
}
