import { pipeline } from 'node:stream/promises'
import { InvalidArgumentError, type Command } from 'commander'
import { toAdminView } from '../admin/admin-accounts.js'
import { ADMIN_ROLES, isAdminRole, type AdminRole } from '../admin/roles.js'
import type { AuditExportFormat } from '../audit/export-audit.js'
import type { Roster } from '../compose.js'
import { scimBaseUrlOf, tokenEndpointOf } from '../http/routes/admin/admin-api.js'
import { cliAuditContext } from './cli-audit-context.js'
import { promptNewPassword, readPasswordFromStdin } from './read-password.js'

export type WithRoster = <T>(fn: (roster: Roster) => Promise<T>) => Promise<T>

const out = (text: string) => process.stdout.write(text)

/** Rows as aligned columns, the first row being the header (as `token list` prints). */
export function printTable(rows: readonly (readonly string[])[]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  for (const r of rows) out(`${r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`)
}

const parseRole = (v: string): AdminRole => {
  if (!isAdminRole(v)) throw new InvalidArgumentError(`expected one of ${ADMIN_ROLES.join(', ')}`)
  return v
}

const parseIsoTime = (v: string): string => {
  const t = new Date(v)
  if (!/^\d{4}-\d{2}-\d{2}/.test(v) || Number.isNaN(t.getTime())) throw new InvalidArgumentError('expected an ISO 8601 date or date-time, e.g. 2025-01-31T00:00:00Z')
  return t.toISOString()
}

const parseFormat = (v: string): AuditExportFormat => {
  if (v !== 'ndjson' && v !== 'csv') throw new InvalidArgumentError('expected ndjson or csv')
  return v
}

/** Where clients reach the server, for the URLs the CLI prints: ROSTER_PUBLIC_URL, else host and port. */
function originOf(roster: Roster): string {
  const { publicUrl, host, port } = roster.config
  if (publicUrl) return publicUrl
  const h = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host
  return `http://${h}:${port}`
}

/** `roster admin create|password|list`: admin accounts of the admin API; the first one can only be made here. */
export function registerAdminCommands(program: Command, withRoster: WithRoster): void {
  const admin = program.command('admin').description('admin accounts of the admin API and console')

  admin
    .command('create')
    .description('create an admin (the first one is created this way); the password is asked for without echo')
    .requiredOption('--email <email>', 'the e-mail address the admin signs in with')
    .requiredOption('--role <role>', `one of ${ADMIN_ROLES.join(', ')}`, parseRole)
    .option('--org <id>', 'limit the admin to this one organization')
    .option('--name <name>', 'a display name')
    .option('--password-stdin', 'read the password from stdin instead of asking for it')
    .action(async (opts: { email: string; role: AdminRole; org?: string; name?: string; passwordStdin?: boolean }) => {
      // Asked for before the store opens: a person typing must not hold a database connection.
      const password = opts.passwordStdin ? await readPasswordFromStdin() : await promptNewPassword()
      await withRoster(async (roster) => {
        const created = await roster.actions.createAdmin(cliAuditContext('admin create'), {
          email: opts.email,
          password,
          role: opts.role,
          ...(opts.name ? { name: opts.name } : {}),
          ...(opts.org ? { tenant: opts.org } : {}),
        })
        out(`Created admin ${created.id} (${created.email}, ${created.role}${created.tenant ? `, organization ${created.tenant} only` : ''})\n`)
        out(`Admin API: ${originOf(roster)}/admin/api (sign in with POST /admin/api/session)\n`)
      })
    })

  admin
    .command('password')
    .description("set an admin's password without the current one (recovery); ends every session of that admin")
    .requiredOption('--email <email>', 'the e-mail address the admin signs in with')
    .option('--password-stdin', 'read the new password from stdin instead of asking for it')
    .action(async (opts: { email: string; passwordStdin?: boolean }) => {
      const password = opts.passwordStdin ? await readPasswordFromStdin() : await promptNewPassword()
      await withRoster(async (roster) => {
        const { admin: changed, sessionsEnded } = await roster.actions.setAdminPassword(cliAuditContext('admin password'), opts.email, password)
        out(`Set the password of admin ${changed.id} (${changed.email}); ${sessionsEnded} session${sessionsEnded === 1 ? '' : 's'} ended\n`)
        if (changed.disabledAt) out(`The admin is disabled: an owner enables it again with PATCH /admin/api/admins/${changed.id} {"disabled": false}\n`)
      })
    })

  admin
    .command('list')
    .description('list admins (never their password hashes)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withRoster(async (roster) => {
        const list = (await roster.admins.list()).map(toAdminView)
        if (opts.json) return void out(`${JSON.stringify(list, null, 2)}\n`)
        printTable([['ID', 'EMAIL', 'ROLE', 'ORGANIZATION', 'CREATED', 'STATUS'], ...list.map((a) => [a.id, a.email, a.role, a.tenant ?? '(all)', a.createdAt, a.disabledAt ? 'disabled' : 'active'])])
      })
    })
}

/** `roster org create|list|rename|remove`: organizations, each with its own SCIM base URL. */
export function registerOrganizationCommands(program: Command, withRoster: WithRoster): void {
  const org = program.command('org').description('create, list, rename and remove organizations')

  org
    .command('create')
    .description('create an organization; its SCIM base URL is /o/ID/scim/v2')
    .argument('<id>', 'lower-case letters, digits and hyphens, e.g. acme')
    .requiredOption('--name <name>', 'its display name')
    .action(async (id: string, opts: { name: string }) => {
      await withRoster(async (roster) => {
        const created = await roster.actions.createOrganization(cliAuditContext('org create'), id, opts.name)
        out(`Created organization ${created.id} (${created.name})\n  SCIM base URL: ${scimBaseUrlOf(originOf(roster), created.id)}\n`)
        out(`  Create its first token with: npx roster token create --org ${created.id} --name NAME\n`)
      })
    })

  org
    .command('list')
    .description('list organizations')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withRoster(async (roster) => {
        const list = await roster.tenants.list()
        if (opts.json) return void out(`${JSON.stringify(list.map(({ id, name, createdAt }) => ({ id, name, createdAt, scimBaseUrl: scimBaseUrlOf(originOf(roster), id) })), null, 2)}\n`)
        printTable([['ID', 'NAME', 'CREATED', 'SCIM BASE URL'], ...list.map((t) => [t.id, t.name, t.createdAt, scimBaseUrlOf(originOf(roster), t.id)])])
      })
    })

  org
    .command('rename')
    .description('change the display name of an organization (its id and URL stay)')
    .argument('<id>')
    .argument('<name>')
    .action(async (id: string, name: string) => {
      await withRoster(async (roster) => {
        const renamed = await roster.actions.renameOrganization(cliAuditContext('org rename'), id, name)
        out(`Renamed organization ${renamed.id} to ${renamed.name}\n`)
      })
    })

  org
    .command('remove')
    .description('remove an organization and everything it holds: users, groups, tokens, OAuth clients, audit log')
    .argument('<id>')
    .action(async (id: string) => {
      await withRoster(async (roster) => {
        await roster.actions.removeOrganization(cliAuditContext('org remove'), id)
        out(`Removed organization ${id}\n`)
      })
    })
}

/** `roster oauth client create|list|revoke` and `roster oauth rotate-keys`. */
export function registerOAuthCommands(program: Command, withRoster: WithRoster): void {
  const oauth = program.command('oauth').description('OAuth 2.0 clients (client credentials grant) and signing keys')
  const client = oauth.command('client').description('create, list and revoke the OAuth clients of an organization')

  client
    .command('create')
    .description('create an OAuth client; its secret is printed once')
    .requiredOption('--org <id>', 'the organization')
    .requiredOption('--name <name>', 'what the client is for')
    .option('--scope <scope...>', 'scopes the client may be granted')
    .action(async (opts: { org: string; name: string; scope?: string[] }) => {
      await withRoster(async (roster) => {
        const created = await roster.actions.createOAuthClient(cliAuditContext('oauth client create'), opts.org, opts.name, opts.scope ? { scopes: opts.scope } : {})
        const origin = originOf(roster)
        out(`Created OAuth client ${created.record.id} (${created.record.name}). The secret is shown once; store it now:\n`)
        out(`  client_id:      ${created.record.id}\n  client_secret:  ${created.clientSecret}\n`)
        out(`  token endpoint: ${tokenEndpointOf(origin, opts.org)}\n  SCIM base URL:  ${scimBaseUrlOf(origin, opts.org)}\n`)
      })
    })

  client
    .command('list')
    .description('list OAuth clients: id, name, created, last used, status (never the secret)')
    .requiredOption('--org <id>', 'the organization')
    .option('--json', 'print JSON')
    .action(async (opts: { org: string; json?: boolean }) => {
      await withRoster(async (roster) => {
        await roster.tenants.get(opts.org)
        const list = await roster.oauthClients.list(opts.org)
        if (opts.json) return void out(`${JSON.stringify(list.map(({ secretHash: _hash, ...rest }) => rest), null, 2)}\n`)
        printTable([
          ['CLIENT ID', 'NAME', 'CREATED', 'LAST USED', 'STATUS'],
          ...list.map((c) => [c.id, c.name, c.createdAt, c.lastUsedAt ?? 'never', c.revokedAt ? 'revoked' : 'active']),
        ])
      })
    })

  client
    .command('revoke')
    .description('revoke an OAuth client; its access tokens fail from the next request on')
    .requiredOption('--org <id>', 'the organization')
    .argument('<client>', 'the client id (rsc_…)')
    .action(async (clientId: string, opts: { org: string }) => {
      await withRoster(async (roster) => {
        if (!(await roster.actions.revokeOAuthClient(cliAuditContext('oauth client revoke'), opts.org, clientId))) {
          process.stderr.write(`roster: no active OAuth client ${clientId} in organization ${opts.org}\n`)
          process.exitCode = 1
          return
        }
        out(`Revoked OAuth client ${clientId}\n`)
      })
    })

  oauth
    .command('rotate-keys')
    .description('create a new signing key; the old ones keep verifying the tokens they signed until those expire')
    .action(async () => {
      await withRoster(async (roster) => {
        const key = await roster.actions.rotateSigningKeys(cliAuditContext('oauth rotate-keys'))
        out(`New signing key ${key.kid} (created ${key.createdAt}); it signs new tokens once every instance has read it.\n`)
      })
    })
}

/** `roster audit export`: an organization's audit log to stdout. */
export function registerAuditCommands(program: Command, withRoster: WithRoster): void {
  const audit = program.command('audit').description('the audit log')

  audit
    .command('export')
    .description('write the audit log of an organization to stdout, newest event first')
    .requiredOption('--org <id>', 'the organization')
    .option('--format <format>', 'ndjson (one JSON event per line) or csv', parseFormat, 'ndjson' as AuditExportFormat)
    .option('--from <time>', 'events at or after this ISO 8601 time', parseIsoTime)
    .option('--to <time>', 'events before this ISO 8601 time', parseIsoTime)
    .action(async (opts: { org: string; format: AuditExportFormat; from?: string; to?: string }) => {
      await withRoster(async (roster) => {
        const stream = await roster.actions.exportAuditLog(
          cliAuditContext('audit export'),
          { tenant: opts.org, ...(opts.from ? { from: opts.from } : {}), ...(opts.to ? { to: opts.to } : {}) },
          opts.format,
        )
        await pipeline(stream, process.stdout, { end: false })
      })
    })
}
