import { newTimeOrderedId } from '../ids.js'
import { buildAuditEvent, type AuditContext, type AuditEventFacts } from '../audit/audit-context.js'
import { REDACTED, type AttributeChange, type AuditOperation } from '../audit/audit-event.js'
import { diffAttributes } from '../audit/diff-attributes.js'
import {
  SchemaRegistry,
  applyPatch,
  decodeListCursor,
  encodeListCursor,
  invalidCursor,
  invalidFilter,
  invalidValue,
  isAttributeReturned,
  isScimError,
  listQueryFingerprint,
  notFound,
  parsePatchRequest,
  preconditionFailed,
  planMemberPatch,
  projectResource,
  resolveFilter,
  answersStoredDocument,
  cursorListResponseJson,
  listResponseJson,
  listsOnlySchemasOf,
  renderStoredJson,
  splitStoredJson,
  validateResource,
  type ListCursor,
  type ListQuery,
  type MemberStep,
  type Projection,
  type ResolvedAttribute,
  type ResolvedFilterNode,
  type ScimError,
  type ScimObject,
} from '../scim/index.js'
import type { AuditHook, AuditStore, CurrentResource, GroupRef, MemberRef, NewResource, ResourceStore, StoredResource, StoredResourceWithGroups } from '../store/ports.js'
import { hashPassword, hashPasswordSync } from './password-hash.js'

export type DeletePolicy = 'delete' | 'deactivate'

/**
 * Who is asking and where they see us: the tenant whose rows they may touch, the SCIM base URL for
 * meta.location, and, for requests that are audited, the request's AuditContext (the actor and client
 * every audit event of the request names). Without `audit` nothing is recorded (seeding, tests).
 */
export interface RequestScope {
  readonly tenant: string
  readonly baseUrl: string
  readonly audit?: AuditContext
  /** The organization's registry and settings when the caller has them already (the HTTP layer reads them once per request). */
  readonly tenantContext?: { readonly registry: SchemaRegistry; readonly settings: ProvisioningSettings }
}

export interface ProvisioningSettings {
  /** 'deactivate' makes DELETE on a resource with `active` set active=false instead (as Salesforce does). */
  readonly deletePolicy: DeletePolicy
}

/** Per organization: its schemas (extensions, enabled resource types) and the settings that change a write. */
export interface TenantSchemas {
  /** The organization's registry, holding only the resource types it serves. */
  registryFor(tenant: string): Promise<SchemaRegistry>
  settingsFor(tenant: string): Promise<ProvisioningSettings>
}

export interface ProvisioningDeps {
  readonly store: ResourceStore
  readonly tenants: TenantSchemas
  /** Where failed bulk operations are recorded (successful writes record their event in their own transaction). */
  readonly auditLog?: Pick<AuditStore, 'insertAuditEvent'>
  readonly clock?: () => Date
  readonly newId?: () => string
}

/** A resource as answered to the client, with the version behind its ETag. */
export interface ResourceResult {
  /** The response body. */
  readonly json: string
  /** The body as an object (parsed from `json` when read). */
  readonly resource: ScimObject
  readonly version: number
  readonly location: string
}

/** The attributes the store keeps outside a resource's document (src/store/ports.ts StoredResource). */
const NOT_STORED: ReadonlySet<string> = new Set(['password'])

const hasNoProjection = (p: Projection) => p.attributes === undefined && p.excludedAttributes === undefined

export interface Preconditions {
  /** The version from If-Match; undefined when the client sent none or `*`. */
  readonly ifMatch?: number
}

export const etagOf = (version: number) => `W/"${version}"`

/** What selects and orders a list's rows in the store: the resolved filter and sort. */
interface ListWhere {
  readonly filter?: ResolvedFilterNode
  readonly sortBy?: ResolvedAttribute
  readonly sortOrder: 'ascending' | 'descending'
}

/** One resource type of a root search, with the filter resolved for it (absent: no filter). */
interface SearchPart {
  readonly type: string
  readonly filter?: ResolvedFilterNode
}

/** The endpoint name a root search's cursors are bound to (listQueryFingerprint); no resource type has it. */
const ROOT_SEARCH = '/.search'

const ETAG = /^\s*(?:W\/)?"(\d+)"\s*$/

/** The version an entity tag of ours names (`W/"3"` → 3, the strong form too); undefined for any other tag. */
export function versionOfEtag(tag: string): number | undefined {
  const m = ETAG.exec(tag)
  return m ? Number(m[1]) : undefined
}

/**
 * The precondition an If-Match value sets (RFC 7644 §3.14, RFC 7232): `*` or our own weak ETags, a list
 * taking its first one of ours. An entity tag that is not one of ours can never match: 412, rather than
 * being ignored. Also reads a bulk operation's `version` (RFC 7644 §3.7).
 */
export function preconditionsOfIfMatch(value: string): Preconditions {
  const tags = value.split(',').map((t) => t.trim()).filter(Boolean)
  if (tags.includes('*')) return {}
  for (const t of tags) {
    const version = versionOfEtag(t)
    if (version !== undefined) return { ifMatch: version }
  }
  throw preconditionFailed(`If-Match ${value} does not match the current version`)
}

/**
 * The provisioning use cases for every resource type (Users, Groups): one generic code path driven by the
 * organization's schema registry, so Users and Groups are not written twice. Each organization has its
 * own registry (extension schemas, the resource types it serves); a type it does not serve is 404.
 *
 * Audit: when the scope carries an AuditContext, every successful write hands the store an AuditHook, so
 * its event is written in the write's own transaction and the log never disagrees with the data; failed
 * bulk operations are recorded through auditLog. Failed single requests are the HTTP layer's to record,
 * as it answers them.
 */
export class ProvisioningService {
  private readonly store: ResourceStore
  private readonly tenants: TenantSchemas
  private readonly clock: () => Date
  private readonly newId: () => string
  /**
   * The core resource types (User, Group), the same in every organization's registry: their endpoints
   * (for locations) and core attributes (members, active, password) do not depend on the organization.
   */
  readonly core = SchemaRegistry.withCoreSchemas()

  constructor(private readonly deps: ProvisioningDeps) {
    this.store = deps.store
    this.tenants = deps.tenants
    this.clock = deps.clock ?? (() => new Date())
    this.newId = deps.newId ?? (() => newTimeOrderedId())
  }

  /** The organization's registry (only the resource types it serves). */
  registryFor(tenant: string): Promise<SchemaRegistry> {
    return this.tenants.registryFor(tenant)
  }

  /** The organization's registry, or 404 when it does not serve `resourceType` (RFC 7644 §3.12). */
  private async registryWith(scope: RequestScope, resourceType: string): Promise<SchemaRegistry> {
    const registry = scope.tenantContext?.registry ?? (await this.tenants.registryFor(scope.tenant))
    if (!registry.getResourceType(resourceType)) throw notFound(`This organization does not serve the resource type ${resourceType}`)
    return registry
  }

  async create(scope: RequestScope, resourceType: string, body: unknown, projection: Projection = {}): Promise<ResourceResult> {
    const registry = await this.registryWith(scope, resourceType)
    const input = await this.prepareWith(registry, resourceType, body, this.newId())
    const stored = await this.store.create(scope.tenant, this.withCreateAudit(scope, input))
    // A resource created just now is in no group: its id is new.
    return this.renderOneWith(registry, scope, withGroups(stored, []), projection)
  }

  /**
   * The POST body (RFC 7644 §3.3) as the store takes it: validated, the password hashed (outside any
   * transaction: scrypt is slow), members split out, and the id given (Bulk assigns ids before it runs
   * anything, so that bulkId references resolve, RFC 7644 §3.7.2). Throws the validation's ScimError.
   * The audit hook is attached by createMany, once the input is final.
   */
  async prepareCreate(scope: RequestScope, resourceType: string, body: unknown, id: string = this.newId()): Promise<NewResource> {
    return this.prepareWith(await this.registryWith(scope, resourceType), resourceType, body, id)
  }

  private async prepareWith(registry: SchemaRegistry, resourceType: string, body: unknown, id: string): Promise<NewResource> {
    const validated = validateResource(body, { registry, resourceType, context: 'create' })
    const { data, password, memberIds } = this.split(resourceType, validated)
    const passwordHash = password === undefined ? undefined : await hashPassword(password)
    return {
      id,
      resourceType,
      data,
      ...(passwordHash ? { passwordHash } : {}),
      ...(memberIds ? { memberIds } : {}),
      now: this.clock().toISOString(),
    }
  }

  /** A new resource id, for a caller that must know it before the resource is created (Bulk). */
  newResourceId(): string {
    return this.newId()
  }

  /** Prepared resources created in one transaction, each failing alone (ResourceStore.createMany), each audited. */
  createMany(scope: RequestScope, inputs: readonly NewResource[]): Promise<(StoredResource | ScimError)[]> {
    return this.store.createMany(
      scope.tenant,
      inputs.map((input) => this.withCreateAudit(scope, input)),
    )
  }

  async get(scope: RequestScope, resourceType: string, id: string, projection: Projection = {}): Promise<ResourceResult> {
    const registry = await this.registryWith(scope, resourceType)
    // A User's groups come with its row (one statement on SQLite) when the response shows them.
    const groups = this.hasAttribute(resourceType, 'groups') && this.isReturned('groups', registry, resourceType, projection)
    const stored = await this.store.get(scope.tenant, resourceType, id, groups ? { groups: true } : {})
    if (!stored) throw notFound(`${resourceType} ${id} not found`)
    return this.renderOneWith(registry, scope, stored, projection)
  }

  /** PUT (RFC 7644 §3.5.1): the body replaces every client-managed attribute; password and readOnly ones stay. */
  async replace(scope: RequestScope, resourceType: string, id: string, body: unknown, pre: Preconditions, projection: Projection = {}): Promise<ResourceResult> {
    const registry = await this.registryWith(scope, resourceType)
    // Hash before the transaction: scrypt is slow and must not hold the write lock.
    const plainPassword = passwordIn(body)
    const preHashed = plainPassword === undefined ? undefined : await hashPassword(plainPassword)
    const hasMembers = this.hasAttribute(resourceType, 'members')
    // With an audit, the current members are read so the event names the ids added and removed; a PUT
    // sends the whole member list anyway, so reading it costs what the request already does.
    const withMembers = hasMembers && scope.audit !== undefined
    let memberChange: AttributeChange | undefined
    const stored = await this.store.update(
      scope.tenant,
      resourceType,
      id,
      (current) => {
        const validated = validateResource(body, { registry, resourceType, context: 'replace', existing: current.data })
        const { data, memberIds } = this.split(resourceType, validated)
        const ids = memberIds ?? []
        if (withMembers) memberChange = membersChangeOf(current.members?.map((m) => m.value), [{ op: 'replace', ids }])
        return {
          data,
          ...(preHashed ? { passwordHash: preHashed } : {}),
          ...(hasMembers ? { memberSteps: [{ op: 'replace', ids }] } : {}),
        }
      },
      {
        ...pre,
        ...(withMembers ? { withMembers } : {}),
        now: this.clock().toISOString(),
        ...this.auditOption(scope, 'replace', resourceType, id, 200, () => [...(preHashed ? [PASSWORD_CHANGE] : []), ...(memberChange ? [memberChange] : [])]),
      },
    )
    return this.renderOneWith(registry, scope, stored, projection)
  }

  /**
   * PATCH (RFC 7644 §3.5.2): all operations apply to one copy and are validated together, inside one
   * store transaction, so they all take effect or none does. Member operations that name members by id
   * become membership row changes and never load the member list. `outcomeStatus` is what the caller
   * answers on success (200, or 204 without a body), for the audit event.
   */
  async patch(scope: RequestScope, resourceType: string, id: string, body: unknown, pre: Preconditions, outcomeStatus = 200): Promise<StoredResource> {
    const registry = await this.registryWith(scope, resourceType)
    const operations = parsePatchRequest(body)
    const options = { registry, resourceType }
    const plan = planMemberPatch(operations, options)
    const hasMembers = this.hasAttribute(resourceType, 'members')
    // A replace of the member list is audited as the ids added and removed, which needs the current list;
    // adds and removes by id are audited as requested, without loading it.
    const auditMembers = scope.audit !== undefined && (plan.memberSteps?.some((s) => s.op === 'replace') ?? false)
    const withMembers = hasMembers && (plan.memberSteps === null || auditMembers)
    const documentOperations = plan.memberSteps === null ? operations : plan.otherOperations
    let steps: readonly MemberStep[] = []
    let known: readonly string[] | undefined
    let passwordChanged = false
    const stored = await this.store.update(
      scope.tenant,
      resourceType,
      id,
      (current) => {
        known = withMembers ? (current.members ?? []).map((m) => m.value) : undefined
        const before =
          withMembers && plan.memberSteps === null ? { ...current.data, members: (current.members ?? []).map(({ value, type }) => ({ value, type })) } : current.data
        let memberSteps: MemberStep[] = plan.memberSteps ?? []
        steps = memberSteps
        if (documentOperations.length === 0) return { data: current.data, memberSteps }
        const { resource: patched, changed } = applyPatch(before, documentOperations, options)
        if (!changed) return { data: current.data, memberSteps }
        const validated = validateResource(patched, { ...options, context: 'replace', existing: before })
        const { data, password, memberIds } = this.split(resourceType, validated)
        if (plan.memberSteps === null && hasMembers) memberSteps = diffMembers(current, memberIds ?? [])
        steps = memberSteps
        passwordChanged = password !== undefined
        return {
          data,
          ...(password !== undefined ? { passwordHash: hashPasswordSync(password) } : {}),
          memberSteps,
        }
      },
      {
        ...pre,
        withMembers,
        now: this.clock().toISOString(),
        ...this.auditOption(scope, 'patch', resourceType, id, outcomeStatus, () => {
          const members = steps.length > 0 ? membersChangeOf(known, steps) : undefined
          return [...(passwordChanged ? [PASSWORD_CHANGE] : []), ...(members ? [members] : [])]
        }),
      },
    )
    return stored
  }

  async delete(scope: RequestScope, resourceType: string, id: string, pre: Preconditions): Promise<void> {
    await this.registryWith(scope, resourceType)
    const { deletePolicy } = scope.tenantContext?.settings ?? (await this.tenants.settingsFor(scope.tenant))
    if (deletePolicy === 'deactivate' && this.hasAttribute(resourceType, 'active')) {
      await this.store.update(scope.tenant, resourceType, id, (current) => ({ data: { ...current.data, active: false } }), {
        ...pre,
        now: this.clock().toISOString(),
        ...this.auditOption(scope, 'deactivate', resourceType, id, 204, () => []),
      })
      return
    }
    await this.store.delete(scope.tenant, resourceType, id, { ...pre, ...this.auditOption(scope, 'delete', resourceType, id, 204, () => []) })
  }

  /**
   * Records a write that failed without reaching the store's transaction (a failed bulk operation).
   * Only with an AuditContext and an audit log; never throws for the log's sake (a lost failure event must
   * not turn a processed request into a 500), but says so through `onError`.
   */
  async recordFailures(scope: RequestScope, failures: readonly Omit<AuditEventFacts, 'tenant'>[], onError?: (error: unknown) => void): Promise<void> {
    if (!scope.audit || !this.deps.auditLog) return
    for (const facts of failures) {
      try {
        await this.deps.auditLog.insertAuditEvent(buildAuditEvent(scope.audit, { ...facts, tenant: scope.tenant }))
      } catch (error) {
        onError?.(error)
      }
    }
  }

  /** The time audit events are stamped with. */
  now(): Date {
    return this.clock()
  }

  /**
   * GET /{ResourceType} and POST /{ResourceType}/.search (RFC 7644 §3.4.2, §3.4.3): index paging, or
   * cursor paging when the query has a cursor (RFC 9865).
   */
  async list(scope: RequestScope, resourceType: string, query: ListQuery): Promise<string> {
    const registry = await this.registryWith(scope, resourceType)
    const filter = query.filter ? resolveFilter(query.filter, registry, resourceType) : undefined
    const where: ListWhere = {
      ...(filter ? { filter } : {}),
      ...(query.sortBy ? { sortBy: resolveSortBy(registry, resourceType, query) } : {}),
      sortOrder: query.sortOrder,
    }
    if (query.cursor !== undefined) return this.listByCursor(registry, scope, resourceType, query, where)
    const result = await this.store.query(scope.tenant, resourceType, { ...where, startIndex: query.startIndex, count: query.count, ...this.groupsOption(registry, resourceType, query) })
    const resources = await this.render(registry, scope, resourceType, result.resources, query)
    return listResponseJson(resources, result.totalResults ?? 0, query.startIndex)
  }

  /**
   * One page of a cursor-paged list (RFC 9865 §2): the rows after the cursor's position, found by the
   * store's keyset search, so the last page costs what the first does.
   *
   * totalResults: RFC 9865 §2 keeps RFC 7644's "should return an accurate value for totalResults" and lets
   * a provider "unable to estimate totalResults" omit it. Counting every match on every page would cost
   * what cursors exist to avoid, so the first page counts (as does any count=0 request, which asks for
   * nothing else), its cursor carries the number, and later pages answer it again without counting
   * (withTotal: false). It is the total as of the first page, as an index page's is as of its request.
   */
  private async listByCursor(registry: SchemaRegistry, scope: RequestScope, resourceType: string, query: ListQuery, where: ListWhere): Promise<string> {
    const fingerprint = listQueryFingerprint(query, resourceType)
    const position: ListCursor = query.cursor ? decodeListCursor(query.cursor, fingerprint) : {}
    const withTotal = position.totalResults === undefined || query.count === 0
    const result = await this.store.query(scope.tenant, resourceType, {
      ...where,
      ...this.groupsOption(registry, resourceType, query),
      startIndex: 1,
      count: query.count,
      ...(position.after ? { after: position.after } : {}),
      withTotal,
    })
    const totalResults = result.totalResults ?? position.totalResults
    const resources = await this.render(registry, scope, resourceType, result.resources, query)
    const nextCursor = result.next ? encodeListCursor({ after: result.next, ...(totalResults !== undefined ? { totalResults } : {}) }, fingerprint) : undefined
    return cursorListResponseJson(resources, { ...(totalResults !== undefined ? { totalResults } : {}), ...(nextCursor ? { nextCursor } : {}) })
  }

  /**
   * POST /.search at the root (RFC 7644 §3.4.3): every resource type the organization serves, in registry
   * order, paged as one list, by startIndex or by cursor (RFC 9865). A filter that names an attribute a
   * type lacks matches nothing of that type; a filter valid for no type at all is invalidFilter.
   */
  async searchAll(scope: RequestScope, query: ListQuery): Promise<string> {
    const registry = scope.tenantContext?.registry ?? (await this.tenants.registryFor(scope.tenant))
    const parts = searchableTypes(registry, query)
    if (query.cursor !== undefined) return this.searchAllByCursor(registry, scope, query, parts)
    const counted: { type: string; filter?: ResolvedFilterNode; total: number }[] = []
    for (const p of parts) {
      const { totalResults } = await this.store.query(scope.tenant, p.type, { ...(p.filter ? { filter: p.filter } : {}), startIndex: 1, count: 0 })
      counted.push({ ...p, total: totalResults ?? 0 })
    }
    const total = counted.reduce((n, p) => n + p.total, 0)
    let skip = query.startIndex - 1
    let want = query.count
    const resources: string[] = []
    for (const p of counted) {
      if (want <= 0) break
      if (skip >= p.total) {
        skip -= p.total
        continue
      }
      const page = await this.store.query(scope.tenant, p.type, { ...rootWhere(registry, p, query), startIndex: skip + 1, count: want, ...this.groupsOption(registry, p.type, query) })
      resources.push(...(await this.render(registry, scope, p.type, page.resources, query)))
      want -= page.resources.length
      skip = 0
    }
    return listResponseJson(resources, total, query.startIndex)
  }

  /**
   * A cursor page of a root search: the types' lists one after another, as searchAll pages them by
   * startIndex. The cursor names the type the next page continues in, and the position in it (none when
   * the next page starts at that type's first row). totalResults as in listByCursor.
   */
  private async searchAllByCursor(registry: SchemaRegistry, scope: RequestScope, query: ListQuery, parts: readonly SearchPart[]): Promise<string> {
    const fingerprint = listQueryFingerprint(query, ROOT_SEARCH)
    const position: ListCursor = query.cursor ? decodeListCursor(query.cursor, fingerprint) : {}
    const start = position.resourceType === undefined ? 0 : parts.findIndex((p) => p.type === position.resourceType)
    if (start < 0) throw invalidCursor(`The cursor continues in resource type "${position.resourceType}", which this search no longer reads (RFC 9865 §2.1)`)
    let totalResults = position.totalResults
    if (totalResults === undefined || query.count === 0) {
      totalResults = 0
      for (const p of parts) totalResults += (await this.store.query(scope.tenant, p.type, { ...(p.filter ? { filter: p.filter } : {}), startIndex: 1, count: 0 })).totalResults ?? 0
    }
    const resources: string[] = []
    let want = query.count
    let next: ListCursor | undefined
    for (let i = start; i < parts.length && query.count > 0; i++) {
      const p = parts[i]!
      if (want === 0) {
        // The page filled up at the end of a type. RFC 9865 §2 leaves nextCursor out only on the last
        // page, so look for one row in the types left before saying there is a next page.
        const probe = await this.store.query(scope.tenant, p.type, { ...(p.filter ? { filter: p.filter } : {}), startIndex: 1, count: 1, withTotal: false })
        if (probe.resources.length > 0) {
          next = { resourceType: p.type }
          break
        }
        continue
      }
      const after = i === start ? position.after : undefined
      const page = await this.store.query(scope.tenant, p.type, {
        ...rootWhere(registry, p, query),
        startIndex: 1,
        count: want,
        ...(after ? { after } : {}),
        withTotal: false,
        ...this.groupsOption(registry, p.type, query),
      })
      resources.push(...(await this.render(registry, scope, p.type, page.resources, query)))
      want -= page.resources.length
      if (page.next) {
        next = { resourceType: p.type, after: page.next }
        break
      }
    }
    const nextCursor = next ? encodeListCursor({ ...next, totalResults }, fingerprint) : undefined
    return cursorListResponseJson(resources, { totalResults, ...(nextCursor ? { nextCursor } : {}) })
  }

  async renderOne(scope: RequestScope, stored: StoredResource, projection: Projection): Promise<ResourceResult> {
    return this.renderOneWith(await this.registryWith(scope, stored.resourceType), scope, stored, projection)
  }

  private async renderOneWith(registry: SchemaRegistry, scope: RequestScope, stored: StoredResourceWithGroups, projection: Projection): Promise<ResourceResult> {
    const [json] = await this.render(registry, scope, stored.resourceType, [stored], projection)
    return resourceResult(json!, stored.version, this.locationOf(scope, stored.resourceType, stored.id))
  }

  locationOf(scope: RequestScope, resourceType: string, id: string): string {
    return `${scope.baseUrl}${this.core.getResourceType(resourceType)!.endpoint}/${encodeURIComponent(id)}`
  }

  /**
   * The resources as JSON text, in order. Without `attributes` or `excludedAttributes`, a document the
   * store gave as text is answered as stored, with id, members or groups and meta written around it
   * (answersStoredDocument says when that is what projecting it would give); otherwise each is built as an
   * object and projected. Groups the store read with the row (get with `groups`) are not read again.
   */
  private async render(
    registry: SchemaRegistry,
    scope: RequestScope,
    resourceType: string,
    stored: readonly StoredResourceWithGroups[],
    projection: Projection,
  ): Promise<string[]> {
    if (stored.length === 0) return []
    const ids = stored.map((s) => s.id)
    const opts = { ...projection, registry, resourceType }
    const members = this.hasAttribute(resourceType, 'members') && this.isReturned('members', registry, resourceType, projection) ? await this.store.listMembers(scope.tenant, ids) : undefined
    const wantGroups = this.hasAttribute(resourceType, 'groups') && this.isReturned('groups', registry, resourceType, projection)
    const groups = wantGroups && stored.some((s) => s.groups === undefined) ? await this.store.listGroupsOf(scope.tenant, ids) : undefined
    const asStored = hasNoProjection(projection) && answersStoredDocument(registry, resourceType, NOT_STORED)
    return stored.map((s) => {
      const memberList = members ? renderMembers(members.get(s.id), (t, id) => this.locationOf(scope, t, id)) : undefined
      const groupList = wantGroups ? renderGroups(s.groups ?? groups?.get(s.id), (id) => this.locationOf(scope, 'Group', id)) : undefined
      const meta = {
        resourceType: s.resourceType,
        created: s.created,
        lastModified: s.lastModified,
        location: this.locationOf(scope, s.resourceType, s.id),
        version: etagOf(s.version),
      }
      const parts = asStored && s.json !== undefined ? splitStoredJson(s.json) : undefined
      if (parts && listsOnlySchemasOf(registry, resourceType, parts.schemas)) {
        const computed = `${memberList ? `,"members":${JSON.stringify(memberList)}` : ''}${groupList ? `,"groups":${JSON.stringify(groupList)}` : ''}`
        return renderStoredJson(parts, s.id, `${computed},"meta":${JSON.stringify(meta)}`)
      }
      const full: ScimObject = {
        schemas: s.data.schemas,
        id: s.id,
        ...s.data,
        ...(memberList ? { members: memberList } : {}),
        ...(groupList ? { groups: groupList } : {}),
        meta,
      }
      return JSON.stringify(projectResource(full, opts))
    })
  }

  /** `{ groups: true }` for a store query whose users' groups the response shows. */
  private groupsOption(registry: SchemaRegistry, resourceType: string, projection: Projection): { groups?: true } {
    return this.hasAttribute(resourceType, 'groups') && this.isReturned('groups', registry, resourceType, projection) ? { groups: true } : {}
  }

  /** isAttributeReturned, answered at once for a response with no projection (the usual one). */
  private isReturned(attribute: string, registry: SchemaRegistry, resourceType: string, projection: Projection): boolean {
    if (hasNoProjection(projection) && (attribute === 'members' || attribute === 'groups')) return true
    return isAttributeReturned(attribute, { ...projection, registry, resourceType })
  }

  /** Whether the core schema of `resourceType` has the attribute (members, active, password, groups). */
  hasAttribute(resourceType: string, name: string): boolean {
    return this.core.schemasOf(resourceType)[0]!.definition.attributes.some((a) => a.name === name)
  }

  /** Separates what the store keeps apart from the document: the password (hashed) and group members (rows). */
  private split(resourceType: string, validated: ScimObject): { data: ScimObject; password?: string; memberIds?: string[] } {
    const { password, members, ...data } = validated
    const out: { data: ScimObject; password?: string; memberIds?: string[] } = { data }
    if (typeof password === 'string' && this.hasAttribute(resourceType, 'password')) out.password = password
    if (Array.isArray(members) && this.hasAttribute(resourceType, 'members')) {
      out.memberIds = [...new Set(members.map((m) => (m as { value: string }).value))]
    }
    return out
  }

  /** The input with the AuditHook of its create, when the scope is audited. */
  private withCreateAudit(scope: RequestScope, input: NewResource): NewResource {
    const extra = [...(input.passwordHash ? [PASSWORD_CHANGE] : []), ...(input.memberIds?.length ? [membersChangeOf([], [{ op: 'add', ids: input.memberIds }])!] : [])]
    const option = this.auditOption(scope, 'create', input.resourceType, input.id, 201, () => extra)
    return option.audit ? { ...input, audit: option.audit } : input
  }

  /**
   * `{ audit }` for a store write when the scope is audited, else {}. The hook runs inside the write's
   * transaction: `changes` are the attributes that differ between the stored versions (diffAttributes,
   * secrets redacted), plus what the document does not hold (`extra`: the password, the member ids).
   */
  private auditOption(
    scope: RequestScope,
    operation: AuditOperation,
    resourceType: string,
    id: string,
    status: number,
    extra: () => readonly AttributeChange[],
  ): { audit?: AuditHook } {
    const context = scope.audit
    if (!context) return {}
    const audit: AuditHook = ({ before, after }) =>
      buildAuditEvent(context, {
        tenant: scope.tenant,
        operation,
        resource: { type: resourceType, id: after?.id ?? before?.id ?? id },
        // The store calls the hook with before === after when the write changed nothing (a PATCH adding a
        // member already there): the request is recorded, with no changes.
        changes: before !== undefined && before === after ? [] : sortChanges([...diffAttributes(before?.data, after?.data), ...extra()]),
        outcome: { status },
        time: this.clock(),
      })
    return { audit }
  }
}

/** The stored password is a hash outside the document: a change to it is recorded as this, never its value. */
const PASSWORD_CHANGE: AttributeChange = { attribute: 'password', after: REDACTED, changed: true }

/**
 * A group's membership change as one AttributeChange named `members`: `before` lists the member ids
 * removed, `after` the ids added, rather than two whole member lists (a group can have 100,000).
 * With the current ids (`known`) the sets are exact; without them (adds and removes by id, which never
 * load the list) they are the ids the request named. Undefined when nothing changed.
 */
function membersChangeOf(known: readonly string[] | undefined, steps: readonly MemberStep[]): AttributeChange | undefined {
  const added = new Set<string>()
  const removed = new Set<string>()
  if (known) {
    const initial = new Set(known)
    const current = new Set(known)
    for (const step of steps) {
      if (step.op === 'replace') current.clear()
      for (const id of step.ids) step.op === 'remove' ? current.delete(id) : current.add(id)
    }
    for (const id of current) if (!initial.has(id)) added.add(id)
    for (const id of initial) if (!current.has(id)) removed.add(id)
  } else {
    for (const step of steps) {
      for (const id of step.ids) {
        if (step.op === 'remove') {
          removed.add(id)
          added.delete(id)
        } else {
          added.add(id)
          removed.delete(id)
        }
      }
    }
  }
  if (added.size === 0 && removed.size === 0) return undefined
  return { attribute: 'members', ...(removed.size > 0 ? { before: [...removed].sort() } : {}), ...(added.size > 0 ? { after: [...added].sort() } : {}) }
}

/** diffAttributes' order: core attributes by name, then extension (URN) attributes. */
function sortChanges(changes: AttributeChange[]): AttributeChange[] {
  const rank = (c: AttributeChange) => (/^urn:/i.test(c.attribute) ? 1 : 0)
  return changes.sort((a, b) => rank(a) - rank(b) || (a.attribute < b.attribute ? -1 : a.attribute > b.attribute ? 1 : 0))
}

/** The resource types a root search reads, each with the query's filter resolved for it. */
function searchableTypes(registry: SchemaRegistry, query: ListQuery): SearchPart[] {
  const parts: SearchPart[] = []
  let lastError: unknown
  for (const t of registry.listResourceTypes()) {
    if (!query.filter) {
      parts.push({ type: t.name })
      continue
    }
    try {
      parts.push({ type: t.name, filter: resolveFilter(query.filter, registry, t.name) })
    } catch (e) {
      if (!isScimError(e)) throw e
      lastError = e
    }
  }
  if (parts.length === 0) throw lastError ?? invalidFilter('The filter matches no resource type')
  return parts
}

function rootWhere(registry: SchemaRegistry, part: SearchPart, query: ListQuery): ListWhere {
  return {
    ...(part.filter ? { filter: part.filter } : {}),
    ...(query.sortBy ? { sortBy: resolveSortBy(registry, part.type, query) } : {}),
    sortOrder: query.sortOrder,
  }
}

function resolveSortBy(registry: SchemaRegistry, resourceType: string, query: ListQuery): ResolvedAttribute {
  try {
    return registry.resolve(resourceType, query.sortBy!)
  } catch (e) {
    if (isScimError(e)) throw invalidValue(`sortBy: ${e.detail}`)
    throw e
  }
}

/** The password a PUT body carries, under its name in any case (RFC 7643 §2.1: names are case-insensitive). */
function passwordIn(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined
  const entry = Object.entries(body as ScimObject).find(([k]) => k.toLowerCase() === 'password')
  return typeof entry?.[1] === 'string' ? entry[1] : undefined
}

function diffMembers(current: CurrentResource, wanted: readonly string[]): MemberStep[] {
  const had = new Set((current.members ?? []).map((m) => m.value))
  const want = new Set(wanted)
  const remove = [...had].filter((id) => !want.has(id))
  const add = [...want].filter((id) => !had.has(id))
  return [...(remove.length ? [{ op: 'remove' as const, ids: remove }] : []), ...(add.length ? [{ op: 'add' as const, ids: add }] : [])]
}

/** A group's `members` as answered, or undefined for none (an empty list is left out, as an unset attribute). */
function renderMembers(list: readonly MemberRef[] | undefined, locate: (type: string, id: string) => string): ScimObject[] | undefined {
  if (!list || list.length === 0) return undefined
  return list.map((m) => ({
    value: m.value,
    $ref: locate(m.type, m.value),
    ...(m.display !== undefined ? { display: m.display } : {}),
    type: m.type,
  }))
}

/** A user's `groups` as answered, or undefined for none. */
function renderGroups(list: readonly GroupRef[] | undefined, locate: (id: string) => string): ScimObject[] | undefined {
  if (!list || list.length === 0) return undefined
  return list.map((g) => ({
    value: g.value,
    $ref: locate(g.value),
    ...(g.display !== undefined ? { display: g.display } : {}),
    type: g.type,
  }))
}

/** The resource with its groups known, without reading its data (a spread would, and parse it). */
function withGroups(stored: StoredResource, groups: readonly GroupRef[]): StoredResourceWithGroups {
  return Object.defineProperty(Object.create(stored) as StoredResourceWithGroups, 'groups', { value: groups, enumerable: true })
}

/** A ResourceResult whose `resource` is parsed from its JSON text when first read. */
function resourceResult(json: string, version: number, location: string): ResourceResult {
  let resource: ScimObject | undefined
  return {
    json,
    get resource() {
      return (resource ??= JSON.parse(json) as ScimObject)
    },
    version,
    location,
  }
}
