import assert from 'node:assert/strict'

export interface AdminResponse {
  readonly status: number
  readonly headers: Headers
  /** Parsed JSON, or undefined when the body is empty or not JSON. */
  readonly body: any
  readonly text: string
}

export interface CallOptions {
  /** false: leave the X-CSRF-Token header out (default: sent on unsafe methods by a signed-in client). */
  readonly csrf?: boolean | string
  readonly headers?: Record<string, string>
}

/**
 * A caller of the admin API as the console (session cookie + CSRF token) or as automation (API key)
 * would be. Bodies are sent as JSON; no body, no Content-Type.
 */
export class AdminClient {
  cookie: string | undefined
  csrfToken: string | undefined

  constructor(
    readonly origin: string,
    private readonly apiKey?: string,
  ) {}

  static withApiKey(origin: string, apiKey: string): AdminClient {
    return new AdminClient(origin, apiKey)
  }

  async signIn(email: string, password: string): Promise<AdminResponse> {
    const res = await this.call('POST', '/admin/api/session', { email, password })
    if (res.status === 200) {
      const set = res.headers.getSetCookie().find((c) => c.startsWith('roster_admin='))
      assert.ok(set, 'sign-in sets the session cookie')
      this.cookie = set.split(';')[0]
      this.csrfToken = res.body.csrfToken
    }
    return res
  }

  /** Signs in and fails the test if that does not work. */
  async signInOrFail(email: string, password: string): Promise<this> {
    const res = await this.signIn(email, password)
    assert.equal(res.status, 200, res.text)
    return this
  }

  async call(method: string, path: string, body?: unknown, options: CallOptions = {}): Promise<AdminResponse> {
    const headers: Record<string, string> = { ...options.headers }
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`
    if (this.cookie) headers.cookie = this.cookie
    const unsafe = !['GET', 'HEAD', 'OPTIONS'].includes(method)
    if (typeof options.csrf === 'string') headers['x-csrf-token'] = options.csrf
    else if (unsafe && this.csrfToken && options.csrf !== false) headers['x-csrf-token'] = this.csrfToken
    let payload: string | undefined
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body)
      headers['content-type'] ??= 'application/json'
    }
    const res = await fetch(`${this.origin}${path}`, { method, headers, ...(payload !== undefined ? { body: payload } : {}) })
    const text = await res.text()
    let parsed: unknown
    try {
      parsed = text ? JSON.parse(text) : undefined
    } catch {
      parsed = undefined
    }
    return { status: res.status, headers: res.headers, body: parsed, text }
  }

  get(path: string, options?: CallOptions) {
    return this.call('GET', `/admin/api${path}`, undefined, options)
  }
  post(path: string, body?: unknown, options?: CallOptions) {
    return this.call('POST', `/admin/api${path}`, body, options)
  }
  put(path: string, body?: unknown, options?: CallOptions) {
    return this.call('PUT', `/admin/api${path}`, body, options)
  }
  patch(path: string, body?: unknown, options?: CallOptions) {
    return this.call('PATCH', `/admin/api${path}`, body, options)
  }
  delete(path: string, options?: CallOptions) {
    return this.call('DELETE', `/admin/api${path}`, undefined, options)
  }
}

/** Asserts status and, for errors, the admin API's error shape: `{ error: { code, message } }` and nothing else. */
export function assertAdmin(res: AdminResponse, status: number, code?: string): void {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`)
  if (code === undefined) return
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
  assert.deepEqual(Object.keys(res.body), ['error'])
  assert.equal(res.body.error.code, code)
  assert.equal(typeof res.body.error.message, 'string')
  assert.ok(!/\n\s+at /.test(res.text), 'no stack trace in an error body')
}
