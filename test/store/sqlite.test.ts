import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { GROUP_SCHEMA, SchemaRegistry, USER_SCHEMA, parseAttributePath, parseFilter, resolveFilter } from '../../src/scim/index.js'
import { SQLITE_MIGRATIONS, migrateSqlite } from '../../src/store/sqlite/migrations.js'
import { DEFAULT_TENANT_SETTINGS, type AuditQuery, type StoreCursor } from '../../src/store/ports.js'
import { compileAuditQuery } from '../../src/store/sql/audit-events.js'
import { sqliteDialect } from '../../src/store/sql/sql-dialect.js'
import { buildQuerySql, openSqliteStore, pageValues } from '../../src/store/sqlite/sqlite-store.js'
import { defineAdminStoreContract } from './admin-stores.contract.js'
import { defineResourceStoreContract } from './resource-store.contract.js'

const dir = mkdtempSync(join(tmpdir(), 'roster-sqlite-'))
after(() => rmSync(dir, { recursive: true, force: true }))
let files = 0
const freshPath = () => join(dir, `store-${++files}.db`)

defineResourceStoreContract('sqlite', { open: () => openSqliteStore(freshPath()) })
defineAdminStoreContract('sqlite', { open: () => openSqliteStore(freshPath()) })

const registry = SchemaRegistry.withCoreSchemas()
const at = (seconds: number) => new Date(Date.UTC(2024, 0, 1) + seconds * 1000).toISOString()

/** A second connection to the store's file, with the function the compiled SQL calls. */
function inspect(path: string): Database.Database {
  const db = new Database(path, { readonly: true })
  db.function('scim_lower', { deterministic: true }, (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : v))
  return db
}

describe('sqlite: EXPLAIN QUERY PLAN of the statements query() runs', () => {
  const path = freshPath()
  let db: Database.Database
  before(async () => {
    const store = openSqliteStore(path)
    // Enough rows in two tenants that a scan would be a real choice for the planner.
    for (const tenant of ['t1', 't2']) {
      for (let i = 0; i < 200; i++) {
        await store.resources.create(tenant, {
          id: `${tenant}-u${i}`,
          resourceType: 'User',
          data: { schemas: [USER_SCHEMA], userName: `user${i}`, externalId: `ext${i}`, displayName: `User ${i}`, emails: [{ value: `user${i}@example.com` }] },
          now: at(i),
        })
      }
      await store.resources.create(tenant, { id: `${tenant}-g`, resourceType: 'Group', data: { schemas: [GROUP_SCHEMA], displayName: 'G' }, memberIds: [`${tenant}-u1`], now: at(0) })
    }
    await store.close()
    db = inspect(path)
  })
  after(() => db.close())

  const plan = (resourceType: string, filter: string | undefined, sortBy?: string, after?: StoreCursor) => {
    const q = buildQuerySql('t1', resourceType, {
      ...(filter ? { filter: resolveFilter(parseFilter(filter), registry, resourceType) } : {}),
      ...(sortBy ? { sortBy: registry.resolve(resourceType, parseAttributePath(sortBy)) } : {}),
      ...(after ? { after } : {}),
    })
    const explain = (sql: string, params: unknown[]) =>
      db
        .prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
        .all(...params)
        .map((r) => r.detail)
        .join('\n')
    return { count: explain(q.countSql, q.params), page: explain(q.pageSql, pageValues(q, 11, 0)) }
  }

  const indexed = [
    { filter: 'id eq "t1-u7"', type: 'User', search: /SEARCH r USING (INDEX sqlite_autoindex_resources_1|PRIMARY KEY) \(tenant_id=\? AND id=\?\)/ },
    { filter: 'userName eq "User7"', type: 'User', search: /SEARCH r USING (COVERING )?INDEX resources_user_name_ci \(tenant_id=\? AND resource_type=\? AND user_name_ci=\?\)/ },
    { filter: 'externalId eq "ext7"', type: 'User', search: /SEARCH r USING (COVERING )?INDEX resources_external_id \(tenant_id=\? AND resource_type=\? AND external_id=\?\)/ },
    { filter: 'displayName eq "user 7"', type: 'User', search: /SEARCH r USING (COVERING )?INDEX resources_display_name_ci \(tenant_id=\? AND resource_type=\? AND display_name_ci=\?\)/ },
    {
      filter: 'emails.value eq "USER7@example.com"',
      type: 'User',
      search: /SEARCH r USING (COVERING )?INDEX resources_type_id \(tenant_id=\? AND resource_type=\? AND id=\?\)/,
      also: /SEARCH m1 USING INDEX resource_emails_value \(tenant_id=\? AND value_ci=\?\)/,
    },
    {
      filter: 'userName sw "user1"',
      type: 'User',
      search: /SEARCH r USING (COVERING )?INDEX resources_user_name_ci \(tenant_id=\? AND resource_type=\? AND user_name_ci>\? AND user_name_ci<\?\)/,
    },
    {
      filter: 'members.value eq "t1-u1"',
      type: 'Group',
      search: /SEARCH r USING (COVERING )?INDEX resources_type_id \(tenant_id=\? AND resource_type=\? AND id=\?\)/,
      also: /SEARCH m1 USING COVERING INDEX group_members_member \(tenant_id=\? AND member_id=\?\)/,
    },
    {
      filter: 'groups.value eq "t1-g"',
      type: 'User',
      search: /SEARCH r USING (COVERING )?INDEX resources_type_id \(tenant_id=\? AND resource_type=\? AND id=\?\)/,
      also: /SETUP\nSEARCH m USING PRIMARY KEY \(tenant_id=\? AND group_id=\?\)\nRECURSIVE STEP\nSCAN g1\nSEARCH m USING PRIMARY KEY \(tenant_id=\? AND group_id=\?\)/,
    },
  ]
  for (const c of indexed) {
    test(`${c.type}: ${c.filter} searches an index and never scans resources`, () => {
      const { count, page } = plan(c.type, c.filter)
      for (const [name, text] of [['count', count], ['page', page]] as const) {
        assert.match(text, c.search, `${name} plan:\n${text}`)
        if (c.also) assert.match(text, c.also, `${name} plan:\n${text}`)
        assert.doesNotMatch(text, /\bSCAN r\b/, `${name} plan:\n${text}`)
      }
    })
  }

  test('userName co reads the userName index only, never the resource rows (the documented co fallback, docs/filters.md)', () => {
    const { count } = plan('User', 'userName co "ser7"')
    assert.match(count, /SEARCH r USING COVERING INDEX resources_user_name_ci \(tenant_id=\? AND resource_type=\?( AND user_name_ci>\?)?\)/, count)
    assert.doesNotMatch(count, /\bSCAN r\b/, count)
  })

  test('a lookup of one userName or id is an index search with nothing to sort; other filters sort their matches', () => {
    for (const filter of ['userName eq "User7"', 'id eq "t1-u7"', 'userName eq "user7" and active eq true']) {
      const { page } = plan('User', filter)
      assert.doesNotMatch(page, /TEMP B-TREE|\bSCAN r\b/, `${filter}:\n${page}`)
    }
    const { page } = plan('User', 'externalId eq "ext7"')
    assert.match(page, /USE TEMP B-TREE FOR ORDER BY/, page)
  })

  test('the total of an unfiltered list reads resource_counts, not the resources', () => {
    const { count } = plan('User', undefined)
    assert.match(count, /SEARCH c USING PRIMARY KEY \(tenant_id=\? AND resource_type=\?\)/, count)
    assert.doesNotMatch(count, /\br\b/, count)
  })

  test('an unfiltered page walks resources_created in order: no sort, no scan', () => {
    const { page } = plan('User', undefined)
    assert.match(page, /SEARCH r USING INDEX resources_created \(tenant_id=\? AND resource_type=\?\)/)
    assert.doesNotMatch(page, /TEMP B-TREE|\bSCAN r\b/)
  })

  test('a cursor page deep in the list is a range on resources_created: no OFFSET walk, no sort, no scan (RFC 9865)', () => {
    // The position of the 151st user of t1 (default order, created then id).
    const { page } = plan('User', undefined, undefined, { key: at(150), id: 't1-u150' })
    assert.match(page, /^SEARCH r USING INDEX resources_created \(tenant_id=\? AND resource_type=\? AND \(created,id\)>\(\?,\?\)\)$/, page)
    assert.doesNotMatch(page, /TEMP B-TREE|\bSCAN r\b/, page)
  })

  test('a filtered cursor page searches the filter’s index, not the (created, id) range', () => {
    const { page } = plan('User', 'externalId eq "ext7"', undefined, { key: at(3), id: 't1-u3' })
    assert.match(page, /SEARCH r USING INDEX resources_external_id \(tenant_id=\? AND resource_type=\? AND external_id=\?\)/, page)
    assert.doesNotMatch(page, /resources_created|\bSCAN r\b/, page)
  })
})

describe('sqlite: schema, pragmas and migrations', () => {
  test('a new file is in WAL mode at the latest schema version', async () => {
    const path = freshPath()
    await openSqliteStore(path).close()
    const db = inspect(path)
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal')
    assert.equal(db.pragma('user_version', { simple: true }), SQLITE_MIGRATIONS.length)
    const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").all().map((r) => r.name)
    assert.deepStrictEqual(tables, [
      'admin_api_keys',
      'admin_sessions',
      'admins',
      'audit_events',
      'group_members',
      'oauth_clients',
      'resource_counts',
      'resource_emails',
      'resources',
      'signing_keys',
      'tenants',
      'tokens',
    ])
    db.close()
  })

  test('reopening a file keeps its data and does not migrate again', async () => {
    const path = freshPath()
    const first = openSqliteStore(path)
    await first.resources.create('t', { id: 'u1', resourceType: 'User', data: { userName: 'a' }, now: at(0) })
    await first.close()
    const second = openSqliteStore(path, { synchronous: 'normal' })
    assert.equal((await second.resources.get('t', 'User', 'u1'))?.data.userName, 'a')
    await second.close()
  })

  test('a database from a newer Roster is refused', async () => {
    const path = freshPath()
    await openSqliteStore(path).close()
    const db = new Database(path)
    db.pragma(`user_version = ${SQLITE_MIGRATIONS.length + 1}`)
    db.close()
    assert.throws(() => openSqliteStore(path), /newer/)
  })

  test('pending migrations apply all or nothing', () => {
    const db = new Database(join(dir, `migrate-${++files}.db`))
    assert.throws(() => migrateSqlite(db, ['CREATE TABLE a (x)', 'CREATE TABLE b (x); THIS IS NOT SQL']))
    assert.equal(db.pragma('user_version', { simple: true }), 0)
    assert.equal(db.prepare("SELECT COUNT(*) AS n FROM sqlite_schema WHERE name IN ('a', 'b')").pluck().get(), 0)
    assert.equal(migrateSqlite(db, ['CREATE TABLE a (x)']), 1)
    assert.equal(migrateSqlite(db, ['CREATE TABLE a (x)', 'CREATE TABLE b (x)']), 2)
    assert.equal(db.pragma('user_version', { simple: true }), 2)
    db.close()
  })

  test('two stores on one file see each other’s writes and share the userName index', async () => {
    const path = freshPath()
    const a = openSqliteStore(path)
    const b = openSqliteStore(path)
    await a.resources.create('t', { id: 'u1', resourceType: 'User', data: { userName: 'Same' }, now: at(0) })
    assert.equal((await b.resources.get('t', 'User', 'u1'))?.data.userName, 'Same')
    await assert.rejects(b.resources.create('t', { id: 'u2', resourceType: 'User', data: { userName: 'same' }, now: at(0) }), { status: 409, scimType: 'uniqueness' })
    await a.close()
    await b.close()
  })

  test('resource_emails follows every write of data.emails', async () => {
    const path = freshPath()
    const store = openSqliteStore(path)
    await store.resources.create('t', { id: 'u1', resourceType: 'User', data: { userName: 'a', emails: [{ value: 'A@X.com' }, { value: 'a@x.com' }, { type: 'work' }] }, now: at(0) })
    const db = inspect(path)
    const emails = () => db.prepare("SELECT value_ci FROM resource_emails WHERE tenant_id = 't' AND resource_id = 'u1' ORDER BY value_ci").pluck().all()
    assert.deepStrictEqual(emails(), ['a@x.com'])
    await store.resources.update('t', 'User', 'u1', (c) => ({ data: { ...c.data, emails: [{ value: 'B@x.com' }] } }), { now: at(1) })
    assert.deepStrictEqual(emails(), ['b@x.com'])
    await store.resources.delete('t', 'User', 'u1')
    assert.deepStrictEqual(emails(), [])
    db.close()
    await store.close()
  })
})

describe('sqlite: organizations and the audit log', () => {
  test('deleteTenant leaves no row of the tenant in any table that has a tenant_id (but admins)', async () => {
    const path = freshPath()
    const store = openSqliteStore(path)
    const event = (id: string, tenant: string) => ({
      id,
      tenant,
      time: at(1),
      actor: { type: 'token' as const, id: 'k1' },
      client: { ip: '192.0.2.1', userAgent: 'test' },
      request: { id: 'r', method: 'POST', path: '/Users' },
      resource: { type: 'User', id: 'u1' },
      operation: 'create' as const,
      changes: [],
      outcome: { status: 201 },
      latencyMs: 1,
    })
    for (const tenant of ['gone', 'kept']) {
      await store.tenants.insertTenant({ id: tenant, name: tenant, createdAt: at(0), settings: DEFAULT_TENANT_SETTINGS })
      await store.resources.create(tenant, { id: 'u1', resourceType: 'User', data: { userName: 'a', emails: [{ value: 'a@x.org' }] }, now: at(0), audit: () => event(`${tenant}-1`, tenant) })
      await store.resources.create(tenant, { id: 'g1', resourceType: 'Group', data: { displayName: 'G' }, memberIds: ['u1'], now: at(0) })
      await store.tokens.insertToken({ id: `${tenant}-k`, tenant, name: 't', prefix: 'rst_', hash: 'h', createdAt: at(0) })
      await store.oauthClients.insertClient({ id: `${tenant}-c`, tenant, name: 'c', secretHash: 'h', scopes: [], createdAt: at(0) })
      await store.audit.insertAuditEvent(event(`${tenant}-2`, tenant))
    }
    assert.equal(await store.tenants.deleteTenant('gone'), true)
    await store.close()
    const db = inspect(path)
    const tables = db
      .prepare<[], { name: string }>("SELECT name FROM sqlite_schema WHERE type = 'table'")
      .all()
      .map((r) => r.name)
      .filter((name) => db.prepare<[], { name: string }>(`SELECT name FROM pragma_table_info('${name}')`).all().some((c) => c.name === 'tenant_id'))
    // Admins scoped to an organization are the caller's to remove or widen (ports.ts deleteTenant).
    assert.deepStrictEqual(tables.sort(), ['admins', 'audit_events', 'group_members', 'oauth_clients', 'resource_counts', 'resource_emails', 'resources', 'tokens'])
    for (const table of tables.filter((t) => t !== 'admins')) {
      const count = (tenant: string) => db.prepare(`SELECT COUNT(*) FROM ${table} WHERE tenant_id = ?`).pluck().get(tenant)
      assert.equal(count('gone'), 0, table)
      assert.ok((count('kept') as number) > 0, table)
    }
    assert.equal(db.prepare("SELECT COUNT(*) FROM tenants WHERE id = 'gone'").pluck().get(), 0)
    db.close()
  })

  describe('EXPLAIN QUERY PLAN of queryAuditEvents: an index search, in page order, never a scan or a sort', () => {
    const path = freshPath()
    let db: Database.Database
    before(async () => {
      await openSqliteStore(path).close()
      db = inspect(path)
    })
    after(() => db.close())
    const plan = (query: Omit<AuditQuery, 'tenant' | 'limit'>) => {
      const { sql, params } = compileAuditQuery({ tenant: 't', limit: 50, ...query }, sqliteDialect)
      return db
        .prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
        .all(...params)
        .map((r) => r.detail)
        .join('\n')
    }
    const cases: { title: string; query: Omit<AuditQuery, 'tenant' | 'limit'>; search: RegExp }[] = [
      { title: 'the tenant’s newest events', query: {}, search: /SEARCH audit_events USING INDEX audit_events_time \(tenant_id=\?\)/ },
      { title: 'a time range', query: { from: at(0), to: at(9) }, search: /SEARCH audit_events USING INDEX audit_events_time \(tenant_id=\? AND time>\? AND time<\?\)/ },
      { title: 'a keyset page', query: { after: { time: at(5), id: 'e9' } }, search: /SEARCH audit_events USING INDEX audit_events_time \(tenant_id=\? AND \(time,id\)<\(\?,\?\)\)/ },
      {
        title: 'one resource’s history, paged',
        query: { resourceType: 'User', resourceId: 'u1', after: { time: at(5), id: 'e9' } },
        search: /SEARCH audit_events USING INDEX audit_events_resource \(tenant_id=\? AND resource_type=\? AND resource_id=\? AND \(time,id\)<\(\?,\?\)\)/,
      },
      { title: 'one actor in a time range', query: { actorId: 'k1', from: at(0) }, search: /SEARCH audit_events USING INDEX audit_events_actor \(tenant_id=\? AND actor_id=\? AND time>\?\)/ },
      { title: 'failures of one operation', query: { outcome: 'failure', operation: 'patch' }, search: /SEARCH audit_events USING INDEX audit_events_time \(tenant_id=\?\)/ },
    ]
    for (const c of cases) {
      test(c.title, () => {
        const text = plan(c.query)
        assert.match(text, c.search, text)
        assert.doesNotMatch(text, /\bSCAN audit_events\b|TEMP B-TREE/, text)
      })
    }
  })
})

describe('sqlite: resource_counts follows every writer', () => {
  test('creates, deletes (cascading too), another connection and a removed tenant all keep the unfiltered total right', async () => {
    const path = freshPath()
    const store = openSqliteStore(path)
    const total = async (tenant: string, type: string) => (await store.resources.query(tenant, type, { startIndex: 1, count: 0 })).totalResults
    for (let i = 0; i < 5; i++) {
      await store.resources.create('t1', { id: `u${i}`, resourceType: 'User', data: { schemas: [USER_SCHEMA], userName: `user${i}` }, now: at(i) })
    }
    await store.resources.create('t1', { id: 'g1', resourceType: 'Group', data: { schemas: [GROUP_SCHEMA], displayName: 'G' }, memberIds: ['u0'], now: at(9) })
    assert.deepEqual([await total('t1', 'User'), await total('t1', 'Group'), await total('t2', 'User')], [5, 1, 0])
    await store.resources.delete('t1', 'User', 'u0')
    const other = new Database(path)
    other.prepare(`DELETE FROM resources WHERE tenant_id = 't1' AND id = 'u1'`).run()
    other.close()
    assert.deepEqual([await total('t1', 'User'), await total('t1', 'Group')], [3, 1])
    await store.tenants.insertTenant({ id: 't3', name: 'T3', createdAt: at(0), settings: DEFAULT_TENANT_SETTINGS })
    await store.resources.create('t3', { id: 'x', resourceType: 'User', data: { schemas: [USER_SCHEMA], userName: 'x' }, now: at(0) })
    assert.equal(await store.tenants.deleteTenant('t3'), true)
    assert.equal(await total('t3', 'User'), 0)
    await store.close()
    const db = inspect(path)
    assert.deepEqual(db.prepare('SELECT tenant_id, resource_type, n FROM resource_counts ORDER BY 1, 2').all(), [
      { tenant_id: 't1', resource_type: 'Group', n: 1 },
      { tenant_id: 't1', resource_type: 'User', n: 3 },
    ])
    db.close()
  })
})
