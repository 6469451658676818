import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { AdminApiKeyService } from '../../src/admin/api-keys.js'
import type { AdminRole } from '../../src/admin/roles.js'
import { MemoryAdminApiKeyStore } from './memory-admin-api-key-store.js'
import { FakeClock } from '../oauth/fake-clock.js'

function setup() {
  const clock = new FakeClock()
  const store = new MemoryAdminApiKeyStore()
  const keys = new AdminApiKeyService(store, { clock: clock.now })
  return { clock, store, keys }
}

describe('AdminApiKeyService', () => {
  for (const role of ['owner', 'securityAdmin', 'viewer'] as const) {
    test(`a ${role} key: rak_ + id + 256 bits, verifies to its role`, async () => {
      const { keys } = setup()
      const { apiKey, record } = await keys.issue('CI', role, { createdBy: 'admin-1' })
      assert.match(apiKey, /^rak_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/)
      assert.equal(record.prefix, `rak_${record.id}`)
      assert.deepStrictEqual(await keys.verify(apiKey), { keyId: record.id, name: 'CI', role })
    })
  }

  test('only the hash is stored', async () => {
    const { keys, store } = setup()
    const { apiKey } = await keys.issue('CI', 'viewer', { createdBy: 'admin-1' })
    assert.ok(!JSON.stringify([...store.keys.values()]).includes(apiKey.slice(17)))
  })

  const refusals: { name: string; present: (key: string) => string }[] = [
    { name: 'another secret under the same id', present: (k) => `${k.slice(0, 17)}${'A'.repeat(43)}` },
    { name: 'an unknown id', present: (k) => `rak_ffffffffffff_${k.slice(17)}` },
    { name: 'a SCIM token', present: (k) => `rst_${k.slice(4)}` },
    { name: 'a key with trailing text', present: (k) => `${k} ` },
    { name: 'nothing', present: () => '' },
  ]
  for (const { name, present } of refusals) {
    test(`refuses ${name}`, async () => {
      const { keys } = setup()
      const { apiKey } = await keys.issue('CI', 'owner', { createdBy: 'admin-1' })
      assert.equal(await keys.verify(present(apiKey)), undefined)
    })
  }

  test('a revoked key stops working at once', async () => {
    const { keys } = setup()
    const { apiKey, record } = await keys.issue('CI', 'owner', { createdBy: 'admin-1' })
    assert.equal(await keys.revoke(record.id), true)
    assert.equal(await keys.verify(apiKey), undefined)
    assert.equal(await keys.revoke(record.id), false)
  })

  test('an expired key stops working at its expiry', async () => {
    const { keys, clock } = setup()
    const { apiKey } = await keys.issue('CI', 'owner', { createdBy: 'admin-1', expiresAt: new Date(clock.now().getTime() + 60_000) })
    clock.advance(59_999)
    assert.ok(await keys.verify(apiKey))
    clock.advance(1)
    assert.equal(await keys.verify(apiKey), undefined)
  })

  test('a stored role this version does not know grants nothing', async () => {
    const { keys, store } = setup()
    const { apiKey, record } = await keys.issue('CI', 'owner', { createdBy: 'admin-1' })
    store.keys.set(record.id, { ...record, role: 'superuser' as AdminRole })
    assert.equal(await keys.verify(apiKey), undefined)
  })

  test('refuses to issue with an unknown role, an empty name or a past expiry', async () => {
    const { keys, clock } = setup()
    await assert.rejects(keys.issue('CI', 'root' as AdminRole, { createdBy: 'admin-1' }), /unknown role/)
    await assert.rejects(keys.issue('  ', 'viewer', { createdBy: 'admin-1' }), /name/)
    await assert.rejects(keys.issue('CI', 'viewer', { createdBy: 'admin-1', expiresAt: clock.now() }), /past/)
  })

  test('last use is written at most once a minute', async () => {
    const { keys, store, clock } = setup()
    const { apiKey } = await keys.issue('CI', 'viewer', { createdBy: 'admin-1' })
    for (let i = 0; i < 5; i++) await keys.verify(apiKey)
    assert.equal(store.touches, 1)
    clock.advance(60_000)
    await keys.verify(apiKey)
    assert.equal(store.touches, 2)
  })
})
