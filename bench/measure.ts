import autocannon from 'autocannon'
import { watchCpu, type CpuUsage } from './cpu-usage.js'

/** One operation under load: what to send, over how many connections, for how long. */
export interface LoadSpec {
  readonly origin: string
  readonly headers: Record<string, string>
  readonly connections: number
  readonly durationSeconds: number
  readonly requests: autocannon.Request[]
  /** The server's process id, to report the CPU it used (see CpuUsage). */
  readonly serverPid?: number
}

export interface Measurement {
  /** Successful (2xx) responses per second. */
  readonly requestsPerSecond: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly ok: number
  /** Non-2xx answers, socket errors and timeouts. */
  readonly failed: number
  readonly statusCodes: Record<string, number>
  readonly seconds: number
  readonly cpu?: CpuUsage
  /** The server's largest VmRSS during this operation (set by the runner). */
  readonly peakRssBytes?: number
}

/** Runs autocannon at a fixed concurrency for the duration (the client runs in this process). */
export async function measureLoad(spec: LoadSpec): Promise<Measurement> {
  const cpu = spec.serverPid === undefined ? undefined : watchCpu(spec.serverPid)
  const result = await autocannon({
    url: spec.origin,
    connections: spec.connections,
    duration: spec.durationSeconds,
    headers: spec.headers,
    requests: spec.requests,
    timeout: 60,
  })
  const ok = result['2xx']
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, s]) => [code, s.count]))
  return {
    requestsPerSecond: ok / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    ok,
    failed: result.non2xx + result.errors + result.timeouts,
    statusCodes,
    seconds: result.duration,
    ...(cpu ? { cpu: cpu() } : {}),
  }
}

/** Sends one request with fetch and returns the parsed JSON body (setup steps: discovery, cursor walks). */
export async function fetchJson(url: string, headers: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, { headers })
  const text = await response.text()
  let body: Record<string, unknown> = {}
  try {
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {}
  } catch {
    body = { text }
  }
  return { status: response.status, body }
}
