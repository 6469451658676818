import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { RequestScope } from '../../../provisioning/resource-service.js'
import { parseListQuery } from '../../../scim/index.js'
import { projectionOf } from '../../request-scope.js'
import { organizationOf, originOf, scimBaseUrlOf, type AdminApiDeps } from './admin-api.js'

/** The admin API's names for the resource types it shows, read-only. */
const DIRECTORY = [
  { path: 'users', resourceType: 'User' },
  { path: 'groups', resourceType: 'Group' },
] as const

/**
 * Users and groups of an organization, read-only, answered as the SCIM API answers them (a ListResponse,
 * a resource with meta.location at the organization's SCIM URL) inside the admin API: the same filter,
 * sortBy, startIndex/count and cursor paging, attributes and excludedAttributes (RFC 7644 §3.4.2, RFC 9865),
 * through the same ProvisioningService, so the console shows exactly what an identity provider sees.
 * Reads by admins are not audit events.
 */
export function registerDirectoryRoutes(app: FastifyInstance, deps: AdminApiDeps): void {
  const scopeOf = (request: FastifyRequest): RequestScope => {
    const org = organizationOf(request).id
    return { tenant: org, baseUrl: scimBaseUrlOf(originOf(request, deps.publicUrl), org) }
  }

  for (const { path, resourceType } of DIRECTORY) {
    app.get<{ Params: { org: string } }>(`/organizations/:org/${path}`, { config: { adminAccess: { permission: 'resources:read' } } }, async (request, reply) => {
      const query = parseListQuery(request.query as Record<string, unknown>, { maxResults: deps.maxResults })
      return reply.type('application/json; charset=utf-8').send(await deps.provisioning.list(scopeOf(request), resourceType, query))
    })

    app.get<{ Params: { org: string; id: string } }>(`/organizations/:org/${path}/:id`, { config: { adminAccess: { permission: 'resources:read' } } }, async (request, reply) => {
      const result = await deps.provisioning.get(scopeOf(request), resourceType, request.params.id, projectionOf(request))
      return reply.type('application/json; charset=utf-8').send(result.json)
    })
  }
}
