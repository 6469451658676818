import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { Checkpointer } from '../../src/store/sqlite/checkpointer.js'
import { GroupCommit, withGroupCommit } from '../../src/store/sqlite/group-commit.js'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { USER_SCHEMA } from '../../src/scim/index.js'

const dir = mkdtempSync(join(tmpdir(), 'roster-group-commit-'))
after(() => rmSync(dir, { recursive: true, force: true }))
let files = 0
const freshPath = () => join(dir, `db-${++files}.db`)

/** A WAL database with one table, as the store opens it (synchronous=NORMAL, no automatic checkpoint). */
function openTable(path: string): Database.Database {
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.pragma('wal_autocheckpoint = 0')
  db.exec('CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)')
  return db
}

/** A store-like object over the table: `insert` is a write by its name, `count` and `peek` are reads. */
function tableStore(db: Database.Database) {
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)')
  const count = db.prepare<unknown[], number>('SELECT COUNT(*) FROM t').pluck()
  return {
    async insertRow(v: string) {
      insert.run(v)
    },
    async count() {
      return count.get()!
    },
    async peek() {
      return count.get()!
    },
  }
}

describe('GroupCommit: writes of one event-loop turn share a commit, made durable off the event loop', () => {
  test('ten writes in one turn: one batch, one fdatasync of the WAL, and each resolves once it is durable', async () => {
    const path = freshPath()
    const db = openTable(path)
    const commit = new GroupCommit(db, { walPath: `${path}-wal` })
    const store = withGroupCommit(tableStore(db), commit)
    const syncsSeen: number[] = []
    await Promise.all(Array.from({ length: 10 }, (_, i) => store.insertRow(`v${i}`).then(() => syncsSeen.push(commit.stats.syncs))))
    assert.deepEqual(commit.stats, { batches: 1, writes: 10, syncs: 1 })
    assert.deepEqual(syncsSeen, Array(10).fill(1), 'no write resolved before the sync that covers it had run')
    // Committed for every connection, not just this one.
    const other = new Database(path, { readonly: true })
    assert.equal((other.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n, 10)
    other.close()
    await commit.drain()
    db.close()
  })

  test('writes in later turns make new batches; without a WAL to sync (synchronous normal) nothing is synced', async () => {
    const db = openTable(freshPath())
    const commit = new GroupCommit(db)
    const store = withGroupCommit(tableStore(db), commit)
    for (let i = 0; i < 3; i++) await store.insertRow(`v${i}`)
    assert.deepEqual(commit.stats, { batches: 3, writes: 3, syncs: 0 })
    assert.equal(await store.count(), 3)
    await commit.drain()
    db.close()
  })

  test('a read made while a batch is open resolves only once that batch is durable; an unsynced one at once', async () => {
    const path = freshPath()
    const db = openTable(path)
    const commit = new GroupCommit(db, { walPath: `${path}-wal` })
    const store = withGroupCommit(tableStore(db), commit, { unsynced: new Set(['peek']) })
    const order: string[] = []
    const write = store.insertRow('a').then(() => order.push('write'))
    const read = store.count().then((n) => order.push(`read ${n}`))
    const peek = store.peek().then((n) => order.push(`peek ${n}`))
    await Promise.all([write, read, peek])
    // The peek saw the uncommitted row and did not wait; the read saw it too and waited for the sync.
    assert.equal(order[0], 'peek 1')
    assert.deepEqual(order.slice(1).sort(), ['read 1', 'write'])
    assert.equal(commit.stats.syncs, 1)
    await commit.drain()
    db.close()
  })

  test('batches committed while a sync runs share the next one: syncs never outnumber batches, nor run at once', async () => {
    const path = freshPath()
    const db = openTable(path)
    const commit = new GroupCommit(db, { walPath: `${path}-wal` })
    const store = withGroupCommit(tableStore(db), commit)
    const writes: Promise<void>[] = []
    for (let turn = 0; turn < 20; turn++) {
      for (let i = 0; i < 5; i++) writes.push(store.insertRow(`t${turn}-${i}`))
      await new Promise((resolve) => setImmediate(resolve))
    }
    await Promise.all(writes)
    assert.equal(commit.stats.batches, 20)
    assert.ok(commit.stats.syncs >= 1 && commit.stats.syncs <= 20, `syncs: ${commit.stats.syncs}`)
    assert.equal(await store.count(), 100)
    await commit.drain()
    db.close()
  })

  test('a WAL that cannot be synced fails the batch, and every write and wait after it, rather than answer a write not known to be durable', async () => {
    const db = openTable(freshPath())
    const commit = new GroupCommit(db, { walPath: join(dir, 'no-such-dir', 'x-wal') })
    const store = withGroupCommit(tableStore(db), commit)
    await assert.rejects(store.insertRow('a'), /cannot open the SQLite WAL/)
    await assert.rejects(store.insertRow('b'), /cannot open the SQLite WAL/)
    await assert.rejects(store.count(), /cannot open the SQLite WAL/)
    db.close()
  })

  test('a write that throws rolls back alone (its savepoint); the rest of the batch commits', async () => {
    const path = freshPath()
    const db = openTable(path)
    const commit = new GroupCommit(db, { walPath: `${path}-wal` })
    const insert = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)')
    const tx = db.transaction((k: number, v: string) => insert.run(k, v))
    const store = withGroupCommit(
      {
        async insertRow(k: number, v: string) {
          tx.immediate(k, v)
        },
      },
      commit,
    )
    const results = await Promise.allSettled([store.insertRow(1, 'a'), store.insertRow(1, 'duplicate'), store.insertRow(2, 'b')])
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled'])
    assert.deepEqual(db.prepare('SELECT k, v FROM t ORDER BY k').all(), [
      { k: 1, v: 'a' },
      { k: 2, v: 'b' },
    ])
    await commit.drain()
    db.close()
  })
})

describe('Checkpointer: the WAL is copied into the database file by a worker thread', () => {
  test('once the WAL passes the threshold, the worker checkpoints it while the writer never does', async () => {
    const path = freshPath()
    const db = openTable(path)
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)')
    db.transaction(() => {
      for (let i = 0; i < 2_000; i++) insert.run('x'.repeat(500))
    })()
    const before = statSync(path).size
    assert.ok(statSync(`${path}-wal`).size > 256 * 1024, 'the rows are in the WAL')
    const errors: string[] = []
    const checkpointer = new Checkpointer(path, { startAtBytes: 256 * 1024, intervalMs: 50, onError: (m) => errors.push(m) })
    checkpointer.start()
    const deadline = Date.now() + 10_000
    while (statSync(path).size <= before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
    assert.ok(statSync(path).size > before + 500 * 1024, `the database file grew from ${before} to ${statSync(path).size} bytes`)
    await checkpointer.close()
    assert.equal(checkpointer.running, false)
    assert.deepEqual(errors, [])
    db.close()
  })

  test('a small store never starts the worker', async () => {
    const path = freshPath()
    const checkpointer = new Checkpointer(path, { startAtBytes: 1024 * 1024 })
    await new Promise((resolve) => setTimeout(resolve, 1_200))
    assert.equal(checkpointer.running, false)
    await checkpointer.close()
  })
})

describe('SQLite store: what is kept in memory follows writes made through other connections', () => {
  const user = (id: string, userName: string) => ({ id, resourceType: 'User', data: { schemas: [USER_SCHEMA], userName }, now: '2024-01-01T00:00:00.000Z' })
  const group = (id: string, displayName: string, memberIds: string[]) => ({
    id,
    resourceType: 'Group',
    data: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName },
    memberIds,
    now: '2024-01-01T00:00:00.000Z',
  })

  test('a token revoked by another connection (the CLI) is seen revoked at the very next lookup', async () => {
    const path = freshPath()
    const store = openSqliteStore(path)
    await store.tokens.insertToken({ id: 'abc123abc123', tenant: 'default', name: 'IdP', prefix: 'rst_abc123abc123', hash: 'ff'.repeat(32), createdAt: '2024-01-01T00:00:00.000Z' })
    assert.equal((await store.tokens.findToken('abc123abc123'))?.revokedAt, undefined)
    const cli = new Database(path)
    cli.prepare(`UPDATE tokens SET revoked_at = '2024-01-02T00:00:00.000Z' WHERE id = 'abc123abc123'`).run()
    cli.close()
    assert.equal((await store.tokens.findToken('abc123abc123'))?.revokedAt, '2024-01-02T00:00:00.000Z')
    await store.close()
  })

  test("a user's groups show a group renamed here at once, and one renamed through another connection", async () => {
    const path = freshPath()
    const store = openSqliteStore(path)
    await store.resources.create('default', user('u1', 'bjensen'))
    await store.resources.create('default', group('g1', 'Tour Guides', ['u1']))
    const displayOfGroups = async () => (await store.resources.get('default', 'User', 'u1', { groups: true }))?.groups?.map((g) => g.display)
    assert.deepEqual(await displayOfGroups(), ['Tour Guides'])
    await store.resources.update('default', 'Group', 'g1', (c) => ({ data: { ...c.data, displayName: 'Guides' } }), { now: '2024-01-01T00:00:01.000Z' })
    assert.deepEqual(await displayOfGroups(), ['Guides'])
    const other = new Database(path)
    other.prepare(`UPDATE resources SET data = json_set(data, '$.displayName', 'Renamed elsewhere') WHERE id = 'g1'`).run()
    other.close()
    // The reading of data_version the groups trust is at most 10 ms old.
    await new Promise((resolve) => setTimeout(resolve, 20))
    assert.deepEqual(await displayOfGroups(), ['Renamed elsewhere'])
    assert.deepEqual((await store.resources.listGroupsOf('default', ['u1'])).get('u1')?.map((g) => g.display), ['Renamed elsewhere'])
    await store.close()
  })

  test('nesting a group makes indirect groups appear; un-nesting it makes them go', async () => {
    const store = openSqliteStore(freshPath())
    await store.resources.create('default', user('u1', 'bjensen'))
    await store.resources.create('default', group('g1', 'Inner', ['u1']))
    await store.resources.create('default', group('g2', 'Outer', []))
    const types = async () => (await store.resources.get('default', 'User', 'u1', { groups: true }))?.groups?.map((g) => `${g.value}:${g.type}`)
    assert.deepEqual(await types(), ['g1:direct'])
    await store.resources.update('default', 'Group', 'g2', (c) => ({ data: c.data, memberSteps: [{ op: 'add', ids: ['g1'] }] }), { now: '2024-01-01T00:00:01.000Z' })
    assert.deepEqual(await types(), ['g1:direct', 'g2:indirect'])
    await store.resources.update('default', 'Group', 'g2', (c) => ({ data: c.data, memberSteps: [{ op: 'remove', ids: ['g1'] }] }), { now: '2024-01-01T00:00:02.000Z' })
    assert.deepEqual(await types(), ['g1:direct'])
    await store.close()
  })
})
