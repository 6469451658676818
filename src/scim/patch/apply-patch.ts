import { isDeepStrictEqual } from 'node:util'
import { invalidPath, invalidValue, isScimError, mutability, noTarget } from '../errors.js'
import type { ResolvedFilterNode } from '../filter/filter-ast.js'
import { matchElement } from '../filter/match-filter.js'
import { resolveFilter } from '../filter/resolve-filter.js'
import { formatAttributePath, parseAttributePath, type AttributePath } from '../path/attribute-path.js'
import type { AttributeDefinition, ResolvedAttribute, ScimObject } from '../schema/attribute.js'
import { findSubAttribute, type BoundSchema, type SchemaRegistry } from '../schema/schema-registry.js'
import type { PatchOperation, PatchPath } from './parse-patch.js'

export interface PatchResult {
  readonly resource: ScimObject
  /** False when the patched resource deep-equals the input (the caller can skip the write and keep the version). */
  readonly changed: boolean
}

export interface ApplyPatchOptions {
  readonly registry: SchemaRegistry
  readonly resourceType: string
}

/**
 * Applies PATCH operations (RFC 7644 §3.5.2) in order to a resource in canonical form and returns a new
 * resource; the input is never mutated. Any error aborts the whole request, so the caller simply discards
 * the result (RFC 7644 §3.5.2: "the operations are applied atomically").
 *
 * Output keys are canonical: names in paths and in value objects are matched case-insensitively with the
 * registry. Value types are NOT coerced (the caller's validateResource does that, and checks required and
 * immutable attributes), except that `primary` reads true and "true" (any case) alike.
 *
 * Throws ScimError 400:
 * - invalidPath: unknown attribute in a path; a filter on an attribute that is not multi-valued complex;
 * - invalidFilter: a bad filter inside `[…]`;
 * - invalidValue: unknown attribute inside a value object, or a value of the wrong shape;
 * - mutability: a path (or a dotted/URN-qualified key of a value object) naming a readOnly attribute;
 * - noTarget: add/replace through a value filter that matches nothing (RFC 7644 §3.5.2.1, §3.5.2.3),
 *   outside the Entra ID tolerance described at setFiltered.
 *
 * @example applyPatch(user, parsePatchRequest(body), { registry, resourceType: 'User' })
 */
export function applyPatch(resource: ScimObject, operations: readonly PatchOperation[], options: ApplyPatchOptions): PatchResult {
  const ctx: Ctx = {
    doc: structuredClone(resource),
    registry: options.registry,
    resourceType: options.resourceType,
    touchedExtensions: new Set(),
  }
  for (const operation of operations) applyOperation(ctx, operation)
  tidyExtensions(ctx)
  return { resource: ctx.doc, changed: !isDeepStrictEqual(resource, ctx.doc) }
}

interface Ctx {
  readonly doc: ScimObject
  readonly registry: SchemaRegistry
  readonly resourceType: string
  /** Extension URNs written to or removed, whose `schemas` entry and emptiness are settled at the end. */
  readonly touchedExtensions: Set<string>
}

/**
 * Where an operation lands: a whole extension schema, or an attribute with an optional sub-attribute and an
 * optional value filter. `attr` never carries the sub-attribute itself: `sub` does, whether it came from
 * `name.givenName` or from `emails[…].value`.
 */
type Target =
  | { readonly kind: 'schema'; readonly bound: BoundSchema }
  | {
      readonly kind: 'attribute'
      readonly attr: ResolvedAttribute
      readonly sub?: AttributeDefinition
      readonly filter?: ResolvedFilterNode
      /** How to name the target in error details. */
      readonly shown: string
    }

type AttributeTarget = Extract<Target, { kind: 'attribute' }>

const isObject = (v: unknown): v is ScimObject => typeof v === 'object' && v !== null && !Array.isArray(v)

function applyOperation(ctx: Ctx, operation: PatchOperation): void {
  const { op, path, value } = operation
  if (!path) {
    // parsePatchRequest already refuses these; an operation built by hand gets the same answers.
    if (op === 'remove') throw noTarget('"remove" requires a "path" (RFC 7644 §3.5.2.2)')
    if (!isObject(value)) throw invalidValue(`Without a "path", the value of "${op}" must be an object of attributes (RFC 7644 §3.5.2)`)
    applyAttributes(ctx, op, value, undefined)
    return
  }
  const target = resolvePathTarget(ctx, path)
  if (target.kind === 'schema') {
    const urn = target.bound.definition.id
    if (op === 'remove' || value === null) {
      removeExtension(ctx, urn)
      return
    }
    if (!isObject(value)) throw invalidValue(`The value for "${path.text}" must be an object of that extension's attributes`)
    applyAttributes(ctx, op, value, target.bound)
    return
  }
  if (op === 'remove') removeTarget(ctx, target, value)
  else setTarget(ctx, op, target, value)
}

// ---------------------------------------------------------------------------------------------------------
// Paths and keys

function resolvePathTarget(ctx: Ctx, path: PatchPath): Target {
  const a = path.attribute
  if (a.schema !== undefined && a.subAttribute === undefined && !path.filter && path.subAttribute === undefined) {
    const bound = ctx.registry.findSchema(ctx.resourceType, `${a.schema}:${a.attribute}`)
    if (bound) {
      if (!bound.isExtension) throw invalidPath(`"${path.text}" names the core schema; omit "path" to target the resource itself`)
      return { kind: 'schema', bound }
    }
  }
  const resolved = ctx.registry.resolve(ctx.resourceType, a)
  const { subAttribute, ...attr } = resolved
  let sub = subAttribute
  let filter: ResolvedFilterNode | undefined
  if (path.filter) {
    if (!attr.attribute.multiValued || attr.attribute.type !== 'complex') {
      throw invalidPath(`"${path.text}": a value filter needs a multi-valued complex attribute (RFC 7644 §3.5.2)`)
    }
    // Resolved as a whole valuePath so inner names bind to sub-attributes (`type` → emails.type).
    const node = resolveFilter({ kind: 'valuePath', path: a, filter: path.filter }, ctx.registry, ctx.resourceType)
    filter = node.kind === 'valuePath' ? node.filter : node
    if (path.subAttribute !== undefined) {
      sub = findSubAttribute(attr.attribute, path.subAttribute)
      if (!sub) throw invalidPath(`Unknown sub-attribute "${path.subAttribute}" in "${path.text}"`)
    }
  }
  // RFC 7643 §2.2 readOnly: "The attribute SHALL NOT be modified." A path names it explicitly, so say so.
  if (attr.attribute.mutability === 'readOnly' || sub?.mutability === 'readOnly') {
    throw mutability(`"${path.text}" is readOnly and cannot be modified (RFC 7643 §2.2)`)
  }
  return { kind: 'attribute', attr, ...(sub ? { sub } : {}), ...(filter ? { filter } : {}), shown: path.text }
}

/**
 * Applies each key of a value object as its own add/replace (RFC 7644 §3.5.2.1, §3.5.2.3, no path, or a path
 * naming an extension). Keys may be plain (`displayName`), dotted (`name.givenName`), URN-qualified
 * (`urn:…:enterprise:2.0:User:department`) or a schema URN with an object value: Entra ID sends all of these
 * (Microsoft Learn, "Known issues and resolutions with SCIM 2.0 protocol compliance of the Microsoft Entra
 * user provisioning service").
 *
 * readOnly attributes under plain keys (`id`, `meta`, `groups`) and `schemas` are ignored, as RFC 7644 §3.5.1
 * has PUT ignore them: Okta sends `id` in its group rename (Okta, "SCIM 2.0 protocol reference"). A dotted
 * or URN-qualified key is a path written by the client, so a readOnly one is refused like a readOnly `path`.
 */
function applyAttributes(ctx: Ctx, op: 'add' | 'replace', value: ScimObject, within: BoundSchema | undefined): void {
  for (const [key, v] of Object.entries(value)) {
    if (within === undefined) {
      if (key.toLowerCase() === 'schemas') continue
      const bound = /^urn:/i.test(key) ? ctx.registry.findSchema(ctx.resourceType, key) : undefined
      if (bound) {
        if (bound.isExtension && v === null) removeExtension(ctx, bound.definition.id)
        else if (!isObject(v)) throw invalidValue(`The value of "${key}" must be an object of that schema's attributes`)
        else applyAttributes(ctx, op, v, bound)
        continue
      }
    }
    const { resolved, isQualified } = bindKey(ctx, key, within)
    const { subAttribute, ...attr } = resolved
    if (attr.attribute.mutability === 'readOnly' || subAttribute?.mutability === 'readOnly') {
      if (isQualified) throw mutability(`"${key}" is readOnly and cannot be modified (RFC 7643 §2.2)`)
      continue
    }
    setTarget(ctx, op, { kind: 'attribute', attr, ...(subAttribute ? { sub: subAttribute } : {}), shown: key }, v)
  }
}

/** Binds a key of a value object; an unknown one is a bad value, not a bad path (RFC 7644 §3.12). */
function bindKey(ctx: Ctx, key: string, within: BoundSchema | undefined): { resolved: ResolvedAttribute; isQualified: boolean } {
  let path: AttributePath
  try {
    path = parseAttributePath(key)
  } catch {
    throw invalidValue(`"${key}" in the value is not an attribute name`)
  }
  const isQualified = path.subAttribute !== undefined || (within === undefined && path.schema !== undefined)
  if (within) {
    if (path.schema !== undefined) throw invalidValue(`"${key}" inside "${within.definition.id}" must not carry a schema URN`)
    path = { ...path, schema: within.definition.id }
  }
  try {
    return { resolved: ctx.registry.resolve(ctx.resourceType, path), isQualified }
  } catch (e) {
    if (isScimError(e) && e.scimType === 'invalidPath') throw invalidValue(`Unknown attribute "${formatAttributePath(path)}" in the value`)
    throw e
  }
}

// ---------------------------------------------------------------------------------------------------------
// add and replace

/**
 * RFC 7644 §3.5.2.1 (add) and §3.5.2.3 (replace) on one attribute. They differ only for multi-valued
 * attributes without a filter (add appends, replace substitutes) and for a value filter without a
 * sub-attribute (add merges into the matches, replace substitutes them).
 * null is "unassigned" (RFC 7643 §2.5): on a single value it clears it, in an add to a multi-valued
 * attribute it adds nothing.
 */
function setTarget(ctx: Ctx, op: 'add' | 'replace', target: AttributeTarget, value: unknown): void {
  const def = target.attr.attribute
  if (target.filter) return setFiltered(ctx, op, target, target.filter, value)
  if (target.sub) {
    if (def.multiValued) return setOnEveryElement(ctx, target, target.sub, value)
    return setSubAttribute(ctx, target, target.sub, value)
  }
  if (def.multiValued) return setMultiValued(ctx, op, target, value)
  if (def.type === 'complex') return setComplex(ctx, target, value)
  const container = containerOf(ctx, target.attr, value !== null)
  if (!container) return
  if (value === null) delete container[def.name]
  else container[def.name] = value
}

/** `name.givenName`: one sub-attribute of a single-valued complex attribute. */
function setSubAttribute(ctx: Ctx, target: AttributeTarget, sub: AttributeDefinition, value: unknown): void {
  const def = target.attr.attribute
  const container = containerOf(ctx, target.attr, value !== null)
  if (!container) return
  const current = container[def.name]
  const complex = isObject(current) ? current : {}
  if (value === null) delete complex[sub.name]
  else complex[sub.name] = value
  container[def.name] = complex
  pruneEmpty(container, def.name)
}

/**
 * A single-valued complex attribute: the given sub-attributes replace theirs, the others stay (RFC 7644
 * §3.5.2.1 and §3.5.2.3 alike).
 * Entra ID sends the manager as a bare id (`"value": "managerId"` for `urn:…:enterprise:2.0:User:manager`,
 * Microsoft, "Develop and plan provisioning for a SCIM endpoint"): a non-object value for a complex attribute
 * with a `value` sub-attribute becomes `{ value }`, and replaces the whole complex value, since the old
 * `$ref` and `displayName` described the previous manager.
 */
function setComplex(ctx: Ctx, target: AttributeTarget, value: unknown): void {
  const def = target.attr.attribute
  const container = containerOf(ctx, target.attr, value !== null)
  if (!container) return
  if (value === null) {
    delete container[def.name]
    return
  }
  if (!isObject(value)) {
    const valueSub = findSubAttribute(def, 'value')
    if (!valueSub || Array.isArray(value)) throw invalidValue(`The value for "${target.shown}" must be an object of sub-attributes`)
    container[def.name] = { [valueSub.name]: value }
    return
  }
  const given = canonicalElement(def, value, target.shown, false)
  const current = container[def.name]
  const merged = isObject(current) ? current : {}
  for (const [k, v] of Object.entries(given)) {
    if (v === null) delete merged[k]
    else merged[k] = v
  }
  container[def.name] = merged
  pruneEmpty(container, def.name)
}

/** A multi-valued attribute without a filter: add appends what is not there yet, replace substitutes all. */
function setMultiValued(ctx: Ctx, op: 'add' | 'replace', target: AttributeTarget, value: unknown): void {
  const def = target.attr.attribute
  const given = value === null ? [] : Array.isArray(value) ? value : [value]
  const elements = given.flatMap((e) => toElement(def, e, target.shown))
  if (op === 'replace') {
    const container = containerOf(ctx, target.attr, elements.length > 0)
    if (!container) return
    const fresh: unknown[] = []
    for (const e of elements) if (!fresh.some((f) => isSameElement(def, f, e))) fresh.push(e)
    container[def.name] = fresh
    settlePrimary(def, fresh, fresh)
    pruneEmpty(container, def.name)
    return
  }
  if (elements.length === 0) return
  const container = containerOf(ctx, target.attr, true)!
  const current = asList(container[def.name])
  const added: unknown[] = []
  for (const e of elements) {
    if (current.some((c) => isSameElement(def, c, e))) continue
    current.push(e)
    added.push(e)
  }
  container[def.name] = current
  settlePrimary(def, current, added)
}

/**
 * `emails.value` without a filter: set on every element. With no element yet, one is created (add, and
 * replace on an absent target, which RFC 7644 §3.5.2.3 treats as an add).
 */
function setOnEveryElement(ctx: Ctx, target: AttributeTarget, sub: AttributeDefinition, value: unknown): void {
  const def = target.attr.attribute
  const container = containerOf(ctx, target.attr, value !== null)
  if (!container) return
  const current = asList(container[def.name])
  const elements = current.filter(isObject)
  if (elements.length === 0) {
    if (value === null) return
    const created: ScimObject = { [sub.name]: value }
    container[def.name] = [...current, created]
    return
  }
  for (const e of elements) {
    if (value === null) delete e[sub.name]
    else e[sub.name] = value
  }
  container[def.name] = dropEmptyElements(current)
  settlePrimary(def, current, elements)
  pruneEmpty(container, def.name)
}

/**
 * A value filter (`emails[type eq "work"]`, optionally `.value`), RFC 7644 §3.5.2.1 and §3.5.2.3:
 * - with a sub-attribute: set it on every matching element;
 * - replace without one: each match is replaced by the value (an object);
 * - add without one: the value's sub-attributes are merged into each match.
 * No match is noTarget (RFC 7644 §3.5.2.3), with one tolerance: when the filter is only `eq` comparisons
 * joined by `and` and a sub-attribute is named, a new element is built from those comparisons plus the
 * value. Entra ID sends `{"op":"Add"|"Replace","path":"emails[type eq \"work\"].value",…}` for a user who
 * has no work email yet (Microsoft, "Develop and plan provisioning for a SCIM endpoint").
 */
function setFiltered(ctx: Ctx, op: 'add' | 'replace', target: AttributeTarget, filter: ResolvedFilterNode, value: unknown): void {
  const def = target.attr.attribute
  const sub = target.sub
  const existing = containerOf(ctx, target.attr, false)
  const current = existing ? asList(existing[def.name]) : []
  const matches = current.filter((e): e is ScimObject => isObject(e) && matchElement(e, filter))
  if (matches.length === 0) {
    const seed = sub && value !== null ? elementFromEqualities(filter) : undefined
    if (!seed || !sub) {
      const section = op === 'add' ? '3.5.2.1' : '3.5.2.3'
      throw noTarget(`No value of "${def.name}" matches the filter of "${target.shown}" (RFC 7644 §${section})`)
    }
    const created: ScimObject = { ...seed, [sub.name]: value }
    const container = containerOf(ctx, target.attr, true)!
    const next = [...current, created]
    container[def.name] = next
    settlePrimary(def, next, [created])
    return
  }
  const container = existing!
  if (sub) {
    // RFC 7643 §2.2 immutable: set once, never changed. validateResource checks single-valued attributes;
    // an element of a multi-valued one is only addressable here (e.g. `members[value eq "x"].value`).
    if (sub.mutability === 'immutable' && matches.some((m) => m[sub.name] !== undefined && m[sub.name] !== value)) {
      throw mutability(`"${target.shown}" is immutable and cannot be changed once set (RFC 7643 §2.2)`)
    }
    for (const m of matches) {
      if (value === null) delete m[sub.name]
      else m[sub.name] = value
    }
    container[def.name] = dropEmptyElements(current)
    settlePrimary(def, current, matches)
    pruneEmpty(container, def.name)
    return
  }
  if (!isObject(value)) throw invalidValue(`The value for "${target.shown}" must be an object of sub-attributes`)
  if (op === 'add') {
    const given = canonicalElement(def, value, target.shown, false)
    for (const m of matches) {
      for (const [k, v] of Object.entries(given)) {
        if (v === null) delete m[k]
        else m[k] = v
      }
    }
    container[def.name] = dropEmptyElements(current)
    settlePrimary(def, current, matches)
    pruneEmpty(container, def.name)
    return
  }
  const replacement = canonicalElement(def, value, target.shown, true)
  const replaced = new Set<unknown>()
  const substituted = current.map((e) => {
    if (!matches.includes(e as ScimObject)) return e
    const copy = structuredClone(replacement)
    replaced.add(copy)
    return copy
  })
  // Two matches replaced by one value, or a replacement equal to a value kept elsewhere, leave one element.
  const next: unknown[] = []
  for (const e of substituted) {
    const isDuplicate =
      replaced.has(e) &&
      (next.some((n) => isSameElement(def, n, e)) || substituted.some((n) => !replaced.has(n) && isSameElement(def, n, e)))
    if (!isDuplicate) next.push(e)
  }
  container[def.name] = next
  settlePrimary(def, next, next.filter((e) => replaced.has(e)))
  pruneEmpty(container, def.name)
}

/**
 * The element a filter of `eq` comparisons joined by `and` describes (`type eq "work" and primary eq true` →
 * `{ type: 'work', primary: true }`), or undefined for any other filter. Values are those resolveFilter
 * coerced to the sub-attribute's type.
 */
function elementFromEqualities(filter: ResolvedFilterNode): ScimObject | undefined {
  const out: ScimObject = {}
  const visit = (node: ResolvedFilterNode): boolean => {
    if (node.kind === 'and') return visit(node.left) && visit(node.right)
    if (node.kind !== 'compare' || node.op !== 'eq' || node.value === null) return false
    const sub = node.attr.subAttribute
    if (!sub || sub.mutability === 'readOnly') return false
    if (sub.name in out && !isDeepStrictEqual(out[sub.name], node.value)) return false
    out[sub.name] = node.value
    return true
  }
  return visit(filter) ? out : undefined
}

// ---------------------------------------------------------------------------------------------------------
// remove

/**
 * RFC 7644 §3.5.2.2. A target that has no value, or a filter that matches nothing, is not an error: the
 * resource already has the requested state, and identity providers retry removals.
 * A `value` array on a multi-valued attribute removes only the elements whose `value` matches one given:
 * Entra ID removes group members with `{"op":"Remove","path":"members","value":[{"$ref":null,"value":"…"}]}`
 * (Microsoft, "Develop and plan provisioning for a SCIM endpoint"). Elsewhere `value` is ignored.
 */
function removeTarget(ctx: Ctx, target: AttributeTarget, value: unknown): void {
  const def = target.attr.attribute
  const container = containerOf(ctx, target.attr, false)
  if (!container || container[def.name] === undefined) return
  const sub = target.sub
  if (target.filter) {
    const filter = target.filter
    const current = asList(container[def.name])
    const matches = current.filter((e): e is ScimObject => isObject(e) && matchElement(e, filter))
    if (matches.length === 0) return
    if (sub) for (const m of matches) delete m[sub.name]
    const kept = sub ? current : current.filter((e) => !matches.includes(e as ScimObject))
    container[def.name] = dropEmptyElements(kept)
    pruneEmpty(container, def.name)
    return
  }
  if (sub) {
    const current = container[def.name]
    if (def.multiValued) {
      for (const e of asList(current)) if (isObject(e)) delete e[sub.name]
      container[def.name] = dropEmptyElements(asList(current))
    } else if (isObject(current)) {
      delete current[sub.name]
    }
    pruneEmpty(container, def.name)
    return
  }
  if (def.multiValued && value !== undefined && value !== null) {
    const given = Array.isArray(value) ? value : [value]
    container[def.name] = asList(container[def.name]).filter((e) => !given.some((g) => isGivenForRemoval(def, e, g, target.shown)))
    pruneEmpty(container, def.name)
    return
  }
  delete container[def.name]
}

/** Whether `element` is one of the values a remove names: by `value` when the attribute has one, else equal. */
function isGivenForRemoval(def: AttributeDefinition, element: unknown, given: unknown, shown: string): boolean {
  if (def.type !== 'complex') return isDeepStrictEqual(element, given)
  if (!isObject(given)) throw invalidValue(`Each value to remove from "${shown}" must be an object`)
  const valueSub = findSubAttribute(def, 'value')
  if (!valueSub) return isDeepStrictEqual(element, canonicalElement(def, given, shown, true))
  const key = Object.keys(given).find((k) => k.toLowerCase() === 'value')
  const wanted = key === undefined ? undefined : given[key]
  if (wanted === undefined || wanted === null) throw invalidValue(`Each value to remove from "${shown}" must carry "value"`)
  return isObject(element) && isSameValue(def, valueSub, element[valueSub.name], wanted)
}

function removeExtension(ctx: Ctx, urn: string): void {
  delete ctx.doc[urn]
  ctx.touchedExtensions.add(urn)
}

// ---------------------------------------------------------------------------------------------------------
// Values

/**
 * The object an attribute of this target lives in: the resource for core and common attributes, the object
 * under the extension's URN for extension attributes (created when `create`).
 */
function containerOf(ctx: Ctx, attr: Omit<ResolvedAttribute, 'subAttribute'>, create: boolean): ScimObject | undefined {
  if (!attr.isExtension) return ctx.doc
  ctx.touchedExtensions.add(attr.schema)
  const existing = ctx.doc[attr.schema]
  if (isObject(existing)) return existing
  if (!create) return undefined
  const fresh: ScimObject = {}
  ctx.doc[attr.schema] = fresh
  return fresh
}

/**
 * One element of a multi-valued attribute from the request, or none (null, or an object left empty).
 * Complex elements must be objects: only the single-valued `manager` form has an Entra shorthand.
 */
function toElement(def: AttributeDefinition, raw: unknown, shown: string): unknown[] {
  if (raw === null || raw === undefined) return []
  if (def.type !== 'complex') return [raw]
  if (!isObject(raw)) throw invalidValue(`Each value of "${shown}" must be an object of sub-attributes`)
  const element = canonicalElement(def, raw, shown, true)
  return Object.keys(element).length === 0 ? [] : [element]
}

/**
 * A value object with canonical sub-attribute names. readOnly sub-attributes (members.display,
 * manager.displayName) are dropped as RFC 7644 §3.5.1 has PUT ignore them: Okta sends members with a
 * `display`. `dropNull`: in a new element null means absent (Entra's `"$ref": null`); in a merge it clears.
 * Throws invalidValue for an unknown sub-attribute.
 */
function canonicalElement(def: AttributeDefinition, raw: ScimObject, shown: string, dropNull: boolean): ScimObject {
  const out: ScimObject = {}
  for (const [k, v] of Object.entries(raw)) {
    const sub = findSubAttribute(def, k)
    if (!sub) throw invalidValue(`Unknown sub-attribute "${k}" in the value for "${shown}"`)
    if (sub.mutability === 'readOnly' || (dropNull && v === null)) continue
    out[sub.name] = v
  }
  return out
}

/**
 * Group members are one per member id (RFC 7643 §4.2), whatever else the element says; other elements are
 * duplicates only when equal in full.
 */
function isSameElement(def: AttributeDefinition, a: unknown, b: unknown): boolean {
  if (isMemberList(def) && isObject(a) && isObject(b) && typeof a.value === 'string' && typeof b.value === 'string') {
    return a.value === b.value
  }
  return isDeepStrictEqual(a, b)
}

const isMemberList = (def: AttributeDefinition) => def.name === 'members' && def.type === 'complex' && findSubAttribute(def, 'value') !== undefined

/**
 * Member values are resource ids, compared exactly like `id` (RFC 7643 §3.1 caseExact) and like the store
 * compares the ids of planMemberPatch's steps; other `value`s honour their caseExact.
 */
function isSameValue(def: AttributeDefinition, valueSub: AttributeDefinition, a: unknown, b: unknown): boolean {
  if (typeof a === 'string' && typeof b === 'string' && !valueSub.caseExact && !isMemberList(def)) {
    return a.toLowerCase() === b.toLowerCase()
  }
  return isDeepStrictEqual(a, b)
}

const isPrimary = (e: unknown, key: string) => {
  if (!isObject(e)) return false
  const p = e[key]
  return p === true || (typeof p === 'string' && p.toLowerCase() === 'true')
}

/**
 * RFC 7643 §2.4: "The primary attribute value 'true' MUST appear no more than once." When this operation
 * leaves a touched element primary, the others lose it (set to false); among touched elements the last wins.
 * "true" as a string counts (Entra ID sends booleans as strings); validateResource converts it later.
 */
function settlePrimary(def: AttributeDefinition, all: readonly unknown[], touched: readonly unknown[]): void {
  const key = findSubAttribute(def, 'primary')?.name
  if (key === undefined) return
  let winner: unknown
  for (const e of touched) if (isPrimary(e, key)) winner = e
  if (winner === undefined) return
  for (const e of all) if (e !== winner && isPrimary(e, key)) (e as ScimObject)[key] = false
}

const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v])

const dropEmptyElements = (list: unknown[]): unknown[] => list.filter((e) => !isObject(e) || Object.keys(e).length > 0)

/** RFC 7643 §2.5: an empty array is unassigned; an empty complex value says nothing either. */
function pruneEmpty(container: ScimObject, key: string): void {
  const v = container[key]
  if ((Array.isArray(v) && v.length === 0) || (isObject(v) && Object.keys(v).length === 0)) delete container[key]
}

/**
 * Extensions written or removed: an empty one is dropped, and when the resource carries `schemas`, the URN is
 * listed exactly when the extension has a value (RFC 7643 §3: `schemas` names the extensions in use).
 */
function tidyExtensions(ctx: Ctx): void {
  for (const urn of ctx.touchedExtensions) {
    pruneEmpty(ctx.doc, urn)
    const schemas = ctx.doc.schemas
    if (!Array.isArray(schemas)) continue
    const isPresent = isObject(ctx.doc[urn])
    const isListed = schemas.some((s) => typeof s === 'string' && s.toLowerCase() === urn.toLowerCase())
    if (isPresent && !isListed) ctx.doc.schemas = [...schemas, urn]
    if (!isPresent && isListed) ctx.doc.schemas = schemas.filter((s) => !(typeof s === 'string' && s.toLowerCase() === urn.toLowerCase()))
  }
}
