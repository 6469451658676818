import type { Socket } from 'node:net'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ScimError, internalError, invalidSyntax, isScimError, notFound, payloadTooLarge, renderScimError, unsupportedMediaType } from '../scim/index.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The SCIM error a request was answered with, for the audit log's record of rejected requests. */
    scimError?: ScimError
  }
}

export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8'

/** RFC 7644 §3.12: `status` is a string in the body. */
export function scimErrorBody(e: ScimError): Record<string, unknown> {
  return renderScimError(e)
}

/** Fastify's own errors (body parsing, limits) in SCIM terms; anything unknown becomes a generic 500. */
export function toScimError(error: unknown): ScimError {
  if (isScimError(error)) return error
  const e = error as Partial<FastifyError> & { statusCode?: number }
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return payloadTooLarge('The request body exceeds the maximum payload size')
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return unsupportedMediaType('Send application/scim+json or application/json')
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return invalidSyntax('The request body is empty')
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return invalidSyntax('Content-Length does not match the body')
    case 'FST_ERR_BAD_URL':
      return new ScimError(400, 'The URL is not valid (malformed percent-encoding)')
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new ScimError(414, 'A path segment of the URL is too long')
  }
  if (error instanceof SyntaxError || e.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return invalidSyntax(`The request body is not valid JSON: ${e.message ?? ''}`.trim())
  }
  if (e.validation || e.code === 'FST_ERR_VALIDATION') return invalidSyntax(e.message ?? 'Invalid request')
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    if (e.statusCode === 404) return notFound('Not found')
    if (e.statusCode === 413) return payloadTooLarge('The request body exceeds the maximum payload size')
    if (e.statusCode === 415) return unsupportedMediaType('Send application/scim+json or application/json')
    return new ScimError(400, e.message ?? 'Bad request', e.statusCode === 400 ? 'invalidSyntax' : undefined)
  }
  return internalError('Internal server error', error)
}

export function sendScimError(reply: FastifyReply, error: ScimError): FastifyReply {
  reply.request.scimError = error
  if (error.status === 401) reply.header('www-authenticate', 'Bearer realm="roster", error="invalid_token"')
  return reply.code(error.status).type(SCIM_CONTENT_TYPE).send(scimErrorBody(error))
}

/**
 * The one place errors become SCIM error responses, registered on the SCIM plugin's scope.
 * Unknown errors answer a generic 500 and are logged with the request id; stack traces never reach a client.
 */
export function registerScimErrorHandling(app: FastifyInstance): void {
  registerScimErrorHandler(app)
  registerScimNotFoundHandler(app)
}

/** The error handler alone, for a scope without a prefix whose child scopes set their own 404 handler. */
export function registerScimErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const scim = toScimError(error)
    if (scim.status >= 500) request.log.error({ err: scim.cause ?? error }, 'request failed')
    else request.log.info({ status: scim.status, scimType: scim.scimType, detail: scim.detail }, 'request rejected')
    return sendScimError(reply, scim)
  })
}

/** 404 in the SCIM error format for any URL under the scope's prefix that no route matches. */
export function registerScimNotFoundHandler(app: FastifyInstance): void {
  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    return sendScimError(reply, notFound(`No SCIM endpoint at ${request.method} ${request.url.split('?')[0]}`))
  })
}

/**
 * Errors Node's HTTP parser raises before Fastify sees a request (a URL or headers over the 16 KiB limit,
 * malformed HTTP). Answered in the SCIM error format too, then the connection is closed.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) return
  const scim = error.code === 'HPE_HEADER_OVERFLOW' ? new ScimError(431, 'The request line or headers are too large; send long filters with POST /.search') : new ScimError(400, 'Malformed HTTP request')
  const body = JSON.stringify(scimErrorBody(scim))
  const reason = scim.status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'
  socket.end(
    `HTTP/1.1 ${scim.status} ${reason}\r\nContent-Type: ${SCIM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  )
}
