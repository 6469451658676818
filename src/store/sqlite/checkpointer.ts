import { statSync } from 'node:fs'
import { Worker } from 'node:worker_threads'

export interface CheckpointerOptions {
  /** The worker starts once the WAL is this large (tests and small stores never start one). */
  readonly startAtBytes?: number
  readonly intervalMs?: number
  /** What SQLite truncates the WAL back to when it starts it over (PRAGMA journal_size_limit). */
  readonly journalSizeLimit?: number
  readonly onError?: (message: string) => void
}

/**
 * Checkpoints a WAL database off the event loop. The store's connection runs with wal_autocheckpoint=0:
 * SQLite's automatic checkpoint runs inside the COMMIT that crosses 1,000 pages, on the event loop, and at
 * 1,000,000 users such a COMMIT took about 150 ms (random writes into a 1.35 GB file, then an fsync of it;
 * bench profile of POST /Bulk). Instead a worker thread with a connection of its own runs PASSIVE
 * checkpoints every `intervalMs`, started the first time the WAL passes `startAtBytes` (checked every
 * second), so a small store never pays for a thread.
 */
export class Checkpointer {
  private worker: Worker | undefined
  private readonly watch: NodeJS.Timeout
  private closed = false

  constructor(
    private readonly path: string,
    private readonly options: CheckpointerOptions = {},
  ) {
    const startAt = options.startAtBytes ?? 4 * 1024 * 1024
    this.watch = setInterval(() => {
      if (this.walSize() >= startAt) this.start()
    }, 1_000)
    this.watch.unref()
  }

  /** Starts the worker now (the watch would start it once the WAL is large enough). */
  start(): void {
    clearInterval(this.watch)
    if (this.worker || this.closed) return
    const worker = new Worker(new URL('./checkpoint-worker.js', import.meta.url), {
      workerData: { path: this.path, intervalMs: this.options.intervalMs ?? 250, journalSizeLimit: this.options.journalSizeLimit ?? 64 * 1024 * 1024 },
    })
    worker.on('message', (m: unknown) => {
      if (typeof m === 'object' && m !== null && 'error' in m) this.options.onError?.(String((m as { error: unknown }).error))
    })
    worker.on('error', (e) => this.options.onError?.(e.message))
    worker.unref()
    this.worker = worker
  }

  get running(): boolean {
    return this.worker !== undefined
  }

  /** Stops the worker after a last pass; the store's own close then checkpoints what is left. */
  async close(): Promise<void> {
    this.closed = true
    clearInterval(this.watch)
    const worker = this.worker
    if (!worker) return
    this.worker = undefined
    // Unreferenced while it runs (it must not keep a process alive), but waited for now.
    worker.ref()
    await new Promise<void>((resolve) => {
      const done = () => resolve()
      worker.once('exit', done)
      worker.on('message', (m: unknown) => {
        if (m === 'stopped') void worker.terminate()
      })
      worker.postMessage('stop')
    })
  }

  private walSize(): number {
    try {
      return statSync(`${this.path}-wal`).size
    } catch {
      return 0
    }
  }
}
