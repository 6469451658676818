import { createHmac, randomUUID } from 'node:crypto'
import type { AuditActor } from '../store/ports.js'
import { postToAddress, type WebhookPost } from './post-to-address.js'
import { lookupAllAddresses, resolveWebhookAddress, type HostLookup } from './resolve-webhook-address.js'

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
  /**
   * ROSTER_WEBHOOK_ALLOW_PRIVATE: deliver to loopback, private, link-local and other special-purpose
   * addresses too (receivers on a private network, tests). Default false: such deliveries are refused.
   */
  readonly allowPrivateAddresses?: boolean
  /** Resolves webhook host names; default node:dns lookup (tests answer with fixed addresses). */
  readonly lookup?: HostLookup
  /** Sends one attempt to the checked address; default postToAddress (node:http/https). */
  readonly post?: WebhookPost
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
 *
 * Server-side request forgery: a webhook URL is chosen by an organization's owner, but the request leaves
 * from Roster's network, where loopback services, RFC 1918 hosts and the cloud metadata service at
 * 169.254.169.254 answer. So each attempt resolves the host, refuses the delivery (logged as a failure,
 * not retried) when any address is special-purpose (special-purpose-addresses.ts), and connects to the
 * address it checked. Checking only when the URL is saved would not do: DNS answers change after.
 */
export class WebhookNotifier {
  private readonly timeoutMs: number
  private readonly retryDelaysMs: readonly number[]
  private readonly allowPrivateAddresses: boolean
  private readonly lookup: HostLookup
  private readonly post: WebhookPost
  private readonly pending = new Set<Promise<void>>()
  private readonly controllers = new Set<AbortController>()
  private closed = false

  constructor(private readonly options: WebhookNotifierOptions) {
    this.timeoutMs = options.timeoutMs ?? 5_000
    this.retryDelaysMs = options.retryDelaysMs ?? [1_000, 4_000, 16_000]
    this.allowPrivateAddresses = options.allowPrivateAddresses ?? false
    this.lookup = options.lookup ?? lookupAllAddresses
    this.post = options.post ?? postToAddress
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
    const text = await this.options.webhookUrlOf(event.organization)
    if (!text) return
    const details = { event: event.type, organization: event.organization, destination: originOf(text) }
    // Settings check the scheme when saved; this covers URLs stored before that check existed.
    const url = URL.canParse(text) ? new URL(text) : undefined
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      this.options.log.warn({ ...details, attempts: 0, reason: 'refused: not an http or https URL' }, 'webhook delivery failed')
      return
    }
    const body = JSON.stringify(event)
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'Roster-Webhook/1',
      [EVENT_HEADER]: event.type,
      [DELIVERY_HEADER]: randomUUID(),
    }
    if (this.options.secret) headers[SIGNATURE_HEADER] = signWebhookBody(body, this.options.secret)
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

  /** One attempt: resolve and check the host (again: answers change between attempts), then POST there. */
  private async attempt(url: URL, headers: Record<string, string>, body: string): Promise<AttemptResult> {
    const controller = new AbortController()
    this.controllers.add(controller)
    const timer = setTimeout(() => controller.abort(), this.timeoutMs)
    try {
      // A lookup cannot be cancelled (getaddrinfo runs on libuv's pool); the attempt stops waiting for it.
      const resolved = await untilAborted(resolveWebhookAddress(url.hostname, { allowPrivate: this.allowPrivateAddresses, lookup: this.lookup }), controller.signal)
      if (!resolved.ok) return { ok: false, retry: false, reason: resolved.reason }
      const status = await this.post({ url, address: resolved.address, headers, body, signal: controller.signal })
      if (status >= 200 && status < 300) return { ok: true }
      return { ok: false, retry: status === 429 || status >= 500, reason: `HTTP ${status}` }
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

/** `work`, or a rejection once `signal` aborts, whichever comes first. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
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
