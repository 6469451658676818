import { defineAttribute as attr, type AttributeDefinition, type ResourceTypeDefinition, type SchemaDefinition } from './attribute.js'
import { ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA } from '../urns.js'

/** RFC 7643 §3.1: common attributes, part of every resource but listed in no schema. */
export const COMMON_ATTRIBUTES: readonly AttributeDefinition[] = [
  attr('id', { caseExact: true, mutability: 'readOnly', returned: 'always', uniqueness: 'server' }),
  attr('externalId', { caseExact: true }),
  attr('meta', {
    mutability: 'readOnly',
    subAttributes: [
      attr('resourceType', { caseExact: true, mutability: 'readOnly' }),
      attr('created', { type: 'dateTime', mutability: 'readOnly' }),
      attr('lastModified', { type: 'dateTime', mutability: 'readOnly' }),
      attr('location', { type: 'reference', referenceTypes: ['uri'], caseExact: true, mutability: 'readOnly' }),
      attr('version', { caseExact: true, mutability: 'readOnly' }),
    ],
  }),
]

/** The shape RFC 7643 §4.1.2 gives emails, phoneNumbers, ims, photos, entitlements, roles, x509Certificates. */
function multiValued(name: string, opts: { types?: string[]; valueType?: AttributeDefinition['type']; referenceTypes?: string[] } = {}): AttributeDefinition {
  return attr(name, {
    multiValued: true,
    subAttributes: [
      attr('value', { type: opts.valueType ?? 'string', ...(opts.referenceTypes ? { referenceTypes: opts.referenceTypes } : {}) }),
      attr('display'),
      attr('type', opts.types ? { canonicalValues: opts.types } : {}),
      attr('primary', { type: 'boolean' }),
    ],
  })
}

/** RFC 7643 §4.1 and §8.7.1. */
export const USER_SCHEMA_DEFINITION: SchemaDefinition = {
  id: USER_SCHEMA,
  name: 'User',
  description: 'User Account',
  attributes: [
    attr('userName', { required: true, uniqueness: 'server' }),
    attr('name', {
      subAttributes: [
        attr('formatted'),
        attr('familyName'),
        attr('givenName'),
        attr('middleName'),
        attr('honorificPrefix'),
        attr('honorificSuffix'),
      ],
    }),
    attr('displayName'),
    attr('nickName'),
    attr('profileUrl', { type: 'reference', referenceTypes: ['external'] }),
    attr('title'),
    attr('userType'),
    attr('preferredLanguage'),
    attr('locale'),
    attr('timezone'),
    attr('active', { type: 'boolean' }),
    attr('password', { mutability: 'writeOnly', returned: 'never' }),
    multiValued('emails', { types: ['work', 'home', 'other'] }),
    multiValued('phoneNumbers', { types: ['work', 'home', 'mobile', 'fax', 'pager', 'other'] }),
    multiValued('ims', { types: ['aim', 'gtalk', 'icq', 'xmpp', 'msn', 'skype', 'qq', 'yahoo'] }),
    multiValued('photos', { types: ['photo', 'thumbnail'], valueType: 'reference', referenceTypes: ['external'] }),
    attr('addresses', {
      multiValued: true,
      subAttributes: [
        attr('formatted'),
        attr('streetAddress'),
        attr('locality'),
        attr('region'),
        attr('postalCode'),
        attr('country'),
        attr('type', { canonicalValues: ['work', 'home', 'other'] }),
        attr('primary', { type: 'boolean' }),
      ],
    }),
    attr('groups', {
      multiValued: true,
      mutability: 'readOnly',
      subAttributes: [
        attr('value', { mutability: 'readOnly' }),
        attr('$ref', { type: 'reference', referenceTypes: ['User', 'Group'], mutability: 'readOnly' }),
        attr('display', { mutability: 'readOnly' }),
        attr('type', { canonicalValues: ['direct', 'indirect'], mutability: 'readOnly' }),
      ],
    }),
    multiValued('entitlements'),
    multiValued('roles'),
    multiValued('x509Certificates', { valueType: 'binary' }),
  ],
}

/** RFC 7643 §4.2 and §8.7.1. displayName is REQUIRED in §4.2's prose, though §8.7.1 marks it optional. */
export const GROUP_SCHEMA_DEFINITION: SchemaDefinition = {
  id: GROUP_SCHEMA,
  name: 'Group',
  description: 'Group',
  attributes: [
    attr('displayName', { required: true }),
    attr('members', {
      multiValued: true,
      subAttributes: [
        attr('value', { mutability: 'immutable' }),
        attr('$ref', { type: 'reference', referenceTypes: ['User', 'Group'], mutability: 'immutable' }),
        // Computed from the member's own record; a client-sent display (Entra sends one) is ignored.
        attr('display', { mutability: 'readOnly' }),
        attr('type', { canonicalValues: ['User', 'Group'], mutability: 'immutable' }),
      ],
    }),
  ],
}

/** RFC 7643 §4.3 and §8.7.1. */
export const ENTERPRISE_USER_SCHEMA_DEFINITION: SchemaDefinition = {
  id: ENTERPRISE_USER_SCHEMA,
  name: 'EnterpriseUser',
  description: 'Enterprise User',
  attributes: [
    attr('employeeNumber'),
    attr('costCenter'),
    attr('organization'),
    attr('division'),
    attr('department'),
    attr('manager', {
      subAttributes: [
        attr('value'),
        attr('$ref', { type: 'reference', referenceTypes: ['User'] }),
        attr('displayName', { mutability: 'readOnly' }),
      ],
    }),
  ],
}

export const USER_RESOURCE_TYPE: ResourceTypeDefinition = {
  id: 'User',
  name: 'User',
  endpoint: '/Users',
  description: 'User Account',
  schema: USER_SCHEMA,
  schemaExtensions: [{ schema: ENTERPRISE_USER_SCHEMA, required: false }],
}

export const GROUP_RESOURCE_TYPE: ResourceTypeDefinition = {
  id: 'Group',
  name: 'Group',
  endpoint: '/Groups',
  description: 'Group',
  schema: GROUP_SCHEMA,
  schemaExtensions: [],
}
