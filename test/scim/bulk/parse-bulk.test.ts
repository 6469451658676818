import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { ScimError, type ScimType } from '../../../src/scim/errors.js'
import { parseBulkRequest, type BulkOperation, type BulkRequest, type RejectedBulkOperation } from '../../../src/scim/bulk/parse-bulk.js'
import { BULK_REQUEST, GROUP_SCHEMA, PATCH_OP, USER_SCHEMA } from '../../../src/scim/urns.js'

const limits = { maxOperations: 10 }
const body = (...Operations: unknown[]) => ({ schemas: [BULK_REQUEST], Operations })
const alice = { schemas: [USER_SCHEMA], userName: 'Alice' }

const validRequests: readonly { readonly title: string; readonly body: unknown; readonly expected: BulkRequest }[] = [
  {
    title: 'RFC 7644 §3.7.2: a User and a Group naming it by bulkId (references stay as sent)',
    body: body(
      { method: 'POST', path: '/Users', bulkId: 'qwerty', data: alice },
      { method: 'POST', path: '/Groups', bulkId: 'ytrewq', data: { schemas: [GROUP_SCHEMA], displayName: 'Tour Guides', members: [{ type: 'User', value: 'bulkId:qwerty' }] } },
    ),
    expected: {
      operations: [
        { method: 'POST', bulkId: 'qwerty', path: '/Users', endpoint: '/Users', data: alice },
        {
          method: 'POST',
          bulkId: 'ytrewq',
          path: '/Groups',
          endpoint: '/Groups',
          data: { schemas: [GROUP_SCHEMA], displayName: 'Tour Guides', members: [{ type: 'User', value: 'bulkId:qwerty' }] },
        },
      ],
    },
  },
  {
    title: 'RFC 7644 §3.7.3: PUT, PATCH and DELETE with version and failOnErrors',
    body: {
      schemas: [BULK_REQUEST],
      failOnErrors: 1,
      Operations: [
        { method: 'PUT', path: '/Users/b7c14771-226c-4d05-8860-134711653041', version: 'W/"3694e05e9dff591"', data: alice },
        { method: 'PATCH', path: '/Users/5d8d29d3-342c-4b5f-8683-a3cb6763ffcc', version: 'W/"edac3253e2c0ef2"', data: { schemas: [PATCH_OP], Operations: [] } },
        { method: 'DELETE', path: '/Users/e9025315-6bea-44e1-899c-1e07454e468b', version: 'W/"0ee8add0a938e1a"' },
      ],
    },
    expected: {
      failOnErrors: 1,
      operations: [
        { method: 'PUT', version: 'W/"3694e05e9dff591"', path: '/Users/b7c14771-226c-4d05-8860-134711653041', endpoint: '/Users', id: 'b7c14771-226c-4d05-8860-134711653041', data: alice },
        {
          method: 'PATCH',
          version: 'W/"edac3253e2c0ef2"',
          path: '/Users/5d8d29d3-342c-4b5f-8683-a3cb6763ffcc',
          endpoint: '/Users',
          id: '5d8d29d3-342c-4b5f-8683-a3cb6763ffcc',
          data: { schemas: [PATCH_OP], Operations: [] },
        },
        { method: 'DELETE', version: 'W/"0ee8add0a938e1a"', path: '/Users/e9025315-6bea-44e1-899c-1e07454e468b', endpoint: '/Users', id: 'e9025315-6bea-44e1-899c-1e07454e468b' },
      ],
    },
  },
  {
    title: 'a path naming a resource by bulkId (RFC 7644 §3.7.2)',
    body: body({ method: 'DELETE', path: '/Groups/bulkId:ytrewq' }),
    expected: { operations: [{ method: 'DELETE', path: '/Groups/bulkId:ytrewq', endpoint: '/Groups', id: 'bulkId:ytrewq' }] },
  },
  {
    title: 'member names in any case, method in any case, no schemas, a trailing slash (RFC 7643 §2.1)',
    body: { operations: [{ METHOD: 'post', Path: '/Users/', BULKID: 'q', Data: alice }] },
    expected: { operations: [{ method: 'POST', bulkId: 'q', path: '/Users/', endpoint: '/Users', data: alice }] },
  },
  {
    title: 'a percent-encoded id is decoded',
    body: body({ method: 'DELETE', path: '/Users/a%20b' }),
    expected: { operations: [{ method: 'DELETE', path: '/Users/a%20b', endpoint: '/Users', id: 'a b' }] },
  },
  {
    title: 'DELETE data is ignored; failOnErrors null is no limit (RFC 7643 §2.5)',
    body: { schemas: [BULK_REQUEST], failOnErrors: null, Operations: [{ method: 'DELETE', path: '/Users/1', data: { ignored: true } }] },
    expected: { operations: [{ method: 'DELETE', path: '/Users/1', endpoint: '/Users', id: '1' }] },
  },
  {
    title: 'no operations at all',
    body: body(),
    expected: { operations: [] },
  },
]

describe('parseBulkRequest: requests that parse (RFC 7644 §3.7)', () => {
  for (const { title, body: b, expected } of validRequests) {
    test(title, () => assert.deepStrictEqual(parseBulkRequest(b, limits), expected))
  }
})

const refusedRequests: readonly { readonly title: string; readonly body: unknown; readonly status: number; readonly scimType?: ScimType; readonly detail: RegExp }[] = [
  { title: 'not an object', body: [], status: 400, scimType: 'invalidSyntax', detail: /JSON object/ },
  { title: 'schemas without BulkRequest', body: { schemas: [PATCH_OP], Operations: [] }, status: 400, scimType: 'invalidSyntax', detail: /BulkRequest/ },
  { title: 'no Operations', body: { schemas: [BULK_REQUEST] }, status: 400, scimType: 'invalidSyntax', detail: /"Operations" array/ },
  { title: 'Operations twice in different case', body: { Operations: [], operations: [] }, status: 400, scimType: 'invalidSyntax', detail: /more than once/ },
  { title: 'failOnErrors 0', body: { ...body(), failOnErrors: 0 }, status: 400, scimType: 'invalidValue', detail: /failOnErrors/ },
  { title: 'failOnErrors 1.5', body: { ...body(), failOnErrors: 1.5 }, status: 400, scimType: 'invalidValue', detail: /failOnErrors/ },
  { title: 'failOnErrors as a string', body: { ...body(), failOnErrors: '1' }, status: 400, scimType: 'invalidValue', detail: /failOnErrors/ },
  {
    title: 'a bulkId declared twice (RFC 7644 §3.7: unique within a request)',
    body: body({ method: 'POST', path: '/Users', bulkId: 'x', data: alice }, { method: 'POST', path: '/Users', bulkId: 'x', data: alice }),
    status: 400,
    scimType: 'invalidValue',
    detail: /bulkId "x" is declared by Operations\[0\] and Operations\[1\]/,
  },
  {
    title: 'more operations than maxOperations: 413 naming the limit (RFC 7644 §3.7.4)',
    body: body(...Array.from({ length: 11 }, (_, i) => ({ method: 'DELETE', path: `/Users/${i}` }))),
    status: 413,
    detail: /^The number of operations \(11\) exceeds the maxOperations \(10\)$/,
  },
]

describe('parseBulkRequest: requests refused as a whole', () => {
  for (const { title, body: b, status, scimType, detail } of refusedRequests) {
    test(`${title} → ${status}${scimType ? ` ${scimType}` : ''}`, () => {
      assert.throws(
        () => parseBulkRequest(b, limits),
        (e: unknown) => e instanceof ScimError && e.status === status && e.scimType === scimType && detail.test(e.detail),
      )
    })
  }
})

const rejectedOperations: readonly { readonly title: string; readonly operation: unknown; readonly echo: Omit<RejectedBulkOperation, 'rejected'>; readonly scimType: ScimType; readonly detail: RegExp }[] = [
  { title: 'not an object', operation: 'DELETE /Users/1', echo: {}, scimType: 'invalidSyntax', detail: /must be an object/ },
  { title: 'no method', operation: { path: '/Users/1' }, echo: {}, scimType: 'invalidValue', detail: /needs a "method"/ },
  { title: 'method GET', operation: { method: 'GET', path: '/Users/1' }, echo: { method: 'GET' }, scimType: 'invalidValue', detail: /method "GET" is not one of POST, PUT, PATCH, DELETE/ },
  { title: 'POST without bulkId (RFC 7644 §3.7: REQUIRED)', operation: { method: 'POST', path: '/Users', data: alice }, echo: { method: 'POST' }, scimType: 'invalidValue', detail: /"bulkId" is REQUIRED when method is POST/ },
  { title: 'an empty bulkId', operation: { method: 'POST', bulkId: '', path: '/Users', data: alice }, echo: { method: 'POST', bulkId: '' }, scimType: 'invalidValue', detail: /non-empty string/ },
  { title: 'a numeric bulkId', operation: { method: 'POST', bulkId: 7, path: '/Users', data: alice }, echo: { method: 'POST' }, scimType: 'invalidValue', detail: /non-empty string/ },
  { title: 'no path', operation: { method: 'DELETE' }, echo: { method: 'DELETE' }, scimType: 'invalidValue', detail: /needs a "path"/ },
  { title: 'POST to a resource path', operation: { method: 'POST', bulkId: 'q', path: '/Users/1', data: alice }, echo: { method: 'POST', bulkId: 'q' }, scimType: 'invalidValue', detail: /path "\/Users\/1" of a POST must name a resource type endpoint/ },
  { title: 'PUT to an endpoint path', operation: { method: 'PUT', path: '/Users', data: alice }, echo: { method: 'PUT' }, scimType: 'invalidValue', detail: /path "\/Users" of a PUT must name a resource/ },
  { title: 'a path without its leading slash', operation: { method: 'DELETE', path: 'Users/1' }, echo: { method: 'DELETE' }, scimType: 'invalidValue', detail: /must name a resource/ },
  { title: 'a path with a query', operation: { method: 'DELETE', path: '/Users/1?attributes=id' }, echo: { method: 'DELETE' }, scimType: 'invalidValue', detail: /must name a resource/ },
  { title: 'a path too deep', operation: { method: 'DELETE', path: '/Users/1/manager' }, echo: { method: 'DELETE' }, scimType: 'invalidValue', detail: /must name a resource/ },
  { title: 'a malformed percent-encoding', operation: { method: 'DELETE', path: '/Users/%E0%A4%A' }, echo: { method: 'DELETE' }, scimType: 'invalidValue', detail: /percent-encoding/ },
  { title: 'PUT without data', operation: { method: 'PUT', path: '/Users/1' }, echo: { method: 'PUT' }, scimType: 'invalidValue', detail: /"data" is REQUIRED when method is PUT/ },
  { title: 'PATCH with data null', operation: { method: 'PATCH', path: '/Users/1', data: null }, echo: { method: 'PATCH' }, scimType: 'invalidValue', detail: /"data" is REQUIRED when method is PATCH/ },
  { title: 'a version that is not a string', operation: { method: 'DELETE', path: '/Users/1', version: 3 }, echo: { method: 'DELETE' }, scimType: 'invalidValue', detail: /"version" must be a string/ },
  { title: 'method twice in different case', operation: { method: 'DELETE', Method: 'PUT', path: '/Users/1' }, echo: {}, scimType: 'invalidSyntax', detail: /"method" more than once/ },
]

describe('parseBulkRequest: an operation that cannot run is rejected alone (RFC 7644 §3.7)', () => {
  for (const { title, operation, echo, scimType, detail } of rejectedOperations) {
    test(`${title} → 400 ${scimType}`, () => {
      const valid: BulkOperation = { method: 'DELETE', path: '/Users/2', endpoint: '/Users', id: '2' }
      const { operations } = parseBulkRequest(body(operation, { method: 'DELETE', path: '/Users/2' }), limits)
      assert.equal(operations.length, 2)
      const [rejected, other] = operations as [RejectedBulkOperation, BulkOperation]
      assert.ok(rejected.rejected instanceof ScimError, 'rejected with a ScimError')
      assert.equal(rejected.rejected.status, 400)
      assert.equal(rejected.rejected.scimType, scimType)
      assert.match(rejected.rejected.detail, /^Operations\[0\]/)
      assert.match(rejected.rejected.detail, detail)
      const { rejected: _, ...rest } = rejected
      assert.deepStrictEqual(rest, echo)
      assert.deepStrictEqual(other, valid, 'the next operation still parses')
    })
  }

  test('a rejected POST still declares its bulkId: declaring it again is refused', () => {
    assert.throws(
      () => parseBulkRequest(body({ method: 'POST', bulkId: 'x', path: '/Users/1', data: alice }, { method: 'POST', bulkId: 'x', path: '/Users', data: alice }), limits),
      (e: unknown) => e instanceof ScimError && e.status === 400 && /bulkId "x"/.test(e.detail),
    )
  })
})
