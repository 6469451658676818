import { ERROR } from './urns.js'

/**
 * The one error type of Roster's SCIM layer. It carries the HTTP status and the RFC 7644 §3.12 scimType
 * from where the problem is known (parser, PATCH engine, store adapter) to the HTTP edge, which is the only
 * place that turns it into a response.
 */
export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive'
  // RFC 9865 §2.1 (cursor pagination) extends Table 9 with these three.
  | 'invalidCursor'
  | 'expiredCursor'
  | 'invalidCount'

export type ScimStatus = 304 | 400 | 401 | 403 | 404 | 405 | 409 | 412 | 413 | 414 | 415 | 429 | 431 | 500 | 501 | 503

export class ScimError extends Error {
  override readonly name = 'ScimError'
  constructor(
    readonly status: ScimStatus,
    readonly detail: string,
    readonly scimType?: ScimType,
    options?: { cause?: unknown },
  ) {
    super(detail, options)
  }
}

export const isScimError = (e: unknown): e is ScimError => e instanceof ScimError

// Named constructors pair each scimType with the status RFC 7644 §3.12 Table 9 gives it,
// so a wrong pair cannot be written.
export const invalidFilter = (detail: string) => new ScimError(400, detail, 'invalidFilter')
export const tooMany = (detail: string) => new ScimError(400, detail, 'tooMany')
export const uniqueness = (detail: string) => new ScimError(409, detail, 'uniqueness')
export const mutability = (detail: string) => new ScimError(400, detail, 'mutability')
export const invalidSyntax = (detail: string) => new ScimError(400, detail, 'invalidSyntax')
export const invalidPath = (detail: string) => new ScimError(400, detail, 'invalidPath')
export const noTarget = (detail: string) => new ScimError(400, detail, 'noTarget')
export const invalidValue = (detail: string) => new ScimError(400, detail, 'invalidValue')
export const invalidVers = (detail: string) => new ScimError(400, detail, 'invalidVers')
export const sensitive = (detail: string) => new ScimError(403, detail, 'sensitive')
/** RFC 9865 §2.1: a cursor that is malformed or belongs to another query. */
export const invalidCursor = (detail: string) => new ScimError(400, detail, 'invalidCursor')
/** RFC 9865 §2.1: a cursor older than cursorTimeout. Roster's cursors do not expire, so it is not raised. */
export const expiredCursor = (detail: string) => new ScimError(400, detail, 'expiredCursor')
/** RFC 9865 §2.1: a count that is not a valid page size for a cursor-paged query. */
export const invalidCount = (detail: string) => new ScimError(400, detail, 'invalidCount')

export const badRequest = (detail: string) => new ScimError(400, detail)
export const unauthorized = (detail = 'Authentication required') => new ScimError(401, detail)
export const forbidden = (detail: string) => new ScimError(403, detail)
export const notFound = (detail: string) => new ScimError(404, detail)
export const methodNotAllowed = (detail: string) => new ScimError(405, detail)
/** RFC 7644 §3.7.1: a bulkId reference that cannot be resolved (undeclared, or its POST failed). */
export const conflict = (detail: string) => new ScimError(409, detail)
/** RFC 7644 §3.14: a version precondition (If-Match) failed. */
export const preconditionFailed = (detail: string) => new ScimError(412, detail)
/** RFC 7644 §3.7.4 shows 413 with no scimType. */
export const payloadTooLarge = (detail: string) => new ScimError(413, detail)
export const unsupportedMediaType = (detail: string) => new ScimError(415, detail)
export const tooManyRequests = (detail: string) => new ScimError(429, detail)
export const notImplemented = (detail: string) => new ScimError(501, detail)
export const internalError = (detail = 'Internal server error', cause?: unknown) => new ScimError(500, detail, undefined, { cause })

/**
 * The RFC 7644 §3.12 Error body: `status` is a JSON string. The one rendering of an error, for the HTTP
 * response and for a failed operation inside a BulkResponse (RFC 7644 §3.7.3).
 */
export function renderScimError(e: ScimError): { schemas: string[]; status: string; scimType?: ScimType; detail: string } {
  return {
    schemas: [ERROR],
    status: String(e.status),
    ...(e.scimType ? { scimType: e.scimType } : {}),
    detail: e.detail,
  }
}
