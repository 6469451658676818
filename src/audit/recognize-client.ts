import type { KnownClientProduct } from './audit-event.js'

export interface ClientSignature {
  readonly product: KnownClientProduct
  readonly pattern: RegExp
  /** Where the user agent was seen, or why the pattern is only a heuristic. */
  readonly source: string
}

/**
 * User agents of provisioning clients, first match wins. The user agent is chosen by the caller, so
 * the product recorded is a hint for people reading the log, never an input to an access decision.
 *
 * Only the first three are strings seen in published material. For the others no published user
 * agent was found; they match the vendor's name anywhere in the header, which is right when the
 * vendor names itself and silent otherwise. Tighten them when a real request is captured (put it in
 * test/audit/recognize-client.test.ts with where it came from).
 */
export const CLIENT_SIGNATURES: readonly ClientSignature[] = [
  {
    product: 'Okta',
    pattern: /^Okta SCIM Client\b/i,
    source: 'Okta SCIM 2.0 reference, sample requests: "User-Agent: Okta SCIM Client 1.0.0" (okta/okta-developer-docs, packages/@okta/vuepress-site/docs/reference/scim/)',
  },
  {
    product: 'Microsoft Entra ID',
    // The string predates the 2023 rename to Entra ID; a capture from today's service should confirm it.
    pattern: /\bAzure AD SCIM provisioning\b/i,
    source: 'a SCIM service provider\'s user-agent table in public code: AAD_USER_AGENT = "Microsoft Azure AD SCIM provisioning" (prefix, case-insensitive)',
  },
  {
    product: 'Google Workspace',
    pattern: /^Google-Auto-Provisioning\b/i,
    source: 'pond/scimitar issue #142 (2024): Google Workspace auto-provisioning sends request.user_agent == "Google-Auto-Provisioning"',
  },
  { product: 'OneLogin', pattern: /\bOneLogin\b/i, source: 'heuristic: vendor name; no published user agent found' },
  { product: 'JumpCloud', pattern: /\bJumpCloud\b/i, source: 'heuristic: vendor name; no published user agent found' },
  { product: 'SailPoint', pattern: /\b(SailPoint|IdentityNow|IdentityIQ)\b/i, source: 'heuristic: vendor and product names; no published user agent found' },
  // Not "Apache-HttpClient": the same table that maps it to PingFederate says Ping "does not send a very
  // specific user agent"; every Java client using that library sends it (SailPoint IdentityIQ among them).
  { product: 'Ping Identity', pattern: /\b(PingFederate|PingOne|Ping Identity)\b/i, source: 'heuristic: product names; Ping sends a generic Apache-HttpClient agent' },
]

/** Longer headers are cut before matching: the header is client-controlled and only its start names the product. */
const MAX_USER_AGENT = 512

/** The identity provider a SCIM request's User-Agent names, or undefined when it names none we know. */
export function recognizeClient(userAgent: string | undefined): KnownClientProduct | undefined {
  if (!userAgent) return undefined
  const text = userAgent.slice(0, MAX_USER_AGENT).trim()
  return CLIENT_SIGNATURES.find((s) => s.pattern.test(text))?.product
}
