// Type-only: erased at run time, so no adapter loads jose (StoredSigningKey holds JWKs as jose types them).
import type { JWK } from 'jose'
import type { MemberStep, ResolvedAttribute, ResolvedFilterNode, ScimError, ScimObject } from '../scim/index.js'

export type { MemberStep, ScimObject }

export const DEFAULT_TENANT = 'default'

/**
 * One resource as stored. `data` holds the client-managed attributes in canonical names (schemas,
 * externalId, userName, …); id and meta live in columns, Group members in their own table, and the
 * password only as a hash in its own column.
 */
export interface StoredResource {
  readonly id: string
  readonly resourceType: string
  readonly data: ScimObject
  readonly version: number
  readonly created: string
  readonly lastModified: string
  /**
   * `data` as the JSON text the adapter read it from, when it has that text: a response can then carry the
   * document without parsing and serialising it again (src/scim/resource/render-json.ts). Adapters that
   * set it may parse `data` only when it is read.
   */
  readonly json?: string
}

/** A resource read with what its response needs besides its row (ResourceStore.get with `groups`). */
export interface StoredResourceWithGroups extends StoredResource {
  /** The groups the user belongs to, directly or through nested groups, as listGroupsOf gives them. */
  readonly groups?: readonly GroupRef[]
}

export interface GetOptions {
  /** Also read the resource's groups (a User's `groups` attribute), in the same round trip where the adapter can. */
  readonly groups?: boolean
}

export interface MemberRef {
  readonly value: string
  readonly type: 'User' | 'Group'
  /** The member's displayName (or a User's userName when it has none), read at query time. */
  readonly display?: string
}

export interface GroupRef {
  readonly value: string
  readonly display?: string
  /** RFC 7643 §4.1.2: direct, or indirect through a nested group. */
  readonly type: 'direct' | 'indirect'
}

export interface NewResource {
  readonly id: string
  readonly resourceType: string
  readonly data: ScimObject
  readonly passwordHash?: string
  readonly memberIds?: readonly string[]
  readonly now: string
  /** Builds this write's audit event, written in the write's transaction (see AuditHook). */
  readonly audit?: AuditHook
}

export interface CurrentResource extends StoredResource {
  /** Present only when the update asked for members (UpdateOptions.withMembers). */
  readonly members?: readonly MemberRef[]
}

export interface ResourceChange {
  readonly data: ScimObject
  /** undefined keeps the stored hash; null clears it. */
  readonly passwordHash?: string | null
  readonly memberSteps?: readonly MemberStep[]
}

export interface UpdateOptions {
  /** The version the client holds (If-Match); a different stored version fails with 412. */
  readonly ifMatch?: number
  readonly withMembers?: boolean
  readonly now: string
  /**
   * Builds this write's audit event, written in the write's transaction (see AuditHook). Called with
   * `before` and `after` also when nothing changed (then both are the same object, `before === after`),
   * so the caller decides whether a no-op PATCH or PUT is logged.
   */
  readonly audit?: AuditHook
}

export interface DeleteOptions {
  /** The version the client holds (If-Match); a different stored version fails with 412. */
  readonly ifMatch?: number
  /** Builds this delete's audit event, written in the delete's transaction (see AuditHook). */
  readonly audit?: AuditHook
}

/**
 * A position in a sorted result: the sort key and id of the last row of a page (keyset paging). The
 * next page is the rows strictly after it in (sort key, id) order, so page N costs what page 1 costs.
 */
export interface StoreCursor {
  /** The sort key of the last row: the sortBy value (case-folded where the compare is), or `created` by default. */
  readonly key: string | number | boolean | null
  readonly id: string
}

export interface StoreQuery {
  readonly filter?: ResolvedFilterNode
  readonly sortBy?: ResolvedAttribute
  readonly sortOrder?: 'ascending' | 'descending'
  /** 1-based, as RFC 7644 §3.4.2.4. Ignored when `after` is given. */
  readonly startIndex: number
  /** 0 asks for totalResults only. */
  readonly count: number
  /** Cursor paging (RFC 9865): return the rows after this position instead of using startIndex. */
  readonly after?: StoreCursor
  /** false skips the COUNT (cursor pages of a huge tenant need not count it every time); default true. */
  readonly withTotal?: boolean
  /**
   * Also read each resource's groups (a User's `groups`), with the page where the adapter can: its
   * resources then carry `groups` (StoredResourceWithGroups). An adapter may leave them out, and the caller
   * reads them with listGroupsOf.
   */
  readonly groups?: boolean
}

export interface QueryResult {
  /** Absent when the query asked for withTotal: false. */
  readonly totalResults?: number
  readonly resources: readonly StoredResourceWithGroups[]
  /**
   * The position of the last row returned, when more rows follow it (cursor paging). Set with or without
   * `after`, so the first cursor page is a plain startIndex 1 query; absent on the last page. Adapters
   * read count + 1 rows to know, and take the key from the ORDER BY's expression (src/store/sql/keyset.ts).
   */
  readonly next?: StoreCursor
}

/**
 * The storage port for SCIM resources. Every method is scoped by tenant: no call can see another
 * tenant's rows. Adapters raise ScimError: 404 for a missing id, 409 uniqueness when a unique index fires,
 * 412 when ifMatch is stale, 400 invalidValue for a member id that does not exist in the tenant.
 */
export interface ResourceStore {
  create(tenant: string, input: NewResource): Promise<StoredResource>
  /**
   * Creates several resources in one transaction, each under its own savepoint: one that fails (a taken
   * userName, an unknown member) is rolled back alone and returned as its ScimError, while the rest commit
   * together behind one durable sync. Bulk (RFC 7644 §3.7) uses it for runs of POSTs. Results are in input order.
   * Each input's `audit` hook runs for that input alone, and only when it was created; a hook that throws
   * rolls back the whole call (a hook's failure is a fault, never one input's refusal).
   */
  createMany(tenant: string, inputs: readonly NewResource[]): Promise<(StoredResource | ScimError)[]>
  get(tenant: string, resourceType: string, id: string, options?: GetOptions): Promise<StoredResourceWithGroups | undefined>
  /**
   * Reads the current resource, calls `mutate` (synchronous and pure, so the adapter can hold its
   * transaction or row lock across it) and writes the change with version + 1, all atomically.
   * If `mutate` returns the same data and no member steps, nothing is written and the version stays.
   */
  update(
    tenant: string,
    resourceType: string,
    id: string,
    mutate: (current: CurrentResource) => ResourceChange,
    options: UpdateOptions,
  ): Promise<StoredResource>
  delete(tenant: string, resourceType: string, id: string, options?: DeleteOptions): Promise<void>
  query(tenant: string, resourceType: string, query: StoreQuery): Promise<QueryResult>
  /** Members of each group, with display read from the member resources. */
  listMembers(tenant: string, groupIds: readonly string[]): Promise<Map<string, MemberRef[]>>
  /** Groups each user belongs to, directly or through nested groups. */
  listGroupsOf(tenant: string, userIds: readonly string[]): Promise<Map<string, GroupRef[]>>
  getPasswordHash(tenant: string, resourceType: string, id: string): Promise<string | undefined>
}

export interface TokenRecord {
  readonly id: string
  readonly tenant: string
  readonly name: string
  /** The public prefix shown in listings (the token's first characters, never the secret part). */
  readonly prefix: string
  /** SHA-256 of the whole token, hex. */
  readonly hash: string
  readonly createdAt: string
  readonly lastUsedAt?: string
  readonly expiresAt?: string
  readonly revokedAt?: string
}

export interface TokenStore {
  insertToken(record: TokenRecord): Promise<void>
  findToken(id: string): Promise<TokenRecord | undefined>
  listTokens(tenant: string): Promise<TokenRecord[]>
  /** Returns false when no live token with that id exists in the tenant. */
  revokeToken(tenant: string, id: string, at: string): Promise<boolean>
  touchToken(id: string, at: string): Promise<void>
  /**
   * Inserts `record` only when no token exists at all, in any tenant, atomically across connections and
   * instances (the check and the insert cannot interleave with another caller's): true when it was
   * inserted. Instances starting together on an empty database thus print one first token, not one each.
   */
  insertFirstToken(record: TokenRecord): Promise<boolean>
}

/** A store adapter: one database, every port, and a way to close it. */
export interface Store {
  readonly resources: ResourceStore
  readonly tokens: TokenStore
  readonly tenants: TenantStore
  readonly audit: AuditStore
  readonly admins: AdminStore
  readonly oauthClients: OAuthClientStore
  readonly signingKeys: SigningKeyStore
  readonly adminSessions: AdminSessionStore
  readonly adminApiKeys: AdminApiKeyStore
  close(): Promise<void>
}

// ---- Organizations, administration and audit (issue: organizations, tokens, OAuth, audit, admin API) ----
// Record types the domains in src/audit, src/oauth and src/admin use; defined here so the adapters depend
// on the port only, and the domain modules import them from here.

/** Per-organization settings, stored as one JSON document with the organization. */
export interface TenantSettings {
  /** 'deactivate' makes DELETE set active=false instead of removing (as Salesforce does). */
  readonly deletePolicy: 'delete' | 'deactivate'
  /** Resource types served at this organization's SCIM base URL, e.g. ['User', 'Group']. */
  readonly resourceTypes: readonly string[]
  /** Extension schemas in RFC 7643 §7 form (see parseExtensionSchemas), validated before they are stored. */
  readonly extensionSchemas: readonly unknown[]
  /** Where token and client events are POSTed for the organization's admins; none when absent. */
  readonly webhookUrl?: string
  /** Reads (GET, searches) in the audit log: 'off', every one, or a sample. */
  readonly auditReads: 'off' | 'all' | 'sample'
  /** With auditReads 'sample': the fraction of reads recorded, 0..1. */
  readonly auditReadSampleRate: number
  /** Audit events older than this are pruned. */
  readonly auditRetentionDays: number
  /** Requests per minute per SCIM token or OAuth client before 429. */
  readonly scimRateLimitPerMinute: number
}

/**
 * The settings the migrations give the 'default' organization (SQLite and PostgreSQL migration 2 hold
 * this literal; test/store/admin-stores.contract.ts checks they agree).
 */
export const DEFAULT_TENANT_SETTINGS: TenantSettings = {
  deletePolicy: 'delete',
  resourceTypes: ['User', 'Group'],
  extensionSchemas: [],
  auditReads: 'off',
  auditReadSampleRate: 0,
  auditRetentionDays: 90,
  scimRateLimitPerMinute: 6000,
}

export interface TenantRecord {
  /** URL-safe slug: the {org} in /o/{org}/scim/v2. */
  readonly id: string
  readonly name: string
  readonly createdAt: string
  readonly settings: TenantSettings
}

export interface TenantStore {
  /** 409 uniqueness when the id is taken. */
  insertTenant(record: TenantRecord): Promise<void>
  getTenant(id: string): Promise<TenantRecord | undefined>
  listTenants(): Promise<TenantRecord[]>
  /** Returns the updated record, or undefined when no such tenant exists. */
  updateTenant(id: string, change: { readonly name?: string; readonly settings?: TenantSettings }): Promise<TenantRecord | undefined>
  /**
   * Removes the tenant and everything it owns (resources with their emails and memberships, tokens, OAuth
   * clients, audit events) in one transaction. False, and nothing deleted, when no such tenant exists.
   * Admins scoped to the tenant are left to the caller.
   */
  deleteTenant(id: string): Promise<boolean>
}

/**
 * Builds the audit event for a resource write. The adapter calls it inside the write's transaction, once
 * the change is made, and inserts the event it returns (undefined: none) in that same transaction, so an
 * event is never lost nor invented:
 * - create / createMany: `{ after }`, the created resource; only for an input that was created.
 * - update: `{ before, after }`, the stored state read under the row lock and the state written. When
 *   the update wrote nothing (same data, hash and members) the hook is still called, with `before` and
 *   `after` the same object, so the caller decides whether a no-op is logged. With `withMembers`, both
 *   carry `members` (after reads them again only when membership changed).
 * - delete: `{ before }`, the resource as it was.
 * A write that fails (404, 412, 409 uniqueness, 400 invalid member, an error thrown by mutate) never
 * calls the hook. A hook that throws rolls the write back and its error is the call's.
 * Like `mutate` it must be synchronous and pure: PostgreSQL runs a deadlocked transaction again, calling
 * it again. The event's `tenant` must be the write's tenant (the adapter refuses another).
 */
export type AuditHook = (change: { readonly before?: CurrentResource; readonly after?: CurrentResource }) => AuditEvent | undefined

export interface AuditQuery {
  readonly tenant: string
  /** Inclusive lower bound on time, ISO 8601. */
  readonly from?: string
  /** Exclusive upper bound on time, ISO 8601. */
  readonly to?: string
  readonly resourceType?: string
  readonly resourceId?: string
  /** The actor's public id (token id, client id, admin id). */
  readonly actorId?: string
  /** success: status < 400; failure: status >= 400. */
  readonly outcome?: 'success' | 'failure'
  readonly operation?: string
  /** The most events the page holds; values below 1 read 1. */
  readonly limit: number
  /** Newest first; the page after this (time, id) position. */
  readonly after?: { readonly time: string; readonly id: string }
}

export interface AuditPage {
  readonly events: readonly AuditEvent[]
  readonly next?: { readonly time: string; readonly id: string }
}

export interface AuditSummary {
  /** Events at or after `since`. */
  readonly events: number
  /** Of those, the ones with status >= 400. */
  readonly failures: number
  /** The time of the tenant's newest event, whenever it was (also before `since`); absent when none. */
  readonly lastActivity?: string
}

/**
 * The audit log. Times are compared as text, so every event time must be ISO 8601 UTC as
 * Date.prototype.toISOString writes it (`2024-01-01T00:00:00.000Z`); so must query bounds.
 */
export interface AuditStore {
  /** For events with no resource write to share a transaction with (rejected requests, admin acts). 409 uniqueness for a taken id. */
  insertAuditEvent(event: AuditEvent): Promise<void>
  /**
   * The tenant's events matching every filter given, newest first ((time, id) descending), at most
   * `limit`; `next` is the position to pass as `after` for the following page, absent on the last one.
   * Searches an index for the tenant's time range, for resourceType (+ resourceId) and for actorId;
   * operation and outcome are checked on the rows those searches reach.
   */
  queryAuditEvents(query: AuditQuery): Promise<AuditPage>
  /** Deletes at most `batchSize` events of the tenant older than `before`; callers loop, so pruning never holds a long lock. */
  pruneAuditEvents(tenant: string, before: string, batchSize: number): Promise<number>
  summarizeAudit(tenant: string, since: string): Promise<AuditSummary>
}

export type AdminRoleName = 'owner' | 'securityAdmin' | 'viewer'

export interface AdminRecord {
  readonly id: string
  /** Lower-cased; unique. */
  readonly email: string
  readonly name?: string
  readonly role: AdminRoleName
  /** Undefined: the admin sees every organization; set: only this one. */
  readonly tenant?: string
  readonly passwordHash: string
  readonly createdAt: string
  readonly disabledAt?: string
}

export interface AdminStore {
  /** Stores the email lower-cased. 409 uniqueness when the email is taken (case-insensitively) or the id is. */
  insertAdmin(record: AdminRecord): Promise<void>
  getAdmin(id: string): Promise<AdminRecord | undefined>
  /** Case-insensitive. */
  findAdminByEmail(email: string): Promise<AdminRecord | undefined>
  /** Ordered by email. */
  listAdmins(): Promise<AdminRecord[]>
  /**
   * Changes the keys present in `change`. An optional field present with the value undefined is cleared
   * (`{ disabledAt: undefined }` enables the admin again, `{ tenant: undefined }` widens it to every
   * organization, `{ name: undefined }` removes the name); role and passwordHash, which cannot be cleared,
   * keep their value when undefined; an absent key keeps the stored value. Returns the updated record, or
   * undefined when no such admin exists.
   */
  updateAdmin(id: string, change: Partial<Pick<AdminRecord, 'name' | 'role' | 'tenant' | 'passwordHash' | 'disabledAt'>>): Promise<AdminRecord | undefined>
  /** Removes the admin and, in the same transaction, its sessions. False when absent. */
  deleteAdmin(id: string): Promise<boolean>
  countAdmins(): Promise<number>
}

// ---- OAuth clients and signing keys (re-exported by src/oauth) ----

export interface OAuthClientRecord {
  /** The client_id (rsc_…). */
  readonly id: string
  readonly tenant: string
  readonly name: string
  /** SHA-256 of the client secret, hex. */
  readonly secretHash: string
  /** Scopes the client may be granted; a request without scope gets all of them (RFC 6749 §3.3). */
  readonly scopes: readonly string[]
  readonly createdAt: string
  readonly lastUsedAt?: string
  readonly revokedAt?: string
}

/** The storage port for OAuth clients. Client ids are unique across tenants (409 uniqueness). */
export interface OAuthClientStore {
  insertClient(record: OAuthClientRecord): Promise<void>
  findClient(id: string): Promise<OAuthClientRecord | undefined>
  /** The tenant's clients, revoked ones included, oldest first. */
  listClients(tenant: string): Promise<OAuthClientRecord[]>
  /** Returns false when no live client with that id exists in the tenant. */
  revokeClient(tenant: string, id: string, at: string): Promise<boolean>
  touchClient(id: string, at: string): Promise<void>
}

/** The only algorithm we sign and accept: ECDSA P-256 with SHA-256 (RFC 7518 §3.4). */
export type SigningAlgorithm = 'ES256'

/**
 * A private JWK encrypted with AES-256-GCM under the key-encryption key (ROSTER_SECRET_KEY or the data
 * directory's key file; src/oauth/sealed-jwk.ts), stored as this JSON object where the JWK used to be.
 * iv (96 bits), tag (128 bits) and data (the JWK's JSON text, encrypted) are base64url.
 */
export interface SealedJwk {
  readonly enc: 'A256GCM'
  readonly iv: string
  readonly tag: string
  readonly data: string
}

export interface StoredSigningKey {
  /** RFC 7638 thumbprint of the public key: stable, and the same in every instance. */
  readonly kid: string
  readonly algorithm: SigningAlgorithm
  /**
   * The private key. Whoever reads it can mint tokens for every organization, so SigningKeyRing seals it
   * (SealedJwk) before it reaches the store; a bare JWK is a row written before Roster encrypted them,
   * read as it is until the ring seals it at start. Never returned from an API.
   */
  readonly privateJwk: SealedJwk | JWK
  readonly publicJwk: JWK
  readonly createdAt: string
  /**
   * When a newer key takes over signing (set one cache period ahead by rotate); it still verifies
   * until retiredAt + the longest token lifetime + clock tolerance + cache period.
   */
  readonly retiredAt?: string
}

/**
 * The storage port for signing keys, shared by every instance (one table, not per tenant: the tenant
 * is a claim inside the token).
 */
export interface SigningKeyStore {
  /** Every key, oldest first. */
  listKeys(): Promise<StoredSigningKey[]>
  /** 409 uniqueness when the kid exists. */
  insertKey(key: StoredSigningKey): Promise<void>
  /** Sets retiredAt when it is not set yet; a key retired earlier keeps its first retirement time. */
  retireKey(kid: string, at: string): Promise<void>
  /**
   * Replaces the key's private JWK with its sealed form when the stored one is still bare; a key sealed
   * already (by another instance sealing it at the same time) keeps its first sealing. An unknown kid is a no-op.
   */
  sealPrivateJwk(kid: string, sealed: SealedJwk): Promise<void>
}

// ---- Admin sessions and API keys (re-exported by src/admin) ----

/**
 * A signed-in admin's session as stored. The session id (256 random bits) lives only in the admin's
 * cookie; the store keeps its SHA-256, so a leaked database or backup holds no usable session.
 */
export interface AdminSessionRecord {
  /** SHA-256 of the session id, hex: the lookup key. */
  readonly idHash: string
  readonly adminId: string
  readonly createdAt: string
  readonly lastSeenAt: string
  /** Idle expiry, moved forward on use (sliding), never past absoluteExpiresAt. */
  readonly expiresAt: string
  /** The session ends here whatever the activity: a stolen cookie is not good forever. */
  readonly absoluteExpiresAt: string
  readonly ip?: string
  readonly userAgent?: string
}

/** The storage port for admin sessions. */
export interface AdminSessionStore {
  /** 409 uniqueness when the idHash exists. */
  insertSession(record: AdminSessionRecord): Promise<void>
  findSession(idHash: string): Promise<AdminSessionRecord | undefined>
  touchSession(idHash: string, lastSeenAt: string, expiresAt: string): Promise<void>
  deleteSession(idHash: string): Promise<void>
  /** Ends every session of an admin (password or role changed, admin removed); returns how many. */
  deleteSessionsOf(adminId: string): Promise<number>
  /** Ends every session of an admin but the one whose hash is `keptIdHash` (the admin's own, after a password change); returns how many. */
  deleteOtherSessionsOf(adminId: string, keptIdHash: string): Promise<number>
  /** Housekeeping: removes sessions whose expiresAt or absoluteExpiresAt is at or before `now`; returns how many. */
  deleteExpiredSessions(now: string): Promise<number>
}

export interface AdminApiKeyRecord {
  /** Public id: the 12 hex digits after rak_. */
  readonly id: string
  readonly name: string
  /** The key acts with this role, whatever the role of the admin who created it later becomes. */
  readonly role: AdminRoleName
  /** rak_ + id, shown in listings; never the secret part. */
  readonly prefix: string
  /** SHA-256 of the whole key, hex. */
  readonly hash: string
  /** The admin who created it, for the audit log and for revoking a departed admin's keys. */
  readonly createdBy: string
  readonly createdAt: string
  readonly lastUsedAt?: string
  readonly expiresAt?: string
  readonly revokedAt?: string
}

/** The storage port for admin API keys. */
export interface AdminApiKeyStore {
  /** 409 uniqueness when the id exists. */
  insertApiKey(record: AdminApiKeyRecord): Promise<void>
  findApiKey(id: string): Promise<AdminApiKeyRecord | undefined>
  /** Every key, revoked ones included, oldest first. */
  listApiKeys(): Promise<AdminApiKeyRecord[]>
  /** Returns false when no live key with that id exists. */
  revokeApiKey(id: string, at: string): Promise<boolean>
  touchApiKey(id: string, at: string): Promise<void>
}

// ---- Audit events (re-exported by src/audit/audit-event.ts) ----

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
  // Reads (RFC 7644 §3.4): recorded only as the organization's auditReads setting says, or when rejected
  | 'read'
  | 'search'
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
  // An admin's password set: by the admin (status 200, or 403 for a wrong current password) or by `roster admin password`
  | 'admin.passwordChange'
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
