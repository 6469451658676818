import type { AttributeDefinition } from '../schema/attribute.js'
import type { SchemaRegistry } from '../schema/schema-registry.js'

/**
 * A stored resource document (JSON text whose first key is `schemas`, as validateResource builds it), cut
 * after its `schemas` array, so that a response can be written around the stored text instead of parsing
 * it, projecting it and serialising it again: on a GET /Users/{id} those three were a fifth of the work
 * (bench profile).
 */
export interface StoredJsonParts {
  /** The schema URIs the document lists. */
  readonly schemas: readonly string[]
  /** `{"schemas":[…]`: the document up to the end of its schemas array. */
  readonly head: string
  /** The rest of the document without its closing brace: empty, or `,"userName":…` and so on. */
  readonly tail: string
}

const PREFIX = '{"schemas":['

/** The parts of a stored document, or undefined when it does not start with a `schemas` array of strings. */
export function splitStoredJson(json: string): StoredJsonParts | undefined {
  if (!json.startsWith(PREFIX) || !json.endsWith('}')) return undefined
  let i = PREFIX.length
  if (json[i] !== ']') {
    for (;;) {
      if (json[i] !== '"') return undefined
      for (i++; i < json.length && json[i] !== '"'; i++) if (json[i] === '\\') i++
      i++
      if (json[i] === ',') {
        i++
        continue
      }
      if (json[i] === ']') break
      return undefined
    }
  }
  const end = i + 1
  const rest = json.slice(end, -1)
  if (rest !== '' && rest[0] !== ',') return undefined
  return { schemas: JSON.parse(json.slice(PREFIX.length - 1, end)) as string[], head: json.slice(0, end), tail: rest }
}

/**
 * `{"schemas":[…],"id":…,<the stored attributes><extra>}`: the order the object rendering gives (schemas,
 * id, the attributes, then what `extra` adds: `,"groups":[…],"meta":{…}`).
 */
export function renderStoredJson(parts: StoredJsonParts, id: string, extra: string): string {
  return `${parts.head},"id":${JSON.stringify(id)}${parts.tail}${extra}}`
}

const plainTypes = new WeakMap<SchemaRegistry, Map<string, boolean>>()

/**
 * Whether a stored document of this resource type is exactly what a response without `attributes` or
 * `excludedAttributes` carries of it: true when every attribute and sub-attribute its schemas define is
 * returned by default or always (RFC 7643 §2.2), leaving out those named in `notStored` (kept outside the
 * document: the password, as a hash). Then projectResource would give the document back unchanged, and it
 * may be answered as stored (splitStoredJson). A `returned: "request"` or `"never"` attribute in an
 * extension schema makes it false. Remembered per registry, which is immutable.
 */
export function answersStoredDocument(registry: SchemaRegistry, resourceType: string, notStored: ReadonlySet<string>): boolean {
  let byType = plainTypes.get(registry)
  if (!byType) {
    byType = new Map()
    plainTypes.set(registry, byType)
  }
  const key = `${resourceType}\u0000${[...notStored].sort().join(',')}`
  let plain = byType.get(key)
  if (plain === undefined) {
    const returnedWhole = (a: AttributeDefinition): boolean =>
      (a.returned === 'default' || a.returned === 'always') && (a.subAttributes ?? []).every(returnedWhole)
    plain = registry
      .schemasOf(resourceType)
      .every((bound) => bound.definition.attributes.every((a) => (!bound.isExtension && notStored.has(a.name)) || returnedWhole(a)))
    byType.set(key, plain)
  }
  return plain
}

/** The schema URIs a stored document may list and still be answered as stored: those of the type's schemas. */
export function listsOnlySchemasOf(registry: SchemaRegistry, resourceType: string, schemas: readonly string[]): boolean {
  const bound = registry.schemasOf(resourceType)
  return schemas.every((urn) => bound.some((b) => b.definition.id === urn))
}
