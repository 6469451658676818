export interface RateDecision {
  readonly allowed: boolean
  /** The limit the request was counted against. */
  readonly limit: number
  /** Requests left in the current window after this one. */
  readonly remaining: number
  /** Seconds until the window resets (for Retry-After), at least 1. */
  readonly retryAfterSeconds: number
}

export interface WindowRateLimiterOptions {
  /** Requests allowed per key and window. */
  readonly limit: number
  readonly windowMs: number
  readonly clock?: () => number
  /** Keys tracked at most; expired windows are swept first, then the oldest keys are dropped. */
  readonly maxKeys?: number
}

interface Window {
  count: number
  readonly resetAt: number
}

/**
 * Fixed-window counters per key (session, API key, IP, e-mail), in this process's memory. With several
 * instances each counts its own requests, so the effective limit is the limit times the instances behind
 * the load balancer; that is enough to blunt password guessing and runaway scripts, which is its job.
 */
export class WindowRateLimiter {
  private readonly windows = new Map<string, Window>()
  private readonly clock: () => number
  private readonly maxKeys: number

  constructor(private readonly options: WindowRateLimiterOptions) {
    this.clock = options.clock ?? Date.now
    this.maxKeys = options.maxKeys ?? 100_000
  }

  /** Counts one request for `key` and says whether it is within `limit` (default: the limit of the options). */
  consume(key: string, limit: number = this.options.limit): RateDecision {
    const now = this.clock()
    const window = this.current(key, now) ?? this.open(key, now)
    window.count++
    return this.decide(window, now, window.count <= limit, limit)
  }

  /** Whether one more request for `key` would be within `limit` (default: the limit of the options), without counting it. */
  check(key: string, limit: number = this.options.limit): RateDecision {
    const now = this.clock()
    const window = this.current(key, now)
    if (!window) return { allowed: true, limit, remaining: limit, retryAfterSeconds: Math.ceil(this.options.windowMs / 1000) }
    return this.decide(window, now, window.count < limit, limit)
  }

  /** Forgets `key` (a successful sign-in clears that e-mail's failures). */
  reset(key: string): void {
    this.windows.delete(key)
  }

  private decide(window: Window, now: number, allowed: boolean, limit: number): RateDecision {
    return {
      allowed,
      limit,
      remaining: Math.max(0, limit - window.count),
      retryAfterSeconds: Math.max(1, Math.ceil((window.resetAt - now) / 1000)),
    }
  }

  private current(key: string, now: number): Window | undefined {
    const window = this.windows.get(key)
    if (window && window.resetAt > now) return window
    if (window) this.windows.delete(key)
    return undefined
  }

  private open(key: string, now: number): Window {
    if (this.windows.size >= this.maxKeys) this.sweep(now)
    const window: Window = { count: 0, resetAt: now + this.options.windowMs }
    this.windows.set(key, window)
    return window
  }

  private sweep(now: number): void {
    for (const [k, w] of this.windows) if (w.resetAt <= now) this.windows.delete(k)
    // Still full: drop the oldest windows (Map keeps insertion order).
    for (const k of this.windows.keys()) {
      if (this.windows.size < this.maxKeys) break
      this.windows.delete(k)
    }
  }
}
