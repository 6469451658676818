import { fastifyRateLimit } from '@fastify/rate-limit'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { tooManyRequests } from '../../scim/index.js'

export interface ScimRateLimitOptions {
  /** Requests per minute the organization allows each of its credentials (scimRateLimitPerMinute). */
  readonly limitFor: (tenant: string) => Promise<number>
  /**
   * An ioredis client (see openRateLimitRedis): counters shared by every instance. Without it each
   * instance counts in its own memory, so N instances allow up to N times the limit.
   */
  readonly redis?: unknown
}

const WINDOW_MS = 60_000

/** The credential a request is counted against: the organization and the actor (token id or client_id). */
function keyOf(request: FastifyRequest): string {
  const identity = request.identity
  // Every route of the scope authenticates first (onRequest), so identity is set by preParsing; the IP is
  // a fallback that never applies to a request that reached this hook unauthenticated.
  return identity ? `${identity.tenant}\u0000${identity.actor.type}\u0000${identity.actor.id}` : `ip\u0000${request.ip}`
}

/**
 * Rate limits on the SCIM API, per token or OAuth client (not per IP: an IdP's requests come from many
 * addresses, and several IdPs may share one), at the organization's scimRateLimitPerMinute. Runs at
 * preParsing, after authentication and before the body is read, so a client over its limit costs no
 * body parsing. Over the limit: 429 with Retry-After and a SCIM error body (thrown to the scope's error
 * handler, like every other error). Registered once for both mounts of the SCIM API (/scim/v2 and
 * /o/{org}/scim/v2), so one credential has one counter whichever URL it uses.
 */
export async function registerScimRateLimit(app: FastifyInstance, options: ScimRateLimitOptions): Promise<void> {
  await app.register(fastifyRateLimit, {
    global: true,
    hook: 'preParsing',
    timeWindow: WINDOW_MS,
    max: async (request: FastifyRequest) => (request.identity ? options.limitFor(request.identity.tenant) : 60),
    keyGenerator: keyOf,
    // A counter store that is down (Redis) must not stop provisioning: the request goes through.
    skipOnError: true,
    errorResponseBuilder: (_request, context) =>
      tooManyRequests(`Too many requests: this credential may send ${context.max} requests per minute; retry in ${context.after}`),
    ...(options.redis ? { redis: options.redis, nameSpace: 'roster-scim-rate-limit:' } : {}),
  })
}

/**
 * Connects to Redis for shared rate-limit counters (ROSTER_REDIS_URL). ioredis is loaded only then and is
 * not a dependency of Roster: a deployment that sets the URL installs it (`npm install ioredis`).
 */
export async function openRateLimitRedis(url: string): Promise<{ readonly client: unknown; close(): Promise<void> }> {
  const specifier = 'ioredis'
  let Redis: new (url: string, options: object) => { quit(): Promise<unknown> }
  try {
    const loaded = (await import(specifier)) as { default: typeof Redis }
    Redis = loaded.default
  } catch {
    throw new Error('ROSTER_REDIS_URL is set, but the ioredis package is not installed: run `npm install ioredis`')
  }
  // Commands fail fast while Redis is unreachable, so requests go through uncounted instead of queueing.
  const client = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2_000 })
  return {
    client,
    async close() {
      await client.quit().catch(() => undefined)
    },
  }
}
