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
}

export interface QueryResult {
  /** Absent when the query asked for withTotal: false. */
  readonly totalResults?: number
  readonly resources: readonly StoredResource[]
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
   */
  createMany(tenant: string, inputs: readonly NewResource[]): Promise<(StoredResource | ScimError)[]>
  get(tenant: string, resourceType: string, id: string): Promise<StoredResource | undefined>
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
  delete(tenant: string, resourceType: string, id: string, options?: { ifMatch?: number }): Promise<void>
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
  countTokens(): Promise<number>
}

/** A store adapter: one database, every port, and a way to close it. */
export interface Store {
  readonly resources: ResourceStore
  readonly tokens: TokenStore
  close(): Promise<void>
}
