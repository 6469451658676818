import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ERROR, ScimError, internalError, invalidSyntax, isScimError, notFound, payloadTooLarge, unsupportedMediaType } from '../scim/index.js'

export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8'

/** RFC 7644 §3.12: `status` is a string in the body. */
export function scimErrorBody(e: ScimError): Record<string, unknown> {
  return {
    schemas: [ERROR],
    status: String(e.status),
    ...(e.scimType ? { scimType: e.scimType } : {}),
    detail: e.detail,
  }
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
  if (error.status === 401) reply.header('www-authenticate', 'Bearer realm="roster", error="invalid_token"')
  return reply.code(error.status).type(SCIM_CONTENT_TYPE).send(scimErrorBody(error))
}

/**
 * The one place errors become SCIM error responses, registered on the SCIM plugin's scope.
 * Unknown errors answer a generic 500 and are logged with the request id; stack traces never reach a client.
 */
export function registerScimErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const scim = toScimError(error)
    if (scim.status >= 500) request.log.error({ err: scim.cause ?? error }, 'request failed')
    else request.log.info({ status: scim.status, scimType: scim.scimType, detail: scim.detail }, 'request rejected')
    return sendScimError(reply, scim)
  })
  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    return sendScimError(reply, notFound(`No SCIM endpoint at ${request.method} ${request.url.split('?')[0]}`))
  })
}
