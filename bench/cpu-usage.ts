import { readdirSync, readFileSync } from 'node:fs'
import { cpus } from 'node:os'

/**
 * CPU used during one operation, in % of one core: by the Roster process, by the runner (the autocannon
 * client), by PostgreSQL's processes, and by anything else on the machine (what is left of the machine's
 * busy time). A server near 100% is CPU-bound; well below it, it waits (on fsync, on PostgreSQL). "Other"
 * well above zero means something else shared the machine and the numbers are suspect.
 */
export interface CpuUsage {
  readonly server: number
  readonly client: number
  readonly postgres: number
  readonly other: number
}

interface Snapshot {
  readonly machineBusy: number
  readonly machineTotal: number
  readonly byPid: Map<number, { comm: string; ticks: number }>
}

function readMachine(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number)
  // user nice system idle iowait irq softirq steal (guest time is already inside user and nice)
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0)
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0)
  return { busy: total - idle, total }
}

function readProcesses(): Map<number, { comm: string; ticks: number }> {
  const out = new Map<number, { comm: string; ticks: number }>()
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const text = readFileSync(`/proc/${name}/stat`, 'utf8')
      const close = text.lastIndexOf(')')
      const comm = text.slice(text.indexOf('(') + 1, close)
      const rest = text.slice(close + 2).split(' ')
      // fields 14 and 15 of stat (utime, stime); rest[0] is field 3
      out.set(Number(name), { comm, ticks: Number(rest[11]) + Number(rest[12]) })
    } catch {
      // the process ended meanwhile
    }
  }
  return out
}

const snapshot = (): Snapshot => {
  const m = readMachine()
  return { machineBusy: m.busy, machineTotal: m.total, byPid: readProcesses() }
}

/** Starts watching; the returned function gives the usage since then. Linux only (reads /proc). */
export function watchCpu(serverPid: number): () => CpuUsage {
  const before = snapshot()
  return () => {
    const after = snapshot()
    const cores = cpus().length
    const elapsed = (after.machineTotal - before.machineTotal) / cores
    if (elapsed <= 0) return { server: 0, client: 0, postgres: 0, other: 0 }
    const used = (pid: number) => {
      const a = after.byPid.get(pid)
      if (!a) return 0
      return a.ticks - (before.byPid.get(pid)?.ticks ?? 0)
    }
    let postgres = 0
    for (const [pid, p] of after.byPid) if (p.comm === 'postgres') postgres += used(pid)
    const server = used(serverPid)
    const client = used(process.pid)
    const busy = after.machineBusy - before.machineBusy
    const pct = (ticks: number) => Math.max(0, (100 * ticks) / elapsed)
    return { server: pct(server), client: pct(client), postgres: pct(postgres), other: pct(busy - server - client - postgres) }
  }
}

/**
 * Waits until the machine has been quiet (all processes together under `thresholdPercent` of one core)
 * for `quietSeconds` in a row, or `maxSeconds` passed: on a machine shared with other work, an operation
 * then starts when that work pauses. Returns how long it waited and whether it found quiet.
 */
export async function waitForQuiet(maxSeconds: number, thresholdPercent = 15, quietSeconds = 3): Promise<{ seconds: number; quiet: boolean }> {
  const started = performance.now()
  let streak = 0
  let before = readMachine()
  while ((performance.now() - started) / 1000 < maxSeconds) {
    await new Promise((r) => setTimeout(r, 1000))
    const after = readMachine()
    const elapsed = (after.total - before.total) / cpus().length
    const busy = elapsed > 0 ? (100 * (after.busy - before.busy)) / elapsed : 0
    before = after
    streak = busy < thresholdPercent ? streak + 1 : 0
    if (streak >= quietSeconds) return { seconds: (performance.now() - started) / 1000, quiet: true }
  }
  return { seconds: (performance.now() - started) / 1000, quiet: false }
}

/** CPU ticks (user + system) a process has used so far, or undefined when it is gone. */
function processTicks(pid: number): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ')
    return Number(rest[11]) + Number(rest[12])
  } catch {
    return undefined
  }
}

/**
 * Waits until a process stops working (under 5% of a core over half a second), at most `maxSeconds`.
 * When the client stops, the server may still hold requests it accepted (a Bulk request is seconds of
 * work): the next operation must not start on that backlog.
 */
export async function waitForIdleProcess(pid: number, maxSeconds = 120): Promise<number> {
  const started = performance.now()
  const hz = 100 // USER_HZ: the unit of /proc/<pid>/stat times on Linux
  let before = processTicks(pid)
  while (before !== undefined && (performance.now() - started) / 1000 < maxSeconds) {
    await new Promise((r) => setTimeout(r, 500))
    const after = processTicks(pid)
    if (after === undefined) break
    const percent = ((after - before) / hz / 0.5) * 100
    before = after
    if (percent < 5) break
  }
  return (performance.now() - started) / 1000
}
