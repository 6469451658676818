import { invalidSyntax, invalidValue, payloadTooLarge, type ScimError } from '../errors.js'
import { BULK_REQUEST } from '../urns.js'

export type BulkMethod = 'POST' | 'PUT' | 'PATCH' | 'DELETE'

/** One operation of a BulkRequest that can run (RFC 7644 §3.7). */
export interface BulkOperation {
  readonly method: BulkMethod
  /** REQUIRED for POST (RFC 7644 §3.7); other methods may carry one, which is only echoed. */
  readonly bulkId?: string
  /** The ETag the client holds (for PUT, PATCH, DELETE): the operation's If-Match. */
  readonly version?: string
  /** As sent, e.g. "/Users" or "/Groups/bulkId:qwerty". */
  readonly path: string
  /** The resource type endpoint the path names, e.g. "/Users". */
  readonly endpoint: string
  /** The resource id the path names (percent-decoded, possibly "bulkId:x"); absent for POST. */
  readonly id?: string
  /** REQUIRED for POST, PUT and PATCH; never read for DELETE. */
  readonly data?: unknown
}

/**
 * An operation that cannot run as sent. It fails alone, with `rejected` as its result: RFC 7644 §3.7 has
 * the service provider "continue performing as many changes as possible".
 */
export interface RejectedBulkOperation {
  readonly rejected: ScimError
  /** Echoed in the result when the client sent them as strings. */
  readonly method?: string
  readonly bulkId?: string
}

export interface BulkRequest {
  /** Stop after this many failed operations (RFC 7644 §3.7.3); absent: run them all. */
  readonly failOnErrors?: number
  readonly operations: readonly (BulkOperation | RejectedBulkOperation)[]
}

export interface BulkLimits {
  /** RFC 7644 §3.7.4, advertised as ServiceProviderConfig bulk.maxOperations. */
  readonly maxOperations: number
}

export const isRejectedBulkOperation = (op: BulkOperation | RejectedBulkOperation): op is RejectedBulkOperation => 'rejected' in op

/** RFC 7644 §3.7.4: 413, and "the returned response MUST specify the limit exceeded". */
export const bulkTooManyOperations = (count: number, maxOperations: number) =>
  payloadTooLarge(`The number of operations (${count}) exceeds the maxOperations (${maxOperations})`)

/** RFC 7644 §3.7.4: 413 naming the limit, worded as the RFC's example. */
export const bulkPayloadTooLarge = (maxPayloadSize: number) =>
  payloadTooLarge(`The size of the bulk operation exceeds the maxPayloadSize (${maxPayloadSize})`)

const METHODS: readonly BulkMethod[] = ['POST', 'PUT', 'PATCH', 'DELETE']
const SEGMENT = '[^/?#]+'
const ENDPOINT_PATH = new RegExp(`^(/${SEGMENT})/?$`)
const RESOURCE_PATH = new RegExp(`^(/${SEGMENT})/(${SEGMENT})/?$`)

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** A member of a message object by name in any case (RFC 7643 §2.1); two spellings of one name are ambiguous. */
function getKey(obj: Record<string, unknown>, name: string, where: string): unknown {
  const lower = name.toLowerCase()
  const keys = Object.keys(obj).filter((k) => k.toLowerCase() === lower)
  if (keys.length > 1) throw invalidSyntax(`${where} has "${name}" more than once (${keys.join(', ')})`)
  return keys.length === 1 ? obj[keys[0]!] : undefined
}

/**
 * Parses the body of POST /Bulk (RFC 7644 §3.7). The request as a whole is refused (thrown) when it cannot
 * be read as a BulkRequest; an operation that cannot run is returned as a RejectedBulkOperation, so the
 * others still run.
 *
 * Throws ScimError:
 * - 413 (no scimType, RFC 7644 §3.7.4) naming maxOperations when `Operations` has more;
 * - 400 invalidSyntax: not an object, `schemas` without BulkRequest, `Operations` missing or not an array;
 * - 400 invalidValue: `failOnErrors` not an integer ≥ 1; a bulkId declared twice (RFC 7644 §3.7: "unique
 *   within a bulk request").
 *
 * Rejects an operation (400) that is not an object, has no `method` or one other than POST, PUT, PATCH,
 * DELETE, a POST without `bulkId` (RFC 7644 §3.7: "REQUIRED when method is POST"), a `path` that is not
 * "/{endpoint}" for POST and "/{endpoint}/{id}" otherwise, or no `data` for POST, PUT and PATCH.
 *
 * Accepted on input: member names in any case (RFC 7643 §2.1); `method` in any case; a missing `schemas`;
 * one trailing slash on `path`.
 *
 * @example parseBulkRequest({ Operations: [{ method: 'DELETE', path: '/Users/2819c223' }] }, { maxOperations: 1000 })
 *   // → { operations: [{ method: 'DELETE', path: '/Users/2819c223', endpoint: '/Users', id: '2819c223' }] }
 */
export function parseBulkRequest(body: unknown, limits: BulkLimits): BulkRequest {
  if (!isObject(body)) throw invalidSyntax('A BulkRequest must be a JSON object (RFC 7644 §3.7)')
  const where = 'The BulkRequest'
  const schemas = getKey(body, 'schemas', where)
  if (schemas !== undefined) {
    const ok = Array.isArray(schemas) && schemas.some((s) => typeof s === 'string' && s.toLowerCase() === BULK_REQUEST.toLowerCase())
    if (!ok) throw invalidSyntax(`"schemas" of a BulkRequest must contain "${BULK_REQUEST}"`)
  }
  const raw = getKey(body, 'Operations', where)
  if (!Array.isArray(raw)) throw invalidSyntax('A BulkRequest must have an "Operations" array (RFC 7644 §3.7)')
  if (raw.length > limits.maxOperations) throw bulkTooManyOperations(raw.length, limits.maxOperations)
  const failOnErrors = getKey(body, 'failOnErrors', where)
  if (failOnErrors !== undefined && failOnErrors !== null && !(Number.isInteger(failOnErrors) && (failOnErrors as number) >= 1)) {
    throw invalidValue(`"failOnErrors" must be an integer of at least 1, got ${JSON.stringify(failOnErrors)}`)
  }
  const operations = raw.map((op, i) => parseOperation(op, `Operations[${i}]`))
  const seen = new Map<string, number>()
  operations.forEach((op, i) => {
    if (op.bulkId === undefined) return
    const first = seen.get(op.bulkId)
    if (first !== undefined) throw invalidValue(`bulkId "${op.bulkId}" is declared by Operations[${first}] and Operations[${i}]; a bulkId is unique within a request (RFC 7644 §3.7)`)
    seen.set(op.bulkId, i)
  })
  return { ...(typeof failOnErrors === 'number' ? { failOnErrors } : {}), operations }
}

function parseOperation(raw: unknown, where: string): BulkOperation | RejectedBulkOperation {
  if (!isObject(raw)) return { rejected: invalidSyntax(`${where} must be an object`) }
  let method: unknown
  let bulkId: unknown
  try {
    method = getKey(raw, 'method', where)
    bulkId = getKey(raw, 'bulkId', where)
  } catch (e) {
    return { rejected: e as ScimError }
  }
  const echo = { ...(typeof method === 'string' ? { method } : {}), ...(typeof bulkId === 'string' ? { bulkId } : {}) }
  try {
    return { ...echo, ...readOperation(raw, method, bulkId, where) }
  } catch (e) {
    return { rejected: e as ScimError, ...echo }
  }
}

/** Throws the ScimError that rejects the operation. */
function readOperation(raw: Record<string, unknown>, rawMethod: unknown, bulkId: unknown, where: string): BulkOperation {
  if (typeof rawMethod !== 'string') throw invalidValue(`${where} needs a "method" (RFC 7644 §3.7)`)
  const method = METHODS.find((m) => m === rawMethod.toUpperCase())
  if (!method) throw invalidValue(`${where}: method "${rawMethod}" is not one of ${METHODS.join(', ')} (RFC 7644 §3.7)`)
  if (bulkId !== undefined && (typeof bulkId !== 'string' || bulkId === '')) throw invalidValue(`${where}: "bulkId" must be a non-empty string`)
  if (method === 'POST' && bulkId === undefined) throw invalidValue(`${where}: "bulkId" is REQUIRED when method is POST (RFC 7644 §3.7)`)
  const version = getKey(raw, 'version', where)
  if (version !== undefined && typeof version !== 'string') throw invalidValue(`${where}: "version" must be a string (an ETag)`)
  const path = getKey(raw, 'path', where)
  if (typeof path !== 'string') throw invalidValue(`${where} needs a "path" (RFC 7644 §3.7)`)
  const target = method === 'POST' ? ENDPOINT_PATH.exec(path) : RESOURCE_PATH.exec(path)
  if (!target) {
    const shape = method === 'POST' ? 'a resource type endpoint such as "/Users"' : 'a resource such as "/Users/{id}"'
    throw invalidValue(`${where}: path "${path}" of a ${method} must name ${shape} (RFC 7644 §3.7)`)
  }
  const data = getKey(raw, 'data', where)
  if (method !== 'DELETE' && (data === undefined || data === null)) throw invalidValue(`${where}: "data" is REQUIRED when method is ${method} (RFC 7644 §3.7)`)
  return {
    method,
    ...(typeof bulkId === 'string' ? { bulkId } : {}),
    ...(version !== undefined ? { version } : {}),
    path,
    endpoint: target[1]!,
    ...(target[2] !== undefined ? { id: decodeSegment(target[2], path, where) } : {}),
    ...(method !== 'DELETE' ? { data } : {}),
  }
}

function decodeSegment(segment: string, path: string, where: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    throw invalidValue(`${where}: path "${path}" has a malformed percent-encoding`)
  }
}
