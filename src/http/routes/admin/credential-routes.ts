import type { FastifyInstance } from 'fastify'
import type { OAuthClientRecord, TokenRecord } from '../../../store/ports.js'
import { invalidRequest, notFound } from '../../admin-error-handler.js'
import { adminAuditContextOf } from '../../plugins/admin-auth.js'
import { organizationOf, originOf, scimBaseUrlOf, tokenEndpointOf, type AdminApiDeps } from './admin-api.js'

type OrgParams = { org: string }
type CredentialParams = { org: string; id: string }

export type CredentialStatus = 'active' | 'expired' | 'revoked'

/** A token as listed: never the secret, never the hash. */
export function tokenView(t: TokenRecord, now: Date) {
  return {
    id: t.id,
    name: t.name,
    prefix: t.prefix,
    createdAt: t.createdAt,
    lastUsedAt: t.lastUsedAt ?? null,
    expiresAt: t.expiresAt ?? null,
    revokedAt: t.revokedAt ?? null,
    status: statusOf(t, now),
  }
}

/** An OAuth client as listed: never the secret's hash. */
export function oauthClientView(c: OAuthClientRecord, now: Date) {
  return {
    clientId: c.id,
    name: c.name,
    scopes: c.scopes,
    createdAt: c.createdAt,
    lastUsedAt: c.lastUsedAt ?? null,
    revokedAt: c.revokedAt ?? null,
    status: statusOf(c, now),
  }
}

function statusOf(c: { revokedAt?: string; expiresAt?: string }, now: Date): CredentialStatus {
  if (c.revokedAt) return 'revoked'
  if (c.expiresAt && Date.parse(c.expiresAt) <= now.getTime()) return 'expired'
  return 'active'
}

// A name holds a non-space character and no lone surrogate (JSON can send one; it is no text, and jsonb refuses it).
const nameProperty = { type: 'string', minLength: 1, maxLength: 200, pattern: '^(?=[^]*\\S)[^\\uD800-\\uDFFF]*$' } as const

/**
 * Credentials of an organization: SCIM bearer tokens and OAuth clients (create answers the secret once,
 * with the URLs to use it at; list never shows a secret; revoke takes effect on the next request), and
 * the installation's signing key rotation.
 */
export function registerCredentialRoutes(app: FastifyInstance, deps: AdminApiDeps): void {
  const now = () => deps.clock?.() ?? new Date()

  app.get<{ Params: OrgParams }>('/organizations/:org/tokens', { config: { adminAccess: { permission: 'tokens:read' } } }, async (request) => {
    const list = await deps.tokens.list(organizationOf(request).id)
    return { tokens: list.map((t) => tokenView(t, now())) }
  })

  app.post<{ Params: OrgParams; Body: { name: string; expiresAt?: string } }>(
    '/organizations/:org/tokens',
    {
      config: { adminAccess: { permission: 'tokens:manage' } },
      schema: { body: { type: 'object', required: ['name'], properties: { name: nameProperty, expiresAt: { type: 'string', maxLength: 64 } } } },
    },
    async (request, reply) => {
      const org = organizationOf(request).id
      const expiresAt = request.body.expiresAt === undefined ? undefined : futureDate(request.body.expiresAt, now())
      const issued = await deps.actions.issueToken(adminAuditContextOf(request, reply), org, request.body.name, expiresAt ? { expiresAt } : {})
      return reply.code(201).send({
        ...tokenView(issued.record, now()),
        token: issued.token,
        scimBaseUrl: scimBaseUrlOf(originOf(request, deps.publicUrl), org),
      })
    },
  )

  app.delete<{ Params: CredentialParams }>('/organizations/:org/tokens/:id', { config: { adminAccess: { permission: 'tokens:manage' } } }, async (request, reply) => {
    const revoked = await deps.actions.revokeToken(adminAuditContextOf(request, reply), organizationOf(request).id, request.params.id)
    if (!revoked) throw notFound(`No active token ${request.params.id} in this organization`)
    return reply.code(204).send()
  })

  app.get<{ Params: OrgParams }>('/organizations/:org/oauth-clients', { config: { adminAccess: { permission: 'oauthClients:read' } } }, async (request) => {
    const list = await deps.oauthClients.list(organizationOf(request).id)
    return { clients: list.map((c) => oauthClientView(c, now())) }
  })

  app.post<{ Params: OrgParams; Body: { name: string; scopes?: string[] } }>(
    '/organizations/:org/oauth-clients',
    {
      config: { adminAccess: { permission: 'oauthClients:manage' } },
      schema: {
        body: {
          type: 'object',
          required: ['name'],
          properties: { name: nameProperty, scopes: { type: 'array', maxItems: 50, items: { type: 'string', pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]{1,100}$' } } },
        },
      },
    },
    async (request, reply) => {
      const org = organizationOf(request).id
      const created = await deps.actions.createOAuthClient(adminAuditContextOf(request, reply), org, request.body.name, request.body.scopes ? { scopes: request.body.scopes } : {})
      const origin = originOf(request, deps.publicUrl)
      return reply.code(201).send({
        ...oauthClientView(created.record, now()),
        clientSecret: created.clientSecret,
        tokenEndpoint: tokenEndpointOf(origin, org),
        scimBaseUrl: scimBaseUrlOf(origin, org),
      })
    },
  )

  app.delete<{ Params: CredentialParams }>(
    '/organizations/:org/oauth-clients/:id',
    { config: { adminAccess: { permission: 'oauthClients:manage' } } },
    async (request, reply) => {
      const revoked = await deps.actions.revokeOAuthClient(adminAuditContextOf(request, reply), organizationOf(request).id, request.params.id)
      if (!revoked) throw notFound(`No active OAuth client ${request.params.id} in this organization`)
      return reply.code(204).send()
    },
  )

  app.post('/oauth/keys/rotate', { config: { adminAccess: { permission: 'signingKeys:rotate', installationWide: true } } }, async (request, reply) => {
    const key = await deps.actions.rotateSigningKeys(adminAuditContextOf(request, reply))
    return reply.code(201).send(key)
  })
}

/** An ISO 8601 date-time in the future, or 400. */
export function futureDate(text: string, now: Date): Date {
  const date = new Date(text)
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(date.getTime())) throw invalidRequest('expiresAt must be an ISO 8601 date-time, e.g. 2030-01-01T00:00:00Z')
  if (date.getTime() <= now.getTime()) throw invalidRequest('expiresAt must be in the future')
  return date
}
