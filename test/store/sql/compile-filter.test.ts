import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { SchemaRegistry, ScimError, parseAttributePath, parseFilter, resolveFilter } from '../../../src/scim/index.js'
import { compileFilter, compileSortKey, matchesAtMostOne, nextPrefix } from '../../../src/store/sql/compile-filter.js'
import { postgresDialect, sqliteDialect } from '../../../src/store/sql/sql-dialect.js'

// Kysely's testSql: the exact SQL and parameters per dialect, no database. SQLite's placeholders are
// positional; Postgres numbers them from firstParam (3: the store binds tenant and resource type first).

const registry = SchemaRegistry.withCoreSchemas()
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
const TENANT = 't1'

interface Case {
  readonly filter: string
  readonly resourceType?: 'User' | 'Group'
  readonly why: string
  readonly sqlite: string
  readonly postgres: string
  /** The same for both dialects unless sqliteParams / postgresParams say otherwise. */
  readonly params: readonly unknown[]
  readonly sqliteParams?: readonly unknown[]
}

const cases: readonly Case[] = [
  // Indexed columns
  {
    filter: 'id eq "2819c223"',
    why: 'id is the primary key column, caseExact',
    sqlite: 'r.id = ?',
    postgres: 'r.id = $3',
    params: ['2819c223'],
  },
  {
    filter: 'userName eq "BJensen"',
    why: 'userName reads the lower-cased column; the value is lower-cased in JS (caseExact false)',
    sqlite: 'r.user_name_ci = ?',
    postgres: 'r.user_name_ci = $3',
    params: ['bjensen'],
  },
  {
    filter: 'USERNAME Eq "ÉLODIE"',
    why: 'attribute names are case-insensitive and folding is Unicode, not ASCII only',
    sqlite: 'r.user_name_ci = ?',
    postgres: 'r.user_name_ci = $3',
    params: ['élodie'],
  },
  {
    filter: 'userName sw "Bj"',
    why: 'sw on an indexed column is a range the index serves',
    sqlite: '(r.user_name_ci >= ? AND r.user_name_ci < ?)',
    postgres: '(r.user_name_ci >= $3 AND r.user_name_ci < $4)',
    params: ['bj', 'bk'],
  },
  {
    filter: 'userName co "jen"',
    why: 'co on the folded column needs no lower() on the column side; on SQLite IS NOT NULL lets the partial userName index serve the scan',
    sqlite: '(r.user_name_ci IS NOT NULL AND r.user_name_ci GLOB ?)',
    postgres: "r.user_name_ci LIKE $3 ESCAPE '\\'",
    params: ['%jen%'],
    sqliteParams: ['*jen*'],
  },
  {
    filter: 'userName ne "x"',
    why: 'ne is NOT eq, true where the comparison is NULL',
    sqlite: 'NOT COALESCE((r.user_name_ci = ?), 0)',
    postgres: 'NOT COALESCE((r.user_name_ci = $3), false)',
    params: ['x'],
  },
  {
    filter: 'externalId eq "AbC"',
    why: 'externalId is caseExact: no folding',
    sqlite: 'r.external_id = ?',
    postgres: 'r.external_id = $3',
    params: ['AbC'],
  },
  {
    filter: 'externalId ew "C"',
    why: 'ew on a caseExact column: a pattern without lower()',
    sqlite: 'r.external_id GLOB ?',
    postgres: "r.external_id LIKE $3 ESCAPE '\\'",
    params: ['%C'],
    sqliteParams: ['*C'],
  },
  {
    filter: 'displayName eq "Tour Guides"',
    resourceType: 'Group',
    why: 'Group displayName reads the same lower-cased column',
    sqlite: 'r.display_name_ci = ?',
    postgres: 'r.display_name_ci = $3',
    params: ['tour guides'],
  },
  {
    filter: 'meta.created gt "2011-05-13T04:42:34Z"',
    why: 'meta.created is a column of ISO 8601 UTC text; resolveFilter normalised the value to that form',
    sqlite: 'r.created > ?',
    postgres: 'r.created > $3',
    params: ['2011-05-13T04:42:34.000Z'],
  },
  {
    filter: 'meta.lastModified le "2011-05-13T04:42:34+02:00"',
    why: 'offsets become UTC before the text compare',
    sqlite: 'r.last_modified <= ?',
    postgres: 'r.last_modified <= $3',
    params: ['2011-05-13T02:42:34.000Z'],
  },
  {
    filter: 'meta.lastModified sw "2011-05-13t"',
    why: 'dateTime co/sw/ew test the stored text; caseExact false upper-cases the value (its letters are T and Z)',
    sqlite: '(r.last_modified >= ? AND r.last_modified < ?)',
    postgres: '(r.last_modified >= $3 AND r.last_modified < $4)',
    params: ['2011-05-13T', '2011-05-13U'],
  },
  {
    filter: 'meta.resourceType eq "User"',
    why: 'meta.resourceType is the resource_type column',
    sqlite: 'r.resource_type = ?',
    postgres: 'r.resource_type = $3',
    params: ['User'],
  },
  {
    filter: 'id pr',
    why: 'pr on a text column: not NULL and not empty',
    sqlite: "r.id <> ''",
    postgres: "r.id <> ''",
    params: [],
  },
  // Side tables
  {
    filter: 'emails.value eq "BJensen@Example.com"',
    why: 'emails.value reads resource_emails through its (tenant_id, value_ci) index, uncorrelated',
    sqlite: 'r.id IN (SELECT m1.resource_id FROM resource_emails m1 WHERE m1.tenant_id = ? AND m1.value_ci = ?)',
    postgres: 'r.id IN (SELECT m1.resource_id FROM resource_emails m1 WHERE m1.tenant_id = $3 AND m1.value_ci = $4)',
    params: [TENANT, 'bjensen@example.com'],
  },
  {
    filter: 'emails[value eq "a@x.com"]',
    why: 'a value filter using only value is the same lookup',
    sqlite: 'r.id IN (SELECT m1.resource_id FROM resource_emails m1 WHERE m1.tenant_id = ? AND m1.value_ci = ?)',
    postgres: 'r.id IN (SELECT m1.resource_id FROM resource_emails m1 WHERE m1.tenant_id = $3 AND m1.value_ci = $4)',
    params: [TENANT, 'a@x.com'],
  },
  {
    filter: 'emails co "example.com"',
    why: 'RFC 7644 §3.4.2.2 example: a complex attribute compares through its value',
    sqlite: 'r.id IN (SELECT m1.resource_id FROM resource_emails m1 WHERE m1.tenant_id = ? AND m1.value_ci GLOB ?)',
    postgres: "r.id IN (SELECT m1.resource_id FROM resource_emails m1 WHERE m1.tenant_id = $3 AND m1.value_ci LIKE $4 ESCAPE '\\')",
    params: [TENANT, '%example.com%'],
    sqliteParams: [TENANT, '*example.com*'],
  },
  {
    filter: 'emails.value sw "bj"',
    why: 'sw on value_ci is a range on its index',
    sqlite: 'r.id IN (SELECT m1.resource_id FROM resource_emails m1 WHERE m1.tenant_id = ? AND (m1.value_ci >= ? AND m1.value_ci < ?))',
    postgres: 'r.id IN (SELECT m1.resource_id FROM resource_emails m1 WHERE m1.tenant_id = $3 AND (m1.value_ci >= $4 AND m1.value_ci < $5))',
    params: [TENANT, 'bj', 'bk'],
  },
  {
    filter: 'emails[value ne "a@x.com"]',
    why: 'a negation inside the element can be satisfied by an email without a value, which resource_emails lacks: JSON',
    sqlite: "EXISTS (SELECT 1 FROM json_each(r.data, '$.emails') AS e1 WHERE NOT COALESCE((scim_lower(json_extract(e1.value, '$.value')) = ?), 0))",
    postgres: "EXISTS (SELECT 1 FROM jsonb_array_elements(r.data #> '{emails}') AS e1(value) WHERE NOT COALESCE((lower(e1.value #>> '{value}') = $3), false))",
    params: ['a@x.com'],
  },
  {
    filter: 'members[value eq "2819c223"]',
    resourceType: 'Group',
    why: 'members read group_members by (tenant_id, member_id); ids compare exactly (RFC 7643 §3.1)',
    sqlite: 'r.id IN (SELECT m1.group_id FROM group_members m1 WHERE m1.tenant_id = ? AND m1.member_id = ?)',
    postgres: 'r.id IN (SELECT m1.group_id FROM group_members m1 WHERE m1.tenant_id = $3 AND m1.member_id = $4)',
    params: [TENANT, '2819c223'],
  },
  {
    filter: 'members.value eq "2819c223"',
    resourceType: 'Group',
    why: 'the dotted form is the same lookup',
    sqlite: 'r.id IN (SELECT m1.group_id FROM group_members m1 WHERE m1.tenant_id = ? AND m1.member_id = ?)',
    postgres: 'r.id IN (SELECT m1.group_id FROM group_members m1 WHERE m1.tenant_id = $3 AND m1.member_id = $4)',
    params: [TENANT, '2819c223'],
  },
  {
    filter: 'members[type eq "user" and display sw "Bab"]',
    resourceType: 'Group',
    why: 'display joins the member row (displayName, else userName, both lower-cased columns)',
    sqlite:
      'r.id IN (SELECT m1.group_id FROM group_members m1 JOIN resources x1 ON x1.tenant_id = m1.tenant_id AND x1.id = m1.member_id' +
      ' WHERE m1.tenant_id = ? AND (scim_lower(m1.member_type) = ? AND COALESCE(x1.display_name_ci, x1.user_name_ci) GLOB ?))',
    postgres:
      'r.id IN (SELECT m1.group_id FROM group_members m1 JOIN resources x1 ON x1.tenant_id = m1.tenant_id AND x1.id = m1.member_id' +
      " WHERE m1.tenant_id = $3 AND (lower(m1.member_type) = $4 AND COALESCE(x1.display_name_ci, x1.user_name_ci) LIKE $5 ESCAPE '\\'))",
    params: [TENANT, 'user', 'bab%'],
    sqliteParams: [TENANT, 'user', 'bab*'],
  },
  {
    filter: 'members pr',
    resourceType: 'Group',
    why: 'a group has members when it has a membership row',
    sqlite: 'r.id IN (SELECT m1.group_id FROM group_members m1 WHERE m1.tenant_id = ?)',
    postgres: 'r.id IN (SELECT m1.group_id FROM group_members m1 WHERE m1.tenant_id = $3)',
    params: [TENANT],
  },
  {
    filter: 'groups.value eq "e9e30dba"',
    why: "a User's groups as its groups attribute lists them: a recursive walk down from the pinned group",
    sqlite:
      'r.id IN (WITH RECURSIVE g1 (group_id, member_id, indirect) AS (SELECT m.group_id, m.member_id, 0 FROM group_members m WHERE m.tenant_id = ? AND m.group_id = ?' +
      ' UNION SELECT g1.group_id, m.member_id, 1 FROM g1 CROSS JOIN group_members m WHERE m.tenant_id = ? AND m.group_id = g1.member_id)' +
      ' SELECT c1.member_id FROM (SELECT group_id, member_id, MIN(indirect) AS indirect FROM g1 GROUP BY group_id, member_id) c1 WHERE c1.group_id = ?)',
    postgres:
      'r.id IN (WITH RECURSIVE g1 (group_id, member_id, indirect) AS (SELECT m.group_id, m.member_id, 0 FROM group_members m WHERE m.tenant_id = $3 AND m.group_id = $4' +
      ' UNION SELECT g1.group_id, m.member_id, 1 FROM g1 CROSS JOIN group_members m WHERE m.tenant_id = $5 AND m.group_id = g1.member_id)' +
      ' SELECT c1.member_id FROM (SELECT group_id, member_id, MIN(indirect) AS indirect FROM g1 GROUP BY group_id, member_id) c1 WHERE c1.group_id = $6)',
    params: [TENANT, 'e9e30dba', TENANT, 'e9e30dba'],
  },
  {
    filter: 'groups[type eq "indirect" and display sw "Eng"]',
    why: 'no pinned value: the walk starts from every group; type is direct unless only reached through nesting',
    sqlite:
      'r.id IN (WITH RECURSIVE g1 (group_id, member_id, indirect) AS (SELECT m.group_id, m.member_id, 0 FROM group_members m WHERE m.tenant_id = ?' +
      ' UNION SELECT g1.group_id, m.member_id, 1 FROM g1 CROSS JOIN group_members m WHERE m.tenant_id = ? AND m.group_id = g1.member_id)' +
      ' SELECT c1.member_id FROM (SELECT group_id, member_id, MIN(indirect) AS indirect FROM g1 GROUP BY group_id, member_id) c1' +
      " CROSS JOIN resources x1 WHERE x1.tenant_id = ? AND x1.id = c1.group_id AND (scim_lower(CASE c1.indirect WHEN 0 THEN 'direct' ELSE 'indirect' END) = ? AND x1.display_name_ci GLOB ?))",
    postgres:
      'r.id IN (WITH RECURSIVE g1 (group_id, member_id, indirect) AS (SELECT m.group_id, m.member_id, 0 FROM group_members m WHERE m.tenant_id = $3' +
      ' UNION SELECT g1.group_id, m.member_id, 1 FROM g1 CROSS JOIN group_members m WHERE m.tenant_id = $4 AND m.group_id = g1.member_id)' +
      ' SELECT c1.member_id FROM (SELECT group_id, member_id, MIN(indirect) AS indirect FROM g1 GROUP BY group_id, member_id) c1' +
      " CROSS JOIN resources x1 WHERE x1.tenant_id = $5 AND x1.id = c1.group_id AND (lower(CASE c1.indirect WHEN 0 THEN 'direct' ELSE 'indirect' END) = $6 AND x1.display_name_ci LIKE $7 ESCAPE '\\'))",
    params: [TENANT, TENANT, TENANT, 'indirect', 'eng%'],
    sqliteParams: [TENANT, TENANT, TENANT, 'indirect', 'eng*'],
  },
  {
    filter: 'groups pr',
    why: 'a user has groups exactly when it has a direct membership',
    sqlite: 'r.id IN (SELECT m1.member_id FROM group_members m1 WHERE m1.tenant_id = ?)',
    postgres: 'r.id IN (SELECT m1.member_id FROM group_members m1 WHERE m1.tenant_id = $3)',
    params: [TENANT],
  },
  // JSON fallback
  {
    filter: 'title eq "Tour Guide"',
    why: 'a single-valued string without a column: json_extract / #>> with lower() on both sides',
    sqlite: "scim_lower(json_extract(r.data, '$.title')) = ?",
    postgres: "lower(r.data #>> '{title}') = $3",
    params: ['tour guide'],
  },
  {
    filter: 'name.familyName co "ens"',
    why: 'a sub-attribute of a single-valued complex attribute is one more path segment',
    sqlite: "scim_lower(json_extract(r.data, '$.name.familyName')) GLOB ?",
    postgres: "lower(r.data #>> '{name,familyName}') LIKE $3 ESCAPE '\\'",
    params: ['%ens%'],
    sqliteParams: ['*ens*'],
  },
  {
    filter: 'title sw "Tour"',
    why: 'sw on JSON is a pattern (no index to serve a range)',
    sqlite: "scim_lower(json_extract(r.data, '$.title')) GLOB ?",
    postgres: "lower(r.data #>> '{title}') LIKE $3 ESCAPE '\\'",
    params: ['tour%'],
    sqliteParams: ['tour*'],
  },
  {
    filter: 'title co "50%_*?[x]\\\\"',
    why: 'wildcards in the value are escaped: LIKE % _ \\ with ESCAPE, GLOB * ? [ as classes',
    sqlite: "scim_lower(json_extract(r.data, '$.title')) GLOB ?",
    postgres: "lower(r.data #>> '{title}') LIKE $3 ESCAPE '\\'",
    params: ['%50\\%\\_*?[x]\\\\%'],
    sqliteParams: ['*50%_[*][?][[]x]\\*'],
  },
  {
    filter: `${ENTERPRISE}:department eq "Tour Operations"`,
    why: 'an extension attribute lives under its URN key, quoted in the SQLite path',
    sqlite: `scim_lower(json_extract(r.data, '$."${ENTERPRISE}".department')) = ?`,
    postgres: `lower(r.data #>> '{${ENTERPRISE},department}') = $3`,
    params: ['tour operations'],
  },
  {
    filter: `${ENTERPRISE}:manager.value eq "26118915"`,
    why: 'a sub-attribute of an extension complex attribute',
    sqlite: `scim_lower(json_extract(r.data, '$."${ENTERPRISE}".manager.value')) = ?`,
    postgres: `lower(r.data #>> '{${ENTERPRISE},manager,value}') = $3`,
    params: ['26118915'],
  },
  {
    filter: 'active eq true',
    why: 'SQLite json_extract reads JSON true as 1; Postgres casts the text to boolean',
    sqlite: "json_extract(r.data, '$.active') = ?",
    postgres: "(r.data #>> '{active}')::boolean = $3",
    params: [true],
    sqliteParams: [1],
  },
  {
    filter: 'active eq "False"',
    why: 'Entra sends booleans as strings; resolveFilter coerces, the compiler binds the boolean',
    sqlite: "json_extract(r.data, '$.active') = ?",
    postgres: "(r.data #>> '{active}')::boolean = $3",
    params: [false],
    sqliteParams: [0],
  },
  {
    filter: 'not (active eq true)',
    why: 'not is true where active is absent (NULL), as in matchFilter',
    sqlite: "NOT COALESCE((json_extract(r.data, '$.active') = ?), 0)",
    postgres: "NOT COALESCE(((r.data #>> '{active}')::boolean = $3), false)",
    params: [true],
    sqliteParams: [1],
  },
  {
    filter: 'title eq null',
    why: 'eq null is "not present"',
    sqlite: "NOT COALESCE((json_extract(r.data, '$.title') <> ''), 0)",
    postgres: "NOT COALESCE((r.data #>> '{title}' <> ''), false)",
    params: [],
  },
  {
    filter: 'title ne null',
    why: 'ne null is "present"',
    sqlite: "json_extract(r.data, '$.title') <> ''",
    postgres: "r.data #>> '{title}' <> ''",
    params: [],
  },
  {
    filter: 'active pr',
    why: 'pr on a boolean: not null (false is a value)',
    sqlite: "json_extract(r.data, '$.active') IS NOT NULL",
    postgres: "(r.data #>> '{active}')::boolean IS NOT NULL",
    params: [],
  },
  {
    filter: 'name pr',
    why: 'RFC 7644 §3.4.2.2: a complex attribute is present when one of its sub-attributes is',
    sqlite:
      "(json_extract(r.data, '$.name.formatted') <> '' OR json_extract(r.data, '$.name.familyName') <> '' OR json_extract(r.data, '$.name.givenName') <> ''" +
      " OR json_extract(r.data, '$.name.middleName') <> '' OR json_extract(r.data, '$.name.honorificPrefix') <> '' OR json_extract(r.data, '$.name.honorificSuffix') <> '')",
    postgres:
      "(r.data #>> '{name,formatted}' <> '' OR r.data #>> '{name,familyName}' <> '' OR r.data #>> '{name,givenName}' <> ''" +
      " OR r.data #>> '{name,middleName}' <> '' OR r.data #>> '{name,honorificPrefix}' <> '' OR r.data #>> '{name,honorificSuffix}' <> '')",
    params: [],
  },
  {
    filter: 'emails pr',
    why: 'a multi-valued complex attribute is present when one element is',
    sqlite:
      "EXISTS (SELECT 1 FROM json_each(r.data, '$.emails') AS e1 WHERE (json_extract(e1.value, '$.value') <> '' OR json_extract(e1.value, '$.display') <> ''" +
      " OR json_extract(e1.value, '$.type') <> '' OR json_extract(e1.value, '$.primary') IS NOT NULL))",
    postgres:
      "EXISTS (SELECT 1 FROM jsonb_array_elements(r.data #> '{emails}') AS e1(value) WHERE (e1.value #>> '{value}' <> '' OR e1.value #>> '{display}' <> ''" +
      " OR e1.value #>> '{type}' <> '' OR (e1.value #>> '{primary}')::boolean IS NOT NULL))",
    params: [],
  },
  {
    filter: 'emails.type eq "work"',
    why: 'a sub-attribute other than value: any element, over the JSON',
    sqlite: "EXISTS (SELECT 1 FROM json_each(r.data, '$.emails') AS e1 WHERE scim_lower(json_extract(e1.value, '$.type')) = ?)",
    postgres: "EXISTS (SELECT 1 FROM jsonb_array_elements(r.data #> '{emails}') AS e1(value) WHERE lower(e1.value #>> '{type}') = $3)",
    params: ['work'],
  },
  {
    filter: 'emails[type eq "work" and value co "@example.com"]',
    why: 'RFC 7644 §3.4.2.2: one element must satisfy the whole inner filter',
    sqlite:
      "EXISTS (SELECT 1 FROM json_each(r.data, '$.emails') AS e1 WHERE (scim_lower(json_extract(e1.value, '$.type')) = ?" +
      " AND scim_lower(json_extract(e1.value, '$.value')) GLOB ?))",
    postgres:
      "EXISTS (SELECT 1 FROM jsonb_array_elements(r.data #> '{emails}') AS e1(value) WHERE (lower(e1.value #>> '{type}') = $3" +
      " AND lower(e1.value #>> '{value}') LIKE $4 ESCAPE '\\'))",
    params: ['work', '%@example.com%'],
    sqliteParams: ['work', '*@example.com*'],
  },
  {
    filter: 'emails[primary eq true]',
    why: 'a boolean inside an element',
    sqlite: "EXISTS (SELECT 1 FROM json_each(r.data, '$.emails') AS e1 WHERE json_extract(e1.value, '$.primary') = ?)",
    postgres: "EXISTS (SELECT 1 FROM jsonb_array_elements(r.data #> '{emails}') AS e1(value) WHERE (e1.value #>> '{primary}')::boolean = $3)",
    params: [true],
    sqliteParams: [1],
  },
  {
    filter: 'name[givenName eq "Barbara"]',
    why: 'a value filter on a single-valued complex attribute reads it in place',
    sqlite: "scim_lower(json_extract(r.data, '$.name.givenName')) = ?",
    postgres: "lower(r.data #>> '{name,givenName}') = $3",
    params: ['barbara'],
  },
  {
    filter: `schemas eq "${ENTERPRISE}"`,
    why: 'schemas is a multi-valued string: any element, schema URIs compare case-insensitively',
    sqlite: "EXISTS (SELECT 1 FROM json_each(r.data, '$.schemas') AS e1 WHERE scim_lower(e1.value) = ?)",
    postgres: "EXISTS (SELECT 1 FROM jsonb_array_elements(r.data #> '{schemas}') AS e1(value) WHERE lower(e1.value #>> '{}') = $3)",
    params: [ENTERPRISE.toLowerCase()],
  },
  // Logic
  {
    filter: 'userName eq "a" or externalId eq "b"',
    why: 'or groups its operands; parameters follow text order',
    sqlite: '(r.user_name_ci = ? OR r.external_id = ?)',
    postgres: '(r.user_name_ci = $3 OR r.external_id = $4)',
    params: ['a', 'b'],
  },
  {
    filter: 'title pr and not (emails.value ew "@example.com" or userName eq "x")',
    why: 'not wraps a grouped operand once, with COALESCE so absent values count as false',
    sqlite:
      "(json_extract(r.data, '$.title') <> '' AND NOT COALESCE((r.id IN (SELECT m1.resource_id FROM resource_emails m1 WHERE m1.tenant_id = ? AND m1.value_ci GLOB ?)" +
      ' OR r.user_name_ci = ?), 0))',
    postgres:
      "(r.data #>> '{title}' <> '' AND NOT COALESCE((r.id IN (SELECT m1.resource_id FROM resource_emails m1 WHERE m1.tenant_id = $3 AND m1.value_ci LIKE $4 ESCAPE '\\')" +
      ' OR r.user_name_ci = $5), false))',
    params: [TENANT, '%@example.com', 'x'],
    sqliteParams: [TENANT, '*@example.com', 'x'],
  },
  {
    filter: 'emails[type eq "work"] and emails[type eq "home"]',
    why: 'each value filter gets its own alias',
    sqlite:
      "(EXISTS (SELECT 1 FROM json_each(r.data, '$.emails') AS e1 WHERE scim_lower(json_extract(e1.value, '$.type')) = ?)" +
      " AND EXISTS (SELECT 1 FROM json_each(r.data, '$.emails') AS e2 WHERE scim_lower(json_extract(e2.value, '$.type')) = ?))",
    postgres:
      "(EXISTS (SELECT 1 FROM jsonb_array_elements(r.data #> '{emails}') AS e1(value) WHERE lower(e1.value #>> '{type}') = $3)" +
      " AND EXISTS (SELECT 1 FROM jsonb_array_elements(r.data #> '{emails}') AS e2(value) WHERE lower(e2.value #>> '{type}') = $4))",
    params: ['work', 'home'],
  },
  // Injection (STYLE.md, after Kysely): the value is a parameter, the SQL text does not change.
  {
    filter: 'userName eq "x\\"; drop table resources --"',
    why: 'a hostile value on an indexed column is a parameter',
    sqlite: 'r.user_name_ci = ?',
    postgres: 'r.user_name_ci = $3',
    params: ['x"; drop table resources --'],
  },
  {
    filter: "title eq \"x'); drop table resources --\"",
    why: 'a hostile value on the JSON fallback is a parameter',
    sqlite: "scim_lower(json_extract(r.data, '$.title')) = ?",
    postgres: "lower(r.data #>> '{title}') = $3",
    params: ["x'); drop table resources --"],
  },
]

const resolved = (filter: string, resourceType = 'User') => resolveFilter(parseFilter(filter), registry, resourceType)

describe('compileFilter: exact SQL per dialect', () => {
  for (const c of cases) {
    const resourceType = c.resourceType ?? 'User'
    test(`${c.filter} (${c.why})`, () => {
      const node = resolved(c.filter, resourceType)
      assert.deepStrictEqual(compileFilter(node, { dialect: sqliteDialect, resourceType, tenant: TENANT, firstParam: 3 }), {
        sql: c.sqlite,
        params: c.sqliteParams ?? c.params,
      })
      assert.deepStrictEqual(compileFilter(node, { dialect: postgresDialect, resourceType, tenant: TENANT, firstParam: 3 }), {
        sql: c.postgres,
        params: c.params,
      })
    })
  }

  test('Postgres placeholders start at $1 when firstParam is omitted', () => {
    const node = resolved('userName eq "a" and title eq "b"')
    assert.deepStrictEqual(compileFilter(node, { dialect: postgresDialect, resourceType: 'User', tenant: TENANT }), {
      sql: "(r.user_name_ci = $1 AND lower(r.data #>> '{title}') = $2)",
      params: ['a', 'b'],
    })
  })
})

describe('compileFilter: refusals (400 invalidFilter)', () => {
  const refused = [
    { filter: 'meta.version eq "W/\\"1\\""', why: "the ETag text is the HTTP layer's; the store keeps a number" },
    { filter: 'meta.location eq "https://x"', why: 'location is derived from the base URL, not stored' },
    { filter: 'groups.$ref eq "https://x/Groups/1"', why: '$ref is derived from the base URL, not stored' },
  ]
  for (const { filter, why } of refused) {
    test(`${filter} (${why})`, () => {
      const node = resolved(filter)
      assert.throws(
        () => compileFilter(node, { dialect: sqliteDialect, resourceType: 'User', tenant: TENANT }),
        (e: unknown) => e instanceof ScimError && e.status === 400 && e.scimType === 'invalidFilter',
      )
    })
  }
})

describe('compileSortKey', () => {
  const sortCases = [
    { path: 'userName', sqlite: 'r.user_name_ci', postgres: 'r.user_name_ci' },
    { path: 'meta.lastModified', sqlite: 'r.last_modified', postgres: 'r.last_modified' },
    { path: 'meta.version', sqlite: 'r.version', postgres: 'r.version' },
    { path: 'externalId', sqlite: 'r.external_id', postgres: 'r.external_id' },
    { path: 'title', sqlite: "scim_lower(json_extract(r.data, '$.title'))", postgres: "lower(r.data #>> '{title}')" },
    { path: 'name.familyName', sqlite: "scim_lower(json_extract(r.data, '$.name.familyName'))", postgres: "lower(r.data #>> '{name,familyName}')" },
    {
      path: 'emails',
      sqlite:
        "scim_lower(COALESCE((SELECT json_extract(s1.value, '$.value') FROM json_each(r.data, '$.emails') AS s1 WHERE json_extract(s1.value, '$.primary') = 1 LIMIT 1)," +
        " json_extract(r.data, '$.emails[0].value')))",
      postgres:
        "lower(COALESCE((SELECT s1.value #>> '{value}' FROM jsonb_array_elements(r.data #> '{emails}') AS s1(value) WHERE (s1.value #>> '{primary}')::boolean = true LIMIT 1)," +
        " r.data #>> '{emails,0,value}'))",
    },
  ]
  for (const c of sortCases) {
    test(`sortBy=${c.path}`, () => {
      const attr = registry.resolve('User', parseAttributePath(c.path))
      assert.equal(compileSortKey(attr, { dialect: sqliteDialect, resourceType: 'User' }), c.sqlite)
      assert.equal(compileSortKey(attr, { dialect: postgresDialect, resourceType: 'User' }), c.postgres)
    })
  }

  test('sortBy=groups is refused with 400', () => {
    const attr = registry.resolve('User', parseAttributePath('groups'))
    assert.throws(() => compileSortKey(attr, { dialect: sqliteDialect, resourceType: 'User' }), (e: unknown) => e instanceof ScimError && e.status === 400)
  })
})

describe('nextPrefix: the exclusive upper bound of a prefix range', () => {
  const bounds: readonly [string, string | undefined][] = [
    ['bj', 'bk'],
    ['a\u{10FFFF}', 'b'],
    ['\u{10FFFF}', undefined],
    ['x\uD7FF', 'x\uE000'],
    ['😀', '😁'],
    ['', undefined],
  ]
  for (const [prefix, upper] of bounds) {
    test(`${JSON.stringify(prefix)} → ${JSON.stringify(upper)}`, () => assert.equal(nextPrefix(prefix), upper))
  }
})

describe('matchesAtMostOne: filters that name one resource at most (then no ORDER BY is needed)', () => {
  const cases: { filter: string; resourceType?: 'User' | 'Group'; expected: boolean }[] = [
    { filter: 'userName eq "bjensen"', expected: true },
    { filter: 'USERNAME eq "bjensen"', expected: true },
    { filter: 'id eq "2819c223"', expected: true },
    { filter: 'id eq "g1"', resourceType: 'Group', expected: true },
    { filter: 'userName eq "bjensen" and active eq true', expected: true },
    { filter: 'active eq true and (title pr and userName eq "bjensen")', expected: true },
    { filter: 'userName eq "bjensen" or userName eq "jsmith"', expected: false },
    { filter: 'not (userName eq "bjensen")', expected: false },
    { filter: 'userName ne "bjensen"', expected: false },
    { filter: 'userName sw "bj"', expected: false },
    { filter: 'externalId eq "e1"', expected: false },
    { filter: 'displayName eq "Babs"', expected: false },
    { filter: 'emails.value eq "b@example.com"', expected: false },
    { filter: 'emails[value eq "b@example.com"]', expected: false },
    { filter: 'displayName eq "Admins"', resourceType: 'Group', expected: false },
  ]
  for (const c of cases) {
    test(`${c.filter} (${c.resourceType ?? 'User'}) → ${c.expected}`, () => {
      assert.equal(matchesAtMostOne(resolveFilter(parseFilter(c.filter), registry, c.resourceType ?? 'User')), c.expected)
    })
  }
})
