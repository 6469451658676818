import { test } from 'node:test'
import assert from 'node:assert/strict'
import { renderBulkResponse } from '../../../src/scim/bulk/bulk-response.js'
import { invalidSyntax, preconditionFailed } from '../../../src/scim/errors.js'
import { BULK_RESPONSE, ERROR } from '../../../src/scim/urns.js'

test('renders RFC 7644 §3.7.3: status as a string, location, version; an error as the §3.12 Error body', () => {
  const location = 'https://example.com/v2/Users/92b725cd9465'
  const rendered = renderBulkResponse([
    { method: 'POST', bulkId: 'qwerty', location, version: 'W/"1"', status: 201 },
    { method: 'POST', bulkId: 'ytrewq', status: 400, error: invalidSyntax('Request is unparsable, syntactically incorrect, or violates schema.') },
    { method: 'PUT', location, status: 412, error: preconditionFailed('Failed to update. Resource changed on the server.') },
    { method: 'DELETE', location, status: 204 },
    { status: 400, error: invalidSyntax('Operations[4] must be an object') },
  ])
  assert.deepStrictEqual(rendered, {
    schemas: [BULK_RESPONSE],
    Operations: [
      { location, method: 'POST', bulkId: 'qwerty', version: 'W/"1"', status: '201' },
      {
        method: 'POST',
        bulkId: 'ytrewq',
        status: '400',
        response: { schemas: [ERROR], status: '400', scimType: 'invalidSyntax', detail: 'Request is unparsable, syntactically incorrect, or violates schema.' },
      },
      { location, method: 'PUT', status: '412', response: { schemas: [ERROR], status: '412', detail: 'Failed to update. Resource changed on the server.' } },
      { location, method: 'DELETE', status: '204' },
      { status: '400', response: { schemas: [ERROR], status: '400', scimType: 'invalidSyntax', detail: 'Operations[4] must be an object' } },
    ],
  })
})

test('no operations processed: an empty Operations list', () => {
  assert.deepStrictEqual(renderBulkResponse([]), { schemas: [BULK_RESPONSE], Operations: [] })
})
