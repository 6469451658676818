import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { methodNotAllowed, parseListQuery, parseSearchRequest } from '../../scim/index.js'
import { etagOf, type ProvisioningService, type ResourceResult } from '../../provisioning/resource-service.js'
import { clientHasVersion, hasProjection, preconditionsOf, projectionOf, scopeOf } from '../request-scope.js'
import { SCIM_CONTENT_TYPE } from '../scim-error-handler.js'

export interface ResourceRouteOptions {
  readonly provisioning: ProvisioningService
  readonly maxResults: number
  readonly publicUrl?: string
}

type IdParams = { id: string }

const sendResource = (reply: FastifyReply, status: 200 | 201, result: ResourceResult) => {
  reply.code(status).type(SCIM_CONTENT_TYPE).header('etag', etagOf(result.version))
  if (status === 201) reply.header('location', result.location)
  return reply.send(result.json)
}

const rejectMethod = (allowed: string) => async (request: FastifyRequest, reply: FastifyReply) => {
  reply.header('allow', allowed)
  throw methodNotAllowed(`${request.method} is not supported here; allowed: ${allowed}`)
}

/**
 * One generic set of handlers for every core resource type (Users, Groups), RFC 7644 §3.3–§3.6, registered
 * once for every organization: an organization that does not serve a type answers 404 (the service checks
 * its registry), and its extension schemas apply through that same registry.
 */
export function registerResourceRoutes(app: FastifyInstance, options: ResourceRouteOptions): void {
  const { provisioning, maxResults, publicUrl } = options
  const listOptions = { maxResults }

  for (const type of provisioning.core.listResourceTypes()) {
    const base = type.endpoint
    const name = type.name

    app.get(base, async (request, reply) => {
      const query = parseListQuery(request.query as Record<string, unknown>, listOptions)
      return reply.type(SCIM_CONTENT_TYPE).send(await provisioning.list(scopeOf(request, publicUrl), name, query))
    })

    app.post(`${base}/.search`, async (request, reply) => {
      const query = parseSearchRequest(request.body, listOptions)
      return reply.type(SCIM_CONTENT_TYPE).send(await provisioning.list(scopeOf(request, publicUrl), name, query))
    })

    app.post(base, async (request, reply) => {
      const result = await provisioning.create(scopeOf(request, publicUrl), name, request.body, projectionOf(request))
      return sendResource(reply, 201, result)
    })

    app.get<{ Params: IdParams }>(`${base}/:id`, async (request, reply) => {
      const result = await provisioning.get(scopeOf(request, publicUrl), name, request.params.id, projectionOf(request))
      if (clientHasVersion(request, result.version)) {
        return reply.code(304).header('etag', etagOf(result.version)).send()
      }
      return sendResource(reply, 200, result)
    })

    app.put<{ Params: IdParams }>(`${base}/:id`, async (request, reply) => {
      const result = await provisioning.replace(scopeOf(request, publicUrl), name, request.params.id, request.body, preconditionsOf(request), projectionOf(request))
      return sendResource(reply, 200, result)
    })

    app.patch<{ Params: IdParams }>(`${base}/:id`, async (request, reply) => {
      const scope = scopeOf(request, publicUrl)
      // RFC 7644 §3.5.2 allows 204 instead of the resource. For a type with members (Groups) we answer 204
      // unless the client asked for attributes, so a member change on a huge group never serialises it;
      // Entra ID and Okta both document 204 for group PATCH.
      const noContent = provisioning.hasAttribute(name, 'members') && !hasProjection(request)
      const stored = await provisioning.patch(scope, name, request.params.id, request.body, preconditionsOf(request), noContent ? 204 : 200)
      if (noContent) {
        return reply.code(204).header('etag', etagOf(stored.version)).send()
      }
      return sendResource(reply, 200, await provisioning.renderOne(scope, stored, projectionOf(request)))
    })

    app.delete<{ Params: IdParams }>(`${base}/:id`, async (request, reply) => {
      await provisioning.delete(scopeOf(request, publicUrl), name, request.params.id, preconditionsOf(request))
      return reply.code(204).send()
    })

    app.route({ method: ['PUT', 'PATCH', 'DELETE'], url: base, handler: rejectMethod('GET, POST') })
    app.route({ method: ['POST'], url: `${base}/:id`, handler: rejectMethod('GET, PUT, PATCH, DELETE') })
  }
}
