/**
 * One audit event: every SCIM request that changes something, every rejected request and every
 * administrative act (tokens, OAuth clients, keys, admins, settings) becomes one, written in the same
 * transaction as the change it records, so the log never claims a change that rolled back nor misses
 * one that committed.
 *
 * Events hold no secrets: `changes` comes from diffAttributes, which redacts passwords and anything
 * named like a secret; request bodies and Authorization headers are never recorded.
 */
export interface AuditEvent {
  readonly id: string
  readonly tenant: string
  /** ISO 8601, UTC. */
  readonly time: string
  readonly actor: AuditActor
  readonly client: AuditClient
  readonly request: AuditRequest
  readonly resource: AuditResource
  readonly operation: AuditOperation
  readonly changes: readonly AttributeChange[]
  readonly outcome: AuditOutcome
  readonly latencyMs: number
}

export type AuditActorType = 'token' | 'oauthClient' | 'admin' | 'apiKey' | 'anonymous'

export interface AuditActor {
  readonly type: AuditActorType
  /** The credential's public id (token id, OAuth client id, admin id, API key id); never the secret. */
  readonly id?: string
  /** The credential's display name at the time of the event (names can change later). */
  readonly name?: string
}

/** Identity providers recognizeClient knows by their user agent. */
export type KnownClientProduct =
  | 'Okta'
  | 'Microsoft Entra ID'
  | 'Google Workspace'
  | 'OneLogin'
  | 'SailPoint'
  | 'JumpCloud'
  | 'Ping Identity'

/** A known product, or any other name an operator assigns (`string & {}` keeps the known names in completions). */
export type ClientProduct = KnownClientProduct | (string & {})

export interface AuditClient {
  readonly ip: string
  /** As sent, cut to a bounded length by the caller; client-controlled, so a hint and never proof of who called. */
  readonly userAgent: string
  readonly product?: ClientProduct
}

export interface AuditRequest {
  readonly id: string
  readonly method: string
  /** Path without the query string: filters can carry personal data (`userName eq "…"`). */
  readonly path: string
}

export interface AuditResource {
  readonly type?: string
  readonly id?: string
}

export type AuditOperation =
  // SCIM (RFC 7644 §3.3, §3.5.1, §3.5.2, §3.6, §3.7); 'deactivate' is a DELETE under the deactivate policy
  | 'create'
  | 'replace'
  | 'patch'
  | 'delete'
  | 'deactivate'
  | 'bulk'
  // A request refused before an operation could be told (no or bad credentials, unknown route)
  | 'request.rejected'
  // OAuth 2.0 token endpoint (RFC 6749 §4.4)
  | 'oauth.token'
  // Administration
  | 'token.create'
  | 'token.revoke'
  | 'client.create'
  | 'client.revoke'
  | 'signingKey.rotate'
  | 'organization.create'
  | 'organization.update'
  | 'organization.delete'
  | 'settings.update'
  | 'admin.create'
  | 'admin.update'
  | 'admin.delete'
  | 'admin.login'
  | 'admin.logout'
  | 'apiKey.create'
  | 'apiKey.revoke'
  | 'audit.export'

/**
 * One attribute that differs between two versions of a resource. `before` is absent when the attribute
 * was added, `after` when it was removed. Secret attributes carry REDACTED instead of their values and
 * `changed: true`, so the log says that a password changed without ever holding it.
 */
export interface AttributeChange {
  /** `userName`, `name.givenName`, `emails`, or URN-qualified for extensions (`urn:…:enterprise:2.0:User:manager.value`). */
  readonly attribute: string
  readonly before?: unknown
  readonly after?: unknown
  /** Present only when a value was redacted: the value did change, and neither version is shown. */
  readonly changed?: true
}

export interface AuditOutcome {
  /** The HTTP status answered. */
  readonly status: number
  readonly scimType?: string
  readonly detail?: string
}

/** What replaces a secret value in an AttributeChange. */
export const REDACTED = '[redacted]'
