import type { FastifyInstance, FastifyRequest } from 'fastify'
import { summarizeOrganization } from '../../../admin/organization-summary.js'
import type { TenantRecord } from '../../../store/ports.js'
import type { TenantSettingsChange } from '../../../tenants/tenant-service.js'
import { adminAuditContextOf, principalOf } from '../../plugins/admin-auth.js'
import { organizationOf, originOf, scimBaseUrlOf, type AdminApiDeps } from './admin-api.js'

type OrgParams = { org: string }

// A name holds a non-space character and no lone surrogate (JSON can send one; it is no text, and jsonb refuses it).
const nameProperty = { type: 'string', minLength: 1, maxLength: 200, pattern: '^(?=[^]*\\S)[^\\uD800-\\uDFFF]*$' } as const

/**
 * Organizations: list (an admin scoped to one sees only it), create and remove (installation-wide
 * admins only), get, rename, settings, and the dashboard summary.
 */
export function registerOrganizationRoutes(app: FastifyInstance, deps: AdminApiDeps): void {
  const view = (request: FastifyRequest, t: TenantRecord) => ({
    id: t.id,
    name: t.name,
    createdAt: t.createdAt,
    scimBaseUrl: scimBaseUrlOf(originOf(request, deps.publicUrl), t.id),
  })

  app.get('/organizations', { config: { adminAccess: { permission: 'organizations:read' } } }, async (request) => {
    const scope = principalOf(request).tenant
    const all = await deps.tenants.list()
    return { organizations: all.filter((t) => scope === undefined || t.id === scope).map((t) => view(request, t)) }
  })

  app.post<{ Body: { id: string; name: string } }>(
    '/organizations',
    {
      config: { adminAccess: { permission: 'organizations:manage', installationWide: true } },
      schema: { body: { type: 'object', required: ['id', 'name'], properties: { id: { type: 'string', maxLength: 63 }, name: nameProperty } } },
    },
    async (request, reply) => {
      const created = await deps.actions.createOrganization(adminAuditContextOf(request, reply), request.body.id, request.body.name)
      return reply.code(201).send(view(request, created))
    },
  )

  app.get<{ Params: OrgParams }>('/organizations/:org', { config: { adminAccess: { permission: 'organizations:read' } } }, async (request) =>
    view(request, organizationOf(request)),
  )

  app.patch<{ Params: OrgParams; Body: { name: string } }>(
    '/organizations/:org',
    {
      config: { adminAccess: { permission: 'organizations:manage' } },
      schema: { body: { type: 'object', required: ['name'], properties: { name: nameProperty } } },
    },
    async (request, reply) => view(request, await deps.actions.renameOrganization(adminAuditContextOf(request, reply), request.params.org, request.body.name)),
  )

  app.delete<{ Params: OrgParams }>(
    '/organizations/:org',
    { config: { adminAccess: { permission: 'organizations:manage', installationWide: true } } },
    async (request, reply) => {
      await deps.actions.removeOrganization(adminAuditContextOf(request, reply), request.params.org)
      return reply.code(204).send()
    },
  )

  app.get<{ Params: OrgParams }>('/organizations/:org/settings', { config: { adminAccess: { permission: 'settings:read' } } }, async (request) => ({
    settings: organizationOf(request).settings,
  }))

  // The keys given replace the stored ones; others stay; "webhookUrl": null removes the webhook
  // (TenantService validates everything and reports every problem in one 400).
  app.put<{ Params: OrgParams; Body: TenantSettingsChange }>(
    '/organizations/:org/settings',
    { config: { adminAccess: { permission: 'settings:manage' } }, schema: { body: { type: 'object' } } },
    async (request, reply) => ({ settings: await deps.actions.updateSettings(adminAuditContextOf(request, reply), request.params.org, request.body) }),
  )

  app.get<{ Params: OrgParams }>('/organizations/:org/summary', { config: { adminAccess: { permission: 'organizations:read' } } }, async (request) =>
    summarizeOrganization({ resources: deps.resources, audit: deps.audit }, organizationOf(request).id, deps.clock?.() ?? new Date()),
  )
}
