import type Database from 'better-sqlite3'

/**
 * Group commit for one SQLite connection. With synchronous=FULL every COMMIT waits for an fsync of the WAL,
 * and measured on these machines that fsync was half of a POST's cost (bench: `sqliteTransaction` 50% of
 * self time at 667 POST/s). Writes that arrive in the same turn of the event loop therefore share one
 * transaction: the first opens it (BEGIN IMMEDIATE), each write runs inside it (better-sqlite3 turns the
 * adapter's own transactions into SAVEPOINTs, so a write that fails rolls back alone), and a setImmediate
 * commits them all with one fsync.
 *
 * Nothing is answered before it is durable: every store method, read or write, resolves only after the
 * batch it may have seen has committed (`settled`). So an acknowledged write survives a crash, and a read
 * never hands a client data that could still roll back. If the COMMIT fails, every call of the batch fails.
 */
export class GroupCommit {
  private open = false
  private committed: Promise<void> = Promise.resolve()

  constructor(private readonly db: Database.Database) {}

  /** Joins the current batch, opening one if none is open. Call before a write. */
  join(): void {
    if (this.open && !this.db.inTransaction) {
      // SQLite rolled the whole transaction back on its own (an I/O error, disk full): the batch is lost.
      // Its callers learn it from `committed`; start afresh.
      this.open = false
    }
    if (this.open) return
    this.db.exec('BEGIN IMMEDIATE')
    this.open = true
    this.committed = new Promise<void>((resolve, reject) => {
      setImmediate(() => {
        this.open = false
        try {
          if (!this.db.inTransaction) throw new Error('the write batch was rolled back by SQLite before it could commit')
          this.db.exec('COMMIT')
          resolve()
        } catch (e) {
          if (this.db.inTransaction) this.db.exec('ROLLBACK')
          reject(e)
        }
      })
    })
    // A failed batch is reported to each of its callers through settled(); never an unhandled rejection.
    this.committed.catch(() => undefined)
  }

  /** Resolves when everything this connection has done so far is committed. */
  settled(): Promise<void> {
    return this.open ? this.committed : Promise.resolve()
  }

  /** Commits a batch still open (on close), without waiting for the next turn. */
  async drain(): Promise<void> {
    await this.settled().catch(() => undefined)
  }
}

const WRITE_METHOD = /^(create|update|delete|insert|revoke|touch|retire|prune)/

/**
 * Wraps a store so that its write methods join the group commit and every method resolves only once what
 * it did or saw is committed. Methods are classified by name (createMany, insertToken, revokeClient,
 * pruneAuditEvents, …): a new write method must follow the naming, which the SQLite tests exercise.
 */
export function withGroupCommit<T extends object>(store: T, commit: GroupCommit): T {
  return new Proxy(store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver)
      if (typeof value !== 'function' || typeof key !== 'string') return value
      const isWrite = WRITE_METHOD.test(key)
      return async (...args: unknown[]) => {
        if (isWrite) commit.join()
        const result = await (value as (...a: unknown[]) => unknown).apply(target, args)
        await commit.settled()
        return result
      }
    },
  })
}
