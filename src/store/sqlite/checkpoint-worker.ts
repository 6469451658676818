import { parentPort, workerData } from 'node:worker_threads'
import Database from 'better-sqlite3'

// The body of Checkpointer's worker thread: a connection of its own that copies the WAL into the database
// file (and syncs it) every few hundred milliseconds, so that this I/O never runs on the event loop.

interface CheckpointWorkerData {
  readonly path: string
  readonly intervalMs: number
  readonly journalSizeLimit: number
}

const { path, intervalMs, journalSizeLimit } = workerData as CheckpointWorkerData
const db = new Database(path)
db.pragma('busy_timeout = 1000')
// NORMAL: the WAL is synced before its frames are copied and the database after, as SQLite does for any checkpoint.
db.pragma('synchronous = NORMAL')
db.pragma(`journal_size_limit = ${journalSizeLimit}`)

// PASSIVE never waits for the writer nor blocks it: it copies what is committed and stops at the first
// frame a reader still needs; the next pass goes on from there.
const pass = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)')
  } catch (e) {
    parentPort?.postMessage({ error: (e as Error).message })
  }
}
const timer = setInterval(pass, intervalMs)

parentPort?.on('message', (message: unknown) => {
  if (message !== 'stop') return
  clearInterval(timer)
  pass()
  db.close()
  parentPort?.postMessage('stopped')
})
