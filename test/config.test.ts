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
