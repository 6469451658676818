import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { checkAdminPassword, hashAdminPassword, verifyAdminPassword } from '../../src/admin/admin-password.js'

describe('checkAdminPassword', () => {
  const cases: { password: string; problems: string[] }[] = [
    { password: 'correct horse battery', problems: [] },
    { password: 'twelve chars', problems: [] },
    { password: 'eleven char', problems: ['use at least 12 characters'] },
    { password: '', problems: ['use at least 12 characters'] },
    // 12 code points, 24 UTF-16 units: counted as 12 characters
    { password: '😀😀😀😀😀😀😀😀😀😀😀😀', problems: [] },
    { password: ' leading space here', problems: ['do not start or end with spaces'] },
    { password: 'x'.repeat(1025), problems: ['use at most 1024 characters'] },
  ]
  for (const { password, problems } of cases) {
    test(`${JSON.stringify(password.length > 30 ? `${password.slice(0, 10)}…(${password.length})` : password)}: ${problems.join('; ') || 'accepted'}`, () => {
      assert.deepStrictEqual(checkAdminPassword(password), problems)
    })
  }
})

describe('hashAdminPassword / verifyAdminPassword', () => {
  test('an scrypt hash (via src/provisioning/password-hash.ts) that verifies the password and nothing else', async () => {
    const hash = await hashAdminPassword('correct horse battery')
    assert.match(hash, /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/)
    assert.ok(!hash.includes('correct horse'))
    assert.equal(await verifyAdminPassword('correct horse battery', hash), true)
    assert.equal(await verifyAdminPassword('correct horse battery ', hash), false)
    assert.equal(await verifyAdminPassword('Correct horse battery', hash), false)
    assert.equal(await verifyAdminPassword('', hash), false)
  })

  test('two hashes of one password differ (random salt)', async () => {
    assert.notEqual(await hashAdminPassword('correct horse battery'), await hashAdminPassword('correct horse battery'))
  })

  test('refuses to hash a password the policy rejects', async () => {
    await assert.rejects(hashAdminPassword('short'), /at least 12/)
  })

  test('no such admin: false, after the same work as a wrong password', async () => {
    assert.equal(await verifyAdminPassword('correct horse battery', undefined), false)
    // The throwaway hash is made on first use; the second call measures only the check against it.
    const t0 = process.hrtime.bigint()
    assert.equal(await verifyAdminPassword('correct horse battery', undefined), false)
    const unknownMs = Number(process.hrtime.bigint() - t0) / 1e6
    const hash = await hashAdminPassword('another password here')
    const t1 = process.hrtime.bigint()
    assert.equal(await verifyAdminPassword('correct horse battery', hash), false)
    const wrongMs = Number(process.hrtime.bigint() - t1) / 1e6
    // scrypt dominates both; a missing hash that skipped it would be ~100× faster.
    assert.ok(unknownMs > wrongMs / 4, `unknown admin took ${unknownMs} ms, wrong password ${wrongMs} ms`)
  })

  for (const stored of ['', 'plain-text-password', 'scrypt$0$8$1$c2FsdA$a2V5', 'scrypt$abc$8$1$c2FsdA$a2V5', 'bcrypt$2b$10$abcdefghijklmnopqrstuv']) {
    test(`a stored hash that cannot be read (${JSON.stringify(stored)}) never matches and never throws`, async () => {
      assert.equal(await verifyAdminPassword('plain-text-password', stored), false)
    })
  }
})
