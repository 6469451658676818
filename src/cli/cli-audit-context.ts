import { randomUUID } from 'node:crypto'
import { userInfo } from 'node:os'
import type { AuditContext } from '../audit/audit-context.js'

/** The operating-system user running the CLI, when the system can say. */
function osUser(): string | undefined {
  try {
    return userInfo().username
  } catch {
    return undefined
  }
}

/**
 * The AuditContext of a CLI command. Whoever runs the CLI holds the database itself, so there is no
 * admin account behind it: the actor is the admin-type id "cli", named after the OS user, and the
 * request is the command (method "CLI", path "roster token create").
 */
export function cliAuditContext(command: string): AuditContext {
  const user = osUser()
  return {
    actor: { type: 'admin', id: 'cli', name: user ? `cli (${user})` : 'cli' },
    client: { ip: 'local', userAgent: 'roster-cli' },
    request: { id: randomUUID(), method: 'CLI', path: `roster ${command}` },
    startedAt: Date.now(),
  }
}
