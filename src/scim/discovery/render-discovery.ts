import type { AttributeDefinition, ResourceTypeDefinition, SchemaDefinition, ScimObject } from '../schema/attribute.js'
import type { SchemaRegistry } from '../schema/schema-registry.js'
import { RESOURCE_TYPE_SCHEMA, SCHEMA_SCHEMA, SERVICE_PROVIDER_CONFIG_SCHEMA } from '../urns.js'

/** What the server supports; rendered as ServiceProviderConfig so discovery never disagrees with behaviour. */
export interface ServiceProviderFeatures {
  readonly patch: boolean
  readonly bulk: { readonly supported: boolean; readonly maxOperations: number; readonly maxPayloadSize: number }
  readonly filter: { readonly supported: boolean; readonly maxResults: number }
  readonly changePassword: boolean
  readonly sort: boolean
  readonly etag: boolean
  /** RFC 9865 §4: which pagination methods the list endpoints take, and their page sizes. */
  readonly pagination: PaginationFeatures
  readonly documentationUri?: string
  /** RFC 7643 §5 authenticationSchemes; when absent, one oauthbearertoken scheme for administrator-made tokens. */
  readonly authenticationSchemes?: readonly AuthenticationScheme[]
}

/** One RFC 7643 §5 authenticationSchemes entry. */
export interface AuthenticationScheme {
  /** RFC 7643 §5: "oauth", "oauth2", "oauthbearertoken", "httpbasic" or "httpdigest". */
  readonly type: string
  readonly name: string
  readonly description: string
  readonly specUri?: string
  readonly documentationUri?: string
  readonly primary?: boolean
}

const ADMINISTRATOR_TOKEN: AuthenticationScheme = {
  type: 'oauthbearertoken',
  name: 'OAuth Bearer Token',
  description: 'Authentication with a bearer token (RFC 6750) that an administrator generates',
  specUri: 'https://www.rfc-editor.org/info/rfc6750',
  primary: true,
}

/** The ServiceProviderConfig `pagination` object (RFC 9865 §4); optional members are left out when absent. */
export interface PaginationFeatures {
  readonly cursor: boolean
  readonly index: boolean
  /** Used when a request names neither `startIndex` nor `cursor`. */
  readonly defaultPaginationMethod?: 'cursor' | 'index'
  /** Page size when a request has no `count`. */
  readonly defaultPageSize?: number
  /** The largest page, whatever `count` asks for. */
  readonly maxPageSize?: number
  /** Seconds a cursor stays valid at least; absent when cursors do not expire. */
  readonly cursorTimeout?: number
}

/** RFC 7643 §5. */
export function renderServiceProviderConfig(features: ServiceProviderFeatures, baseUrl: string): ScimObject {
  return {
    schemas: [SERVICE_PROVIDER_CONFIG_SCHEMA],
    ...(features.documentationUri ? { documentationUri: features.documentationUri } : {}),
    patch: { supported: features.patch },
    bulk: { ...features.bulk },
    filter: { ...features.filter },
    changePassword: { supported: features.changePassword },
    sort: { supported: features.sort },
    etag: { supported: features.etag },
    pagination: { ...features.pagination },
    authenticationSchemes: (features.authenticationSchemes ?? [ADMINISTRATOR_TOKEN]).map((s) => ({ ...s })),
    meta: { resourceType: 'ServiceProviderConfig', location: `${baseUrl}/ServiceProviderConfig` },
  }
}

/** RFC 7643 §6. */
export function renderResourceType(t: ResourceTypeDefinition, baseUrl: string): ScimObject {
  return {
    schemas: [RESOURCE_TYPE_SCHEMA],
    id: t.id,
    name: t.name,
    endpoint: t.endpoint,
    ...(t.description ? { description: t.description } : {}),
    schema: t.schema,
    schemaExtensions: t.schemaExtensions.map((e) => ({ schema: e.schema, required: e.required })),
    meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/${t.id}` },
  }
}

function renderAttribute(a: AttributeDefinition): ScimObject {
  return {
    name: a.name,
    type: a.type,
    multiValued: a.multiValued,
    ...(a.description ? { description: a.description } : {}),
    required: a.required,
    ...(a.type === 'string' || a.type === 'reference' || a.type === 'binary' ? { caseExact: a.caseExact } : {}),
    ...(a.canonicalValues ? { canonicalValues: [...a.canonicalValues] } : {}),
    ...(a.referenceTypes ? { referenceTypes: [...a.referenceTypes] } : {}),
    mutability: a.mutability,
    returned: a.returned,
    uniqueness: a.uniqueness,
    ...(a.subAttributes ? { subAttributes: a.subAttributes.map(renderAttribute) } : {}),
  }
}

/** RFC 7643 §7. */
export function renderSchema(s: SchemaDefinition, baseUrl: string): ScimObject {
  return {
    schemas: [SCHEMA_SCHEMA],
    id: s.id,
    name: s.name,
    ...(s.description ? { description: s.description } : {}),
    attributes: s.attributes.map(renderAttribute),
    meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${s.id}` },
  }
}

export function renderAllResourceTypes(registry: SchemaRegistry, baseUrl: string): ScimObject[] {
  return registry.listResourceTypes().map((t) => renderResourceType(t, baseUrl))
}

export function renderAllSchemas(registry: SchemaRegistry, baseUrl: string): ScimObject[] {
  return registry.listSchemas().map((s) => renderSchema(s, baseUrl))
}
