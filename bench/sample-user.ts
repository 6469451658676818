import type { ScimObject } from '../src/scim/index.js'
import { userBody } from './seed-data.js'

/**
 * What GET /Users/{id} answers for a seeded user (same generator, plus id, groups and meta), for the
 * baseline server to send from memory. About 1 KB of JSON.
 */
export function sampleUserRepresentation(): ScimObject {
  const id = '2819c223-7f76-453a-919d-413861904646'
  const base = 'http://127.0.0.1:8080/scim/v2'
  const body = userBody(4242, 'b1f7a9a0-3c1e-4d55-9a59-6f4a4bbde7c2')
  return {
    schemas: body.schemas,
    id,
    ...body,
    groups: [{ value: 'e9e30dba-f08f-4109-8486-d5c6a331660a', $ref: `${base}/Groups/e9e30dba-f08f-4109-8486-d5c6a331660a`, display: 'All Staff', type: 'direct' }],
    meta: {
      resourceType: 'User',
      created: '2024-01-01T01:10:42.000Z',
      lastModified: '2024-01-01T01:10:42.000Z',
      location: `${base}/Users/${id}`,
      version: 'W/"1"',
    },
  }
}
