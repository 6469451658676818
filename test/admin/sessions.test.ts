import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import {
  AdminSessionService,
  clearSessionCookie,
  csrfTokenFor,
  isSameOriginRequest,
  readSessionCookie,
  requiresCsrfToken,
  sessionCookie,
  verifyCsrfToken,
} from '../../src/admin/sessions.js'
import { MemoryAdminSessionStore } from './memory-admin-session-store.js'
import { FakeClock } from '../oauth/fake-clock.js'

const MINUTE = 60_000

function setup() {
  const clock = new FakeClock()
  const store = new MemoryAdminSessionStore()
  const sessions = new AdminSessionService(store, { clock: clock.now, idleTimeoutMs: 30 * MINUTE, absoluteTimeoutMs: 12 * 60 * MINUTE, touchIntervalMs: MINUTE })
  return { clock, store, sessions }
}

describe('AdminSessionService', () => {
  test('a new session: 256-bit id, stored only as its SHA-256', async () => {
    const { store, sessions } = setup()
    const { sessionId, csrfToken, record } = await sessions.create('admin-1', { ip: '192.0.2.1', userAgent: 'Firefox' })
    assert.match(sessionId, /^[A-Za-z0-9_-]{43}$/)
    assert.equal(Buffer.from(sessionId, 'base64url').length, 32)
    assert.equal(record.idHash, createHash('sha256').update(sessionId).digest('hex'))
    assert.equal(csrfToken, csrfTokenFor(sessionId))
    const stored = JSON.stringify([...store.sessions.values()])
    assert.ok(!stored.includes(sessionId), 'the session id is not stored')
    assert.ok(!stored.includes(csrfToken), 'the CSRF token is not stored')
  })

  test('every session gets a new id and its own CSRF token', async () => {
    const { sessions } = setup()
    const a = await sessions.create('admin-1')
    const b = await sessions.create('admin-1')
    assert.notEqual(a.sessionId, b.sessionId)
    assert.notEqual(a.csrfToken, b.csrfToken)
  })

  test('validate: the admin and the session\'s CSRF token', async () => {
    const { sessions } = setup()
    const { sessionId, csrfToken } = await sessions.create('admin-1')
    const valid = await sessions.validate(sessionId)
    assert.equal(valid?.adminId, 'admin-1')
    assert.equal(valid?.csrfToken, csrfToken)
  })

  for (const cookie of [undefined, '', 'x', 'A'.repeat(43), 'A'.repeat(44), '../../etc/passwd']) {
    test(`validate refuses ${JSON.stringify(cookie)}`, async () => {
      const { sessions } = setup()
      await sessions.create('admin-1')
      assert.equal(await sessions.validate(cookie), undefined)
    })
  }

  test('sliding expiry: use keeps the session alive, 30 idle minutes end it', async () => {
    const { sessions, store, clock } = setup()
    const { sessionId } = await sessions.create('admin-1')
    for (let i = 0; i < 4; i++) {
      clock.advance(29 * MINUTE)
      assert.ok(await sessions.validate(sessionId), `alive after ${(i + 1) * 29} minutes of regular use`)
    }
    clock.advance(30 * MINUTE)
    assert.equal(await sessions.validate(sessionId), undefined)
    assert.equal(store.sessions.size, 0, 'an expired session is deleted when seen')
  })

  test('the absolute limit ends even a busy session', async () => {
    const { sessions, clock } = setup()
    const { sessionId } = await sessions.create('admin-1')
    for (let minutes = 10; minutes < 12 * 60; minutes += 10) {
      clock.advance(10 * MINUTE)
      assert.ok(await sessions.validate(sessionId), `alive at ${minutes} minutes`)
    }
    clock.advance(10 * MINUTE)
    assert.equal(await sessions.validate(sessionId), undefined)
  })

  test('the sliding expiry is written at most once a minute and never past the absolute limit', async () => {
    const { sessions, store, clock } = setup()
    const { sessionId, record } = await sessions.create('admin-1')
    for (let i = 0; i < 10; i++) await sessions.validate(sessionId)
    assert.equal(store.touches, 0)
    clock.advance(MINUTE)
    await sessions.validate(sessionId)
    assert.equal(store.touches, 1)
    // Used every 10 minutes for almost 12 hours: by then now + 30 idle minutes passes the absolute limit, which wins.
    let late
    for (let minutes = 11; minutes <= 11 * 60 + 50; minutes += 10) {
      clock.advance(10 * MINUTE)
      late = await sessions.validate(sessionId)
    }
    assert.equal(late?.record.expiresAt, record.absoluteExpiresAt)
  })

  test('sign-out ends the session at once; destroyAllOf ends every session of an admin', async () => {
    const { sessions } = setup()
    const a = await sessions.create('admin-1')
    const b = await sessions.create('admin-1')
    const c = await sessions.create('admin-2')
    await sessions.destroy(a.sessionId)
    assert.equal(await sessions.validate(a.sessionId), undefined)
    assert.ok(await sessions.validate(b.sessionId))
    assert.equal(await sessions.destroyAllOf('admin-1'), 1)
    assert.equal(await sessions.validate(b.sessionId), undefined)
    assert.ok(await sessions.validate(c.sessionId))
  })

  test('destroyOthersOf ends every session of an admin but the kept one (a password change)', async () => {
    const { sessions } = setup()
    const kept = await sessions.create('admin-1')
    const stolen = await sessions.create('admin-1')
    const other = await sessions.create('admin-2')
    assert.equal(await sessions.destroyOthersOf('admin-1', kept.sessionId), 1)
    assert.ok(await sessions.validate(kept.sessionId))
    assert.equal(await sessions.validate(stolen.sessionId), undefined)
    assert.ok(await sessions.validate(other.sessionId))
  })

  test('deleteExpired removes idle sessions only', async () => {
    const { sessions, clock } = setup()
    const old = await sessions.create('admin-1')
    clock.advance(20 * MINUTE)
    const recent = await sessions.create('admin-2')
    clock.advance(15 * MINUTE)
    assert.equal(await sessions.deleteExpired(), 1)
    assert.equal(await sessions.validate(old.sessionId), undefined)
    assert.ok(await sessions.validate(recent.sessionId))
  })
})

describe('CSRF token', () => {
  test('the session\'s own token matches', async () => {
    const { sessions } = setup()
    const { sessionId, csrfToken } = await sessions.create('admin-1')
    assert.equal(verifyCsrfToken(sessionId, csrfToken), true)
  })

  const refused: { name: string; presented: (own: string, other: string) => string | undefined }[] = [
    { name: 'no token', presented: () => undefined },
    { name: 'an empty token', presented: () => '' },
    { name: "another session's token", presented: (_own, other) => other },
    { name: 'the token with its last character changed', presented: (own) => `${own.slice(0, -1)}${own.endsWith('A') ? 'B' : 'A'}` },
    { name: 'the token cut short', presented: (own) => own.slice(0, 20) },
    { name: 'the token with a suffix', presented: (own) => `${own}x` },
    { name: 'the session id itself', presented: () => 'SESSION' },
    { name: 'a very long token', presented: () => 'A'.repeat(10_000) },
  ]
  for (const { name, presented } of refused) {
    test(`refuses ${name}`, async () => {
      const { sessions } = setup()
      const own = await sessions.create('admin-1')
      const other = await sessions.create('admin-1')
      const p = presented(own.csrfToken, other.csrfToken)
      assert.equal(verifyCsrfToken(own.sessionId, p === 'SESSION' ? own.sessionId : p), false)
    })
  }

  test('the token reveals nothing of the session id it is derived from', async () => {
    const { sessions } = setup()
    const { sessionId, csrfToken } = await sessions.create('admin-1')
    assert.notEqual(csrfToken, sessionId)
    assert.ok(!csrfToken.includes(sessionId.slice(0, 8)))
  })

  const methods: [string, boolean][] = [
    ['GET', false],
    ['HEAD', false],
    ['OPTIONS', false],
    ['get', false],
    ['POST', true],
    ['PUT', true],
    ['PATCH', true],
    ['DELETE', true],
  ]
  for (const [method, required] of methods) {
    test(`${method} ${required ? 'needs' : 'does not need'} a CSRF token`, () => assert.equal(requiresCsrfToken(method), required))
  }
})

describe('isSameOriginRequest', () => {
  const ORIGINS = ['https://roster.example.com']
  const cases: { name: string; headers: { origin?: string; secFetchSite?: string }; expected: boolean }[] = [
    { name: 'Sec-Fetch-Site same-origin', headers: { secFetchSite: 'same-origin', origin: 'https://roster.example.com' }, expected: true },
    { name: 'Sec-Fetch-Site cross-site, even with a forged-looking Origin', headers: { secFetchSite: 'cross-site', origin: 'https://roster.example.com' }, expected: false },
    { name: 'Sec-Fetch-Site same-site (a sibling subdomain)', headers: { secFetchSite: 'same-site' }, expected: false },
    { name: 'Origin only, ours', headers: { origin: 'https://roster.example.com' }, expected: true },
    { name: 'Origin only, another', headers: { origin: 'https://evil.example' }, expected: false },
    { name: 'Origin null (sandboxed frame, file:)', headers: { origin: 'null' }, expected: false },
    { name: 'neither header', headers: {}, expected: false },
  ]
  for (const { name, headers, expected } of cases) {
    test(`${expected ? 'accepts' : 'refuses'} ${name}`, () => assert.equal(isSameOriginRequest(headers, ORIGINS), expected))
  }
})

describe('session cookie', () => {
  test('HTTPS: __Host- prefix, HttpOnly, SameSite=Strict, Secure, Path=/', () => {
    assert.equal(
      sessionCookie('abc', { secure: true, maxAgeSeconds: 43_200 }),
      '__Host-roster_admin=abc; Path=/; HttpOnly; SameSite=Strict; Secure; Max-Age=43200',
    )
  })

  test('plain HTTP (local use): no prefix, no Secure', () => {
    assert.equal(sessionCookie('abc', { secure: false }), 'roster_admin=abc; Path=/; HttpOnly; SameSite=Strict')
  })

  test('sign-out clears the cookie', () => {
    assert.equal(clearSessionCookie({ secure: true }), '__Host-roster_admin=; Path=/; HttpOnly; SameSite=Strict; Secure; Max-Age=0')
  })

  const reads: { header: string | undefined; secure: boolean; expected: string | undefined }[] = [
    { header: '__Host-roster_admin=abc', secure: true, expected: 'abc' },
    { header: 'theme=dark; __Host-roster_admin=abc; lang=en', secure: true, expected: 'abc' },
    { header: 'roster_admin=abc', secure: true, expected: undefined },
    { header: 'x__Host-roster_admin=abc', secure: true, expected: undefined },
    { header: 'roster_admin=abc', secure: false, expected: 'abc' },
    { header: undefined, secure: true, expected: undefined },
  ]
  for (const { header, secure, expected } of reads) {
    test(`reads ${JSON.stringify(header)} (${secure ? 'https' : 'http'}) as ${JSON.stringify(expected)}`, () => {
      assert.equal(readSessionCookie(header, secure), expected)
    })
  }
})
