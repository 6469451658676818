import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { isScimError, type ScimError } from '../scim/index.js'

/** The `code` of an admin API error body: stable, for the console and scripts to branch on. */
export type AdminErrorCode =
  | 'invalid_request'
  | 'unauthenticated'
  | 'forbidden'
  | 'csrf_failed'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'internal_error'

/**
 * The admin API's one error type. The admin API answers `{ "error": { "code", "message" } }` in plain
 * JSON, not the SCIM error format: its clients are the console and automation, not SCIM clients.
 */
export class AdminApiError extends Error {
  override readonly name = 'AdminApiError'
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 429 | 500,
    readonly code: AdminErrorCode,
    message: string,
    readonly retryAfterSeconds?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

export const invalidRequest = (message: string) => new AdminApiError(400, 'invalid_request', message)
export const unauthenticated = (message = 'Sign in, or send an admin API key (Authorization: Bearer rak_…)') => new AdminApiError(401, 'unauthenticated', message)
export const forbidden = (message: string) => new AdminApiError(403, 'forbidden', message)
export const csrfFailed = (message: string) => new AdminApiError(403, 'csrf_failed', message)
export const notFound = (message: string) => new AdminApiError(404, 'not_found', message)
export const conflict = (message: string) => new AdminApiError(409, 'conflict', message)
export const rateLimited = (retryAfterSeconds: number) => new AdminApiError(429, 'rate_limited', `Too many requests; retry in ${retryAfterSeconds} s`, retryAfterSeconds)

const SCIM_STATUS_CODES: Partial<Record<number, AdminApiError['status'] & number>> = { 400: 400, 401: 401, 403: 403, 404: 404, 409: 409, 412: 409, 413: 413, 415: 415, 429: 429 }
const CODE_OF_STATUS: Record<AdminApiError['status'], AdminErrorCode> = {
  400: 'invalid_request',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  500: 'internal_error',
}

/**
 * ScimErrors from the domains and the store (a taken id is 409 uniqueness, a bad filter 400
 * invalidFilter) keep their status and detail; Fastify's own errors (invalid JSON, schema validation,
 * body limits) become their admin equivalents; anything else is a generic 500.
 */
export function toAdminApiError(error: unknown): AdminApiError {
  if (error instanceof AdminApiError) return error
  if (isScimError(error)) return fromScimError(error)
  const e = error as Partial<FastifyError>
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AdminApiError(413, 'payload_too_large', 'The request body is too large')
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AdminApiError(415, 'unsupported_media_type', 'Send application/json')
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return invalidRequest('The request body is empty')
  }
  if (error instanceof SyntaxError || e.code === 'FST_ERR_CTP_INVALID_JSON_BODY') return invalidRequest('The request body is not valid JSON')
  // Schema validation: Fastify's message names the field ("body/name must NOT have fewer than 1 characters").
  if (e.validation || e.code === 'FST_ERR_VALIDATION') return invalidRequest(e.message ?? 'Invalid request')
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    const status = SCIM_STATUS_CODES[e.statusCode] ?? 400
    return new AdminApiError(status, CODE_OF_STATUS[status], status === 400 ? 'Bad request' : (e.message ?? 'Request refused'))
  }
  return new AdminApiError(500, 'internal_error', 'Internal server error', undefined, { cause: error })
}

function fromScimError(e: ScimError): AdminApiError {
  const status = SCIM_STATUS_CODES[e.status]
  if (!status) return new AdminApiError(500, 'internal_error', 'Internal server error', undefined, { cause: e.cause ?? e })
  return new AdminApiError(status, CODE_OF_STATUS[status], e.detail)
}

export function sendAdminError(reply: FastifyReply, error: AdminApiError): FastifyReply {
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds))
  if (error.status === 401) reply.header('www-authenticate', 'Bearer realm="roster-admin"')
  return reply
    .code(error.status)
    .header('cache-control', 'no-store')
    .type('application/json; charset=utf-8')
    .send({ error: { code: error.code, message: error.message } })
}

/**
 * The one place admin API errors become responses, registered on the admin plugin's scope. Unknown
 * errors answer a generic 500 and are logged with the request id; stack traces never reach a client.
 */
export function registerAdminErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const admin = toAdminApiError(error)
    if (admin.status >= 500) request.log.error({ err: admin.cause ?? error }, 'admin request failed')
    else request.log.info({ status: admin.status, code: admin.code }, 'admin request rejected')
    return sendAdminError(reply, admin)
  })
  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    return sendAdminError(reply, notFound(`No admin API endpoint at ${request.method} ${request.url.split('?')[0]}`))
  })
}
