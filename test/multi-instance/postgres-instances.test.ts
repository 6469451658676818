import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, afterEach, before, describe, test } from 'node:test'
import { TEST_PG_URL, TestSchemas, postgresSkip } from '../postgres-harness.js'
import { runCli, scimHeaders, startServerProcess, waitForExit, type ServerProcess } from '../process-harness.js'

// Two real Roster processes (`node dist/src/main.js`, as `npm start` runs it) on one PostgreSQL schema:
// what one instance writes, decides or revokes holds on the other from its next request.

const skip = await postgresSkip('multi-instance PostgreSQL tests')
const schemas = new TestSchemas(import.meta.url)

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error'

interface Reply {
  readonly status: number
  readonly body: Record<string, unknown> & { id?: string; status?: string; scimType?: string; schemas?: string[]; detail?: string }
  readonly etag: string | null
}

describe('two Roster instances on one PostgreSQL schema', { skip }, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'roster-multi-'))
  let schema = ''
  let env: Record<string, string> = {}
  let token = ''
  let servers: ServerProcess[] = []
  let passed = true

  before(async () => {
    schema = await schemas.fresh({ shared: true })
    // One ROSTER_SECRET_KEY for both, as required with PostgreSQL: each opens the signing keys the other sealed.
    env = { ROSTER_DATABASE_URL: TEST_PG_URL, ROSTER_PG_SCHEMA: schema, ROSTER_PG_POOL_SIZE: '4', ROSTER_DATA_DIR: dataDir, ROSTER_SECRET_KEY: randomBytes(32).toString('base64') }
    // The CLI creates (and migrates) the schema and issues the token both instances will accept.
    const created = await runCli(['token', 'create', '--name', 'multi-instance'], env)
    assert.equal(created.code, 0, created.stderr)
    token = created.stdout.trimEnd().split('\n').at(-1)!
    servers = await Promise.all([startServerProcess(env), startServerProcess(env)])
    for (const s of servers) assert.equal(s.firstToken, undefined, 'a token exists, so no instance makes one')
  })
  afterEach((t) => {
    if ((t as { passed?: boolean }).passed !== true) passed = false
  })
  after(async () => {
    for (const s of servers) s.child.kill('SIGTERM')
    await Promise.all(servers.map((s) => waitForExit(s.child)))
    rmSync(dataDir, { recursive: true, force: true })
    if (schema) await schemas.settleShared(schema, passed, 'two Roster instances')
  })

  /** One request to instance `i % 2`. */
  const call = async (i: number, method: string, path: string, body?: unknown, headers: Record<string, string> = {}, bearer = token): Promise<Reply> => {
    const res = await fetch(`${servers[i % 2]!.baseUrl}${path}`, {
      method,
      // A content type only with a body: a DELETE that declares one and sends none is 400 invalidSyntax.
      headers: { ...(body === undefined ? { authorization: `Bearer ${bearer}` } : scimHeaders(bearer)), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await res.text()
    return { status: res.status, body: text ? (JSON.parse(text) as Reply['body']) : {}, etag: res.headers.get('etag') }
  }
  const assertError = (res: Reply, status: number, scimType?: string) => {
    assert.equal(res.status, status, JSON.stringify(res.body))
    assert.deepStrictEqual(res.body.schemas, [ERROR])
    assert.equal(res.body.status, String(status))
    assert.equal(res.body.scimType, scimType)
  }

  test('20 concurrent POSTs of one userName across both instances: exactly one 201, nineteen 409 uniqueness (RFC 7644 §3.3)', async () => {
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) => call(i, 'POST', '/Users', { schemas: [USER_SCHEMA], userName: i % 2 ? 'race@example.com' : 'RACE@example.com' })),
    )
    assert.deepStrictEqual(
      replies.map((r) => r.status).sort(),
      [201, ...Array<number>(19).fill(409)],
    )
    for (const r of replies.filter((r) => r.status === 409)) {
      assertError(r, 409, 'uniqueness')
      assert.match(r.body.detail ?? '', /race@example\.com/i)
    }
    const found = await call(1, 'GET', `/Users?filter=${encodeURIComponent('userName eq "race@example.com"')}`)
    assert.equal(found.body.totalResults, 1)
  })

  test('40 concurrent PATCHes across both instances, each adding a different member to one group: all 40 land (RFC 7644 §3.5.2.1)', async () => {
    const users: string[] = []
    for (let i = 0; i < 40; i++) {
      const created = await call(i, 'POST', '/Users', { schemas: [USER_SCHEMA], userName: `member${i}` })
      assert.equal(created.status, 201, JSON.stringify(created.body))
      users.push(created.body.id!)
    }
    const group = await call(0, 'POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Everyone' })
    assert.equal(group.status, 201, JSON.stringify(group.body))
    const patched = await Promise.all(
      users.map((id, i) =>
        call(i, 'PATCH', `/Groups/${group.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: id }] }] }),
      ),
    )
    assert.deepStrictEqual(
      patched.filter((r) => r.status !== 200 && r.status !== 204).map((r) => `${r.status} ${JSON.stringify(r.body)}`),
      [],
    )
    for (const i of [0, 1]) {
      const got = await call(i, 'GET', `/Groups/${group.body.id}`)
      const members = (got.body.members as { value: string }[]).map((m) => m.value).sort()
      assert.deepStrictEqual(members, [...users].sort(), `instance ${i}`)
      assert.equal(got.etag, 'W/"41"', 'one version per PATCH')
    }
  })

  test('text jsonb cannot hold (a lone surrogate, a NUL) is 400 invalidValue on POST, PUT, PATCH and in Bulk, never a 500', async () => {
    for (const bad of ['a\ud800b', 'x\udfff', 'nul\u0000']) {
      assertError(await call(0, 'POST', '/Users', { schemas: [USER_SCHEMA], userName: bad }), 400, 'invalidValue')
      const created = await call(1, 'POST', '/Users', { schemas: [USER_SCHEMA], userName: `text-${bad.length}-${bad.charCodeAt(bad.length - 1)}` })
      assert.equal(created.status, 201, JSON.stringify(created.body))
      const path = `/Users/${created.body.id}`
      assertError(await call(0, 'PUT', path, { schemas: [USER_SCHEMA], userName: 'fine', displayName: bad }), 400, 'invalidValue')
      assertError(await call(1, 'PATCH', path, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: bad }] }), 400, 'invalidValue')
      const bulk = await call(0, 'POST', '/Bulk', {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
        Operations: [{ method: 'POST', path: '/Users', bulkId: 'b1', data: { schemas: [USER_SCHEMA], userName: 'bulk-text', nickName: bad } }],
      })
      assert.equal(bulk.status, 200, JSON.stringify(bulk.body))
      const [op] = bulk.body.Operations as { status: string; response?: { scimType?: string } }[]
      assert.equal(op!.status, '400', JSON.stringify(op))
      assert.equal(op!.response?.scimType, 'invalidValue')
      const unchanged = await call(0, 'GET', path)
      assert.equal(unchanged.body.userName, created.body.userName)
    }
  })

  test('an If-Match one instance has made stale fails on the other with 412 (RFC 7644 §3.14)', async () => {
    const created = await call(0, 'POST', '/Users', { schemas: [USER_SCHEMA], userName: 'etag-user', title: 'first' })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    const stale = created.etag!
    const replace = (title: string) => ({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: title }] })
    const fresh = await call(1, 'PATCH', `/Users/${created.body.id}`, replace('second'), { 'if-match': stale })
    assert.ok(fresh.status === 200 || fresh.status === 204, JSON.stringify(fresh.body))
    assert.notEqual(fresh.etag, stale)
    assertError(await call(0, 'PATCH', `/Users/${created.body.id}`, replace('third'), { 'if-match': stale }), 412)
    assertError(await call(0, 'DELETE', `/Users/${created.body.id}`, undefined, { 'if-match': stale }), 412)
    assert.equal((await call(0, 'GET', `/Users/${created.body.id}`)).body.title, 'second')
  })

  test('a token revoked through the CLI fails on both instances from the next request', async () => {
    const created = await runCli(['token', 'create', '--name', 'to revoke'], env)
    assert.equal(created.code, 0, created.stderr)
    const second = created.stdout.trimEnd().split('\n').at(-1)!
    const id = second.slice(4, 16)
    for (const i of [0, 1]) assert.equal((await call(i, 'GET', '/Users?count=1', undefined, {}, second)).status, 200)
    const revoked = await runCli(['token', 'revoke', id], env)
    assert.equal(revoked.code, 0, revoked.stderr)
    for (const i of [1, 0]) assertError(await call(i, 'GET', '/Users?count=1', undefined, {}, second), 401)
    assert.equal((await call(1, 'GET', '/Users?count=1')).status, 200, 'the other token still works')
  })

  test('an OAuth access token one instance signs verifies on the other (its signing key sealed with the shared key)', async () => {
    const created = await runCli(['oauth', 'client', 'create', '--org', 'default', '--name', 'multi-instance client'], env)
    assert.equal(created.code, 0, created.stderr)
    const id = /client_id:\s+(\S+)/.exec(created.stdout)?.[1]
    const secret = /client_secret:\s+(\S+)/.exec(created.stdout)?.[1]
    assert.ok(id && secret, created.stdout)
    const origin = new URL(servers[0]!.baseUrl).origin
    const res = await fetch(`${origin}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` },
      body: 'grant_type=client_credentials',
    })
    assert.equal(res.status, 200, await res.clone().text())
    const { access_token } = (await res.json()) as { access_token: string }
    for (const i of [0, 1]) assert.equal((await call(i, 'GET', '/Users?count=1', undefined, {}, access_token)).status, 200)
  })
})

describe('two Roster instances starting together on an empty PostgreSQL schema', { skip }, () => {
  test('exactly one of them creates and prints a first token, which both accept', async () => {
    const schema = await schemas.fresh()
    const dataDir = mkdtempSync(join(tmpdir(), 'roster-first-token-'))
    const env = { ROSTER_DATABASE_URL: TEST_PG_URL, ROSTER_PG_SCHEMA: schema, ROSTER_PG_POOL_SIZE: '2', ROSTER_DATA_DIR: dataDir, ROSTER_SECRET_KEY: randomBytes(32).toString('base64') }
    const started = await Promise.allSettled([startServerProcess(env), startServerProcess(env)])
    const servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []))
    let passed = false
    try {
      assert.equal(servers.length, 2, String(started.find((s) => s.status === 'rejected')?.reason))
      const printed = servers.flatMap((s) => (s.firstToken ? [s.firstToken] : []))
      assert.equal(printed.length, 1, `one first token, printed by one instance; outputs: ${servers.map((s) => s.output()).join(' | ')}`)
      for (const s of servers) {
        const res = await fetch(`${s.baseUrl}/Users?count=1`, { headers: { authorization: `Bearer ${printed[0]}` } })
        assert.equal(res.status, 200)
      }
      passed = true
    } finally {
      for (const s of servers) s.child.kill('SIGTERM')
      await Promise.all(servers.map((s) => waitForExit(s.child)))
      rmSync(dataDir, { recursive: true, force: true })
      await schemas.settle(passed, 'two instances starting together')
    }
  })
})
