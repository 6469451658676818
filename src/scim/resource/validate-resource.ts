import { invalidSyntax, invalidValue, mutability, type ScimError } from '../errors.js'
import { assertNever } from '../filter/filter-ast.js'
import { parseAttributePath, type AttributePath } from '../path/attribute-path.js'
import type { AttributeDefinition, ScimObject } from '../schema/attribute.js'
import { COMMON_ATTRIBUTES } from '../schema/core-schemas.js'
import { findAttribute, findSubAttribute, type BoundSchema, type SchemaRegistry } from '../schema/schema-registry.js'
import { GROUP_SCHEMA } from '../urns.js'

export interface ValidateOptions {
  readonly registry: SchemaRegistry
  readonly resourceType: string
  /** 'create' for POST; 'replace' for PUT and for the document a PATCH produced. */
  readonly context: 'create' | 'replace'
  /** The stored document (canonical form) on 'replace'; immutable attributes are checked against it. */
  readonly existing?: ScimObject
}

/** The scimTypes validation can raise, strongest first: the one error thrown carries the strongest present. */
const RANKED = ['mutability', 'invalidSyntax', 'invalidValue'] as const
type IssueType = (typeof RANKED)[number]
const RAISE: Readonly<Record<IssueType, (detail: string) => ScimError>> = { mutability, invalidSyntax, invalidValue }

interface Issue {
  readonly scimType: IssueType
  readonly message: string
}

/** Everything the body says about one attribute, gathered from all the keys that name it. */
interface Slot {
  /** Whole values: `"name": {…}`, or `"urn:…:User:name": {…}`; more than one is a duplicate. */
  readonly wholes: unknown[]
  /** Values of dotted keys: `"name.givenName": "Barbara"` → ['givenName', 'Barbara']. */
  readonly subs: Array<[string, unknown]>
}

/**
 * Validates a POST or PUT body (or the document a PATCH produced) against the resource type's schemas and
 * returns its canonical form:
 *
 * - keys matched case-insensitively (RFC 7643 §2.1) and written with their canonical names; core and common
 *   attributes at the top level in schema order, each extension's attributes in an object under its URN;
 * - `schemas` = the core URN, then every extension that has data or that the client listed;
 * - null, empty arrays and empty complex values dropped (RFC 7643 §2.5: they mean "unassigned");
 * - readOnly attributes and sub-attributes dropped (RFC 7643 §2.2: "SHALL be ignored"), and Group
 *   `members.$ref`, which the server computes; writeOnly values (password) kept for the caller to hash;
 * - values coerced to their type (RFC 7643 §2.3): "True"/"False" to booleans, numeric strings to numbers,
 *   dateTime to `Date#toISOString()`; a single value of a multi-valued attribute wrapped in an array.
 *
 * Nothing is carried over from `existing` except an immutable value the input omits.
 *
 * @example validateResource({ UserName: 'bjensen', active: 'True' }, { registry, resourceType: 'User', context: 'create' })
 *   // { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'bjensen', active: true }
 * @throws ScimError 400 invalidSyntax when the body is not an object. Otherwise every problem is collected
 *   and one ScimError 400 lists them all; its scimType is mutability (an immutable value changed,
 *   RFC 7644 §3.5.1) if any, else invalidSyntax (unknown attribute or schema, malformed `schemas`, duplicate
 *   key), else invalidValue (wrong type, missing required value, more than one primary).
 */
export function validateResource(input: unknown, options: ValidateOptions): ScimObject {
  if (!isObject(input)) throw invalidSyntax('The request body must be a JSON object holding a resource (RFC 7644 §3.3)')
  const validator = new ResourceValidator(options)
  const resource = validator.validate(input)
  const { issues } = validator
  if (issues.length === 0) return resource
  const strongest = RANKED.find((t) => issues.some((i) => i.scimType === t)) ?? 'invalidValue'
  const detail =
    issues.length === 1
      ? issues[0]!.message
      : `${issues.length} problems: ${issues.map((issue, n) => `(${n + 1}) ${issue.message}`).join('; ')}`
  throw RAISE[strongest](detail)
}

class ResourceValidator {
  readonly issues: Issue[] = []
  private readonly registry: SchemaRegistry
  private readonly resourceType: string
  private readonly bound: readonly BoundSchema[]
  private readonly existing: ScimObject | undefined
  private readonly slots = new Map<AttributeDefinition, Slot>()
  private readonly listed = new Set<BoundSchema>()
  /** Group `members` gets stricter rules than its schema states (see validateMember). */
  private readonly membersDefinition: AttributeDefinition | undefined

  constructor(options: ValidateOptions) {
    this.registry = options.registry
    this.resourceType = options.resourceType
    this.bound = options.registry.schemasOf(options.resourceType)
    this.existing = options.context === 'replace' ? options.existing : undefined
    const core = this.core.definition
    this.membersDefinition = core.id === GROUP_SCHEMA ? findAttribute(core.attributes, 'members') : undefined
  }

  private get core(): BoundSchema {
    return this.bound[0]!
  }

  validate(input: Record<string, unknown>): ScimObject {
    let schemasSeen = false
    for (const [key, value] of Object.entries(input)) {
      if (key.toLowerCase() === 'schemas') {
        if (schemasSeen) this.fail('invalidSyntax', `"schemas" appears more than once (attribute names are case-insensitive, RFC 7643 §2.1)`)
        schemasSeen = true
        this.readSchemas(value)
        continue
      }
      const schema = this.registry.findSchema(this.resourceType, key)
      if (schema?.isExtension) this.collectExtension(schema, value)
      else if (schema) this.fail('invalidSyntax', `"${key}" names the core schema; core attributes belong at the top level of the resource (RFC 7643 §3)`)
      else this.collectKey(key, value, undefined)
    }

    const schemas: string[] = [this.core.definition.id]
    const resource: ScimObject = { schemas }
    for (const bound of this.bound) {
      const values = this.assembleSchema(bound)
      const hasData = Object.keys(values).length > 0
      if (!bound.isExtension) {
        Object.assign(resource, values)
        continue
      }
      if (hasData) resource[bound.definition.id] = values
      if (hasData || this.listed.has(bound)) schemas.push(bound.definition.id)
    }
    return resource
  }

  private fail(scimType: IssueType, message: string): void {
    this.issues.push({ scimType, message })
  }

  // ---- Reading the body's keys into slots -------------------------------------------------------------

  private readSchemas(value: unknown): void {
    if (value === null || value === undefined) return // RFC 7643 §2.5: unassigned; the server fills it in.
    if (!Array.isArray(value) || !value.every((s) => typeof s === 'string')) {
      this.fail('invalidSyntax', '"schemas" must be an array of schema URI strings (RFC 7643 §3)')
      return
    }
    for (const urn of value as string[]) {
      const schema = this.registry.findSchema(this.resourceType, urn)
      if (!schema && this.registry.getSchema(urn)) {
        this.fail('invalidSyntax', `"schemas" lists "${urn}", which is not a schema of resource type ${this.resourceType} (RFC 7643 §3)`)
      } else if (!schema) {
        // Tolerance: Entra ID's tutorial ("Develop and plan provisioning for a SCIM endpoint", Create Group)
        // lists "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group" in schemas with no
        // data under it. A URN we do not know is ignored on input; data under it is still an unknown
        // attribute. Output lists only our schemas (RFC 7643 §3).
        continue
      } else if (schema.isExtension) {
        this.listed.add(schema)
      }
    }
  }

  private collectExtension(schema: BoundSchema, value: unknown): void {
    if (value === null || value === undefined) return
    if (!isObject(value)) {
      this.fail('invalidSyntax', `"${schema.definition.id}" must be a JSON object holding the extension's attributes (RFC 7643 §3.3)`)
      return
    }
    for (const [key, v] of Object.entries(value)) this.collectKey(key, v, schema)
  }

  /**
   * Files one key under its attribute. At the top level (scope undefined) a key may be URN-qualified or
   * dotted: Microsoft Entra ID sends `"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"`
   * and `"name.givenName"` as top-level keys ("Known issues and resolutions with SCIM 2.0 protocol
   * compliance"); we expand them into place. Inside an extension object a key may be dotted, not qualified.
   * An unqualified name at the top level is looked up in the core schema and the common attributes only:
   * RFC 7643 §3.3 puts extension attributes under their URN.
   */
  private collectKey(key: string, value: unknown, scope: BoundSchema | undefined): void {
    const shown = scope ? `${scope.definition.id}:${key}` : key
    let path: AttributePath
    try {
      path = parseAttributePath(key)
    } catch {
      this.unknownAttribute(shown, value)
      return
    }
    let schema: BoundSchema | undefined = scope ?? this.core
    if (path.schema !== undefined) schema = scope ? undefined : this.registry.findSchema(this.resourceType, path.schema)
    if (!schema) {
      this.unknownAttribute(shown, value)
      return
    }
    const definition =
      (schema.isExtension ? undefined : findAttribute(COMMON_ATTRIBUTES, path.attribute)) ??
      findAttribute(schema.definition.attributes, path.attribute)
    if (!definition) {
      this.unknownAttribute(shown, value)
      return
    }
    let slot = this.slots.get(definition)
    if (!slot) {
      slot = { wholes: [], subs: [] }
      this.slots.set(definition, slot)
    }
    if (path.subAttribute === undefined) {
      slot.wholes.push(value)
      return
    }
    if (definition.mutability === 'readOnly') return // ignored whole, sub-attributes included
    if (!findSubAttribute(definition, path.subAttribute)) {
      this.fail('invalidSyntax', `Unknown sub-attribute "${shown}" (RFC 7643 §2.3.8)`)
      return
    }
    if (definition.multiValued) {
      this.fail('invalidSyntax', `"${shown}" addresses a sub-attribute of the multi-valued attribute "${definition.name}"; send "${definition.name}" as an array of values instead`)
      return
    }
    slot.subs.push([path.subAttribute, value])
  }

  private unknownAttribute(shown: string, value?: unknown): void {
    // Tolerance: null is "unassigned" (RFC 7643 §2.5), so an unknown attribute set to null asks for nothing.
    // Entra ID's tutorial (Example 2, "Provision a user") sends "department": null and "manager": null at
    // the top level; we accept those and still reject unknown attributes that carry a value.
    if (value === null) return
    this.fail('invalidSyntax', `Unknown attribute "${shown}" for resource type ${this.resourceType}`)
  }

  // ---- Building the canonical document --------------------------------------------------------------

  private assembleSchema(bound: BoundSchema): ScimObject {
    const definitions = bound.isExtension ? bound.definition.attributes : [...COMMON_ATTRIBUTES, ...bound.definition.attributes]
    const prefix = bound.isExtension ? `${bound.definition.id}:` : ''
    const existingValues = bound.isExtension ? asObject(this.existing?.[bound.definition.id]) : this.existing
    const values: ScimObject = {}
    const missing: string[] = []
    for (const definition of definitions) {
      const where = `${prefix}${definition.name}`
      const slot = this.slots.get(definition)
      let value = slot ? this.validateSlot(definition, slot, where) : undefined
      if (existingValues) value = this.keepImmutable(definition, value, existingValues[definition.name], where)
      if (value !== undefined) values[definition.name] = value
      if (isRequired(definition) && isMissing(value, wasGiven(slot))) missing.push(where)
    }
    const hasData = Object.keys(values).length > 0
    if (bound.isExtension && bound.required && !hasData) {
      this.fail('invalidValue', `The extension "${bound.definition.id}" is required for resource type ${this.resourceType} (RFC 7643 §6 "schemaExtensions")`)
    } else if (!bound.isExtension || hasData) {
      // An extension's required attributes bind only when the extension is present.
      for (const where of missing) this.fail('invalidValue', `"${where}" is required (RFC 7643 §2.2)`)
    }
    return values
  }

  private validateSlot(definition: AttributeDefinition, slot: Slot, where: string): unknown {
    if (definition.mutability === 'readOnly') return undefined // RFC 7643 §2.2: readOnly values SHALL be ignored.
    if (slot.wholes.length > 1) {
      this.fail('invalidSyntax', `"${where}" appears more than once (attribute names are case-insensitive, RFC 7643 §2.1)`)
      return undefined
    }
    const whole = slot.wholes[0]
    if (slot.subs.length === 0) return this.validateValue(definition, whole, where)
    // Dotted keys ("name.givenName") merge into the complex value given whole, if any.
    const pairs = whole === null || whole === undefined ? [] : this.complexPairs(definition, whole, where)
    if (!pairs) return undefined
    return this.validateComplex(definition, [...pairs, ...slot.subs], where)
  }

  private validateValue(definition: AttributeDefinition, raw: unknown, where: string): unknown {
    if (raw === null || raw === undefined) return undefined
    if (!definition.multiValued) {
      if (Array.isArray(raw)) {
        this.fail('invalidValue', `"${where}" is single-valued but was given an array (RFC 7643 §2.3)`)
        return undefined
      }
      return this.validateSingle(definition, raw, where)
    }
    // Tolerance: a lone value for a multi-valued attribute is read as a one-element array.
    const list = Array.isArray(raw) ? raw : [raw]
    const values: unknown[] = []
    list.forEach((element, i) => {
      const value = this.validateSingle(definition, element, Array.isArray(raw) ? `${where}[${i}]` : where)
      if (value !== undefined) values.push(value)
    })
    if (values.length === 0) return undefined
    const primaries = values.filter((v) => isObject(v) && v.primary === true).length
    if (primaries > 1) {
      this.fail('invalidValue', `"${where}" has ${primaries} values with "primary": true; at most one is allowed (RFC 7643 §2.4)`)
    }
    return values
  }

  private validateSingle(definition: AttributeDefinition, raw: unknown, where: string): unknown {
    if (raw === null || raw === undefined) return undefined
    if (definition.type !== 'complex') return this.coerceScalar(definition, raw, where)
    const pairs = this.complexPairs(definition, raw, where)
    return pairs ? this.validateComplex(definition, pairs, where) : undefined
  }

  private complexPairs(definition: AttributeDefinition, raw: unknown, where: string): Array<[string, unknown]> | undefined {
    if (isObject(raw)) return Object.entries(raw)
    // Tolerance: Microsoft Entra ID sends the enterprise manager as a bare id string; any complex attribute
    // with a "value" sub-attribute reads a string as { value }.
    if (typeof raw === 'string' && findSubAttribute(definition, 'value')) return [['value', raw]]
    this.fail('invalidValue', `"${where}" must be a complex value (a JSON object), got ${describe(definition, raw)} (RFC 7643 §2.3.8)`)
    return undefined
  }

  private validateComplex(definition: AttributeDefinition, pairs: ReadonlyArray<[string, unknown]>, where: string): ScimObject | undefined {
    const isMember = definition === this.membersDefinition
    const seen = new Set<AttributeDefinition>()
    const given = new Set<AttributeDefinition>()
    const values = new Map<AttributeDefinition, unknown>()
    for (const [key, raw] of pairs) {
      const sub = findSubAttribute(definition, key)
      if (!sub) {
        this.fail('invalidSyntax', `Unknown sub-attribute "${where}.${key}" (RFC 7643 §2.3.8)`)
        continue
      }
      if (seen.has(sub)) {
        this.fail('invalidSyntax', `"${where}.${sub.name}" appears more than once (attribute names are case-insensitive, RFC 7643 §2.1)`)
        continue
      }
      seen.add(sub)
      if (isAbsent(raw)) continue
      given.add(sub)
      if (sub.mutability === 'readOnly') continue // RFC 7643 §2.2
      if (isMember && sub.name === '$ref') continue // computed by the server from value and type
      const value = this.validateValue(sub, raw, `${where}.${sub.name}`)
      if (value !== undefined) values.set(sub, value)
    }
    if (given.size === 0) return undefined // {} or all nulls: unassigned (RFC 7643 §2.5)
    for (const sub of definition.subAttributes ?? []) {
      if (isRequired(sub) && isMissing(values.get(sub), given.has(sub))) {
        this.fail('invalidValue', `"${where}.${sub.name}" is required (RFC 7643 §2.2)`)
      }
    }
    const result: ScimObject = {}
    for (const sub of definition.subAttributes ?? []) if (values.has(sub)) result[sub.name] = values.get(sub)
    if (isMember) this.validateMember(result, given, where)
    return Object.keys(result).length > 0 ? result : undefined
  }

  /**
   * RFC 7643 §4.2: a member is named by `value`, the member's id; `type` is "User" or "Group". Our schema
   * leaves `members.value` optional as RFC 7643 §8.7.1 does, but a member without one cannot be stored.
   */
  private validateMember(member: ScimObject, given: ReadonlySet<AttributeDefinition>, where: string): void {
    const valueGiven = [...given].some((d) => d.name === 'value')
    if (member.value === '' || (!valueGiven && member.value === undefined)) {
      this.fail('invalidValue', `"${where}.value" is required: a member is named by its id (RFC 7643 §4.2)`)
    }
    if (typeof member.type === 'string') {
      const lower = member.type.toLowerCase()
      const canonical = ['User', 'Group'].find((t) => t.toLowerCase() === lower)
      if (canonical) member.type = canonical
      else this.fail('invalidValue', `"${where}.type" must be "User" or "Group", got "${member.type}" (RFC 7643 §4.2)`)
    }
  }

  private coerceScalar(definition: AttributeDefinition, raw: unknown, where: string): unknown {
    const wrongType = (expected: string) => {
      this.fail('invalidValue', `"${where}" must be ${expected}, got ${describe(definition, raw)} (RFC 7643 §2.3)`)
      return undefined
    }
    const type = definition.type
    switch (type) {
      case 'string':
      case 'reference':
        if (typeof raw !== 'string') return wrongType('a string')
        // JSON can carry a lone surrogate ("\ud800"), which is no Unicode text: PostgreSQL's jsonb refuses it,
        // and SQLite would store what no other client can read back as text. Refused the same on both stores.
        if (!isWellFormedText(raw)) {
          this.fail('invalidValue', `"${where}" must be Unicode text; it holds a lone surrogate (an unpaired \\uD800–\\uDFFF escape)`)
          return undefined
        }
        return raw
      case 'boolean': {
        if (typeof raw === 'boolean') return raw
        // Tolerance: Microsoft Entra ID sends "True"/"False" ("Known issues and resolutions with SCIM 2.0
        // protocol compliance").
        const lower = typeof raw === 'string' ? raw.toLowerCase() : undefined
        if (lower === 'true' || lower === 'false') return lower === 'true'
        return wrongType('a boolean')
      }
      case 'integer': {
        const n = typeof raw === 'string' && INTEGER_TEXT.test(raw.trim()) ? Number(raw) : raw
        return typeof n === 'number' && Number.isSafeInteger(n) ? n : wrongType('an integer')
      }
      case 'decimal': {
        const n = typeof raw === 'string' && DECIMAL_TEXT.test(raw.trim()) ? Number(raw) : raw
        return typeof n === 'number' && Number.isFinite(n) ? n : wrongType('a decimal number')
      }
      case 'dateTime': {
        const iso = typeof raw === 'string' ? parseDateTime(raw) : undefined
        return iso ?? wrongType('an xsd:dateTime such as "2011-05-13T04:42:34Z"')
      }
      case 'binary':
        return typeof raw === 'string' && isBase64(raw) ? raw : wrongType('base64-encoded binary (RFC 4648 §4)')
      case 'complex':
        // Only reachable for a complex sub-attribute, which RFC 7643 §2.3.8 forbids.
        return wrongType('a simple value: complex attributes cannot nest (RFC 7643 §2.3.8)')
      default:
        return assertNever(type)
    }
  }

  // ---- Immutability on replace ----------------------------------------------------------------------

  /**
   * RFC 7644 §3.5.1: an immutable attribute that already has a value keeps it: the input must repeat it or
   * omit it. Applies to top-level attributes and to sub-attributes of single-valued complex attributes.
   * Sub-attributes of multi-valued ones (Group members.value) are not compared: elements have no identity
   * across a replace, and replacing the whole set (adding and removing members) is what PUT does.
   */
  private keepImmutable(definition: AttributeDefinition, value: unknown, stored: unknown, where: string): unknown {
    if (definition.mutability === 'immutable') {
      if (isAbsent(stored)) return value
      if (value === undefined) return stored
      if (!isSameValue(definition, value, stored)) this.immutableChanged(where)
      return stored
    }
    if (definition.type !== 'complex' || definition.multiValued || !isObject(stored)) return value
    let result = isObject(value) ? value : undefined
    for (const sub of definition.subAttributes ?? []) {
      if (sub.mutability !== 'immutable' || isAbsent(stored[sub.name])) continue
      const given = result?.[sub.name]
      if (given !== undefined && !isSameValue(sub, given, stored[sub.name])) this.immutableChanged(`${where}.${sub.name}`)
      result = { ...result, [sub.name]: stored[sub.name] }
    }
    return result
  }

  private immutableChanged(where: string): void {
    this.fail('mutability', `"${where}" is immutable and already has a value; a replace must repeat that value or omit it (RFC 7644 §3.5.1)`)
  }
}

// ---- Helpers ------------------------------------------------------------------------------------------

const INTEGER_TEXT = /^[+-]?\d+$/
const DECIMAL_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
// xsd:dateTime (XML Schema Part 2 §3.2.7), four-digit years.
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function asObject(v: unknown): Record<string, unknown> | undefined {
  return isObject(v) ? v : undefined
}

function isAbsent(v: unknown): boolean {
  return v === null || v === undefined || (Array.isArray(v) && v.length === 0)
}

function isRequired(definition: AttributeDefinition): boolean {
  // A readOnly attribute is the server's to set; the client cannot be asked for it.
  return definition.required && definition.mutability !== 'readOnly'
}

/**
 * A required attribute needs a value, and an empty string is not one. A value that was given but came out
 * undefined was invalid and is reported as such, not a second time as missing.
 */
function isMissing(value: unknown, given: boolean): boolean {
  return value === '' || (value === undefined && !given)
}

function wasGiven(slot: Slot | undefined): boolean {
  if (!slot) return false
  return slot.wholes.some((v) => !isAbsent(v)) || slot.subs.some(([, v]) => !isAbsent(v))
}

function describe(definition: AttributeDefinition, raw: unknown): string {
  const kind = raw === null ? 'null' : Array.isArray(raw) ? 'an array' : typeof raw === 'object' ? 'an object' : `a ${typeof raw}`
  // writeOnly values (password) are secrets: never echo them into an error detail.
  if (definition.mutability === 'writeOnly' || (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean')) return kind
  const text = JSON.stringify(raw)
  return `${kind} ${text.length > 60 ? `${text.slice(0, 57)}...` : text}`
}

/** Returns the instant as `Date#toISOString()`, or undefined when `text` is not an xsd:dateTime. */
function parseDateTime(text: string): string | undefined {
  const m = DATE_TIME.exec(text.trim())
  if (!m) return undefined
  const [, year, month, day, hour, minute, second, , zone] = m
  const y = Number(year)
  const mo = Number(month)
  const d = Number(day)
  const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate()
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth) return undefined
  if (Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59) return undefined
  // xsd:dateTime without a zone is "local" to nobody in particular; we read it as UTC rather than let the
  // server's own time zone decide.
  const date = new Date(zone === undefined ? `${text.trim()}Z` : text.trim())
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString()
}

function isBase64(text: string): boolean {
  return BASE64.test(text)
}

/** Equality as SCIM sees it: strings by the attribute's caseExact, dateTimes by instant, arrays as multisets. */
function isSameValue(definition: AttributeDefinition, a: unknown, b: unknown): boolean {
  if (isAbsent(a) || isAbsent(b)) return isAbsent(a) && isAbsent(b)
  if (definition.multiValued) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false
    const unmatched = [...b]
    return a.every((x) => {
      const i = unmatched.findIndex((y) => isSameSingle(definition, x, y))
      if (i === -1) return false
      unmatched.splice(i, 1)
      return true
    })
  }
  return isSameSingle(definition, a, b)
}

function isSameSingle(definition: AttributeDefinition, a: unknown, b: unknown): boolean {
  switch (definition.type) {
    case 'complex':
      return (
        isObject(a) &&
        isObject(b) &&
        (definition.subAttributes ?? []).every(
          (sub) => sub.mutability === 'readOnly' || isSameValue(sub, a[sub.name], b[sub.name]),
        )
      )
    case 'string':
    case 'reference':
      if (typeof a === 'string' && typeof b === 'string' && !definition.caseExact) return a.toLowerCase() === b.toLowerCase()
      return a === b
    case 'dateTime':
      return typeof a === 'string' && typeof b === 'string' && Date.parse(a) === Date.parse(b)
    default:
      return a === b
  }
}

/** Whether a string is well-formed UTF-16 (no lone surrogate): String.prototype.isWellFormed, Node >= 20. */
const isWellFormedText = (text: string): boolean => (text as string & { isWellFormed(): boolean }).isWellFormed()
