import { invalidCount, invalidCursor, invalidFilter, invalidPath, invalidSyntax, invalidValue, type ScimError } from '../errors.js'
import type { FilterNode } from '../filter/filter-ast.js'
import { parseFilter } from '../filter/parse-filter.js'
import { parseAttributePath, type AttributePath } from '../path/attribute-path.js'
import { SEARCH_REQUEST } from '../urns.js'

/** A query on a resource collection (RFC 7644 §3.4.2), from GET parameters or a POST /.search body. */
export interface ListQuery {
  readonly filter?: FilterNode
  readonly sortBy?: AttributePath
  readonly sortOrder: 'ascending' | 'descending'
  /** 1-based (RFC 7644 §3.4.2.4); at least 1. 1 (and unused) when `cursor` is present. */
  readonly startIndex: number
  /** Between 0 and maxResults; 0 asks for totalResults only. */
  readonly count: number
  /**
   * Present when the client asked for cursor paging (RFC 9865 §2): '' for the first page (`?cursor` with
   * no value, or `"cursor": ""`), else the nextCursor of a previous page, still opaque here (decodeListCursor
   * reads it). Holds only RFC 3986 §2.3 unreserved characters.
   */
  readonly cursor?: string
  readonly attributes?: string[]
  readonly excludedAttributes?: string[]
}

export interface ListQueryOptions {
  /** The most resources one page may hold (ServiceProviderConfig filter.maxResults). */
  readonly maxResults: number
  /** The page size when the client sends no count; defaults to maxResults. */
  readonly defaultCount?: number
}

/** The parameters as the client gave them, before their rules are applied. */
interface RawQuery {
  readonly filter?: string
  readonly sortBy?: string
  readonly sortOrder?: string
  readonly startIndex?: string | number
  readonly count?: string | number
  readonly cursor?: string
  readonly attributes?: string[]
  readonly excludedAttributes?: string[]
}

/**
 * Reads the query string of GET /Users, /Groups (RFC 7644 §3.4.2). Values may be strings or arrays of
 * strings (a repeated parameter: the first counts); parameter names match case-insensitively; unknown
 * parameters are ignored; an empty value counts as absent, except `cursor`, whose presence asks for
 * cursor paging (RFC 9865 §2: "empty or omitted for the first request"). `attributes` and
 * `excludedAttributes` are comma-separated lists (RFC 7644 §3.9).
 *
 * @example parseListQuery({ filter: 'userName eq "bjensen"', count: '10' }, { maxResults: 200 })
 *   // { filter: eq('userName', 'bjensen'), sortOrder: 'ascending', startIndex: 1, count: 10 }
 * @throws ScimError 400 invalidFilter (filter), invalidPath (sortBy), invalidValue (startIndex or count not
 *   an integer, sortOrder not ascending/descending, startIndex with cursor), invalidCursor (a cursor with
 *   characters outside RFC 3986 §2.3's unreserved set), invalidCount (count not an integer, cursor paging).
 */
export function parseListQuery(query: Record<string, unknown>, options: ListQueryOptions): ListQuery {
  const params = new Map<string, unknown>()
  for (const [key, value] of Object.entries(query)) {
    const lower = key.toLowerCase()
    if (!params.has(lower)) params.set(lower, Array.isArray(value) ? value[0] : value)
  }
  const text = (name: string): string | undefined => {
    const value = params.get(name.toLowerCase())
    if (value === undefined || value === null) return undefined
    if (typeof value === 'string') return value
    if (typeof value === 'number' || typeof value === 'boolean') return String(value)
    throw invalidValue(`The ${name} parameter must be text (RFC 7644 §3.4.2)`)
  }
  const list = (name: string) => {
    const value = text(name)
    return value === undefined ? undefined : splitNames([value])
  }
  const cursor = params.has('cursor') ? (text('cursor') ?? '') : undefined
  return buildListQuery(
    {
      filter: text('filter'),
      sortBy: text('sortBy'),
      sortOrder: text('sortOrder'),
      startIndex: text('startIndex'),
      count: text('count'),
      ...(cursor !== undefined ? { cursor } : {}),
      attributes: list('attributes'),
      excludedAttributes: list('excludedAttributes'),
    },
    options,
  )
}

/**
 * Reads the body of POST /.search (RFC 7644 §3.4.3). `schemas` should hold
 * urn:ietf:params:scim:api:messages:2.0:SearchRequest; a body without `schemas` is accepted. Field names
 * match case-insensitively; null counts as absent. `attributes` and `excludedAttributes` are arrays of
 * strings (a comma-separated string is accepted too); `startIndex` and `count` are numbers (numeric strings
 * accepted). `cursor` is a string, "" for the first page (RFC 9865 §3). The rules of parseListQuery then apply.
 *
 * @throws ScimError 400 invalidSyntax (body not an object, `schemas` without the SearchRequest URN),
 *   invalidFilter, invalidPath (sortBy), invalidValue (a field of the wrong type or value), invalidCursor
 *   (a cursor that is not a string of unreserved characters), invalidCount (count, cursor paging).
 */
export function parseSearchRequest(body: unknown, options: ListQueryOptions): ListQuery {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidSyntax('A SearchRequest body must be a JSON object (RFC 7644 §3.4.3)')
  }
  const fields = new Map<string, unknown>()
  for (const [key, value] of Object.entries(body)) {
    const lower = key.toLowerCase()
    if (!fields.has(lower) && value !== null && value !== undefined) fields.set(lower, value)
  }
  const schemas = fields.get('schemas')
  if (schemas !== undefined) {
    const urn = SEARCH_REQUEST.toLowerCase()
    if (!Array.isArray(schemas) || !schemas.some((s) => typeof s === 'string' && s.toLowerCase() === urn)) {
      throw invalidSyntax(`A SearchRequest's schemas must contain "${SEARCH_REQUEST}" (RFC 7644 §3.4.3)`)
    }
  }
  const string = (name: string, raise: (detail: string) => Error): string | undefined => {
    const value = fields.get(name.toLowerCase())
    if (value === undefined || typeof value === 'string') return value
    throw raise(`"${name}" must be a string (RFC 7644 §3.4.3)`)
  }
  const integer = (name: string): string | number | undefined => {
    const value = fields.get(name.toLowerCase())
    if (value === undefined || typeof value === 'string' || typeof value === 'number') return value
    throw invalidValue(`"${name}" must be an integer (RFC 7644 §3.4.3)`)
  }
  const list = (name: string): string[] | undefined => {
    const value = fields.get(name.toLowerCase())
    if (value === undefined) return undefined
    if (typeof value === 'string') return splitNames([value])
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return splitNames(value as string[])
    throw invalidValue(`"${name}" must be an array of attribute names (RFC 7644 §3.4.3)`)
  }
  // RFC 9865 §3: the cursor travels in the body as `"cursor": ""` for the first page.
  const cursor = string('cursor', invalidCursor)
  return buildListQuery(
    {
      filter: string('filter', invalidFilter),
      sortBy: string('sortBy', invalidPath),
      sortOrder: string('sortOrder', invalidValue),
      startIndex: integer('startIndex'),
      count: integer('count'),
      ...(cursor !== undefined ? { cursor } : {}),
      attributes: list('attributes'),
      excludedAttributes: list('excludedAttributes'),
    },
    options,
  )
}

/**
 * RFC 7644 §3.4.2.4 (pagination) and §3.4.2.3 (sorting) rules, shared by GET and POST /.search, and
 * RFC 9865 §2's for cursor paging: the same count rules (so maxPageSize is maxResults), startIndex unused.
 */
function buildListQuery(raw: RawQuery, options: ListQueryOptions): ListQuery {
  const filterText = raw.filter?.trim() ? raw.filter : undefined
  const sortByText = raw.sortBy?.trim()
  const cursor = raw.cursor
  const startIndex = parseInteger('startIndex', raw.startIndex, invalidValue)
  if (cursor !== undefined) {
    // RFC 9865 §2.4: "clients can use the 'startIndex' or 'cursor' query parameters to request a specific
    // method". It says nothing of both; answering one of them would silently ignore the other.
    if (startIndex !== undefined) throw invalidValue('startIndex (index paging) and cursor (cursor paging, RFC 9865 §2.4) cannot be combined; send one of them')
    // RFC 9865 §2: the value "may only contain characters from the unreserved characters set" of RFC 3986 §2.3.
    if (!/^[A-Za-z0-9\-._~]*$/.test(cursor)) throw invalidCursor(`The cursor "${truncate(cursor)}" is not one this server issued (RFC 9865 §2)`)
  }
  // RFC 9865 §2.1 names invalidCount for a bad count of a cursor-paged request.
  const count = parseInteger('count', raw.count, cursor !== undefined ? invalidCount : invalidValue)
  const maxResults = Math.max(0, options.maxResults)
  return {
    ...(filterText !== undefined ? { filter: parseFilter(filterText) } : {}),
    ...(sortByText ? { sortBy: parseAttributePath(sortByText) } : {}),
    sortOrder: parseSortOrder(raw.sortOrder),
    // "A value less than 1 SHALL be interpreted as 1."
    startIndex: startIndex === undefined ? 1 : Math.min(Math.max(1, startIndex), Number.MAX_SAFE_INTEGER),
    // "A negative value SHALL be interpreted as 0"; above maxResults the server returns maxResults (RFC 9865
    // §2 keeps both rules: the server "MUST NOT return more although it MAY return fewer results").
    count: Math.min(Math.max(0, count ?? options.defaultCount ?? maxResults), maxResults),
    ...(cursor !== undefined ? { cursor } : {}),
    ...(raw.attributes && raw.attributes.length > 0 ? { attributes: raw.attributes } : {}),
    ...(raw.excludedAttributes && raw.excludedAttributes.length > 0 ? { excludedAttributes: raw.excludedAttributes } : {}),
  }
}

function parseInteger(name: string, raw: string | number | undefined, raise: (detail: string) => ScimError): number | undefined {
  if (raw === undefined) return undefined
  if (typeof raw === 'number') {
    if (Number.isInteger(raw)) return raw
    throw raise(`${name} must be an integer, got ${raw} (RFC 7644 §3.4.2.4)`)
  }
  const text = raw.trim()
  if (text === '') return undefined
  if (!/^[+-]?\d+$/.test(text)) throw raise(`${name} must be an integer, got "${truncate(raw)}" (RFC 7644 §3.4.2.4)`)
  return Number(text)
}

function parseSortOrder(raw: string | undefined): 'ascending' | 'descending' {
  const lower = raw?.trim().toLowerCase()
  if (!lower || lower === 'ascending') return 'ascending'
  if (lower === 'descending') return 'descending'
  throw invalidValue(`sortOrder must be "ascending" or "descending", got "${truncate(raw ?? '')}" (RFC 7644 §3.4.2.3)`)
}

/** Splits comma-separated attribute names, trimmed, dropping empty ones. */
function splitNames(values: readonly string[]): string[] {
  return values.flatMap((v) => v.split(',')).map((n) => n.trim()).filter((n) => n !== '')
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 37)}...` : text
}
