import type { ScimObject } from '../schema/attribute.js'
import { LIST_RESPONSE } from '../urns.js'

/**
 * Wraps one page of resources in a ListResponse (RFC 7644 §3.4.2): `totalResults` counts every match,
 * `itemsPerPage` the resources on this page, `startIndex` is the 1-based index of the first of them.
 *
 * @example toListResponse([user], 7, 1)
 *   // { schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: 7, itemsPerPage: 1, startIndex: 1, Resources: [user] }
 */
export function toListResponse(resources: readonly ScimObject[], totalResults: number, startIndex: number): ScimObject {
  return { schemas: [LIST_RESPONSE], totalResults, itemsPerPage: resources.length, startIndex, Resources: [...resources] }
}

/**
 * Wraps one cursor-paged page in a ListResponse (RFC 9865 §2): no `startIndex`; `nextCursor` on every
 * page but the last ("MUST be omitted from a response only to indicate that there are no more result
 * pages"); `totalResults` left out only when the caller has none (RFC 9865 §2 allows omitting it).
 *
 * @example toCursorListResponse([user], { totalResults: 7, nextCursor: 'eyJ2Ijox…' })
 *   // { schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: 7, itemsPerPage: 1, nextCursor: 'eyJ2Ijox…', Resources: [user] }
 */
export function toCursorListResponse(resources: readonly ScimObject[], page: { readonly totalResults?: number; readonly nextCursor?: string }): ScimObject {
  return {
    schemas: [LIST_RESPONSE],
    ...(page.totalResults !== undefined ? { totalResults: page.totalResults } : {}),
    itemsPerPage: resources.length,
    ...(page.nextCursor !== undefined ? { nextCursor: page.nextCursor } : {}),
    Resources: [...resources],
  }
}

/**
 * toListResponse as JSON text, around resources that are JSON text already (each one a rendered resource):
 * the same keys in the same order, so a page of stored documents is answered without parsing them.
 */
export function listResponseJson(resources: readonly string[], totalResults: number, startIndex: number): string {
  return `{"schemas":["${LIST_RESPONSE}"],"totalResults":${totalResults},"itemsPerPage":${resources.length},"startIndex":${startIndex},"Resources":[${resources.join(',')}]}`
}

/** toCursorListResponse as JSON text, around resources that are JSON text already. */
export function cursorListResponseJson(resources: readonly string[], page: { readonly totalResults?: number; readonly nextCursor?: string }): string {
  const total = page.totalResults !== undefined ? `,"totalResults":${page.totalResults}` : ''
  const next = page.nextCursor !== undefined ? `,"nextCursor":${JSON.stringify(page.nextCursor)}` : ''
  return `{"schemas":["${LIST_RESPONSE}"]${total},"itemsPerPage":${resources.length}${next},"Resources":[${resources.join(',')}]}`
}
