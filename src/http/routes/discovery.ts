import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import {
  forbidden,
  methodNotAllowed,
  notFound,
  renderAllResourceTypes,
  renderAllSchemas,
  renderResourceType,
  renderSchema,
  renderServiceProviderConfig,
  toListResponse,
  type SchemaRegistry,
  type ServiceProviderFeatures,
} from '../../scim/index.js'
import { scopeOf } from '../request-scope.js'
import { SCIM_CONTENT_TYPE } from '../scim-error-handler.js'

export interface DiscoveryRouteOptions {
  /** The organization's registry: its extension schemas and only the resource types it serves. */
  readonly registryFor: (tenant: string) => Promise<SchemaRegistry>
  readonly features: ServiceProviderFeatures
  readonly publicUrl?: string
}

/**
 * RFC 7644 §4: ServiceProviderConfig, ResourceTypes and Schemas, rendered from the same registry and
 * feature flags the server runs on: the organization's registry, so each organization discovers its own
 * extension schemas and resource types. §4 says a filter on these endpoints SHOULD get 403, so a client
 * never believes a filter was applied; other methods get 405.
 */
export function registerDiscoveryRoutes(app: FastifyInstance, options: DiscoveryRouteOptions): void {
  const { registryFor, features, publicUrl } = options
  const base = (request: FastifyRequest) => scopeOf(request, publicUrl).baseUrl
  const registryOf = (request: FastifyRequest) => registryFor(scopeOf(request, publicUrl).tenant)
  const refuseFilter = (request: FastifyRequest) => {
    const q = request.query as Record<string, unknown>
    if (Object.keys(q ?? {}).some((k) => k.toLowerCase() === 'filter')) throw forbidden('Filtering is not supported on discovery endpoints (RFC 7644 §4)')
  }
  const send = (reply: FastifyReply, body: unknown) => reply.type(SCIM_CONTENT_TYPE).send(body)
  const rejectWrites = async (request: FastifyRequest, reply: FastifyReply) => {
    reply.header('allow', 'GET')
    throw methodNotAllowed(`${request.method} is not supported on discovery endpoints`)
  }

  app.get('/ServiceProviderConfig', async (request, reply) => {
    refuseFilter(request)
    return send(reply, renderServiceProviderConfig(features, base(request)))
  })
  app.get('/ResourceTypes', async (request, reply) => {
    refuseFilter(request)
    const all = renderAllResourceTypes(await registryOf(request), base(request))
    return send(reply, toListResponse(all, all.length, 1))
  })
  app.get<{ Params: { id: string } }>('/ResourceTypes/:id', async (request, reply) => {
    const t = (await registryOf(request)).getResourceType(request.params.id)
    if (!t) throw notFound(`Resource type ${request.params.id} not found`)
    return send(reply, renderResourceType(t, base(request)))
  })
  app.get('/Schemas', async (request, reply) => {
    refuseFilter(request)
    const all = renderAllSchemas(await registryOf(request), base(request))
    return send(reply, toListResponse(all, all.length, 1))
  })
  app.get<{ Params: { id: string } }>('/Schemas/:id', async (request, reply) => {
    const s = (await registryOf(request)).getSchema(request.params.id)
    if (!s) throw notFound(`Schema ${request.params.id} not found`)
    return send(reply, renderSchema(s, base(request)))
  })
  for (const url of ['/ServiceProviderConfig', '/ResourceTypes', '/ResourceTypes/:id', '/Schemas', '/Schemas/:id']) {
    app.route({ method: ['POST', 'PUT', 'PATCH', 'DELETE'], url, handler: rejectWrites })
  }
}
