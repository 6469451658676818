import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { runCli, scimHeaders, startServerProcess, waitForExit } from '../process-harness.js'

describe('roster token', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'roster-cli-'))
  const env = { ROSTER_DATA_DIR: dataDir }
  after(() => rmSync(dataDir, { recursive: true, force: true }))

  test('create prints the token alone on the last line; list shows it without the secret; revoke works on the next request while the server runs', async () => {
    const created = await runCli(['token', 'create', '--name', 'Okta production'], env)
    assert.equal(created.code, 0, created.stderr)
    const lines = created.stdout.trimEnd().split('\n')
    const token = lines.at(-1)!
    assert.match(token, /^rst_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/)
    const id = token.slice(4, 16)

    const listed = await runCli(['token', 'list'], env)
    assert.equal(listed.code, 0, listed.stderr)
    assert.match(listed.stdout, /ID\s+NAME\s+PREFIX\s+CREATED\s+LAST USED/)
    assert.match(listed.stdout, new RegExp(`${id}\\s+Okta production`))
    assert.ok(!listed.stdout.includes(token.slice(17)), 'the secret is never listed')
    const json = JSON.parse((await runCli(['token', 'list', '--json'], env)).stdout) as Record<string, unknown>[]
    assert.ok(json.every((t) => !('hash' in t)), 'the hash is not printed either')

    const server = await startServerProcess(env)
    try {
      assert.equal(server.firstToken, undefined, 'no initial token is made when one exists')
      const ok = await fetch(`${server.baseUrl}/Users`, { headers: scimHeaders(token) })
      assert.equal(ok.status, 200)
      const used = JSON.parse((await runCli(['token', 'list', '--json'], env)).stdout) as { id: string; lastUsedAt?: string }[]
      assert.ok(used.find((t) => t.id === id)?.lastUsedAt, 'last used is recorded')

      const revoked = await runCli(['token', 'revoke', id], env)
      assert.equal(revoked.code, 0, revoked.stderr)
      const denied = await fetch(`${server.baseUrl}/Users`, { headers: scimHeaders(token) })
      assert.equal(denied.status, 401)
      assert.match(denied.headers.get('www-authenticate') ?? '', /^Bearer/)
      const body = (await denied.json()) as { status: string; schemas: string[] }
      assert.equal(body.status, '401')
      assert.deepEqual(body.schemas, ['urn:ietf:params:scim:api:messages:2.0:Error'])
      assert.match((await runCli(['token', 'list'], env)).stdout, new RegExp(`${id}.*revoked`))
    } finally {
      server.child.kill('SIGTERM')
      await waitForExit(server.child)
    }
  })

  test('revoking an unknown id fails with exit code 1', async () => {
    const res = await runCli(['token', 'revoke', 'ffffffffffff'], env)
    assert.equal(res.code, 1)
    assert.match(res.stderr, /no active token/)
  })

  test('create without --name is refused', async () => {
    const res = await runCli(['token', 'create'], env)
    assert.notEqual(res.code, 0)
    assert.match(res.stderr, /--name/)
  })
})
