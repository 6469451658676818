import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readConfig, type Config } from '../../src/config.js'
import { startServer, type RunningRoster } from '../../src/server.js'
import { DEFAULT_TENANT } from '../../src/store/ports.js'

export interface ScimResponse {
  readonly status: number
  readonly headers: Headers
  /** Parsed JSON body, or undefined for an empty body. */
  readonly body: any
  readonly text: string
}

export interface TestServer {
  readonly roster: RunningRoster
  /** e.g. http://127.0.0.1:41234/scim/v2 */
  readonly baseUrl: string
  /** A valid bearer token of the default tenant. */
  readonly token: string
  readonly dataDir: string
  /**
   * Sends a request to `${baseUrl}${path}` with the token (unless headers.authorization is given; pass
   * null to send none). Objects are sent as JSON with application/scim+json unless content-type is given.
   */
  request(method: string, path: string, body?: unknown, headers?: Record<string, string | null>): Promise<ScimResponse>
  close(): Promise<void>
}

/** A real Roster listening on 127.0.0.1 with a random port and a fresh SQLite file in a temp dir. */
export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'roster-test-'))
  const config: Config = readConfig({ ROSTER_PORT: '0', ROSTER_DATA_DIR: dataDir, ROSTER_LOG_LEVEL: 'silent', ...env })
  const sink = { write: () => true } as unknown as NodeJS.WritableStream
  const roster = await startServer(config, sink)
  const issued = await roster.tokens.issue(DEFAULT_TENANT, 'test')
  const baseUrl = roster.baseUrl
  const request = async (method: string, path: string, body?: unknown, headers: Record<string, string | null> = {}): Promise<ScimResponse> => {
    const h: Record<string, string> = {}
    if (headers.authorization === undefined) h.authorization = `Bearer ${issued.token}`
    for (const [k, v] of Object.entries(headers)) if (v !== null) h[k.toLowerCase()] = v
    let payload: string | undefined
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body)
      if (!('content-type' in headers)) h['content-type'] = 'application/scim+json'
    }
    const res = await fetch(`${baseUrl}${path}`, { method, headers: h, ...(payload !== undefined ? { body: payload } : {}) })
    const text = await res.text()
    let parsed: unknown
    if (text) {
      try {
        parsed = JSON.parse(text)
      } catch {
        parsed = undefined
      }
    }
    return { status: res.status, headers: res.headers, body: parsed, text }
  }
  return {
    roster,
    baseUrl,
    token: issued.token,
    dataDir,
    request,
    async close() {
      await roster.close()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error'
