import type { FastifyInstance } from 'fastify'
import { toAdminView } from '../../../admin/admin-accounts.js'
import { permissionsOf } from '../../../admin/roles.js'
import { clearSessionCookie, sessionCookie } from '../../../admin/sessions.js'
import { csrfFailed, invalidRequest, rateLimited, unauthenticated } from '../../admin-error-handler.js'
import { adminAuditContextOf, isAllowedOrigin, principalOf, type AdminPrincipal } from '../../plugins/admin-auth.js'
import { usesSecureCookies, type AdminApiDeps, type AdminLimiters } from './admin-api.js'

interface SignInBody {
  email: string
  password: string
}

const signInSchema = {
  body: {
    type: 'object',
    required: ['email', 'password'],
    properties: { email: { type: 'string', minLength: 1, maxLength: 254 }, password: { type: 'string', minLength: 1, maxLength: 4096 } },
  },
} as const

/** What the console needs to know about the caller. */
function describeCaller(p: AdminPrincipal) {
  return {
    kind: p.kind,
    id: p.id,
    ...(p.kind === 'session' ? { email: p.name } : { name: p.name }),
    role: p.role,
    organization: p.tenant ?? null,
    permissions: permissionsOf(p.role),
    ...(p.csrfToken ? { csrfToken: p.csrfToken } : {}),
  }
}

/**
 * POST /session signs in (e-mail and password), POST /session/logout signs out, GET /me says who is
 * signed in. Sign-in is limited per IP address (every attempt) and per e-mail address (failed attempts;
 * a success clears them), 429 with Retry-After beyond either.
 */
export function registerSessionRoutes(app: FastifyInstance, deps: AdminApiDeps, limiters: AdminLimiters): void {
  const secure = usesSecureCookies(deps.publicUrl)

  app.post<{ Body: SignInBody }>('/session', { schema: signInSchema, config: { adminAccess: { public: true } } }, async (request, reply) => {
    // Sign-in has no session yet, so no CSRF token: the origin check is its defense against a page on
    // another site signing the browser in to an account of the attacker's choosing.
    if (!isAllowedOrigin(request, deps.publicUrl)) throw csrfFailed('Cross-origin requests are refused')
    const perIp = limiters.signInPerIp.consume(request.ip)
    if (!perIp.allowed) throw rateLimited(perIp.retryAfterSeconds)
    const emailKey = request.body.email.trim().toLowerCase()
    const perEmail = limiters.signInFailuresPerEmail.check(emailKey)
    if (!perEmail.allowed) throw rateLimited(perEmail.retryAfterSeconds)

    const admin = await deps.admins.authenticate(request.body.email, request.body.password)
    if (!admin) {
      limiters.signInFailuresPerEmail.consume(emailKey)
      await deps.actions.recordSignIn(adminAuditContextOf(request, reply, { type: 'anonymous', name: emailKey }), 401)
      throw unauthenticated('Wrong e-mail address or password')
    }
    limiters.signInFailuresPerEmail.reset(emailKey)
    const session = await deps.sessions.create(admin.id, { ip: request.ip, ...(request.headers['user-agent'] ? { userAgent: request.headers['user-agent'] } : {}) })
    await deps.actions.recordSignIn(adminAuditContextOf(request, reply, { type: 'admin', id: admin.id, name: admin.email }), 200, admin)
    reply.header('set-cookie', sessionCookie(session.sessionId, { secure }))
    return { admin: toAdminView(admin), permissions: permissionsOf(admin.role), csrfToken: session.csrfToken }
  })

  app.post('/session/logout', { config: { adminAccess: { permission: null } } }, async (request, reply) => {
    const principal = principalOf(request)
    if (principal.kind !== 'session') throw invalidRequest('An API key has no session to end; revoke the key instead')
    await deps.sessions.destroy(principal.sessionId!)
    await deps.actions.recordSignOut(adminAuditContextOf(request, reply))
    reply.header('set-cookie', clearSessionCookie({ secure }))
    return reply.code(204).send()
  })

  app.get('/me', { config: { adminAccess: { permission: null } } }, async (request) => describeCaller(principalOf(request)))
}
