import { newTimeOrderedId } from '../ids.js'
import type { AttributeChange, AuditActor, AuditClient, AuditEvent, AuditOperation, AuditOutcome, AuditRequest, AuditResource } from './audit-event.js'
import { recognizeClient } from './recognize-client.js'

/**
 * Who made a request, from where, and when it arrived: what every audit event of that request repeats.
 * The HTTP layer builds it once per request and hands it to the services, which know what was done.
 */
export interface AuditContext {
  readonly actor: AuditActor
  readonly client: AuditClient
  readonly request: AuditRequest
  /** When the request arrived, ms since the epoch; an event's latency is counted from here. */
  readonly startedAt: number
}

/** User agents are client-controlled: only this much is kept. */
export const MAX_USER_AGENT = 512
const MAX_PATH = 2048

/** The client part of an AuditContext: the user agent cut to MAX_USER_AGENT, and the product it names, if known. */
export function auditClientOf(ip: string, userAgent: string | undefined): AuditClient {
  const ua = (userAgent ?? '').slice(0, MAX_USER_AGENT)
  const product = recognizeClient(ua)
  return { ip, userAgent: ua, ...(product ? { product } : {}) }
}

/** The request part: the path without its query string (filters carry personal data), bounded. */
export function auditRequestOf(id: string, method: string, url: string): AuditRequest {
  const q = url.indexOf('?')
  return { id, method, path: (q < 0 ? url : url.slice(0, q)).slice(0, MAX_PATH) }
}

export interface AuditEventFacts {
  readonly tenant: string
  readonly operation: AuditOperation
  readonly resource?: AuditResource
  readonly changes?: readonly AttributeChange[]
  readonly outcome: AuditOutcome
  /** When the event happened (the write, or the response). */
  readonly time: Date
}

/** One audit event of the request `context`. */
export function buildAuditEvent(context: AuditContext, facts: AuditEventFacts, newId: (time: number) => string = newTimeOrderedId): AuditEvent {
  return {
    id: newId(facts.time.getTime()),
    tenant: facts.tenant,
    time: facts.time.toISOString(),
    actor: context.actor,
    client: context.client,
    request: context.request,
    resource: facts.resource ?? {},
    operation: facts.operation,
    changes: facts.changes ?? [],
    outcome: facts.outcome,
    latencyMs: Math.max(0, facts.time.getTime() - context.startedAt),
  }
}
