import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { memoryRateLimitCounters, openRedisRateLimitCounters, withMemoryFallback, type RateLimitCounters } from '../../src/http/rate-limit-counters.js'
import { TEST_REDIS_URL as REDIS_URL, deleteRedisKeys, redisSkip } from '../redis-harness.js'

describe('memory rate-limit counters', () => {
  test('count per key against the limit each call names, with the seconds left in the window', () => {
    let now = 1_000_000
    const counters = memoryRateLimitCounters({ clock: () => now })
    const decisions = [1, 2, 3].map(() => counters.consume('tenant\u0000token\u0000a', 2))
    assert.deepEqual(
      decisions.map((d) => !(d instanceof Promise) && [d.allowed, d.limit, d.remaining, d.retryAfterSeconds]),
      [
        [true, 2, 1, 60],
        [true, 2, 0, 60],
        [false, 2, 0, 60],
      ],
    )
    const other = counters.consume('tenant\u0000token\u0000b', 2)
    assert.ok(!(other instanceof Promise) && other.allowed, 'another key has its own window')
    now += 60_000
    const next = counters.consume('tenant\u0000token\u0000a', 2)
    assert.ok(!(next instanceof Promise) && next.allowed && next.remaining === 1, 'a new window starts after 60 s')
  })

  test('a key counted in 15-minute windows (sign-in attempts) outlives a minute', async () => {
    let now = 1_000_000
    const counters = memoryRateLimitCounters({ clock: () => now })
    const quarter = 15 * 60_000
    await counters.consume('signin-ip:192.0.2.1', 1, quarter)
    now += 60_000
    const refused = await counters.consume('signin-ip:192.0.2.1', 1, quarter)
    assert.deepEqual([refused.allowed, refused.retryAfterSeconds], [false, 840])
    now += 14 * 60_000
    assert.equal((await counters.consume('signin-ip:192.0.2.1', 1, quarter)).allowed, true, 'a new window after 15 minutes')
  })

  test('check does not count; reset forgets the key', async () => {
    const counters = memoryRateLimitCounters()
    const quarter = 15 * 60_000
    assert.deepEqual(await counters.check('signin-failures:a@example.com', 2, quarter), { allowed: true, limit: 2, remaining: 2, retryAfterSeconds: 900 })
    await counters.consume('signin-failures:a@example.com', 2, quarter)
    assert.equal((await counters.check('signin-failures:a@example.com', 2, quarter)).allowed, true)
    await counters.consume('signin-failures:a@example.com', 2, quarter)
    assert.equal((await counters.check('signin-failures:a@example.com', 2, quarter)).allowed, false)
    await counters.reset('signin-failures:a@example.com')
    assert.equal((await counters.check('signin-failures:a@example.com', 2, quarter)).remaining, 2)
  })
})

describe('withMemoryFallback: the admin API keeps counting while Redis is unreachable', () => {
  test('an unreachable Redis is replaced by this process\'s memory: the limit still holds, check and reset work', async () => {
    const down = await openRedisRateLimitCounters('redis://127.0.0.1:1', 'roster-test-down:')
    try {
      const counters = withMemoryFallback(down)
      const decisions = [await counters.consume('k', 2), await counters.consume('k', 2), await counters.consume('k', 2)]
      assert.deepEqual(
        decisions.map((d) => d.allowed),
        [true, true, false],
      )
      assert.equal((await counters.check('k', 2)).allowed, false)
      await counters.reset('k')
      assert.equal((await counters.check('k', 2)).allowed, true)
    } finally {
      await down.close()
    }
  })
})

describe('Redis rate-limit counters (ROSTER_REDIS_URL): one count shared by every instance', async () => {
  const skip = await redisSkip('the Redis rate-limit counters')
  let first: RateLimitCounters
  let second: RateLimitCounters
  const namespace = `roster-test-${process.pid}-${Date.now().toString(36)}:`
  before(async () => {
    if (skip) return
    first = await openRedisRateLimitCounters(REDIS_URL, namespace)
    second = await openRedisRateLimitCounters(REDIS_URL, namespace)
  })
  after(async () => {
    if (skip) return
    await deleteRedisKeys(`${namespace}*`)
    await first.close()
    await second.close()
  })

  test('two instances count one credential together', { skip }, async () => {
    const key = 'default\u0000token\u0000shared'
    const seen = [await first.consume(key, 3), await second.consume(key, 3), await first.consume(key, 3), await second.consume(key, 3)]
    assert.deepEqual(
      seen.map((d) => [d.allowed, d.remaining]),
      [
        [true, 2],
        [true, 1],
        [true, 0],
        [false, 0],
      ],
    )
    assert.ok(seen.every((d) => d.retryAfterSeconds >= 1 && d.retryAfterSeconds <= 60))
  })

  test('other credentials have counters of their own', { skip }, async () => {
    assert.equal((await first.consume('default\u0000token\u0000other', 1)).allowed, true)
    assert.equal((await second.consume('default\u0000oauthClient\u0000other', 1)).allowed, true)
  })

  test('check reads a count another instance made without counting; reset clears it for every instance', { skip }, async () => {
    const quarter = 15 * 60_000
    const key = 'signin-failures:shared@example.com'
    assert.deepEqual(await second.check(key, 2, quarter), { allowed: true, limit: 2, remaining: 2, retryAfterSeconds: 900 }, 'no window open yet')
    await first.consume(key, 2, quarter)
    await first.consume(key, 2, quarter)
    const seen = await second.check(key, 2, quarter)
    assert.deepEqual([seen.allowed, seen.remaining], [false, 0])
    assert.ok(seen.retryAfterSeconds > 60 && seen.retryAfterSeconds <= 900, `a 15-minute window: Retry-After ${seen.retryAfterSeconds}`)
    assert.equal((await second.check(key, 2, quarter)).remaining, 0, 'check counted nothing')
    await second.reset(key)
    assert.equal((await first.check(key, 2, quarter)).allowed, true)
  })

  test('an unreachable Redis makes consume reject (the SCIM hook then lets the request through)', { skip }, async () => {
    const down = await openRedisRateLimitCounters('redis://127.0.0.1:1', namespace)
    await assert.rejects(Promise.resolve(down.consume('k', 1)))
    await down.close()
  })
})
