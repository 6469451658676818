import { test } from 'node:test'
import assert from 'node:assert/strict'
import { CLIENT_SIGNATURES, recognizeClient } from '../../src/audit/recognize-client.js'
import type { KnownClientProduct } from '../../src/audit/audit-event.js'

const cases: { userAgent: string | undefined; expected: KnownClientProduct | undefined; source: string }[] = [
  // Okta developer docs, SCIM 2.0 and 1.1 references: "User-Agent: Okta SCIM Client 1.0.0"
  { userAgent: 'Okta SCIM Client 1.0.0', expected: 'Okta', source: 'okta/okta-developer-docs, docs/reference/scim/' },
  { userAgent: 'Okta SCIM client 1.2.3', expected: 'Okta', source: 'same, other version and case' },
  // A SCIM service provider's detection table (public code): "Microsoft Azure AD SCIM provisioning"
  { userAgent: 'Microsoft Azure AD SCIM provisioning 1.0.0', expected: 'Microsoft Entra ID', source: 'SP detection table, matched by prefix' },
  // pond/scimitar issue #142: request.user_agent == "Google-Auto-Provisioning"
  { userAgent: 'Google-Auto-Provisioning', expected: 'Google Workspace', source: 'pond/scimitar#142' },
  // Heuristics (vendor names; no published agent found): synthetic strings, not captures
  { userAgent: 'OneLogin SCIM Provisioner/2.0', expected: 'OneLogin', source: 'synthetic' },
  { userAgent: 'JumpCloud-SCIM/1.0', expected: 'JumpCloud', source: 'synthetic' },
  { userAgent: 'SailPoint IdentityNow SCIM Connector', expected: 'SailPoint', source: 'synthetic' },
  { userAgent: 'PingFederate/12.0 SCIM', expected: 'Ping Identity', source: 'synthetic' },
  // Generic clients name no product
  { userAgent: 'Apache-HttpClient/4.5.13 (Java/11.0.20)', expected: undefined, source: 'generic Java client, sent by Ping and others alike' },
  { userAgent: 'curl/8.5.0', expected: undefined, source: 'curl' },
  { userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36', expected: undefined, source: 'browser' },
  { userAgent: '', expected: undefined, source: 'empty header' },
  { userAgent: undefined, expected: undefined, source: 'no header' },
  // Okta's name later in the header is not Okta's client
  { userAgent: 'my-script (not Okta SCIM Client)', expected: undefined, source: 'anchored at the start' },
]

for (const { userAgent, expected, source } of cases) {
  test(`recognizes ${JSON.stringify(userAgent)} as ${expected ?? 'no product'} (${source})`, () => {
    assert.equal(recognizeClient(userAgent), expected)
  })
}

test('a very long user agent is cut before matching', () => {
  assert.equal(recognizeClient(`${'x'.repeat(600)} OneLogin`), undefined)
  assert.equal(recognizeClient(`Okta SCIM Client 1.0.0 ${'x'.repeat(10_000)}`), 'Okta')
})

test('every signature names its source', () => {
  for (const s of CLIENT_SIGNATURES) assert.ok(s.source.length > 10, s.product)
})
