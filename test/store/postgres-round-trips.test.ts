import { afterEach, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import pg from 'pg'
import { GROUP_SCHEMA, SchemaRegistry, ScimError, USER_SCHEMA, parseFilter, resolveFilter, type ScimObject } from '../../src/scim/index.js'
import type { AuditHook, NewResource, Store, StoreQuery } from '../../src/store/ports.js'
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js'
import { StatementNames, named } from '../../src/store/postgres/statements.js'
import { TEST_PG_URL, TestSchemas, postgresSkip } from '../postgres-harness.js'

// PostgreSQL-only checks of how the adapter talks to the server: how many statements each hot path sends,
// which are named prepared statements, and that the statements that do several things at once (a GET with
// groups, createMany's INSERT) answer what the one-at-a-time forms do, and when a list page counts.
// The behaviour both adapters owe is in resource-store.contract.ts, run by postgres.test.ts.

const skip = await postgresSkip('PostgreSQL round-trip tests')
const schemas = new TestSchemas(import.meta.url)
afterEach(async (t) => {
  if (!skip) await schemas.settle((t as { passed?: boolean }).passed === true, t.name)
})

const T = 'tenant-a'
const OTHER = 'tenant-b'
const registry = SchemaRegistry.withCoreSchemas()
const at = (seconds: number) => new Date(Date.UTC(2024, 0, 1) + seconds * 1000).toISOString()
const user = (id: string, userName: string, extra: ScimObject = {}): NewResource => ({ id, resourceType: 'User', data: { schemas: [USER_SCHEMA], userName, ...extra }, now: at(0) })
const group = (id: string, displayName: string | undefined, memberIds: string[] = []): NewResource => ({
  id,
  resourceType: 'Group',
  data: { schemas: [GROUP_SCHEMA], ...(displayName === undefined ? {} : { displayName }) },
  memberIds,
  now: at(0),
})
const filterOf = (text: string) => resolveFilter(parseFilter(text), registry, 'User')
const hook = (id: string): AuditHook => ({ before, after }) => ({
  id,
  tenant: T,
  time: at(1),
  actor: { type: 'token', id: 'k1' },
  client: { ip: '192.0.2.1', userAgent: 'test' },
  request: { id: 'r', method: 'PATCH', path: '/Users' },
  resource: { type: 'User', id: (after ?? before)!.id },
  operation: 'patch',
  changes: [],
  outcome: { status: 200 },
  latencyMs: 1,
})

/**
 * Every query the store's connections send while `work` runs: the SQL text (or the statement's name when
 * it is named, with `named` set). node-postgres' Pool runs each query through Client.prototype.query.
 */
async function sent(work: () => Promise<unknown>): Promise<{ text: string; name?: string }[]> {
  const log: { text: string; name?: string }[] = []
  const original = pg.Client.prototype.query
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const config = args[0]
    if (typeof config === 'string') log.push({ text: config })
    else if (config && typeof config === 'object' && 'text' in config) {
      const { text, name } = config as { text: string; name?: string }
      log.push({ text, ...(name ? { name } : {}) })
    }
    return (original as (...a: unknown[]) => unknown).apply(this, args)
  } as typeof original
  try {
    await work()
  } finally {
    pg.Client.prototype.query = original
  }
  return log
}
const verbs = (log: readonly { text: string }[]) => log.map((q) => q.text.trim().split(/\s+/)[0]!.toUpperCase())

describe('postgres: statements and round trips', { skip }, () => {
  let store: Store
  beforeEach(async () => {
    store = await openPostgresStore(TEST_PG_URL, { schema: await schemas.fresh() })
  })
  afterEach(async () => {
    await store.close()
  })
  const r = () => store.resources

  test('get with groups is one named statement and answers what listGroupsOf does: direct, indirect, cycles, no display', async () => {
    await r().createMany(T, [user('u1', 'one'), user('u2', 'two'), user('u3', 'three')])
    await r().create(T, group('g1', 'Inner', ['u1', 'u2']))
    await r().create(T, group('g2', 'Middle', ['g1']))
    await r().create(T, group('g3', undefined, ['g2', 'u2']))
    // A cycle: g1 is in g2, g2 in g3, g3 in g1.
    await r().update(T, 'Group', 'g1', (c) => ({ data: c.data, memberSteps: [{ op: 'add', ids: ['g3'] }] }), { now: at(1) })
    await r().create(OTHER, group('g1', 'Elsewhere', []))
    const expected = await r().listGroupsOf(T, ['u1', 'u2', 'u3'])
    assert.deepStrictEqual(expected.get('u2'), [
      { value: 'g1', type: 'direct', display: 'Inner' },
      { value: 'g2', type: 'indirect', display: 'Middle' },
      { value: 'g3', type: 'direct' },
    ])
    for (const id of ['u1', 'u2', 'u3']) {
      let got: Awaited<ReturnType<Store['resources']['get']>>
      const log = await sent(async () => (got = await r().get(T, 'User', id, { groups: true })))
      assert.equal(log.length, 1, JSON.stringify(log))
      assert.ok(log[0]!.name, 'named')
      assert.deepStrictEqual(got!.groups, expected.get(id), id)
      assert.equal(got!.data.userName, { u1: 'one', u2: 'two', u3: 'three' }[id])
    }
    assert.equal(await r().get(T, 'User', 'nobody', { groups: true }), undefined)
    assert.equal(await r().get(OTHER, 'User', 'u1', { groups: true }), undefined)
    assert.equal(await r().get(T, 'Group', 'u1', { groups: true }), undefined)
  })

  test('the token lookup and a plain get are one named statement each', async () => {
    await store.tokens.insertToken({ id: 'k1', tenant: T, name: 'Okta', prefix: 'rst_k1', hash: 'h', createdAt: at(0) })
    await r().create(T, user('u1', 'one'))
    const log = await sent(async () => {
      assert.equal((await store.tokens.findToken('k1'))?.tenant, T)
      assert.equal((await r().get(T, 'User', 'u1'))?.id, 'u1')
    })
    assert.equal(log.length, 2)
    assert.ok(log.every((q) => q.name), JSON.stringify(log))
  })

  test('a PATCH of a user is BEGIN, the locked read, one write with its emails and audit event, COMMIT', async () => {
    await r().create(T, user('u1', 'one', { emails: [{ value: 'old@example.com' }] }))
    const log = await sent(() =>
      r().update(T, 'User', 'u1', (c) => ({ data: { ...c.data, title: 'Lead', emails: [{ value: 'New@Example.com' }] } }), { now: at(5), audit: hook('e1') }),
    )
    assert.deepStrictEqual(verbs(log), ['BEGIN', 'SELECT', 'WITH', 'COMMIT'])
    const byEmail = async (email: string) => (await r().query(T, 'User', { filter: filterOf(`emails.value eq "${email}"`), startIndex: 1, count: 10 })).resources.map((x) => x.id)
    assert.deepStrictEqual(await byEmail('new@example.com'), ['u1'])
    assert.deepStrictEqual(await byEmail('old@example.com'), [])
    assert.deepStrictEqual((await store.audit.queryAuditEvents({ tenant: T, limit: 10 })).events.map((e) => e.id), ['e1'])
  })

  test('a PATCH that changes the userName writes its event only once the write succeeded', async () => {
    await r().createMany(T, [user('u1', 'one'), user('u2', 'two')])
    const calls: string[] = []
    const counting = (id: string): AuditHook => (change) => (calls.push(id), hook(id)(change))
    const log = await sent(() => r().update(T, 'User', 'u1', (c) => ({ data: { ...c.data, userName: 'uno' } }), { now: at(5), audit: counting('e1') }))
    assert.deepStrictEqual(verbs(log), ['BEGIN', 'SELECT', 'UPDATE', 'INSERT', 'COMMIT'])
    await assert.rejects(r().update(T, 'User', 'u2', (c) => ({ data: { ...c.data, userName: 'UNO' } }), { now: at(6), audit: counting('e2') }), { status: 409 })
    assert.deepStrictEqual(calls, ['e1'])
  })

  test('text jsonb cannot hold fails a PATCH before its hook is called, also when the userName stays: a NUL is 400 invalidValue', async () => {
    await r().create(T, user('u1', 'one'))
    const calls: string[] = []
    const audit: AuditHook = (change) => (calls.push('called'), hook('e1')(change))
    await assert.rejects(r().update(T, 'User', 'u1', (c) => ({ data: { ...c.data, title: 'a\u0000b' } }), { now: at(5), audit }), { status: 400, scimType: 'invalidValue' })
    // A lone surrogate: jsonb refuses it too (22P02, no ScimError yet), and the hook was not called either.
    await assert.rejects(r().update(T, 'User', 'u1', (c) => ({ data: { ...c.data, title: 'a\ud800b' } }), { now: at(6), audit }))
    assert.deepStrictEqual(calls, [])
    assert.equal((await r().get(T, 'User', 'u1'))?.version, 1)
  })

  test('createMany of 50 audited users is BEGIN, one INSERT of the users, one of the events, COMMIT', async () => {
    const inputs = Array.from({ length: 50 }, (_, i) => ({ ...user(`u${i}`, `user${i}`, { emails: [{ value: `u${i}@example.com` }] }), audit: hook(`e${i}`) }))
    let results: unknown[] = []
    const log = await sent(async () => (results = await r().createMany(T, inputs)))
    assert.deepStrictEqual(verbs(log), ['BEGIN', 'WITH', 'INSERT', 'COMMIT'])
    assert.equal(results.filter((x) => x instanceof ScimError).length, 0)
    assert.equal((await r().query(T, 'User', { startIndex: 1, count: 0 })).totalResults, 50)
    assert.equal((await store.audit.queryAuditEvents({ tenant: T, limit: 100 })).events.length, 50)
    const found = await r().query(T, 'User', { filter: filterOf('emails.value eq "U49@example.com"'), startIndex: 1, count: 10 })
    assert.deepStrictEqual(found.resources.map((x) => x.id), ['u49'])
  })

  test('createMany: the inputs its batch INSERT skips fail alone, each as a one-at-a-time create would', async () => {
    await r().create(T, user('taken-id', 'someone'))
    await r().create(T, user('x0', 'taken'))
    const inputs: NewResource[] = [
      user('a1', 'first', { emails: [{ value: 'a1@example.com' }] }),
      user('a2', 'FIRST', { emails: [{ value: 'a2@example.com' }] }),
      user('taken-id', 'fresh-name'),
      user('a3', 'nul\u0000name'),
      user('a1', 'second-a1', { emails: [{ value: 'second@example.com' }] }),
      user('a4', 'Taken'),
      group('g1', 'G', ['a1', 'a2']),
      user('a5', 'last', { emails: [{ value: 'a5@example.com' }] }),
    ]
    // The same inputs created one at a time, in another tenant, with the same existing rows.
    await r().create(OTHER, user('taken-id', 'someone'))
    await r().create(OTHER, user('x0', 'taken'))
    const one: unknown[] = []
    for (const input of inputs) one.push(await r().create(OTHER, input).then((c) => c.id, (e: ScimError) => `${e.status} ${e.scimType} ${e.detail}`))
    const many = (await r().createMany(T, inputs)).map((x) => (x instanceof ScimError ? `${x.status} ${x.scimType} ${x.detail}` : x.id))
    assert.deepStrictEqual(many, one)
    assert.deepStrictEqual(many.filter((x) => !x.includes(' ')), ['a1', 'a5'])
    const byEmail = async (email: string) => (await r().query(T, 'User', { filter: filterOf(`emails.value eq "${email}"`), startIndex: 1, count: 10 })).resources.map((x) => x.id)
    assert.deepStrictEqual(await byEmail('a1@example.com'), ['a1'])
    assert.deepStrictEqual(await byEmail('second@example.com'), [], 'the emails of a skipped input stay out, also when its id was written')
    assert.deepStrictEqual(await byEmail('a2@example.com'), [])
    assert.deepStrictEqual(await byEmail('a5@example.com'), ['a5'])
  })

  test('a list page counts its matches only when it must, and totalResults is what a count gives', async () => {
    await r().createMany(T, Array.from({ length: 12 }, (_, i) => user(`u${String(i).padStart(2, '0')}`, `user${i}`)))
    const total = async (q: Partial<StoreQuery>) => (await r().query(T, 'User', { startIndex: 1, count: 5, ...q })).totalResults
    assert.equal(await total({}), 12, 'a full first page')
    assert.equal(await total({ count: 20 }), 12, 'a first page holding every match')
    assert.equal(await total({ startIndex: 11 }), 12, 'the last page, after 10 rows')
    assert.equal(await total({ startIndex: 13 }), 12, 'past the end')
    assert.equal(await total({ startIndex: 40 }), 12, 'far past the end')
    assert.equal(await total({ filter: filterOf('userName eq "user3"') }), 1)
    assert.equal(await total({ filter: filterOf('userName eq "nobody"') }), 0)
    assert.equal(await total({ filter: filterOf('userName eq "nobody"'), startIndex: 3 }), 0)
    assert.equal(await total({ filter: filterOf('userName sw "user1"'), startIndex: 2, count: 1 }), 3)

    // One statement when the page tells the total; the page and then a COUNT when it cannot.
    const statements = async (q: Partial<StoreQuery>) => verbs(await sent(() => total(q))).length
    assert.equal(await statements({ count: 20 }), 1)
    assert.equal(await statements({ startIndex: 11 }), 1)
    assert.equal(await statements({ filter: filterOf('userName eq "user3"') }), 1)
    assert.equal(await statements({ filter: filterOf('userName eq "nobody"') }), 1)
    assert.equal(await statements({}), 2)
    assert.equal(await statements({ startIndex: 13 }), 2)
    assert.equal(await statements({ filter: filterOf('userName eq "nobody"'), startIndex: 3 }), 2)
  })

  test('filtered lists are named when their plan does not hang on the values: equality yes, patterns and ranges no', async () => {
    await r().create(T, user('u1', 'one'))
    const names = async (q: Partial<StoreQuery>) => (await sent(() => r().query(T, 'User', { startIndex: 1, count: 5, ...q }))).map((x) => x.name !== undefined)
    assert.deepStrictEqual(await names({}), [true])
    assert.deepStrictEqual(await names({ filter: filterOf('userName eq "one" and not (title pr)') }), [true])
    assert.deepStrictEqual(await names({ filter: filterOf('userName co "n"') }), [false])
    assert.deepStrictEqual(await names({ filter: filterOf('userName eq "one" or title gt "a"') }), [false])
    assert.deepStrictEqual(await names({ filter: filterOf('userName eq "one"'), after: { key: at(0), id: 'u0' } }), [false])
    assert.deepStrictEqual(await names({ after: { key: at(0), id: 'u0' }, withTotal: false }), [true])
  })
})

describe('postgres: statement names', () => {
  test('a name follows from the text alone, and differs for another text', () => {
    assert.equal(named('SELECT 1').name, named('SELECT 1').name)
    assert.notEqual(named('SELECT 1').name, named('SELECT 2').name)
    assert.ok(named('SELECT 1').name.length <= 63, 'within NAMEDATALEN')
  })

  test('StatementNames names at most `limit` texts; others run unnamed', () => {
    const names = new StatementNames(2)
    assert.ok(names.query('SELECT 1', []).name)
    assert.ok(names.query('SELECT 2', []).name)
    assert.equal(names.query('SELECT 3', [7]).name, undefined)
    assert.deepStrictEqual(names.query('SELECT 3', [7]).values, [7])
    assert.equal(names.query('SELECT 1', []).name, named('SELECT 1').name)
  })
})
