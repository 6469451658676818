import {
  BULK_ID_PREFIX,
  PATCH_OP,
  bulkIdOf,
  conflict,
  findBulkIdReferences,
  findMemberBulkIdReferences,
  isRejectedBulkOperation,
  isScimError,
  notFound,
  resolveBulkIds,
  type BulkOperation,
  type BulkOperationResult,
  type BulkRequest,
  type RejectedBulkOperation,
  type SchemaRegistry,
  type ScimError,
} from '../scim/index.js'
import type { AuditEventFacts } from '../audit/audit-context.js'
import type { AuditOperation } from '../audit/audit-event.js'
import type { NewResource } from '../store/ports.js'
import { etagOf, preconditionsOfIfMatch, type ProvisioningService, type RequestScope } from './resource-service.js'

/** A bulkId reference this operation cannot run without: the POST at `index` must have created its resource. */
interface Need {
  readonly bulkId: string
  readonly index: number
}

type Entry =
  | { readonly kind: 'rejected'; readonly index: number; readonly op: RejectedBulkOperation }
  | {
      readonly kind: 'operation'
      readonly index: number
      readonly op: BulkOperation
      readonly resourceType?: string
      /** The resource acted on: the id assigned in advance for a POST, the path's id (resolved) otherwise. */
      readonly id?: string
      /** The data with every bulkId reference resolved. */
      readonly data?: unknown
      readonly needs: readonly Need[]
      /** Why the operation fails without running: an unknown endpoint, a bulkId that cannot be resolved. */
      readonly problem?: ScimError
    }

type OperationEntry = Extract<Entry, { kind: 'operation' }>

/** Run an operation, or complete a POST of a circular reference by adding the members it was created without. */
type Step = { readonly kind: 'operation' | 'link'; readonly index: number }

interface Plan {
  readonly entries: readonly Entry[]
  readonly steps: readonly Step[]
  /** For a POST created without some of its members (a cycle): the POSTs whose resources it gets afterwards. */
  readonly deferred: ReadonlyMap<number, readonly Need[]>
}

/**
 * Bulk (RFC 7644 §3.7): runs the operations of a BulkRequest through the ProvisioningService, for one
 * tenant, and answers one result per operation processed, in request order.
 *
 * How it runs:
 * - Every POST gets its resource id before anything runs, so every "bulkId:x" resolves up front, wherever it
 *   appears (RFC 7644 §3.7.2), including references to a POST later in the request.
 * - Operations run in request order, except that a POST runs before the first operation that needs its
 *   resource to exist: a Group naming it as a member, or a PUT/PATCH/DELETE naming it in its path or data
 *   (RFC 7644 §3.7 lets the service provider change the order as long as the client's intent is kept, and
 *   §3.7.1's example of Groups naming each other cannot run in any order without it). Other references
 *   (manager.value, an extension's reference) need no order: they are values, which Roster does not check
 *   on a single POST either, so they take the assigned id whatever that POST's outcome.
 * - Consecutive POSTs are created together by ResourceStore.createMany: one transaction, one durable sync,
 *   each operation still succeeding or failing alone. This is what makes a 1,000-user request fast.
 * - Circular references (RFC 7644 §3.7.1, e.g. two Groups naming each other) are resolved, as the RFC asks
 *   first: the Group that closes the cycle is created without those members, which a member PATCH adds
 *   right after the other Groups exist. If one of them failed, that member cannot be added: the Group
 *   stays created (its result keeps its location) and its result is the 409 RFC 7644 §3.7.1 allows.
 * - failOnErrors (RFC 7644 §3.7.3): after that many failed operations the rest are not processed. A run of
 *   POSTs is cut into batches no larger than the errors still allowed, so a batch never commits an
 *   operation after the one that reached the limit.
 * - Endpoints are the organization's: a resource type it does not serve is a 404 for that operation.
 * - Audit: each operation that succeeds records its event in its own write's transaction (through the
 *   ProvisioningService); each one that fails is recorded once the request has run.
 */
export class BulkService {
  constructor(private readonly provisioning: ProvisioningService) {}

  async execute(scope: RequestScope, request: BulkRequest, options: { onAuditError?: (error: unknown) => void } = {}): Promise<BulkOperationResult[]> {
    const registry = await this.provisioning.registryFor(scope.tenant)
    const plan = this.plan(request, registry)
    const prepared = await this.prepareCreates(scope, plan)
    const run = new BulkRun(this.provisioning, scope, plan, prepared, request.failOnErrors)
    await run.execute()
    await this.provisioning.recordFailures(scope, run.failures(), options.onAuditError)
    return run.results()
  }

  private plan(request: BulkRequest, registry: SchemaRegistry): Plan {
    const { operations } = request
    const posts = new Map<string, { index: number; id?: string }>()
    operations.forEach((op, index) => {
      if (isRejectedBulkOperation(op)) {
        // A POST refused as sent still declares its bulkId: references to it fail as references to a failed POST.
        if (op.bulkId !== undefined && op.method?.toUpperCase() === 'POST') posts.set(op.bulkId, { index })
      } else if (op.method === 'POST' && op.bulkId !== undefined) {
        const known = resourceTypeAt(registry, op.endpoint) !== undefined
        posts.set(op.bulkId, { index, ...(known ? { id: this.provisioning.newResourceId() } : {}) })
      }
    })
    const ids = new Map<string, string>()
    for (const [bulkId, post] of posts) if (post.id !== undefined) ids.set(bulkId, post.id)

    const entries = operations.map((op, index): Entry => {
      if (isRejectedBulkOperation(op)) return { kind: 'rejected', index, op }
      const resourceType = resourceTypeAt(registry, op.endpoint)
      const isPost = op.method === 'POST'
      const references = findBulkIdReferences(isPost ? op.data : [op.id, op.data])
      // Only these must exist first; for a POST, only its members (the store checks them, RFC 7643 §4.2).
      const needed = isPost ? findMemberBulkIdReferences(op.data) : references
      const needs = needed.flatMap((bulkId) => {
        const post = posts.get(bulkId)
        return post && post.id !== undefined && post.index !== index ? [{ bulkId, index: post.index }] : []
      })
      const unresolvable = references.find((bulkId) => !ids.has(bulkId))
      const pathBulkId = isPost ? undefined : bulkIdOf(op.id)
      const id = isPost ? posts.get(op.bulkId!)?.id : pathBulkId !== undefined ? ids.get(pathBulkId) : op.id
      let problem: ScimError | undefined
      if (!resourceType) problem = notFound(`No resource type has the endpoint ${op.endpoint} (path "${op.path}")`)
      else if (unresolvable !== undefined) {
        const post = posts.get(unresolvable)
        problem = post
          ? conflict(`"${BULK_ID_PREFIX}${unresolvable}" cannot be resolved: the POST with that bulkId (Operations[${post.index}]) cannot create a resource (RFC 7644 §3.7.1)`)
          : conflict(`"${BULK_ID_PREFIX}${unresolvable}" cannot be resolved: no POST of this request has bulkId "${unresolvable}" (RFC 7644 §3.7.2)`)
      }
      return {
        kind: 'operation',
        index,
        op,
        ...(resourceType ? { resourceType } : {}),
        ...(id !== undefined ? { id } : {}),
        ...(problem === undefined && op.data !== undefined ? { data: references.length > 0 ? resolveBulkIds(op.data, ids) : op.data } : {}),
        needs,
        ...(problem ? { problem } : {}),
      }
    })
    return orderSteps(entries)
  }

  /** Validates and hashes every POST that can run, before any runs (scrypt is slow, and runs in parallel here). */
  private async prepareCreates(scope: RequestScope, plan: Plan): Promise<Map<number, NewResource | ScimError>> {
    const prepared = new Map<number, NewResource | ScimError>()
    await Promise.all(
      plan.entries.map(async (e) => {
        if (e.kind !== 'operation' || e.op.method !== 'POST' || e.problem || e.id === undefined) return
        try {
          const input = await this.provisioning.prepareCreate(scope, e.resourceType!, e.data, e.id)
          const later = new Set((plan.deferred.get(e.index) ?? []).map((n) => idOf(plan.entries[n.index]!)))
          prepared.set(e.index, later.size > 0 && input.memberIds ? { ...input, memberIds: input.memberIds.filter((m) => !later.has(m)) } : input)
        } catch (error) {
          if (!isScimError(error)) throw error
          prepared.set(e.index, error)
        }
      }),
    )
    return prepared
  }
}

/** The resource type the organization serves at `endpoint` (/Users, /Groups). */
function resourceTypeAt(registry: SchemaRegistry, endpoint: string): string | undefined {
  return registry.listResourceTypes().find((t) => t.endpoint === endpoint)?.name
}

const idOf = (e: Entry): string | undefined => (e.kind === 'operation' ? e.id : undefined)

/**
 * Request order, except that each operation's needs run before it (a depth-first walk, without recursion
 * so a long chain of nested Groups cannot exhaust the stack). A need that leads back to an operation still
 * being ordered closes a cycle: that member is deferred to a link step placed after the last of the POSTs
 * it waits for. Only a POST's member references can close one: nothing else is ever needed.
 */
function orderSteps(entries: readonly Entry[]): Plan {
  const state = new Uint8Array(entries.length) // 0 unseen, 1 being ordered, 2 ordered
  const order: number[] = []
  const deferred = new Map<number, Need[]>()
  const needsOf = (i: number) => {
    const e = entries[i]!
    return e.kind === 'operation' ? e.needs : []
  }
  for (let root = 0; root < entries.length; root++) {
    if (state[root] !== 0) continue
    state[root] = 1
    const stack = [{ index: root, next: 0 }]
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!
      const needs = needsOf(top.index)
      if (top.next < needs.length) {
        const need = needs[top.next++]!
        if (state[need.index] === 0) {
          state[need.index] = 1
          stack.push({ index: need.index, next: 0 })
        } else if (state[need.index] === 1) {
          deferred.set(top.index, [...(deferred.get(top.index) ?? []), need])
        }
      } else {
        state[top.index] = 2
        order.push(top.index)
        stack.pop()
      }
    }
  }
  const position = new Map(order.map((index, p) => [index, p]))
  const linksAfter = new Map<number, number[]>()
  for (const [index, needs] of deferred) {
    const last = needs.reduce((a, b) => (position.get(a.index)! > position.get(b.index)! ? a : b)).index
    linksAfter.set(last, [...(linksAfter.get(last) ?? []), index])
  }
  const steps = order.flatMap((index): Step[] => [
    { kind: 'operation', index },
    ...(linksAfter.get(index) ?? []).map((linked): Step => ({ kind: 'link', index: linked })),
  ])
  return { entries, steps, deferred }
}

/** The state of one bulk request while it runs. */
class BulkRun {
  private readonly outcome = new Map<number, BulkOperationResult>()
  private readonly failed = new Set<number>()
  private errors = 0
  private stopped = false
  private pending: { index: number; input: NewResource }[] = []
  private readonly failureFacts: Omit<AuditEventFacts, 'tenant'>[] = []

  constructor(
    private readonly provisioning: ProvisioningService,
    private readonly scope: RequestScope,
    private readonly plan: Plan,
    private readonly prepared: ReadonlyMap<number, NewResource | ScimError>,
    private readonly failOnErrors: number | undefined,
  ) {}

  async execute(): Promise<void> {
    for (const step of this.plan.steps) {
      if (step.kind === 'link') await this.link(step.index)
      // RFC 7644 §3.7.3: once failOnErrors is reached, the remaining operations are not processed.
      else if (!this.stopped) await this.process(step.index)
    }
    await this.flush()
  }

  /** The audit facts of the operations that failed, in the order they failed. */
  failures(): readonly Omit<AuditEventFacts, 'tenant'>[] {
    return this.failureFacts
  }

  /** The results of the operations processed, in request order. */
  results(): BulkOperationResult[] {
    return [...this.outcome.entries()].sort(([a], [b]) => a - b).map(([, result]) => result)
  }

  /** How many POSTs one createMany may take: no more than the errors failOnErrors still allows. */
  private get room(): number {
    return this.failOnErrors === undefined ? Number.POSITIVE_INFINITY : this.failOnErrors - this.errors
  }

  private async process(index: number): Promise<void> {
    const e = this.plan.entries[index]!
    if (e.kind === 'operation' && e.op.method === 'POST' && !e.problem) {
      const input = this.prepared.get(index)
      // A need still pending in this batch is checked by the store (and explained in flush).
      if (input && !isScimError(input) && !e.needs.some((n) => this.failed.has(n.index))) {
        this.pending.push({ index, input })
        if (this.pending.length >= this.room) await this.flush()
        return
      }
    }
    await this.flush()
    if (this.stopped) return
    if (e.kind === 'rejected') return this.record(index, this.failure(e, e.op.rejected))
    if (e.problem) return this.record(index, this.failure(e, e.problem))
    const failedNeed = e.needs.find((n) => this.failed.has(n.index))
    if (failedNeed) return this.record(index, this.failure(e, unresolved(failedNeed)))
    if (e.op.method === 'POST') return this.record(index, this.failure(e, this.prepared.get(index) as ScimError))
    await this.runOne(e)
  }

  /** Creates the pending POSTs in one store transaction. */
  private async flush(): Promise<void> {
    if (this.pending.length === 0) return
    const batch = this.pending
    this.pending = []
    const created = await this.provisioning.createMany(this.scope, batch.map((b) => b.input))
    batch.forEach(({ index }, k) => {
      const e = this.plan.entries[index] as OperationEntry
      const stored = created[k]!
      if (isScimError(stored)) {
        // The store saw a member that does not exist; the reason is that the member's POST failed.
        const failedNeed = e.needs.find((n) => this.failed.has(n.index))
        this.record(index, this.failure(e, failedNeed ? unresolved(failedNeed) : stored))
      } else {
        this.record(index, {
          method: 'POST',
          bulkId: e.op.bulkId!,
          location: this.provisioning.locationOf(this.scope, stored.resourceType, stored.id),
          version: etagOf(stored.version),
          status: 201,
        })
      }
    })
  }

  private async runOne(e: OperationEntry): Promise<void> {
    const { op, resourceType, id } = e
    const common = {
      method: op.method,
      ...(op.bulkId !== undefined ? { bulkId: op.bulkId } : {}),
      location: this.provisioning.locationOf(this.scope, resourceType!, id!),
    }
    try {
      const pre = op.version === undefined ? {} : preconditionsOfIfMatch(op.version)
      switch (op.method) {
        case 'PUT': {
          const replaced = await this.provisioning.replace(this.scope, resourceType!, id!, e.data, pre)
          return this.record(e.index, { ...common, version: etagOf(replaced.version), status: 200 })
        }
        case 'PATCH': {
          const patched = await this.provisioning.patch(this.scope, resourceType!, id!, e.data, pre)
          return this.record(e.index, { ...common, version: etagOf(patched.version), status: 200 })
        }
        case 'DELETE':
          await this.provisioning.delete(this.scope, resourceType!, id!, pre)
          return this.record(e.index, { ...common, status: 204 })
        case 'POST':
          throw new Error('POST runs through createMany')
        default:
          op.method satisfies never
      }
    } catch (error) {
      if (!isScimError(error)) throw error
      this.record(e.index, { ...common, status: error.status, error })
    }
  }

  /** Adds to a POST's resource the members it was created without (a circular reference, RFC 7644 §3.7.1). */
  private async link(index: number): Promise<void> {
    await this.flush()
    const result = this.outcome.get(index)
    if (!result || result.error) return
    const e = this.plan.entries[index] as OperationEntry
    const needs = this.plan.deferred.get(index) ?? []
    const missing = needs.find((n) => this.failed.has(n.index) || !this.outcome.has(n.index))
    if (missing) {
      return this.failCreated(index, result, conflict(`The resource was created, but not its member "${BULK_ID_PREFIX}${missing.bulkId}": that POST did not create a resource (RFC 7644 §3.7.1)`))
    }
    const members = needs.map((n) => ({ value: idOf(this.plan.entries[n.index]!)! }))
    try {
      const body = { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: members }] }
      const linked = await this.provisioning.patch(this.scope, e.resourceType!, e.id!, body, {})
      this.outcome.set(index, { ...result, version: etagOf(linked.version) })
    } catch (error) {
      if (!isScimError(error)) throw error
      this.failCreated(index, result, error)
    }
  }

  private failure(e: Entry, error: ScimError): BulkOperationResult {
    const { method, bulkId } = e.op
    const location = e.kind === 'operation' && method !== 'POST' && e.resourceType && e.id !== undefined ? this.provisioning.locationOf(this.scope, e.resourceType, e.id) : undefined
    return {
      ...(method !== undefined ? { method } : {}),
      ...(bulkId !== undefined ? { bulkId } : {}),
      ...(location !== undefined ? { location } : {}),
      status: error.status,
      error,
    }
  }

  /** A processed POST whose completion failed: it keeps its location, and counts as an error now. */
  private failCreated(index: number, result: BulkOperationResult, error: ScimError): void {
    const { version: _version, ...kept } = result
    this.record(index, { ...kept, status: error.status, error })
  }

  private record(index: number, result: BulkOperationResult): void {
    this.outcome.set(index, result)
    if (!result.error) return
    this.failed.add(index)
    this.errors++
    const e = this.plan.entries[index]!
    this.failureFacts.push({
      operation: operationOf(result.method),
      resource: {
        ...(e.kind === 'operation' && e.resourceType ? { type: e.resourceType } : {}),
        // A failed POST created nothing: the id assigned in advance names no resource.
        ...(e.kind === 'operation' && e.id !== undefined && result.method !== 'POST' ? { id: e.id } : {}),
      },
      outcome: { status: result.error.status, ...(result.error.scimType ? { scimType: result.error.scimType } : {}), detail: result.error.detail },
      time: this.provisioning.now(),
    })
    if (this.failOnErrors !== undefined && this.errors >= this.failOnErrors) this.stopped = true
  }
}

const unresolved = (need: Need) =>
  conflict(`"${BULK_ID_PREFIX}${need.bulkId}" cannot be resolved: the POST with that bulkId (Operations[${need.index}]) failed (RFC 7644 §3.7.1)`)

/** The audit operation of a bulk operation's method; 'bulk' for one whose method could not be read. */
function operationOf(method: string | undefined): AuditOperation {
  switch (method) {
    case 'POST':
      return 'create'
    case 'PUT':
      return 'replace'
    case 'PATCH':
      return 'patch'
    case 'DELETE':
      return 'delete'
    default:
      return 'bulk'
  }
}
