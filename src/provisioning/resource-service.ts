import { randomUUID } from 'node:crypto'
import {
  applyPatch,
  invalidFilter,
  invalidValue,
  isAttributeReturned,
  isScimError,
  notFound,
  parsePatchRequest,
  planMemberPatch,
  projectResource,
  resolveFilter,
  toListResponse,
  validateResource,
  type ListQuery,
  type MemberStep,
  type Projection,
  type ResolvedAttribute,
  type ResolvedFilterNode,
  type SchemaRegistry,
  type ScimObject,
} from '../scim/index.js'
import type { CurrentResource, GroupRef, MemberRef, ResourceStore, StoredResource } from '../store/ports.js'
import { hashPassword, hashPasswordSync } from './password-hash.js'

export type DeletePolicy = 'delete' | 'deactivate'

/** Who is asking and where they see us: the tenant whose rows they may touch and the SCIM base URL for meta.location. */
export interface RequestScope {
  readonly tenant: string
  readonly baseUrl: string
}

export interface ProvisioningSettings {
  /** 'deactivate' makes DELETE on a resource with `active` set active=false instead (as Salesforce does). */
  readonly deletePolicy: DeletePolicy
  readonly maxResults: number
}

export interface ProvisioningDeps {
  readonly store: ResourceStore
  readonly registry: SchemaRegistry
  readonly settings: (tenant: string) => ProvisioningSettings
  readonly clock?: () => Date
  readonly newId?: () => string
}

/** A resource as answered to the client, with the version behind its ETag. */
export interface ResourceResult {
  readonly resource: ScimObject
  readonly version: number
  readonly location: string
}

export interface Preconditions {
  /** The version from If-Match; undefined when the client sent none or `*`. */
  readonly ifMatch?: number
}

export const etagOf = (version: number) => `W/"${version}"`

/**
 * The provisioning use cases for every resource type (Users, Groups, custom ones): one generic code
 * path driven by the schema registry, so Users and Groups are not written twice.
 */
export class ProvisioningService {
  private readonly store: ResourceStore
  readonly registry: SchemaRegistry
  private readonly clock: () => Date
  private readonly newId: () => string

  constructor(private readonly deps: ProvisioningDeps) {
    this.store = deps.store
    this.registry = deps.registry
    this.clock = deps.clock ?? (() => new Date())
    this.newId = deps.newId ?? randomUUID
  }

  settings(tenant: string): ProvisioningSettings {
    return this.deps.settings(tenant)
  }

  async create(scope: RequestScope, resourceType: string, body: unknown, projection: Projection = {}): Promise<ResourceResult> {
    const validated = validateResource(body, { registry: this.registry, resourceType, context: 'create' })
    const { data, password, memberIds } = this.split(resourceType, validated)
    const passwordHash = password === undefined ? undefined : await hashPassword(password)
    const stored = await this.store.create(scope.tenant, {
      id: this.newId(),
      resourceType,
      data,
      ...(passwordHash ? { passwordHash } : {}),
      ...(memberIds ? { memberIds } : {}),
      now: this.clock().toISOString(),
    })
    return this.renderOne(scope, stored, projection)
  }

  async get(scope: RequestScope, resourceType: string, id: string, projection: Projection = {}): Promise<ResourceResult> {
    const stored = await this.store.get(scope.tenant, resourceType, id)
    if (!stored) throw notFound(`${resourceType} ${id} not found`)
    return this.renderOne(scope, stored, projection)
  }

  /** PUT (RFC 7644 §3.5.1): the body replaces every client-managed attribute; password and readOnly ones stay. */
  async replace(scope: RequestScope, resourceType: string, id: string, body: unknown, pre: Preconditions, projection: Projection = {}): Promise<ResourceResult> {
    // Hash before the transaction: scrypt is slow and must not hold the write lock.
    const plainPassword = typeof (body as ScimObject | null)?.password === 'string' ? ((body as ScimObject).password as string) : undefined
    const preHashed = plainPassword === undefined ? undefined : await hashPassword(plainPassword)
    const stored = await this.store.update(
      scope.tenant,
      resourceType,
      id,
      (current) => {
        const validated = validateResource(body, { registry: this.registry, resourceType, context: 'replace', existing: current.data })
        const { data, memberIds } = this.split(resourceType, validated)
        return {
          data,
          ...(preHashed ? { passwordHash: preHashed } : {}),
          ...(memberIds ? { memberSteps: [{ op: 'replace', ids: memberIds }] } : this.hasAttribute(resourceType, 'members') ? { memberSteps: [{ op: 'replace', ids: [] }] } : {}),
        }
      },
      { ...pre, now: this.clock().toISOString() },
    )
    return this.renderOne(scope, stored, projection)
  }

  /**
   * PATCH (RFC 7644 §3.5.2): all operations apply to one copy and are validated together, inside one
   * store transaction, so they all take effect or none does. Member operations that name members by id
   * become membership row changes and never load the member list.
   */
  async patch(scope: RequestScope, resourceType: string, id: string, body: unknown, pre: Preconditions): Promise<StoredResource> {
    const operations = parsePatchRequest(body)
    const options = { registry: this.registry, resourceType }
    const plan = planMemberPatch(operations, options)
    const withMembers = plan.memberSteps === null && this.hasAttribute(resourceType, 'members')
    const documentOperations = plan.memberSteps === null ? operations : plan.otherOperations
    return this.store.update(
      scope.tenant,
      resourceType,
      id,
      (current) => {
        const before = withMembers ? { ...current.data, members: (current.members ?? []).map(({ value, type }) => ({ value, type })) } : current.data
        let memberSteps: MemberStep[] = plan.memberSteps ?? []
        if (documentOperations.length === 0) return { data: current.data, memberSteps }
        const { resource: patched, changed } = applyPatch(before, documentOperations, options)
        if (!changed) return { data: current.data, memberSteps }
        const validated = validateResource(patched, { ...options, context: 'replace', existing: before })
        const { data, password, memberIds } = this.split(resourceType, validated)
        if (withMembers) memberSteps = diffMembers(current, memberIds ?? [])
        return {
          data,
          ...(password !== undefined ? { passwordHash: hashPasswordSync(password) } : {}),
          memberSteps,
        }
      },
      { ...pre, withMembers, now: this.clock().toISOString() },
    )
  }

  async delete(scope: RequestScope, resourceType: string, id: string, pre: Preconditions): Promise<void> {
    if (this.settings(scope.tenant).deletePolicy === 'deactivate' && this.hasAttribute(resourceType, 'active')) {
      await this.store.update(scope.tenant, resourceType, id, (current) => ({ data: { ...current.data, active: false } }), {
        ...pre,
        now: this.clock().toISOString(),
      })
      return
    }
    await this.store.delete(scope.tenant, resourceType, id, pre)
  }

  /** GET /{ResourceType} and POST /{ResourceType}/.search (RFC 7644 §3.4.2, §3.4.3). */
  async list(scope: RequestScope, resourceType: string, query: ListQuery): Promise<ScimObject> {
    const filter = query.filter ? resolveFilter(query.filter, this.registry, resourceType) : undefined
    const result = await this.store.query(scope.tenant, resourceType, {
      ...(filter ? { filter } : {}),
      ...(query.sortBy ? { sortBy: this.resolveSortBy(resourceType, query) } : {}),
      sortOrder: query.sortOrder,
      startIndex: query.startIndex,
      count: query.count,
    })
    const resources = await this.render(scope, resourceType, result.resources, query)
    return toListResponse(resources, result.totalResults ?? 0, query.startIndex)
  }

  /**
   * POST /.search at the root (RFC 7644 §3.4.3): every resource type, in registry order, paged as one
   * list. A filter that names an attribute a type lacks matches nothing of that type; a filter valid for
   * no type at all is invalidFilter.
   */
  async searchAll(scope: RequestScope, query: ListQuery): Promise<ScimObject> {
    const parts: { type: string; filter?: ResolvedFilterNode; total: number }[] = []
    let lastError: unknown
    for (const t of this.registry.listResourceTypes()) {
      let filter: ResolvedFilterNode | undefined
      if (query.filter) {
        try {
          filter = resolveFilter(query.filter, this.registry, t.name)
        } catch (e) {
          if (!isScimError(e)) throw e
          lastError = e
          continue
        }
      }
      const { totalResults } = await this.store.query(scope.tenant, t.name, { ...(filter ? { filter } : {}), startIndex: 1, count: 0 })
      parts.push({ type: t.name, ...(filter ? { filter } : {}), total: totalResults ?? 0 })
    }
    if (parts.length === 0) throw lastError ?? invalidFilter('The filter matches no resource type')
    const total = parts.reduce((n, p) => n + p.total, 0)
    let skip = query.startIndex - 1
    let want = query.count
    const resources: ScimObject[] = []
    for (const p of parts) {
      if (want <= 0) break
      if (skip >= p.total) {
        skip -= p.total
        continue
      }
      const page = await this.store.query(scope.tenant, p.type, {
        ...(p.filter ? { filter: p.filter } : {}),
        ...(query.sortBy ? { sortBy: this.resolveSortBy(p.type, query) } : {}),
        sortOrder: query.sortOrder,
        startIndex: skip + 1,
        count: want,
      })
      resources.push(...(await this.render(scope, p.type, page.resources, query)))
      want -= page.resources.length
      skip = 0
    }
    return toListResponse(resources, total, query.startIndex)
  }

  async renderOne(scope: RequestScope, stored: StoredResource, projection: Projection): Promise<ResourceResult> {
    const [resource] = await this.render(scope, stored.resourceType, [stored], projection)
    return { resource: resource!, version: stored.version, location: this.locationOf(scope, stored.resourceType, stored.id) }
  }

  locationOf(scope: RequestScope, resourceType: string, id: string): string {
    return `${scope.baseUrl}${this.registry.getResourceType(resourceType)!.endpoint}/${encodeURIComponent(id)}`
  }

  private async render(scope: RequestScope, resourceType: string, stored: readonly StoredResource[], projection: Projection): Promise<ScimObject[]> {
    if (stored.length === 0) return []
    const ids = stored.map((s) => s.id)
    const opts = { ...projection, registry: this.registry, resourceType }
    const members = this.hasAttribute(resourceType, 'members') && isAttributeReturned('members', opts) ? await this.store.listMembers(scope.tenant, ids) : undefined
    const groups = this.hasAttribute(resourceType, 'groups') && isAttributeReturned('groups', opts) ? await this.store.listGroupsOf(scope.tenant, ids) : undefined
    return stored.map((s) => {
      const full: ScimObject = {
        schemas: s.data.schemas,
        id: s.id,
        ...s.data,
        ...(members ? renderMembers(members.get(s.id), (t, id) => this.locationOf(scope, t, id)) : {}),
        ...(groups ? renderGroups(groups.get(s.id), (id) => this.locationOf(scope, 'Group', id)) : {}),
        meta: {
          resourceType: s.resourceType,
          created: s.created,
          lastModified: s.lastModified,
          location: this.locationOf(scope, s.resourceType, s.id),
          version: etagOf(s.version),
        },
      }
      return projectResource(full, opts)
    })
  }

  private resolveSortBy(resourceType: string, query: ListQuery): ResolvedAttribute {
    try {
      return this.registry.resolve(resourceType, query.sortBy!)
    } catch (e) {
      if (isScimError(e)) throw invalidValue(`sortBy: ${e.detail}`)
      throw e
    }
  }

  hasAttribute(resourceType: string, name: string): boolean {
    return this.registry.schemasOf(resourceType)[0]!.definition.attributes.some((a) => a.name === name)
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
}

function diffMembers(current: CurrentResource, wanted: readonly string[]): MemberStep[] {
  const had = new Set((current.members ?? []).map((m) => m.value))
  const want = new Set(wanted)
  const remove = [...had].filter((id) => !want.has(id))
  const add = [...want].filter((id) => !had.has(id))
  return [...(remove.length ? [{ op: 'remove' as const, ids: remove }] : []), ...(add.length ? [{ op: 'add' as const, ids: add }] : [])]
}

function renderMembers(list: readonly MemberRef[] | undefined, locate: (type: string, id: string) => string): ScimObject {
  if (!list || list.length === 0) return {}
  return {
    members: list.map((m) => ({
      value: m.value,
      $ref: locate(m.type, m.value),
      ...(m.display !== undefined ? { display: m.display } : {}),
      type: m.type,
    })),
  }
}

function renderGroups(list: readonly GroupRef[] | undefined, locate: (id: string) => string): ScimObject {
  if (!list || list.length === 0) return {}
  return {
    groups: list.map((g) => ({
      value: g.value,
      $ref: locate(g.value),
      ...(g.display !== undefined ? { display: g.display } : {}),
      type: g.type,
    })),
  }
}
