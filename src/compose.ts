import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Config } from './config.js'
import { BulkService } from './provisioning/bulk-service.js'
import { ProvisioningService } from './provisioning/resource-service.js'
import { SchemaRegistry, parseExtensionSchemas } from './scim/index.js'
import type { Store } from './store/ports.js'
import { openSqliteStore } from './store/sqlite/sqlite-store.js'
import { TokenService } from './tokens/token-service.js'

/** The parts of a running Roster, composed once from the config. The only module that picks an adapter. */
export interface Roster {
  readonly config: Config
  readonly registry: SchemaRegistry
  readonly store: Store
  readonly tokens: TokenService
  readonly provisioning: ProvisioningService
  readonly bulk: BulkService
}

export function extensionsFileOf(config: Config): string | undefined {
  if (config.extensionsFile) return config.extensionsFile
  const fallback = resolve(config.dataDir, 'schemas.json')
  return existsSync(fallback) ? fallback : undefined
}

/** Core schemas plus the extension schemas file, if any. Fails at start with the file's problem, not per request. */
export function loadRegistry(config: Config): SchemaRegistry {
  const file = extensionsFileOf(config)
  if (!file) return SchemaRegistry.withCoreSchemas()
  let json: unknown
  try {
    json = JSON.parse(readFileSync(file, 'utf8'))
  } catch (e) {
    throw new Error(`cannot read extension schemas from ${file}: ${(e as Error).message}`)
  }
  return SchemaRegistry.withCoreSchemas(parseExtensionSchemas(json))
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
  const registry = loadRegistry(config)
  const store = await openStore(config)
  const tokens = new TokenService(store.tokens)
  const provisioning = new ProvisioningService({
    store: store.resources,
    registry,
    settings: () => ({ deletePolicy: config.deletePolicy, maxResults: config.maxResults }),
  })
  return { config, registry, store, tokens, provisioning, bulk: new BulkService(provisioning) }
}
