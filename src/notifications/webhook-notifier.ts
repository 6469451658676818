import { createHmac, randomUUID } from 'node:crypto'
import type { AuditActor } from '../store/ports.js'

/** What happened to an organization's credentials. */
export type CredentialEventType = 'token.created' | 'token.revoked' | 'oauthClient.created' | 'oauthClient.revoked'

/** The JSON body POSTed to an organization's webhook. Never a secret: ids and names only. */
export interface CredentialEvent {
  readonly type: CredentialEventType
  readonly organization: string
  /** For token events. */
  readonly tokenId?: string
  /** For OAuth client events. */
  readonly clientId?: string
  readonly name: string
  /** ISO 8601, UTC: when it happened (receivers can refuse old deliveries with it). */
  readonly at: string
  readonly actor: AuditActor
}

/** `sha256=` + hex HMAC-SHA256 of the raw body, keyed with ROSTER_WEBHOOK_SECRET (the format GitHub uses). */
export const SIGNATURE_HEADER = 'x-roster-signature'
export const EVENT_HEADER = 'x-roster-event'
/** The same on every attempt of one delivery, so a receiver can drop a retry it already handled. */
export const DELIVERY_HEADER = 'x-roster-delivery'

/** The signature header's value for a body (see SIGNATURE_HEADER). */
export function signWebhookBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
}

/** The few pino methods the notifier uses, so tests and the CLI can pass their own. */
export interface NotifierLog {
  warn(details: Record<string, unknown>, message: string): void
  debug?(details: Record<string, unknown>, message: string): void
}

export interface WebhookNotifierOptions {
  /** The organization's settings.webhookUrl, or undefined when it has none (or no longer exists). */
  readonly webhookUrlOf: (organization: string) => Promise<string | undefined>
  /** Per-installation secret; without one, deliveries carry no signature header. */
  readonly secret?: string
  /** Each attempt is abandoned after this long; default 5 s. */
  readonly timeoutMs?: number
  /** Waits before each retry; default 1 s, 4 s, 16 s (so four attempts in all). */
  readonly retryDelaysMs?: readonly number[]
  readonly log: NotifierLog
  readonly fetch?: typeof fetch
}

type AttemptResult = { readonly ok: true } | { readonly ok: false; readonly retry: boolean; readonly reason: string }

/**
 * Announces credential events to an organization's webhook. `notify` returns at once: the delivery runs
 * in the background, each attempt time-boxed, retried with backoff on network errors, timeouts, 429 and
 * 5xx, and it never throws into the caller. So a slow or broken receiver can neither delay nor fail the
 * admin request (or CLI command) that caused the event.
 *
 * Logs name the event and the receiver's origin only: webhook URLs often carry a secret in their path or
 * query (chat integrations do), so the full URL is never logged.
 *
 * Redirects are not followed: the URL an admin configured is the only place a delivery goes.
 */
export class WebhookNotifier {
  private readonly timeoutMs: number
  private readonly retryDelaysMs: readonly number[]
  private readonly fetch: typeof fetch
  private readonly pending = new Set<Promise<void>>()
  private readonly controllers = new Set<AbortController>()
  private closed = false

  constructor(private readonly options: WebhookNotifierOptions) {
    this.timeoutMs = options.timeoutMs ?? 5_000
    this.retryDelaysMs = options.retryDelaysMs ?? [1_000, 4_000, 16_000]
    this.fetch = options.fetch ?? fetch
  }

  /** Starts delivering `event` in the background; never throws, never waits. */
  notify(event: CredentialEvent): void {
    if (this.closed) return
    const delivery = this.deliver(event).catch((err: unknown) => {
      this.options.log.warn({ event: event.type, organization: event.organization, reason: describe(err) }, 'webhook delivery failed')
    })
    this.pending.add(delivery)
    void delivery.finally(() => this.pending.delete(delivery))
  }

  /**
   * Resolves once every delivery started so far has succeeded or given up, or after `maxWaitMs`, when
   * the deliveries still under way are abandoned (close). A CLI command waits here before exiting.
   */
  async drain(maxWaitMs = Number.POSITIVE_INFINITY): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const deadline = Number.isFinite(maxWaitMs) ? new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), maxWaitMs))) : undefined
    try {
      while (this.pending.size > 0) {
        const settled = Promise.allSettled([...this.pending])
        if ((await (deadline ? Promise.race([settled, deadline]) : settled)) === 'timeout') return this.close()
      }
    } finally {
      clearTimeout(timer)
    }
  }

  /** Stops: abandons retries and in-flight attempts, starts no new delivery. */
  async close(): Promise<void> {
    this.closed = true
    for (const c of this.controllers) c.abort()
    while (this.pending.size > 0) await Promise.allSettled([...this.pending])
  }

  private async deliver(event: CredentialEvent): Promise<void> {
    const url = await this.options.webhookUrlOf(event.organization)
    if (!url) return
    const destination = originOf(url)
    const body = JSON.stringify(event)
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'Roster-Webhook/1',
      [EVENT_HEADER]: event.type,
      [DELIVERY_HEADER]: randomUUID(),
    }
    if (this.options.secret) headers[SIGNATURE_HEADER] = signWebhookBody(body, this.options.secret)
    const details = { event: event.type, organization: event.organization, destination }
    for (let attempt = 0; ; attempt++) {
      if (this.closed) return
      const result = await this.attempt(url, headers, body)
      if (result.ok) {
        this.options.log.debug?.({ ...details, attempts: attempt + 1 }, 'webhook delivered')
        return
      }
      const delay = this.retryDelaysMs[attempt]
      if (!result.retry || delay === undefined) {
        this.options.log.warn({ ...details, attempts: attempt + 1, reason: result.reason }, 'webhook delivery failed')
        return
      }
      await this.sleep(delay)
    }
  }

  private async attempt(url: string, headers: Record<string, string>, body: string): Promise<AttemptResult> {
    const controller = new AbortController()
    this.controllers.add(controller)
    const timer = setTimeout(() => controller.abort(), this.timeoutMs)
    try {
      const res = await this.fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal: controller.signal })
      // The body is not read; cancelling it frees the connection.
      await res.body?.cancel().catch(() => {})
      if (res.status >= 200 && res.status < 300) return { ok: true }
      return { ok: false, retry: res.status === 429 || res.status >= 500, reason: `HTTP ${res.status}` }
    } catch (err) {
      return { ok: false, retry: !this.closed, reason: controller.signal.aborted ? `no answer within ${this.timeoutMs} ms` : describe(err) }
    } finally {
      clearTimeout(timer)
      this.controllers.delete(controller)
    }
  }

  /** A backoff wait that close() cuts short. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const controller = new AbortController()
      this.controllers.add(controller)
      const done = () => {
        clearTimeout(timer)
        this.controllers.delete(controller)
        resolve()
      }
      const timer = setTimeout(done, ms)
      controller.signal.addEventListener('abort', done, { once: true })
    })
  }
}

/** scheme://host[:port] of a URL, or a placeholder for text that is not one. */
function originOf(url: string): string {
  try {
    return new URL(url).origin
  } catch {
    return '(invalid URL)'
  }
}

/** An error as a short reason without URLs or bodies: its code (ECONNREFUSED…) or class name. */
function describe(err: unknown): string {
  const e = err as { cause?: { code?: unknown }; code?: unknown; name?: unknown }
  const code = e?.cause?.code ?? e?.code
  if (typeof code === 'string') return code
  return typeof e?.name === 'string' ? e.name : 'unknown error'
}
