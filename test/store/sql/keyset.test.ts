import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { SchemaRegistry, parseAttributePath } from '../../../src/scim/index.js'
import type { StoreCursor } from '../../../src/store/ports.js'
import { compileKeysetAfter, compileKeysetOrder } from '../../../src/store/sql/keyset.js'
import { postgresDialect, sqliteDialect } from '../../../src/store/sql/sql-dialect.js'

// The exact ORDER BY and "after" predicate per dialect, no database (the contract suites run them for
// real). Postgres numbers parameters from firstParam; here 3, after the tenant and resource type.

const registry = SchemaRegistry.withCoreSchemas()
const sortOf = (path: string) => registry.resolve('User', parseAttributePath(path))

interface Case {
  readonly title: string
  readonly sortBy?: string
  readonly sortOrder?: 'ascending' | 'descending'
  readonly after: StoreCursor
  readonly orderBy: string
  readonly sqlite: string
  readonly postgres: string
  readonly params: readonly unknown[]
}

const cases: readonly Case[] = [
  {
    title: 'default order: one row-value range on (created, id), which resources_created serves',
    after: { key: '2024-01-01T00:00:00.000Z', id: 'u7' },
    orderBy: 'r.created, r.id',
    sqlite: '(r.created, r.id) > (?, ?)',
    postgres: '(r.created, r.id) > ($3, $4)',
    params: ['2024-01-01T00:00:00.000Z', 'u7'],
  },
  {
    title: 'sortOrder without sortBy changes nothing (RFC 7644 §3.4.2.3)',
    sortOrder: 'descending',
    after: { key: '2024-01-01T00:00:00.000Z', id: 'u7' },
    orderBy: 'r.created, r.id',
    sqlite: '(r.created, r.id) > (?, ?)',
    postgres: '(r.created, r.id) > ($3, $4)',
    params: ['2024-01-01T00:00:00.000Z', 'u7'],
  },
  {
    title: 'ascending on a nullable key: the range, then the rows without a value (they sort last)',
    sortBy: 'userName',
    after: { key: 'bjensen', id: 'u7' },
    orderBy: 'r.user_name_ci ASC NULLS LAST, r.id',
    sqlite: '((r.user_name_ci, r.id) > (?, ?) OR r.user_name_ci IS NULL)',
    postgres: '((r.user_name_ci, r.id) > ($3, $4) OR r.user_name_ci IS NULL)',
    params: ['bjensen', 'u7'],
  },
  {
    title: 'ascending after a NULL key: only NULL keys with a greater id remain',
    sortBy: 'userName',
    after: { key: null, id: 'u7' },
    orderBy: 'r.user_name_ci ASC NULLS LAST, r.id',
    sqlite: '(r.user_name_ci IS NULL AND r.id > ?)',
    postgres: '(r.user_name_ci IS NULL AND r.id > $3)',
    params: ['u7'],
  },
  {
    title: 'descending: a smaller key, or the same key and a greater id (ids stay ascending)',
    sortBy: 'userName',
    sortOrder: 'descending',
    after: { key: 'bjensen', id: 'u7' },
    orderBy: 'r.user_name_ci DESC NULLS FIRST, r.id',
    sqlite: '(r.user_name_ci < ? OR (r.user_name_ci = ? AND r.id > ?))',
    postgres: '(r.user_name_ci < $3 OR (r.user_name_ci = $4 AND r.id > $5))',
    params: ['bjensen', 'bjensen', 'u7'],
  },
  {
    title: 'descending after a NULL key: every valued row, and NULL keys with a greater id (they sort first)',
    sortBy: 'userName',
    sortOrder: 'descending',
    after: { key: null, id: 'u7' },
    orderBy: 'r.user_name_ci DESC NULLS FIRST, r.id',
    sqlite: '(r.user_name_ci IS NOT NULL OR r.id > ?)',
    postgres: '(r.user_name_ci IS NOT NULL OR r.id > $3)',
    params: ['u7'],
  },
  {
    title: 'a NOT NULL column needs no NULL branch',
    sortBy: 'meta.lastModified',
    after: { key: '2024-01-01T00:00:00.000Z', id: 'u7' },
    orderBy: 'r.last_modified ASC NULLS LAST, r.id',
    sqlite: '(r.last_modified, r.id) > (?, ?)',
    postgres: '(r.last_modified, r.id) > ($3, $4)',
    params: ['2024-01-01T00:00:00.000Z', 'u7'],
  },
]

describe('compileKeysetOrder / compileKeysetAfter', () => {
  for (const c of cases) {
    const sort = { ...(c.sortBy ? { sortBy: sortOf(c.sortBy) } : {}), ...(c.sortOrder ? { sortOrder: c.sortOrder } : {}) }
    test(`sqlite: ${c.title}`, () => {
      const order = compileKeysetOrder(sort, { dialect: sqliteDialect, resourceType: 'User' })
      assert.equal(order.orderBy, c.orderBy)
      assert.deepStrictEqual(compileKeysetAfter(order, c.after, { dialect: sqliteDialect }), { sql: c.sqlite, params: c.params })
    })
    test(`postgres: ${c.title}`, () => {
      const order = compileKeysetOrder(sort, { dialect: postgresDialect, resourceType: 'User' })
      assert.equal(order.orderBy, c.orderBy)
      assert.deepStrictEqual(compileKeysetAfter(order, c.after, { dialect: postgresDialect, firstParam: 3 }), { sql: c.postgres, params: c.params })
    })
  }

  test('the key is the ORDER BY expression itself: lower-cased JSON for a caseExact false attribute', () => {
    const order = compileKeysetOrder({ sortBy: sortOf('title'), sortOrder: 'descending' }, { dialect: sqliteDialect, resourceType: 'User' })
    assert.deepStrictEqual(order, {
      key: "scim_lower(json_extract(r.data, '$.title'))",
      orderBy: "scim_lower(json_extract(r.data, '$.title')) DESC NULLS FIRST, r.id",
      descending: true,
      nullable: true,
    })
  })

  test('term wraps the ORDER BY terms and the predicate’s reads (SQLite’s unary + with a filter)', () => {
    const term = (expr: string) => `+${expr}`
    const order = compileKeysetOrder({}, { dialect: sqliteDialect, resourceType: 'User', orderTerm: term })
    assert.equal(order.orderBy, '+r.created, +r.id')
    assert.equal(order.key, 'r.created', 'the selected key is not wrapped')
    assert.equal(compileKeysetAfter(order, { key: 'k', id: 'i' }, { dialect: sqliteDialect, term }).sql, '(+r.created, +r.id) > (?, ?)')
  })

  test('an unsortable attribute is 400 (from compileSortKey)', () => {
    assert.throws(() => compileKeysetOrder({ sortBy: sortOf('groups') }, { dialect: sqliteDialect, resourceType: 'User' }), { status: 400 })
  })
})
