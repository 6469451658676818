import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ScimError, type ScimType } from '../../../src/scim/errors.js'
import { and, eq, present } from '../../../src/scim/filter/filter-ast.js'
import { parseListQuery, parseSearchRequest, type ListQuery } from '../../../src/scim/list/list-query.js'
import { SEARCH_REQUEST } from '../../../src/scim/urns.js'

const options = { maxResults: 100 }
const defaults: ListQuery = { sortOrder: 'ascending', startIndex: 1, count: 100 }

function assertScimError(fn: () => unknown, scimType: ScimType, detail?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ScimError, `expected a ScimError, got ${String(e)}`)
    assert.equal(e.status, 400)
    assert.equal(e.scimType, scimType)
    if (detail) assert.match(e.detail, detail)
    return true
  })
}

describe('parseListQuery: GET query parameters (RFC 7644 §3.4.2)', () => {
  const cases: { title: string; query: Record<string, unknown>; expected: ListQuery; opts?: { maxResults: number; defaultCount?: number } }[] = [
    { title: 'no parameters: startIndex 1, count maxResults, ascending (§3.4.2.4)', query: {}, expected: defaults },
    { title: 'defaultCount when count is absent', query: {}, expected: { ...defaults, count: 20 }, opts: { maxResults: 100, defaultCount: 20 } },
    { title: 'defaultCount above maxResults is capped', query: {}, expected: { ...defaults, count: 100 }, opts: { maxResults: 100, defaultCount: 500 } },
    { title: 'filter parsed (§3.4.2.2)', query: { filter: 'userName eq "bjensen"' }, expected: { ...defaults, filter: eq('userName', 'bjensen') } },
    { title: 'compound filter parsed', query: { filter: 'title pr and userType eq "Employee"' }, expected: { ...defaults, filter: and(present('title'), eq('userType', 'Employee')) } },
    { title: 'empty filter counts as absent', query: { filter: '  ' }, expected: defaults },
    { title: 'startIndex and count given (§3.4.2.4)', query: { startIndex: '11', count: '10' }, expected: { ...defaults, startIndex: 11, count: 10 } },
    { title: 'startIndex 0 is read as 1 ("less than 1 SHALL be interpreted as 1")', query: { startIndex: '0' }, expected: defaults },
    { title: 'negative startIndex is read as 1', query: { startIndex: '-5' }, expected: defaults },
    { title: 'negative count is read as 0 ("A negative value SHALL be interpreted as 0")', query: { count: '-1' }, expected: { ...defaults, count: 0 } },
    { title: 'count 0 asks for totalResults only', query: { count: '0' }, expected: { ...defaults, count: 0 } },
    { title: 'count above maxResults is capped at maxResults', query: { count: '1000' }, expected: defaults },
    { title: 'huge count is capped at maxResults', query: { count: '99999999999999999999999' }, expected: defaults },
    { title: 'whitespace around numbers is tolerated', query: { startIndex: ' 3 ', count: ' 4 ' }, expected: { ...defaults, startIndex: 3, count: 4 } },
    { title: 'empty startIndex and count count as absent', query: { startIndex: '', count: '' }, expected: defaults },
    { title: 'sortBy parsed as an attribute path (§3.4.2.3)', query: { sortBy: 'name.familyName' }, expected: { ...defaults, sortBy: { attribute: 'name', subAttribute: 'familyName' } } },
    {
      title: 'URN-qualified sortBy',
      query: { sortBy: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department' },
      expected: { ...defaults, sortBy: { schema: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', attribute: 'department' } },
    },
    { title: 'sortOrder descending', query: { sortOrder: 'descending' }, expected: { ...defaults, sortOrder: 'descending' } },
    { title: 'sortOrder matched case-insensitively', query: { sortOrder: 'DESCENDING' }, expected: { ...defaults, sortOrder: 'descending' } },
    { title: 'attributes split on commas and trimmed, empty entries dropped (§3.9)', query: { attributes: 'userName, name.givenName,,  ,emails' }, expected: { ...defaults, attributes: ['userName', 'name.givenName', 'emails'] } },
    { title: 'excludedAttributes split the same way', query: { excludedAttributes: 'members , meta' }, expected: { ...defaults, excludedAttributes: ['members', 'meta'] } },
    { title: 'attributes of only commas counts as absent', query: { attributes: ' , ' }, expected: defaults },
    { title: 'parameter names matched case-insensitively', query: { STARTINDEX: '2', Count: '3', SORTBY: 'userName', sortorder: 'Ascending', ATTRIBUTES: 'id' }, expected: { ...defaults, startIndex: 2, count: 3, sortBy: { attribute: 'userName' }, attributes: ['id'] } },
    { title: 'a repeated parameter: the first value counts', query: { count: ['5', '7'], attributes: ['userName', 'emails'] }, expected: { ...defaults, count: 5, attributes: ['userName'] } },
    { title: 'unknown parameters are ignored', query: { foo: 'bar', page: '2' }, expected: defaults },
  ]
  for (const { title, query, expected, opts } of cases) test(title, () => assert.deepEqual(parseListQuery(query, opts ?? options), expected))

  const rejected: { title: string; query: Record<string, unknown>; scimType: ScimType; detail: RegExp }[] = [
    { title: 'non-integer startIndex', query: { startIndex: 'first' }, scimType: 'invalidValue', detail: /startIndex must be an integer/ },
    { title: 'decimal count', query: { count: '2.5' }, scimType: 'invalidValue', detail: /count must be an integer/ },
    { title: 'count with trailing text', query: { count: '10abc' }, scimType: 'invalidValue', detail: /count must be an integer/ },
    { title: 'unknown sortOrder', query: { sortOrder: 'up' }, scimType: 'invalidValue', detail: /sortOrder must be "ascending" or "descending"/ },
    { title: 'malformed sortBy', query: { sortBy: 'name..familyName' }, scimType: 'invalidPath', detail: /not a valid attribute path/ },
    { title: 'malformed filter', query: { filter: 'userName eq' }, scimType: 'invalidFilter', detail: /./ },
    { title: 'a parameter that is not text', query: { count: { nested: '1' } }, scimType: 'invalidValue', detail: /count parameter must be text/ },
  ]
  for (const { title, query, scimType, detail } of rejected) {
    test(`rejects ${title} with ${scimType}`, () => assertScimError(() => parseListQuery(query, options), scimType, detail))
  }
})

describe('parseSearchRequest: POST /.search body (RFC 7644 §3.4.3)', () => {
  test('the RFC 7644 §3.4.3 example request', () => {
    const body = {
      schemas: [SEARCH_REQUEST],
      attributes: ['displayName', 'userName'],
      filter: 'displayName sw "smith"',
      startIndex: 1,
      count: 10,
    }
    assert.deepEqual(parseSearchRequest(body, options), {
      filter: { kind: 'compare', path: { attribute: 'displayName' }, op: 'sw', value: 'smith' },
      sortOrder: 'ascending',
      startIndex: 1,
      count: 10,
      attributes: ['displayName', 'userName'],
    })
  })

  const cases: { title: string; body: unknown; expected: ListQuery }[] = [
    { title: 'an empty object: defaults', body: {}, expected: defaults },
    { title: 'schemas missing is tolerated', body: { count: 5 }, expected: { ...defaults, count: 5 } },
    { title: 'schemas URN matched case-insensitively', body: { schemas: [SEARCH_REQUEST.toUpperCase()] }, expected: defaults },
    { title: 'sortBy and sortOrder', body: { sortBy: 'meta.lastModified', sortOrder: 'Descending' }, expected: { ...defaults, sortBy: { attribute: 'meta', subAttribute: 'lastModified' }, sortOrder: 'descending' } },
    { title: 'excludedAttributes array', body: { excludedAttributes: ['members', ' meta '] }, expected: { ...defaults, excludedAttributes: ['members', 'meta'] } },
    { title: 'a comma-separated attributes string is tolerated', body: { attributes: 'userName,emails' }, expected: { ...defaults, attributes: ['userName', 'emails'] } },
    { title: 'numeric strings for startIndex and count are tolerated', body: { startIndex: '3', count: '4' }, expected: { ...defaults, startIndex: 3, count: 4 } },
    { title: 'the same clamping as GET: startIndex 0, count over maxResults', body: { startIndex: 0, count: 5000 }, expected: defaults },
    { title: 'negative count is read as 0', body: { count: -3 }, expected: { ...defaults, count: 0 } },
    { title: 'null fields count as absent', body: { filter: null, count: null, attributes: null, schemas: null }, expected: defaults },
    { title: 'field names matched case-insensitively', body: { Filter: 'title pr', COUNT: 2 }, expected: { ...defaults, filter: present('title'), count: 2 } },
  ]
  for (const { title, body, expected } of cases) test(title, () => assert.deepEqual(parseSearchRequest(body, options), expected))

  const rejected: { title: string; body: unknown; scimType: ScimType; detail: RegExp }[] = [
    { title: 'a body that is not an object', body: [SEARCH_REQUEST], scimType: 'invalidSyntax', detail: /JSON object/ },
    { title: 'a null body', body: null, scimType: 'invalidSyntax', detail: /JSON object/ },
    { title: 'schemas without the SearchRequest URN', body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'] }, scimType: 'invalidSyntax', detail: /SearchRequest/ },
    { title: 'schemas that is a string', body: { schemas: SEARCH_REQUEST }, scimType: 'invalidSyntax', detail: /SearchRequest/ },
    { title: 'a non-integer count', body: { count: 2.5 }, scimType: 'invalidValue', detail: /count must be an integer/ },
    { title: 'a boolean startIndex', body: { startIndex: true }, scimType: 'invalidValue', detail: /"startIndex" must be an integer/ },
    { title: 'attributes holding a non-string', body: { attributes: ['userName', 3] }, scimType: 'invalidValue', detail: /"attributes" must be an array of attribute names/ },
    { title: 'a filter that is not a string', body: { filter: { op: 'eq' } }, scimType: 'invalidFilter', detail: /"filter" must be a string/ },
    { title: 'a malformed filter', body: { filter: 'userName zz "x"' }, scimType: 'invalidFilter', detail: /./ },
    { title: 'a sortBy that is not a string', body: { sortBy: ['userName'] }, scimType: 'invalidPath', detail: /"sortBy" must be a string/ },
    { title: 'an unknown sortOrder', body: { sortOrder: 'random' }, scimType: 'invalidValue', detail: /sortOrder/ },
  ]
  for (const { title, body, scimType, detail } of rejected) {
    test(`rejects ${title} with ${scimType}`, () => assertScimError(() => parseSearchRequest(body, options), scimType, detail))
  }
})

describe('cursor paging parameters (RFC 9865 §2, §3)', () => {
  const cursorDefaults: ListQuery = { ...defaults, cursor: '' }
  const get: { title: string; query: Record<string, unknown>; expected: ListQuery }[] = [
    { title: '?cursor with no value asks for the first page ("MUST be empty or omitted for the first request")', query: { cursor: '' }, expected: cursorDefaults },
    {
      title: 'the RFC 9865 §2 example: filter, an empty cursor and count',
      query: { filter: 'userName sw "J"', cursor: '', count: '10' },
      expected: { ...cursorDefaults, filter: { kind: 'compare', path: { attribute: 'userName' }, op: 'sw', value: 'J' }, count: 10 },
    },
    { title: 'a nextCursor value is kept as given, opaque', query: { cursor: 'VZUTiyhEQJ94IR', count: '10' }, expected: { ...cursorDefaults, cursor: 'VZUTiyhEQJ94IR', count: 10 } },
    { title: 'every RFC 3986 §2.3 unreserved character is accepted', query: { cursor: 'aZ09-._~' }, expected: { ...cursorDefaults, cursor: 'aZ09-._~' } },
    { title: 'the parameter name matches case-insensitively', query: { CURSOR: 'abc' }, expected: { ...cursorDefaults, cursor: 'abc' } },
    { title: 'a repeated cursor: the first counts', query: { cursor: ['abc', 'def'] }, expected: { ...cursorDefaults, cursor: 'abc' } },
    { title: 'count rules are those of index paging: negative is 0 (RFC 9865 §2 count)', query: { cursor: '', count: '-4' }, expected: { ...cursorDefaults, count: 0 } },
    { title: 'count above maxPageSize returns maxPageSize ("MAY return fewer results")', query: { cursor: '', count: '5000' }, expected: cursorDefaults },
    { title: 'an empty startIndex counts as absent beside a cursor', query: { cursor: '', startIndex: '' }, expected: cursorDefaults },
    { title: 'no cursor parameter: index paging, no cursor member', query: { count: '3' }, expected: { ...defaults, count: 3 } },
  ]
  for (const { title, query, expected } of get) test(`GET: ${title}`, () => assert.deepEqual(parseListQuery(query, options), expected))

  const post: { title: string; body: unknown; expected: ListQuery }[] = [
    {
      title: 'the RFC 9865 §3 example body: "cursor": "" and count',
      body: { schemas: [SEARCH_REQUEST], attributes: ['displayName', 'userName'], filter: 'displayName sw "smith"', cursor: '', count: 10 },
      expected: { ...cursorDefaults, filter: { kind: 'compare', path: { attribute: 'displayName' }, op: 'sw', value: 'smith' }, count: 10, attributes: ['displayName', 'userName'] },
    },
    { title: 'a nextCursor value', body: { cursor: 'YkU3OF86Pz0rGv' }, expected: { ...cursorDefaults, cursor: 'YkU3OF86Pz0rGv' } },
    { title: '"cursor": null counts as absent, like every null field', body: { cursor: null }, expected: defaults },
  ]
  for (const { title, body, expected } of post) test(`POST /.search: ${title}`, () => assert.deepEqual(parseSearchRequest(body, options), expected))

  const rejected: { title: string; parse: () => unknown; scimType: ScimType; detail: RegExp }[] = [
    { title: 'GET: a cursor with a reserved character', parse: () => parseListQuery({ cursor: 'abc/def' }, options), scimType: 'invalidCursor', detail: /not one this server issued/ },
    { title: 'GET: a cursor with padding (=)', parse: () => parseListQuery({ cursor: 'YWJj=' }, options), scimType: 'invalidCursor', detail: /RFC 9865/ },
    { title: 'POST: a cursor that is not a string', parse: () => parseSearchRequest({ cursor: 42 }, options), scimType: 'invalidCursor', detail: /"cursor" must be a string/ },
    { title: 'GET: startIndex and cursor together', parse: () => parseListQuery({ startIndex: '1', cursor: '' }, options), scimType: 'invalidValue', detail: /cannot be combined/ },
    { title: 'POST: startIndex and cursor together', parse: () => parseSearchRequest({ startIndex: 5, cursor: 'abc' }, options), scimType: 'invalidValue', detail: /cannot be combined/ },
    { title: 'GET: a count that is not an integer, cursor paging (RFC 9865 §2.1)', parse: () => parseListQuery({ cursor: '', count: 'ten' }, options), scimType: 'invalidCount', detail: /count must be an integer/ },
    { title: 'POST: a decimal count, cursor paging', parse: () => parseSearchRequest({ cursor: '', count: 2.5 }, options), scimType: 'invalidCount', detail: /count must be an integer/ },
  ]
  for (const { title, parse, scimType, detail } of rejected) test(`rejects ${title} with ${scimType}`, () => assertScimError(parse, scimType, detail))
})
