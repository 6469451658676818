import { WindowRateLimiter, type RateDecision } from './window-rate-limiter.js'

/**
 * Fixed-window request counters per key, shared or not: what the SCIM and admin API rate limits count with.
 * Each key is counted in windows of one length, the windowMs it is always used with (default
 * RATE_LIMIT_WINDOW_MS). A counter that fails (Redis down) rejects: the SCIM hook then lets the request
 * through, the admin API counts in memory instead (withMemoryFallback).
 */
export interface RateLimitCounters {
  /** Counts one request for `key` against `limit` per window; synchronous when the counters are in memory. */
  consume(key: string, limit: number, windowMs?: number): RateDecision | Promise<RateDecision>
  /** Whether one more request for `key` would be within `limit`, without counting it. */
  check(key: string, limit: number, windowMs?: number): RateDecision | Promise<RateDecision>
  /** Forgets `key`'s count (a successful sign-in clears that e-mail's failures). */
  reset(key: string): void | Promise<void>
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
  // The limit is per call (each organization has its own); the one given here is only a default. One
  // limiter per window length, each bounded to maxKeys; the SCIM one is made up front, as it is on every request.
  const minute = new WindowRateLimiter({ limit: 1, windowMs: RATE_LIMIT_WINDOW_MS, ...options })
  const limiters = new Map<number, WindowRateLimiter>([[RATE_LIMIT_WINDOW_MS, minute]])
  const limiterOf = (windowMs: number = RATE_LIMIT_WINDOW_MS): WindowRateLimiter => {
    let limiter = limiters.get(windowMs)
    if (!limiter) limiters.set(windowMs, (limiter = new WindowRateLimiter({ limit: 1, windowMs, ...options })))
    return limiter
  }
  return {
    consume: (key, limit, windowMs) => (windowMs === undefined ? minute : limiterOf(windowMs)).consume(key, limit),
    check: (key, limit, windowMs) => limiterOf(windowMs).check(key, limit),
    reset: (key) => {
      for (const limiter of limiters.values()) limiter.reset(key)
    },
    close: async () => {},
  }
}

/**
 * `shared` counters (Redis) that count in this process's memory while they fail, for the admin API's limits,
 * which guard against password guessing: with Redis unreachable each instance still counts on its own (as
 * without Redis) rather than letting every attempt through, and admins are not locked out either. Closing
 * `shared` stays with whoever opened it; close() here does nothing.
 */
export function withMemoryFallback(shared: RateLimitCounters, memory: RateLimitCounters = memoryRateLimitCounters()): RateLimitCounters {
  const either = async (onShared: () => RateDecision | Promise<RateDecision>, inMemory: () => RateDecision | Promise<RateDecision>) => {
    try {
      return await onShared()
    } catch {
      return inMemory()
    }
  }
  return {
    consume: (key, limit, windowMs) => either(() => shared.consume(key, limit, windowMs), () => memory.consume(key, limit, windowMs)),
    check: (key, limit, windowMs) => either(() => shared.check(key, limit, windowMs), () => memory.check(key, limit, windowMs)),
    reset: async (key) => {
      await memory.reset(key)
      try {
        await shared.reset(key)
      } catch {
        // Left counted in Redis, the key's window still ends by itself.
      }
    },
    close: async () => {},
  }
}

/** The part of an ioredis client the shared counters use. */
interface RedisClient {
  defineCommand(name: string, definition: { numberOfKeys: number; lua: string }): void
  del(key: string): Promise<number>
  once(event: 'ready' | 'error', listener: (error?: Error) => void): unknown
  on(event: 'error', listener: (error: Error) => void): unknown
  readonly status: string
  quit(): Promise<unknown>
  disconnect(): void
}

type CountCommand = (key: string, windowMs: number) => Promise<[number, number]>
type PeekCommand = (key: string) => Promise<[number, number]>

// INCR, with the window's expiry set by the request that opens it; answers the count and the ms left.
const COUNT_LUA = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}
`

// The count and the ms left, without counting: 0 and a negative PTTL when no window is open.
const PEEK_LUA = `
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
return {n, redis.call('PTTL', KEYS[1])}
`

/** Where in Redis the SCIM API's counters are kept (one key per credential). */
export const SCIM_RATE_LIMIT_NAMESPACE = 'roster-scim-rate-limit:'
/** Where in Redis the admin API's are: per session or API key, sign-in attempts per IP address, failures per e-mail. */
export const ADMIN_RATE_LIMIT_NAMESPACE = 'roster-admin-rate-limit:'

/**
 * Counters in Redis (ROSTER_REDIS_URL), shared by every instance: one key per credential and window, in one
 * round trip. ioredis is loaded only then and is not a dependency of Roster: a deployment that sets the URL
 * installs it (`npm install ioredis`). Commands fail fast while Redis is unreachable (no offline queue): the
 * SCIM hook lets such a request through uncounted, the admin API counts it in memory (withMemoryFallback).
 */
export async function openRedisRateLimitCounters(
  url: string,
  namespace = SCIM_RATE_LIMIT_NAMESPACE,
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
  client.defineCommand('rosterPeek', { numberOfKeys: 1, lua: PEEK_LUA })
  const commands = client as unknown as { rosterCount: CountCommand; rosterPeek: PeekCommand }
  const count = commands.rosterCount.bind(client)
  const peek = commands.rosterPeek.bind(client)
  return {
    async consume(key, limit, windowMs = RATE_LIMIT_WINDOW_MS) {
      const [n, ttl] = await count(`${namespace}${key}`, windowMs)
      return { allowed: n <= limit, limit, remaining: Math.max(0, limit - n), retryAfterSeconds: Math.max(1, Math.ceil(ttl / 1000)) }
    },
    async check(key, limit, windowMs = RATE_LIMIT_WINDOW_MS) {
      const [n, ttl] = await peek(`${namespace}${key}`)
      const msLeft = ttl > 0 ? ttl : windowMs
      return { allowed: n < limit, limit, remaining: Math.max(0, limit - n), retryAfterSeconds: Math.max(1, Math.ceil(msLeft / 1000)) }
    },
    async reset(key) {
      await client.del(`${namespace}${key}`)
    },
    async close() {
      if (client.status === 'ready') await client.quit().catch(() => undefined)
      else client.disconnect()
    },
  }
}

/** One limit counted in RateLimitCounters, with keys of its own (a prefix), its limit and its window. */
export interface RateLimit {
  consume(key: string): Promise<RateDecision>
  check(key: string): Promise<RateDecision>
  reset(key: string): Promise<void>
}

export function rateLimitOf(counters: RateLimitCounters, spec: { readonly prefix: string; readonly limit: number; readonly windowMs: number }): RateLimit {
  const { prefix, limit, windowMs } = spec
  return {
    consume: async (key) => counters.consume(`${prefix}${key}`, limit, windowMs),
    check: async (key) => counters.check(`${prefix}${key}`, limit, windowMs),
    reset: async (key) => counters.reset(`${prefix}${key}`),
  }
}
