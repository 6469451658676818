import assert from 'node:assert/strict'
import { test } from 'node:test'
import { toCursorListResponse, toListResponse } from '../../../src/scim/list/list-response.js'
import { LIST_RESPONSE, USER_SCHEMA } from '../../../src/scim/urns.js'

const user = (id: string) => ({ schemas: [USER_SCHEMA], id, userName: `user-${id}` })

const cases = [
  {
    title: 'a page of two out of seven, starting at 3 (RFC 7644 §3.4.2)',
    resources: [user('a'), user('b')],
    totalResults: 7,
    startIndex: 3,
    expected: { schemas: [LIST_RESPONSE], totalResults: 7, itemsPerPage: 2, startIndex: 3, Resources: [user('a'), user('b')] },
  },
  {
    title: 'count=0: totalResults only, an empty Resources page (RFC 7644 §3.4.2.4)',
    resources: [],
    totalResults: 42,
    startIndex: 1,
    expected: { schemas: [LIST_RESPONSE], totalResults: 42, itemsPerPage: 0, startIndex: 1, Resources: [] },
  },
  {
    title: 'no matches',
    resources: [],
    totalResults: 0,
    startIndex: 1,
    expected: { schemas: [LIST_RESPONSE], totalResults: 0, itemsPerPage: 0, startIndex: 1, Resources: [] },
  },
]
for (const { title, resources, totalResults, startIndex, expected } of cases) {
  test(`toListResponse: ${title}`, () => assert.deepEqual(toListResponse(resources, totalResults, startIndex), expected))
}

test('toListResponse: itemsPerPage counts the resources on the page, keys in RFC order', () => {
  const response = toListResponse([user('a')], 1, 1)
  assert.deepEqual(Object.keys(response), ['schemas', 'totalResults', 'itemsPerPage', 'startIndex', 'Resources'])
  assert.equal(response.itemsPerPage, 1)
})

test('toCursorListResponse: nextCursor, no startIndex, keys in RFC 9865 §2 order', () => {
  const response = toCursorListResponse([user('a'), user('b')], { totalResults: 100, nextCursor: 'VZUTiyhEQJ94IR' })
  assert.deepEqual(response, { schemas: [LIST_RESPONSE], totalResults: 100, itemsPerPage: 2, nextCursor: 'VZUTiyhEQJ94IR', Resources: [user('a'), user('b')] })
  assert.deepEqual(Object.keys(response), ['schemas', 'totalResults', 'itemsPerPage', 'nextCursor', 'Resources'])
})

test('toCursorListResponse: the last page has no nextCursor ("omitted … only to indicate that there are no more result pages")', () => {
  assert.deepEqual(toCursorListResponse([user('a')], { totalResults: 1 }), { schemas: [LIST_RESPONSE], totalResults: 1, itemsPerPage: 1, Resources: [user('a')] })
})

test('toCursorListResponse: totalResults left out when the caller has none (RFC 9865 §2 allows it)', () => {
  assert.deepEqual(toCursorListResponse([], {}), { schemas: [LIST_RESPONSE], itemsPerPage: 0, Resources: [] })
})
