import { and, compare, eq, not, or, present, valuePath, type FilterNode } from '../../../src/scim/filter/filter-ast.js'

// Shared by parse-filter.test.ts (text → tree) and format-filter.test.ts (tree → text → same tree).

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'

/** Valid filters and the trees parseFilter must give for them. */
export const validFilters: readonly { readonly text: string; readonly expected: FilterNode; readonly why?: string }[] = [
  // RFC 7644 §3.4.2.2, the example filters, verbatim.
  { text: 'userName eq "bjensen"', expected: eq('userName', 'bjensen') },
  { text: `name.familyName co "O'Malley"`, expected: compare('name.familyName', 'co', "O'Malley") },
  { text: 'userName sw "J"', expected: compare('userName', 'sw', 'J') },
  { text: `${USER}:userName sw "J"`, expected: compare({ schema: USER, attribute: 'userName' }, 'sw', 'J') },
  { text: 'title pr', expected: present('title') },
  { text: 'meta.lastModified gt "2011-05-13T04:42:34Z"', expected: compare('meta.lastModified', 'gt', '2011-05-13T04:42:34Z') },
  { text: 'meta.lastModified ge "2011-05-13T04:42:34Z"', expected: compare('meta.lastModified', 'ge', '2011-05-13T04:42:34Z') },
  { text: 'meta.lastModified lt "2011-05-13T04:42:34Z"', expected: compare('meta.lastModified', 'lt', '2011-05-13T04:42:34Z') },
  { text: 'meta.lastModified le "2011-05-13T04:42:34Z"', expected: compare('meta.lastModified', 'le', '2011-05-13T04:42:34Z') },
  { text: 'title pr and userType eq "Employee"', expected: and(present('title'), eq('userType', 'Employee')) },
  { text: 'title pr or userType eq "Intern"', expected: or(present('title'), eq('userType', 'Intern')) },
  { text: `schemas eq "${ENTERPRISE}"`, expected: eq('schemas', ENTERPRISE) },
  {
    text: 'userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")',
    expected: and(eq('userType', 'Employee'), or(compare('emails', 'co', 'example.com'), compare('emails.value', 'co', 'example.org'))),
  },
  {
    text: 'userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")',
    expected: and(compare('userType', 'ne', 'Employee'), not(or(compare('emails', 'co', 'example.com'), compare('emails.value', 'co', 'example.org')))),
  },
  { text: 'userType eq "Employee" and (emails.type eq "work")', expected: and(eq('userType', 'Employee'), eq('emails.type', 'work')) },
  {
    text: 'userType eq "Employee" and emails[type eq "work" and value co "@example.com"]',
    expected: and(eq('userType', 'Employee'), valuePath('emails', and(eq('type', 'work'), compare('value', 'co', '@example.com')))),
  },
  {
    text: 'emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]',
    expected: or(
      valuePath('emails', and(eq('type', 'work'), compare('value', 'co', '@example.com'))),
      valuePath('ims', and(eq('type', 'xmpp'), compare('value', 'co', '@foo.com'))),
    ),
  },
  // RFC 7644 §3.4.2.2: "the following two expressions will evaluate to the same logical value".
  { text: 'userName Eq "john"', expected: eq('userName', 'john') },
  { text: 'Username eq "john"', expected: eq('Username', 'john') },
  // RFC 7644 §3.5.2 PATCH path filter.
  { text: 'members[value eq "2819c223-7f76-453a-919d-413861904646"]', expected: valuePath('members', eq('value', '2819c223-7f76-453a-919d-413861904646')) },

  // Every operator, any case.
  ...(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'] as const).map((op) => ({ text: `displayName ${op.toUpperCase()} "x"`, expected: compare('displayName', op, 'x') })),
  { text: 'title PR', expected: present('title') },
  { text: 'title Pr', expected: present('title') },
  { text: 'a pr AND b pr Or NOT (c pr)', expected: or(and(present('a'), present('b')), not(present('c'))) },

  // URN prefixes: the URN ends at the last ':'; URNs contain dots and colons.
  { text: `${USER}:name.familyName eq "Jensen"`, expected: eq({ schema: USER, attribute: 'name', subAttribute: 'familyName' }, 'Jensen') },
  { text: `${ENTERPRISE}:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"`, expected: eq({ schema: ENTERPRISE, attribute: 'manager', subAttribute: 'value' }, '26118915-6090-4610-87e4-49d8ca9f808d') },
  { text: `${ENTERPRISE}:department eq "Tour Operations"`, expected: eq({ schema: ENTERPRISE, attribute: 'department' }, 'Tour Operations') },
  { text: 'members[$ref eq "https://example.com/v2/Users/1"]', expected: valuePath('members', eq('$ref', 'https://example.com/v2/Users/1')) },

  // Precedence: not > and > or, and/or associate to the left.
  { text: 'a pr or b pr and c pr', expected: or(present('a'), and(present('b'), present('c'))), why: 'and binds tighter than or' },
  { text: 'a pr and b pr or c pr', expected: or(and(present('a'), present('b')), present('c')), why: 'and binds tighter than or' },
  { text: '(a pr or b pr) and c pr', expected: and(or(present('a'), present('b')), present('c')), why: 'parentheses override' },
  { text: 'a pr and b pr and c pr', expected: and(and(present('a'), present('b')), present('c')), why: 'left associative' },
  { text: 'a pr or b pr or c pr', expected: or(or(present('a'), present('b')), present('c')), why: 'left associative' },
  { text: 'a pr and (b pr and c pr)', expected: and(present('a'), and(present('b'), present('c'))), why: 'explicit right grouping' },
  { text: 'a pr or (b pr or c pr)', expected: or(present('a'), or(present('b'), present('c'))), why: 'explicit right grouping' },
  { text: 'not (a pr) and b pr', expected: and(not(present('a')), present('b')), why: 'not binds tightest' },
  { text: 'not (a pr and b pr) or c pr', expected: or(not(and(present('a'), present('b'))), present('c')) },
  { text: 'not (not (a pr))', expected: not(not(present('a'))) },
  { text: 'not(a pr)', expected: not(present('a')), why: 'RFC 7644 Figure 1 needs no space after not' },
  { text: '((a pr))', expected: present('a'), why: 'redundant parentheses leave no trace' },
  { text: 'emails[not (type eq "work")]', expected: valuePath('emails', not(eq('type', 'work'))) },
  { text: 'emails[type eq "work" or (primary eq true and value ew ".org")]', expected: valuePath('emails', or(eq('type', 'work'), and(eq('primary', true), compare('value', 'ew', '.org')))) },
  { text: 'emails[type eq "work"] and emails[primary eq true]', expected: and(valuePath('emails', eq('type', 'work')), valuePath('emails', eq('primary', true))) },

  // Whitespace.
  { text: '  userName   eq\t"bjensen"  ', expected: eq('userName', 'bjensen') },
  { text: 'title pr\tand\n\tuserType eq "Employee"', expected: and(present('title'), eq('userType', 'Employee')) },
  { text: 'emails [ type eq "work" ]', expected: valuePath('emails', eq('type', 'work')) },
  { text: '( title pr )', expected: present('title') },

  // String escapes (JSON, RFC 8259 §7).
  { text: String.raw`displayName eq "a \"quoted\" word"`, expected: eq('displayName', 'a "quoted" word') },
  { text: String.raw`displayName eq "back\\slash"`, expected: eq('displayName', 'back\\slash') },
  { text: String.raw`displayName eq "\/slash"`, expected: eq('displayName', '/slash') },
  { text: String.raw`displayName eq "\b\f\n\r\t"`, expected: eq('displayName', '\b\f\n\r\t') },
  { text: String.raw`displayName eq "\u00e9t\u00C9"`, expected: eq('displayName', 'étÉ') },
  { text: String.raw`displayName eq "\ud83d\ude00"`, expected: eq('displayName', '😀') },
  { text: 'displayName eq ""', expected: eq('displayName', '') },
  { text: 'displayName eq "and or not ( ) [ ] pr"', expected: eq('displayName', 'and or not ( ) [ ] pr'), why: 'keywords and brackets inside strings are text' },
  { text: 'displayName eq "日本語"', expected: eq('displayName', '日本語') },

  // Numbers, booleans, null.
  { text: 'x eq 42', expected: eq('x', 42) },
  { text: 'x eq 0', expected: eq('x', 0) },
  { text: 'x eq -7', expected: eq('x', -7) },
  { text: 'x gt 3.14', expected: compare('x', 'gt', 3.14) },
  { text: 'x lt -0.5', expected: compare('x', 'lt', -0.5) },
  { text: 'x eq 1e3', expected: eq('x', 1000) },
  { text: 'x eq 2.5E-3', expected: eq('x', 0.0025) },
  { text: 'x eq 1e+2', expected: eq('x', 100) },
  { text: 'active eq true', expected: eq('active', true) },
  { text: 'active eq false', expected: eq('active', false) },
  { text: 'active eq TRUE', expected: eq('active', true) },
  { text: 'active eq False', expected: eq('active', false) },
  { text: 'title eq null', expected: eq('title', null) },
  { text: 'title ne NULL', expected: compare('title', 'ne', null) },
]
