import { isScimError } from '../errors.js'
import { parseAttributePath } from '../path/attribute-path.js'
import type { AttributeDefinition, ScimObject } from '../schema/attribute.js'
import { COMMON_ATTRIBUTES } from '../schema/core-schemas.js'
import { findAttribute, findSubAttribute, type SchemaRegistry } from '../schema/schema-registry.js'

/** The `attributes` and `excludedAttributes` parameters of RFC 7644 §3.9. */
export interface Projection {
  readonly attributes?: readonly string[]
  readonly excludedAttributes?: readonly string[]
}

export type ProjectionOptions = Projection & { readonly registry: SchemaRegistry; readonly resourceType: string }

/** Attributes a parameter named: wholly (`name`, or an extension URN), or by sub-attribute (`name.givenName`). */
interface Selection {
  readonly whole: ReadonlySet<AttributeDefinition>
  readonly subs: ReadonlyMap<AttributeDefinition, ReadonlySet<AttributeDefinition>>
}

interface Plan {
  readonly attributesGiven: boolean
  readonly named: Selection
  readonly excluded: Selection
}

/**
 * Returns the part of a canonical resource that a response carries, by RFC 7643 §2.2 `returned` and the
 * RFC 7644 §3.9 parameters:
 *
 * - never (password): never included; always (id): always included, whatever the parameters say;
 *   `schemas` is always included as stored;
 * - default: included unless excluded, or unless `attributes` is given and names neither it nor its parent;
 * - request: included only when `attributes` names it or its parent.
 *
 * Names are case-insensitive and may be `name.givenName`, URN-qualified
 * (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department`) or a whole extension URN. Unknown
 * names are ignored. Sub-attributes follow the same rules; a complex value left with no sub-attribute, an
 * extension left with no attribute and keys no schema defines are left out. With both parameters given,
 * `attributes` selects and `excludedAttributes` then removes.
 *
 * @example projectResource(user, { registry, resourceType: 'User', attributes: ['name.givenName'] })
 *   // { schemas: [...], id: '2819c223-…', name: { givenName: 'Barbara' } }
 */
export function projectResource(resource: ScimObject, options: ProjectionOptions): ScimObject {
  const plan = planProjection(options)
  const core = options.registry.schemasOf(options.resourceType)[0]!.definition
  const out: ScimObject = {}
  for (const [key, value] of Object.entries(resource)) {
    if (key === 'schemas') {
      out.schemas = value
      continue
    }
    const extension = options.registry.findSchema(options.resourceType, key)
    if (extension?.isExtension) {
      if (!isObject(value)) continue
      const projected: ScimObject = {}
      for (const [name, v] of Object.entries(value)) {
        const definition = findAttribute(extension.definition.attributes, name)
        const p = definition ? projectAttribute(plan, definition, v) : undefined
        if (p !== undefined) projected[definition!.name] = p
      }
      if (Object.keys(projected).length > 0) out[extension.definition.id] = projected
      continue
    }
    const definition = findAttribute(COMMON_ATTRIBUTES, key) ?? findAttribute(core.attributes, key)
    const p = definition ? projectAttribute(plan, definition, value) : undefined
    if (p !== undefined) out[definition!.name] = p
  }
  return out
}

/**
 * Whether any part of an attribute (`members`, `groups`, `name.givenName`, a URN-qualified name) appears in
 * responses under this projection, whatever the resource holds. The service uses it to skip work, e.g.
 * loading a group's members for `excludedAttributes=members` or `attributes=displayName`.
 * Returns false for names no schema of the resource type defines.
 */
export function isAttributeReturned(attributeName: string, options: ProjectionOptions): boolean {
  const path = resolvePath(options, attributeName)
  if (!path) return false
  const plan = planProjection(options)
  const { attribute, subAttribute } = path
  if (subAttribute) return isReturned(plan, attribute, subAttribute)
  if (!attribute.subAttributes) return isReturned(plan, attribute)
  return attribute.returned !== 'never' && attribute.subAttributes.some((sub) => isReturned(plan, attribute, sub))
}

function projectAttribute(plan: Plan, definition: AttributeDefinition, value: unknown): unknown {
  if (value === null || value === undefined) return undefined
  const subs = definition.subAttributes
  if (!subs) return isReturned(plan, definition) ? value : undefined
  if (definition.returned === 'never') return undefined
  const projectOne = (element: unknown): ScimObject | undefined => {
    if (!isObject(element)) return undefined
    const out: ScimObject = {}
    for (const [key, v] of Object.entries(element)) {
      const sub = findSubAttribute(definition, key)
      if (sub && v !== undefined && isReturned(plan, definition, sub)) out[sub.name] = v
    }
    return Object.keys(out).length > 0 ? out : undefined
  }
  if (!definition.multiValued) return projectOne(value)
  if (!Array.isArray(value)) return undefined
  const list = value.map(projectOne).filter((e) => e !== undefined)
  return list.length > 0 ? list : undefined
}

/** The decision for one top-level attribute, or for one sub-attribute of a complex attribute. */
function isReturned(plan: Plan, attribute: AttributeDefinition, sub?: AttributeDefinition): boolean {
  const { named, excluded, attributesGiven } = plan
  if (attribute.returned === 'never') return false
  // RFC 7644 §3.9: "always" attributes are returned even when excluded; excluding one has no effect.
  const wholeExcluded = excluded.whole.has(attribute) && attribute.returned !== 'always'
  const attributeNamed = named.whole.has(attribute) || named.subs.has(attribute)
  if (!sub) {
    if (attribute.returned === 'always') return true
    if (wholeExcluded) return false
    if (attribute.returned === 'request') return attributeNamed
    return !attributesGiven || attributeNamed
  }
  if (sub.returned === 'never') return false
  if (attribute.returned === 'request' && !attributeNamed) return false
  if (sub.returned === 'always') return true
  if (wholeExcluded || excluded.subs.get(attribute)?.has(sub)) return false
  const subNamed = named.whole.has(attribute) || (named.subs.get(attribute)?.has(sub) ?? false)
  if (sub.returned === 'request') return subNamed
  if (!attributesGiven) return true
  // An "always" attribute comes with its default sub-attributes unless the client picked some of them.
  if (attribute.returned === 'always' && !named.subs.has(attribute)) return true
  return subNamed
}

function planProjection(options: ProjectionOptions): Plan {
  return {
    attributesGiven: options.attributes !== undefined && options.attributes.some((a) => a.trim() !== ''),
    named: select(options, options.attributes),
    excluded: select(options, options.excludedAttributes),
  }
}

function select(options: ProjectionOptions, names: readonly string[] | undefined): Selection {
  const whole = new Set<AttributeDefinition>()
  const subs = new Map<AttributeDefinition, Set<AttributeDefinition>>()
  for (const name of names ?? []) {
    const schema = options.registry.findSchema(options.resourceType, name.trim())
    if (schema) {
      // A schema URN alone stands for all of that schema's attributes (RFC 7644 §3.10).
      for (const a of schema.definition.attributes) whole.add(a)
      if (!schema.isExtension) for (const a of COMMON_ATTRIBUTES) whole.add(a)
      continue
    }
    const path = resolvePath(options, name)
    if (!path) continue
    if (!path.subAttribute) {
      whole.add(path.attribute)
      continue
    }
    let set = subs.get(path.attribute)
    if (!set) {
      set = new Set()
      subs.set(path.attribute, set)
    }
    set.add(path.subAttribute)
  }
  return { whole, subs }
}

/** Binds a name to its definitions, or undefined for a name the resource type does not define (ignored). */
function resolvePath(options: ProjectionOptions, name: string): { attribute: AttributeDefinition; subAttribute?: AttributeDefinition } | undefined {
  try {
    const r = options.registry.resolve(options.resourceType, parseAttributePath(name))
    return r.subAttribute ? { attribute: r.attribute, subAttribute: r.subAttribute } : { attribute: r.attribute }
  } catch (e) {
    if (isScimError(e)) return undefined
    throw e
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
