/** RFC 7643 §2.2 / §7: the characteristics every attribute definition carries. */
export type AttributeType = 'string' | 'boolean' | 'decimal' | 'integer' | 'dateTime' | 'binary' | 'reference' | 'complex'
export type Mutability = 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly'
export type Returned = 'always' | 'never' | 'default' | 'request'
export type Uniqueness = 'none' | 'server' | 'global'

export interface AttributeDefinition {
  readonly name: string
  readonly type: AttributeType
  readonly multiValued: boolean
  readonly description?: string
  readonly required: boolean
  readonly caseExact: boolean
  readonly mutability: Mutability
  readonly returned: Returned
  readonly uniqueness: Uniqueness
  readonly canonicalValues?: readonly string[]
  readonly referenceTypes?: readonly string[]
  readonly subAttributes?: readonly AttributeDefinition[]
}

export interface SchemaDefinition {
  readonly id: string
  readonly name: string
  readonly description?: string
  readonly attributes: readonly AttributeDefinition[]
}

export interface SchemaExtensionRef {
  readonly schema: string
  readonly required: boolean
}

/** RFC 7643 §6. */
export interface ResourceTypeDefinition {
  readonly id: string
  readonly name: string
  readonly endpoint: string
  readonly description?: string
  readonly schema: string
  readonly schemaExtensions: readonly SchemaExtensionRef[]
}

/** An attribute path bound to its definitions by the SchemaRegistry. */
export interface ResolvedAttribute {
  /** Canonical URN of the schema that defines the top-level attribute. */
  readonly schema: string
  /** True when the attribute lives under its extension URN key in the resource. */
  readonly isExtension: boolean
  /** True for id, externalId and meta (RFC 7643 §3.1), which no schema lists. */
  readonly isCommon: boolean
  readonly attribute: AttributeDefinition
  readonly subAttribute?: AttributeDefinition
}

/** The definition a value at this path must satisfy: the sub-attribute's if there is one. */
export const targetOf = (r: ResolvedAttribute): AttributeDefinition => r.subAttribute ?? r.attribute

/**
 * RFC 7643 §2.2 defaults, so definitions state only what differs:
 * string, single-valued, optional, caseExact false, readWrite, returned default, uniqueness none.
 */
export function defineAttribute(name: string, overrides: Partial<Omit<AttributeDefinition, 'name'>> = {}): AttributeDefinition {
  return {
    name,
    type: overrides.subAttributes ? 'complex' : 'string',
    multiValued: false,
    required: false,
    caseExact: false,
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
    ...overrides,
  }
}

/** A JSON object in SCIM's canonical form: core attributes at the top level under their canonical names,
 * extension attributes in an object under their schema's canonical URN. */
export type ScimObject = Record<string, unknown>
