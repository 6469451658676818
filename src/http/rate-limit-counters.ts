import { WindowRateLimiter, type RateDecision } from './window-rate-limiter.js'

/**
 * Fixed-window request counters per key, shared or not: what the SCIM rate limit counts with. A counter that
 * fails (Redis down) must not stop provisioning: callers let the request through.
 */
export interface RateLimitCounters {
  /** Counts one request for `key` against `limit` per window; synchronous when the counters are in memory. */
  consume(key: string, limit: number): RateDecision | Promise<RateDecision>
  close(): Promise<void>
}

export const RATE_LIMIT_WINDOW_MS = 60_000

/**
 * Counters in this process's memory: with several instances each counts its own requests, so N instances
 * allow up to N times the limit. Synchronous, so the SCIM hook spends no promise on it (a plugin doing the
 * same, @fastify/rate-limit with its async store and own hooks, measured 16 µs a request here: about as much
 * as a whole bare Fastify GET on these machines).
 */
export function memoryRateLimitCounters(options: { clock?: () => number; maxKeys?: number } = {}): RateLimitCounters {
  // The limit is per call (each organization has its own); the one given here is only a default.
  const limiter = new WindowRateLimiter({ limit: 1, windowMs: RATE_LIMIT_WINDOW_MS, ...options })
  return { consume: (key, limit) => limiter.consume(key, limit), close: async () => {} }
}

/** The part of an ioredis client the shared counters use. */
interface RedisClient {
  defineCommand(name: string, definition: { numberOfKeys: number; lua: string }): void
  once(event: 'ready' | 'error', listener: (error?: Error) => void): unknown
  on(event: 'error', listener: (error: Error) => void): unknown
  readonly status: string
  quit(): Promise<unknown>
  disconnect(): void
}

type CountCommand = (key: string, windowMs: number) => Promise<[number, number]>

// INCR, with the window's expiry set by the request that opens it; answers the count and the ms left.
const COUNT_LUA = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}
`

/**
 * Counters in Redis (ROSTER_REDIS_URL), shared by every instance: one key per credential and window, in one
 * round trip. ioredis is loaded only then and is not a dependency of Roster: a deployment that sets the URL
 * installs it (`npm install ioredis`). Commands fail fast while Redis is unreachable (no offline queue), and
 * the caller lets such a request through uncounted.
 */
export async function openRedisRateLimitCounters(
  url: string,
  namespace = 'roster-scim-rate-limit:',
  options: { readonly onError?: (error: Error) => void } = {},
): Promise<RateLimitCounters> {
  const specifier = 'ioredis'
  let Redis: new (url: string, options: object) => RedisClient
  try {
    const loaded = (await import(specifier)) as { default: typeof Redis }
    Redis = loaded.default
  } catch {
    throw new Error('ROSTER_REDIS_URL is set, but the ioredis package is not installed: run `npm install ioredis`')
  }
  const client = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2_000 })
  // ioredis reconnects by itself; each failed attempt is an 'error' event, which must have a listener.
  let lastReport = 0
  client.on('error', (error) => {
    if (Date.now() - lastReport < 60_000) return
    lastReport = Date.now()
    options.onError?.(error)
  })
  // Commands sent before the connection is up would fail (no offline queue): wait for it a little, so the
  // first requests are counted. Redis down at start does not stop Roster: requests go through uncounted
  // until it is back.
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 2_500)
    const done = () => {
      clearTimeout(timer)
      resolve()
    }
    client.once('ready', done)
    client.once('error', done)
  })
  client.defineCommand('rosterCount', { numberOfKeys: 1, lua: COUNT_LUA })
  const count = (client as unknown as { rosterCount: CountCommand }).rosterCount.bind(client)
  return {
    async consume(key, limit) {
      const [n, ttl] = await count(`${namespace}${key}`, RATE_LIMIT_WINDOW_MS)
      return { allowed: n <= limit, limit, remaining: Math.max(0, limit - n), retryAfterSeconds: Math.max(1, Math.ceil(ttl / 1000)) }
    },
    async close() {
      if (client.status === 'ready') await client.quit().catch(() => undefined)
      else client.disconnect()
    },
  }
}
