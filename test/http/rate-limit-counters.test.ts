import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Redis } from 'ioredis'
import { memoryRateLimitCounters, openRedisRateLimitCounters, type RateLimitCounters } from '../../src/http/rate-limit-counters.js'

const REDIS_URL = process.env.ROSTER_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

/** Whether Redis answers; under CI (CI=true) it must (.ci/run starts it), elsewhere the suite is skipped loudly. */
async function redisSkip(): Promise<false | string> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: 2000, retryStrategy: () => null })
  try {
    await client.connect()
    await client.ping()
    return false
  } catch (e) {
    const reason = `${REDIS_URL} is unreachable (${(e as Error).message})`
    if (process.env.CI === 'true') throw new Error(`Redis is required under CI for the shared rate-limit counters: ${reason}`)
    console.warn(`\n*** SKIPPING the Redis rate-limit counters: ${reason}. Set ROSTER_TEST_REDIS_URL or start Redis. ***\n`)
    return reason
  } finally {
    client.disconnect()
  }
}

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
})

describe('Redis rate-limit counters (ROSTER_REDIS_URL): one count shared by every instance', async () => {
  const skip = await redisSkip()
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
    const cleaner = new Redis(REDIS_URL)
    const keys = await cleaner.keys(`${namespace}*`)
    if (keys.length > 0) await cleaner.del(...keys)
    cleaner.disconnect()
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

  test('an unreachable Redis makes consume reject (the SCIM hook then lets the request through)', { skip }, async () => {
    const down = await openRedisRateLimitCounters('redis://127.0.0.1:1', namespace)
    await assert.rejects(Promise.resolve(down.consume('k', 1)))
    await down.close()
  })
})
