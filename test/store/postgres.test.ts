import { randomBytes } from 'node:crypto'
import { after, afterEach, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Client } from 'pg'
import { GROUP_SCHEMA, SchemaRegistry, ScimError, USER_SCHEMA, parseAttributePath, parseFilter, resolveFilter } from '../../src/scim/index.js'
import { DEFAULT_TENANT_SETTINGS, type NewResource, type Store, type StoredResource } from '../../src/store/ports.js'
import { MIGRATIONS_TABLE, POSTGRES_MIGRATIONS, migratePostgres } from '../../src/store/postgres/migrations.js'
import { buildPostgresQuerySql, openPostgresStore } from '../../src/store/postgres/postgres-store.js'
import { TEST_PG_URL, TestSchemas, connectToSchema, postgresSkip } from '../postgres-harness.js'
import { defineAdminStoreContract } from './admin-stores.contract.js'
import { defineResourceStoreContract } from './resource-store.contract.js'

const skip = await postgresSkip('PostgreSQL store tests')
const schemas = new TestSchemas(import.meta.url)
// Runs after each test's own hooks (the contract's afterEach closes its store first).
afterEach(async (t) => {
  if (!skip) await schemas.settle((t as { passed?: boolean }).passed === true, t.name)
})

const openFresh = async () => openPostgresStore(TEST_PG_URL, { schema: await schemas.fresh() })

defineResourceStoreContract('postgres', { skip, open: () => openFresh() })
defineAdminStoreContract('postgres', { skip, open: () => openFresh() })

const registry = SchemaRegistry.withCoreSchemas()
const at = (seconds: number) => new Date(Date.UTC(2024, 0, 1) + seconds * 1000).toISOString()
const user = (id: string, userName: string, now = at(0)): NewResource => ({ id, resourceType: 'User', data: { schemas: [USER_SCHEMA], userName }, now })
const group = (id: string, displayName: string, memberIds: string[] = []): NewResource => ({
  id,
  resourceType: 'Group',
  data: { schemas: [GROUP_SCHEMA], displayName },
  memberIds,
  now: at(0),
})

describe('postgres: EXPLAIN of the statements query() runs', { skip }, () => {
  // Real statistics, not `SET enable_seqscan = off`: each plan below is what the planner picks when a
  // sequential scan is a real option. The sizes matter: with 2,000 users per tenant the planner (rightly)
  // prefers the tenant's btree and a filter over any GIN trigram index, whose start-up cost it rates
  // higher; from about 10,000 per tenant it picks the trigram indexes for `co`. So: 2 tenants × 20,000
  // users (the first 500 of each through the store, the rest by one INSERT … SELECT of the same shape),
  // 300 groups of 10 members each, then VACUUM ANALYZE, as autovacuum leaves a table in steady state.
  const USERS = 20_000
  let schema: string
  let db: Client | undefined
  let passed = true
  before(async () => {
    schema = await schemas.fresh({ shared: true })
    const store = await openPostgresStore(TEST_PG_URL, { schema })
    try {
      for (const tenant of ['t1', 't2']) {
        const users: NewResource[] = Array.from({ length: 500 }, (_, i) => ({
          id: `${tenant}-u${i}`,
          resourceType: 'User',
          data: { schemas: [USER_SCHEMA], userName: `user${i}`, externalId: `ext${i}`, displayName: `User ${i}`, emails: [{ value: `user${i}@example.com` }] },
          now: at(i),
        }))
        const created = await store.resources.createMany(tenant, users)
        assert.deepStrictEqual(created.filter((r) => r instanceof ScimError), [])
        await store.resources.create(tenant, { ...group(`${tenant}-g`, 'G'), memberIds: [`${tenant}-u1`] })
      }
    } finally {
      await store.close()
    }
    db = await connectToSchema(schema)
    const iso = (seconds: string) => `to_char(timestamp '2024-01-01' + ${seconds} * interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`
    await db.query(
      `INSERT INTO resources (tenant_id, resource_type, id, data, version, created, last_modified, user_name_ci, external_id, display_name_ci)
       SELECT t, 'User', t || '-u' || i,
              jsonb_build_object('schemas', jsonb_build_array($2::text), 'userName', 'user' || i, 'externalId', 'ext' || i, 'displayName', 'User ' || i,
                                 'emails', jsonb_build_array(jsonb_build_object('value', 'user' || i || '@example.com'))),
              1, ${iso('i')}, ${iso('i')}, 'user' || i, 'ext' || i, 'user ' || i
       FROM unnest(ARRAY['t1', 't2']) AS t, generate_series(500, $1 - 1) AS i`,
      [USERS, USER_SCHEMA],
    )
    await db.query(
      `INSERT INTO resource_emails (tenant_id, resource_id, value_ci)
       SELECT t, t || '-u' || i, 'user' || i || '@example.com' FROM unnest(ARRAY['t1', 't2']) AS t, generate_series(500, $1 - 1) AS i`,
      [USERS],
    )
    await db.query(
      `INSERT INTO resources (tenant_id, resource_type, id, data, version, created, last_modified, display_name_ci)
       SELECT t, 'Group', t || '-g' || g, jsonb_build_object('schemas', jsonb_build_array($1::text), 'displayName', 'Group ' || g), 1, ${iso('g')}, ${iso('g')}, 'group ' || g
       FROM unnest(ARRAY['t1', 't2']) AS t, generate_series(1, 300) AS g`,
      [GROUP_SCHEMA],
    )
    await db.query(
      `INSERT INTO group_members (tenant_id, group_id, member_id, member_type)
       SELECT t, t || '-g' || g, t || '-u' || (g * 10 + k), 'User' FROM unnest(ARRAY['t1', 't2']) AS t, generate_series(1, 300) AS g, generate_series(0, 9) AS k`,
    )
    // ANALYZE samples 300 × default_statistics_target rows: at 100 that is 30,000 of these tables' rows,
    // a random sample, and once in about twenty runs the estimates it gave made the planner pick a hash
    // join for the `emails.value co` count. A target of 1,000 samples every row: the same statistics, and
    // so the same plans, on every run.
    await db.query('SET default_statistics_target = 1000')
    await db.query('VACUUM ANALYZE')
    await db.query('RESET default_statistics_target')
  })
  afterEach((t) => {
    if ((t as { passed?: boolean }).passed !== true) passed = false
  })
  after(async () => {
    await db?.end()
    if (schema) await schemas.settleShared(schema, passed, 'EXPLAIN')
  })

  /**
   * The plan of listSql (count and page in one statement: the count scans `r`, the page `r_1`), or of the
   * page or the count alone, as a startIndex page runs them.
   */
  const plan = async (
    resourceType: string,
    filter: string | undefined,
    extra: { after?: { key: string; id: string }; statement?: 'listSql' | 'pageSql' | 'countSql' } = {},
  ) => {
    const q = buildPostgresQuerySql('t1', resourceType, {
      ...(filter ? { filter: resolveFilter(parseFilter(filter), registry, resourceType) } : {}),
      ...(extra.after ? { after: extra.after } : {}),
    })
    const statement = extra.statement ?? 'listSql'
    const values = statement === 'countSql' ? q.params : [...q.pageParams, 11, 0]
    const { rows } = await db!.query<{ 'QUERY PLAN': string }>(`EXPLAIN (FORMAT TEXT, COSTS OFF) ${q[statement]}`, values)
    return rows.map((r) => r['QUERY PLAN']).join('\n')
  }
  /** How often `index` is searched in the plan: once for the count and once for the page, if it serves both. */
  const searches = (plan: string, index: string) => plan.split('\n').filter((line) => new RegExp(`(Index Scan using|Index Only Scan using|Bitmap Index Scan on) ${index}\\b`).test(line)).length

  const indexed: { filter: string; type: string; indexes: string[]; cond?: RegExp }[] = [
    { filter: 'id eq "t1-u7"', type: 'User', indexes: ['resources_pkey'] },
    { filter: 'userName eq "User7"', type: 'User', indexes: ['resources_user_name_ci'] },
    { filter: 'externalId eq "ext7"', type: 'User', indexes: ['resources_external_id'] },
    { filter: 'displayName eq "user 7"', type: 'User', indexes: ['resources_display_name_ci'] },
    { filter: 'emails.value eq "USER7@example.com"', type: 'User', indexes: ['resource_emails_value', 'resources_pkey'] },
    { filter: 'userName sw "user123"', type: 'User', indexes: ['resources_user_name_ci'], cond: /Index Cond: .*\(user_name_ci >= 'user123'::text\) AND \(user_name_ci < 'user124'::text\)/ },
    { filter: 'userName co "er1234"', type: 'User', indexes: ['resources_user_name_trgm'], cond: /Index Cond: \(user_name_ci ~~ '%er1234%'::text\)/ },
    { filter: 'displayName co "r 1234"', type: 'User', indexes: ['resources_display_name_trgm'], cond: /Index Cond: \(display_name_ci ~~ '%r 1234%'::text\)/ },
    { filter: 'emails.value co "r1234@"', type: 'User', indexes: ['resource_emails_value_trgm', 'resources_pkey'], cond: /Index Cond: \(value_ci ~~ '%r1234@%'::text\)/ },
    { filter: 'members.value eq "t1-u15"', type: 'Group', indexes: ['group_members_member', 'resources_pkey'] },
  ]
  for (const c of indexed) {
    test(`${c.type}: ${c.filter} searches ${c.indexes.join(' and ')} for the count and the page, never a Seq Scan`, async () => {
      const text = await plan(c.type, c.filter)
      for (const index of c.indexes) assert.ok(searches(text, index) >= 2, `${index} in both parts of:\n${text}`)
      if (c.cond) assert.match(text, c.cond, text)
      assert.doesNotMatch(text, /Seq Scan/, text)
    })
    test(`${c.type}: ${c.filter}, the page and the count on their own (a startIndex page): each searches ${c.indexes.join(' and ')}, never a Seq Scan`, async () => {
      for (const statement of ['pageSql', 'countSql'] as const) {
        const text = await plan(c.type, c.filter, { statement })
        for (const index of c.indexes) assert.ok(searches(text, index) >= 1, `${index} in the ${statement} plan:\n${text}`)
        if (c.cond) assert.match(text, c.cond, text)
        assert.doesNotMatch(text, /Seq Scan/, text)
      }
    })
  }

  // Lists whose filter compares by equality only run as named statements (postgres-store.ts
  // comparesByEquality), which PostgreSQL may run on a generic plan: one made without the values.
  let prepared = 0
  const genericPlan = async (resourceType: string, filter: string, statement: 'pageSql' | 'countSql') => {
    const q = buildPostgresQuerySql('t1', resourceType, { filter: resolveFilter(parseFilter(filter), registry, resourceType) })
    const values = statement === 'countSql' ? q.params : [...q.pageParams, 11, 0]
    const name = `generic_${++prepared}`
    await db!.query(`PREPARE ${name} AS ${q[statement]}`)
    try {
      await db!.query('SET plan_cache_mode = force_generic_plan')
      const args = values.map((v) => (typeof v === 'number' ? String(v) : db!.escapeLiteral(String(v)))).join(', ')
      const { rows } = await db!.query<{ 'QUERY PLAN': string }>(`EXPLAIN (FORMAT TEXT, COSTS OFF) EXECUTE ${name}(${args})`)
      return rows.map((r) => r['QUERY PLAN']).join('\n')
    } finally {
      await db!.query('RESET plan_cache_mode')
      await db!.query(`DEALLOCATE ${name}`)
    }
  }
  for (const c of indexed.filter((c) => / eq /.test(c.filter))) {
    test(`${c.type}: ${c.filter} on a generic plan (a named statement): the page and the count each search ${c.indexes.join(' and ')}`, async () => {
      for (const statement of ['pageSql', 'countSql'] as const) {
        const text = await genericPlan(c.type, c.filter, statement)
        for (const index of c.indexes) assert.ok(searches(text, index) >= 1, `${index} in the generic ${statement} plan:\n${text}`)
        assert.doesNotMatch(text, /Seq Scan/, text)
      }
    })
  }

  // Unfiltered, the count part of listSql reads resource_counts (the sum of a tenant's shards), so the page's
  // walk of resources_created is the statement's one read of resources, aliased `r` (with COUNT(*) it was
  // `r_1`, the count's scan being `r`). resource_counts holds a few rows here, in one page, which the planner
  // reads whole: that Seq Scan is the cheapest plan for it, so the checks below refuse Seq Scans of resources.
  const unfilteredTotal = /Aggregate\n\s+->  (Seq Scan|Index Scan using resource_counts_pkey|Index Only Scan using resource_counts_pkey|Bitmap Heap Scan) on resource_counts rc\b/

  test('the total of an unfiltered list sums resource_counts and reads no row or index of resources', async () => {
    const text = await plan('User', undefined, { statement: 'countSql' })
    assert.match(text, unfilteredTotal, text)
    assert.doesNotMatch(text, /\bresources\b|resources_/, text)
  })

  test('the total of an unfiltered list is exact after seeding by plain SQL: one INSERT of 39,000 users, counted by the statement trigger', async () => {
    for (const tenant of ['t1', 't2']) {
      for (const type of ['User', 'Group']) {
        const rows = (await db!.query<{ n: number }>(`SELECT COUNT(*)::int AS n FROM resources WHERE tenant_id = $1 AND resource_type = $2`, [tenant, type])).rows[0]!.n
        const counted = (await db!.query<{ total: number }>(buildPostgresQuerySql(tenant, type, {}).countSql, [tenant, type])).rows[0]!.total
        assert.deepStrictEqual([counted, rows], [type === 'User' ? USERS : 301, type === 'User' ? USERS : 301], `${tenant} ${type}`)
      }
    }
  })

  /** How many times the plan reads the resources table, by any scan. */
  const readsOfResources = (plan: string) => plan.split('\n').filter((line) => / on resources (r|r_\d+)\b/.test(line)).length

  test('an unfiltered page walks resources_created in order: no Sort of the rows, no Seq Scan of resources; its total sums resource_counts', async () => {
    const text = await plan('User', undefined)
    assert.match(text, /Index Scan using resources_created on resources r\b/, text)
    assert.match(text, unfilteredTotal, text)
    assert.equal(readsOfResources(text), 1, text)
    assert.doesNotMatch(text, /Seq Scan on resources\b|Sort Key: r\.created/, text)
  })

  test('an unfiltered page on its own walks resources_created in order: no Sort of the rows, no Seq Scan', async () => {
    const text = await plan('User', undefined, { statement: 'pageSql' })
    assert.match(text, /Index Scan using resources_created on resources r\b/, text)
    assert.doesNotMatch(text, /Seq Scan|Sort Key: r\.created/, text)
  })

  test('a cursor page seeks into resources_created with one row comparison; its total sums resource_counts', async () => {
    const text = await plan('User', undefined, { after: { key: at(15_000), id: 't1-u15000' } })
    assert.match(text, /Index Scan using resources_created on resources r\n.*Index Cond: .*\(ROW\(created, id\) > ROW\('2024-01-01T04:10:00\.000Z'::text, 't1-u15000'::text\)\)/, text)
    assert.match(text, unfilteredTotal, text)
    assert.equal(readsOfResources(text), 1, text)
    assert.doesNotMatch(text, /Seq Scan on resources\b|Sort Key: r\.created/, text)
  })
})

describe('postgres: schema and migrations', { skip }, () => {
  const versions = async (schema: string) => {
    const db = await connectToSchema(schema)
    try {
      return (await db.query<{ version: number; applied_at: Date }>(`SELECT version, applied_at FROM ${MIGRATIONS_TABLE} ORDER BY version`)).rows
    } finally {
      await db.end()
    }
  }

  test('three instances starting at once on a fresh schema all open it, and each migration is applied once', async () => {
    const schema = await schemas.fresh()
    const stores = await Promise.all([1, 2, 3].map(() => openPostgresStore(TEST_PG_URL, { schema })))
    try {
      assert.deepStrictEqual(
        (await versions(schema)).map((r) => r.version),
        POSTGRES_MIGRATIONS.map((_, i) => i + 1),
      )
      await stores[0]!.resources.create('t', user('u1', 'a'))
      assert.equal((await stores[2]!.resources.get('t', 'User', 'u1'))?.data.userName, 'a')
    } finally {
      await Promise.all(stores.map((s) => s.close()))
    }
  })

  test('reopening keeps the data and does not migrate again', async () => {
    const schema = await schemas.fresh()
    const first = await openPostgresStore(TEST_PG_URL, { schema })
    await first.resources.create('t', user('u1', 'a'))
    await first.close()
    const before = await versions(schema)
    const second = await openPostgresStore(TEST_PG_URL, { schema })
    try {
      assert.equal((await second.resources.get('t', 'User', 'u1'))?.data.userName, 'a')
      assert.deepStrictEqual(await versions(schema), before)
    } finally {
      await second.close()
    }
  })

  test('migration 3 counts the resources already there, and the total of an unfiltered list reads those counts', async () => {
    const schema = await schemas.fresh()
    const db = await connectToSchema(schema)
    try {
      await migratePostgres(db, schema, POSTGRES_MIGRATIONS.slice(0, 2))
      await db.query(
        `INSERT INTO resources (tenant_id, resource_type, id, data, version, created, last_modified, user_name_ci)
         SELECT t, ty, t || ty || i, '{}', 1, 'x', 'x', CASE ty WHEN 'User' THEN 'user' || i END
         FROM (VALUES ('t1', 'User', 7), ('t1', 'Group', 2), ('t2', 'User', 3)) AS s(t, ty, k), generate_series(1, s.k) AS i`,
      )
    } finally {
      await db.end()
    }
    const store = await openPostgresStore(TEST_PG_URL, { schema })
    const inspect = await connectToSchema(schema)
    try {
      const total = async (tenant: string, type: string) => (await store.resources.query(tenant, type, { startIndex: 1, count: 0 })).totalResults
      assert.deepStrictEqual([await total('t1', 'User'), await total('t1', 'Group'), await total('t2', 'User'), await total('t2', 'Group')], [7, 2, 3, 0])
      await inspect.query(`DELETE FROM resources WHERE tenant_id = 't1' AND resource_type = 'User' AND id LIKE '%1'`)
      await store.resources.create('t2', user('new', 'new'))
      assert.deepStrictEqual([await total('t1', 'User'), await total('t2', 'User')], [6, 4])
    } finally {
      await inspect.end()
      await store.close()
    }
  })

  test('the counts follow writes from a session on another search_path, and TRUNCATE empties them', async () => {
    const schema = await schemas.fresh()
    const store = await openPostgresStore(TEST_PG_URL, { schema })
    const other = await connectToSchema('public')
    try {
      await store.resources.createMany('t', [user('u1', 'a'), user('u2', 'b'), user('u3', 'c')])
      // The triggers' functions pin the schema they were made in: this session's search_path is public,
      // where another deployment's resource_counts may live, and the delete must count in `schema`.
      await other.query(`DELETE FROM ${schema}.resources WHERE tenant_id = 't' AND id = 'u1'`)
      const total = async () => (await store.resources.query('t', 'User', { startIndex: 1, count: 0 })).totalResults
      assert.equal(await total(), 2)
      await other.query(`TRUNCATE ${schema}.resources CASCADE`)
      assert.equal(await total(), 0)
      assert.equal((await other.query(`SELECT 1 FROM ${schema}.resource_counts`)).rowCount, 0)
    } finally {
      await other.end()
      await store.close()
    }
  })

  test('a schema from a newer Roster is refused', async () => {
    const schema = await schemas.fresh()
    await (await openPostgresStore(TEST_PG_URL, { schema })).close()
    await schemas.run(`INSERT INTO ${schema}.${MIGRATIONS_TABLE} (version) VALUES (${POSTGRES_MIGRATIONS.length + 1})`)
    await assert.rejects(openPostgresStore(TEST_PG_URL, { schema }), /newer/)
  })

  test('pending migrations apply all or nothing', async () => {
    const schema = await schemas.fresh()
    const db = await connectToSchema(schema)
    try {
      await assert.rejects(migratePostgres(db, schema, ['CREATE TABLE a (x int)', 'CREATE TABLE b (x int); THIS IS NOT SQL']))
      const tables = async () => (await db.query<{ n: string }>(`SELECT table_name AS n FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`, [schema])).rows.map((r) => r.n)
      assert.deepStrictEqual(await tables(), [])
      assert.equal(await migratePostgres(db, schema, ['CREATE TABLE a (x int)']), 1)
      assert.equal(await migratePostgres(db, schema, ['CREATE TABLE a (x int)', 'CREATE TABLE b (x int)']), 2)
      assert.deepStrictEqual(await tables(), ['a', 'b', MIGRATIONS_TABLE])
    } finally {
      await db.end()
    }
  })

  test('a role that may use the migrated schema but create nothing (no CREATE on the database or schema) starts and writes', async (t) => {
    const schema = await schemas.fresh()
    await (await openPostgresStore(TEST_PG_URL, { schema })).close()
    const role = `${schema}_app`
    const password = randomBytes(12).toString('hex')
    const admin = await connectToSchema(schema)
    try {
      const me = (await admin.query<{ may: boolean }>('SELECT rolsuper OR rolcreaterole AS may FROM pg_roles WHERE rolname = current_user')).rows[0]
      if (!me?.may) return t.skip('the test role may not create roles')
      await admin.query(`DROP ROLE IF EXISTS ${role}`)
      await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`)
      try {
        await admin.query(`GRANT USAGE ON SCHEMA ${schema} TO ${role}`)
        await admin.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${schema} TO ${role}`)
        const may = (await admin.query<{ db: boolean; ns: boolean }>(
          `SELECT has_database_privilege($1, current_database(), 'CREATE') AS db, has_schema_privilege($1, $2, 'CREATE') AS ns`,
          [role, schema],
        )).rows[0]!
        if (may.db) return t.skip('PUBLIC may create schemas in this database, so the role is not limited')
        assert.equal(may.ns, false)
        const url = new URL(TEST_PG_URL)
        url.username = role
        url.password = password
        const store = await openPostgresStore(url.toString(), { schema })
        try {
          await store.resources.create('t', user('u1', 'limited'))
          assert.equal((await store.resources.get('t', 'User', 'u1'))?.data.userName, 'limited')
        } finally {
          await store.close()
        }
      } finally {
        await admin.query(`DROP OWNED BY ${role}`)
        await admin.query(`DROP ROLE ${role}`)
      }
    } finally {
      await admin.end()
    }
  })

  test('pg_trgm lives outside Roster’s schema, so dropping one schema keeps the trigram indexes of the others', async () => {
    const [a, b] = [await schemas.fresh(), await schemas.fresh()]
    await (await openPostgresStore(TEST_PG_URL, { schema: a })).close()
    await (await openPostgresStore(TEST_PG_URL, { schema: b })).close()
    await schemas.run(`DROP SCHEMA ${a} CASCADE`)
    const db = await connectToSchema(b)
    try {
      const ext = await db.query<{ schema: string }>(`SELECT extnamespace::regnamespace::text AS schema FROM pg_extension WHERE extname = 'pg_trgm'`)
      assert.notEqual(ext.rows[0]?.schema, a)
      const trgm = await db.query<{ indexname: string }>(`SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND indexdef LIKE '%gin_trgm_ops%' ORDER BY 1`, [b])
      assert.deepStrictEqual(trgm.rows.map((r) => r.indexname), ['resource_emails_value_trgm', 'resources_display_name_trgm', 'resources_user_name_trgm'])
    } finally {
      await db.end()
    }
  })

  test('text columns are COLLATE "C", so sw ranges and sorts follow code points whatever the database collation', async () => {
    const schema = await schemas.fresh()
    await (await openPostgresStore(TEST_PG_URL, { schema })).close()
    const db = await connectToSchema(schema)
    try {
      const { rows } = await db.query<{ table_name: string; column_name: string; collation_name: string | null }>(
        `SELECT table_name, column_name, collation_name FROM information_schema.columns
         WHERE table_schema = $1 AND data_type = 'text' AND table_name <> 'tokens' ORDER BY table_name, column_name`,
        [schema],
      )
      assert.ok(rows.length >= 14)
      assert.deepStrictEqual(rows.filter((r) => r.collation_name !== 'C' && r.column_name !== 'password_hash'), [])
    } finally {
      await db.end()
    }
  })
})

describe('postgres: pool and concurrency', { skip }, () => {
  test('poolSize is honoured: with 3 connections, 8 writes waiting on one row lock hold exactly 3 connections', async () => {
    const schema = await schemas.fresh()
    const store = await openPostgresStore(TEST_PG_URL, { schema, poolSize: 3 })
    const admin = await connectToSchema(schema)
    const monitor = await connectToSchema(schema)
    try {
      await store.resources.create('t', user('u1', 'a'))
      await admin.query('BEGIN')
      await admin.query(`SELECT 1 FROM resources WHERE tenant_id = 't' AND id = 'u1' FOR UPDATE`)
      const adminPid = (await admin.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid
      const writes = Array.from({ length: 8 }, (_, i) => store.resources.update('t', 'User', 'u1', (c) => ({ data: { ...c.data, title: `t${i}` } }), { now: at(i + 1) }))
      // Waiters on one row queue behind each other (the first holds the tuple lock), so count every
      // backend that waits on the admin's lock directly or through another waiter. pg_stat_activity is read
      // from a connection outside any transaction: inside one, it is a snapshot taken at its first read.
      const blocked = async () => {
        const { rows } = await monitor.query<{ pid: number; by: number[] }>('SELECT pid, pg_blocking_pids(pid) AS by FROM pg_stat_activity')
        const waiting = new Set<number>([adminPid])
        for (let grew = true; grew; ) {
          grew = false
          for (const r of rows) if (!waiting.has(r.pid) && r.by.some((p) => waiting.has(p))) (waiting.add(r.pid), (grew = true))
        }
        return waiting.size - 1
      }
      const deadline = Date.now() + 5000
      while ((await blocked()) < 3 && Date.now() < deadline) await sleep(20)
      await sleep(300) // time for a fourth connection to show up, if the pool wrongly opened one
      assert.equal(await blocked(), 3)
      await admin.query('COMMIT')
      const results = await Promise.all(writes)
      assert.deepStrictEqual(results.map((r) => r.version).sort((x, y) => x - y), [2, 3, 4, 5, 6, 7, 8, 9])
    } finally {
      await admin.query('ROLLBACK').catch(() => undefined)
      await Promise.all([admin.end(), monitor.end()])
      await store.close()
    }
  })

  test('two instances creating one userName 20 times at once: one create wins, 19 get 409 uniqueness', async () => {
    const schema = await schemas.fresh()
    const [a, b] = await Promise.all([openPostgresStore(TEST_PG_URL, { schema }), openPostgresStore(TEST_PG_URL, { schema })])
    try {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).resources.create('t', user(`u${i}`, i % 3 ? 'Same' : 'sAME'))),
      )
      const won = outcomes.filter((o) => o.status === 'fulfilled')
      const lost = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []))
      assert.equal(won.length, 1)
      assert.equal(lost.length, 19)
      for (const e of lost) assert.ok(e instanceof ScimError && e.status === 409 && e.scimType === 'uniqueness', String(e))
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  })

  test('two instances issuing the first token at once on a fresh schema: exactly one token is inserted', async () => {
    const schema = await schemas.fresh()
    const [a, b] = await Promise.all([openPostgresStore(TEST_PG_URL, { schema }), openPostgresStore(TEST_PG_URL, { schema })])
    const db = await connectToSchema(schema)
    const tokenCount = async () => Number((await db.query<{ n: string }>('SELECT COUNT(*) AS n FROM tokens')).rows[0]!.n)
    try {
      const first = (id: string) => ({ id, tenant: 'default', name: 'initial token', prefix: `rst_${id}`, hash: `hash-${id}`, createdAt: at(0) })
      // Two calls at once, as two instances starting together make, on an emptied table each round. With the
      // advisory lock taken out, both calls found no token and both inserted within ten rounds in 5 runs of 5.
      for (let round = 0; round < 10; round++) {
        await db.query('DELETE FROM tokens')
        const pair = await Promise.all([a.tokens.insertFirstToken(first(`a${round}`)), b.tokens.insertFirstToken(first(`b${round}`))])
        assert.deepStrictEqual([...pair].sort(), [false, true], `round ${round}`)
        assert.equal(await tokenCount(), 1, `round ${round}`)
      }
      const more = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).tokens.insertFirstToken(first(`k${i}`))))
      assert.deepStrictEqual(more, Array<boolean>(10).fill(false))
      assert.equal(await tokenCount(), 1)
    } finally {
      await db.end()
      await Promise.all([a.close(), b.close()])
    }
  })

  test('40 member adds to one group at once from two instances all land, one version each', async () => {
    const schema = await schemas.fresh()
    const [a, b] = await Promise.all([openPostgresStore(TEST_PG_URL, { schema }), openPostgresStore(TEST_PG_URL, { schema })])
    try {
      await a.resources.createMany('t', Array.from({ length: 40 }, (_, i) => user(`u${i}`, `user${i}`)))
      await a.resources.create('t', group('g', 'G'))
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          (i % 2 ? a : b).resources.update('t', 'Group', 'g', (c) => ({ data: c.data, memberSteps: [{ op: 'add', ids: [`u${i}`] }] }), { now: at(i + 1), withMembers: true }),
        ),
      )
      const members = (await a.resources.listMembers('t', ['g'])).get('g')!.map((m) => m.value)
      assert.equal(new Set(members).size, 40)
      assert.equal((await b.resources.get('t', 'Group', 'g'))?.version, 41)
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  })

  test('groups adding each other at once neither deadlock nor lose a membership', async () => {
    const schema = await schemas.fresh()
    const [a, b] = await Promise.all([openPostgresStore(TEST_PG_URL, { schema }), openPostgresStore(TEST_PG_URL, { schema })])
    try {
      await a.resources.create('t', group('g1', 'One'))
      await a.resources.create('t', group('g2', 'Two'))
      const add = (s: Store, g: string, member: string) => s.resources.update('t', 'Group', g, (c) => ({ data: c.data, memberSteps: [{ op: 'add', ids: [member] }] }), { now: at(1) })
      const removeAll = (g: string) => a.resources.update('t', 'Group', g, (c) => ({ data: c.data, memberSteps: [{ op: 'replace', ids: [] }] }), { now: at(2) })
      const deadlockTimeoutMs = await deadlockTimeout()
      for (let round = 0; round < 10; round++) {
        const started = Date.now()
        await Promise.all([add(a, 'g1', 'g2'), add(b, 'g2', 'g1')])
        // With FOR UPDATE instead of FOR NO KEY UPDATE on the group's row, each add would wait on the other's
        // foreign key check: a deadlock, resolved by a retry only after deadlock_timeout.
        assert.ok(Date.now() - started < deadlockTimeoutMs, `round ${round} took ${Date.now() - started} ms: a deadlock, resolved by a retry`)
        const members = await a.resources.listMembers('t', ['g1', 'g2'])
        assert.deepStrictEqual([members.get('g1')!.map((m) => m.value), members.get('g2')!.map((m) => m.value)], [['g2'], ['g1']])
        await Promise.all([removeAll('g1'), removeAll('g2')])
      }
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  })

  test('a group PUT racing the delete of one of its members: the delete wins or the PUT is 400, never a driver error', async () => {
    // The PUT locks the group, then the user (the foreign key check of the re-added membership); the
    // delete bumps the group's version and deletes the user. Unless the delete also locks the group
    // first, the two deadlock (each round then took deadlock_timeout, 1 s, before a retry).
    const schema = await schemas.fresh()
    const [a, b] = await Promise.all([openPostgresStore(TEST_PG_URL, { schema }), openPostgresStore(TEST_PG_URL, { schema })])
    try {
      await a.resources.create('t', user('keep', 'keep'))
      const deadlockTimeoutMs = await deadlockTimeout()
      for (let round = 0; round < 10; round++) {
        await a.resources.create('t', user(`u${round}`, `user${round}`))
        await a.resources.create('t', group(`g${round}`, 'G', [`u${round}`]))
        const started = Date.now()
        const [put, del] = await Promise.allSettled([
          a.resources.update('t', 'Group', `g${round}`, (c) => ({ data: c.data, memberSteps: [{ op: 'replace', ids: ['keep', `u${round}`] }] }), { now: at(1) }),
          b.resources.delete('t', 'User', `u${round}`),
        ])
        assert.ok(Date.now() - started < deadlockTimeoutMs, `round ${round} took ${Date.now() - started} ms: a deadlock, resolved by a retry`)
        assert.equal(del.status, 'fulfilled', del.status === 'rejected' ? String(del.reason) : '')
        if (put.status === 'rejected') {
          const e = put.reason as unknown
          assert.ok(e instanceof ScimError && e.status === 400 && e.scimType === 'invalidValue', String(e))
        }
        const members = (await a.resources.listMembers('t', [`g${round}`])).get(`g${round}`)!.map((m) => m.value)
        assert.deepStrictEqual(members, put.status === 'fulfilled' ? ['keep'] : [])
      }
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  })

  test('two instances creating, bulk-creating and deleting at once keep the unfiltered totals exact', async () => {
    // Two pools of 10 on one schema: 20 backends, so several counter shards, some shared. Each instance
    // creates users one at a time (a statement of its own) and in createMany calls with refused inputs (a
    // taken userName, an unknown member) and groups whose members make them statements of their own, in
    // opposite type orders on the two instances (the order that can deadlock on a shared shard, and is then
    // run again), and deletes users while the rest goes on.
    const schema = await schemas.fresh()
    const [a, b] = await Promise.all([openPostgresStore(TEST_PG_URL, { schema }), openPostgresStore(TEST_PG_URL, { schema })])
    const db = await connectToSchema(schema)
    try {
      await a.resources.createMany('t', Array.from({ length: 60 }, (_, i) => user(`seed${i}`, `seed${i}`)))
      const instances = [a, b] as const
      const singles = Array.from({ length: 120 }, (_, i) => instances[i % 2]!.resources.create('t', user(`s${i}`, `single${i}`)))
      const bulks = Array.from({ length: 16 }, (_, k) => {
        const users = [...Array.from({ length: 25 }, (_, i) => user(`b${k}-${i}`, `bulk${k}-${i}`)), user(`x${k}`, `SEED${k}`)]
        const groups = [group(`g${k}`, `G${k}`, [`seed${k}`]), group(`h${k}`, `H${k}`, [`seed${k + 16}`]), group(`n${k}`, `N${k}`, ['nobody'])]
        return instances[k % 2]!.resources.createMany('t', k % 2 ? [...groups, ...users] : [...users, ...groups])
      })
      const deletes = Array.from({ length: 28 }, (_, i) => instances[(i + 1) % 2]!.resources.delete('t', 'User', `seed${i + 32}`))
      const [created, bulked] = await Promise.all([Promise.all(singles), Promise.all(bulks), Promise.all(deletes)])
      const written = bulked.flat().filter((r): r is StoredResource => !(r instanceof ScimError))
      const refused = bulked.flat().filter((r): r is ScimError => r instanceof ScimError)
      assert.deepStrictEqual(refused.map((e) => e.status).sort(), [...Array<number>(16).fill(400), ...Array<number>(16).fill(409)])
      const expected = { User: 60 + created.length + written.filter((r) => r.resourceType === 'User').length - deletes.length, Group: 32 }
      assert.equal(expected.User, 60 + 120 + 16 * 25 - 28)
      for (const type of ['User', 'Group'] as const) {
        const rows = (await db.query<{ n: number }>(`SELECT COUNT(*)::int AS n FROM resources WHERE tenant_id = 't' AND resource_type = $1`, [type])).rows[0]!.n
        const totals = await Promise.all(instances.map(async (s) => (await s.resources.query('t', type, { startIndex: 1, count: 0 })).totalResults))
        assert.deepStrictEqual([rows, ...totals], [expected[type], expected[type], expected[type]], type)
      }
      const shards = (await db.query<{ n: number }>(`SELECT COUNT(DISTINCT shard)::int AS n FROM resource_counts WHERE tenant_id = 't' AND resource_type = 'User'`)).rows[0]!.n
      assert.ok(shards > 1, `the writes spread over several shards (${shards})`)
    } finally {
      await db.end()
      await Promise.all([a.close(), b.close()])
    }
  })

  test('a single-statement create chosen as a deadlock victim through its counter row is run again and counted once', async () => {
    // The deadlock transaction()'s comment describes, made on purpose: a session holds every shard of
    // (t, User), so the create's trigger waits for it with the create's row inserted; the session then inserts
    // the same userName, waiting for the create. PostgreSQL aborts the create, whose wait began first, after
    // deadlock_timeout; the store runs it again, which waits until the session rolls back, then commits.
    const schema = await schemas.fresh()
    const store = await openPostgresStore(TEST_PG_URL, { schema, poolSize: 1 })
    const session = await connectToSchema(schema)
    const monitor = await connectToSchema(schema)
    try {
      const deadlocks = async () => Number((await monitor.query<{ n: string }>(`SELECT deadlocks AS n FROM pg_stat_database WHERE datname = current_database()`)).rows[0]!.n)
      const before = await deadlocks()
      await session.query(`INSERT INTO resource_counts (tenant_id, resource_type, shard, n) SELECT 't', 'User', s, 0 FROM generate_series(0, 15) AS s`)
      await session.query('BEGIN')
      await session.query(`SELECT 1 FROM resource_counts WHERE tenant_id = 't' AND resource_type = 'User' FOR UPDATE`)
      const sessionPid = (await session.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid
      const created = store.resources.create('t', user('u1', 'Same'))
      const waiting = async () => (await monitor.query(`SELECT 1 FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, [sessionPid])).rowCount ?? 0
      for (const deadline = Date.now() + 5000; (await waiting()) === 0 && Date.now() < deadline; ) await sleep(10)
      assert.equal(await waiting(), 1, 'the create waits for the counter rows')
      await session.query(
        `INSERT INTO resources (tenant_id, resource_type, id, data, version, created, last_modified, user_name_ci) VALUES ('t', 'User', 'u2', '{}', 1, 'x', 'x', 'same')`,
      )
      await session.query('ROLLBACK')
      assert.equal((await created).id, 'u1')
      assert.ok((await deadlocks()) > before, 'PostgreSQL found the deadlock')
      assert.equal((await store.resources.query('t', 'User', { startIndex: 1, count: 0 })).totalResults, 1)
      assert.deepStrictEqual((await store.resources.query('t', 'User', { startIndex: 1, count: 10 })).resources.map((r) => r.id), ['u1'])
    } finally {
      await session.query('ROLLBACK').catch(() => undefined)
      await Promise.all([session.end(), monitor.end()])
      await store.close()
    }
  })

  test('a create racing the deletion of its tenant: the resource the deletion did not see keeps its count', async () => {
    // Nothing locks a tenant's id against creates, so a create that commits while deleteTenant runs leaves a
    // row of the tenant behind; its counter row (a session's shard, already there and now locked) must not
    // be deleted with the tenant's others, or the total would say 0 beside that row.
    const schema = await schemas.fresh()
    const store = await openPostgresStore(TEST_PG_URL, { schema })
    const session = await connectToSchema(schema)
    const monitor = await connectToSchema(schema)
    try {
      await store.tenants.insertTenant({ id: 'gone', name: 'Gone', createdAt: at(0), settings: DEFAULT_TENANT_SETTINGS })
      await store.resources.createMany('gone', [user('u1', 'a'), user('u2', 'b'), user('u3', 'c')])
      const insert = (id: string) =>
        session.query(`INSERT INTO resources (tenant_id, resource_type, id, data, version, created, last_modified, user_name_ci) VALUES ('gone', 'User', $1, '{}', 1, 'x', 'x', $1)`, [id])
      await insert('s1')
      await session.query('BEGIN')
      await insert('s2')
      const sessionPid = (await session.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid
      const deleted = store.tenants.deleteTenant('gone')
      const waiting = async () => (await monitor.query(`SELECT 1 FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, [sessionPid])).rowCount ?? 0
      for (const deadline = Date.now() + 5000; (await waiting()) === 0 && Date.now() < deadline; ) await sleep(10)
      assert.equal(await waiting(), 1, 'the deletion waits for the session’s counter row')
      await session.query('COMMIT')
      assert.equal(await deleted, true)
      const rows = (await monitor.query<{ id: string }>(`SELECT id FROM resources WHERE tenant_id = 'gone'`)).rows.map((r) => r.id)
      assert.deepStrictEqual(rows, ['s2'])
      assert.equal((await store.resources.query('gone', 'User', { startIndex: 1, count: 0 })).totalResults, 1)
    } finally {
      await session.query('ROLLBACK').catch(() => undefined)
      await Promise.all([session.end(), monitor.end()])
      await store.close()
    }
  })

  test('a NUL character, which PostgreSQL text cannot hold, is 400 invalidValue on write and invalidFilter on read', async () => {
    const store = await openFresh()
    try {
      await assert.rejects(store.resources.create('t', user('u1', 'a\u0000b')), { status: 400, scimType: 'invalidValue' })
      await assert.rejects(
        store.resources.query('t', 'User', { filter: resolveFilter(parseFilter('userName eq "a\\u0000b"'), registry, 'User'), startIndex: 1, count: 10 }),
        { status: 400, scimType: 'invalidFilter' },
      )
    } finally {
      await store.close()
    }
  })
})

/** PostgreSQL looks for deadlocks only after deadlock_timeout, so a transaction that deadlocked took at least that long. */
async function deadlockTimeout(): Promise<number> {
  const db = await connectToSchema('public')
  try {
    return Number((await db.query<{ ms: string }>(`SELECT setting AS ms FROM pg_settings WHERE name = 'deadlock_timeout'`)).rows[0]!.ms)
  } finally {
    await db.end()
  }
}
