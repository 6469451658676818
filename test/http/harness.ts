import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readConfig, type Config } from '../../src/config.js'
import { startServer, type RunningRoster } from '../../src/server.js'
import { DEFAULT_TENANT } from '../../src/store/ports.js'
import type { TenantSettingsChange } from '../../src/tenants/tenant-service.js'

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
  /** e.g. http://127.0.0.1:41234: for URLs outside the default SCIM base (/o/{org}/scim/v2, /oauth/token). */
  readonly origin: string
  /** Sends a request to `${origin}${path}`, with `token` unless headers.authorization is given (null: none). */
  send(method: string, path: string, token: string | undefined, body?: unknown, headers?: Record<string, string | null>): Promise<ScimResponse>
  /** Creates the organization `id` with a token of its own; requests go to its base URL, /o/{id}/scim/v2. */
  org(id: string, settings?: TenantSettingsChange): Promise<TestOrg>
  close(): Promise<void>
}

/** An organization of a TestServer, with a token and its own SCIM base URL. */
export interface TestOrg {
  readonly id: string
  /** e.g. http://127.0.0.1:41234/o/acme/scim/v2 */
  readonly baseUrl: string
  readonly token: string
  /** As TestServer.request, at this organization's base URL with its token. */
  request(method: string, path: string, body?: unknown, headers?: Record<string, string | null>): Promise<ScimResponse>
}

/** A real Roster listening on 127.0.0.1 with a random port and a fresh SQLite file in a temp dir. */
export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'roster-test-'))
  const config: Config = readConfig({ ROSTER_PORT: '0', ROSTER_DATA_DIR: dataDir, ROSTER_LOG_LEVEL: 'silent', ...env })
  const sink = { write: () => true } as unknown as NodeJS.WritableStream
  const roster = await startServer(config, sink)
  const issued = await roster.tokens.issue(DEFAULT_TENANT, 'test')
  const baseUrl = roster.baseUrl
  const origin = new URL(baseUrl).origin
  const send = async (method: string, path: string, token: string | undefined, body?: unknown, headers: Record<string, string | null> = {}): Promise<ScimResponse> => {
    const h: Record<string, string> = {}
    if (headers.authorization === undefined && token !== undefined) h.authorization = `Bearer ${token}`
    for (const [k, v] of Object.entries(headers)) if (v !== null) h[k.toLowerCase()] = v
    let payload: string | undefined
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body)
      if (!('content-type' in headers)) h['content-type'] = 'application/scim+json'
    }
    const res = await fetch(`${origin}${path}`, { method, headers: h, ...(payload !== undefined ? { body: payload } : {}) })
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
  const scimPath = new URL(baseUrl).pathname
  const request = (method: string, path: string, body?: unknown, headers: Record<string, string | null> = {}) => send(method, `${scimPath}${path}`, issued.token, body, headers)
  const org = async (id: string, settings?: TenantSettingsChange): Promise<TestOrg> => {
    await roster.tenants.create({ id, name: `Organization ${id}`, ...(settings ? { settings } : {}) })
    const { token } = await roster.tokens.issue(id, `test ${id}`)
    const path = `/o/${id}/scim/v2`
    return { id, baseUrl: `${origin}${path}`, token, request: (method, p, body, headers = {}) => send(method, `${path}${p}`, token, body, headers) }
  }
  return {
    roster,
    baseUrl,
    token: issued.token,
    dataDir,
    request,
    origin,
    send,
    org,
    async close() {
      await roster.close()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error'

/**
 * Asserts the whole SCIM error (RFC 7644 §3.12): the status code, application/scim+json, the Error schema,
 * `status` as a string, exactly this scimType (absent when none is given), and a non-empty detail,
 * matching `detail` when one is given.
 */
export function assertScimError(res: ScimResponse, status: number, scimType?: string, detail?: RegExp): void {
  assert.equal(res.status, status, `expected ${status}${scimType ? ` ${scimType}` : ''}, got ${res.status}: ${res.text}`)
  assert.match(res.headers.get('content-type') ?? '', /^application\/scim\+json/)
  assert.deepEqual(res.body?.schemas, [ERROR_SCHEMA])
  assert.equal(res.body.status, String(status))
  assert.equal(res.body.scimType, scimType, `scimType in ${res.text}`)
  assert.equal(typeof res.body.detail, 'string')
  assert.ok(res.body.detail.length > 0, 'detail is not empty')
  if (detail) assert.match(res.body.detail, detail)
}

export function assertStatus(res: ScimResponse, status: number): void {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`)
}

/**
 * A ListResponse (RFC 7644 §3.4.2) of `total` results, all on the first page, in application/scim+json;
 * returns Resources ([] when absent, as a zero-result response may leave it out).
 */
export function assertListResponse(res: ScimResponse, total: number): any[] {
  assert.equal(res.status, 200, res.text)
  assert.match(res.headers.get('content-type') ?? '', /^application\/scim\+json\b/, `content-type of ${res.text}`)
  assert.deepEqual(res.body.schemas, ['urn:ietf:params:scim:api:messages:2.0:ListResponse'])
  assert.strictEqual(res.body.totalResults, total)
  assert.strictEqual(res.body.startIndex, 1)
  if ('Resources' in res.body) assert.ok(Array.isArray(res.body.Resources), 'Resources must be an array')
  const resources: any[] = res.body.Resources ?? []
  assert.strictEqual(resources.length, total)
  assert.strictEqual(res.body.itemsPerPage, resources.length)
  return resources
}

/** 204 with an empty body (RFC 7644 §3.5.2 group PATCH, §3.6 DELETE). */
export function assertNoContent(res: ScimResponse): void {
  assert.equal(res.status, 204, res.text)
  assert.equal(res.text, '')
}

/** The member ids of a group as GET /Groups/{id} shows them, sorted. */
export async function memberIdsOf(request: (method: string, path: string) => Promise<ScimResponse>, groupId: string): Promise<string[]> {
  const res = await request('GET', `/Groups/${groupId}`)
  assert.equal(res.status, 200, res.text)
  const members: unknown = res.body.members ?? []
  assert.ok(Array.isArray(members), 'members must be an array')
  return (members as Array<{ value: string }>).map((m) => m.value).sort()
}
