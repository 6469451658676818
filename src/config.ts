import { resolve } from 'node:path'

export type DeletePolicy = 'delete' | 'deactivate'

/** Everything Roster reads from its environment, read once at start into one typed object. */
export interface Config {
  readonly host: string
  readonly port: number
  readonly dataDir: string
  /** SQLite database file inside dataDir. */
  readonly databasePath: string
  readonly deletePolicy: DeletePolicy
  /** Extension schemas file in RFC 7643 §7 form; defaults to <dataDir>/schemas.json when that exists. */
  readonly extensionsFile?: string
  readonly logLevel: string
  /** Largest accepted request body, bytes (RFC 7644 §3.7.4 maxPayloadSize is advertised from it). */
  readonly bodyLimit: number
  /** Largest page a list or search returns (RFC 7644 §3.4.2.4). */
  readonly maxResults: number
  /** Public base URL, e.g. https://scim.example.com; when unset, derived from each request's Host. */
  readonly publicUrl?: string
  readonly trustProxy: boolean
  readonly sqliteSynchronous: 'full' | 'normal'
}

class ConfigError extends Error {
  override readonly name = 'ConfigError'
}

const integer = (name: string, raw: string | undefined, fallback: number, min: number, max: number): number => {
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be an integer in [${min}, ${max}], got "${raw}"`)
  return n
}

const oneOf = <T extends string>(name: string, raw: string | undefined, allowed: readonly T[], fallback: T): T => {
  if (raw === undefined || raw === '') return fallback
  const hit = allowed.find((a) => a === raw.toLowerCase())
  if (!hit) throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`)
  return hit
}

export function readConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const dataDir = resolve(cwd, env.ROSTER_DATA_DIR || './data')
  const publicUrl = env.ROSTER_PUBLIC_URL?.replace(/\/+$/, '')
  if (publicUrl && !/^https?:\/\/[^/]+/.test(publicUrl)) throw new ConfigError(`ROSTER_PUBLIC_URL must be an http(s) URL, got "${publicUrl}"`)
  return {
    host: env.ROSTER_HOST || '127.0.0.1',
    port: integer('ROSTER_PORT', env.ROSTER_PORT, 8080, 0, 65535),
    dataDir,
    databasePath: resolve(dataDir, 'roster.db'),
    deletePolicy: oneOf('ROSTER_DELETE_POLICY', env.ROSTER_DELETE_POLICY, ['delete', 'deactivate'] as const, 'delete'),
    ...(env.ROSTER_SCHEMAS_FILE ? { extensionsFile: resolve(cwd, env.ROSTER_SCHEMAS_FILE) } : {}),
    logLevel: oneOf('ROSTER_LOG_LEVEL', env.ROSTER_LOG_LEVEL, ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    bodyLimit: integer('ROSTER_BODY_LIMIT', env.ROSTER_BODY_LIMIT, 1_048_576, 1024, 100 * 1_048_576),
    maxResults: integer('ROSTER_MAX_RESULTS', env.ROSTER_MAX_RESULTS, 1000, 1, 100_000),
    ...(publicUrl ? { publicUrl } : {}),
    trustProxy: env.ROSTER_TRUST_PROXY === 'true',
    sqliteSynchronous: oneOf('ROSTER_SQLITE_SYNCHRONOUS', env.ROSTER_SQLITE_SYNCHRONOUS, ['full', 'normal'] as const, 'full'),
  }
}

export { ConfigError }
