import { closeSync, fdatasync, openSync } from 'node:fs'
import type Database from 'better-sqlite3'

export interface GroupCommitOptions {
  /**
   * The WAL file to sync after each commit, for `synchronous: 'full'` (the connection itself runs with
   * PRAGMA synchronous=NORMAL, which syncs only at checkpoints); absent for 'normal'.
   */
  readonly walPath?: string
  /** A batch that rolls back may have been read from: whatever was learnt from it must be forgotten. */
  readonly onRollback?: () => void
}

/**
 * Group commit for one SQLite connection, made durable off the event loop.
 *
 * Writes that arrive in the same turn of the event loop share one transaction: the first opens it (BEGIN
 * IMMEDIATE), each write runs inside it (better-sqlite3 turns the adapter's own transactions into
 * SAVEPOINTs, so a write that fails rolls back alone), and a setImmediate commits them all at once.
 *
 * The COMMIT itself does not wait for the disk: the connection runs with synchronous=NORMAL, and the batch
 * is made durable by an fdatasync of the WAL file on libuv's thread pool, after the COMMIT has written its
 * frames. With synchronous=FULL SQLite would fsync inside COMMIT, on the event loop: measured, that was half
 * of a POST's cost, and every request waited for it. NORMAL keeps the database consistent (SQLite: "WAL
 * mode is always consistent with synchronous=NORMAL"); the fdatasync gives back what FULL adds, durability
 * of each commit, because everything written to the WAL before it started is on disk when it returns.
 * Syncs run one at a time; the batches committed while one runs share the next.
 *
 * Nothing is answered before it is durable: every store method, read or write, resolves only after the
 * batches it may have seen are durable (`settled`), except the reads named `unsynced` in withGroupCommit
 * (credential lookups: what they find is never handed to a client). So an acknowledged write survives a
 * crash, of the process or of the machine, and a read never hands a client data that could still be lost.
 * If the COMMIT or the sync fails, every call of the batch fails.
 */
export class GroupCommit {
  private open = false
  /** Resolves when the last batch committed (or the open one, once committed) is durable. */
  private durable: Promise<void> = Promise.resolve()
  private pending = 0
  private fd: number | undefined
  private syncing: Promise<void> | undefined
  private nextSync: { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } | undefined
  /**
   * Set when an fdatasync failed. Linux reports a failed writeback once and may then drop the pages, so a
   * later sync proves nothing about the earlier frames: from then on every write and every wait fails (as
   * PostgreSQL stops at a failed fsync) until the process is restarted and SQLite recovers from the WAL.
   */
  private broken: Error | undefined
  /** Commits and syncs so far, for tests and the bench's report of how many writes a commit carries. */
  readonly stats = { batches: 0, writes: 0, syncs: 0 }

  constructor(
    private readonly db: Database.Database,
    private readonly options: GroupCommitOptions = {},
  ) {}

  /** Joins the current batch, opening one if none is open. Call before a write. */
  join(): void {
    if (this.broken) throw this.broken
    this.stats.writes++
    if (this.open && !this.db.inTransaction) {
      // SQLite rolled the whole transaction back on its own (an I/O error, disk full): the batch is lost.
      // Its callers learn it from `durable`; start afresh.
      this.open = false
      this.options.onRollback?.()
    }
    if (this.open) return
    this.db.exec('BEGIN IMMEDIATE')
    this.open = true
    this.stats.batches++
    this.pending++
    const batch = new Promise<void>((resolve, reject) => {
      setImmediate(() => {
        this.open = false
        try {
          if (!this.db.inTransaction) throw new Error('the write batch was rolled back by SQLite before it could commit')
          this.db.exec('COMMIT')
        } catch (e) {
          if (this.db.inTransaction) this.db.exec('ROLLBACK')
          this.options.onRollback?.()
          reject(e)
          return
        }
        this.sync().then(resolve, reject)
      })
    })
    const settled = batch.finally(() => {
      this.pending--
    })
    // A failed batch is reported to each of its callers through settled(); never an unhandled rejection.
    settled.catch(() => undefined)
    this.durable = settled
  }

  /** Whether a batch is open or not yet durable: what this connection reads may not be durable yet. */
  get busy(): boolean {
    return this.pending > 0 || this.broken !== undefined
  }

  /** Resolves when everything this connection has done so far is durable; rejects if that batch failed. */
  settled(): Promise<void> {
    if (this.broken) return Promise.reject(this.broken)
    return this.pending > 0 ? this.durable : Promise.resolve()
  }

  /** Waits for the batches still open or syncing (on close), then lets go of the WAL file. */
  async drain(): Promise<void> {
    await this.settled().catch(() => undefined)
    if (this.fd !== undefined) {
      closeSync(this.fd)
      this.fd = undefined
    }
  }

  /** An fdatasync of the WAL that starts after this call: the one running now may predate the commit. */
  private sync(): Promise<void> {
    const { walPath } = this.options
    if (walPath === undefined) return Promise.resolve()
    if (!this.syncing) {
      this.syncing = this.runSync(walPath)
      return this.syncing
    }
    if (!this.nextSync) {
      let resolve!: () => void
      let reject!: (e: unknown) => void
      const promise = new Promise<void>((res, rej) => {
        resolve = res
        reject = rej
      })
      this.nextSync = { promise, resolve, reject }
    }
    return this.nextSync.promise
  }

  private runSync(walPath: string): Promise<void> {
    let fd: number
    try {
      // The WAL exists once a COMMIT has written to it, and keeps its inode while the connection is open
      // (SQLite deletes it only when the last connection closes, and resets or truncates it in place).
      fd = this.fd ??= openSync(walPath, 'r')
    } catch (e) {
      this.syncing = undefined
      this.broken ??= new Error(`cannot open the SQLite WAL ${walPath} to sync it: ${(e as Error).message}`, { cause: e })
      const next = this.nextSync
      this.nextSync = undefined
      next?.reject(this.broken)
      return Promise.reject(this.broken)
    }
    this.stats.syncs++
    return new Promise<void>((resolve, reject) => {
      fdatasync(fd, (error) => {
        this.syncing = undefined
        const next = this.nextSync
        this.nextSync = undefined
        if (next) {
          this.syncing = this.runSync(walPath)
          this.syncing.then(next.resolve, next.reject)
        }
        if (error) {
          this.broken ??= new Error(`fdatasync of the SQLite WAL failed (${error.code ?? error.message}); restart Roster`, { cause: error })
          reject(this.broken)
        } else resolve()
      })
    })
  }
}

const WRITE_METHOD = /^(create|update|delete|insert|revoke|touch|retire|prune|seal)/

/**
 * Wraps a store so that its write methods join the group commit and every method resolves only once what
 * it did or saw is durable, but for the methods named in `unsynced`. Methods are classified by name
 * (createMany, insertToken, revokeClient, pruneAuditEvents, …): a new write method must follow the naming,
 * which the SQLite tests exercise.
 */
export function withGroupCommit<T extends object>(store: T, commit: GroupCommit, options: { readonly unsynced?: ReadonlySet<string> } = {}): T {
  // One wrapper per method, made on first use: every request goes through several store calls.
  const wrappers = new Map<string, (...args: unknown[]) => Promise<unknown>>()
  const wrap = (target: T, key: string, method: (...a: unknown[]) => unknown) => {
    const isWrite = WRITE_METHOD.test(key)
    if (!isWrite && options.unsynced?.has(key)) return async (...args: unknown[]) => method.apply(target, args)
    return async (...args: unknown[]) => {
      if (isWrite) commit.join()
      const result = await method.apply(target, args)
      // Nothing to wait for (no batch open or syncing: the usual case of a read) costs no further promise.
      if (commit.busy) await commit.settled()
      return result
    }
  }
  return new Proxy(store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver)
      if (typeof value !== 'function' || typeof key !== 'string') return value
      let wrapper = wrappers.get(key)
      if (!wrapper) {
        wrapper = wrap(target, key, value as (...a: unknown[]) => unknown)
        wrappers.set(key, wrapper)
      }
      return wrapper
    },
  })
}
