// The public face of the SCIM core: the only module other layers import from src/scim/.
export * from './errors.js'
export * from './urns.js'
export * from './schema/attribute.js'
export { SchemaRegistry, findAttribute, findSubAttribute, type BoundSchema, type ExtensionAttachment } from './schema/schema-registry.js'
export { COMMON_ATTRIBUTES } from './schema/core-schemas.js'
export { parseExtensionSchemas } from './schema/parse-extension-schemas.js'
export { parseAttributePath, formatAttributePath, type AttributePath } from './path/attribute-path.js'
export * from './filter/filter-ast.js'
export { parseFilter } from './filter/parse-filter.js'
export { resolveFilter } from './filter/resolve-filter.js'
export { matchFilter, matchElement } from './filter/match-filter.js'
export { formatFilter } from './filter/format-filter.js'
export { parsePatchRequest, type PatchOperation, type PatchPath } from './patch/parse-patch.js'
export { applyPatch, type PatchResult } from './patch/apply-patch.js'
export { planMemberPatch, type MemberPatchPlan } from './patch/plan-member-patch.js'
export type { MemberStep } from './patch/member-step.js'
export { validateResource, type ValidateOptions } from './resource/validate-resource.js'
export { projectResource, isAttributeReturned, type Projection } from './resource/project-resource.js'
export { parseListQuery, parseSearchRequest, type ListQuery } from './list/list-query.js'
export { decodeListCursor, encodeListCursor, listQueryFingerprint, type CursorKey, type ListCursor } from './list/list-cursor.js'
export { cursorListResponseJson, listResponseJson, toCursorListResponse, toListResponse } from './list/list-response.js'
export { answersStoredDocument, listsOnlySchemasOf, renderStoredJson, splitStoredJson, type StoredJsonParts } from './resource/render-json.js'
export {
  renderServiceProviderConfig,
  renderResourceType,
  renderSchema,
  renderAllResourceTypes,
  renderAllSchemas,
  type AuthenticationScheme,
  type PaginationFeatures,
  type ServiceProviderFeatures,
} from './discovery/render-discovery.js'
export {
  parseBulkRequest,
  isRejectedBulkOperation,
  bulkPayloadTooLarge,
  bulkTooManyOperations,
  type BulkMethod,
  type BulkOperation,
  type RejectedBulkOperation,
  type BulkRequest,
  type BulkLimits,
} from './bulk/parse-bulk.js'
export { BULK_ID_PREFIX, bulkIdOf, findBulkIdReferences, findMemberBulkIdReferences, resolveBulkIds } from './bulk/resolve-bulk-ids.js'
export { renderBulkResponse, type BulkOperationResult } from './bulk/bulk-response.js'
