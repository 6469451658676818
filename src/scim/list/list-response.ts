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
