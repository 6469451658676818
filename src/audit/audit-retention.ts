import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import type { AuditStore, TenantRecord } from '../store/ports.js'

export interface AuditPruningDeps {
  readonly tenants: { list(): Promise<TenantRecord[]> }
  readonly audit: Pick<AuditStore, 'pruneAuditEvents'>
  readonly clock?: () => Date
  /** How often a pass runs; default hourly. The first pass runs one tick after start. */
  readonly intervalMs?: number
  /** Events deleted per statement; each is its own short transaction, so requests never wait long on it. */
  readonly batchSize?: number
  readonly onError?: (error: unknown) => void
}

export interface AuditPruning {
  /** One pass over every organization now; resolves to the number of events deleted. */
  runOnce(): Promise<number>
  /** Stops the timer and waits for a pass under way, which stops after its current batch. */
  stop(): Promise<void>
}

const DAY_MS = 86_400_000

/**
 * The retention job: every intervalMs, for each organization, deletes the events older than its
 * auditRetentionDays, batchSize at a time, yielding to the event loop between batches so requests are
 * served in between. The timer is unref'd (it never keeps the process alive). With several instances each
 * runs it; the deletes are idempotent, so that only costs some repeated work.
 */
export function startAuditPruning(deps: AuditPruningDeps): AuditPruning {
  const clock = deps.clock ?? (() => new Date())
  const batchSize = deps.batchSize ?? 1000
  let stopped = false
  let running: Promise<number> | undefined

  const pass = async (): Promise<number> => {
    let deleted = 0
    for (const tenant of await deps.tenants.list()) {
      const before = new Date(clock().getTime() - tenant.settings.auditRetentionDays * DAY_MS).toISOString()
      for (;;) {
        if (stopped) return deleted
        const n = await deps.audit.pruneAuditEvents(tenant.id, before, batchSize)
        deleted += n
        if (n < batchSize) break
        await yieldToEventLoop()
      }
    }
    return deleted
  }

  const runOnce = (): Promise<number> => {
    running ??= pass().finally(() => {
      running = undefined
    })
    return running
  }

  const tick = () => {
    runOnce().catch((error: unknown) => deps.onError?.(error))
  }
  const first = setTimeout(tick, 0)
  const timer = setInterval(tick, deps.intervalMs ?? 3_600_000)
  first.unref()
  timer.unref()

  return {
    runOnce,
    async stop() {
      stopped = true
      clearTimeout(first)
      clearInterval(timer)
      await running?.catch(() => undefined)
    },
  }
}
