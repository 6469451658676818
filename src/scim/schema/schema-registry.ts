import { invalidPath } from '../errors.js'
import type { AttributePath } from '../path/attribute-path.js'
import type { AttributeDefinition, ResolvedAttribute, ResourceTypeDefinition, SchemaDefinition } from './attribute.js'
import {
  COMMON_ATTRIBUTES,
  ENTERPRISE_USER_SCHEMA_DEFINITION,
  GROUP_RESOURCE_TYPE,
  GROUP_SCHEMA_DEFINITION,
  USER_RESOURCE_TYPE,
  USER_SCHEMA_DEFINITION,
} from './core-schemas.js'

/** A schema as one resource type uses it: its core schema or one of its extensions. */
export interface BoundSchema {
  readonly definition: SchemaDefinition
  readonly isExtension: boolean
  readonly required: boolean
}

/** Extension schemas to attach to resource types (from the extensions file, see parseExtensionSchemas). */
export interface ExtensionAttachment {
  readonly schema: SchemaDefinition
  readonly resourceTypes: readonly string[]
  readonly required: boolean
}

const byName = (list: readonly AttributeDefinition[] | undefined, name: string) => {
  const lower = name.toLowerCase()
  return list?.find((a) => a.name.toLowerCase() === lower)
}

/**
 * Schemas and resource types, looked up case-insensitively (RFC 7643 §2.1: attribute names and schema URIs
 * are case-insensitive) and answered with canonical names. Immutable once built.
 */
export class SchemaRegistry {
  private readonly schemas = new Map<string, SchemaDefinition>()
  private readonly types = new Map<string, ResourceTypeDefinition>()
  private readonly bound = new Map<string, readonly BoundSchema[]>()
  private readonly resolved = new Map<string, ResolvedAttribute>()

  constructor(schemas: readonly SchemaDefinition[], resourceTypes: readonly ResourceTypeDefinition[]) {
    for (const s of schemas) this.schemas.set(s.id.toLowerCase(), s)
    for (const t of resourceTypes) {
      const core = this.schemas.get(t.schema.toLowerCase())
      if (!core) throw new Error(`resource type ${t.name} names unknown schema ${t.schema}`)
      const list: BoundSchema[] = [{ definition: core, isExtension: false, required: true }]
      for (const ext of t.schemaExtensions) {
        const def = this.schemas.get(ext.schema.toLowerCase())
        if (!def) throw new Error(`resource type ${t.name} names unknown extension ${ext.schema}`)
        list.push({ definition: def, isExtension: true, required: ext.required })
      }
      this.types.set(t.name.toLowerCase(), t)
      this.bound.set(t.name.toLowerCase(), list)
    }
  }

  /** User, Group and Enterprise User (RFC 7643 §4), plus any extension schemas given. */
  static withCoreSchemas(extensions: readonly ExtensionAttachment[] = []): SchemaRegistry {
    const schemas: SchemaDefinition[] = [USER_SCHEMA_DEFINITION, GROUP_SCHEMA_DEFINITION, ENTERPRISE_USER_SCHEMA_DEFINITION]
    const types = [USER_RESOURCE_TYPE, GROUP_RESOURCE_TYPE].map((t) => ({ ...t, schemaExtensions: [...t.schemaExtensions] }))
    for (const ext of extensions) {
      if (schemas.some((s) => s.id.toLowerCase() === ext.schema.id.toLowerCase())) {
        throw new Error(`extension schema ${ext.schema.id} is already defined`)
      }
      schemas.push(ext.schema)
      for (const name of ext.resourceTypes) {
        const t = types.find((x) => x.name.toLowerCase() === name.toLowerCase())
        if (!t) throw new Error(`extension schema ${ext.schema.id} names unknown resource type ${name}`)
        t.schemaExtensions.push({ schema: ext.schema.id, required: ext.required })
      }
    }
    return new SchemaRegistry(schemas, types)
  }

  listSchemas(): SchemaDefinition[] {
    return [...this.schemas.values()]
  }

  getSchema(id: string): SchemaDefinition | undefined {
    return this.schemas.get(id.toLowerCase())
  }

  listResourceTypes(): ResourceTypeDefinition[] {
    return [...this.types.values()]
  }

  getResourceType(name: string): ResourceTypeDefinition | undefined {
    return this.types.get(name.toLowerCase())
  }

  /** The core schema first, then the extensions, as the resource type declares them. */
  schemasOf(resourceType: string): readonly BoundSchema[] {
    const list = this.bound.get(resourceType.toLowerCase())
    if (!list) throw new Error(`unknown resource type ${resourceType}`)
    return list
  }

  /** The core schema or an extension of this resource type whose URN matches, in any case. */
  findSchema(resourceType: string, urn: string): BoundSchema | undefined {
    const lower = urn.toLowerCase()
    return this.schemasOf(resourceType).find((b) => b.definition.id.toLowerCase() === lower)
  }

  /**
   * Binds a path to its definitions. An unqualified name is looked up in the core schema and the common
   * attributes first, then in the extensions when exactly one defines it (a tolerance: RFC 7644 §3.10
   * asks for the URN prefix on extension attributes, but clients omit it for custom ones).
   * Throws ScimError 400 invalidPath when nothing matches.
   */
  resolve(resourceType: string, path: AttributePath): ResolvedAttribute {
    const key = `${resourceType}\u0000${path.schema ?? ''}\u0000${path.attribute}\u0000${path.subAttribute ?? ''}`.toLowerCase()
    const hit = this.resolved.get(key)
    if (hit) return hit
    const r = this.resolveUncached(resourceType, path)
    if (this.resolved.size < 10_000) this.resolved.set(key, r)
    return r
  }

  private resolveUncached(resourceType: string, path: AttributePath): ResolvedAttribute {
    const schemas = this.schemasOf(resourceType)
    const shown = `${path.schema ? `${path.schema}:` : ''}${path.attribute}${path.subAttribute ? `.${path.subAttribute}` : ''}`
    let found: { bound: BoundSchema; attribute: AttributeDefinition; isCommon: boolean } | undefined
    if (path.schema) {
      const bound = this.findSchema(resourceType, path.schema)
      if (!bound) {
        if (this.findSchema(resourceType, `${path.schema}:${path.attribute}`)) {
          throw invalidPath(`"${shown}" names a schema, not an attribute`)
        }
        throw invalidPath(`Unknown schema "${path.schema}" for resource type ${resourceType}`)
      }
      const a = byName(bound.definition.attributes, path.attribute)
      const common = bound.isExtension ? undefined : byName(COMMON_ATTRIBUTES, path.attribute)
      if (a) found = { bound, attribute: a, isCommon: false }
      else if (common) found = { bound, attribute: common, isCommon: true }
    } else {
      const core = schemas[0]!
      const common = byName(COMMON_ATTRIBUTES, path.attribute)
      const a = byName(core.definition.attributes, path.attribute)
      if (common) found = { bound: core, attribute: common, isCommon: true }
      else if (a) found = { bound: core, attribute: a, isCommon: false }
      else {
        const matches = schemas.slice(1).flatMap((b) => {
          const ext = byName(b.definition.attributes, path.attribute)
          return ext ? [{ bound: b, attribute: ext, isCommon: false }] : []
        })
        if (matches.length === 1) found = matches[0]
      }
    }
    if (!found) throw invalidPath(`Unknown attribute "${shown}" for resource type ${resourceType}`)
    let subAttribute: AttributeDefinition | undefined
    if (path.subAttribute !== undefined) {
      subAttribute = byName(found.attribute.subAttributes, path.subAttribute)
      if (!subAttribute) throw invalidPath(`Unknown sub-attribute "${shown}"`)
    }
    return {
      schema: found.bound.definition.id,
      isExtension: found.bound.isExtension,
      isCommon: found.isCommon,
      attribute: found.attribute,
      ...(subAttribute ? { subAttribute } : {}),
    }
  }
}

export { COMMON_ATTRIBUTES }

/** Looks up a sub-attribute definition case-insensitively. */
export function findSubAttribute(parent: AttributeDefinition, name: string): AttributeDefinition | undefined {
  return byName(parent.subAttributes, name)
}

/** Looks up an attribute definition in a list case-insensitively. */
export function findAttribute(list: readonly AttributeDefinition[], name: string): AttributeDefinition | undefined {
  return byName(list, name)
}

