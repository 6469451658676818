import type { FastifyInstance } from 'fastify'
import { notImplemented, parseSearchRequest } from '../../scim/index.js'
import type { ProvisioningService } from '../../provisioning/resource-service.js'
import { scopeOf } from '../request-scope.js'
import { SCIM_CONTENT_TYPE } from '../scim-error-handler.js'

export interface RootRouteOptions {
  readonly provisioning: ProvisioningService
  readonly maxResults: number
  readonly publicUrl?: string
}

/** Endpoints at the SCIM root: /.search across all resource types (RFC 7644 §3.4.3) and /Me. /Bulk is routes/bulk.ts. */
export function registerRootRoutes(app: FastifyInstance, options: RootRouteOptions): void {
  const { provisioning, maxResults, publicUrl } = options
  app.post('/.search', async (request, reply) => {
    const query = parseSearchRequest(request.body, { maxResults })
    return reply.type(SCIM_CONTENT_TYPE).send(await provisioning.searchAll(scopeOf(request, publicUrl), query))
  })
  // RFC 7644 §3.11: a service provider that does not support /Me answers 501. Roster's callers are
  // provisioning clients authenticated by tokens, not users, so there is no "me" to alias.
  app.all('/Me', async () => {
    throw notImplemented('/Me is not supported: SCIM tokens here identify a provisioning client, not a user')
  })
  app.all('/Me/*', async () => {
    throw notImplemented('/Me is not supported: SCIM tokens here identify a provisioning client, not a user')
  })
}
