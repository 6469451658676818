import { createSecretKey, type KeyObject } from 'node:crypto'
import { resolve } from 'node:path'

export type DeletePolicy = 'delete' | 'deactivate'

/** Everything Roster reads from its environment, read once at start into one typed object. */
export interface Config {
  readonly host: string
  readonly port: number
  readonly dataDir: string
  /** SQLite database file inside dataDir. */
  readonly databasePath: string
  /**
   * ROSTER_DELETE_POLICY, when set: applied to the default organization's settings at start. Unset, the
   * organization keeps its own setting (initially 'delete'; administrators change it in its settings).
   */
  readonly deletePolicy?: DeletePolicy
  /**
   * Extension schemas file in RFC 7643 §7 form; defaults to <dataDir>/schemas.json when that exists. Its
   * schemas become the default organization's extension schemas at start.
   */
  readonly extensionsFile?: string
  readonly logLevel: string
  /** Largest accepted request body, bytes, except on /Bulk (bulkMaxPayloadSize). */
  readonly bodyLimit: number
  /** RFC 7644 §3.7.4 maxOperations: the most operations one POST /Bulk may carry (413 above). */
  readonly bulkMaxOperations: number
  /** RFC 7644 §3.7.4 maxPayloadSize: the largest POST /Bulk body, bytes (413 above), whatever bodyLimit says. */
  readonly bulkMaxPayloadSize: number
  /** Largest page a list or search returns (RFC 7644 §3.4.2.4). */
  readonly maxResults: number
  /** Public base URL, e.g. https://scim.example.com; when unset, derived from each request's Host. */
  readonly publicUrl?: string
  readonly trustProxy: boolean
  readonly sqliteSynchronous: 'full' | 'normal'
  /** postgres:// or postgresql:// URL; when set, Roster stores everything in PostgreSQL instead of SQLite. */
  readonly databaseUrl?: string
  /** Connections each instance keeps open to PostgreSQL at most. */
  readonly pgPoolSize: number
  /** The PostgreSQL schema holding Roster's tables (created when missing). */
  readonly pgSchema: string
  /**
   * ROSTER_SECRET_KEY: the AES-256 key-encryption key of the OAuth signing keys at rest. Required with
   * databaseUrl (every instance must open the keys the others sealed); unset on SQLite, Roster keeps one
   * in <dataDir>/secret.key (compose.ts).
   */
  readonly secretKey?: KeyObject
  /**
   * The `iss` of OAuth access tokens, checked on every one presented. A fixed name rather than the
   * request's origin, so tokens stay valid whichever host name or instance a client reaches.
   */
  readonly oauthIssuer: string
  /** redis:// URL: SCIM and admin API rate-limit counters shared by every instance (needs the ioredis package). Unset: per instance, in memory. */
  readonly redisUrl?: string
  /** Key of the HMAC-SHA256 signature on webhook deliveries; without it deliveries are unsigned. */
  readonly webhookSecret?: string
  /**
   * ROSTER_WEBHOOK_ALLOW_PRIVATE=true: webhooks may reach loopback, private (RFC 1918), link-local and other
   * special-purpose addresses, for receivers on a private network. Default false, against server-side
   * request forgery: such URLs are refused when saved, and deliveries to hosts resolving there are refused.
   */
  readonly webhookAllowPrivate: boolean
  /** Admin API requests per minute per session or API key (429 with Retry-After beyond). */
  readonly adminRateLimitPerMinute: number
  /** Admin sign-in attempts per 15 minutes per IP address, and failed ones per e-mail address. */
  readonly adminSignInAttempts: number
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

/** Only the scheme is checked here; the driver reports anything else wrong with the URL at start. */
const postgresUrl = (raw: string | undefined): string | undefined => {
  if (raw === undefined || raw === '') return undefined
  if (!/^postgres(ql)?:\/\//.test(raw)) throw new ConfigError('ROSTER_DATABASE_URL must start with postgres:// or postgresql://')
  return raw
}

const schemaName = (raw: string | undefined): string => {
  if (raw === undefined || raw === '') return 'public'
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(raw)) throw new ConfigError(`ROSTER_PG_SCHEMA must be a lower-case identifier ([a-z_][a-z0-9_]*), got "${raw}"`)
  return raw
}

/**
 * A 32-byte key as 64 hex digits or base64 (43 characters, or 44 with the padding; the URL-safe alphabet
 * too), surrounding white space ignored. Shared with the key file (src/secret-key-file.ts), whose path is
 * then `name`. The value is never echoed: it is a secret.
 */
export function parseSecretKey(name: string, raw: string): KeyObject {
  const text = raw.trim()
  let bytes: Buffer | undefined
  if (/^[0-9a-fA-F]{64}$/.test(text)) bytes = Buffer.from(text, 'hex')
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) bytes = Buffer.from(text, 'base64')
  if (bytes?.length !== 32) {
    throw new ConfigError(`${name} must be 32 bytes as base64 (44 characters, e.g. from \`openssl rand -base64 32\`) or hex (64 characters); got ${text.length} characters`)
  }
  return createSecretKey(bytes)
}

const oauthIssuer = (raw: string | undefined): string => {
  if (raw === undefined || raw === '') return 'roster'
  if (raw.length > 255 || /\s/.test(raw)) throw new ConfigError('ROSTER_OAUTH_ISSUER must be a name or URL of at most 255 characters without spaces')
  return raw
}

/** Only the scheme is checked; the URL is never echoed (it may hold a password). */
const redisUrl = (raw: string | undefined): string | undefined => {
  if (raw === undefined || raw === '') return undefined
  if (!/^rediss?:\/\//.test(raw)) throw new ConfigError('ROSTER_REDIS_URL must start with redis:// or rediss://')
  return raw
}

export function readConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const dataDir = resolve(cwd, env.ROSTER_DATA_DIR || './data')
  const publicUrl = env.ROSTER_PUBLIC_URL?.replace(/\/+$/, '')
  if (publicUrl && !/^https?:\/\/[^/]+/.test(publicUrl)) throw new ConfigError(`ROSTER_PUBLIC_URL must be an http(s) URL, got "${publicUrl}"`)
  const databaseUrl = postgresUrl(env.ROSTER_DATABASE_URL)
  const secretKey = env.ROSTER_SECRET_KEY ? parseSecretKey('ROSTER_SECRET_KEY', env.ROSTER_SECRET_KEY) : undefined
  if (databaseUrl && !secretKey) {
    // A key file per instance would give each instance its own key, and none could open the others' signing keys.
    throw new ConfigError(
      'ROSTER_SECRET_KEY is required with ROSTER_DATABASE_URL: every instance must use the same key to encrypt and decrypt the OAuth signing keys (generate one with `openssl rand -base64 32`)',
    )
  }
  return {
    host: env.ROSTER_HOST || '127.0.0.1',
    port: integer('ROSTER_PORT', env.ROSTER_PORT, 8080, 0, 65535),
    dataDir,
    databasePath: resolve(dataDir, 'roster.db'),
    ...(env.ROSTER_DELETE_POLICY ? { deletePolicy: oneOf('ROSTER_DELETE_POLICY', env.ROSTER_DELETE_POLICY, ['delete', 'deactivate'] as const, 'delete') } : {}),
    ...(env.ROSTER_SCHEMAS_FILE ? { extensionsFile: resolve(cwd, env.ROSTER_SCHEMAS_FILE) } : {}),
    logLevel: oneOf('ROSTER_LOG_LEVEL', env.ROSTER_LOG_LEVEL, ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    bodyLimit: integer('ROSTER_BODY_LIMIT', env.ROSTER_BODY_LIMIT, 1_048_576, 1024, 100 * 1_048_576),
    // 4 MiB holds 1,000 operations of RFC 7643 §8.3's full enterprise User (3.6 KB each, compact).
    bulkMaxOperations: integer('ROSTER_BULK_MAX_OPERATIONS', env.ROSTER_BULK_MAX_OPERATIONS, 1000, 1, 100_000),
    bulkMaxPayloadSize: integer('ROSTER_BULK_MAX_PAYLOAD', env.ROSTER_BULK_MAX_PAYLOAD, 4 * 1_048_576, 1024, 100 * 1_048_576),
    maxResults: integer('ROSTER_MAX_RESULTS', env.ROSTER_MAX_RESULTS, 1000, 1, 100_000),
    ...(publicUrl ? { publicUrl } : {}),
    trustProxy: env.ROSTER_TRUST_PROXY === 'true',
    sqliteSynchronous: oneOf('ROSTER_SQLITE_SYNCHRONOUS', env.ROSTER_SQLITE_SYNCHRONOUS, ['full', 'normal'] as const, 'full'),
    ...(databaseUrl ? { databaseUrl } : {}),
    pgPoolSize: integer('ROSTER_PG_POOL_SIZE', env.ROSTER_PG_POOL_SIZE, 10, 1, 1000),
    pgSchema: schemaName(env.ROSTER_PG_SCHEMA),
    ...(secretKey ? { secretKey } : {}),
    oauthIssuer: oauthIssuer(env.ROSTER_OAUTH_ISSUER),
    ...(redisUrl(env.ROSTER_REDIS_URL) ? { redisUrl: env.ROSTER_REDIS_URL! } : {}),
    ...(env.ROSTER_WEBHOOK_SECRET ? { webhookSecret: env.ROSTER_WEBHOOK_SECRET } : {}),
    webhookAllowPrivate: env.ROSTER_WEBHOOK_ALLOW_PRIVATE === 'true',
    adminRateLimitPerMinute: integer('ROSTER_ADMIN_RATE_LIMIT', env.ROSTER_ADMIN_RATE_LIMIT, 600, 1, 1_000_000),
    adminSignInAttempts: integer('ROSTER_ADMIN_SIGNIN_LIMIT', env.ROSTER_ADMIN_SIGNIN_LIMIT, 10, 1, 100_000),
  }
}

export { ConfigError }
