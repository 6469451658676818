import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { ScimObject } from '../../../src/scim/schema/attribute.js'
import { SchemaRegistry } from '../../../src/scim/schema/schema-registry.js'
import { parseFilter } from '../../../src/scim/filter/parse-filter.js'
import { resolveFilter } from '../../../src/scim/filter/resolve-filter.js'
import { matchElement, matchFilter } from '../../../src/scim/filter/match-filter.js'

const registry = SchemaRegistry.withCoreSchemas()
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'

// After RFC 7643 §8.2 / §8.3 (full and enterprise user), in canonical form.
const bjensen: ScimObject = {
  schemas: [USER, ENTERPRISE],
  id: '2819c223-7f76-453a-919d-413861904646',
  externalId: '701984',
  userName: 'bjensen@example.com',
  name: { formatted: 'Ms. Barbara J Jensen, III', familyName: "O'Malley", givenName: 'Barbara' },
  displayName: 'Babs Jensen',
  nickName: '',
  title: 'Tour Guide',
  userType: 'Employee',
  active: true,
  emails: [
    { value: 'bjensen@example.com', type: 'work', primary: true },
    { value: 'babs@jensen.org', type: 'home' },
  ],
  ims: [{ value: 'someaimhandle', type: 'aim' }],
  phoneNumbers: [],
  x509Certificates: [{ value: 'MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAw' }],
  meta: {
    resourceType: 'User',
    created: '2010-01-23T04:56:22Z',
    lastModified: '2011-05-13T04:42:34Z',
    version: 'W/"a330bc54f0671c9"',
    location: 'https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646',
  },
  [ENTERPRISE]: {
    employeeNumber: '701984',
    department: 'Tour Operations',
    manager: { value: '26118915-6090-4610-87e4-49d8ca9f808d', displayName: 'John Smith' },
  },
}

// A user with almost nothing: absent attributes and explicit nulls.
const sparse: ScimObject = {
  schemas: [USER],
  id: 'b1c2',
  userName: 'sparse',
  title: null,
  emails: [{ type: 'work' }],
  name: {},
}

const tourGroup: ScimObject = {
  schemas: [GROUP],
  id: 'e9e30dba-f08f-4109-8486-d5c6a331660a',
  displayName: 'Tour Guides',
  members: [
    { value: '2819c223-7f76-453a-919d-413861904646', display: 'Babs Jensen', type: 'User' },
    { value: '902c246b-6245-4190-8e05-00816be7344a', display: 'Mandy Pepperidge', type: 'User' },
  ],
}

const cases: readonly { readonly text: string; readonly resource: ScimObject; readonly expected: boolean; readonly why?: string; readonly resourceType?: string }[] = [
  // RFC 7644 §3.4.2.2 examples against bjensen.
  { text: 'userName eq "bjensen@example.com"', resource: bjensen, expected: true },
  { text: 'name.familyName co "O\'Malley"', resource: bjensen, expected: true },
  { text: 'userName sw "J"', resource: bjensen, expected: false },
  { text: 'userName sw "B"', resource: bjensen, expected: true, why: 'userName is caseExact false' },
  { text: `${USER}:userName sw "b"`, resource: bjensen, expected: true },
  { text: 'title pr', resource: bjensen, expected: true },
  { text: 'meta.lastModified gt "2011-05-13T04:42:34Z"', resource: bjensen, expected: false },
  { text: 'meta.lastModified ge "2011-05-13T04:42:34Z"', resource: bjensen, expected: true },
  { text: 'meta.lastModified lt "2011-05-13T04:42:34Z"', resource: bjensen, expected: false },
  { text: 'meta.lastModified le "2011-05-13T04:42:34Z"', resource: bjensen, expected: true },
  { text: 'title pr and userType eq "Employee"', resource: bjensen, expected: true },
  { text: 'title pr or userType eq "Intern"', resource: bjensen, expected: true },
  { text: `schemas eq "${ENTERPRISE}"`, resource: bjensen, expected: true },
  { text: `schemas eq "${ENTERPRISE.toUpperCase()}"`, resource: bjensen, expected: true, why: 'schema URIs compare case-insensitively' },
  { text: `schemas eq "${ENTERPRISE}"`, resource: sparse, expected: false },
  { text: 'userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")', resource: bjensen, expected: true },
  { text: 'userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")', resource: bjensen, expected: false },
  { text: 'userType eq "Employee" and (emails.type eq "work")', resource: bjensen, expected: true },
  { text: 'userType eq "Employee" and emails[type eq "work" and value co "@example.com"]', resource: bjensen, expected: true },
  { text: 'emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]', resource: bjensen, expected: true },

  // Case sensitivity from the definition.
  { text: 'userName eq "BJENSEN@EXAMPLE.COM"', resource: bjensen, expected: true, why: 'caseExact false' },
  { text: 'id eq "2819C223-7F76-453A-919D-413861904646"', resource: bjensen, expected: false, why: 'id is caseExact' },
  { text: 'id eq "2819c223-7f76-453a-919d-413861904646"', resource: bjensen, expected: true },
  { text: 'externalId eq "701984"', resource: bjensen, expected: true },
  { text: 'meta.version sw "w/"', resource: bjensen, expected: false, why: 'meta.version is caseExact' },
  { text: 'displayName ew "JENSEN"', resource: bjensen, expected: true },
  { text: 'displayName co "bs je"', resource: bjensen, expected: true },

  // Multi-valued: any value.
  { text: 'emails.value eq "babs@jensen.org"', resource: bjensen, expected: true, why: 'the second element matches' },
  { text: 'emails.type eq "other"', resource: bjensen, expected: false },
  { text: 'emails eq "BJENSEN@example.com"', resource: bjensen, expected: true, why: 'complex compared through value' },
  { text: 'emails.primary eq true', resource: bjensen, expected: true },
  { text: 'emails.primary eq false', resource: bjensen, expected: false, why: 'an absent primary is not false' },
  { text: 'x509Certificates.value sw "MIID"', resource: bjensen, expected: true, why: 'binary compared as text' },

  // A value path needs one element that satisfies the whole inner filter.
  { text: 'emails[type eq "work" and value co "jensen.org"]', resource: bjensen, expected: false, why: 'work and jensen.org are in different elements' },
  { text: 'emails.type eq "work" and emails.value co "jensen.org"', resource: bjensen, expected: true, why: 'without brackets each test may use a different element' },
  { text: 'emails[type eq "home" and not (primary eq true)]', resource: bjensen, expected: true },
  { text: 'emails[primary pr]', resource: bjensen, expected: true },
  { text: 'emails[type eq "work"]', resource: sparse, expected: true },
  { text: 'ims[type eq "xmpp"]', resource: bjensen, expected: false },
  { text: 'phoneNumbers[type eq "work"]', resource: bjensen, expected: false, why: 'an empty array has no element' },
  { text: 'name[givenName eq "barbara"]', resource: bjensen, expected: true, why: 'a single-valued complex attribute is its one element' },
  { text: `${ENTERPRISE}:manager[value sw "26118915"]`, resource: bjensen, expected: true },
  { text: 'members[value eq "902c246b-6245-4190-8e05-00816be7344a"]', resource: tourGroup, resourceType: 'Group', expected: true },
  { text: 'members[value eq "nobody"]', resource: tourGroup, resourceType: 'Group', expected: false },
  { text: 'members.display co "pepper"', resource: tourGroup, resourceType: 'Group', expected: true },
  { text: `schemas eq "${GROUP}" and displayName eq "tour guides"`, resource: tourGroup, resourceType: 'Group', expected: true },

  // Extension attributes live under their URN key.
  { text: `${ENTERPRISE}:department eq "Tour Operations"`, resource: bjensen, expected: true },
  { text: 'department eq "tour operations"', resource: bjensen, expected: true, why: 'an unprefixed extension attribute' },
  { text: `${ENTERPRISE}:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"`, resource: bjensen, expected: true },
  { text: `${ENTERPRISE}:manager eq "26118915-6090-4610-87e4-49d8ca9f808d"`, resource: bjensen, expected: true },
  { text: 'department pr', resource: sparse, expected: false, why: 'no extension object at all' },
  { text: 'department ne "Sales"', resource: sparse, expected: true, why: 'no extension object: ne matches' },

  // pr: non-empty value.
  { text: 'title pr', resource: sparse, expected: false, why: 'null is not present' },
  { text: 'nickName pr', resource: bjensen, expected: false, why: '"" is not present' },
  { text: 'phoneNumbers pr', resource: bjensen, expected: false, why: '[] is not present' },
  { text: 'name pr', resource: sparse, expected: false, why: 'a complex value with no sub-attribute is not present' },
  { text: 'emails pr', resource: sparse, expected: true },
  { text: 'emails.value pr', resource: sparse, expected: false },
  { text: 'active pr', resource: bjensen, expected: true },
  { text: 'active pr', resource: { ...bjensen, active: false }, expected: true, why: 'false is a value' },

  // null, absence and ne.
  { text: 'title eq null', resource: sparse, expected: true, why: 'null' },
  { text: 'displayName eq null', resource: sparse, expected: true, why: 'absent' },
  { text: 'nickName eq null', resource: bjensen, expected: true, why: 'eq null is not pr, and "" is not present' },
  { text: 'title eq null', resource: bjensen, expected: false },
  { text: 'title ne null', resource: bjensen, expected: true },
  { text: 'title ne null', resource: sparse, expected: false },
  { text: 'phoneNumbers eq null', resource: bjensen, expected: true, why: 'complex compared through value; no phone values' },
  { text: 'title ne "Tour Guide"', resource: bjensen, expected: false },
  { text: 'title ne "tour guide"', resource: bjensen, expected: false, why: 'ne folds case like eq' },
  { text: 'title ne "Manager"', resource: bjensen, expected: true },
  { text: 'title ne "Manager"', resource: sparse, expected: true, why: 'ne matches an absent value' },
  { text: 'emails.type ne "work"', resource: bjensen, expected: false, why: 'ne is not eq over all values: one email is work' },
  { text: 'emails.type ne "other"', resource: bjensen, expected: true },
  { text: 'not (title eq "Tour Guide")', resource: sparse, expected: true },
  { text: 'title eq "Tour Guide"', resource: sparse, expected: false, why: 'comparisons with an absent value are false' },
  { text: 'title co ""', resource: sparse, expected: false, why: 'even co "" needs a value' },
  { text: 'title gt "A"', resource: sparse, expected: false },
  { text: 'meta.created lt "2030-01-01"', resource: sparse, expected: false },

  // Ordering.
  { text: 'userName gt "a"', resource: bjensen, expected: true, why: 'lexicographic' },
  { text: 'userName lt "BZ"', resource: bjensen, expected: true, why: 'lower-cased when caseExact is false' },
  { text: 'userName ge "bjensen@example.com"', resource: bjensen, expected: true },
  { text: 'userName gt "bjensen@example.com"', resource: bjensen, expected: false },
  { text: 'meta.created gt "2010-01-23T05:00:00+01:00"', resource: bjensen, expected: true, why: 'instants, not text: 04:00Z < 04:56:22Z' },
  { text: 'meta.created lt "2010-01-23T04:56:22.001Z"', resource: bjensen, expected: true },
  { text: 'meta.created eq "2010-01-23T04:56:22.000Z"', resource: bjensen, expected: true, why: 'same instant, different text' },
  { text: 'meta.created eq "2010-01-23T05:56:22+01:00"', resource: bjensen, expected: true },
  { text: 'meta.created sw "2010-01"', resource: bjensen, expected: true, why: 'substring on the stored text' },
  { text: 'meta.lastModified gt "2011-05-13"', resource: bjensen, expected: true },

  // Booleans are real booleans.
  { text: 'active eq true', resource: bjensen, expected: true },
  { text: 'active eq "TRUE"', resource: bjensen, expected: true, why: 'Entra ID string booleans' },
  { text: 'active eq false', resource: bjensen, expected: false },
  { text: 'active ne false', resource: bjensen, expected: true },
  { text: 'active eq true', resource: { ...bjensen, active: 'true' }, expected: false, why: 'a stored string is not a boolean' },

  // Logic.
  { text: 'userType eq "Intern" or (title pr and active eq true)', resource: bjensen, expected: true },
  { text: 'userType eq "Intern" or title pr and active eq false', resource: bjensen, expected: false },
  { text: 'not (not (title pr))', resource: bjensen, expected: true },
]

// Integer and decimal attributes come from an extension; the core schemas have none.
const NUMBERS = 'urn:example:params:scim:schemas:extension:roster-test:2.0:User'
const numericRegistry = SchemaRegistry.withCoreSchemas([
  {
    schema: {
      id: NUMBERS,
      name: 'RosterTest',
      attributes: [
        { name: 'level', type: 'integer', multiValued: false, required: false, caseExact: false, mutability: 'readWrite', returned: 'default', uniqueness: 'none' },
        { name: 'scores', type: 'decimal', multiValued: true, required: false, caseExact: false, mutability: 'readWrite', returned: 'default', uniqueness: 'none' },
      ],
    },
    resourceTypes: ['User'],
    required: false,
  },
])
const numeric: ScimObject = { schemas: [USER, NUMBERS], userName: 'n', [NUMBERS]: { level: 10, scores: [1.5, 9.25] } }
const numericCases: readonly { readonly text: string; readonly expected: boolean; readonly why?: string }[] = [
  { text: 'level eq 10', expected: true },
  { text: 'level gt 9', expected: true, why: 'numerically, not as text ("10" < "9")' },
  { text: 'level lt 9', expected: false },
  { text: 'level ge "10"', expected: true, why: 'numeric string tolerance' },
  { text: 'level le 10.0', expected: true },
  { text: 'scores gt 9', expected: true, why: 'any value of a multi-valued attribute' },
  { text: 'scores lt 1', expected: false },
  { text: 'scores eq 1.5', expected: true },
  { text: 'scores ne 1.5', expected: false },
]

describe('matchFilter (RFC 7644 §3.4.2.2)', () => {
  for (const { text, resource, expected, why, resourceType = 'User' } of cases) {
    const who = typeof resource.userName === 'string' ? resource.userName : String(resource.displayName)
    test(`${JSON.stringify(text)} on ${who} is ${expected}${why ? ` (${why})` : ''}`, () => {
      assert.equal(matchFilter(resource, resolveFilter(parseFilter(text), registry, resourceType)), expected)
    })
  }
  for (const { text, expected, why } of numericCases) {
    test(`${JSON.stringify(text)} on level 10, scores [1.5, 9.25] is ${expected}${why ? ` (${why})` : ''}`, () => {
      assert.equal(matchFilter(numeric, resolveFilter(parseFilter(text), numericRegistry, 'User')), expected)
    })
  }
})

describe('matchElement: the inner filter of a value path on one element (RFC 7644 §3.5.2 PATCH paths)', () => {
  const inner = (text: string, resourceType = 'User') => {
    const node = resolveFilter(parseFilter(text), registry, resourceType)
    if (node.kind !== 'valuePath') throw new Error(`${text} is not a value path`)
    return node.filter
  }
  const elementCases: readonly { readonly text: string; readonly element: ScimObject; readonly expected: boolean; readonly resourceType?: string }[] = [
    { text: 'members[value eq "2819c223"]', element: { value: '2819c223', type: 'User' }, expected: true, resourceType: 'Group' },
    { text: 'members[value eq "2819C223"]', element: { value: '2819c223' }, expected: true, resourceType: 'Group' },
    { text: 'members[value eq "other"]', element: { value: '2819c223' }, expected: false, resourceType: 'Group' },
    { text: 'emails[type eq "work" and primary eq true]', element: { value: 'a@example.com', type: 'Work', primary: true }, expected: true },
    { text: 'emails[type eq "work" and primary eq true]', element: { value: 'a@example.com', type: 'work' }, expected: false },
    { text: 'emails[not (primary eq true)]', element: { value: 'a@example.com' }, expected: true },
    { text: 'emails[display pr or value ew ".org"]', element: { value: 'babs@jensen.org' }, expected: true },
    { text: 'emails[type eq null]', element: { value: 'x' }, expected: true },
  ]
  for (const { text, element, expected, resourceType } of elementCases) {
    test(`${JSON.stringify(text)} on ${JSON.stringify(element)} is ${expected}`, () => {
      assert.equal(matchElement(element, inner(text, resourceType)), expected)
    })
  }
})
