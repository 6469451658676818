import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { ScimError } from '../../../src/scim/errors.js'
import { defineAttribute, type ResolvedAttribute } from '../../../src/scim/schema/attribute.js'
import { SchemaRegistry } from '../../../src/scim/schema/schema-registry.js'
import { eq, valuePath, type FilterValue, type ResolvedFilterNode } from '../../../src/scim/filter/filter-ast.js'
import { parseFilter } from '../../../src/scim/filter/parse-filter.js'
import { resolveFilter } from '../../../src/scim/filter/resolve-filter.js'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
const TEST_EXT = 'urn:example:params:scim:schemas:extension:roster-test:2.0:User'

// The core schemas have no integer or decimal attribute; this extension supplies them.
const registry = SchemaRegistry.withCoreSchemas([
  {
    schema: {
      id: TEST_EXT,
      name: 'RosterTest',
      attributes: [
        defineAttribute('level', { type: 'integer' }),
        defineAttribute('score', { type: 'decimal' }),
        defineAttribute('badge', { subAttributes: [defineAttribute('value'), defineAttribute('pin', { returned: 'never', mutability: 'writeOnly' })] }),
      ],
    },
    resourceTypes: ['User'],
    required: false,
  },
])

const resolve = (text: string, resourceType = 'User') => resolveFilter(parseFilter(text), registry, resourceType)

const label = (a: ResolvedAttribute) => `${a.schema}:${a.attribute.name}${a.subAttribute ? `.${a.subAttribute.name}` : ''}`

/** A compact picture of a resolved tree: canonical schema:attribute.sub labels, coerced values. */
type Summary =
  | { readonly attr: string; readonly op: string; readonly value: FilterValue }
  | { readonly pr: string }
  | { readonly and: readonly [Summary, Summary] }
  | { readonly or: readonly [Summary, Summary] }
  | { readonly not: Summary }
  | { readonly valuePath: string; readonly filter: Summary }

function summarize(node: ResolvedFilterNode): Summary {
  switch (node.kind) {
    case 'compare':
      return { attr: label(node.attr), op: node.op, value: node.value }
    case 'present':
      return { pr: label(node.attr) }
    case 'and':
      return { and: [summarize(node.left), summarize(node.right)] }
    case 'or':
      return { or: [summarize(node.left), summarize(node.right)] }
    case 'not':
      return { not: summarize(node.operand) }
    case 'valuePath':
      return { valuePath: label(node.attr), filter: summarize(node.filter) }
  }
}

const cmp = (attr: string, op: string, value: FilterValue): Summary => ({ attr, op, value })

const valid: readonly { readonly text: string; readonly resourceType?: string; readonly expected: Summary; readonly why?: string }[] = [
  { text: 'userName eq "bjensen"', expected: cmp(`${USER}:userName`, 'eq', 'bjensen') },
  { text: 'USERNAME eq "bjensen"', expected: cmp(`${USER}:userName`, 'eq', 'bjensen'), why: 'names come back canonical' },
  { text: 'urn:ietf:params:scim:schemas:core:2.0:user:userName sw "J"', expected: cmp(`${USER}:userName`, 'sw', 'J'), why: 'schema URN in any case' },
  { text: 'name.familyName co "O\'Malley"', expected: cmp(`${USER}:name.familyName`, 'co', "O'Malley") },
  { text: 'id eq "2819c223"', expected: cmp(`${USER}:id`, 'eq', '2819c223'), why: 'common attribute' },
  { text: 'externalId eq "701984"', expected: cmp(`${USER}:externalId`, 'eq', '701984') },
  { text: 'meta.resourceType eq "User"', expected: cmp(`${USER}:meta.resourceType`, 'eq', 'User') },
  { text: `${ENTERPRISE}:manager.value eq "26118915"`, expected: cmp(`${ENTERPRISE}:manager.value`, 'eq', '26118915') },
  { text: 'department eq "Tour Operations"', expected: cmp(`${ENTERPRISE}:department`, 'eq', 'Tour Operations'), why: 'an unprefixed extension attribute' },
  { text: 'title pr and userType eq "Employee"', expected: { and: [{ pr: `${USER}:title` }, cmp(`${USER}:userType`, 'eq', 'Employee')] } },
  { text: 'not (title pr) or title eq null', expected: { or: [{ not: { pr: `${USER}:title` } }, cmp(`${USER}:title`, 'eq', null)] } },
  { text: 'title ne null', expected: cmp(`${USER}:title`, 'ne', null) },

  // A complex attribute compared as a whole means its value sub-attribute (RFC 7644 §3.4.2.2 examples).
  { text: 'emails co "example.com"', expected: cmp(`${USER}:emails.value`, 'co', 'example.com'), why: 'complex attribute compared through value' },
  { text: 'emails pr', expected: { pr: `${USER}:emails` }, why: 'presence of the complex attribute itself' },
  { text: 'name pr', expected: { pr: `${USER}:name` } },
  { text: `${ENTERPRISE}:manager eq "26118915"`, expected: cmp(`${ENTERPRISE}:manager.value`, 'eq', '26118915') },
  { text: 'emails.type eq "work"', expected: cmp(`${USER}:emails.type`, 'eq', 'work') },

  // Value paths: inner names are sub-attributes of the outer attribute.
  { text: 'emails[type eq "work" and value co "@example.com"]', expected: { valuePath: `${USER}:emails`, filter: { and: [cmp(`${USER}:emails.type`, 'eq', 'work'), cmp(`${USER}:emails.value`, 'co', '@example.com')] } } },
  { text: 'emails[TYPE eq "work"]', expected: { valuePath: `${USER}:emails`, filter: cmp(`${USER}:emails.type`, 'eq', 'work') }, why: 'inner names in any case' },
  { text: 'emails[primary pr]', expected: { valuePath: `${USER}:emails`, filter: { pr: `${USER}:emails.primary` } } },
  { text: 'name[givenName eq "Barbara"]', expected: { valuePath: `${USER}:name`, filter: cmp(`${USER}:name.givenName`, 'eq', 'Barbara') }, why: 'a single-valued complex attribute is allowed' },
  { text: `${ENTERPRISE}:manager[value eq "26118915"]`, expected: { valuePath: `${ENTERPRISE}:manager`, filter: cmp(`${ENTERPRISE}:manager.value`, 'eq', '26118915') } },
  { text: 'members[value eq "2819c223"]', resourceType: 'Group', expected: { valuePath: `${GROUP}:members`, filter: cmp(`${GROUP}:members.value`, 'eq', '2819c223') } },
  { text: 'members[$ref eq "https://example.com/v2/Users/1"]', resourceType: 'Group', expected: { valuePath: `${GROUP}:members`, filter: cmp(`${GROUP}:members.$ref`, 'eq', 'https://example.com/v2/Users/1') } },

  // schemas: on every resource, defined by no schema (RFC 7644 §3.4.2.2 example).
  { text: `schemas eq "${ENTERPRISE}"`, expected: cmp(`${USER}:schemas`, 'eq', ENTERPRISE) },
  { text: `${USER}:schemas eq "${ENTERPRISE}"`, expected: cmp(`${USER}:schemas`, 'eq', ENTERPRISE), why: 'with the core schema prefix' },
  { text: `schemas eq "${GROUP}"`, resourceType: 'Group', expected: cmp(`${GROUP}:schemas`, 'eq', GROUP) },

  // Value coercion by the target type.
  { text: 'meta.lastModified gt "2011-05-13T04:42:34Z"', expected: cmp(`${USER}:meta.lastModified`, 'gt', '2011-05-13T04:42:34.000Z'), why: 'dateTime normalised to ISO 8601 UTC' },
  { text: 'meta.created ge "2011-05-13T06:42:34.5+02:00"', expected: cmp(`${USER}:meta.created`, 'ge', '2011-05-13T04:42:34.500Z'), why: 'offset converted to UTC' },
  { text: 'meta.created lt "2011-05-13"', expected: cmp(`${USER}:meta.created`, 'lt', '2011-05-13T00:00:00.000Z'), why: 'a bare date is midnight UTC' },
  { text: 'meta.created eq "2011-05-13T04:42:34"', expected: cmp(`${USER}:meta.created`, 'eq', '2011-05-13T04:42:34.000Z'), why: 'no offset is read as UTC, not server time' },
  { text: 'meta.created sw "2011-05"', expected: cmp(`${USER}:meta.created`, 'sw', '2011-05'), why: 'substring operators keep the text as written' },
  { text: 'active eq true', expected: cmp(`${USER}:active`, 'eq', true) },
  { text: 'active eq "True"', expected: cmp(`${USER}:active`, 'eq', true), why: 'Entra ID sends booleans as strings' },
  { text: 'active ne "FALSE"', expected: cmp(`${USER}:active`, 'ne', false), why: 'Entra ID sends booleans as strings' },
  { text: 'userName eq 42', expected: cmp(`${USER}:userName`, 'eq', '42'), why: 'a number compared with a string becomes a string' },
  { text: 'level eq 3', expected: cmp(`${TEST_EXT}:level`, 'eq', 3) },
  { text: 'level ge "3"', expected: cmp(`${TEST_EXT}:level`, 'ge', 3), why: 'a numeric string compared with an integer' },
  { text: 'score lt 2.5', expected: cmp(`${TEST_EXT}:score`, 'lt', 2.5) },
  { text: 'score gt "-1.5e1"', expected: cmp(`${TEST_EXT}:score`, 'gt', -15) },
  { text: 'level eq null', expected: cmp(`${TEST_EXT}:level`, 'eq', null) },
  { text: 'x509Certificates.value eq "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAw"', expected: cmp(`${USER}:x509Certificates.value`, 'eq', 'MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAw') },
  { text: 'x509Certificates.value co "MIID"', expected: cmp(`${USER}:x509Certificates.value`, 'co', 'MIID') },
]

const invalid: readonly { readonly text: string; readonly resourceType?: string; readonly why: string; readonly detail: RegExp }[] = [
  { text: 'nickname2 eq "x"', why: 'unknown attribute', detail: /nickname2/ },
  { text: 'name.nickName eq "x"', why: 'unknown sub-attribute', detail: /name\.nickName/ },
  { text: 'urn:example:unknown:2.0:User:userName eq "x"', why: 'unknown schema URN', detail: /urn:example:unknown:2\.0:User/ },
  { text: 'userName eq "x"', resourceType: 'Group', why: 'a User attribute on a Group', detail: /userName/ },
  { text: `${ENTERPRISE}:schemas eq "x"`, why: 'schemas under an extension URN', detail: /schemas/ },
  { text: 'schemas.value eq "x"', why: 'schemas has no sub-attributes', detail: /schemas\.value/ },
  { text: 'password eq "t1meMa$heen"', why: 'password (returned never) cannot be probed', detail: /password.*never returned/ },
  { text: 'password pr', why: 'password presence cannot be probed either', detail: /password/ },
  { text: 'PASSWORD sw "a"', why: 'password in any case', detail: /PASSWORD/ },
  { text: 'badge.pin eq "1234"', why: 'a returned-never sub-attribute', detail: /badge\.pin/ },
  { text: 'badge[pin sw "1"]', why: 'a returned-never sub-attribute inside a value path', detail: /badge\.pin/ },
  { text: 'name eq "Barbara"', why: 'complex attribute without a value sub-attribute', detail: /"name" is complex/ },
  { text: 'meta co "2011"', why: 'meta compared as a whole', detail: /"meta" is complex/ },
  { text: 'userName[value eq "x"]', why: 'value path on a simple attribute', detail: /"userName\[…\]" needs a complex attribute/ },
  { text: 'emails.value[type eq "work"]', why: 'value path on a sub-attribute', detail: /needs a complex attribute/ },
  { text: `emails[${USER}:type eq "work"]`, why: 'URN inside a value path', detail: /plain sub-attribute name/ },
  { text: 'emails[type.value eq "work"]', why: 'dotted path inside a value path', detail: /"type\.value" inside "emails\[…\]"/ },
  { text: 'emails[department eq "x"]', why: 'unknown name inside a value path', detail: /Unknown sub-attribute "department" inside "emails\[…\]"/ },
  { text: 'active gt true', why: 'gt on boolean (RFC 7644 §3.4.2.2)', detail: /"gt" is not defined for boolean/ },
  { text: 'emails.primary le false', why: 'le on a boolean sub-attribute', detail: /"le" is not defined for boolean/ },
  { text: 'x509Certificates.value lt "MIID"', why: 'lt on binary (RFC 7644 §3.4.2.2)', detail: /"lt" is not defined for binary/ },
  { text: 'active co "tr"', why: 'co on boolean', detail: /"co" is only defined for string/ },
  { text: 'level sw 1', why: 'sw on integer', detail: /"sw" is only defined for string/ },
  { text: 'score ew "5"', why: 'ew on decimal', detail: /"ew" is only defined for string/ },
  { text: 'userName gt null', why: 'null with gt', detail: /null can only be compared with eq or ne/ },
  { text: 'userName co null', why: 'null with co', detail: /null can only be compared with eq or ne/ },
  { text: 'meta.lastModified gt "yesterday"', why: 'unparseable dateTime', detail: /not an RFC 3339/ },
  { text: 'meta.lastModified gt "2011-02-30T00:00:00Z"', why: 'impossible date', detail: /not an RFC 3339/ },
  { text: 'meta.lastModified gt "2011-05-13T25:00:00Z"', why: 'impossible hour', detail: /not an RFC 3339/ },
  { text: 'meta.lastModified gt 1305261754', why: 'a number for a dateTime', detail: /dateTime attributes take a string/ },
  { text: 'meta.created sw 2011', why: 'a number for a dateTime substring', detail: /dateTime attributes take a string/ },
  { text: 'level eq 1.5', why: 'a fraction for an integer', detail: /whole number/ },
  { text: 'level eq "three"', why: 'a non-numeric string for an integer', detail: /integer attributes take a number/ },
  { text: 'score eq true', why: 'a boolean for a decimal', detail: /decimal attributes take a number/ },
  { text: 'active eq "yes"', why: 'a string other than true/false for a boolean', detail: /boolean attributes take true or false/ },
  { text: 'active eq 1', why: 'a number for a boolean', detail: /boolean attributes take true or false/ },
  { text: 'userName eq true', why: 'a boolean for a string', detail: /string attributes take a string value/ },
]

function assertInvalidFilter(fn: () => unknown, detail: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ScimError, `expected a ScimError, got ${String(e)}`)
    assert.equal(e.status, 400)
    assert.equal(e.scimType, 'invalidFilter')
    assert.match(e.detail, detail)
    return true
  })
}

describe('resolveFilter: binds paths and coerces values (RFC 7644 §3.4.2.2)', () => {
  for (const { text, resourceType, expected, why } of valid) {
    test(`resolves ${JSON.stringify(text)}${resourceType ? ` on ${resourceType}` : ''}${why ? ` (${why})` : ''}`, () => {
      assert.deepStrictEqual(summarize(resolve(text, resourceType)), expected)
    })
  }
})

describe('resolveFilter: refusals are ScimError 400 invalidFilter, never invalidPath (RFC 7644 §3.12)', () => {
  for (const { text, resourceType, why, detail } of invalid) {
    test(`rejects ${why}: ${JSON.stringify(text)}`, () => assertInvalidFilter(() => resolve(text, resourceType), detail))
  }

  test('rejects a hand-built value path nested in a value path', () => {
    const nested = valuePath('emails', valuePath('type', eq('value', 'x')))
    assertInvalidFilter(() => resolveFilter(nested, registry, 'User'), /needs a complex attribute/)
  })
})

describe('resolveFilter: the bound definitions', () => {
  test('schemas resolves as a multi-valued, case-insensitive common attribute read from the top level', () => {
    const node = resolve(`schemas eq "${ENTERPRISE}"`)
    assert.equal(node.kind, 'compare')
    if (node.kind !== 'compare') return
    assert.equal(node.attr.attribute.name, 'schemas')
    assert.equal(node.attr.attribute.multiValued, true)
    assert.equal(node.attr.attribute.caseExact, false)
    assert.equal(node.attr.isCommon, true)
    assert.equal(node.attr.isExtension, false)
    assert.equal(node.attr.subAttribute, undefined)
  })

  test('inside a value path the inner attr carries the outer definition and the sub-attribute', () => {
    const node = resolve('emails[type eq "work"]')
    assert.equal(node.kind, 'valuePath')
    if (node.kind !== 'valuePath' || node.filter.kind !== 'compare') return assert.fail('expected valuePath(compare)')
    assert.equal(node.filter.attr.attribute, node.attr.attribute)
    assert.equal(node.filter.attr.subAttribute?.name, 'type')
    assert.equal(node.filter.attr.subAttribute?.caseExact, false)
  })

  test('extension attributes are marked as such', () => {
    const node = resolve('department eq "x"')
    if (node.kind !== 'compare') return assert.fail('expected compare')
    assert.equal(node.attr.isExtension, true)
    assert.equal(node.attr.schema, ENTERPRISE)
  })

  test('caseExact comes from the definition: id is caseExact, userName is not', () => {
    const id = resolve('id eq "a"')
    const userName = resolve('userName eq "a"')
    if (id.kind !== 'compare' || userName.kind !== 'compare') return assert.fail('expected compare')
    assert.equal(id.attr.attribute.caseExact, true)
    assert.equal(userName.attr.attribute.caseExact, false)
  })

  test('does not alter the registry cache when substituting the value sub-attribute', () => {
    resolve('emails co "x"')
    const again = resolve('emails pr')
    if (again.kind !== 'present') return assert.fail('expected present')
    assert.equal(again.attr.subAttribute, undefined)
  })
})
