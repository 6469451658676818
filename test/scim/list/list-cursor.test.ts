import assert from 'node:assert/strict'
import { Buffer } from 'node:buffer'
import { describe, test } from 'node:test'
import { ScimError } from '../../../src/scim/errors.js'
import { decodeListCursor, encodeListCursor, listQueryFingerprint, type ListCursor } from '../../../src/scim/list/list-cursor.js'
import { parseListQuery } from '../../../src/scim/list/list-query.js'

const options = { maxResults: 100 }
const queryOf = (params: Record<string, string>) => parseListQuery({ cursor: '', ...params }, options)
const FP = listQueryFingerprint(queryOf({}), 'User')

function assertInvalidCursor(fn: () => unknown, detail: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ScimError, `expected a ScimError, got ${String(e)}`)
    assert.equal(e.status, 400)
    assert.equal(e.scimType, 'invalidCursor', 'RFC 9865 §2.1')
    assert.match(e.detail, detail)
    return true
  })
}

const raw = (json: string) => Buffer.from(json, 'utf8').toString('base64url')

describe('encodeListCursor / decodeListCursor (RFC 9865 §2)', () => {
  const roundTrips: { title: string; cursor: ListCursor }[] = [
    { title: 'a text key (the default order: created)', cursor: { after: { key: '2024-01-01T00:00:00.000Z', id: '2819c223-7f76-453a-919d-413861904646' }, totalResults: 1200 } },
    { title: 'a NULL key (a resource without the sortBy value)', cursor: { after: { key: null, id: 'u7' }, totalResults: 3 } },
    { title: 'a number key', cursor: { after: { key: 12.5, id: 'u7' } } },
    { title: 'a boolean key', cursor: { after: { key: true, id: 'u7' } } },
    { title: 'a non-ASCII key (a lower-cased displayName)', cursor: { after: { key: 'ärger ✓ 𝔘', id: 'ü' } } },
    { title: 'the start of a resource type (root search)', cursor: { resourceType: 'Group', totalResults: 9 } },
    { title: 'a position inside a resource type (root search)', cursor: { resourceType: 'User', after: { key: 'x', id: 'y' }, totalResults: 9 } },
  ]
  for (const { title, cursor } of roundTrips) {
    test(`round-trips ${title}`, () => {
      const text = encodeListCursor(cursor, FP)
      assert.match(text, /^[A-Za-z0-9_-]+$/, 'only RFC 3986 §2.3 unreserved characters, no padding')
      assert.deepStrictEqual(decodeListCursor(text, FP), cursor)
    })
  }

  test('a cursor from the same query parsed again decodes: the fingerprint is stable', () => {
    const first = queryOf({ filter: 'userName sw "J"', sortBy: 'userName', sortOrder: 'descending' })
    const again = queryOf({ filter: 'userName  SW  "J"', sortBy: 'USERNAME', sortOrder: 'Descending', count: '5', attributes: 'id' })
    const text = encodeListCursor({ after: { key: 'jd', id: 'u1' } }, listQueryFingerprint(first, 'User'))
    assert.deepStrictEqual(decodeListCursor(text, listQueryFingerprint(again, 'User')), { after: { key: 'jd', id: 'u1' } })
  })

  const otherQueries: { title: string; fingerprint: string }[] = [
    { title: 'another endpoint', fingerprint: listQueryFingerprint(queryOf({}), 'Group') },
    { title: 'another filter', fingerprint: listQueryFingerprint(queryOf({ filter: 'title pr' }), 'User') },
    { title: 'another filter value', fingerprint: listQueryFingerprint(queryOf({ filter: 'userName sw "K"' }), 'User') },
    { title: 'a sortBy', fingerprint: listQueryFingerprint(queryOf({ sortBy: 'userName' }), 'User') },
    { title: 'another sortOrder', fingerprint: listQueryFingerprint(queryOf({ sortBy: 'userName', sortOrder: 'descending' }), 'User') },
  ]
  const issued = encodeListCursor({ after: { key: 'k', id: 'i' } }, listQueryFingerprint(queryOf({ filter: 'userName sw "J"' }), 'User'))
  for (const { title, fingerprint } of otherQueries) {
    test(`a cursor used with ${title} is invalidCursor ("all query parameters and values being identical")`, () => {
      assertInvalidCursor(() => decodeListCursor(issued, fingerprint), /belongs to another query/)
    })
  }

  test('sortOrder without sortBy does not change the fingerprint: it orders nothing (RFC 7644 §3.4.2.3)', () => {
    assert.equal(listQueryFingerprint(queryOf({ sortOrder: 'descending' }), 'User'), FP)
  })

  const malformed: { title: string; text: string }[] = [
    { title: 'text that is not base64url JSON', text: 'VZUTiyhEQJ94IR' },
    { title: 'base64url of non-JSON', text: raw('not json') },
    { title: 'a JSON array', text: raw('[1,"fp"]') },
    { title: 'another version', text: raw(JSON.stringify({ v: 2, f: FP })) },
    { title: 'a missing fingerprint', text: raw(JSON.stringify({ v: 1 })) },
    { title: 'an id without a key', text: raw(JSON.stringify({ v: 1, f: FP, i: 'u1' })) },
    { title: 'a key without an id', text: raw(JSON.stringify({ v: 1, f: FP, k: 'x' })) },
    { title: 'an object key', text: raw(JSON.stringify({ v: 1, f: FP, k: { $gt: '' }, i: 'u1' })) },
    { title: 'a numeric id', text: raw(JSON.stringify({ v: 1, f: FP, k: 'x', i: 7 })) },
    { title: 'a negative totalResults', text: raw(JSON.stringify({ v: 1, f: FP, t: -1 })) },
    { title: 'a fractional totalResults', text: raw(JSON.stringify({ v: 1, f: FP, t: 1.5 })) },
    { title: 'an unknown member', text: raw(JSON.stringify({ v: 1, f: FP, sql: 'drop table resources' })) },
    { title: 'a valid cursor with a character appended', text: `${encodeListCursor({ after: { key: 'k', id: 'i' } }, FP)}A` },
    { title: 'invalid UTF-8', text: Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url') },
    { title: 'an over-long cursor', text: 'A'.repeat(10_000) },
    { title: 'a character outside base64url', text: 'abc.def' },
  ]
  for (const { title, text } of malformed) {
    test(`${title} is invalidCursor`, () => assertInvalidCursor(() => decodeListCursor(text, FP), /not one this server issued/))
  }
})
