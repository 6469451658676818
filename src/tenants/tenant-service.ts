import { ALLOW_PRIVATE_HINT, literalHostRefusalOf } from '../notifications/resolve-webhook-address.js'
import { SchemaRegistry, invalidValue, notFound, parseExtensionSchemas, type SchemaDefinition } from '../scim/index.js'
import { DEFAULT_TENANT, DEFAULT_TENANT_SETTINGS, type TenantRecord, type TenantSettings, type TenantStore } from '../store/ports.js'

export { DEFAULT_TENANT_SETTINGS }

/** The {org} of /o/{org}/scim/v2: a lower-case, URL-safe slug. */
export const TENANT_ID = /^[a-z0-9][a-z0-9-]{0,62}$/

/** The resource types an organization may serve: the core ones (RFC 7643 §4). */
export const SCIM_RESOURCE_TYPES: readonly string[] = ['User', 'Group']

/** A change to an organization's settings: the keys given replace the stored ones; webhookUrl null removes it. */
export type TenantSettingsChange = { readonly [K in Exclude<keyof TenantSettings, 'webhookUrl'>]?: TenantSettings[K] } & {
  readonly webhookUrl?: string | null
}

/** An organization as its SCIM requests see it: its settings and the schema registry built from them. */
export interface TenantContext {
  readonly tenant: TenantRecord
  readonly settings: TenantSettings
  readonly registry: SchemaRegistry
}

export interface TenantServiceOptions {
  readonly clock?: () => Date
  /**
   * How long an organization's settings and registry are used before they are read again. Changes made
   * through this instance apply at once; other instances (several behind a load balancer) see them
   * within this time.
   */
  readonly cacheTtlMs?: number
  /**
   * ROSTER_WEBHOOK_ALLOW_PRIVATE: accept webhook URLs whose host is a loopback, private or other
   * special-purpose IP address, or a localhost name. Default false (the notifier refuses them anyway).
   */
  readonly allowPrivateWebhookAddresses?: boolean
}

interface CacheEntry {
  readonly at: number
  readonly value: Promise<TenantContext | undefined>
}

const NUMBER_RANGES = {
  auditReadSampleRate: { min: 0, max: 1, integer: false },
  auditRetentionDays: { min: 1, max: 36_500, integer: true },
  scimRateLimitPerMinute: { min: 1, max: 10_000_000, integer: true },
} as const

const SETTING_KEYS: ReadonlySet<string> = new Set<keyof TenantSettings>([
  'deletePolicy',
  'resourceTypes',
  'extensionSchemas',
  'webhookUrl',
  'auditReads',
  'auditReadSampleRate',
  'auditRetentionDays',
  'scimRateLimitPerMinute',
])

/**
 * Organizations (tenants): each has its own users, groups, tokens, OAuth clients, audit log and settings,
 * and its own SCIM base URL, /o/{id}/scim/v2 (the 'default' one is also at /scim/v2). Problems with what
 * a caller asks for are ScimErrors: 400 invalidValue (all problems of one request in one detail), 404 for
 * an unknown organization, 409 uniqueness (from the store) for a taken id.
 */
export class TenantService {
  private readonly clock: () => Date
  private readonly cacheTtlMs: number
  private readonly allowPrivateWebhookAddresses: boolean
  private readonly cache = new Map<string, CacheEntry>()

  constructor(
    private readonly store: TenantStore,
    options: TenantServiceOptions = {},
  ) {
    this.clock = options.clock ?? (() => new Date())
    this.cacheTtlMs = options.cacheTtlMs ?? 2_000
    this.allowPrivateWebhookAddresses = options.allowPrivateWebhookAddresses ?? false
  }

  async create(input: { readonly id: string; readonly name: string; readonly settings?: TenantSettingsChange }): Promise<TenantRecord> {
    const problems: string[] = []
    if (typeof input.id !== 'string' || !TENANT_ID.test(input.id)) {
      problems.push(`id must be 1 to 63 lower-case letters, digits and hyphens, starting with a letter or digit (got ${JSON.stringify(input.id)})`)
    }
    const name = checkName(input.name, problems)
    const settings = mergeSettings(DEFAULT_TENANT_SETTINGS, input.settings ?? {}, problems, this.allowPrivateWebhookAddresses)
    if (problems.length > 0) throw invalidValue(problems.join('; '))
    const record: TenantRecord = { id: input.id, name: name!, createdAt: this.clock().toISOString(), settings: settings! }
    await this.store.insertTenant(record)
    this.cache.delete(record.id)
    return record
  }

  list(): Promise<TenantRecord[]> {
    return this.store.listTenants()
  }

  async get(id: string): Promise<TenantRecord> {
    const record = TENANT_ID.test(id) ? await this.store.getTenant(id) : undefined
    if (!record) throw notFound(`Organization ${id} not found`)
    return record
  }

  async rename(id: string, name: string): Promise<TenantRecord> {
    const problems: string[] = []
    const checked = checkName(name, problems)
    if (problems.length > 0) throw invalidValue(problems.join('; '))
    return this.update(id, { name: checked! })
  }

  /** Removes the organization and everything it owns. The default organization cannot be removed. */
  async remove(id: string): Promise<void> {
    if (id === DEFAULT_TENANT) throw invalidValue('The default organization cannot be removed')
    const removed = TENANT_ID.test(id) && (await this.store.deleteTenant(id))
    this.cache.delete(id)
    if (!removed) throw notFound(`Organization ${id} not found`)
  }

  async getSettings(id: string): Promise<TenantSettings> {
    return (await this.get(id)).settings
  }

  /** Validates the change against the stored settings and stores the result; 400 invalidValue lists every problem. */
  async updateSettings(id: string, change: TenantSettingsChange): Promise<TenantSettings> {
    const current = await this.get(id)
    const problems: string[] = []
    const settings = mergeSettings(current.settings, change, problems, this.allowPrivateWebhookAddresses)
    if (problems.length > 0) throw invalidValue(problems.join('; '))
    return (await this.update(id, { settings: settings! })).settings
  }

  /**
   * Creates the default organization when it is missing and applies what the configuration says about it
   * (ROSTER_DELETE_POLICY, ROSTER_SCHEMAS_FILE): the environment is the operator's word at start.
   */
  async ensureDefault(overrides: TenantSettingsChange = {}): Promise<TenantRecord> {
    const existing = await this.store.getTenant(DEFAULT_TENANT)
    if (!existing) {
      try {
        return await this.create({ id: DEFAULT_TENANT, name: 'Default', settings: overrides })
      } catch (e) {
        // Another instance starting at the same time created it first.
        if (!(await this.store.getTenant(DEFAULT_TENANT))) throw e
      }
    }
    if (Object.keys(overrides).length === 0) return this.get(DEFAULT_TENANT)
    await this.updateSettings(DEFAULT_TENANT, overrides)
    return this.get(DEFAULT_TENANT)
  }

  /**
   * The organization's settings and schema registry, read from the store at most once per cacheTtlMs;
   * undefined for an organization that does not exist (cached as well, so probing unknown ids costs
   * no database read per request).
   */
  contextFor(id: string): Promise<TenantContext | undefined> {
    const now = this.clock().getTime()
    const hit = this.cache.get(id)
    if (hit && now - hit.at < this.cacheTtlMs) return hit.value
    if (!TENANT_ID.test(id)) return Promise.resolve(undefined)
    const value = this.load(id)
    this.cache.set(id, { at: now, value })
    // A failed read is not remembered: the next request tries again.
    value.catch(() => {
      if (this.cache.get(id)?.value === value) this.cache.delete(id)
    })
    if (this.cache.size > 10_000) this.sweep(now)
    return value
  }

  /** The organization's registry: its extension schemas, and only the resource types it serves. 404 when unknown. */
  async registryFor(id: string): Promise<SchemaRegistry> {
    return (await this.require(id)).registry
  }

  async settingsFor(id: string): Promise<TenantSettings> {
    return (await this.require(id)).settings
  }

  async exists(id: string): Promise<boolean> {
    return (await this.contextFor(id)) !== undefined
  }

  private async require(id: string): Promise<TenantContext> {
    const context = await this.contextFor(id)
    if (!context) throw notFound(`Organization ${id} not found`)
    return context
  }

  private async load(id: string): Promise<TenantContext | undefined> {
    const tenant = await this.store.getTenant(id)
    if (!tenant) return undefined
    return { tenant, settings: tenant.settings, registry: registryOf(tenant.settings) }
  }

  private async update(id: string, change: { readonly name?: string; readonly settings?: TenantSettings }): Promise<TenantRecord> {
    const updated = TENANT_ID.test(id) ? await this.store.updateTenant(id, change) : undefined
    this.cache.delete(id)
    if (!updated) throw notFound(`Organization ${id} not found`)
    return updated
  }

  private sweep(now: number): void {
    for (const [k, v] of this.cache) if (now - v.at >= this.cacheTtlMs) this.cache.delete(k)
  }
}

/**
 * The schema registry of an organization: the core schemas with its extension schemas attached, reduced
 * to the resource types it serves, so discovery shows only those, and the schemas they use.
 * Throws a plain Error for extension schemas that do not parse (mergeSettings checks them before storing).
 */
export function registryOf(settings: Pick<TenantSettings, 'resourceTypes' | 'extensionSchemas'>): SchemaRegistry {
  const full = SchemaRegistry.withCoreSchemas(parseExtensionSchemas([...settings.extensionSchemas]))
  const enabled = new Set(settings.resourceTypes.map((t) => t.toLowerCase()))
  const types = full.listResourceTypes().filter((t) => enabled.has(t.name.toLowerCase()))
  const schemas = new Map<string, SchemaDefinition>()
  for (const t of types) for (const bound of full.schemasOf(t.name)) schemas.set(bound.definition.id, bound.definition)
  return new SchemaRegistry([...schemas.values()], types)
}

function checkName(name: unknown, problems: string[]): string | undefined {
  const trimmed = typeof name === 'string' ? name.trim() : ''
  if (!trimmed || trimmed.length > 200) {
    problems.push('name must be 1 to 200 characters')
    return undefined
  }
  return trimmed
}

/** `base` with `change` applied, or undefined with the reasons added to `problems`. */
function mergeSettings(base: TenantSettings, change: TenantSettingsChange, problems: string[], allowPrivateWebhookAddresses: boolean): TenantSettings | undefined {
  const before = problems.length
  if (!change || typeof change !== 'object' || Array.isArray(change)) {
    problems.push('settings must be an object')
    return undefined
  }
  for (const key of Object.keys(change)) if (!SETTING_KEYS.has(key)) problems.push(`unknown setting ${JSON.stringify(key)}`)
  const { webhookUrl, ...rest } = change
  const merged: { -readonly [K in keyof TenantSettings]: TenantSettings[K] } = { ...base }
  for (const [key, value] of Object.entries(rest)) {
    if (value !== undefined && SETTING_KEYS.has(key)) (merged as Record<string, unknown>)[key] = value
  }
  if (webhookUrl === null) delete merged.webhookUrl
  else if (webhookUrl !== undefined) merged.webhookUrl = webhookUrl

  if (merged.deletePolicy !== 'delete' && merged.deletePolicy !== 'deactivate') problems.push(`deletePolicy must be "delete" or "deactivate"`)
  if (merged.auditReads !== 'off' && merged.auditReads !== 'all' && merged.auditReads !== 'sample') problems.push('auditReads must be "off", "all" or "sample"')
  for (const [key, range] of Object.entries(NUMBER_RANGES)) {
    const value = merged[key as keyof typeof NUMBER_RANGES]
    if (typeof value !== 'number' || !Number.isFinite(value) || value < range.min || value > range.max || (range.integer && !Number.isInteger(value))) {
      problems.push(`${key} must be ${range.integer ? 'an integer' : 'a number'} from ${range.min} to ${range.max}`)
    }
  }
  const types = merged.resourceTypes
  if (!Array.isArray(types) || types.length === 0 || types.some((t) => typeof t !== 'string' || !SCIM_RESOURCE_TYPES.includes(t))) {
    problems.push(`resourceTypes must be a non-empty list of ${SCIM_RESOURCE_TYPES.map((t) => `"${t}"`).join(', ')}`)
  } else {
    merged.resourceTypes = [...new Set(types)]
  }
  if (merged.webhookUrl !== undefined && !isHttpUrl(merged.webhookUrl)) problems.push('webhookUrl must be an http or https URL')
  else if (merged.webhookUrl !== undefined && !allowPrivateWebhookAddresses) {
    // Only what the URL itself says; host names are resolved and checked at each delivery (the notifier).
    const refusal = literalHostRefusalOf(new URL(merged.webhookUrl).hostname)
    if (refusal) problems.push(`webhookUrl must not point at a private or local address: ${refusal}. ${ALLOW_PRIVATE_HINT}`)
  }
  const schemas = change.extensionSchemas
  if (schemas !== undefined) {
    // The form the extensions file takes is accepted too: a ListResponse, as GET /Schemas answers.
    const list = Array.isArray(schemas) ? schemas : (schemas as { Resources?: unknown } | null)?.Resources
    if (!Array.isArray(list)) problems.push('extensionSchemas must be an array of schemas (RFC 7643 §7)')
    else merged.extensionSchemas = list
  }
  if (problems.length === before) {
    try {
      registryOf(merged)
    } catch (e) {
      problems.push(`extensionSchemas: ${(e as Error).message}`)
    }
  }
  return problems.length === before ? merged : undefined
}

function isHttpUrl(text: unknown): boolean {
  if (typeof text !== 'string' || text.length > 2048) return false
  try {
    const url = new URL(text)
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== ''
  } catch {
    return false
  }
}
