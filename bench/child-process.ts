import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** Compiled entry points, resolved from dist/bench/. */
export const ROSTER_MAIN_JS = fileURLToPath(new URL('../src/main.js', import.meta.url))

/**
 * The node flags `npm start` gives the server (package.json's start script, `node <flags> dist/src/main.js`),
 * so that the bench measures Roster as it is started, memory included.
 */
export function startScriptNodeFlags(packageJson = fileURLToPath(new URL('../../package.json', import.meta.url))): string[] {
  const script = (JSON.parse(readFileSync(packageJson, 'utf8')) as { scripts?: { start?: string } }).scripts?.start ?? ''
  const match = /^node((?:\s+--?[\w-]+(?:=\S+)?)*)\s+dist\/src\/main\.js$/.exec(script.trim())
  if (!match) throw new Error(`package.json's start script is not "node [flags] dist/src/main.js": ${script}`)
  return match[1]!.trim().split(/\s+/).filter((flag) => flag !== '')
}
export const BASELINE_JS = fileURLToPath(new URL('./baseline-server.js', import.meta.url))

/** Peak resident memory of a process: the largest VmRSS sampled, and the kernel's own high-water mark. */
export interface MemoryReport {
  readonly peakRssBytes: number
  readonly hwmBytes: number
  readonly samples: number
}

export interface BenchProcess {
  readonly child: ChildProcess
  readonly pid: number
  /** The origin it listens on, e.g. http://127.0.0.1:40123. */
  readonly origin: string
  /** Starts a window for windowPeakBytes (one operation). */
  beginWindow(): void
  /** The largest VmRSS sampled since beginWindow(). */
  windowPeakBytes(): number
  /** How it ended, when it has ended without stop() (a crash, or a signal from outside). */
  exitStatus(): string | undefined
  /** Stops sampling, reads VmHWM, then SIGTERM (SIGKILL after 20 s) and waits for the exit. */
  stop(): Promise<MemoryReport>
}

const live = new Set<ChildProcess>()

/** Kills whatever this module started and has not stopped yet (on an error or Ctrl-C in the runner). */
export function killAllStarted(): void {
  for (const child of live) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  live.clear()
}

/** VmRSS and VmHWM of a live process, in bytes, from /proc/<pid>/status (Linux). */
export function readProcessMemory(pid: number): { rss: number; hwm: number } | undefined {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8')
  } catch {
    return undefined
  }
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') }
}

/**
 * Starts `node [nodeFlags] script` and waits until `ready` finds the listening origin in its stdout.
 * While it runs, VmRSS is sampled every 200 ms.
 */
export function startProcess(
  script: string,
  options: { env: Record<string, string>; nodeFlags?: readonly string[]; ready: (stdout: string) => string | undefined; timeoutMs?: number },
): Promise<BenchProcess> {
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), script], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  live.add(child)
  let out = ''
  let err = ''
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${script} did not start in time; stdout: ${out}; stderr: ${err}`))
    }, options.timeoutMs ?? 60_000)
    const onEarlyExit = (code: number | null, signal: string | null) => {
      clearTimeout(timer)
      reject(new Error(`${script} exited (${code ?? signal}) before starting; stdout: ${out}; stderr: ${err}`))
    }
    child.once('exit', onEarlyExit)
    let started = false
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString()
      if (started) return
      const origin = options.ready(out)
      if (origin === undefined) return
      started = true
      clearTimeout(timer)
      child.off('exit', onEarlyExit)
      resolve(watch(child, origin, () => err))
    })
  })
}

function watch(child: ChildProcess, origin: string, stderr: () => string): BenchProcess {
  const pid = child.pid!
  let peak = 0
  let samples = 0
  let hwm = NaN
  let windowPeak = 0
  const sample = () => {
    const m = readProcessMemory(pid)
    if (m && Number.isFinite(m.rss)) {
      peak = Math.max(peak, m.rss)
      windowPeak = Math.max(windowPeak, m.rss)
      hwm = m.hwm
      samples++
    }
  }
  sample()
  const sampler = setInterval(sample, 200)
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve()
    else child.once('exit', () => resolve())
  })
  return {
    child,
    pid,
    origin,
    beginWindow() {
      windowPeak = 0
      sample()
    },
    windowPeakBytes() {
      sample()
      return windowPeak
    },
    exitStatus() {
      if (child.exitCode === null && child.signalCode === null) return undefined
      const tail = stderr().trim().slice(-500)
      return `${child.signalCode ? `killed by ${child.signalCode}` : `exited with code ${child.exitCode}`}${tail ? ` (stderr: ${tail})` : ''}`
    },
    async stop() {
      clearInterval(sampler)
      // VmHWM of the last sample that saw the process (the whole run when it is still alive).
      sample()
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        const killer = setTimeout(() => child.kill('SIGKILL'), 20_000)
        await exited
        clearTimeout(killer)
      }
      live.delete(child)
      if (child.exitCode !== 0 && child.signalCode !== 'SIGTERM' && child.exitCode !== null) {
        process.stderr.write(`warning: ${ROSTER_MAIN_JS} exited with ${child.exitCode}; stderr: ${stderr().slice(-2000)}\n`)
      }
      return { peakRssBytes: peak, hwmBytes: hwm, samples }
    },
  }
}

/** Roster's first-start banner: "SCIM base URL: http://127.0.0.1:PORT/scim/v2", followed by a blank line. */
export function rosterReady(stdout: string): string | undefined {
  const url = /SCIM base URL: (\S+)/.exec(stdout)?.[1]
  if (!url || !/\n\n/.test(stdout.slice(stdout.indexOf('SCIM base URL')))) return undefined
  return new URL(url).origin
}

/** The baseline server prints "listening http://127.0.0.1:PORT". */
export const baselineReady = (stdout: string) => /listening (http:\/\/\S+)/.exec(stdout)?.[1]
