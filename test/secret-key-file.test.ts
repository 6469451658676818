import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { readConfig } from '../src/config.js'
import { openSecretKeyFile } from '../src/secret-key-file.js'

describe('openSecretKeyFile: the key-encryption key of an install without ROSTER_SECRET_KEY', () => {
  const root = mkdtempSync(join(tmpdir(), 'roster-secret-key-'))
  after(() => rmSync(root, { recursive: true, force: true }))

  test('creates the file (and its directory) on first use, readable by its owner only, and reads it back after', () => {
    const path = join(root, 'first', 'data', 'secret.key')
    const created = openSecretKeyFile(path)
    assert.equal(statSync(path).mode & 0o777, 0o600)
    assert.equal(created.symmetricKeySize, 32)
    assert.deepStrictEqual(openSecretKeyFile(path).export(), created.export())
    assert.deepStrictEqual(readdirSync(join(root, 'first', 'data')), ['secret.key'], 'no temporary file is left behind')
  })

  test('the file holds one line that ROSTER_SECRET_KEY accepts as it is (for a move to PostgreSQL)', () => {
    const path = join(root, 'line', 'secret.key')
    const created = openSecretKeyFile(path)
    const line = readFileSync(path, 'utf8')
    assert.match(line, /^[A-Za-z0-9+/]{43}=\n$/)
    assert.deepStrictEqual(readConfig({ ROSTER_SECRET_KEY: line.trim() }).secretKey?.export(), created.export())
  })

  test('an existing file is used as it is, in hex too', () => {
    const path = join(root, 'hex.key')
    const key = randomBytes(32)
    writeFileSync(path, `${key.toString('hex')}\n`, { mode: 0o600 })
    assert.deepStrictEqual(openSecretKeyFile(path).export(), key)
  })

  test('a malformed file is a ConfigError naming the path, never its content', () => {
    const path = join(root, 'bad.key')
    writeFileSync(path, 'not-a-key-at-all', { mode: 0o600 })
    assert.throws(
      () => openSecretKeyFile(path),
      (e: Error) => e.name === 'ConfigError' && e.message.startsWith(`${path} must be 32 bytes`) && !e.message.includes('not-a-key-at-all'),
    )
  })
})
