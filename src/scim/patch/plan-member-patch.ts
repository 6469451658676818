import { invalidValue } from '../errors.js'
import type { FilterNode } from '../filter/filter-ast.js'
import { parseAttributePath, type AttributePath } from '../path/attribute-path.js'
import type { AttributeDefinition, ScimObject } from '../schema/attribute.js'
import { findAttribute, findSubAttribute, type SchemaRegistry } from '../schema/schema-registry.js'
import type { MemberStep } from './member-step.js'
import type { PatchOperation } from './parse-patch.js'

/**
 * `memberSteps`: membership changes by member id, in request order, for the store to apply without loading
 * the member list; null when some operation needs the members in memory (then `otherOperations` holds every
 * operation, unchanged, for applyPatch on the whole document with its members loaded).
 * `otherOperations`: the operations on the rest of the document, in request order, for applyPatch.
 */
export interface MemberPatchPlan {
  readonly memberSteps: MemberStep[] | null
  readonly otherOperations: PatchOperation[]
}

export interface PlanMemberPatchOptions {
  readonly registry: SchemaRegistry
  readonly resourceType: string
}

/**
 * Splits a PATCH (RFC 7644 §3.5.2) into member steps and document operations, so that adding one member to
 * a group of 100,000 does not load the member list. Translated (anything else on members → memberSteps null):
 * - add `members`, value [{value}]                    → add ids (RFC 7644 §3.5.2.1)
 * - replace `members`, value [{value}] (or null)      → replace ids (RFC 7644 §3.5.2.3)
 * - remove `members` without value                    → replace [] (RFC 7644 §3.5.2.2)
 * - remove `members` with value [{value}]             → remove ids (Entra ID's form, Microsoft, "Develop and
 *                                                       plan provisioning for a SCIM endpoint")
 * - remove `members[value eq "x" or value eq "y"]`    → remove ids (Okta's form, Okta, "SCIM 2.0 protocol reference")
 * - add/replace without path whose value has `members` → that step, plus the other keys as a document operation.
 * Sub-attributes other than `value` in member objects (`display`, `$ref`, `type`) are not carried: display is
 * readOnly and computed, `$ref` and `type` follow from the id.
 *
 * A resource type without `members` gets memberSteps [] and every operation in otherOperations.
 * Throws ScimError 400 invalidValue when a member value is not a non-empty string, or a member object has an
 * unknown sub-attribute.
 */
export function planMemberPatch(operations: readonly PatchOperation[], options: PlanMemberPatchOptions): MemberPatchPlan {
  const members = membersAttribute(options)
  if (!members) return { memberSteps: [], otherOperations: [...operations] }
  const planner = new Planner(options, members)
  const memberSteps: MemberStep[] = []
  const otherOperations: PatchOperation[] = []
  for (const operation of operations) {
    const planned = planner.plan(operation)
    if (planned === null) return { memberSteps: null, otherOperations: [...operations] }
    memberSteps.push(...planned.steps)
    if (planned.rest) otherOperations.push(planned.rest)
  }
  return { memberSteps, otherOperations }
}

/** The core schema's `members`, when it is a multi-valued complex attribute with a `value` (RFC 7643 §4.2). */
function membersAttribute(options: PlanMemberPatchOptions): AttributeDefinition | undefined {
  const core = options.registry.schemasOf(options.resourceType)[0]
  const def = core ? findAttribute(core.definition.attributes, 'members') : undefined
  if (!def || !def.multiValued || def.type !== 'complex' || !findSubAttribute(def, 'value')) return undefined
  return def
}

interface PlannedOperation {
  readonly steps: MemberStep[]
  readonly rest?: PatchOperation
}

const isObject = (v: unknown): v is ScimObject => typeof v === 'object' && v !== null && !Array.isArray(v)

/** What a key of a no-path value object means for membership. */
type KeyKind = 'members' | 'membersOtherwise' | 'other'

class Planner {
  constructor(
    private readonly options: PlanMemberPatchOptions,
    private readonly members: AttributeDefinition,
  ) {}

  /** The steps and remaining document operation for one operation, or null when it needs the member list. */
  plan(operation: PatchOperation): PlannedOperation | null {
    const { op, path, value } = operation
    if (!path) return this.planWithoutPath(operation)
    if (!this.isMembers(path.attribute)) return { steps: [], rest: operation }
    if (path.attribute.subAttribute !== undefined || path.subAttribute !== undefined) return null
    if (path.filter) {
      if (op !== 'remove') return null
      const ids = idsOfValueFilter(path.filter)
      return ids ? { steps: nonEmpty({ op: 'remove', ids }) } : null
    }
    switch (op) {
      case 'add':
        return { steps: value === null ? [] : nonEmpty({ op: 'add', ids: this.memberIds(value) }) }
      case 'replace':
        return { steps: [{ op: 'replace', ids: value === null ? [] : this.memberIds(value) }] }
      case 'remove':
        if (value === undefined || value === null) return { steps: [{ op: 'replace', ids: [] }] }
        return { steps: nonEmpty({ op: 'remove', ids: this.memberIds(value) }) }
    }
  }

  private planWithoutPath(operation: PatchOperation): PlannedOperation | null {
    const { op, value } = operation
    // A malformed operation stays a document operation, for applyPatch to refuse with the usual error.
    if (op === 'remove' || !isObject(value)) return { steps: [], rest: operation }
    const steps: MemberStep[] = []
    const rest: ScimObject = {}
    let hasMembers = false
    for (const [key, v] of Object.entries(value)) {
      const kind = this.classifyKey(key, v)
      if (kind === 'membersOtherwise') return null
      if (kind === 'other') {
        rest[key] = v
        continue
      }
      hasMembers = true
      if (op === 'replace') steps.push({ op: 'replace', ids: v === null ? [] : this.memberIds(v) })
      else if (v !== null) steps.push(...nonEmpty({ op: 'add', ids: this.memberIds(v) }))
    }
    if (!hasMembers) return { steps: [], rest: operation }
    return Object.keys(rest).length === 0 ? { steps } : { steps, rest: { op, value: rest } }
  }

  private classifyKey(key: string, value: unknown): KeyKind {
    if (key.toLowerCase() === 'schemas') return 'other'
    if (/^urn:/i.test(key)) {
      const bound = this.options.registry.findSchema(this.options.resourceType, key)
      if (bound) {
        // `{"urn:…:core:2.0:Group": {"members": …}}`: rare enough to leave to applyPatch with the members loaded.
        if (bound.isExtension || !isObject(value)) return 'other'
        const inner = Object.keys(value).map((k) => this.classifyKey(k, value[k]))
        return inner.every((k) => k === 'other') ? 'other' : 'membersOtherwise'
      }
    }
    let path: AttributePath
    try {
      path = parseAttributePath(key)
    } catch {
      return 'other'
    }
    if (!this.isMembers(path)) return 'other'
    return path.subAttribute === undefined ? 'members' : 'membersOtherwise'
  }

  private isMembers(path: AttributePath): boolean {
    const { subAttribute, ...bare } = path
    try {
      return this.options.registry.resolve(this.options.resourceType, bare).attribute === this.members
    } catch {
      // An unknown attribute is applyPatch's to refuse, with the error it gives.
      return false
    }
  }

  /** Ids from `[{value}]` or a single `{value}`; each value a non-empty string. */
  private memberIds(value: unknown): string[] {
    const list = Array.isArray(value) ? value : [value]
    const ids: string[] = []
    for (const element of list) {
      if (element === null) continue
      if (!isObject(element)) throw invalidValue('Each member must be an object with a "value" (RFC 7643 §4.2)')
      let id: unknown
      for (const [k, v] of Object.entries(element)) {
        const sub = findSubAttribute(this.members, k)
        if (!sub) throw invalidValue(`Unknown sub-attribute "${k}" in a member`)
        if (sub.name === 'value') id = v
      }
      ids.push(memberId(id))
    }
    return [...new Set(ids)]
  }
}

function memberId(v: unknown): string {
  if (typeof v !== 'string' || v === '') throw invalidValue(`A member "value" must be a non-empty string, not ${JSON.stringify(v)}`)
  return v
}

/**
 * Ids from `value eq "a"` or `value eq "a" or value eq "b" …`; undefined for any other filter (which then
 * needs the member list in memory).
 */
function idsOfValueFilter(filter: FilterNode): string[] | undefined {
  const values: unknown[] = []
  const visit = (node: FilterNode): boolean => {
    if (node.kind === 'or') return visit(node.left) && visit(node.right)
    if (node.kind !== 'compare' || node.op !== 'eq') return false
    if (node.path.schema !== undefined || node.path.subAttribute !== undefined || node.path.attribute.toLowerCase() !== 'value') return false
    values.push(node.value)
    return true
  }
  if (!visit(filter)) return undefined
  return [...new Set(values.map(memberId))]
}

/** Empty add and remove steps change nothing and are left out; a replace with [] empties the group. */
function nonEmpty(step: MemberStep): MemberStep[] {
  return step.ids.length === 0 ? [] : [step]
}
