import type { FastifyInstance } from 'fastify'
import type { Config } from './config.js'
import { composeRoster, type Roster } from './compose.js'
import { buildServer } from './http/build-server.js'
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
  const app = buildServer({
    provisioning: roster.provisioning,
    tokens: roster.tokens,
    bodyLimit: config.bodyLimit,
    maxResults: config.maxResults,
    bulk: { service: roster.bulk, maxOperations: config.bulkMaxOperations, maxPayloadSize: config.bulkMaxPayloadSize },
    trustProxy: config.trustProxy,
    logger: config.logLevel === 'silent' ? false : { level: config.logLevel },
    ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
  })
  const firstToken = (await roster.tokens.hasAnyToken()) ? undefined : await roster.tokens.issue(DEFAULT_TENANT, 'initial token')
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
  let closing: Promise<void> | undefined
  const close = () =>
    (closing ??= (async () => {
      await app.close()
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
