import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { scimHeaders, startServerProcess, waitForExit } from '../process-harness.js'

const dataDir = mkdtempSync(join(tmpdir(), 'roster-crash-'))
after(() => rmSync(dataDir, { recursive: true, force: true }))

test('every write answered 2xx survives kill -9 of the server and is read back after a restart', async () => {
  const first = await startServerProcess({ ROSTER_DATA_DIR: dataDir })
  const token = first.firstToken
  assert.ok(token, 'first start prints a token')
  const headers = scimHeaders(token)
  const created: { id: string; userName: string }[] = []
  // Writes race the kill: the last one is acknowledged and the process dies right after, with no shutdown.
  for (let i = 0; i < 40; i++) {
    const userName = `crash.user.${i}@example.com`
    const res = await fetch(`${first.baseUrl}/Users`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName, active: true }),
    })
    assert.equal(res.status, 201)
    created.push({ id: ((await res.json()) as { id: string }).id, userName })
  }
  const group = await fetch(`${first.baseUrl}/Groups`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Survivors', members: created.slice(0, 5).map((u) => ({ value: u.id })) }),
  })
  assert.equal(group.status, 201)
  const groupId = ((await group.json()) as { id: string }).id
  const patched = await fetch(`${first.baseUrl}/Users/${created[0]!.id}`, {
    method: 'PATCH',
    headers,
    body: JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'active', value: false }] }),
  })
  assert.equal(patched.status, 200)
  first.child.kill('SIGKILL')
  const exit = await waitForExit(first.child)
  assert.equal(exit.signal, 'SIGKILL')

  const second = await startServerProcess({ ROSTER_DATA_DIR: dataDir })
  try {
    assert.equal(second.firstToken, undefined, 'a restart does not print a new token')
    for (const u of created) {
      const res = await fetch(`${second.baseUrl}/Users/${u.id}`, { headers })
      assert.equal(res.status, 200, `user ${u.userName} survived`)
      assert.equal(((await res.json()) as { userName: string }).userName, u.userName)
    }
    const first0 = (await (await fetch(`${second.baseUrl}/Users/${created[0]!.id}`, { headers })).json()) as { active: boolean }
    assert.equal(first0.active, false, 'the acknowledged PATCH survived')
    const g = (await (await fetch(`${second.baseUrl}/Groups/${groupId}`, { headers })).json()) as { members: unknown[] }
    assert.equal(g.members.length, 5)
  } finally {
    second.child.kill('SIGTERM')
    await waitForExit(second.child)
  }
})

test('SIGTERM drains and exits 0', async () => {
  const server = await startServerProcess({ ROSTER_DATA_DIR: dataDir })
  const health = await fetch(new URL('/healthz', server.baseUrl))
  assert.equal(health.status, 200)
  server.child.kill('SIGTERM')
  const exit = await waitForExit(server.child)
  assert.equal(exit.code, 0)
})
