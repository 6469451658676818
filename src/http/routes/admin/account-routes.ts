import type { FastifyInstance } from 'fastify'
import { toAdminView } from '../../../admin/admin-accounts.js'
import { ADMIN_ROLES, type AdminRole } from '../../../admin/roles.js'
import type { AdminApiKeyRecord } from '../../../store/ports.js'
import { notFound } from '../../admin-error-handler.js'
import { adminAuditContextOf, principalOf } from '../../plugins/admin-auth.js'
import type { AdminApiDeps } from './admin-api.js'
import { futureDate } from './credential-routes.js'

const roleProperty = { type: 'string', enum: [...ADMIN_ROLES] } as const
const organizationProperty = { type: ['string', 'null'], maxLength: 63 } as const

/** An API key as listed: never the secret, never the hash. */
export function apiKeyView(k: AdminApiKeyRecord, now: Date) {
  const expired = k.expiresAt !== undefined && Date.parse(k.expiresAt) <= now.getTime()
  return {
    id: k.id,
    name: k.name,
    role: k.role,
    prefix: k.prefix,
    createdBy: k.createdBy,
    createdAt: k.createdAt,
    lastUsedAt: k.lastUsedAt ?? null,
    expiresAt: k.expiresAt ?? null,
    revokedAt: k.revokedAt ?? null,
    status: k.revokedAt ? 'revoked' : expired ? 'expired' : 'active',
  }
}

/**
 * Admins (list; create, change, disable, delete for installation-wide owners) and admin API keys (owners).
 * Password hashes never leave the store; an API key is shown once, at creation.
 */
export function registerAccountRoutes(app: FastifyInstance, deps: AdminApiDeps): void {
  const now = () => deps.clock?.() ?? new Date()
  const manage = { adminAccess: { permission: 'admins:manage', installationWide: true } } as const

  app.get('/admins', { config: { adminAccess: { permission: 'admins:read' } } }, async (request) => {
    const scope = principalOf(request).tenant
    const admins = await deps.admins.list()
    // An admin of one organization sees the admins of that organization only.
    return { admins: admins.filter((a) => scope === undefined || a.tenant === scope).map(toAdminView) }
  })

  app.post<{ Body: { email: string; password: string; role: AdminRole; name?: string; organization?: string | null } }>(
    '/admins',
    {
      config: manage,
      schema: {
        body: {
          type: 'object',
          required: ['email', 'password', 'role'],
          properties: {
            email: { type: 'string', minLength: 1, maxLength: 254 },
            password: { type: 'string', minLength: 1, maxLength: 4096 },
            role: roleProperty,
            name: { type: 'string', maxLength: 200 },
            organization: organizationProperty,
          },
        },
      },
    },
    async (request, reply) => {
      const { email, password, role, name, organization } = request.body
      const created = await deps.actions.createAdmin(adminAuditContextOf(request, reply), {
        email,
        password,
        role,
        ...(name ? { name } : {}),
        ...(organization ? { tenant: organization } : {}),
      })
      return reply.code(201).send(toAdminView(created))
    },
  )

  app.patch<{ Params: { id: string }; Body: { role?: AdminRole; name?: string; organization?: string | null; disabled?: boolean } }>(
    '/admins/:id',
    {
      config: manage,
      schema: {
        body: {
          type: 'object',
          minProperties: 1,
          properties: { role: roleProperty, name: { type: 'string', maxLength: 200 }, organization: organizationProperty, disabled: { type: 'boolean' } },
        },
      },
    },
    async (request, reply) => {
      const { role, name, organization, disabled } = request.body
      const updated = await deps.actions.updateAdmin(adminAuditContextOf(request, reply), request.params.id, {
        ...(role !== undefined ? { role } : {}),
        ...(name !== undefined ? { name } : {}),
        ...(organization !== undefined ? { tenant: organization } : {}),
        ...(disabled !== undefined ? { disabled } : {}),
      })
      return toAdminView(updated)
    },
  )

  app.delete<{ Params: { id: string } }>('/admins/:id', { config: manage }, async (request, reply) => {
    await deps.actions.removeAdmin(adminAuditContextOf(request, reply), request.params.id)
    return reply.code(204).send()
  })

  const keys = { adminAccess: { permission: 'apiKeys:manage', installationWide: true } } as const

  app.get('/api-keys', { config: keys }, async () => ({ apiKeys: (await deps.apiKeys.list()).map((k) => apiKeyView(k, now())) }))

  app.post<{ Body: { name: string; role: AdminRole; expiresAt?: string } }>(
    '/api-keys',
    {
      config: keys,
      schema: {
        body: {
          type: 'object',
          required: ['name', 'role'],
          properties: { name: { type: 'string', minLength: 1, maxLength: 200, pattern: '\\S' }, role: roleProperty, expiresAt: { type: 'string', maxLength: 64 } },
        },
      },
    },
    async (request, reply) => {
      const { name, role, expiresAt } = request.body
      const issued = await deps.actions.issueApiKey(adminAuditContextOf(request, reply), name, role, {
        createdBy: principalOf(request).id,
        ...(expiresAt !== undefined ? { expiresAt: futureDate(expiresAt, now()) } : {}),
      })
      return reply.code(201).send({ ...apiKeyView(issued.record, now()), apiKey: issued.apiKey })
    },
  )

  app.delete<{ Params: { id: string } }>('/api-keys/:id', { config: keys }, async (request, reply) => {
    if (!(await deps.actions.revokeApiKey(adminAuditContextOf(request, reply), request.params.id))) throw notFound(`No active API key ${request.params.id}`)
    return reply.code(204).send()
  })
}
