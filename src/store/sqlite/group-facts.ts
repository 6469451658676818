import type Database from 'better-sqlite3'
import type { Statement } from 'better-sqlite3'

/**
 * Whether another connection has committed to the database: PRAGMA data_version moves when one has (the CLI
 * revoking a token while the server runs). Each read of it takes and drops SQLite's read locks (about 3 µs
 * on these machines), so what it guards reads it once per request where that matters (tokens) and reuses a
 * reading a few milliseconds old where it does not (the group facts below).
 */
export class ExternalCommits {
  private readonly statement: Statement<unknown[], number>
  private last: number
  private readAt: number

  constructor(db: Database.Database) {
    this.statement = db.prepare<unknown[], number>('PRAGMA data_version').pluck()
    this.last = this.statement.get()!
    this.readAt = performance.now()
  }

  /** data_version as of now. */
  version(): number {
    this.readAt = performance.now()
    return (this.last = this.statement.get()!)
  }

  /** data_version as read within the last `maxAgeMs`, or as of now. */
  recentVersion(maxAgeMs = 10): number {
    return performance.now() - this.readAt <= maxAgeMs ? this.last : this.version()
  }
}

interface TenantFacts {
  nested?: boolean
  readonly display: Map<string, string | undefined>
}

/** Group display names kept per tenant at most; past it the tenant's are dropped and read again. */
const MAX_DISPLAY_NAMES = 50_000

/**
 * Per tenant, what rendering a user's `groups` needs besides its membership rows: whether the tenant nests
 * groups at all (then the recursive walk is needed), and its groups' display names. A GET /Users/{id} read
 * both from the database every time: four index searches for a user in two groups, more than the user's own
 * row. Both change only when a Group is written, so they are kept in memory and forgotten when this
 * connection writes a Group of the tenant (forget), when a write batch rolls back (forgetAll), and when
 * another connection has committed anything (ExternalCommits).
 */
export class GroupFacts {
  private readonly tenants = new Map<string, TenantFacts>()
  private seenVersion: number
  private readonly hasNested: Statement<unknown[], number>
  private readonly displayName: Statement<unknown[], unknown>

  constructor(db: Database.Database, private readonly commits: ExternalCommits) {
    this.seenVersion = commits.recentVersion()
    this.hasNested = db.prepare<unknown[], number>(`SELECT EXISTS (SELECT 1 FROM group_members WHERE tenant_id = ? AND member_type = 'Group')`).pluck()
    this.displayName = db
      .prepare<unknown[], unknown>(`SELECT json_extract(data, '$.displayName') FROM resources WHERE tenant_id = ? AND id = ? AND resource_type = 'Group'`)
      .pluck()
  }

  /** Whether any group of the tenant has a group as a member. */
  nested(tenant: string): boolean {
    const facts = this.of(tenant)
    return (facts.nested ??= this.hasNested.get(tenant) === 1)
  }

  /** The group's displayName (undefined for a group without one, or no such group). */
  displayOf(tenant: string, groupId: string): string | undefined {
    const facts = this.of(tenant)
    if (facts.display.has(groupId)) return facts.display.get(groupId)
    const value = this.displayName.get(tenant, groupId)
    const display = typeof value === 'string' ? value : undefined
    if (facts.display.size >= MAX_DISPLAY_NAMES) facts.display.clear()
    facts.display.set(groupId, display)
    return display
  }

  /** After this connection wrote a Group of the tenant (its name, its members, its existence). */
  forget(tenant: string): void {
    this.tenants.delete(tenant)
  }

  forgetAll(): void {
    this.tenants.clear()
  }

  private of(tenant: string): TenantFacts {
    const version = this.commits.recentVersion()
    if (version !== this.seenVersion) {
      this.tenants.clear()
      this.seenVersion = version
    }
    let facts = this.tenants.get(tenant)
    if (!facts) {
      facts = { display: new Map() }
      this.tenants.set(tenant, facts)
    }
    return facts
  }
}
