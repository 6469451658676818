import { Redis } from 'ioredis'

/** The Redis the tests use (ROSTER_TEST_REDIS_URL). */
export const TEST_REDIS_URL = process.env.ROSTER_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

/**
 * The `skip` option of Redis-backed suites: false when Redis answers. Under CI (CI=true) it must (.ci/run
 * starts it) and an unreachable Redis fails the file; elsewhere the suite is skipped with a banner.
 */
export async function redisSkip(what: string): Promise<false | string> {
  const client = new Redis(TEST_REDIS_URL, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: 2000, retryStrategy: () => null })
  try {
    await client.connect()
    await client.ping()
    return false
  } catch (e) {
    const reason = `${TEST_REDIS_URL} is unreachable (${(e as Error).message})`
    if (process.env.CI === 'true') throw new Error(`Redis is required under CI for ${what}: ${reason}`)
    console.warn(`\n*** SKIPPING ${what}: ${reason}. Set ROSTER_TEST_REDIS_URL or start Redis. ***\n`)
    return reason
  } finally {
    client.disconnect()
  }
}

/** Deletes the keys a test left in Redis, by KEYS pattern (test data only: KEYS walks the whole keyspace). */
export async function deleteRedisKeys(pattern: string): Promise<void> {
  const cleaner = new Redis(TEST_REDIS_URL)
  try {
    const keys = await cleaner.keys(pattern)
    if (keys.length > 0) await cleaner.del(...keys)
  } finally {
    cleaner.disconnect()
  }
}
