import { createHash } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { Client } from 'pg'

/** The PostgreSQL the tests use (README: ROSTER_TEST_PG_URL). */
export const TEST_PG_URL = process.env.ROSTER_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

export type Probe = { readonly ok: true } | { readonly ok: false; readonly reason: string }

/** Connects once and runs SELECT 1, giving up after a few seconds. */
export async function probePostgres(url: string = TEST_PG_URL): Promise<Probe> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 3000 })
  try {
    await client.connect()
    await client.query('SELECT 1')
    return { ok: true }
  } catch (e) {
    return { ok: false, reason: `${url} is unreachable (${(e as Error).message || (e as Error).name})` }
  } finally {
    await client.end().catch(() => undefined)
  }
}

/**
 * The `skip` option of PostgreSQL-backed suites. Under CI (CI=true) an unreachable PostgreSQL fails the
 * file, so a broken setup cannot pass as green; locally the suites are skipped with a banner.
 */
export async function postgresSkip(what: string, url: string = TEST_PG_URL): Promise<false | string> {
  const probe = await probePostgres(url)
  if (probe.ok) return false
  if (process.env.CI === 'true') throw new Error(`PostgreSQL is required under CI for ${what}: ${probe.reason}`)
  const line = `*** SKIPPING ${what}: ${probe.reason}. Set ROSTER_TEST_PG_URL or start PostgreSQL. ***`
  console.warn(`\n${'*'.repeat(line.length)}\n${line}\n${'*'.repeat(line.length)}\n`)
  return `PostgreSQL unreachable: ${probe.reason}`
}

/**
 * Schemas for one test file, pg-boss style: named from a hash of the file and a counter, so that reruns
 * reuse (and first drop) the same names and two files never share one. A schema is dropped once the
 * tests that used it pass and kept when one fails, for a look with psql.
 */
export class TestSchemas {
  private readonly prefix: string
  private count = 0
  private readonly pending: string[] = []

  constructor(fileUrl: string, private readonly url: string = TEST_PG_URL) {
    this.prefix = `rt_${createHash('sha256').update(fileURLToPath(fileUrl)).digest('hex').slice(0, 10)}`
  }

  /**
   * A new schema name, dropped first if a previous run kept it; the schema itself is left to the store.
   * It is settled with the current test, unless `shared` (a suite's schema): then the caller settles it.
   */
  async fresh(options: { shared?: boolean } = {}): Promise<string> {
    const name = `${this.prefix}_${++this.count}`
    await this.run(`DROP SCHEMA IF EXISTS ${name} CASCADE`)
    if (!options.shared) this.pending.push(name)
    return name
  }

  /** Drops a shared schema when its suite passed, else keeps it and says so. */
  async settleShared(name: string, passed: boolean, label: string): Promise<void> {
    if (!passed) console.warn(`kept PostgreSQL schema ${name} of failed suite "${label}"`)
    else await this.run(`DROP SCHEMA IF EXISTS ${name} CASCADE`)
  }

  /** Drops the schemas handed out since the last settle when `passed`, else names them and keeps them. */
  async settle(passed: boolean, label: string): Promise<void> {
    const names = this.pending.splice(0)
    if (names.length === 0) return
    if (!passed) {
      console.warn(`kept PostgreSQL schema(s) ${names.join(', ')} of failed test "${label}"`)
      return
    }
    await this.run(names.map((n) => `DROP SCHEMA IF EXISTS ${n} CASCADE;`).join('\n'))
  }

  /** Runs SQL on a connection of its own (search_path untouched). */
  async run(sql: string, params: unknown[] = []): Promise<void> {
    const client = new Client({ connectionString: this.url })
    await client.connect()
    try {
      // Without parameters the simple protocol runs, which accepts several statements.
      await (params.length === 0 ? client.query(sql) : client.query(sql, params))
    } finally {
      await client.end()
    }
  }
}

/** A client whose search_path is `schema`, for looking at what a store wrote. */
export async function connectToSchema(schema: string, url: string = TEST_PG_URL): Promise<Client> {
  const client = new Client({ connectionString: url })
  await client.connect()
  await client.query(`SET search_path TO ${schema}`)
  return client
}
