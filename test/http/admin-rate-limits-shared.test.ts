import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import { composeRoster, type Roster } from '../../src/compose.js'
import { readConfig } from '../../src/config.js'
import { ADMIN_RATE_LIMIT_NAMESPACE, openRedisRateLimitCounters, type RateLimitCounters } from '../../src/http/rate-limit-counters.js'
import { ADMIN_API_PREFIX, adminApiPlugin } from '../../src/http/routes/admin/admin-api.js'
import { adminApiDepsOf } from '../../src/server.js'
import { TEST_REDIS_URL, deleteRedisKeys, redisSkip } from '../redis-harness.js'
import { startTestServer, type TestServer } from './harness.js'

// Several Roster instances behind a load balancer share one admin API limit when ROSTER_REDIS_URL is set:
// a caller, an address or an e-mail address gets no more requests or guesses by spreading them over the
// instances. Without Redis each instance counts its own (test/http/admin-api.test.ts, "admin API rate limits").

const skip = await redisSkip('the shared admin API rate limits')
const PASSWORD = 'correct horse battery staple'
const run = `${process.pid}-${Date.now().toString(36)}`
const statuses = (replies: LightMyRequestResponse[]) => replies.map((r) => r.statusCode)

describe('two admin API instances on one store and one Redis count one limit', { skip }, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'roster-admin-shared-'))
  const namespace = `roster-test-admin-${run}:`
  let roster: Roster
  let counters: RateLimitCounters[] = []
  let instances: FastifyInstance[] = []

  before(async () => {
    if (skip) return
    roster = await composeRoster(readConfig({ ROSTER_DATA_DIR: dataDir, ROSTER_LOG_LEVEL: 'silent' }))
    // Each instance opens its own connection, as each process does.
    counters = await Promise.all([openRedisRateLimitCounters(TEST_REDIS_URL, namespace), openRedisRateLimitCounters(TEST_REDIS_URL, namespace)])
    instances = counters.map((shared) => {
      const app = Fastify()
      app.register(adminApiPlugin, { ...adminApiDepsOf(roster), rateLimitPerMinute: 4, signInAttemptsPerWindow: 3, rateLimitCounters: shared, prefix: ADMIN_API_PREFIX })
      return app
    })
    await Promise.all(instances.map((app) => app.ready()))
    await roster.admins.create({ email: 'owner@example.com', password: PASSWORD, role: 'owner' })
  })
  after(async () => {
    if (skip) return
    await Promise.all(instances.map((app) => app.close()))
    await deleteRedisKeys(`${namespace}*`)
    await Promise.all(counters.map((c) => c.close()))
    await roster.notifier.close()
    await roster.store.close()
    rmSync(dataDir, { recursive: true, force: true })
  })

  /** Request `i` goes to instance i % 2, as a round-robin load balancer would send it. */
  const send = (i: number, method: 'GET' | 'POST' | 'PUT', url: string, options: { payload?: object; headers?: Record<string, string>; ip?: string } = {}) =>
    instances[i % 2]!.inject({ method, url: `${ADMIN_API_PREFIX}${url}`, remoteAddress: options.ip ?? '192.0.2.10', ...(options.payload ? { payload: options.payload } : {}), headers: options.headers ?? {} })

  test('requests of one session: the limit counts on both instances together', async () => {
    const signedIn = await send(0, 'POST', '/session', { payload: { email: 'owner@example.com', password: PASSWORD } })
    assert.equal(signedIn.statusCode, 200, signedIn.body)
    const cookie = signedIn.headers['set-cookie']!.toString().split(';')[0]!
    const replies: LightMyRequestResponse[] = []
    for (let i = 0; i < 6; i++) replies.push(await send(i, 'GET', '/me', { headers: { cookie } }))
    assert.deepEqual(statuses(replies), [200, 200, 200, 200, 429, 429])
    assert.equal(replies[4]!.json().error.code, 'rate_limited')
    assert.ok(Number(replies[5]!.headers['retry-after']) > 0)
  })

  test('requests of one API key: the limit counts on both instances together; another key has its own', async () => {
    const admin = (await roster.admins.list())[0]!
    const [one, two] = await Promise.all([roster.apiKeys.issue('one', 'viewer', { createdBy: admin.id }), roster.apiKeys.issue('two', 'viewer', { createdBy: admin.id })])
    const replies: LightMyRequestResponse[] = []
    for (let i = 0; i < 5; i++) replies.push(await send(i, 'GET', '/organizations', { headers: { authorization: `Bearer ${one!.apiKey}` } }))
    assert.deepEqual(statuses(replies), [200, 200, 200, 200, 429])
    assert.equal((await send(1, 'GET', '/organizations', { headers: { authorization: `Bearer ${two!.apiKey}` } })).statusCode, 200)
  })

  test('wrong current passwords of a password change count with failed sign-ins, across instances', async () => {
    await roster.admins.create({ email: 'changer@example.com', password: PASSWORD, role: 'viewer' })
    const signedIn = await send(1, 'POST', '/session', { payload: { email: 'changer@example.com', password: PASSWORD }, ip: '192.0.2.20' })
    assert.equal(signedIn.statusCode, 200, signedIn.body)
    const headers = { cookie: signedIn.headers['set-cookie']!.toString().split(';')[0]!, 'x-csrf-token': signedIn.json().csrfToken as string }
    const wrong = { currentPassword: 'wrong password!!', newPassword: 'the new passphrase' }
    assert.equal((await send(0, 'POST', '/session', { payload: { email: 'changer@example.com', password: 'wrong password!!' }, ip: '192.0.2.21' })).statusCode, 401)
    assert.equal((await send(1, 'PUT', '/me/password', { payload: wrong, headers })).statusCode, 403)
    assert.equal((await send(0, 'PUT', '/me/password', { payload: wrong, headers })).statusCode, 403)
    const limited = await send(1, 'PUT', '/me/password', { payload: { ...wrong, currentPassword: PASSWORD }, headers })
    assert.equal(limited.statusCode, 429, 'three failures on two instances: even the right password waits')
    assert.equal((await send(0, 'POST', '/session', { payload: { email: 'changer@example.com', password: PASSWORD }, ip: '192.0.2.22' })).statusCode, 429)
  })
})

describe('two Roster servers with one ROSTER_REDIS_URL share the sign-in limits', { skip }, () => {
  let servers: TestServer[] = []
  // The servers count in ADMIN_RATE_LIMIT_NAMESPACE: every key this suite makes is named here, and deleted after.
  const email = `guessed-${run}@example.com`
  const ip = `10.${(process.pid >> 8) & 255}.${process.pid & 255}.${Date.now() % 250}`
  const otherEmails = [0, 1, 2, 3].map((i) => `nobody-${i}-${run}@example.com`)
  const otherIps = [0, 1, 2, 3].map((i) => `198.51.${Date.now() % 250}.${(process.pid % 50) * 5 + i}`)
  const keysMade = [email, ...otherEmails].map((e) => `signin-failures:${e}`).concat([ip, ...otherIps].map((a) => `signin-ip:${a}`))

  before(async () => {
    if (skip) return
    const env = { ROSTER_REDIS_URL: TEST_REDIS_URL, ROSTER_ADMIN_SIGNIN_LIMIT: '3' }
    servers = await Promise.all([startTestServer(env), startTestServer(env)])
  })
  after(async () => {
    if (skip) return
    await Promise.all(servers.map((s) => s.close()))
    for (const key of keysMade) await deleteRedisKeys(`${ADMIN_RATE_LIMIT_NAMESPACE}${key}`)
  })

  const signIn = (i: number, address: string, password = 'wrong password!!', who = email) =>
    servers[i % 2]!.roster.app.inject({ method: 'POST', url: '/admin/api/session', remoteAddress: address, payload: { email: who, password } })

  test('failed sign-ins for one e-mail, spread over both servers and many addresses, reach one limit', async () => {
    const replies: LightMyRequestResponse[] = []
    for (let i = 0; i < 4; i++) replies.push(await signIn(i, otherIps[i]!))
    assert.deepEqual(statuses(replies), [401, 401, 401, 429])
    assert.ok(Number(replies[3]!.headers['retry-after']) > 60, 'the 15-minute window')
  })

  test('sign-in attempts from one address, spread over both servers, reach one limit', async () => {
    const replies: LightMyRequestResponse[] = []
    for (let i = 0; i < 4; i++) replies.push(await signIn(i, ip, 'wrong password!!', otherEmails[i]))
    assert.deepEqual(statuses(replies), [401, 401, 401, 429])
  })
})
