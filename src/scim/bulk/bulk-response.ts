import { renderScimError, type ScimError } from '../errors.js'
import type { ScimObject } from '../schema/attribute.js'
import { BULK_RESPONSE } from '../urns.js'

/** The outcome of one operation of a bulk request (RFC 7644 §3.7.3). */
export interface BulkOperationResult {
  /** As the client sent it; absent only when it sent none a result could echo. */
  readonly method?: string
  readonly bulkId?: string
  /** The resource's ETag after the operation. */
  readonly version?: string
  /** The resource's URL; RFC 7644 §3.7 makes it REQUIRED "except in the event of a POST failure". */
  readonly location?: string
  /** The HTTP status the operation would have had on its own: 201, 200, 204, or the error's. */
  readonly status: number
  /** For a failed operation: rendered as its `response` (RFC 7644 §3.7: "the response body MUST be included"). */
  readonly error?: ScimError
}

/**
 * The BulkResponse (RFC 7644 §3.7.3): one entry per operation processed, `status` as a string as in the
 * RFC's examples, and for an error the RFC 7644 §3.12 Error body as `response`. Successful operations carry
 * no `response` ("for normal completion, the server MAY elect to omit the response body").
 */
export function renderBulkResponse(results: readonly BulkOperationResult[]): ScimObject {
  return {
    schemas: [BULK_RESPONSE],
    Operations: results.map((r) => ({
      ...(r.location !== undefined ? { location: r.location } : {}),
      ...(r.method !== undefined ? { method: r.method } : {}),
      ...(r.bulkId !== undefined ? { bulkId: r.bulkId } : {}),
      ...(r.version !== undefined ? { version: r.version } : {}),
      status: String(r.status),
      ...(r.error ? { response: renderScimError(r.error) } : {}),
    })),
  }
}
