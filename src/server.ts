import type { FastifyInstance } from 'fastify'
import { startAuditPruning } from './audit/audit-retention.js'
import type { Config } from './config.js'
import { composeRoster, type Roster } from './compose.js'
import { buildServer } from './http/build-server.js'
import type { AdminApiDeps } from './http/routes/admin/admin-api.js'
import { ADMIN_RATE_LIMIT_NAMESPACE, SCIM_RATE_LIMIT_NAMESPACE, openRedisRateLimitCounters } from './http/rate-limit-counters.js'
import { SCIM_PREFIX } from './http/request-scope.js'
import { DEFAULT_TENANT } from './store/ports.js'

export interface RunningRoster extends Roster {
  readonly app: FastifyInstance
  /** The SCIM base URL clients use, e.g. http://127.0.0.1:8080/scim/v2. */
  readonly baseUrl: string
  close(): Promise<void>
}

/**
 * Starts Roster: composes it, listens, and on the first start with no token at all creates one and
 * writes the base URL and that token to `out` once (as an admin console's "Generate SCIM token" panel
 * would). The token goes to the terminal, never to the logger.
 */
export async function startServer(config: Config, out: NodeJS.WritableStream = process.stdout): Promise<RunningRoster> {
  const roster = await composeRoster(config)
  // One connection per API, each in its own key namespace, opened together: an unreachable Redis delays the start once.
  const [redis, adminRedis] = config.redisUrl
    ? await Promise.all([
        openRedisRateLimitCounters(config.redisUrl, SCIM_RATE_LIMIT_NAMESPACE, {
          onError: (error) => process.stderr.write(`roster: Redis for SCIM rate limits: ${error.message} (requests go through uncounted meanwhile)\n`),
        }),
        openRedisRateLimitCounters(config.redisUrl, ADMIN_RATE_LIMIT_NAMESPACE, {
          onError: (error) => process.stderr.write(`roster: Redis for admin API rate limits: ${error.message} (each instance counts on its own meanwhile)\n`),
        }),
      ])
    : []
  const app = buildServer({
    provisioning: roster.provisioning,
    tokens: roster.tokens,
    tenants: roster.tenants,
    auditLog: roster.store.audit,
    // A fixed issuer and audience: tokens stay valid whichever host name or instance a client reaches.
    oauth: { clients: roster.oauthClients, ring: roster.signingKeys, issuer: config.oauthIssuer, audience: 'roster-scim' },
    ...(redis ? { rateLimitCounters: redis } : {}),
    bodyLimit: config.bodyLimit,
    maxResults: config.maxResults,
    bulk: { service: roster.bulk, maxOperations: config.bulkMaxOperations, maxPayloadSize: config.bulkMaxPayloadSize },
    trustProxy: config.trustProxy,
    logger: config.logLevel === 'silent' ? false : { level: config.logLevel },
    ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
    admin: { ...adminApiDepsOf(roster), ...(adminRedis ? { rateLimitCounters: adminRedis } : {}) },
  })
  // One atomic check-and-insert: instances starting together on an empty database print one token, not one each.
  const firstToken = await roster.tokens.issueFirstToken(DEFAULT_TENANT, 'initial token')
  await app.listen({ host: config.host, port: config.port })
  const address = app.server.address()
  const port = typeof address === 'object' && address ? address.port : config.port
  const host = config.host.includes(':') ? `[${config.host}]` : config.host
  const baseUrl = `${config.publicUrl ?? `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${port}`}${SCIM_PREFIX}`
  out.write(`\nRoster is running.\n  SCIM base URL: ${baseUrl}\n`)
  if (firstToken) {
    out.write(
      `  SCIM token (shown once, store it now): ${firstToken.token}\n` +
        `  Create more with: npx roster token create --name NAME\n`,
    )
  } else {
    out.write(`  Tokens: npx roster token list | create --name NAME | revoke ID\n`)
  }
  out.write('\n')
  const pruning = startAuditPruning({
    tenants: roster.tenants,
    audit: roster.store.audit,
    onError: (err) => app.log.error({ err }, 'audit retention pass failed'),
  })
  // Expired admin sessions are removed when presented; this removes the ones never presented again.
  const sessionSweep = setInterval(() => {
    roster.adminSessions.deleteExpired().catch((err: unknown) => app.log.error({ err }, 'admin session cleanup failed'))
  }, 3_600_000)
  sessionSweep.unref()
  let closing: Promise<void> | undefined
  const close = () =>
    (closing ??= (async () => {
      await pruning.stop()
      clearInterval(sessionSweep)
      await app.close()
      await roster.notifier.close()
      await Promise.all([redis?.close(), adminRedis?.close()])
      await roster.store.close()
    })())
  return { ...roster, app, baseUrl, close }
}

/** SIGTERM and SIGINT drain in-flight requests (app.close waits for them) and close the store. */
export function closeOnSignals(running: RunningRoster): void {
  const stop = (signal: string) => {
    running.app.log.info({ signal }, 'shutting down')
    running.close().then(
      () => process.exit(0),
      (err: unknown) => {
        running.app.log.error({ err }, 'shutdown failed')
        process.exit(1)
      },
    )
  }
  process.once('SIGTERM', () => stop('SIGTERM'))
  process.once('SIGINT', () => stop('SIGINT'))
}

/** What the admin API needs from a composed Roster, with its limits from the config. */
export function adminApiDepsOf(roster: Roster): AdminApiDeps {
  const { config } = roster
  return {
    actions: roster.actions,
    tenants: roster.tenants,
    tokens: roster.tokens,
    oauthClients: roster.oauthClients,
    admins: roster.admins,
    apiKeys: roster.apiKeys,
    sessions: roster.adminSessions,
    provisioning: roster.provisioning,
    resources: roster.store.resources,
    audit: roster.store.audit,
    maxResults: config.maxResults,
    rateLimitPerMinute: config.adminRateLimitPerMinute,
    signInAttemptsPerWindow: config.adminSignInAttempts,
    ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
  }
}
