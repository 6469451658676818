import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { isScimError } from '../../src/scim/index.js'
import { DEFAULT_TENANT, DEFAULT_TENANT_SETTINGS, type Store } from '../../src/store/ports.js'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { TenantService, type TenantSettingsChange } from '../../src/tenants/tenant-service.js'
import { FakeClock } from '../oauth/fake-clock.js'

const ACME = {
  id: 'urn:ietf:params:scim:schemas:extension:acme:2.0:User',
  name: 'AcmeUser',
  attributes: [{ name: 'badgeNumber', type: 'string' }],
}

/** Asserts a ScimError 400 invalidValue whose detail matches every pattern. */
async function rejects(action: Promise<unknown>, ...details: RegExp[]): Promise<void> {
  await assert.rejects(action, (e: unknown) => {
    assert.ok(isScimError(e), `a ScimError, got ${String(e)}`)
    assert.equal(e.status, 400)
    assert.equal(e.scimType, 'invalidValue')
    for (const d of details) assert.match(e.detail, d)
    return true
  })
}

describe('TenantService', () => {
  let store: Store
  let clock: FakeClock
  let tenants: TenantService

  before(() => {
    store = openSqliteStore(':memory:')
    clock = new FakeClock()
    tenants = new TenantService(store.tenants, { clock: clock.now, cacheTtlMs: 2_000 })
  })
  after(async () => {
    await store.close()
  })

  test('creates an organization with the default settings, then lists, gets, renames and removes it', async () => {
    const created = await tenants.create({ id: 'acme', name: '  Acme Corp ' })
    assert.deepEqual(created, { id: 'acme', name: 'Acme Corp', createdAt: clock.now().toISOString(), settings: DEFAULT_TENANT_SETTINGS })
    assert.deepEqual((await tenants.list()).map((t) => t.id).sort(), ['acme', DEFAULT_TENANT])
    assert.equal((await tenants.rename('acme', 'Acme')).name, 'Acme')
    assert.equal((await tenants.get('acme')).name, 'Acme')
    await tenants.remove('acme')
    await assert.rejects(tenants.get('acme'), (e: unknown) => isScimError(e) && e.status === 404)
    await assert.rejects(tenants.remove('acme'), (e: unknown) => isScimError(e) && e.status === 404)
  })

  const badIds = ['', 'Acme', '-acme', 'acme_corp', 'a'.repeat(64), 'acme/x', 'acme corp']
  for (const id of badIds) {
    test(`refuses the id ${JSON.stringify(id)} (a lower-case slug of at most 63 characters)`, async () => {
      await rejects(tenants.create({ id, name: 'X' }), /id must be/)
    })
  }

  test('a taken id → 409 uniqueness; the default organization cannot be removed', async () => {
    await tenants.create({ id: 'taken', name: 'One' })
    await assert.rejects(tenants.create({ id: 'taken', name: 'Two' }), (e: unknown) => isScimError(e) && e.status === 409 && e.scimType === 'uniqueness')
    await rejects(tenants.remove(DEFAULT_TENANT), /default organization/)
  })

  const invalid: { change: TenantSettingsChange | Record<string, unknown>; detail: RegExp }[] = [
    { change: { deletePolicy: 'archive' as never }, detail: /deletePolicy/ },
    { change: { resourceTypes: [] }, detail: /resourceTypes must be a non-empty list/ },
    { change: { resourceTypes: ['User', 'Device'] }, detail: /resourceTypes/ },
    { change: { extensionSchemas: [{ id: 'not-a-urn', attributes: [] }] }, detail: /extensionSchemas: .*URN/ },
    { change: { extensionSchemas: [{ ...ACME, resourceTypes: ['Device'] }] }, detail: /extensionSchemas: .*unknown resource type Device/ },
    { change: { extensionSchemas: [ACME, ACME] }, detail: /extensionSchemas: .*already defined/ },
    { change: { webhookUrl: 'ftp://example.com/hook' }, detail: /webhookUrl/ },
    { change: { webhookUrl: 'not a url' }, detail: /webhookUrl/ },
    // Server-side request forgery: what the URL itself names is refused at once (names: at each delivery).
    { change: { webhookUrl: 'http://127.0.0.1:8080/hook' }, detail: /webhookUrl must not point at a private or local address: 127\.0\.0\.1 is loopback.*ROSTER_WEBHOOK_ALLOW_PRIVATE=true/ },
    { change: { webhookUrl: 'http://169.254.169.254/latest/meta-data/' }, detail: /webhookUrl .*169\.254\.169\.254 is link-local/ },
    { change: { webhookUrl: 'https://10.1.2.3/hook' }, detail: /webhookUrl .*private \(10\.0\.0\.0\/8, RFC 1918\)/ },
    { change: { webhookUrl: 'http://2130706433/hook' }, detail: /webhookUrl .*127\.0\.0\.1 is loopback/ },
    { change: { webhookUrl: 'http://[::1]/hook' }, detail: /webhookUrl .*::1 is loopback/ },
    { change: { webhookUrl: 'http://[::ffff:192.168.1.1]/hook' }, detail: /webhookUrl .*private \(192\.168\.0\.0\/16/ },
    { change: { webhookUrl: 'https://[fd00::1]/hook' }, detail: /webhookUrl .*unique-local/ },
    { change: { webhookUrl: 'http://localhost:3000/hook' }, detail: /webhookUrl .*localhost is a loopback name/ },
    { change: { auditReads: 'some' as never }, detail: /auditReads/ },
    { change: { auditReadSampleRate: 1.5 }, detail: /auditReadSampleRate/ },
    { change: { auditRetentionDays: 0 }, detail: /auditRetentionDays/ },
    { change: { auditRetentionDays: 1.5 }, detail: /auditRetentionDays must be an integer/ },
    { change: { scimRateLimitPerMinute: -1 }, detail: /scimRateLimitPerMinute/ },
    { change: { scimRateLimitPerMinute: Number.NaN }, detail: /scimRateLimitPerMinute/ },
    { change: { color: 'blue' }, detail: /unknown setting "color"/ },
  ]
  for (const { change, detail } of invalid) {
    test(`updateSettings refuses ${JSON.stringify(change)} with 400 invalidValue, storing nothing`, async () => {
      const before = await tenants.getSettings(DEFAULT_TENANT)
      await rejects(tenants.updateSettings(DEFAULT_TENANT, change as TenantSettingsChange), detail)
      assert.deepEqual(await tenants.getSettings(DEFAULT_TENANT), before)
    })
  }

  test('every problem of one change is reported in one error', async () => {
    await rejects(tenants.updateSettings(DEFAULT_TENANT, { deletePolicy: 'x' as never, auditRetentionDays: -1, webhookUrl: 'x' }), /deletePolicy/, /auditRetentionDays/, /webhookUrl/)
  })

  test('updateSettings keeps what it is not given; webhookUrl null removes it; a ListResponse of schemas is accepted', async () => {
    await tenants.create({ id: 'settings', name: 'Settings' })
    const set = await tenants.updateSettings('settings', { webhookUrl: 'https://hooks.example.com/roster', scimRateLimitPerMinute: 120 })
    assert.equal(set.webhookUrl, 'https://hooks.example.com/roster')
    assert.equal(set.scimRateLimitPerMinute, 120)
    assert.equal(set.deletePolicy, 'delete')
    const cleared = await tenants.updateSettings('settings', { webhookUrl: null, extensionSchemas: { Resources: [ACME] } as never })
    assert.equal(cleared.webhookUrl, undefined)
    assert.deepEqual(cleared.extensionSchemas, [ACME])
    assert.equal(cleared.scimRateLimitPerMinute, 120)
  })

  test('with allowPrivateWebhookAddresses (ROSTER_WEBHOOK_ALLOW_PRIVATE), private and local webhook URLs are accepted', async () => {
    const privateNetwork = new TenantService(store.tenants, { clock: clock.now, allowPrivateWebhookAddresses: true })
    await privateNetwork.create({ id: 'private-hooks', name: 'Private hooks' })
    for (const webhookUrl of ['http://127.0.0.1:8080/hook', 'http://10.1.2.3/hook', 'http://[::1]/hook', 'http://localhost:3000/hook']) {
      assert.equal((await privateNetwork.updateSettings('private-hooks', { webhookUrl })).webhookUrl, webhookUrl)
    }
    await rejects(privateNetwork.updateSettings('private-hooks', { webhookUrl: 'ftp://10.1.2.3/hook' }), /webhookUrl must be an http or https URL/)
  })

  test('public IP literals are accepted as webhook URLs', async () => {
    await tenants.create({ id: 'public-hooks', name: 'Public hooks' })
    for (const webhookUrl of ['https://93.184.215.14/hook', 'https://[2606:4700:4700::1111]/hook']) {
      assert.equal((await tenants.updateSettings('public-hooks', { webhookUrl })).webhookUrl, webhookUrl)
    }
  })

  test("registryFor: the organization's extension schemas, and only the resource types it serves", async () => {
    await tenants.create({ id: 'users-only', name: 'Users only', settings: { resourceTypes: ['User'], extensionSchemas: [ACME] } })
    const registry = await tenants.registryFor('users-only')
    assert.deepEqual(registry.listResourceTypes().map((t) => t.name), ['User'])
    assert.ok(registry.getSchema(ACME.id))
    assert.equal(registry.getSchema('urn:ietf:params:scim:schemas:core:2.0:Group'), undefined)
    await assert.rejects(tenants.registryFor('no-such-org'), (e: unknown) => isScimError(e) && e.status === 404)
  })

  test('settings are cached for cacheTtlMs: a change by another instance is seen once it passes; one through this instance at once', async () => {
    await tenants.create({ id: 'cached', name: 'Cached' })
    assert.equal((await tenants.settingsFor('cached')).deletePolicy, 'delete')
    const otherInstance = new TenantService(store.tenants, { clock: clock.now })
    await otherInstance.updateSettings('cached', { deletePolicy: 'deactivate' })
    assert.equal((await tenants.settingsFor('cached')).deletePolicy, 'delete', 'still the cached settings')
    clock.advance(2_000)
    assert.equal((await tenants.settingsFor('cached')).deletePolicy, 'deactivate')
    await tenants.updateSettings('cached', { deletePolicy: 'delete' })
    assert.equal((await tenants.settingsFor('cached')).deletePolicy, 'delete')
  })

  test('an organization created elsewhere is found once the negative cache expires', async () => {
    assert.equal(await tenants.exists('late'), false)
    await new TenantService(store.tenants, { clock: clock.now }).create({ id: 'late', name: 'Late' })
    assert.equal(await tenants.exists('late'), false)
    clock.advance(2_000)
    assert.equal(await tenants.exists('late'), true)
  })

  test('ensureDefault applies the configuration to the default organization and keeps the rest', async () => {
    await tenants.updateSettings(DEFAULT_TENANT, { auditReads: 'all' })
    const record = await tenants.ensureDefault({ deletePolicy: 'deactivate', extensionSchemas: [ACME] })
    assert.equal(record.settings.deletePolicy, 'deactivate')
    assert.deepEqual(record.settings.extensionSchemas, [ACME])
    assert.equal(record.settings.auditReads, 'all')
    const again = await tenants.ensureDefault({})
    assert.equal(again.settings.deletePolicy, 'deactivate', 'nothing configured: the stored settings stay')
  })
})
