import { defineAttribute, type AttributeDefinition, type AttributeType, type Mutability, type Returned, type SchemaDefinition, type Uniqueness } from './attribute.js'
import type { ExtensionAttachment } from './schema-registry.js'

const TYPES: readonly AttributeType[] = ['string', 'boolean', 'decimal', 'integer', 'dateTime', 'binary', 'reference', 'complex']
const MUTABILITY: readonly Mutability[] = ['readOnly', 'readWrite', 'immutable', 'writeOnly']
const RETURNED: readonly Returned[] = ['always', 'never', 'default', 'request']
const UNIQUENESS: readonly Uniqueness[] = ['none', 'server', 'global']

const oneOf = <T extends string>(allowed: readonly T[], v: unknown, where: string, fallback: T): T => {
  if (v === undefined) return fallback
  const hit = allowed.find((a) => typeof v === 'string' && a.toLowerCase() === v.toLowerCase())
  if (!hit) throw new Error(`${where}: ${JSON.stringify(v)} is not one of ${allowed.join(', ')}`)
  return hit
}

function parseAttribute(raw: unknown, where: string, depth: number): AttributeDefinition {
  if (!raw || typeof raw !== 'object') throw new Error(`${where}: an attribute must be an object`)
  const a = raw as Record<string, unknown>
  if (typeof a.name !== 'string' || !/^[A-Za-z$][\w$-]*$/.test(a.name)) throw new Error(`${where}: invalid attribute name ${JSON.stringify(a.name)}`)
  const here = `${where}.${a.name}`
  const type = oneOf(TYPES, a.type, `${here}.type`, 'string')
  let subAttributes: AttributeDefinition[] | undefined
  if (type === 'complex') {
    if (depth > 0) throw new Error(`${here}: complex attributes cannot nest (RFC 7643 §2.3.8)`)
    if (!Array.isArray(a.subAttributes) || a.subAttributes.length === 0) throw new Error(`${here}: a complex attribute needs subAttributes`)
    subAttributes = a.subAttributes.map((s) => parseAttribute(s, here, depth + 1))
  }
  return defineAttribute(a.name, {
    type,
    multiValued: a.multiValued === true,
    required: a.required === true,
    caseExact: a.caseExact === true,
    mutability: oneOf(MUTABILITY, a.mutability, `${here}.mutability`, 'readWrite'),
    returned: oneOf(RETURNED, a.returned, `${here}.returned`, 'default'),
    uniqueness: oneOf(UNIQUENESS, a.uniqueness, `${here}.uniqueness`, 'none'),
    ...(typeof a.description === 'string' ? { description: a.description } : {}),
    ...(Array.isArray(a.canonicalValues) ? { canonicalValues: a.canonicalValues.map(String) } : {}),
    ...(Array.isArray(a.referenceTypes) ? { referenceTypes: a.referenceTypes.map(String) } : {}),
    ...(subAttributes ? { subAttributes } : {}),
  })
}

/**
 * Reads extension schemas written in the RFC 7643 §7 form: a JSON array of schema objects, or a
 * ListResponse of them as GET /Schemas returns. Each schema may add two Roster keys that §7 has no
 * place for: `resourceTypes` (default ["User"]) and `required` (default false), saying where it attaches.
 * Throws a plain Error naming the offending place: this runs at start-up, not per request.
 */
export function parseExtensionSchemas(json: unknown): ExtensionAttachment[] {
  const list = Array.isArray(json) ? json : (json as { Resources?: unknown } | null)?.Resources
  if (!Array.isArray(list)) throw new Error('extension schemas: expected an array of schemas or a ListResponse')
  return list.map((raw, i) => {
    if (!raw || typeof raw !== 'object') throw new Error(`extension schemas[${i}]: not an object`)
    const s = raw as Record<string, unknown>
    if (typeof s.id !== 'string' || !/^urn:[a-z0-9][a-z0-9-]{0,31}:\S+$/i.test(s.id)) {
      throw new Error(`extension schemas[${i}]: id must be a URN, got ${JSON.stringify(s.id)}`)
    }
    if (!Array.isArray(s.attributes)) throw new Error(`extension schemas[${i}] (${s.id}): attributes must be an array`)
    const schema: SchemaDefinition = {
      id: s.id,
      name: typeof s.name === 'string' ? s.name : s.id,
      ...(typeof s.description === 'string' ? { description: s.description } : {}),
      attributes: s.attributes.map((a) => parseAttribute(a, s.id as string, 0)),
    }
    const resourceTypes = Array.isArray(s.resourceTypes) ? s.resourceTypes.map(String) : ['User']
    return { schema, resourceTypes, required: s.required === true }
  })
}
