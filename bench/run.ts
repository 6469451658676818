import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import Database from 'better-sqlite3'
import { composeRoster } from '../src/compose.js'
import { readConfig } from '../src/config.js'
import { DEFAULT_TENANT } from '../src/store/ports.js'
import { BASELINE_JS, ROSTER_MAIN_JS, baselineReady, killAllStarted, rosterReady, startProcess, startScriptNodeFlags, type BenchProcess, type MemoryReport } from './child-process.js'
import { waitForIdleProcess, waitForQuiet } from './cpu-usage.js'
import { measureLoad, type Measurement } from './measure.js'
import { defineOperation, readFeatures, walkToCursor, type OperationContext, type OperationKey } from './operations.js'
import { openPostgresAdmin, type PostgresAdmin } from './postgres-admin.js'
import { formatProfile, summariseProfile } from './profile-summary.js'
import { checkTargets, describeMachine, formatMachine, formatReport, updateSection, type OperationRow, type StoreReport } from './report.js'
import { seedStore, type SeedStats } from './seed.js'
import { planSeed, withCreatedOf, type SeedPlan } from './seed-data.js'

// `npm run bench`: seeds each store, starts Roster as its own process and measures each operation with
// autocannon at a fixed concurrency, as a ratio to a bare Fastify server's req/s (see BENCHMARKS.md).

type StoreKind = 'sqlite' | 'postgres'

interface BenchOptions {
  readonly users: number
  readonly stores: 'sqlite' | 'postgres' | 'both' | undefined
  readonly durationSeconds: number
  readonly connections: number
  readonly out?: string
  /** auto: profile the operations behind a missed target; all: every operation; none. */
  readonly profile: 'auto' | 'all' | 'none'
  readonly profileSeconds: number
  /** Where to keep the .cpuprofile files (open them in Chrome DevTools); by default they go with the temporary data. */
  readonly profileDir?: string
  readonly bulkSize: number
  readonly synchronous: 'full' | 'normal'
  /** Before each measurement, wait up to this long for the machine to be quiet (other work paused). */
  readonly quietWaitSeconds: number
  /** Measure these operations only (all when absent). */
  readonly only?: readonly OperationKey[]
  /** SQLite: keep the seeded database here and start later runs of the same N from a copy of it. */
  readonly seedCache?: string
}

/** The highest scimRateLimitPerMinute an organization may have (TenantService's range). */
const BENCH_RATE_LIMIT = 10_000_000
const PG_URL = process.env.ROSTER_BENCH_PG_URL ?? process.env.ROSTER_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const PG_ADAPTER_DIR = new URL('../src/store/postgres/', import.meta.url)
const log = (line: string) => process.stdout.write(`${line}\n`)
const loud = (line: string) => process.stdout.write(`\n*** ${line} ***\n\n`)

function readOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      users: { type: 'string', default: '100000' },
      store: { type: 'string' },
      duration: { type: 'string', default: '10' },
      connections: { type: 'string', default: '32' },
      out: { type: 'string' },
      profile: { type: 'string', default: 'auto' },
      'profile-seconds': { type: 'string' },
      'profile-dir': { type: 'string' },
      'bulk-size': { type: 'string', default: '500' },
      synchronous: { type: 'string', default: 'full' },
      'quiet-wait': { type: 'string', default: '60' },
      only: { type: 'string' },
      'seed-cache': { type: 'string' },
    },
    strict: true,
  })
  const positive = (name: string, raw: string | undefined, min = 1) => {
    const n = Number(raw)
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got "${raw}"`)
    return n
  }
  const oneOf = <T extends string>(name: string, raw: string | undefined, allowed: readonly T[]): T | undefined => {
    if (raw === undefined) return undefined
    const hit = allowed.find((a) => a === raw)
    if (!hit) throw new Error(`--${name} must be one of ${allowed.join(', ')}, got "${raw}"`)
    return hit
  }
  const durationSeconds = positive('duration', values.duration)
  return {
    users: positive('users', values.users, 200),
    stores: oneOf('store', values.store, ['sqlite', 'postgres', 'both'] as const),
    durationSeconds,
    connections: positive('connections', values.connections),
    ...(values.out ? { out: values.out } : {}),
    profile: oneOf('profile', values.profile, ['auto', 'all', 'none'] as const) ?? 'auto',
    profileSeconds: values['profile-seconds'] ? positive('profile-seconds', values['profile-seconds']) : Math.min(durationSeconds, 10),
    ...(values['profile-dir'] ? { profileDir: resolve(values['profile-dir']) } : {}),
    bulkSize: positive('bulk-size', values['bulk-size']),
    synchronous: oneOf('synchronous', values.synchronous, ['full', 'normal'] as const) ?? 'full',
    quietWaitSeconds: positive('quiet-wait', values['quiet-wait'], 0),
    ...(values.only ? { only: values.only.split(',').map((k) => k.trim() as OperationKey) } : {}),
    ...(values['seed-cache'] ? { seedCache: resolve(values['seed-cache']) } : {}),
  }
}

/** Which stores to run: as asked, or both when PostgreSQL answers and the adapter is built, else SQLite with a loud note. */
function chooseStores(options: BenchOptions, pg: PostgresAdmin | undefined): StoreKind[] {
  const adapter = existsSync(PG_ADAPTER_DIR)
  const why = !pg ? `PostgreSQL does not answer at ${PG_URL}` : 'there is no PostgreSQL adapter (dist/src/store/postgres/)'
  if (options.stores === 'sqlite') return ['sqlite']
  if (options.stores === 'postgres' || options.stores === 'both') {
    if (!pg || !adapter) throw new Error(`--store ${options.stores}: ${why}`)
    return options.stores === 'both' ? ['sqlite', 'postgres'] : ['postgres']
  }
  if (pg && adapter) return ['sqlite', 'postgres']
  loud(`SQLITE ONLY: ${why}`)
  return ['sqlite']
}

const cleanups: (() => Promise<void> | void)[] = []
async function cleanUp(): Promise<void> {
  killAllStarted()
  while (cleanups.length > 0) {
    try {
      await cleanups.pop()!()
    } catch (e) {
      process.stderr.write(`cleanup: ${(e as Error).message}\n`)
    }
  }
}

/** Waits for the machine to be quiet before a measurement, and says so when it waited or gave up. */
async function quiet(options: BenchOptions, what: string): Promise<void> {
  if (options.quietWaitSeconds === 0) return
  const { seconds, quiet } = await waitForQuiet(options.quietWaitSeconds)
  if (!quiet) log(`  (machine still busy after ${seconds.toFixed(0)} s; measuring ${what} anyway)`)
  else if (seconds > 4) log(`  (waited ${seconds.toFixed(0)} s for other work on the machine to pause)`)
}

async function measureCeiling(options: BenchOptions): Promise<Measurement> {
  const baseline = await startProcess(BASELINE_JS, { env: {}, ready: baselineReady })
  try {
    const requests = [{ method: 'GET', path: '/scim/v2/Users/2819c223-7f76-453a-919d-413861904646' }]
    await measureLoad({ origin: baseline.origin, headers: {}, connections: options.connections, durationSeconds: 2, requests })
    await quiet(options, 'the baseline')
    await waitForIdleProcess(baseline.pid)
    const m = await measureLoad({ origin: baseline.origin, headers: {}, connections: options.connections, durationSeconds: options.durationSeconds, requests, serverPid: baseline.pid })
    log(`baseline (bare Fastify, fixed 1 KB user): ${Math.round(m.requestsPerSecond)} req/s, p50 ${m.p50Ms} ms, p99 ${m.p99Ms} ms`)
    return m
  } finally {
    await baseline.stop()
  }
}

interface StoreSetup {
  /** The environment Roster reads (for the in-process seeding and for the server process alike). */
  readonly env: Record<string, string>
  readonly note: string
  /** After seeding: fails loudly when the rows did not land where this store should have put them. */
  verify(): Promise<void>
  /** Every SEED_MAINTENANCE_EVERY users and after seeding: what the database's own maintenance would do. */
  maintain(): Promise<void>
}

async function prepareStore(kind: StoreKind, dataDir: string, pg: PostgresAdmin | undefined, options: BenchOptions): Promise<StoreSetup> {
  if (kind === 'sqlite') {
    const db = join(dataDir, 'roster.db')
    return {
      env: { ROSTER_DATA_DIR: dataDir },
      note: `SQLite in WAL mode with synchronous=${options.synchronous.toUpperCase()}${options.synchronous === 'full' ? ' (every acknowledged write is fsynced)' : ' (NOT durable against power loss)'}.`,
      async verify() {
        if (!existsSync(db)) throw new Error(`no SQLite database at ${db} after seeding`)
      },
      async maintain() {},
    }
  }
  const schema = `roster_bench_${process.pid}_${Date.now().toString(36)}`
  await pg!.createSchema(schema)
  cleanups.push(() => pg!.dropSchema(schema))
  return {
    // Required with PostgreSQL (the seeding and the server process must share it); a fresh one per run.
    env: { ROSTER_DATA_DIR: dataDir, ROSTER_DATABASE_URL: PG_URL, ROSTER_PG_SCHEMA: schema, ROSTER_SECRET_KEY: randomBytes(32).toString('base64') },
    note:
      `PostgreSQL ${pg!.version}, fresh schema ${schema} (dropped afterwards), synchronous_commit on.` +
      (pg!.autovacuum ? '' : ' **autovacuum is off on this cluster**: the bench ran VACUUM (ANALYZE) on the schema every 25,000 seeded users and after seeding, as autovacuum would have.'),
    async verify() {
      const rows = await pg!.countRows(schema)
      if (rows === 0) throw new Error(`seeding left schema ${schema} empty: does the adapter read ROSTER_DATABASE_URL and ROSTER_PG_SCHEMA?`)
    },
    async maintain() {
      // Without statistics the planner guesses, and GIN pending lists are flushed by the inserting
      // backends: with autovacuum off, seeding 100,000 users slowed from 610 to 218 users/s until a
      // VACUUM (ANALYZE) brought it back to about 900.
      if (!pg!.autovacuum) await pg!.vacuumAnalyze(schema)
    },
  }
}

async function benchStore(kind: StoreKind, options: BenchOptions, pg: PostgresAdmin | undefined): Promise<StoreReport> {
  const startedAt = new Date().toISOString()
  const dataDir = mkdtempSync(join(tmpdir(), `roster-bench-${kind}-`))
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }))
  const setup = await prepareStore(kind, dataDir, pg, options)
  log(`\n== ${kind}: seeding ${options.users.toLocaleString('en-US')} users in ${dataDir}`)
  const cached = kind === 'sqlite' ? restoreSeed(options, dataDir) : undefined
  const plan = cached?.plan ?? planSeed(options.users)
  // Seeding is not measured: SQLite runs it with synchronous=NORMAL (durable at the end, when the store closes).
  const roster = await composeRoster(readConfig({ ...setup.env, ROSTER_SQLITE_SYNCHRONOUS: 'normal', ROSTER_LOG_LEVEL: 'silent' }))
  let seed
  let token: string
  try {
    seed = cached?.seed ?? (await seedStore(roster.store.resources, roster.registry, plan, log, () => setup.maintain()))
    token = (await roster.tokens.issue(DEFAULT_TENANT, 'bench')).token
    // The organization's SCIM rate limit (default 6,000 requests per minute per token) would cap every
    // operation at 100 req/s: the bench measures throughput, so it lifts the limit to the highest allowed.
    await roster.tenants.updateSettings(DEFAULT_TENANT, { scimRateLimitPerMinute: BENCH_RATE_LIMIT })
  } finally {
    await roster.store.close()
  }
  await setup.verify()
  await setup.maintain()
  if (kind === 'sqlite' && !cached && options.seedCache) saveSeed(options, dataDir, plan, seed)
  log(`  seeded in ${seed.seconds.toFixed(1)} s via ${seed.method}${cached ? ` (copied from ${options.seedCache})` : ''}`)
  // The ceiling is measured for each store just before its operations and again after them; the higher of
  // the two is the ceiling (a machine busy during one of them would otherwise flatter every ratio).
  const ceilingBefore = await measureCeiling(options)

  const serverEnv = { ...setup.env, ROSTER_PORT: '0', ROSTER_LOG_LEVEL: 'silent', ROSTER_SQLITE_SYNCHRONOUS: options.synchronous }
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json', accept: 'application/scim+json' }
  const startFlags = startScriptNodeFlags()
  const startRoster = (nodeFlags: string[] = []) => startProcess(ROSTER_MAIN_JS, { env: serverEnv, nodeFlags: [...startFlags, ...nodeFlags], ready: rosterReady, timeoutMs: 120_000 })
  let server: BenchProcess = await startRoster()
  const notes: string[] = [
    `The organization's SCIM rate limit was raised to ${BENCH_RATE_LIMIT.toLocaleString('en-US')} requests per minute for the run (its default, 6,000 per token, would cap every operation at 100 req/s); the rate limiter still runs on every request.`,
  ]
  const rows: OperationRow[] = []
  const ctx: { -readonly [K in keyof OperationContext]: OperationContext[K] } = {
    plan,
    tag: `r${Date.now().toString(36)}`,
    freshUsers: [],
    bulkSize: options.bulkSize,
  }
  const memories: MemoryReport[] = []
  // Another process on a shared machine may kill ours (a broad pkill in someone's test cleanup): then the
  // server is started again on the same data and the operation repeated, and the report says so.
  const restartIfGone = async (when: string): Promise<boolean> => {
    const status = server.exitStatus()
    if (!status) return false
    memories.push(await server.stop())
    loud(`Roster ${status} during ${when}: starting it again on the same data`)
    notes.push(`Roster was ${status.startsWith('killed') ? status : `found ${status}`} from outside the bench during ${when}; it was started again on the same data and the operation repeated.`)
    server = await startRoster()
    return true
  }
  try {
    const features = await readFeatures(server.origin, headers)
    if (features.bulk.supported) {
      ctx.bulkSize = Math.max(1, Math.min(options.bulkSize, features.bulk.maxOperations, Math.floor(features.bulk.maxPayloadSize / 1400)))
    }
    const keys: OperationKey[] = ['getById', 'filterEq', 'filterSw', 'filterCo', 'indexDeep']
    const wanted = (key: OperationKey) => !options.only || options.only.includes(key)
    const depth = Math.max(0, plan.users - 100)
    const pageSize = Math.min(features.maxPageSize, 1000)
    let cursorServer: BenchProcess | undefined
    const walkCursor = async () => {
      const walk = await walkToCursor(server.origin, headers, depth, pageSize)
      ctx.deepCursor = walk.cursor
      cursorServer = server
      return walk
    }
    if (features.cursor && wanted('cursorDeep')) {
      const walk = await walkCursor()
      notes.push(
        `Deep cursor: reached position ${depth.toLocaleString('en-US')} (the same depth as the deep index page) by following nextCursor from the first page, ` +
          `${walk.requests} requests of up to ${pageSize} resources (${walk.seconds.toFixed(1)} s); that cursor is then requested again and again.`,
      )
      keys.push('cursorFirst', 'cursorDeep')
    } else if (features.cursor) {
      keys.push('cursorFirst')
    } else {
      notes.push('Cursor paging: not advertised in /ServiceProviderConfig (pagination.cursor), not measured.')
    }
    keys.push('postUser', 'patchUser')
    if (features.bulk.supported) keys.push('bulk')
    else notes.push('Bulk: advertised as unsupported in /ServiceProviderConfig, not measured.')
    keys.push('memberBig', 'memberEmpty')

    const warmed = new Set<OperationKey>(['getById', 'filterEq', 'filterSw', 'filterCo', 'cursorFirst'])
    for (const key of keys.filter(wanted)) {
      if ((key === 'memberBig' || key === 'memberEmpty') && ctx.freshUsers.length === 0) {
        // Nothing was created during the run: fall back to seeded users outside the big group, or any.
        const outside = plan.userIds.slice(plan.bigGroupSize)
        ctx.freshUsers.push(...(outside.length > 0 ? outside : plan.userIds))
        notes.push('Member adds used seeded users (no user was created by POST or Bulk in this run).')
      }
      let row: OperationRow | undefined
      for (let attempt = 0; attempt < 3 && !row; attempt++) {
        await restartIfGone(`the run before ${key}`)
        // A cursor may be bound to the process that issued it: walk again after a restart.
        if (key === 'cursorDeep' && cursorServer !== server) await walkCursor()
        const op = defineOperation(key, ctx)
        const spec = { origin: server.origin, headers, connections: options.connections, durationSeconds: options.durationSeconds, requests: op.requests, serverPid: server.pid }
        if (warmed.has(key)) {
          await measureLoad({ ...spec, durationSeconds: 1, requests: defineOperation(key, ctx).requests })
          await waitForIdleProcess(server.pid)
        }
        await quiet(options, op.label)
        server.beginWindow()
        const measured = await measureLoad(spec)
        const measurement = { ...measured, peakRssBytes: server.windowPeakBytes() }
        const counters = op.counters?.()
        if (await restartIfGone(op.label)) continue
        const drained = await waitForIdleProcess(server.pid)
        if (drained > 2) log(`  (the server worked ${drained.toFixed(0)} s more on requests accepted before the client stopped)`)
        row = { key, label: op.label, measurement, ...(counters ? { counters } : {}) }
        log(
          `  ${op.label}: ${Math.round(measurement.requestsPerSecond)} req/s, p50 ${measurement.p50Ms} ms, p99 ${measurement.p99Ms} ms` +
            `${measurement.failed ? `, ${measurement.failed} FAILED ${JSON.stringify(measurement.statusCodes)}` : ''}${counters ? ` ${JSON.stringify(counters)}` : ''}` +
            `${measurement.cpu ? `; CPU % of a core: server ${measurement.cpu.server.toFixed(0)}, client ${measurement.cpu.client.toFixed(0)}, postgres ${measurement.cpu.postgres.toFixed(0)}, other ${measurement.cpu.other.toFixed(0)}` : ''}`,
        )
      }
      if (!row) throw new Error(`${key}: Roster was killed three times from outside the bench`)
      rows.push(row)
    }
  } finally {
    memories.push(await server.stop())
  }
  const ceilingAfter = await measureCeiling(options)
  const ceiling = ceilingAfter.requestsPerSecond > ceilingBefore.requestsPerSecond ? ceilingAfter : ceilingBefore
  notes.push(
    `The ceiling was measured before the operations (${Math.round(ceilingBefore.requestsPerSecond).toLocaleString('en-US')} req/s) and after them (${Math.round(ceilingAfter.requestsPerSecond).toLocaleString('en-US')} req/s); ratios use the higher.`,
  )
  const memory: MemoryReport = {
    peakRssBytes: Math.max(...memories.map((m) => m.peakRssBytes)),
    hwmBytes: Math.max(...memories.map((m) => (Number.isFinite(m.hwmBytes) ? m.hwmBytes : 0))),
    samples: memories.reduce((n, m) => n + m.samples, 0),
  }
  log(`  Roster peak RSS ${(memory.peakRssBytes / 2 ** 20).toFixed(0)} MB (VmHWM ${(memory.hwmBytes / 2 ** 20).toFixed(0)} MB, ${memory.samples} samples)`)

  const report: StoreReport = {
    store: kind,
    users: options.users,
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    code: codeVersion(),
    startedAt,
    durationSeconds: options.durationSeconds,
    connections: options.connections,
    ceiling,
    seed,
    storeNote: setup.note,
    rows,
    memory,
    notes,
    profiles: [],
  }
  const profiles = await profileOperations(report, options, startRoster, ctx, headers, dataDir)
  return { ...report, profiles }
}

/** The operations whose numbers miss a target (auto), or all of them: each is run again under `node --cpu-prof`. */
function operationsToProfile(report: StoreReport, mode: BenchOptions['profile']): OperationKey[] {
  if (mode === 'none') return []
  if (mode === 'all') return report.rows.map((r) => r.key)
  const failing = new Set(checkTargets(report).filter((c) => !c.pass).map((c) => c.what))
  const keys: OperationKey[] = []
  for (const r of report.rows) if (failing.has(r.label)) keys.push(r.key)
  if (failing.has('deep cursor page vs first cursor page')) keys.push('cursorDeep')
  if (failing.has('member add: big group vs empty group')) keys.push('memberBig')
  if ([...failing].some((f) => f.startsWith('Bulk import'))) keys.push('bulk')
  return keys
}

async function profileOperations(
  report: StoreReport,
  options: BenchOptions,
  startRoster: (flags?: string[]) => Promise<BenchProcess>,
  ctx: OperationContext,
  headers: Record<string, string>,
  dataDir: string,
): Promise<{ title: string; text: string }[]> {
  const out: { title: string; text: string }[] = []
  for (const key of operationsToProfile(report, options.profile)) {
    const dir = options.profileDir ? join(options.profileDir, `${report.store}-${report.users}-${key}`) : join(dataDir, `cpu-prof-${key}`)
    const server = await startRoster(['--cpu-prof', `--cpu-prof-dir=${dir}`])
    let label = key as string
    try {
      const op = defineOperation(key, ctx)
      label = op.label
      await quiet(options, op.label)
      await measureLoad({ origin: server.origin, headers, connections: options.connections, durationSeconds: options.profileSeconds, requests: op.requests })
    } finally {
      await server.stop()
    }
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))
    if (!file) {
      out.push({ title: `CPU profile: ${label}`, text: 'no .cpuprofile was written' })
      continue
    }
    const text = formatProfile(summariseProfile(join(dir, file)))
    log(`\n  CPU profile of the server during ${label} (${options.profileSeconds} s):\n${text}`)
    out.push({ title: `CPU profile of the server during ${label} (${options.profileSeconds} s, \`node --cpu-prof\`): top self time`, text })
  }
  return out
}

const seedFiles = (options: BenchOptions) => {
  const dir = join(options.seedCache!, `sqlite-${options.users}`)
  return { dir, db: join(dir, 'roster.db'), plan: join(dir, 'plan.json') }
}

/** SQLite with --seed-cache: a copy of the database seeded by an earlier run for the same N, and its plan. */
function restoreSeed(options: BenchOptions, dataDir: string): { plan: SeedPlan; seed: SeedStats } | undefined {
  if (!options.seedCache) return undefined
  const files = seedFiles(options)
  if (!existsSync(files.db) || !existsSync(files.plan)) return undefined
  const saved = JSON.parse(readFileSync(files.plan, 'utf8')) as { plan: Omit<SeedPlan, 'createdOf'>; seed: SeedStats }
  copyFileSync(files.db, join(dataDir, 'roster.db'))
  return { plan: withCreatedOf(saved.plan), seed: saved.seed }
}

function saveSeed(options: BenchOptions, dataDir: string, plan: SeedPlan, seed: SeedStats): void {
  const files = seedFiles(options)
  mkdirSync(files.dir, { recursive: true })
  // The token and rate limit the run adds are in the copy too; each later run issues a token of its own.
  copyFileSync(join(dataDir, 'roster.db'), files.db)
  const { createdOf: _createdOf, ...ids } = plan
  writeFileSync(files.plan, JSON.stringify({ plan: ids, seed }))
}

/** The commit the measured code was built from, and whether src/ had changes not yet committed. */
function codeVersion(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { encoding: 'utf8' }).trim() !== ''
    return `commit ${head}${dirty ? ' with uncommitted changes in src/' : ''}`
  } catch {
    return 'not a git checkout'
  }
}

function sqliteVersion(): string {
  const db = new Database(':memory:')
  try {
    return (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v
  } finally {
    db.close()
  }
}

async function main(): Promise<void> {
  const options = readOptions(process.argv.slice(2))
  const pg = await openPostgresAdmin(PG_URL)
  if (pg) cleanups.push(() => pg.close())
  const stores = chooseStores(options, pg)
  const machine = describeMachine({ sqlite: sqliteVersion(), ...(pg ? { postgres: pg.version } : {}) })
  log(formatMachine(machine))
  for (const kind of stores) {
    const report = await benchStore(kind, options, pg)
    const section = formatReport(report)
    log(`\n${section}\n`)
    if (options.out) {
      updateSection(options.out, 'machine', `## Machine\n\n${formatMachine(machine)}`)
      updateSection(options.out, `${kind}-${options.users}`, section)
      log(`updated ${options.out} (section ${kind}-${options.users})`)
    }
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: stopping servers and removing temporary data\n`)
    cleanUp().finally(() => process.exit(130))
  })
}

try {
  await main()
} catch (e) {
  process.stderr.write(`bench: ${(e as Error).stack ?? String(e)}\n`)
  process.exitCode = 1
} finally {
  await cleanUp()
}
