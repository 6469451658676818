/** What the runner itself does on PostgreSQL: probe it, make and drop the fresh schema, check seeding landed there. */
export interface PostgresAdmin {
  readonly version: string
  createSchema(schema: string): Promise<void>
  dropSchema(schema: string): Promise<void>
  /** Whether any table of the schema holds a row (0 or 1, cheap). */
  countRows(schema: string): Promise<number>
  /** Whether the cluster runs autovacuum (SHOW autovacuum). */
  readonly autovacuum: boolean
  /** VACUUM (ANALYZE) of every table of the schema: what autovacuum would have done after a bulk load. */
  vacuumAnalyze(schema: string): Promise<void>
  /** EXPLAIN (ANALYZE, BUFFERS) of a statement run with search_path set to the schema. */
  explain(schema: string, sql: string, params?: unknown[]): Promise<string>
  close(): Promise<void>
}

interface PgClient {
  connect(): Promise<void>
  query(sql: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>
  end(): Promise<void>
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`

/**
 * Connects with `pg` when it is installed and the server answers within 3 s; undefined otherwise (the
 * runner then benches SQLite only and says so). `pg` is loaded by name at run time, so the benchmark
 * builds and runs where it is absent.
 */
export async function openPostgresAdmin(url: string): Promise<PostgresAdmin | undefined> {
  let client: PgClient
  try {
    const name = 'pg'
    const pg = (await import(name)) as { default: { Client: new (config: object) => PgClient } }
    client = new pg.default.Client({ connectionString: url, connectionTimeoutMillis: 3_000 })
    await client.connect()
  } catch {
    return undefined
  }
  const version = String((await client.query('SHOW server_version')).rows[0]?.server_version ?? 'unknown')
  const autovacuum = String((await client.query('SHOW autovacuum')).rows[0]?.autovacuum) === 'on'
  const tablesOf = async (schema: string) =>
    (await client.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE'`, [schema])).rows.map((r) => String(r.table_name))
  return {
    version,
    autovacuum,
    async vacuumAnalyze(schema) {
      for (const table of await tablesOf(schema)) await client.query(`VACUUM (ANALYZE) ${quoteIdent(schema)}.${quoteIdent(table)}`)
    },
    async createSchema(schema) {
      await client.query(`CREATE SCHEMA ${quoteIdent(schema)}`)
    },
    async dropSchema(schema) {
      await client.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`)
    },
    async countRows(schema) {
      for (const table of await tablesOf(schema)) {
        const hit = await client.query(`SELECT 1 FROM ${quoteIdent(schema)}.${quoteIdent(table)} LIMIT 1`)
        if (hit.rows.length > 0) return 1
      }
      return 0
    },
    async explain(schema, sql, params = []) {
      await client.query(`SET search_path TO ${quoteIdent(schema)}`)
      try {
        const plan = await client.query(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params)
        return plan.rows.map((r) => String(r['QUERY PLAN'])).join('\n')
      } finally {
        await client.query('RESET search_path')
      }
    },
    close: () => client.end(),
  }
}
