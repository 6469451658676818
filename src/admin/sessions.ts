import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { AdminSessionRecord, AdminSessionStore } from '../store/ports.js'

// The storage port lives with the others (src/store/ports.ts); re-exported for this module's users.
export type { AdminSessionRecord, AdminSessionStore }

export interface AdminSessionOptions {
  readonly clock?: () => Date
  /** Ends a session unused this long; default 30 minutes (OWASP Session Management: 15–30 min for high-value apps). */
  readonly idleTimeoutMs?: number
  /** Ends a session this long after sign-in; default 12 hours. */
  readonly absoluteTimeoutMs?: number
  /** The sliding expiry is written at most this often per session, so reading a page is not a write each time. */
  readonly touchIntervalMs?: number
}

export interface NewAdminSession {
  /** For the Set-Cookie header only; never logged, never stored. */
  readonly sessionId: string
  /** For the console to send back in X-CSRF-Token on every state-changing request. */
  readonly csrfToken: string
  readonly record: AdminSessionRecord
}

export interface ValidSession {
  readonly adminId: string
  readonly record: AdminSessionRecord
  readonly csrfToken: string
}

const SESSION_ID_SHAPE = /^[A-Za-z0-9_-]{43}$/
const CSRF_CONTEXT = 'roster admin csrf v1'

const sha256 = (text: string) => createHash('sha256').update(text).digest()

/**
 * Admin sessions: 256-bit ids in an HttpOnly SameSite cookie, stored hashed, with sliding idle expiry
 * under an absolute cap, and a CSRF token per session.
 *
 * The CSRF token is HMAC-SHA256 of a fixed context keyed with the session id (OWASP CSRF Cheat Sheet,
 * "Signed Double-Submit Cookie" with the session as the secret): the server recomputes it from the
 * cookie on every request, so it needs no storage, dies with the session, and reveals nothing about
 * the session id. A page on another origin can make the browser send the cookie, but cannot read the
 * token, which the console gets from the sign-in response or GET of its session.
 *
 * Callers load the admin (and so the role) by adminId on every request, so a role change or removal
 * takes effect at once; when the password changes, destroyOthersOf ends every session but the one that changed it.
 */
export class AdminSessionService {
  private readonly clock: () => Date
  private readonly idleTimeoutMs: number
  private readonly absoluteTimeoutMs: number
  private readonly touchIntervalMs: number

  constructor(private readonly store: AdminSessionStore, options: AdminSessionOptions = {}) {
    this.clock = options.clock ?? (() => new Date())
    this.idleTimeoutMs = options.idleTimeoutMs ?? 30 * 60_000
    this.absoluteTimeoutMs = options.absoluteTimeoutMs ?? 12 * 3_600_000
    this.touchIntervalMs = options.touchIntervalMs ?? 60_000
  }

  /** Starts a session after a successful sign-in. Always a new id, so a session id planted before sign-in is worthless (fixation). */
  async create(adminId: string, context: { ip?: string; userAgent?: string } = {}): Promise<NewAdminSession> {
    const sessionId = randomBytes(32).toString('base64url')
    const now = this.clock().getTime()
    const absolute = now + this.absoluteTimeoutMs
    const record: AdminSessionRecord = {
      idHash: sha256(sessionId).toString('hex'),
      adminId,
      createdAt: new Date(now).toISOString(),
      lastSeenAt: new Date(now).toISOString(),
      expiresAt: new Date(Math.min(now + this.idleTimeoutMs, absolute)).toISOString(),
      absoluteExpiresAt: new Date(absolute).toISOString(),
      ...(context.ip ? { ip: context.ip } : {}),
      ...(context.userAgent ? { userAgent: context.userAgent.slice(0, 512) } : {}),
    }
    await this.store.insertSession(record)
    return { sessionId, csrfToken: csrfTokenFor(sessionId), record }
  }

  /**
   * The session a cookie names, when it exists and has not expired (idle or absolute); moves the idle
   * expiry forward. Undefined for anything else, including a malformed cookie.
   */
  async validate(sessionId: string | undefined): Promise<ValidSession | undefined> {
    if (!sessionId || !SESSION_ID_SHAPE.test(sessionId)) return undefined
    const idHash = sha256(sessionId).toString('hex')
    const record = await this.store.findSession(idHash)
    if (!record) return undefined
    const now = this.clock().getTime()
    if (Date.parse(record.expiresAt) <= now || Date.parse(record.absoluteExpiresAt) <= now) {
      await this.store.deleteSession(idHash)
      return undefined
    }
    let current = record
    if (now - Date.parse(record.lastSeenAt) >= this.touchIntervalMs) {
      const expiresAt = new Date(Math.min(now + this.idleTimeoutMs, Date.parse(record.absoluteExpiresAt))).toISOString()
      const lastSeenAt = new Date(now).toISOString()
      await this.store.touchSession(idHash, lastSeenAt, expiresAt)
      current = { ...record, lastSeenAt, expiresAt }
    }
    return { adminId: current.adminId, record: current, csrfToken: csrfTokenFor(sessionId) }
  }

  /** Signs out: the cookie stops working at once. */
  async destroy(sessionId: string): Promise<void> {
    if (!SESSION_ID_SHAPE.test(sessionId)) return
    await this.store.deleteSession(sha256(sessionId).toString('hex'))
  }

  destroyAllOf(adminId: string): Promise<number> {
    return this.store.deleteSessionsOf(adminId)
  }

  /**
   * Ends every session of the admin but `keptSessionId` (the one that changed the password), so a stolen
   * session does not outlive the password it was stolen under. Returns how many ended.
   */
  destroyOthersOf(adminId: string, keptSessionId: string): Promise<number> {
    return this.store.deleteOtherSessionsOf(adminId, sha256(keptSessionId).toString('hex'))
  }

  deleteExpired(): Promise<number> {
    return this.store.deleteExpiredSessions(this.clock().toISOString())
  }
}

/** The CSRF token of a session (see AdminSessionService). */
export function csrfTokenFor(sessionId: string): string {
  return createHmac('sha256', sessionId).update(CSRF_CONTEXT).digest('base64url')
}

/**
 * Whether `presented` (the X-CSRF-Token header) is the CSRF token of `sessionId`. Compared in constant
 * time over SHA-256 digests, so neither content nor length leaks through timing. A missing or empty
 * token never matches.
 */
export function verifyCsrfToken(sessionId: string, presented: string | undefined): boolean {
  if (!presented || presented.length > 256) return false
  return timingSafeEqual(sha256(csrfTokenFor(sessionId)), sha256(presented))
}

/** RFC 9110 §9.2.1: safe methods change nothing, so they need no CSRF token (and must not change anything). */
export function requiresCsrfToken(method: string): boolean {
  return !['GET', 'HEAD', 'OPTIONS'].includes(method.toUpperCase())
}

/**
 * Defense in depth next to the token, and the only CSRF defense of the sign-in request (which has no
 * session yet): a state-changing request with the session cookie must come from the console's own
 * origin. Sec-Fetch-Site (Fetch Metadata) when the browser sends it, else Origin; with neither, refuse.
 */
export function isSameOriginRequest(headers: { origin?: string; secFetchSite?: string }, allowedOrigins: readonly string[]): boolean {
  if (headers.secFetchSite !== undefined) return headers.secFetchSite === 'same-origin'
  if (headers.origin !== undefined) return allowedOrigins.includes(headers.origin)
  return false
}

export interface SessionCookieOptions {
  /** HTTPS: the cookie gets Secure and the __Host- prefix (RFC 6265bis §4.1.3.2: no Domain, Path=/, Secure). */
  readonly secure: boolean
  readonly maxAgeSeconds?: number
  readonly sameSite?: 'Strict' | 'Lax'
}

export const sessionCookieName = (secure: boolean) => (secure ? '__Host-roster_admin' : 'roster_admin')

/**
 * The Set-Cookie value for a session: HttpOnly (scripts cannot read it), SameSite=Strict by default
 * (other sites' requests do not carry it), Path=/, Secure on HTTPS.
 */
export function sessionCookie(sessionId: string, options: SessionCookieOptions): string {
  const parts = [`${sessionCookieName(options.secure)}=${sessionId}`, 'Path=/', 'HttpOnly', `SameSite=${options.sameSite ?? 'Strict'}`]
  if (options.secure) parts.push('Secure')
  if (options.maxAgeSeconds !== undefined) parts.push(`Max-Age=${Math.max(0, Math.floor(options.maxAgeSeconds))}`)
  return parts.join('; ')
}

/** The Set-Cookie value that removes the session cookie (sign-out). */
export function clearSessionCookie(options: Pick<SessionCookieOptions, 'secure' | 'sameSite'>): string {
  return sessionCookie('', { ...options, maxAgeSeconds: 0 })
}

/** The session id from a Cookie header, or undefined. */
export function readSessionCookie(cookieHeader: string | undefined, secure: boolean): string | undefined {
  if (!cookieHeader) return undefined
  const name = sessionCookieName(secure)
  for (const pair of cookieHeader.split(';')) {
    const eq = pair.indexOf('=')
    if (eq > 0 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim()
  }
  return undefined
}
