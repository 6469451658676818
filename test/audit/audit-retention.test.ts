import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { startAuditPruning } from '../../src/audit/audit-retention.js'
import { DEFAULT_TENANT_SETTINGS, type TenantRecord } from '../../src/store/ports.js'
import { FakeClock } from '../oauth/fake-clock.js'

const DAY = 86_400_000

const tenant = (id: string, auditRetentionDays: number): TenantRecord => ({
  id,
  name: id,
  createdAt: '2024-01-01T00:00:00.000Z',
  settings: { ...DEFAULT_TENANT_SETTINGS, auditRetentionDays },
})

/** Events as (tenant, time); pruneAuditEvents as the port describes it, recording each call. */
function memoryAudit(events: { tenant: string; time: string }[]) {
  const calls: { tenant: string; before: string; batchSize: number; deleted: number }[] = []
  return {
    events,
    calls,
    async pruneAuditEvents(t: string, before: string, batchSize: number): Promise<number> {
      const old = events.filter((e) => e.tenant === t && e.time < before).slice(0, batchSize)
      for (const e of old) events.splice(events.indexOf(e), 1)
      calls.push({ tenant: t, before, batchSize, deleted: old.length })
      return old.length
    },
  }
}

describe('startAuditPruning', () => {
  test("deletes each organization's events older than its auditRetentionDays, in batches, and keeps the rest", async () => {
    const clock = new FakeClock('2025-06-01T00:00:00.000Z')
    const at = (daysAgo: number) => new Date(clock.now().getTime() - daysAgo * DAY).toISOString()
    const audit = memoryAudit([
      ...Array.from({ length: 5 }, () => ({ tenant: 'short', time: at(10) })),
      { tenant: 'short', time: at(5) },
      { tenant: 'long', time: at(10) },
      { tenant: 'long', time: at(400) },
    ])
    const pruning = startAuditPruning({ tenants: { list: async () => [tenant('short', 7), tenant('long', 365)] }, audit, clock: clock.now, batchSize: 2, intervalMs: 3_600_000 })
    try {
      assert.equal(await pruning.runOnce(), 6)
      assert.deepEqual(audit.events, [{ tenant: 'short', time: at(5) }, { tenant: 'long', time: at(10) }])
      // 5 old events of 'short' in batches of 2: 2, 2, 1 (a short batch ends the loop); 'long': 1.
      const ours = audit.calls.slice(0, 4)
      assert.deepEqual(ours.map((c) => [c.tenant, c.deleted, c.batchSize]), [['short', 2, 2], ['short', 2, 2], ['short', 1, 2], ['long', 1, 2]])
      assert.equal(ours[0]!.before, at(7))
      assert.equal(ours[3]!.before, at(365))
    } finally {
      await pruning.stop()
    }
  })

  test('stop() ends a pass after its current batch and waits for it', async () => {
    const clock = new FakeClock('2025-06-01T00:00:00.000Z')
    let calls = 0
    let release: () => void = () => undefined
    const audit = {
      pruneAuditEvents: async (): Promise<number> => {
        calls++
        await new Promise<void>((r) => (release = r))
        return 1000
      },
    }
    const pruning = startAuditPruning({ tenants: { list: async () => [tenant('busy', 1)] }, audit, clock: clock.now })
    const pass = pruning.runOnce()
    await new Promise((r) => setImmediate(r))
    const stopped = pruning.stop()
    release()
    await stopped
    assert.equal(await pass, 1000, 'the batch under way finished, no other began')
    assert.equal(calls, 1)
  })

  test('a failing pass is reported to onError and the next pass runs', async () => {
    const errors: unknown[] = []
    let fail = true
    const pruning = startAuditPruning({
      tenants: {
        list: async () => {
          if (fail) throw new Error('database down')
          return []
        },
      },
      audit: { pruneAuditEvents: async () => 0 },
      intervalMs: 10,
      onError: (e) => errors.push(e),
    })
    try {
      const deadline = Date.now() + 2000
      while (errors.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5))
      assert.match(String(errors[0]), /database down/)
      fail = false
      assert.equal(await pruning.runOnce(), 0)
    } finally {
      await pruning.stop()
    }
  })
})
