#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander'
import { readConfig } from '../config.js'
import { composeRoster, type Roster } from '../compose.js'
import { closeOnSignals, startServer } from '../server.js'
import { DEFAULT_TENANT } from '../store/ports.js'
import { registerAdminCommands, registerAuditCommands, registerOAuthCommands, registerOrganizationCommands } from './admin-commands.js'
import { cliAuditContext } from './cli-audit-context.js'

const program = new Command()
program.name('roster').description('Roster: a SCIM 2.0 provisioning server. Settings come from ROSTER_* environment variables.')

program
  .command('serve')
  .description('start the SCIM server (same as npm start)')
  .action(async () => {
    closeOnSignals(await startServer(readConfig()))
  })

const token = program.command('token').description('create, list and revoke SCIM bearer tokens')

const parseDays = (v: string) => {
  const n = Number(v)
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number of days')
  return n
}

/** How long a command waits for its webhook deliveries (retries included) before exiting anyway. */
const WEBHOOK_WAIT_MS = 15_000

/**
 * Runs a command against the store the server uses (SQLite in WAL mode allows both at once; on
 * PostgreSQL every instance sees the command's writes from its next query). Webhook deliveries the
 * command started are waited for (at most WEBHOOK_WAIT_MS) before the store closes.
 */
async function withRoster<T>(fn: (roster: Roster) => Promise<T>): Promise<T> {
  const roster = await composeRoster(readConfig())
  try {
    return await fn(roster)
  } finally {
    await roster.notifier.drain(WEBHOOK_WAIT_MS)
    await roster.store.close()
  }
}

const orgOption = ['--org <id>', 'the organization', DEFAULT_TENANT] as const

token
  .command('create')
  .description('create a token; it is printed once, alone on the last line')
  .requiredOption('--name <name>', 'what the token is for, e.g. "Okta production"')
  .option('--expires-in-days <days>', 'expire the token after this many days', parseDays)
  .option(...orgOption)
  .action(async (opts: { name: string; expiresInDays?: number; org: string }) => {
    await withRoster(async (roster) => {
      const expiresAt = opts.expiresInDays ? new Date(Date.now() + opts.expiresInDays * 86_400_000) : undefined
      const issued = await roster.actions.issueToken(cliAuditContext('token create'), opts.org, opts.name, expiresAt ? { expiresAt } : {})
      process.stdout.write(`Created token ${issued.record.id} (${issued.record.name}). It is shown once; store it now:\n`)
      process.stdout.write(`${issued.token}\n`)
    })
  })

token
  .command('list')
  .description('list tokens: id, name, created, last used (never the secret)')
  .option('--json', 'print JSON')
  .option(...orgOption)
  .action(async (opts: { json?: boolean; org: string }) => {
    await withRoster(async (roster) => {
      await roster.tenants.get(opts.org)
      const list = await roster.tokens.list(opts.org)
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(list.map(({ hash: _hash, ...rest }) => rest), null, 2)}\n`)
        return
      }
      const rows = [['ID', 'NAME', 'PREFIX', 'CREATED', 'LAST USED', 'EXPIRES', 'STATUS']]
      for (const t of list) {
        const expired = t.expiresAt !== undefined && Date.parse(t.expiresAt) <= Date.now()
        rows.push([t.id, t.name, t.prefix, t.createdAt, t.lastUsedAt ?? 'never', t.expiresAt ?? '-', t.revokedAt ? 'revoked' : expired ? 'expired' : 'active'])
      }
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
      for (const r of rows) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`)
    })
  })

token
  .command('revoke')
  .description('revoke a token; it fails from the next request on')
  .argument('<id>', 'the token id shown by `roster token list`')
  .option(...orgOption)
  .action(async (id: string, opts: { org: string }) => {
    await withRoster(async (roster) => {
      if (!(await roster.actions.revokeToken(cliAuditContext('token revoke'), opts.org, id))) {
        process.stderr.write(`roster: no active token with id ${id}\n`)
        process.exitCode = 1
        return
      }
      process.stdout.write(`Revoked token ${id}\n`)
    })
  })

registerAdminCommands(program, withRoster)
registerOrganizationCommands(program, withRoster)
registerOAuthCommands(program, withRoster)
registerAuditCommands(program, withRoster)

// `roster audit export | head` closes the pipe early: that is the reader being done, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0)
  throw err
})

program.parseAsync(process.argv).catch((err: unknown) => {
  if ((err as NodeJS.ErrnoException).code === 'EPIPE') process.exit(0)
  process.stderr.write(`roster: ${(err as Error).message}\n`)
  process.exit(1)
})
