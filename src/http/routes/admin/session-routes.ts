import type { FastifyInstance } from 'fastify'
import { toAdminView } from '../../../admin/admin-accounts.js'
import { permissionsOf } from '../../../admin/roles.js'
import { clearSessionCookie, sessionCookie } from '../../../admin/sessions.js'
import { csrfFailed, forbidden, invalidRequest, rateLimited, unauthenticated } from '../../admin-error-handler.js'
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

interface PasswordChangeBody {
  currentPassword: string
  newPassword: string
}

const passwordChangeSchema = {
  body: {
    type: 'object',
    required: ['currentPassword', 'newPassword'],
    properties: { currentPassword: { type: 'string', minLength: 1, maxLength: 4096 }, newPassword: { type: 'string', minLength: 1, maxLength: 4096 } },
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
 * signed in, PUT /me/password changes the signed-in admin's password. Sign-in is limited per IP address
 * (every attempt) and per e-mail address (failed attempts; a success clears them), 429 with Retry-After
 * beyond either; a wrong current password in a password change is a failed attempt too, so a stolen
 * session cannot guess the password faster than a sign-in form could.
 */
export function registerSessionRoutes(app: FastifyInstance, deps: AdminApiDeps, limiters: AdminLimiters): void {
  const secure = usesSecureCookies(deps.publicUrl)

  app.post<{ Body: SignInBody }>('/session', { schema: signInSchema, config: { adminAccess: { public: true } } }, async (request, reply) => {
    // Sign-in has no session yet, so no CSRF token: the origin check is its defense against a page on
    // another site signing the browser in to an account of the attacker's choosing.
    if (!isAllowedOrigin(request, deps.publicUrl)) throw csrfFailed('Cross-origin requests are refused')
    const perIp = await limiters.signInPerIp.consume(request.ip)
    if (!perIp.allowed) throw rateLimited(perIp.retryAfterSeconds)
    const emailKey = request.body.email.trim().toLowerCase()
    const perEmail = await limiters.signInFailuresPerEmail.check(emailKey)
    if (!perEmail.allowed) throw rateLimited(perEmail.retryAfterSeconds)

    const admin = await deps.admins.authenticate(request.body.email, request.body.password)
    if (!admin) {
      await limiters.signInFailuresPerEmail.consume(emailKey)
      await deps.actions.recordSignIn(adminAuditContextOf(request, reply, { type: 'anonymous', name: emailKey }), 401)
      throw unauthenticated('Wrong e-mail address or password')
    }
    await limiters.signInFailuresPerEmail.reset(emailKey)
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

  // Any signed-in admin, whatever the role or scope: the password is their own. This session stays signed
  // in, the admin's other sessions end. Neither password is logged, audited or answered.
  app.put<{ Body: PasswordChangeBody }>('/me/password', { schema: passwordChangeSchema, config: { adminAccess: { permission: null } } }, async (request, reply) => {
    const principal = principalOf(request)
    if (principal.kind !== 'session') throw forbidden('An API key has no password to change; sign in as the admin whose password it is')
    // The admin's e-mail, as stored (trimmed, lower-cased): the key sign-in counts this address's failures under.
    const emailKey = principal.name
    const perEmail = await limiters.signInFailuresPerEmail.check(emailKey)
    if (!perEmail.allowed) throw rateLimited(perEmail.retryAfterSeconds)
    const outcome = await deps.actions.changeOwnPassword(adminAuditContextOf(request, reply), {
      adminId: principal.id,
      keptSessionId: principal.sessionId!,
      currentPassword: request.body.currentPassword,
      newPassword: request.body.newPassword,
    })
    if (!outcome.changed) {
      await limiters.signInFailuresPerEmail.consume(emailKey)
      throw forbidden('The current password is wrong')
    }
    await limiters.signInFailuresPerEmail.reset(emailKey)
    return { otherSessionsEnded: outcome.otherSessionsEnded }
  })
}
