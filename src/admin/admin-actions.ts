import type { Readable } from 'node:stream'
import { buildAuditEvent, type AuditContext } from '../audit/audit-context.js'
import { REDACTED, type AttributeChange, type AuditEvent, type AuditOperation, type AuditResource } from '../audit/audit-event.js'
import { exportAudit, type AuditExportFormat } from '../audit/export-audit.js'
import type { CredentialEvent, CredentialEventType, WebhookNotifier } from '../notifications/webhook-notifier.js'
import type { CreatedOAuthClient, OAuthClientService } from '../oauth/oauth-clients.js'
import type { SigningKeyRing } from '../oauth/signing-keys.js'
import { DEFAULT_TENANT, type AdminRecord, type AuditQuery, type AuditStore, type TenantRecord, type TenantSettings } from '../store/ports.js'
import type { TenantService, TenantSettingsChange } from '../tenants/tenant-service.js'
import type { IssuedToken, TokenService } from '../tokens/token-service.js'
import type { AdminAccountService, AdminChange, NewAdmin } from './admin-accounts.js'
import type { AdminApiKeyService, IssuedApiKey } from './api-keys.js'
import type { AdminRole } from './roles.js'
import type { AdminSessionService } from './sessions.js'

/**
 * Events that belong to no organization (admins, API keys, signing keys, sign-ins, a removed
 * organization, whose own log goes with it) are written to the default organization's log: it always
 * exists and cannot be removed.
 */
export const INSTALLATION_AUDIT_TENANT = DEFAULT_TENANT

export interface AdminActionDeps {
  readonly tenants: TenantService
  readonly tokens: TokenService
  readonly oauthClients: OAuthClientService
  readonly signingKeys: SigningKeyRing
  readonly admins: AdminAccountService
  readonly apiKeys: AdminApiKeyService
  readonly sessions: AdminSessionService
  readonly audit: AuditStore
  readonly notifier: WebhookNotifier
  readonly clock?: () => Date
}

/** An admin changing their own password from one of their sessions. */
export interface OwnPasswordChange {
  readonly adminId: string
  /** The session making the change: it stays signed in, the admin's others end. */
  readonly keptSessionId: string
  readonly currentPassword: string
  readonly newPassword: string
}

export type OwnPasswordChangeOutcome = { readonly changed: true; readonly otherSessionsEnded: number } | { readonly changed: false }

/** A password change in the log: that it changed, never a value (not even a hash). */
const PASSWORD_CHANGED: AttributeChange = { attribute: 'password', after: REDACTED, changed: true }

/** What an audit export reads: a tenant and the same filters as a query, without paging. */
export type AuditExportQuery = Omit<AuditQuery, 'limit' | 'after'>

/** Events an export reads from the store per page. */
const EXPORT_PAGE_SIZE = 500

/**
 * Every administrative act, done and recorded in one place, so the admin API and the CLI cannot differ:
 * each successful act becomes one audit event (actor, client and request from the caller's
 * AuditContext), and credential changes are announced to the organization's webhook.
 *
 * The store gives admin acts no transaction to share with their event, so the event is written right
 * after the act. When that write fails for an act that made a new credential, the credential is revoked
 * again before the error goes up: no credential lives that the log does not know of (its secret was never
 * shown anyway).
 */
export class AdminActions {
  private readonly clock: () => Date

  constructor(private readonly deps: AdminActionDeps) {
    this.clock = deps.clock ?? (() => new Date())
  }

  // ---- SCIM tokens ----

  async issueToken(context: AuditContext, tenant: string, name: string, options: { expiresAt?: Date } = {}): Promise<IssuedToken> {
    await this.deps.tenants.get(tenant)
    const issued = await this.deps.tokens.issue(tenant, name, options)
    const { id, name: stored, expiresAt } = issued.record
    await this.recordOrUndo(
      context,
      { tenant, operation: 'token.create', resource: { type: 'Token', id }, changes: [added('name', stored), ...(expiresAt ? [added('expiresAt', expiresAt)] : [])] },
      () => this.deps.tokens.revoke(tenant, id),
    )
    this.announce(context, 'token.created', tenant, { tokenId: id }, stored)
    return issued
  }

  /** False when the organization has no live token with that id (nothing is recorded then). */
  async revokeToken(context: AuditContext, tenant: string, id: string): Promise<boolean> {
    const token = (await this.deps.tokens.list(tenant)).find((t) => t.id === id)
    if (!token || !(await this.deps.tokens.revoke(tenant, id))) return false
    await this.record(context, { tenant, operation: 'token.revoke', resource: { type: 'Token', id }, changes: [added('revokedAt', this.clock().toISOString())] })
    this.announce(context, 'token.revoked', tenant, { tokenId: id }, token.name)
    return true
  }

  // ---- OAuth clients and signing keys ----

  async createOAuthClient(context: AuditContext, tenant: string, name: string, options: { scopes?: readonly string[] } = {}): Promise<CreatedOAuthClient> {
    await this.deps.tenants.get(tenant)
    const created = await this.deps.oauthClients.create(tenant, name, options)
    const { id, name: stored, scopes } = created.record
    await this.recordOrUndo(
      context,
      { tenant, operation: 'client.create', resource: { type: 'OAuthClient', id }, changes: [added('name', stored), ...(scopes.length ? [added('scopes', scopes)] : [])] },
      () => this.deps.oauthClients.revoke(tenant, id),
    )
    this.announce(context, 'oauthClient.created', tenant, { clientId: id }, stored)
    return created
  }

  async revokeOAuthClient(context: AuditContext, tenant: string, id: string): Promise<boolean> {
    const client = (await this.deps.oauthClients.list(tenant)).find((c) => c.id === id)
    if (!client || !(await this.deps.oauthClients.revoke(tenant, id))) return false
    await this.record(context, { tenant, operation: 'client.revoke', resource: { type: 'OAuthClient', id }, changes: [added('revokedAt', this.clock().toISOString())] })
    this.announce(context, 'oauthClient.revoked', tenant, { clientId: id }, client.name)
    return true
  }

  /** A new signing key; the previous ones stop signing one cache period later and keep verifying until their tokens expire. */
  async rotateSigningKeys(context: AuditContext): Promise<{ kid: string; createdAt: string }> {
    const key = await this.deps.signingKeys.rotate()
    await this.record(context, { tenant: INSTALLATION_AUDIT_TENANT, operation: 'signingKey.rotate', resource: { type: 'SigningKey', id: key.kid } })
    return { kid: key.kid, createdAt: key.createdAt }
  }

  // ---- Organizations ----

  async createOrganization(context: AuditContext, id: string, name: string): Promise<TenantRecord> {
    const record = await this.deps.tenants.create({ id, name })
    await this.record(context, { tenant: record.id, operation: 'organization.create', resource: { type: 'Organization', id: record.id }, changes: [added('name', record.name)] })
    return record
  }

  async renameOrganization(context: AuditContext, id: string, name: string): Promise<TenantRecord> {
    const before = await this.deps.tenants.get(id)
    const after = await this.deps.tenants.rename(id, name)
    await this.record(context, {
      tenant: id,
      operation: 'organization.update',
      resource: { type: 'Organization', id },
      changes: before.name === after.name ? [] : [{ attribute: 'name', before: before.name, after: after.name }],
    })
    return after
  }

  async removeOrganization(context: AuditContext, id: string): Promise<void> {
    const before = await this.deps.tenants.get(id)
    await this.deps.tenants.remove(id)
    await this.record(context, { tenant: INSTALLATION_AUDIT_TENANT, operation: 'organization.delete', resource: { type: 'Organization', id }, changes: [removed('name', before.name)] })
  }

  async updateSettings(context: AuditContext, id: string, change: TenantSettingsChange): Promise<TenantSettings> {
    const before = await this.deps.tenants.getSettings(id)
    const after = await this.deps.tenants.updateSettings(id, change)
    await this.record(context, { tenant: id, operation: 'settings.update', resource: { type: 'Settings', id }, changes: diffSettings(before, after) })
    return after
  }

  // ---- Admins and API keys ----

  async createAdmin(context: AuditContext, input: NewAdmin): Promise<AdminRecord> {
    const record = await this.deps.admins.create(input)
    await this.recordOrUndo(
      context,
      {
        tenant: INSTALLATION_AUDIT_TENANT,
        operation: 'admin.create',
        resource: { type: 'Admin', id: record.id },
        changes: [added('email', record.email), added('role', record.role), ...(record.tenant ? [added('organization', record.tenant)] : [])],
      },
      () => this.deps.admins.remove(record.id),
    )
    return record
  }

  async updateAdmin(context: AuditContext, id: string, change: AdminChange): Promise<AdminRecord> {
    const { before, after } = await this.deps.admins.update(id, change)
    // A disabled admin's sessions end now; a changed role or scope applies from the next request anyway,
    // as the admin is read on every request.
    if (after.disabledAt && !before.disabledAt) await this.deps.sessions.destroyAllOf(id)
    const changes: AttributeChange[] = []
    for (const key of ['role', 'name', 'disabledAt'] as const) {
      if (before[key] !== after[key]) changes.push(changed(key, before[key], after[key]))
    }
    if (before.tenant !== after.tenant) changes.push(changed('organization', before.tenant, after.tenant))
    await this.record(context, { tenant: INSTALLATION_AUDIT_TENANT, operation: 'admin.update', resource: { type: 'Admin', id }, changes })
    return after
  }

  async removeAdmin(context: AuditContext, id: string): Promise<void> {
    const removedAdmin = await this.deps.admins.remove(id)
    await this.deps.sessions.destroyAllOf(id)
    await this.record(context, { tenant: INSTALLATION_AUDIT_TENANT, operation: 'admin.delete', resource: { type: 'Admin', id }, changes: [removed('email', removedAdmin.email)] })
  }

  /**
   * The signed-in admin's own password change (AdminAccountService.changePassword). On success every other
   * session of the admin ends, the one making the change stays; a wrong current password changes nothing
   * and is recorded as a 403 event, as a failed sign-in is recorded, since it is what a stolen session
   * trying to take the account over looks like. Neither password is ever in the event.
   */
  async changeOwnPassword(context: AuditContext, change: OwnPasswordChange): Promise<OwnPasswordChangeOutcome> {
    const resource: AuditResource = { type: 'Admin', id: change.adminId }
    const after = await this.deps.admins.changePassword(change.adminId, change.currentPassword, change.newPassword)
    if (!after) {
      await this.record(context, { tenant: INSTALLATION_AUDIT_TENANT, operation: 'admin.passwordChange', resource, status: 403 })
      return { changed: false }
    }
    const otherSessionsEnded = await this.deps.sessions.destroyOthersOf(change.adminId, change.keptSessionId)
    await this.record(context, { tenant: INSTALLATION_AUDIT_TENANT, operation: 'admin.passwordChange', resource, changes: [PASSWORD_CHANGED] })
    return { changed: true, otherSessionsEnded }
  }

  /**
   * Sets an admin's password without the current one (`roster admin password`, for an owner who forgot
   * theirs) and ends every session of that admin. 404 for an unknown e-mail, 400 for a password the rules
   * refuse.
   */
  async setAdminPassword(context: AuditContext, email: string, newPassword: string): Promise<{ admin: AdminRecord; sessionsEnded: number }> {
    const { id } = await this.deps.admins.getByEmail(email)
    const admin = await this.deps.admins.setPassword(id, newPassword)
    const sessionsEnded = await this.deps.sessions.destroyAllOf(id)
    await this.record(context, { tenant: INSTALLATION_AUDIT_TENANT, operation: 'admin.passwordChange', resource: { type: 'Admin', id }, changes: [PASSWORD_CHANGED] })
    return { admin, sessionsEnded }
  }

  async issueApiKey(context: AuditContext, name: string, role: AdminRole, options: { createdBy: string; expiresAt?: Date }): Promise<IssuedApiKey> {
    const issued = await this.deps.apiKeys.issue(name, role, options)
    const { id } = issued.record
    await this.recordOrUndo(
      context,
      { tenant: INSTALLATION_AUDIT_TENANT, operation: 'apiKey.create', resource: { type: 'ApiKey', id }, changes: [added('name', issued.record.name), added('role', role)] },
      () => this.deps.apiKeys.revoke(id),
    )
    return issued
  }

  async revokeApiKey(context: AuditContext, id: string): Promise<boolean> {
    if (!(await this.deps.apiKeys.revoke(id))) return false
    await this.record(context, { tenant: INSTALLATION_AUDIT_TENANT, operation: 'apiKey.revoke', resource: { type: 'ApiKey', id } })
    return true
  }

  // ---- Sign-in ----

  /** A sign-in attempt, successful (status 200) or not (401, 429): failed ones are what an investigation looks for. */
  recordSignIn(context: AuditContext, status: 200 | 401 | 429, admin?: AdminRecord): Promise<void> {
    return this.record(context, {
      tenant: INSTALLATION_AUDIT_TENANT,
      operation: 'admin.login',
      resource: { type: 'Admin', ...(admin ? { id: admin.id } : {}) },
      status,
    })
  }

  recordSignOut(context: AuditContext): Promise<void> {
    return this.record(context, { tenant: INSTALLATION_AUDIT_TENANT, operation: 'admin.logout', resource: { type: 'Admin', ...(context.actor.id ? { id: context.actor.id } : {}) } })
  }

  // ---- Audit log ----

  /**
   * The organization's events matching `query`, newest first, as NDJSON or CSV. The export itself is
   * recorded first (an export is a copy of the whole log leaving the system), then streamed page by
   * page with backpressure.
   */
  async exportAuditLog(context: AuditContext, query: AuditExportQuery, format: AuditExportFormat): Promise<Readable> {
    await this.deps.tenants.get(query.tenant)
    const filters: AttributeChange[] = Object.entries(query)
      .filter(([k, v]) => k !== 'tenant' && v !== undefined)
      .map(([k, v]) => added(`filter.${k}`, v))
    await this.record(context, { tenant: query.tenant, operation: 'audit.export', resource: { type: 'AuditLog' }, changes: [added('format', format), ...filters] })
    return exportAudit(this.readAll(query), format)
  }

  private async *readAll(query: AuditExportQuery): AsyncGenerator<AuditEvent> {
    let after: AuditQuery['after']
    do {
      const page = await this.deps.audit.queryAuditEvents({ ...query, limit: EXPORT_PAGE_SIZE, ...(after ? { after } : {}) })
      yield* page.events
      after = page.next
    } while (after)
  }

  // ---- Recording ----

  private async record(
    context: AuditContext,
    facts: { tenant: string; operation: AuditOperation; resource: AuditResource; changes?: readonly AttributeChange[]; status?: number },
  ): Promise<void> {
    const event = buildAuditEvent(context, {
      tenant: facts.tenant,
      operation: facts.operation,
      resource: facts.resource,
      changes: facts.changes ?? [],
      outcome: { status: facts.status ?? 200 },
      time: this.clock(),
    })
    await this.deps.audit.insertAuditEvent(event)
  }

  private async recordOrUndo(context: AuditContext, facts: Parameters<AdminActions['record']>[1], undo: () => Promise<unknown>): Promise<void> {
    try {
      await this.record(context, facts)
    } catch (err) {
      await undo().catch(() => {})
      throw err
    }
  }

  private announce(context: AuditContext, type: CredentialEventType, organization: string, ids: Pick<CredentialEvent, 'tokenId' | 'clientId'>, name: string): void {
    this.deps.notifier.notify({ type, organization, ...ids, name, at: this.clock().toISOString(), actor: context.actor })
  }
}

const added = (attribute: string, after: unknown): AttributeChange => ({ attribute, after })
const removed = (attribute: string, before: unknown): AttributeChange => ({ attribute, before })
const changed = (attribute: string, before: unknown, after: unknown): AttributeChange => ({
  attribute,
  ...(before !== undefined ? { before } : {}),
  ...(after !== undefined ? { after } : {}),
})

/**
 * The settings that differ. The webhook URL is redacted (URLs of chat integrations hold a secret in their
 * path), as diffAttributes redacts secrets: the log says that it changed, never what it is.
 */
function diffSettings(before: TenantSettings, after: TenantSettings): AttributeChange[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort() as (keyof TenantSettings)[]
  const changes: AttributeChange[] = []
  for (const key of keys) {
    if (JSON.stringify(before[key]) === JSON.stringify(after[key])) continue
    if (key === 'webhookUrl') changes.push({ attribute: key, ...(before[key] ? { before: REDACTED } : {}), ...(after[key] ? { after: REDACTED } : {}), changed: true })
    else changes.push(changed(key, before[key], after[key]))
  }
  return changes
}
