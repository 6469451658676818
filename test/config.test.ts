import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, test } from 'node:test'
import { readConfig } from '../src/config.js'

/** A ROSTER_SECRET_KEY, as readConfig requires one with ROSTER_DATABASE_URL. */
const SECRET_KEY = randomBytes(32).toString('base64')

describe('readConfig: PostgreSQL settings', () => {
  test('without ROSTER_DATABASE_URL the store is SQLite: no databaseUrl, pool 10, schema public', () => {
    const config = readConfig({}, '/srv')
    assert.equal(config.databaseUrl, undefined)
    assert.equal(config.pgPoolSize, 10)
    assert.equal(config.pgSchema, 'public')
    assert.equal(config.databasePath, '/srv/data/roster.db')
  })

  for (const url of ['postgres://roster@db:5432/roster', 'postgresql://roster:secret@db/roster?sslmode=require']) {
    test(`accepts ${url.split(':')[0]}:// URLs`, () => {
      assert.equal(readConfig({ ROSTER_DATABASE_URL: url, ROSTER_SECRET_KEY: SECRET_KEY }).databaseUrl, url)
    })
  }

  test('refuses a URL of another scheme, without echoing it (it may hold a password)', () => {
    assert.throws(() => readConfig({ ROSTER_DATABASE_URL: 'mysql://root:hunter2@db/roster' }), (e: Error) => e.name === 'ConfigError' && /postgres:\/\//.test(e.message) && !e.message.includes('hunter2'))
  })

  test('ROSTER_PG_POOL_SIZE and ROSTER_PG_SCHEMA are read and checked', () => {
    const config = readConfig({ ROSTER_PG_POOL_SIZE: '25', ROSTER_PG_SCHEMA: 'roster_prod' })
    assert.deepStrictEqual([config.pgPoolSize, config.pgSchema], [25, 'roster_prod'])
    for (const size of ['0', '-1', '2.5', 'ten']) assert.throws(() => readConfig({ ROSTER_PG_POOL_SIZE: size }), /ROSTER_PG_POOL_SIZE/)
    for (const schema of ['Roster', 'roster-prod', '1roster', 'a"; drop schema public; --']) assert.throws(() => readConfig({ ROSTER_PG_SCHEMA: schema }), /ROSTER_PG_SCHEMA/)
  })
})

describe('readConfig: ROSTER_SECRET_KEY, the key that encrypts the OAuth signing keys', () => {
  const key = randomBytes(32)
  const accepted = [
    { form: 'base64', raw: key.toString('base64') },
    { form: 'base64 without padding', raw: key.toString('base64').replace(/=+$/, '') },
    { form: 'base64url', raw: key.toString('base64url') },
    { form: 'hex', raw: key.toString('hex') },
    { form: 'upper-case hex', raw: key.toString('hex').toUpperCase() },
    { form: 'base64 with a trailing newline (as from a file or `openssl rand`)', raw: `${key.toString('base64')}\n` },
  ]
  for (const { form, raw } of accepted) {
    test(`accepts 32 bytes as ${form}`, () => {
      const secretKey = readConfig({ ROSTER_SECRET_KEY: raw }).secretKey
      assert.ok(secretKey)
      assert.deepStrictEqual(secretKey.export(), key)
    })
  }

  const refused = [
    { title: '16 bytes of base64', raw: randomBytes(16).toString('base64') },
    { title: '48 bytes of base64', raw: randomBytes(48).toString('base64') },
    { title: '31 bytes of hex', raw: randomBytes(31).toString('hex') },
    { title: 'a passphrase', raw: 'correct horse battery staple, not a key!!!!' },
    { title: '64 characters that are not hex', raw: `${randomBytes(31).toString('hex')}zz` },
  ]
  for (const { title, raw } of refused) {
    test(`refuses ${title} with a ConfigError that never echoes the value`, () => {
      assert.throws(
        () => readConfig({ ROSTER_SECRET_KEY: raw }),
        (e: Error) => e.name === 'ConfigError' && /^ROSTER_SECRET_KEY must be 32 bytes as base64 .* or hex/.test(e.message) && !e.message.includes(raw.trim()),
      )
    })
  }

  test('unset on SQLite: no key in the config (the data directory keeps a key file)', () => {
    assert.equal(readConfig({}).secretKey, undefined)
  })

  test('required with ROSTER_DATABASE_URL: every instance must use the same key', () => {
    assert.throws(
      () => readConfig({ ROSTER_DATABASE_URL: 'postgres://roster@db/roster' }),
      (e: Error) => e.name === 'ConfigError' && /ROSTER_SECRET_KEY is required with ROSTER_DATABASE_URL/.test(e.message),
    )
  })
})

describe('readConfig: organizations, OAuth and rate limits', () => {
  test('ROSTER_DELETE_POLICY unset leaves the default organization its own setting; set, it is read and checked', () => {
    assert.equal(readConfig({}).deletePolicy, undefined)
    assert.equal(readConfig({ ROSTER_DELETE_POLICY: 'Deactivate' }).deletePolicy, 'deactivate')
    assert.throws(() => readConfig({ ROSTER_DELETE_POLICY: 'archive' }), /ROSTER_DELETE_POLICY/)
  })

  test('ROSTER_OAUTH_ISSUER defaults to "roster" and may not hold spaces', () => {
    assert.equal(readConfig({}).oauthIssuer, 'roster')
    assert.equal(readConfig({ ROSTER_OAUTH_ISSUER: 'https://scim.example.com' }).oauthIssuer, 'https://scim.example.com')
    assert.throws(() => readConfig({ ROSTER_OAUTH_ISSUER: 'two words' }), /ROSTER_OAUTH_ISSUER/)
  })

  test('ROSTER_REDIS_URL is optional, redis:// or rediss://, and never echoed', () => {
    assert.equal(readConfig({}).redisUrl, undefined)
    assert.equal(readConfig({ ROSTER_REDIS_URL: 'rediss://cache:6380/0' }).redisUrl, 'rediss://cache:6380/0')
    assert.throws(() => readConfig({ ROSTER_REDIS_URL: 'http://user:hunter2@cache' }), (e: Error) => /ROSTER_REDIS_URL/.test(e.message) && !e.message.includes('hunter2'))
  })

  const allowPrivate: { raw: string | undefined; expected: boolean }[] = [
    { raw: undefined, expected: false },
    { raw: 'true', expected: true },
    // Only the exact word opens the guard, as with ROSTER_TRUST_PROXY: a typo leaves webhooks guarded.
    { raw: 'false', expected: false },
    { raw: '1', expected: false },
    { raw: '', expected: false },
  ]
  for (const { raw, expected } of allowPrivate) {
    test(`ROSTER_WEBHOOK_ALLOW_PRIVATE=${JSON.stringify(raw)} → webhookAllowPrivate ${expected}`, () => {
      assert.equal(readConfig(raw === undefined ? {} : { ROSTER_WEBHOOK_ALLOW_PRIVATE: raw }).webhookAllowPrivate, expected)
    })
  }
})
