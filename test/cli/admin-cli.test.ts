import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createHmac } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { CLI_JS, runCli, scimHeaders, startServerProcess, waitForExit, type ServerProcess } from '../process-harness.js'

const PASSWORD = 'correct horse battery staple'
const WEBHOOK_SECRET = 'whsec_cli_test'

/** Runs `roster <args>` with `input` on its stdin. */
function runCliWithInput(args: string[], env: Record<string, string>, input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI_JS, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
  child.stdin.end(input)
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })))
}

const ok = (res: { code: number | null; stderr: string; stdout: string }) => assert.equal(res.code, 0, `exit ${res.code}: ${res.stderr}${res.stdout}`)

describe('roster admin, org, oauth and audit commands', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'roster-admin-cli-'))
  // The webhook receiver of the token test listens on 127.0.0.1, which Roster refuses to post to unless told otherwise.
  const env = { ROSTER_DATA_DIR: dataDir, ROSTER_LOG_LEVEL: 'silent', ROSTER_WEBHOOK_SECRET: WEBHOOK_SECRET, ROSTER_WEBHOOK_ALLOW_PRIVATE: 'true' }
  let server: ServerProcess
  let origin: string

  before(async () => {
    server = await startServerProcess(env)
    origin = new URL(server.baseUrl).origin
  })
  after(async () => {
    server.child.kill('SIGTERM')
    await waitForExit(server.child)
    rmSync(dataDir, { recursive: true, force: true })
  })

  const signIn = (email: string, password: string) =>
    fetch(`${origin}/admin/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) })

  test('admin create --password-stdin makes the first admin, who can then sign in over HTTP', async () => {
    const created = await runCliWithInput(['admin', 'create', '--email', 'Root@Example.com', '--role', 'owner', '--password-stdin'], env, `${PASSWORD}\n`)
    ok(created)
    assert.match(created.stdout, /^Created admin [0-9a-f-]{36} \(root@example\.com, owner\)\n/)
    assert.ok(!created.stdout.includes(PASSWORD) && !created.stderr.includes(PASSWORD))

    const res = await signIn('root@example.com', PASSWORD)
    assert.equal(res.status, 200)
    const body = (await res.json()) as { admin: { role: string }; csrfToken: string }
    assert.equal(body.admin.role, 'owner')
    assert.equal((await signIn('root@example.com', `${PASSWORD}\n`)).status, 401, 'the line end was not part of the password')

    const listed = await runCli(['admin', 'list'], env)
    ok(listed)
    assert.match(listed.stdout, /root@example\.com\s+owner\s+\(all\)/)
  })

  test('admin create refuses a weak password, a taken e-mail, an unknown role, and asking without a terminal', async () => {
    const weak = await runCliWithInput(['admin', 'create', '--email', 'weak@example.com', '--role', 'viewer', '--password-stdin'], env, 'short\n')
    assert.equal(weak.code, 1)
    assert.match(weak.stderr, /password not accepted/)
    const taken = await runCliWithInput(['admin', 'create', '--email', 'root@example.com', '--role', 'viewer', '--password-stdin'], env, PASSWORD)
    assert.equal(taken.code, 1)
    const role = await runCli(['admin', 'create', '--email', 'x@example.com', '--role', 'superuser', '--password-stdin'], env)
    assert.notEqual(role.code, 0)
    assert.match(role.stderr, /owner, securityAdmin, viewer/)
    const noTerminal = await runCliWithInput(['admin', 'create', '--email', 'tty@example.com', '--role', 'viewer'], env, '')
    assert.equal(noTerminal.code, 1)
    assert.match(noTerminal.stderr, /--password-stdin/)
  })

  test('admin password --password-stdin resets a forgotten password: the old one and every session stop working; audited', async () => {
    const before = await signIn('root@example.com', PASSWORD)
    const cookie = before.headers.getSetCookie()[0]!.split(';')[0]!
    const me = () => fetch(`${origin}/admin/api/me`, { headers: { cookie } })
    assert.equal((await me()).status, 200)

    const recovered = 'a recovered passphrase'
    const reset = await runCliWithInput(['admin', 'password', '--email', 'Root@Example.com', '--password-stdin'], env, `${recovered}\n`)
    ok(reset)
    assert.match(reset.stdout, /^Set the password of admin [0-9a-f-]{36} \(root@example\.com\); [1-9]\d* sessions? ended\n$/)
    assert.ok(!`${reset.stdout}${reset.stderr}`.includes(recovered))
    assert.equal((await me()).status, 401, 'sessions signed in under the old password end')
    assert.equal((await signIn('root@example.com', PASSWORD)).status, 401)
    assert.equal((await signIn('root@example.com', recovered)).status, 200)

    const log = await runCli(['audit', 'export', '--org', 'default'], env)
    const events = log.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as { operation: string; actor: { id?: string }; changes: unknown[] })
    const changes = events.filter((e) => e.operation === 'admin.passwordChange')
    assert.deepEqual(
      changes.map((e) => [e.actor.id, e.changes]),
      [['cli', [{ attribute: 'password', after: '[redacted]', changed: true }]]],
    )
    assert.ok(!log.stdout.includes(recovered) && !log.stdout.includes(PASSWORD))

    // Back to the password the later tests sign in with.
    ok(await runCliWithInput(['admin', 'password', '--email', 'root@example.com', '--password-stdin'], env, PASSWORD))
  })

  test('admin password refuses a weak password and an unknown e-mail, and changes nothing', async () => {
    const weak = await runCliWithInput(['admin', 'password', '--email', 'root@example.com', '--password-stdin'], env, 'short\n')
    assert.equal(weak.code, 1)
    assert.match(weak.stderr, /password not accepted: use at least 12 characters/)
    const unknown = await runCliWithInput(['admin', 'password', '--email', 'nobody@example.com', '--password-stdin'], env, PASSWORD)
    assert.equal(unknown.code, 1)
    assert.match(unknown.stderr, /no admin has the e-mail address nobody@example\.com/)
    const noTerminal = await runCliWithInput(['admin', 'password', '--email', 'root@example.com'], env, '')
    assert.equal(noTerminal.code, 1)
    assert.match(noTerminal.stderr, /--password-stdin/)
    assert.equal((await signIn('root@example.com', PASSWORD)).status, 200)
  })

  test('org create, list, rename, remove', async () => {
    const created = await runCli(['org', 'create', 'acme', '--name', 'Acme'], env)
    ok(created)
    assert.match(created.stdout, /Created organization acme \(Acme\)/)
    assert.match(created.stdout, /SCIM base URL: http:\/\/\S+\/o\/acme\/scim\/v2/)
    ok(await runCli(['org', 'create', 'initech', '--name', 'Initech'], env))

    const again = await runCli(['org', 'create', 'acme', '--name', 'Acme again'], env)
    assert.equal(again.code, 1)
    const bad = await runCli(['org', 'create', 'Not A Slug', '--name', 'Bad'], env)
    assert.equal(bad.code, 1)
    assert.match(bad.stderr, /id must be/)

    const listed = await runCli(['org', 'list'], env)
    ok(listed)
    assert.match(listed.stdout, /^ID\s+NAME\s+CREATED\s+SCIM BASE URL/)
    assert.match(listed.stdout, /\nacme\s+Acme\s/)
    assert.match(listed.stdout, /\ndefault\s+Default\s/)

    ok(await runCli(['org', 'rename', 'initech', 'Initech Corp'], env))
    const json = JSON.parse((await runCli(['org', 'list', '--json'], env)).stdout) as { id: string; name: string }[]
    assert.equal(json.find((o) => o.id === 'initech')?.name, 'Initech Corp')

    ok(await runCli(['org', 'remove', 'initech'], env))
    const after = JSON.parse((await runCli(['org', 'list', '--json'], env)).stdout) as { id: string }[]
    assert.deepEqual(after.map((o) => o.id).sort(), ['acme', 'default'])
    const missing = await runCli(['org', 'remove', 'initech'], env)
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /not found/)
    assert.equal((await runCli(['org', 'remove', 'default'], env)).code, 1)
  })

  test('token create|list|revoke --org act on that organization and its SCIM URL', async () => {
    const created = await runCli(['token', 'create', '--org', 'acme', '--name', 'Acme Okta'], env)
    ok(created)
    const token = created.stdout.trimEnd().split('\n').at(-1)!
    const id = token.slice(4, 16)
    assert.equal((await fetch(`${origin}/o/acme/scim/v2/Users`, { headers: scimHeaders(token) })).status, 200)
    assert.equal((await fetch(`${origin}/scim/v2/Users`, { headers: scimHeaders(token) })).status, 401, 'not a token of the default organization')
    assert.match((await runCli(['token', 'list', '--org', 'acme'], env)).stdout, new RegExp(`${id}\\s+Acme Okta`))
    assert.doesNotMatch((await runCli(['token', 'list'], env)).stdout, new RegExp(id), 'the default organization does not list it')
    assert.equal((await runCli(['token', 'revoke', id], env)).code, 1, 'not revocable through the default organization')
    ok(await runCli(['token', 'revoke', '--org', 'acme', id], env))
    assert.equal((await fetch(`${origin}/o/acme/scim/v2/Users`, { headers: scimHeaders(token) })).status, 401)
    const unknownOrg = await runCli(['token', 'create', '--org', 'nope', '--name', 'x'], env)
    assert.equal(unknownOrg.code, 1)
    assert.match(unknownOrg.stderr, /Organization nope not found/)
  })

  test('oauth client create prints the id and secret once; they get a token; list hides the secret; revoke stops them', async () => {
    const created = await runCli(['oauth', 'client', 'create', '--org', 'acme', '--name', 'Entra ID'], env)
    ok(created)
    const clientId = /client_id:\s+(rsc_[0-9a-f]{24})/.exec(created.stdout)?.[1]
    const clientSecret = /client_secret:\s+(rcs_\S+)/.exec(created.stdout)?.[1]
    assert.ok(clientId && clientSecret, created.stdout)
    assert.match(created.stdout, /token endpoint: http:\/\/\S+\/o\/acme\/oauth\/token/)

    const basic = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`
    const tokenRequest = () =>
      fetch(`${origin}/o/acme/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic }, body: 'grant_type=client_credentials' })
    const issued = await tokenRequest()
    assert.equal(issued.status, 200)

    const listed = await runCli(['oauth', 'client', 'list', '--org', 'acme'], env)
    ok(listed)
    assert.match(listed.stdout, new RegExp(`${clientId}\\s+Entra ID\\s+\\S+\\s+\\S+\\s+active`))
    assert.ok(!listed.stdout.includes(clientSecret))
    const json = (await runCli(['oauth', 'client', 'list', '--org', 'acme', '--json'], env)).stdout
    assert.ok(!json.includes(clientSecret) && !json.includes('secretHash'))

    ok(await runCli(['oauth', 'client', 'revoke', '--org', 'acme', clientId], env))
    assert.equal((await tokenRequest()).status, 401)
    assert.match((await runCli(['oauth', 'client', 'list', '--org', 'acme'], env)).stdout, new RegExp(`${clientId}.*revoked`))
    assert.equal((await runCli(['oauth', 'client', 'revoke', '--org', 'acme', clientId], env)).code, 1)
  })

  test('oauth rotate-keys adds a signing key', async () => {
    const res = await runCli(['oauth', 'rotate-keys'], env)
    ok(res)
    assert.match(res.stdout, /^New signing key \S+ \(created \d{4}-/)
  })

  test('token create from the CLI triggers the organization webhook, signed', async () => {
    const deliveries: { headers: IncomingHttpHeaders; body: string }[] = []
    const receiver = createServer((req, res) => {
      let body = ''
      req.on('data', (c: Buffer) => (body += c.toString()))
      req.on('end', () => {
        deliveries.push({ headers: req.headers, body })
        res.writeHead(204).end()
      })
    })
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
    try {
      // Settings are set through the admin API, as an owner would.
      const session = await signIn('root@example.com', PASSWORD)
      const { csrfToken } = (await session.json()) as { csrfToken: string }
      const cookie = session.headers.getSetCookie()[0]!.split(';')[0]!
      const put = await fetch(`${origin}/admin/api/organizations/acme/settings`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrfToken },
        body: JSON.stringify({ webhookUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook` }),
      })
      assert.equal(put.status, 200)

      const created = await runCli(['token', 'create', '--org', 'acme', '--name', 'Hooked'], env)
      ok(created)
      // The command waits for its deliveries before exiting.
      assert.equal(deliveries.length, 1)
      const event = JSON.parse(deliveries[0]!.body) as Record<string, any>
      assert.equal(event.type, 'token.created')
      assert.equal(event.organization, 'acme')
      assert.equal(event.name, 'Hooked')
      assert.equal(event.actor.type, 'admin')
      assert.equal(event.actor.id, 'cli')
      assert.equal(deliveries[0]!.headers['x-roster-signature'], `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(deliveries[0]!.body).digest('hex')}`)
    } finally {
      receiver.closeAllConnections()
      await new Promise((resolve) => receiver.close(resolve))
    }
  })

  test('audit export writes NDJSON lines that parse, CSV with a header, and respects --from/--to', async () => {
    const res = await runCli(['audit', 'export', '--org', 'acme'], env)
    ok(res)
    const events = res.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { tenant: string; operation: string; actor: { type: string; id?: string } })
    assert.ok(events.every((e) => e.tenant === 'acme'))
    const operations = new Set(events.map((e) => e.operation))
    for (const op of ['organization.create', 'token.create', 'token.revoke', 'client.create', 'client.revoke', 'settings.update']) assert.ok(operations.has(op), `${op} is in the log`)
    assert.ok(events.filter((e) => e.operation === 'token.create').every((e) => e.actor.type === 'admin' && e.actor.id === 'cli'))

    const csv = await runCli(['audit', 'export', '--org', 'acme', '--format', 'csv', '--from', '2000-01-01'], env)
    ok(csv)
    assert.match(csv.stdout, /^id,time,tenant,operation,status,/)
    assert.ok(csv.stdout.split('\r\n').filter(Boolean).length > events.length, 'every event, plus the header (and the first export)')

    const none = await runCli(['audit', 'export', '--org', 'acme', '--to', '2000-01-01T00:00:00Z'], env)
    ok(none)
    assert.equal(none.stdout, '')
    const badTime = await runCli(['audit', 'export', '--org', 'acme', '--from', 'yesterday'], env)
    assert.notEqual(badTime.code, 0)
    assert.equal((await runCli(['audit', 'export', '--org', 'nope'], env)).code, 1)
  })
})

describe('admin passwords never reach the server log', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'roster-admin-log-'))
  // trace: the most the logger writes, so a password logged at any level would show.
  const env = { ROSTER_DATA_DIR: dataDir, ROSTER_LOG_LEVEL: 'trace' }
  let server: ServerProcess

  before(async () => {
    server = await startServerProcess(env)
  })
  after(async () => {
    server.child.kill('SIGTERM')
    await waitForExit(server.child)
    rmSync(dataDir, { recursive: true, force: true })
  })

  test('sign-in, a refused and an accepted password change log statuses, never a password', async () => {
    const origin = new URL(server.baseUrl).origin
    const first = 'first passphrase 1a2b3c'
    const wrong = 'a wrong guess 4d5e6f'
    const second = 'second passphrase 7a8b9c'
    ok(await runCliWithInput(['admin', 'create', '--email', 'logged@example.com', '--role', 'viewer', '--password-stdin'], env, first))
    const session = await fetch(`${origin}/admin/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'logged@example.com', password: first }) })
    assert.equal(session.status, 200)
    const { csrfToken } = (await session.json()) as { csrfToken: string }
    const headers = { 'content-type': 'application/json', cookie: session.headers.getSetCookie()[0]!.split(';')[0]!, 'x-csrf-token': csrfToken }
    const change = (currentPassword: string) => fetch(`${origin}/admin/api/me/password`, { method: 'PUT', headers, body: JSON.stringify({ currentPassword, newPassword: second }) })
    assert.equal((await change(wrong)).status, 403)
    assert.equal((await change(first)).status, 200)

    // pino writes asynchronously: wait for the line of the last answer.
    const deadline = Date.now() + 5_000
    while ((server.output().match(/"statusCode":200/g) ?? []).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    const log = server.output()
    assert.match(log, /\/admin\/api\/me\/password/, 'the requests were logged')
    for (const password of [first, wrong, second]) assert.ok(!log.includes(password), `"${password}" is not in the log`)
  })
})
