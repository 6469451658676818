import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { readConfig } from '../src/config.js'

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
      assert.equal(readConfig({ ROSTER_DATABASE_URL: url }).databaseUrl, url)
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
})
