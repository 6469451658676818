import type { KeyObject } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { pino } from 'pino'
import { AdminAccountService } from './admin/admin-accounts.js'
import { AdminActions } from './admin/admin-actions.js'
import { AdminApiKeyService } from './admin/api-keys.js'
import { AdminSessionService } from './admin/sessions.js'
import type { Config } from './config.js'
import { WebhookNotifier, type NotifierLog } from './notifications/webhook-notifier.js'
import { OAuthClientService } from './oauth/oauth-clients.js'
import { SigningKeyDecryptionError, SigningKeyRing } from './oauth/signing-keys.js'
import { BulkService } from './provisioning/bulk-service.js'
import { ProvisioningService } from './provisioning/resource-service.js'
import { SchemaRegistry, parseExtensionSchemas } from './scim/index.js'
import { openSecretKeyFile } from './secret-key-file.js'
import { DEFAULT_TENANT, type Store } from './store/ports.js'
import { openSqliteStore } from './store/sqlite/sqlite-store.js'
import { TenantService, type TenantSettingsChange } from './tenants/tenant-service.js'
import { TokenService } from './tokens/token-service.js'

/** The parts of a running Roster, composed once from the config. The only module that picks an adapter. */
export interface Roster {
  readonly config: Config
  /** The default organization's schema registry as of start (each organization has its own: tenants.registryFor). */
  readonly registry: SchemaRegistry
  readonly store: Store
  readonly tokens: TokenService
  /** Organizations, their settings and per-organization schema registries. */
  readonly tenants: TenantService
  /** OAuth 2.0 clients (client credentials grant) of every organization. */
  readonly oauthClients: OAuthClientService
  /** The keys that sign and verify OAuth access tokens, shared by every instance through the store. */
  readonly signingKeys: SigningKeyRing
  readonly provisioning: ProvisioningService
  readonly bulk: BulkService
  /** Admin accounts (admin API, console, `roster admin create`). */
  readonly admins: AdminAccountService
  readonly adminSessions: AdminSessionService
  readonly apiKeys: AdminApiKeyService
  /** Announces credential events to organizations' webhooks, in the background; drain or close it before exiting. */
  readonly notifier: WebhookNotifier
  /** Every administrative act, audited (and announced): the admin API and the CLI both go through it. */
  readonly actions: AdminActions
}

export function extensionsFileOf(config: Config): string | undefined {
  if (config.extensionsFile) return config.extensionsFile
  const fallback = resolve(config.dataDir, 'schemas.json')
  return existsSync(fallback) ? fallback : undefined
}

/**
 * The extension schemas file's schemas (a ListResponse is unwrapped), checked so that start fails with the
 * file's problem rather than any request; undefined without a file.
 */
export function loadExtensionSchemas(config: Config): unknown[] | undefined {
  const file = extensionsFileOf(config)
  if (!file) return undefined
  let json: unknown
  try {
    json = JSON.parse(readFileSync(file, 'utf8'))
  } catch (e) {
    throw new Error(`cannot read extension schemas from ${file}: ${(e as Error).message}`)
  }
  try {
    SchemaRegistry.withCoreSchemas(parseExtensionSchemas(json))
  } catch (e) {
    throw new Error(`extension schemas in ${file}: ${(e as Error).message}`)
  }
  return Array.isArray(json) ? json : ((json as { Resources: unknown[] }).Resources ?? [])
}

/**
 * What the configuration says about the default organization, applied to its settings at start: the
 * delete policy when ROSTER_DELETE_POLICY is set, the extension schemas when there is a schemas file.
 */
export function defaultTenantOverrides(config: Config): TenantSettingsChange {
  const extensionSchemas = loadExtensionSchemas(config)
  return { ...(config.deletePolicy ? { deletePolicy: config.deletePolicy } : {}), ...(extensionSchemas ? { extensionSchemas } : {}) }
}

/**
 * The key that seals the OAuth signing keys (src/oauth/sealed-jwk.ts) and where it came from, for errors.
 * ROSTER_SECRET_KEY when set (readConfig requires it with PostgreSQL: all instances need the same key);
 * else <dataDir>/secret.key, created on the first start, so that an embedded install has nothing to set up
 * and still keeps the key apart from the database: a leaked roster.db (a dump, a copy, a backup of that
 * file alone) does not let its holder mint access tokens.
 */
function keyEncryptionKeyOf(config: Config): { readonly key: KeyObject; readonly source: string } {
  if (config.secretKey) return { key: config.secretKey, source: 'ROSTER_SECRET_KEY' }
  const path = resolve(config.dataDir, 'secret.key')
  return { key: openSecretKeyFile(path), source: `the key file ${path}` }
}

/** PostgreSQL when ROSTER_DATABASE_URL is set (several instances may share it), else SQLite in the data dir. */
async function openStore(config: Config): Promise<Store> {
  if (config.databaseUrl) {
    // Loaded only when used, so a SQLite deployment never loads the PostgreSQL driver.
    const { openPostgresStore } = await import('./store/postgres/postgres-store.js')
    return openPostgresStore(config.databaseUrl, { poolSize: config.pgPoolSize, schema: config.pgSchema })
  }
  mkdirSync(config.dataDir, { recursive: true })
  return openSqliteStore(config.databasePath, { synchronous: config.sqliteSynchronous })
}

export async function composeRoster(config: Config): Promise<Roster> {
  const overrides = defaultTenantOverrides(config)
  // Before the store opens: a malformed key file fails the start without touching the database.
  const keyEncryption = keyEncryptionKeyOf(config)
  const store = await openStore(config)
  const tokens = new TokenService(store.tokens)
  const tenants = new TenantService(store.tenants, { allowPrivateWebhookAddresses: config.webhookAllowPrivate })
  try {
    await tenants.ensureDefault(overrides)
  } catch (e) {
    await store.close()
    throw e
  }
  const registry = await tenants.registryFor(DEFAULT_TENANT)
  const provisioning = new ProvisioningService({ store: store.resources, tenants, auditLog: store.audit })
  const oauthClients = new OAuthClientService(store.oauthClients)
  const signingKeys = new SigningKeyRing(store.signingKeys, keyEncryption.key)
  try {
    // A wrong key fails the start here, naming the key it cannot open, not POST /oauth/token with a 500.
    await signingKeys.sealStoredKeys()
  } catch (e) {
    await store.close()
    if (e instanceof SigningKeyDecryptionError) throw new Error(`${e.message}; is ${keyEncryption.source} the key this database's signing keys were sealed with?`, { cause: e })
    throw e
  }
  const administration = composeAdministration(config, store, { tokens, tenants, oauthClients, signingKeys })
  return { config, registry, store, tokens, tenants, oauthClients, signingKeys, provisioning, bulk: new BulkService(provisioning), ...administration }
}

/**
 * The administrative side: admin accounts, sessions, API keys, the webhook notifier and the audited acts.
 * Webhook problems are logged to stderr (never stdout, where the CLI prints its results).
 */
function composeAdministration(
  config: Config,
  store: Store,
  parts: Pick<Roster, 'tokens' | 'tenants' | 'oauthClients' | 'signingKeys'>,
): Pick<Roster, 'admins' | 'adminSessions' | 'apiKeys' | 'notifier' | 'actions'> {
  const log: NotifierLog = pino({ level: config.logLevel, base: { component: 'webhook' } }, pino.destination(2))
  const admins = new AdminAccountService(store.admins, { organizationExists: (id) => parts.tenants.exists(id) })
  const adminSessions = new AdminSessionService(store.adminSessions)
  const apiKeys = new AdminApiKeyService(store.adminApiKeys)
  const notifier = new WebhookNotifier({
    webhookUrlOf: async (org) => (await parts.tenants.contextFor(org))?.settings.webhookUrl,
    ...(config.webhookSecret ? { secret: config.webhookSecret } : {}),
    allowPrivateAddresses: config.webhookAllowPrivate,
    log,
  })
  const actions = new AdminActions({ ...parts, admins, apiKeys, sessions: adminSessions, audit: store.audit, notifier })
  return { admins, adminSessions, apiKeys, notifier, actions }
}
