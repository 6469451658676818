import { after, afterEach, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Client } from 'pg'
import { DEFAULT_TENANT_SETTINGS, type AuditEvent, type AuditQuery } from '../../src/store/ports.js'
import { PRUNE_AUDIT_EVENTS_SQL } from '../../src/store/postgres/postgres-audit-store.js'
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js'
import { compileAuditQuery } from '../../src/store/sql/audit-events.js'
import { postgresDialect } from '../../src/store/sql/sql-dialect.js'
import { TEST_PG_URL, TestSchemas, connectToSchema, postgresSkip } from '../postgres-harness.js'

// PostgreSQL-only checks of the organization and audit tables, which read the schema directly. The
// behaviour both adapters owe is in admin-stores.contract.ts, run by postgres.test.ts and sqlite.test.ts.

const skip = await postgresSkip('PostgreSQL organization and audit tests')
const schemas = new TestSchemas(import.meta.url)
afterEach(async (t) => {
  if (!skip) await schemas.settle((t as { passed?: boolean }).passed === true, t.name)
})

const at = (seconds: number) => new Date(Date.UTC(2024, 0, 1) + seconds * 1000).toISOString()

function event(id: string, tenant: string, time = at(1)): AuditEvent {
  return {
    id,
    tenant,
    time,
    actor: { type: 'token', id: 'k1' },
    client: { ip: '192.0.2.1', userAgent: 'test' },
    request: { id: 'r', method: 'POST', path: '/Users' },
    resource: { type: 'User', id: 'u1' },
    operation: 'create',
    changes: [],
    outcome: { status: 201 },
    latencyMs: 1,
  }
}

describe('postgres: organizations and the audit log', { skip }, () => {
  test('deleteTenant leaves no row of the tenant in any table that has a tenant_id (but admins)', async () => {
    const schema = await schemas.fresh()
    const store = await openPostgresStore(TEST_PG_URL, { schema })
    try {
      for (const tenant of ['gone', 'kept']) {
        await store.tenants.insertTenant({ id: tenant, name: tenant, createdAt: at(0), settings: DEFAULT_TENANT_SETTINGS })
        await store.resources.create(tenant, { id: 'u1', resourceType: 'User', data: { userName: 'a', emails: [{ value: 'a@x.org' }] }, now: at(0), audit: () => event(`${tenant}-1`, tenant) })
        await store.resources.create(tenant, { id: 'g1', resourceType: 'Group', data: { displayName: 'G' }, memberIds: ['u1'], now: at(0) })
        await store.tokens.insertToken({ id: `${tenant}-k`, tenant, name: 't', prefix: 'rst_', hash: 'h', createdAt: at(0) })
        await store.oauthClients.insertClient({ id: `${tenant}-c`, tenant, name: 'c', secretHash: 'h', scopes: [], createdAt: at(0) })
        await store.audit.insertAuditEvent(event(`${tenant}-2`, tenant))
      }
      assert.equal(await store.tenants.deleteTenant('gone'), true)
    } finally {
      await store.close()
    }
    const db = await connectToSchema(schema)
    try {
      const { rows } = await db.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.columns WHERE table_schema = $1 AND column_name = 'tenant_id' ORDER BY table_name`,
        [schema],
      )
      const tables = rows.map((r) => r.table_name)
      // Admins scoped to an organization are the caller's to remove or widen (ports.ts deleteTenant).
      assert.deepStrictEqual(tables, ['admins', 'audit_events', 'group_members', 'oauth_clients', 'resource_counts', 'resource_emails', 'resources', 'tokens'])
      for (const table of tables.filter((t) => t !== 'admins')) {
        const count = async (tenant: string) => (await db.query<{ n: number }>(`SELECT COUNT(*)::int AS n FROM ${table} WHERE tenant_id = $1`, [tenant])).rows[0]!.n
        assert.equal(await count('gone'), 0, table)
        assert.ok((await count('kept')) > 0, table)
      }
      assert.equal((await db.query(`SELECT 1 FROM tenants WHERE id = 'gone'`)).rowCount, 0)
    } finally {
      await db.end()
    }
  })

  test('two instances pruning one tenant at once delete every old event exactly once and keep the newer ones', async () => {
    const schema = await schemas.fresh()
    const [a, b] = await Promise.all([openPostgresStore(TEST_PG_URL, { schema }), openPostgresStore(TEST_PG_URL, { schema })])
    try {
      const db = await connectToSchema(schema)
      try {
        await db.query(
          `INSERT INTO audit_events (id, tenant_id, time, actor_id, operation, resource_type, resource_id, status, event)
           SELECT 'e' || i, 't', to_char(timestamp '2024-01-01' + i * interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'k1', 'create', 'User', 'u' || i, 201, '{}'::jsonb
           FROM generate_series(1, 2000) AS i`,
        )
      } finally {
        await db.end()
      }
      const pruneAll = async (store: typeof a) => {
        let total = 0
        for (let n = -1; n !== 0; total += n) n = await store.audit.pruneAuditEvents('t', at(1500), 50)
        return total
      }
      const [byA, byB] = await Promise.all([pruneAll(a), pruneAll(b)])
      // Events 1…1499 are older than 1,500 s (event i is at i seconds).
      assert.equal(byA + byB, 1499)
      const left = await a.audit.queryAuditEvents({ tenant: 't', limit: 1000 })
      assert.equal(left.events.length, 501)
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  })

  describe('EXPLAIN of the audit statements: index searches in page order, never a Seq Scan or a Sort', () => {
    // Real statistics, as in postgres.test.ts: 2 tenants × 30,000 events over 200 actors and 3,000
    // resources, then VACUUM ANALYZE.
    let schema: string
    let db: Client | undefined
    let passed = true
    before(async () => {
      schema = await schemas.fresh({ shared: true })
      await (await openPostgresStore(TEST_PG_URL, { schema })).close()
      db = await connectToSchema(schema)
      await db.query(
        `INSERT INTO audit_events (id, tenant_id, time, actor_id, operation, resource_type, resource_id, status, event)
         SELECT t || '-e' || i, t, to_char(timestamp '2024-01-01' + i * interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                'k' || (i % 200), (ARRAY['create', 'patch', 'delete'])[1 + i % 3], CASE WHEN i % 2 = 0 THEN 'User' ELSE 'Group' END,
                'r' || (i % 3000), CASE WHEN i % 17 = 0 THEN 409 ELSE 200 END, '{}'::jsonb
         FROM unnest(ARRAY['t1', 't2']) AS t, generate_series(1, 30000) AS i`,
      )
      await db.query('VACUUM ANALYZE audit_events')
    })
    afterEach((t) => {
      if ((t as { passed?: boolean }).passed !== true) passed = false
    })
    after(async () => {
      await db?.end()
      await schemas.settleShared(schema, passed, 'EXPLAIN of the audit statements')
    })

    const explain = async (sql: string, params: unknown[]) =>
      (await db!.query<{ 'QUERY PLAN': string }>(`EXPLAIN (FORMAT TEXT, COSTS OFF) ${sql}`, params)).rows.map((r) => r['QUERY PLAN']).join('\n')
    const plan = (query: Omit<AuditQuery, 'tenant' | 'limit'>) => {
      const { sql, params } = compileAuditQuery({ tenant: 't1', limit: 50, ...query }, postgresDialect)
      return explain(sql, params)
    }

    const cases: { title: string; query: Omit<AuditQuery, 'tenant' | 'limit'>; index: string; cond?: RegExp }[] = [
      { title: 'the tenant’s newest events', query: {}, index: 'audit_events_time' },
      { title: 'a time range', query: { from: at(10_000), to: at(12_000) }, index: 'audit_events_time', cond: /Index Cond: .*"time" >= .*"time" < / },
      { title: 'a keyset page deep in the log', query: { after: { time: at(20_000), id: 't1-e20000' } }, index: 'audit_events_time', cond: /Index Cond: .*ROW\("time", id\) < ROW\(/ },
      {
        title: 'one resource’s history, paged',
        query: { resourceType: 'User', resourceId: 'r42', after: { time: at(20_000), id: 't1-e20000' } },
        index: 'audit_events_resource',
        cond: /Index Cond: .*resource_id = 'r42'.*ROW\("time", id\) < ROW\(/,
      },
      { title: 'one actor since a time', query: { actorId: 'k7', from: at(1_000) }, index: 'audit_events_actor', cond: /Index Cond: .*actor_id = 'k7'.*"time" >= / },
    ]
    for (const c of cases) {
      test(`${c.title}: ${c.index}`, async () => {
        const text = await plan(c.query)
        assert.match(text, new RegExp(`Index Scan using ${c.index} on audit_events`), text)
        if (c.cond) assert.match(text, c.cond, text)
        assert.doesNotMatch(text, /Seq Scan|Sort/, text)
      })
    }

    test('prune finds a batch on audit_events_time and deletes it by TID', async () => {
      const text = await explain(PRUNE_AUDIT_EVENTS_SQL, ['t1', at(20_000), 500])
      assert.match(text, /Tid Scan on audit_events/, text)
      assert.match(text, /Index Scan (Backward )?using audit_events_time on audit_events/, text)
      assert.doesNotMatch(text, /Seq Scan|Sort/, text)
    })
  })
})
