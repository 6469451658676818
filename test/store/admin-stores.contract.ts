import { afterEach, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { GROUP_SCHEMA, SchemaRegistry, ScimError, USER_SCHEMA, parseFilter, resolveFilter } from '../../src/scim/index.js'
import {
  DEFAULT_TENANT,
  DEFAULT_TENANT_SETTINGS,
  type AdminApiKeyRecord,
  type AdminRecord,
  type AdminSessionRecord,
  type AuditEvent,
  type AuditHook,
  type AuditOperation,
  type AuditQuery,
  type CurrentResource,
  type NewResource,
  type OAuthClientRecord,
  type SealedJwk,
  type Store,
  type StoredSigningKey,
  type TenantRecord,
  type TenantSettings,
} from '../../src/store/ports.js'

/**
 * What every Store adapter owes for organizations, the audit log and administration (src/store/ports.ts),
 * registered as node:test suites like defineResourceStoreContract: each test gets a fresh store from
 * `open` and closes it after.
 */
export function defineAdminStoreContract(name: string, options: { skip?: boolean | string; open: () => Promise<Store> | Store }): void {
  const skip = options.skip ?? false
  let store: Store
  const setUp = () => {
    beforeEach(async () => {
      store = await options.open()
    })
    afterEach(async () => {
      await store.close()
    })
  }

  describe(`${name}: organizations (TenantStore)`, { skip }, () => {
    setUp()

    test('the migrations create the default organization with DEFAULT_TENANT_SETTINGS', async () => {
      const record = await store.tenants.getTenant(DEFAULT_TENANT)
      assert.ok(record)
      assert.equal(record.id, 'default')
      assert.equal(record.name, 'Default')
      assert.match(record.createdAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
      assert.deepStrictEqual(record.settings, DEFAULT_TENANT_SETTINGS)
      assert.deepStrictEqual(record.settings, {
        deletePolicy: 'delete',
        resourceTypes: ['User', 'Group'],
        extensionSchemas: [],
        auditReads: 'off',
        auditReadSampleRate: 0,
        auditRetentionDays: 90,
        scimRateLimitPerMinute: 6000,
      })
    })

    test('insert, get and list round-trip the record and every setting', async () => {
      const acme = tenant('acme', 'Acme Corp', at(1), ACME_SETTINGS)
      await store.tenants.insertTenant(acme)
      await store.tenants.insertTenant(tenant('beta', 'Beta', at(2)))
      assert.deepStrictEqual(await store.tenants.getTenant('acme'), acme)
      const listed = await store.tenants.listTenants()
      // The default organization was created at migration time (now), after these two.
      assert.deepStrictEqual(listed.map((t) => t.id), ['acme', 'beta', 'default'])
      assert.deepStrictEqual(listed[0], acme)
    })

    test('a taken id is 409 uniqueness and keeps the first record', async () => {
      await store.tenants.insertTenant(tenant('acme', 'Acme', at(1)))
      await rejectsWith(store.tenants.insertTenant(tenant('acme', 'Other', at(2))), 409, 'uniqueness', /acme/)
      await rejectsWith(store.tenants.insertTenant(tenant(DEFAULT_TENANT, 'Again', at(2))), 409, 'uniqueness')
      assert.equal((await store.tenants.getTenant('acme'))?.name, 'Acme')
    })

    test('updateTenant changes the name, the settings or both, and answers the updated record', async () => {
      await store.tenants.insertTenant(tenant('acme', 'Acme', at(1)))
      const renamed = await store.tenants.updateTenant('acme', { name: 'Acme Inc' })
      assert.deepStrictEqual(renamed, tenant('acme', 'Acme Inc', at(1)))
      const configured = await store.tenants.updateTenant('acme', { settings: ACME_SETTINGS })
      assert.deepStrictEqual(configured, tenant('acme', 'Acme Inc', at(1), ACME_SETTINGS))
      const both = await store.tenants.updateTenant('acme', { name: 'A', settings: DEFAULT_TENANT_SETTINGS })
      assert.deepStrictEqual(both, tenant('acme', 'A', at(1)))
      assert.deepStrictEqual(await store.tenants.getTenant('acme'), both)
    })

    test('unknown ids: get and update answer undefined, delete answers false', async () => {
      assert.equal(await store.tenants.getTenant('nope'), undefined)
      assert.equal(await store.tenants.updateTenant('nope', { name: 'x' }), undefined)
      assert.equal(await store.tenants.deleteTenant('nope'), false)
      assert.equal(await store.tenants.getTenant('nope'), undefined, 'update did not create it')
    })

    test('deleteTenant removes the organization with its users, groups, tokens, OAuth clients and audit events; another’s stay', async () => {
      for (const id of [T, OTHER]) {
        await store.tenants.insertTenant(tenant(id, id, at(0)))
        await store.resources.create(id, { ...user('u1', 'bjensen'), data: { schemas: [USER_SCHEMA], userName: 'bjensen', emails: [{ value: 'b@example.com' }] } })
        await store.resources.create(id, { ...group('g1', 'Staff'), memberIds: ['u1'], audit: hookWith(`${id}-created-g1`, [], id) })
        await store.tokens.insertToken({ id: `${id}-k`, tenant: id, name: 'Okta', prefix: 'rst_x', hash: 'h', createdAt: at(0), expiresAt: at(99) })
        await store.oauthClients.insertClient(client(`${id}-c`, id))
        await store.audit.insertAuditEvent(auditEvent(`${id}-e`, { tenant: id }))
      }
      assert.equal(await store.tenants.deleteTenant(T), true)

      assert.equal(await store.tenants.getTenant(T), undefined)
      assert.equal(await store.resources.get(T, 'User', 'u1'), undefined)
      assert.equal(await store.resources.get(T, 'Group', 'g1'), undefined)
      assert.equal((await store.resources.query(T, 'User', { startIndex: 1, count: 10 })).totalResults, 0)
      assert.deepStrictEqual((await store.resources.listGroupsOf(T, ['u1'])).get('u1'), [])
      assert.equal(await store.tokens.findToken(`${T}-k`), undefined)
      assert.deepStrictEqual(await store.tokens.listTokens(T), [])
      assert.equal(await store.oauthClients.findClient(`${T}-c`), undefined)
      assert.deepStrictEqual(await store.oauthClients.listClients(T), [])
      assert.deepStrictEqual((await store.audit.queryAuditEvents({ tenant: T, limit: 10 })).events, [])

      assert.ok(await store.tenants.getTenant(OTHER))
      assert.ok(await store.resources.get(OTHER, 'User', 'u1'))
      assert.deepStrictEqual(memberValues(await store.resources.listMembers(OTHER, ['g1']), 'g1'), ['u1'])
      const byEmail = await store.resources.query(OTHER, 'User', { filter: filterOf('emails.value eq "b@example.com"', 'User'), startIndex: 1, count: 10 })
      assert.deepStrictEqual(byEmail.resources.map((r) => r.id), ['u1'])
      assert.ok(await store.tokens.findToken(`${OTHER}-k`))
      assert.ok(await store.oauthClients.findClient(`${OTHER}-c`))
      const otherEvents = await store.audit.queryAuditEvents({ tenant: OTHER, limit: 10 })
      assert.deepStrictEqual(otherEvents.events.map((e) => e.id).sort(), [`${OTHER}-created-g1`, `${OTHER}-e`])

      // Nothing of the old organization is left to collide with: the same ids and userName work again.
      assert.equal(await store.tenants.deleteTenant(T), false)
      await store.tenants.insertTenant(tenant(T, T, at(5)))
      await store.resources.create(T, user('u1', 'bjensen'))
      await store.tokens.insertToken({ id: `${T}-k`, tenant: T, name: 'again', prefix: 'rst_y', hash: 'h2', createdAt: at(5) })
      await store.oauthClients.insertClient(client(`${T}-c`, T))
      await store.audit.insertAuditEvent(auditEvent(`${T}-e`, { tenant: T }))
      assert.equal((await store.resources.query(T, 'User', { startIndex: 1, count: 10 })).totalResults, 1)
    })
  })

  describe(`${name}: audit log (AuditStore)`, { skip }, () => {
    setUp()

    test('an event reads back exactly as inserted', async () => {
      const full = auditEvent('e1', { resourceType: 'User', resourceId: 'u1', status: 409 })
      const withDetail: AuditEvent = { ...full, outcome: { status: 409, scimType: 'uniqueness', detail: 'userName "bjensen" is already in use' } }
      const anonymous: AuditEvent = { ...auditEvent('e2', { time: at(1), actorId: null, operation: 'request.rejected', status: 401 }), actor: { type: 'anonymous' } }
      await store.audit.insertAuditEvent(withDetail)
      await store.audit.insertAuditEvent(anonymous)
      assert.deepStrictEqual((await store.audit.queryAuditEvents({ tenant: T, limit: 10 })).events, [anonymous, withDetail])
    })

    test('newest first, ties on time broken by id, descending', async () => {
      for (const [id, time] of [['a', at(1)], ['b', at(2)], ['c', at(2)], ['d', at(0)]] as const) await store.audit.insertAuditEvent(auditEvent(id, { time }))
      const page = await store.audit.queryAuditEvents({ tenant: T, limit: 10 })
      assert.deepStrictEqual(page.events.map((e) => e.id), ['c', 'b', 'a', 'd'])
      assert.equal(page.next, undefined)
    })

    test('a taken event id is 409 uniqueness', async () => {
      await store.audit.insertAuditEvent(auditEvent('e1'))
      await rejectsWith(store.audit.insertAuditEvent(auditEvent('e1', { time: at(3) })), 409, 'uniqueness')
      assert.equal((await store.audit.queryAuditEvents({ tenant: T, limit: 10 })).events.length, 1)
    })

    describe('filters and keyset paging agree with a reference filter over 60 events', () => {
      const events = generatedEvents()
      beforeEach(async () => {
        for (const e of events) await store.audit.insertAuditEvent(e)
      })
      const cases: { title: string; query: Omit<AuditQuery, 'tenant' | 'limit'>; empty?: true }[] = [
        { title: 'no filter', query: {} },
        { title: 'from (inclusive)', query: { from: at(12) } },
        { title: 'to (exclusive)', query: { to: at(7) } },
        { title: 'from and to', query: { from: at(4), to: at(9) } },
        { title: 'resourceType', query: { resourceType: 'User' } },
        { title: 'resourceType and resourceId', query: { resourceType: 'Group', resourceId: 'r2' } },
        { title: 'resourceId alone', query: { resourceId: 'r3' } },
        { title: 'actorId', query: { actorId: 'k2' } },
        { title: 'outcome success (status < 400)', query: { outcome: 'success' } },
        { title: 'outcome failure (status >= 400)', query: { outcome: 'failure' } },
        { title: 'operation', query: { operation: 'patch' } },
        { title: 'actorId, outcome and a time range together', query: { actorId: 'k1', outcome: 'failure', from: at(2), to: at(18) } },
        { title: 'resource, operation and from together', query: { resourceType: 'User', resourceId: 'r1', operation: 'patch', from: at(1) } },
        { title: 'an actor with no events', query: { actorId: 'nobody' }, empty: true },
      ]
      for (const c of cases) {
        test(`${c.title}: every page of 4, newest first, each event once`, async () => {
          const expected = events.filter((e) => matchesQuery(e, { tenant: T, limit: 0, ...c.query })).sort(newestFirst).map((e) => e.id)
          if (c.empty) assert.equal(expected.length, 0)
          else assert.ok(expected.length > 0, 'the case selects some events')
          const seen: string[] = []
          let after: AuditQuery['after']
          for (let pages = 0; ; pages++) {
            assert.ok(pages <= expected.length, 'paging ends')
            const page = await store.audit.queryAuditEvents({ tenant: T, limit: 4, ...c.query, ...(after ? { after } : {}) })
            assert.ok(page.events.length <= 4)
            seen.push(...page.events.map((e) => e.id))
            if (!page.next) break
            assert.equal(page.events.length, 4, 'a page with a next position is full')
            assert.deepStrictEqual(page.next, { time: page.events[3]!.time, id: page.events[3]!.id })
            after = page.next
          }
          assert.deepStrictEqual(seen, expected)
        })
      }

      test('next is absent when the last page is exactly full', async () => {
        const all = events.filter((e) => e.tenant === T).length
        const page = await store.audit.queryAuditEvents({ tenant: T, limit: all })
        assert.equal(page.events.length, all)
        assert.equal(page.next, undefined)
        const short = await store.audit.queryAuditEvents({ tenant: T, limit: all - 1 })
        assert.equal(short.events.length, all - 1)
        assert.ok(short.next)
      })

      test('tenants stay apart, also when one tenant’s position is used on another', async () => {
        const other = await store.audit.queryAuditEvents({ tenant: OTHER, limit: 100 })
        assert.deepStrictEqual(other.events.map((e) => e.id), events.filter((e) => e.tenant === OTHER).sort(newestFirst).map((e) => e.id))
        const first = await store.audit.queryAuditEvents({ tenant: T, limit: 5 })
        const crossed = await store.audit.queryAuditEvents({ tenant: OTHER, limit: 100, after: first.next! })
        assert.ok(crossed.events.length > 0)
        assert.ok(crossed.events.every((e) => e.tenant === OTHER))
      })
    })

    test('prune deletes at most batchSize events older than `before`, oldest first, in the tenant only', async () => {
      for (let i = 0; i < 25; i++) await store.audit.insertAuditEvent(auditEvent(`old${pad(i)}`, { time: at(i) }))
      for (let i = 0; i < 5; i++) await store.audit.insertAuditEvent(auditEvent(`new${pad(i)}`, { time: at(100 + i) }))
      for (let i = 0; i < 5; i++) await store.audit.insertAuditEvent(auditEvent(`other${pad(i)}`, { tenant: OTHER, time: at(i) }))
      const remaining = async (tenant: string) => (await store.audit.queryAuditEvents({ tenant, limit: 100 })).events.map((e) => e.id).sort()

      assert.equal(await store.audit.pruneAuditEvents(T, at(100), 0), 0)
      assert.equal(await store.audit.pruneAuditEvents(T, at(100), 10), 10)
      assert.deepStrictEqual((await remaining(T)).filter((id) => id.startsWith('old')), Array.from({ length: 15 }, (_, i) => `old${pad(i + 10)}`))
      assert.equal(await store.audit.pruneAuditEvents(T, at(100), 10), 10)
      assert.equal(await store.audit.pruneAuditEvents(T, at(100), 10), 5)
      assert.equal(await store.audit.pruneAuditEvents(T, at(100), 10), 0)
      assert.deepStrictEqual(await remaining(T), ['new00', 'new01', 'new02', 'new03', 'new04'])
      assert.deepStrictEqual(await remaining(OTHER), ['other00', 'other01', 'other02', 'other03', 'other04'])
    })

    test('summarize counts events and failures since a time, and gives the newest event’s time', async () => {
      assert.deepStrictEqual(await store.audit.summarizeAudit(T, at(0)), { events: 0, failures: 0 })
      const statuses = [201, 200, 401, 409, 204, 500, 200]
      for (const [i, status] of statuses.entries()) await store.audit.insertAuditEvent(auditEvent(`e${i}`, { time: at(i * 10), status }))
      await store.audit.insertAuditEvent(auditEvent('other', { tenant: OTHER, time: at(1000), status: 500 }))
      assert.deepStrictEqual(await store.audit.summarizeAudit(T, at(0)), { events: 7, failures: 3, lastActivity: at(60) })
      // `since` is inclusive: e3 (409 at 30 s) counts.
      assert.deepStrictEqual(await store.audit.summarizeAudit(T, at(30)), { events: 4, failures: 2, lastActivity: at(60) })
      // Nothing since: the last activity is still told.
      assert.deepStrictEqual(await store.audit.summarizeAudit(T, at(61)), { events: 0, failures: 0, lastActivity: at(60) })
      assert.deepStrictEqual(await store.audit.summarizeAudit(OTHER, at(0)), { events: 1, failures: 1, lastActivity: at(1000) })
    })
  })

  describe(`${name}: audit hook on resource writes (same transaction)`, { skip }, () => {
    setUp()
    const eventIds = async (tenant = T) => (await store.audit.queryAuditEvents({ tenant, limit: 100 })).events.map((e) => e.id).sort()

    test('create: the hook sees the created resource, and its event is in the log', async () => {
      const seen: Change[] = []
      const created = await store.resources.create(T, { ...user('u1', 'bjensen'), audit: hookWith('e1', seen) })
      assert.deepStrictEqual(seen, [{ after: created }])
      const [event] = (await store.audit.queryAuditEvents({ tenant: T, limit: 10 })).events
      assert.deepStrictEqual(event, auditEvent('e1', { resourceType: 'User', resourceId: 'u1', operation: 'create' }))
    })

    test('create refused (409 uniqueness, 400 unknown member): the hook is not called and no event is written', async () => {
      await store.resources.create(T, user('u1', 'bjensen'))
      const seen: Change[] = []
      await rejectsWith(store.resources.create(T, { ...user('u2', 'BJENSEN'), audit: hookWith('e1', seen) }), 409, 'uniqueness')
      await rejectsWith(store.resources.create(T, { ...group('g1', 'G'), memberIds: ['nope'], audit: hookWith('e2', seen) }), 400, 'invalidValue')
      assert.deepStrictEqual(seen, [])
      assert.deepStrictEqual(await eventIds(), [])
    })

    test('create: a hook that throws rolls the create back', async () => {
      await assert.rejects(store.resources.create(T, { ...user('u1', 'bjensen'), audit: throwingHook() }), /hook failed/)
      assert.equal(await store.resources.get(T, 'User', 'u1'), undefined)
      await store.resources.create(T, user('u2', 'bjensen'))
      assert.deepStrictEqual(await eventIds(), [])
    })

    test('create with members: the event commits with the group and its memberships', async () => {
      await store.resources.create(T, user('u1', 'bjensen'))
      await store.resources.create(T, { ...group('g1', 'G'), memberIds: ['u1'], audit: hookWith('e1') })
      assert.deepStrictEqual(memberValues(await store.resources.listMembers(T, ['g1']), 'g1'), ['u1'])
      assert.deepStrictEqual(await eventIds(), ['e1'])
      await assert.rejects(store.resources.create(T, { ...group('g2', 'G2'), memberIds: ['u1'], audit: throwingHook() }), /hook failed/)
      assert.equal(await store.resources.get(T, 'Group', 'g2'), undefined)
      assert.deepStrictEqual(await eventIds(), ['e1'])
    })

    test('createMany: one event per created input; a refused input calls no hook and leaves no event', async () => {
      await store.resources.create(T, user('taken', 'taken'))
      const seen: Change[] = []
      const results = await store.resources.createMany(T, [
        { ...user('u1', 'one'), audit: hookWith('e1', seen) },
        { ...user('u2', 'TAKEN'), audit: hookWith('e2', seen) },
        { ...group('g1', 'G'), memberIds: ['u1'], audit: hookWith('e3', seen) },
        user('u3', 'three'),
      ])
      assert.deepStrictEqual(results.map((r) => (r instanceof ScimError ? r.status : r.id)), ['u1', 409, 'g1', 'u3'])
      assert.deepStrictEqual(seen, [{ after: results[0] }, { after: results[2] }])
      assert.deepStrictEqual(await eventIds(), ['e1', 'e3'])
    })

    test('createMany: a hook that throws, even a ScimError, rolls back the whole batch', async () => {
      for (const failure of [new Error('hook failed'), new ScimError(400, 'hook refused', 'invalidValue')]) {
        await assert.rejects(
          store.resources.createMany(T, [
            { ...user('u1', 'one'), audit: hookWith('e1') },
            {
              ...user('u2', 'two'),
              audit: () => {
                throw failure
              },
            },
          ]),
          (e: unknown) => e === failure,
        )
        assert.equal(await store.resources.get(T, 'User', 'u1'), undefined)
        assert.equal(await store.resources.get(T, 'User', 'u2'), undefined)
        assert.deepStrictEqual(await eventIds(), [])
      }
    })

    test('update: the hook sees before and after (the state written and returned), and the event commits', async () => {
      await store.resources.create(T, user('u1', 'bjensen'))
      const seen: Change[] = []
      const updated = await store.resources.update(T, 'User', 'u1', (c) => ({ data: { ...c.data, title: 'Lead' } }), { now: at(5), audit: hookWith('e1', seen) })
      assert.equal(updated.version, 2)
      assert.equal(seen.length, 1)
      assert.equal(seen[0]!.before?.version, 1)
      assert.equal(seen[0]!.before?.data.title, undefined)
      assert.deepStrictEqual(seen[0]!.after, updated)
      assert.deepStrictEqual(await eventIds(), ['e1'])
    })

    test('update that changes nothing: the hook is still called, with before === after, and decides', async () => {
      await store.resources.create(T, user('u1', 'bjensen'))
      const seen: Change[] = []
      const noop = await store.resources.update(T, 'User', 'u1', (c) => ({ data: c.data }), { now: at(5), audit: hookWith('e1', seen) })
      assert.equal(noop.version, 1)
      assert.equal(seen.length, 1)
      assert.ok(seen[0]!.before !== undefined && seen[0]!.before === seen[0]!.after)
      assert.equal(seen[0]!.before.version, 1)
      assert.deepStrictEqual(await eventIds(), ['e1'], 'the event the hook returned is written')
      await store.resources.update(T, 'User', 'u1', (c) => ({ data: c.data }), { now: at(6), audit: () => undefined })
      assert.deepStrictEqual(await eventIds(), ['e1'], 'a hook answering undefined writes no event')
    })

    test('update with withMembers: before and after carry the members', async () => {
      await store.resources.createMany(T, [user('u1', 'one'), user('u2', 'two')])
      await store.resources.create(T, { ...group('g1', 'G'), memberIds: ['u1'] })
      const seen: Change[] = []
      await store.resources.update(T, 'Group', 'g1', (c) => ({ data: c.data, memberSteps: [{ op: 'add', ids: ['u2'] }] }), { now: at(5), withMembers: true, audit: hookWith('e1', seen) })
      assert.deepStrictEqual(seen[0]!.before?.members?.map((m) => m.value), ['u1'])
      assert.deepStrictEqual(seen[0]!.after?.members?.map((m) => m.value).sort(), ['u1', 'u2'])
      assert.equal(seen[0]!.after?.version, 2)
      await store.resources.update(T, 'Group', 'g1', (c) => ({ data: { ...c.data, displayName: 'H' } }), { now: at(6), withMembers: true, audit: hookWith('e2', seen) })
      assert.deepStrictEqual(seen[1]!.after?.members?.map((m) => m.value).sort(), ['u1', 'u2'], 'unchanged members are carried over')
    })

    test('update refused (412 stale ifMatch, 409 uniqueness, 404, 400 unknown member, mutate throws): no hook call, no event', async () => {
      await store.resources.createMany(T, [user('u1', 'one'), user('u2', 'two'), group('g1', 'G')])
      const seen: Change[] = []
      const audit = hookWith('e1', seen)
      await rejectsWith(store.resources.update(T, 'User', 'u1', (c) => ({ data: { ...c.data, title: 'x' } }), { now: at(5), ifMatch: 7, audit }), 412)
      await rejectsWith(store.resources.update(T, 'User', 'u1', (c) => ({ data: { ...c.data, userName: 'TWO' } }), { now: at(5), audit }), 409, 'uniqueness')
      await rejectsWith(store.resources.update(T, 'User', 'nope', (c) => ({ data: c.data }), { now: at(5), audit }), 404)
      await rejectsWith(store.resources.update(T, 'Group', 'g1', (c) => ({ data: c.data, memberSteps: [{ op: 'add', ids: ['nope'] }] }), { now: at(5), audit }), 400, 'invalidValue')
      await assert.rejects(
        store.resources.update(T, 'User', 'u1', () => {
          throw new ScimError(400, 'refused', 'invalidValue')
        }, { now: at(5), audit }),
        { detail: 'refused' },
      )
      assert.deepStrictEqual(seen, [])
      assert.deepStrictEqual(await eventIds(), [])
      assert.equal((await store.resources.get(T, 'User', 'u1'))?.version, 1)
    })

    test('update: a hook that throws rolls the update back', async () => {
      await store.resources.createMany(T, [user('u1', 'one'), group('g1', 'G')])
      await assert.rejects(store.resources.update(T, 'User', 'u1', (c) => ({ data: { ...c.data, title: 'x' } }), { now: at(5), audit: throwingHook() }), /hook failed/)
      const u1 = await store.resources.get(T, 'User', 'u1')
      assert.equal(u1?.version, 1)
      assert.equal(u1?.data.title, undefined)
      await assert.rejects(
        store.resources.update(T, 'Group', 'g1', (c) => ({ data: c.data, memberSteps: [{ op: 'add', ids: ['u1'] }] }), { now: at(5), audit: throwingHook() }),
        /hook failed/,
      )
      assert.deepStrictEqual(memberValues(await store.resources.listMembers(T, ['g1']), 'g1'), [])
      assert.equal((await store.resources.get(T, 'Group', 'g1'))?.version, 1)
      assert.deepStrictEqual(await eventIds(), [])
    })

    test('delete: the hook sees the resource as it was, and the event commits', async () => {
      const created = await store.resources.create(T, user('u1', 'bjensen'))
      const seen: Change[] = []
      await store.resources.delete(T, 'User', 'u1', { audit: hookWith('e1', seen) })
      assert.deepStrictEqual(seen, [{ before: created }])
      assert.equal(await store.resources.get(T, 'User', 'u1'), undefined)
      assert.deepStrictEqual(await eventIds(), ['e1'])
    })

    test('delete refused (412, 404) calls no hook; a hook that throws keeps the resource', async () => {
      await store.resources.create(T, user('u1', 'bjensen'))
      const seen: Change[] = []
      await rejectsWith(store.resources.delete(T, 'User', 'u1', { ifMatch: 3, audit: hookWith('e1', seen) }), 412)
      await rejectsWith(store.resources.delete(T, 'User', 'nope', { audit: hookWith('e2', seen) }), 404)
      assert.deepStrictEqual(seen, [])
      await assert.rejects(store.resources.delete(T, 'User', 'u1', { audit: throwingHook() }), /hook failed/)
      assert.ok(await store.resources.get(T, 'User', 'u1'))
      assert.deepStrictEqual(await eventIds(), [])
    })

    test('an event naming another tenant is refused and the write rolled back', async () => {
      const foreign: AuditHook = () => auditEvent('e1', { tenant: OTHER })
      await assert.rejects(store.resources.create(T, { ...user('u1', 'bjensen'), audit: foreign }), /tenant/)
      assert.equal(await store.resources.get(T, 'User', 'u1'), undefined)
      assert.deepStrictEqual(await eventIds(OTHER), [])
    })

    test('an event whose id is taken is 409 and rolls the write back', async () => {
      await store.audit.insertAuditEvent(auditEvent('e1'))
      await rejectsWith(store.resources.create(T, { ...user('u1', 'bjensen'), audit: hookWith('e1') }), 409, 'uniqueness', /audit event/)
      assert.equal(await store.resources.get(T, 'User', 'u1'), undefined)
    })
  })

  describe(`${name}: admins (AdminStore)`, { skip }, () => {
    setUp()

    test('insert stores the email lower-cased; get, find (case-insensitive), list by email and count', async () => {
      await store.admins.insertAdmin(admin('a1', 'Zoe@Example.COM', { name: 'Zoe', tenant: T, disabledAt: at(9) }))
      await store.admins.insertAdmin(admin('a2', 'ann@example.com'))
      const zoe = admin('a1', 'zoe@example.com', { name: 'Zoe', tenant: T, disabledAt: at(9) })
      assert.deepStrictEqual(await store.admins.getAdmin('a1'), zoe)
      assert.deepStrictEqual(await store.admins.findAdminByEmail('ZOE@example.com'), zoe)
      assert.deepStrictEqual(await store.admins.getAdmin('a2'), admin('a2', 'ann@example.com'))
      assert.equal(await store.admins.findAdminByEmail('nobody@example.com'), undefined)
      assert.equal(await store.admins.getAdmin('nope'), undefined)
      assert.deepStrictEqual((await store.admins.listAdmins()).map((a) => a.email), ['ann@example.com', 'zoe@example.com'])
      assert.equal(await store.admins.countAdmins(), 2)
    })

    test('the email is unique case-insensitively, and the id too: 409 uniqueness', async () => {
      await store.admins.insertAdmin(admin('a1', 'ann@example.com'))
      await rejectsWith(store.admins.insertAdmin(admin('a2', 'ANN@Example.com')), 409, 'uniqueness', /email/)
      await rejectsWith(store.admins.insertAdmin(admin('a1', 'other@example.com')), 409, 'uniqueness', /id/)
      assert.equal(await store.admins.countAdmins(), 1)
    })

    test('updateAdmin: keys with values change, optional keys present as undefined clear, absent keys stay', async () => {
      await store.admins.insertAdmin(admin('a1', 'ann@example.com', { name: 'Ann', tenant: T, disabledAt: at(3) }))
      const promoted = await store.admins.updateAdmin('a1', { role: 'owner', passwordHash: 'hash-2' })
      assert.deepStrictEqual(promoted, { ...admin('a1', 'ann@example.com', { name: 'Ann', tenant: T, disabledAt: at(3) }), role: 'owner', passwordHash: 'hash-2' })
      const cleared = await store.admins.updateAdmin('a1', { disabledAt: undefined, tenant: undefined, role: undefined })
      assert.deepStrictEqual(cleared, { ...admin('a1', 'ann@example.com', { name: 'Ann' }), role: 'owner', passwordHash: 'hash-2' })
      assert.deepStrictEqual(await store.admins.getAdmin('a1'), cleared)
      assert.deepStrictEqual(await store.admins.updateAdmin('a1', {}), cleared)
      assert.equal(await store.admins.updateAdmin('nope', { name: 'x' }), undefined)
    })

    test('deleteAdmin removes the admin and its sessions, and answers false when absent', async () => {
      await store.admins.insertAdmin(admin('a1', 'ann@example.com'))
      await store.admins.insertAdmin(admin('a2', 'bob@example.com'))
      await store.adminSessions.insertSession(session('s1', 'a1'))
      await store.adminSessions.insertSession(session('s2', 'a2'))
      assert.equal(await store.admins.deleteAdmin('a1'), true)
      assert.equal(await store.admins.getAdmin('a1'), undefined)
      assert.equal(await store.adminSessions.findSession('s1'), undefined)
      assert.ok(await store.adminSessions.findSession('s2'))
      assert.equal(await store.admins.deleteAdmin('a1'), false)
      // The email is free again.
      await store.admins.insertAdmin(admin('a3', 'ANN@example.com'))
      assert.equal(await store.admins.countAdmins(), 2)
    })
  })

  describe(`${name}: admin sessions (AdminSessionStore)`, { skip }, () => {
    setUp()

    test('insert and find round-trip, with and without ip and user agent; a taken idHash is 409', async () => {
      const full = session('s1', 'a1', { ip: '192.0.2.7', userAgent: 'Mozilla/5.0' })
      await store.adminSessions.insertSession(full)
      await store.adminSessions.insertSession(session('s2', 'a1'))
      assert.deepStrictEqual(await store.adminSessions.findSession('s1'), full)
      assert.deepStrictEqual(await store.adminSessions.findSession('s2'), session('s2', 'a1'))
      assert.equal(await store.adminSessions.findSession('nope'), undefined)
      await rejectsWith(store.adminSessions.insertSession(session('s1', 'a2')), 409, 'uniqueness')
    })

    test('touch moves lastSeenAt and expiresAt only; delete removes one session', async () => {
      await store.adminSessions.insertSession(session('s1', 'a1'))
      await store.adminSessions.touchSession('s1', at(60), at(1860))
      assert.deepStrictEqual(await store.adminSessions.findSession('s1'), { ...session('s1', 'a1'), lastSeenAt: at(60), expiresAt: at(1860) })
      await store.adminSessions.deleteSession('s1')
      assert.equal(await store.adminSessions.findSession('s1'), undefined)
      await store.adminSessions.deleteSession('s1')
    })

    test('deleteSessionsOf ends every session of one admin and counts them', async () => {
      for (const [id, adminId] of [['s1', 'a1'], ['s2', 'a1'], ['s3', 'a2']] as const) await store.adminSessions.insertSession(session(id, adminId))
      assert.equal(await store.adminSessions.deleteSessionsOf('a1'), 2)
      assert.equal(await store.adminSessions.deleteSessionsOf('a1'), 0)
      assert.equal(await store.adminSessions.findSession('s1'), undefined)
      assert.ok(await store.adminSessions.findSession('s3'))
    })

    test('deleteOtherSessionsOf ends every session of one admin but the kept one, and counts them', async () => {
      for (const [id, adminId] of [['s1', 'a1'], ['s2', 'a1'], ['s3', 'a1'], ['s4', 'a2']] as const) await store.adminSessions.insertSession(session(id, adminId))
      assert.equal(await store.adminSessions.deleteOtherSessionsOf('a1', 's2'), 2)
      assert.equal(await store.adminSessions.deleteOtherSessionsOf('a1', 's2'), 0)
      assert.deepStrictEqual(await store.adminSessions.findSession('s2'), session('s2', 'a1'))
      assert.equal(await store.adminSessions.findSession('s1'), undefined)
      assert.equal(await store.adminSessions.findSession('s3'), undefined)
      assert.ok(await store.adminSessions.findSession('s4'), 'another admin keeps its sessions')
      assert.equal(await store.adminSessions.deleteOtherSessionsOf('a2', 's2'), 1, 'a kept hash of another admin protects nothing of this one')
    })

    test('deleteExpiredSessions removes those idle-expired or absolutely expired at or before now', async () => {
      await store.adminSessions.insertSession(session('idle', 'a1', { expiresAt: at(100), absoluteExpiresAt: at(1000) }))
      await store.adminSessions.insertSession(session('absolute', 'a1', { expiresAt: at(500), absoluteExpiresAt: at(100) }))
      await store.adminSessions.insertSession(session('live', 'a1', { expiresAt: at(101), absoluteExpiresAt: at(1000) }))
      assert.equal(await store.adminSessions.deleteExpiredSessions(at(99)), 0)
      assert.equal(await store.adminSessions.deleteExpiredSessions(at(100)), 2)
      assert.ok(await store.adminSessions.findSession('live'))
      assert.equal(await store.adminSessions.findSession('idle'), undefined)
      assert.equal(await store.adminSessions.findSession('absolute'), undefined)
    })
  })

  describe(`${name}: admin API keys (AdminApiKeyStore)`, { skip }, () => {
    setUp()

    test('insert, find and list (oldest first) round-trip; a taken id is 409', async () => {
      const k2 = apiKey('k2', { createdAt: at(2), expiresAt: at(500) })
      await store.adminApiKeys.insertApiKey(k2)
      await store.adminApiKeys.insertApiKey(apiKey('k1'))
      assert.deepStrictEqual(await store.adminApiKeys.findApiKey('k2'), k2)
      assert.equal(await store.adminApiKeys.findApiKey('nope'), undefined)
      assert.deepStrictEqual(await store.adminApiKeys.listApiKeys(), [apiKey('k1'), k2])
      await rejectsWith(store.adminApiKeys.insertApiKey(apiKey('k1')), 409, 'uniqueness')
    })

    test('revoke once only; touch records the last use', async () => {
      await store.adminApiKeys.insertApiKey(apiKey('k1'))
      assert.equal(await store.adminApiKeys.revokeApiKey('k1', at(5)), true)
      assert.equal(await store.adminApiKeys.revokeApiKey('k1', at(6)), false)
      assert.equal(await store.adminApiKeys.revokeApiKey('nope', at(6)), false)
      await store.adminApiKeys.touchApiKey('k1', at(7))
      assert.deepStrictEqual(await store.adminApiKeys.findApiKey('k1'), { ...apiKey('k1'), revokedAt: at(5), lastUsedAt: at(7) })
    })
  })

  describe(`${name}: OAuth clients (OAuthClientStore)`, { skip }, () => {
    setUp()

    test('insert, find and list per tenant round-trip the scopes', async () => {
      const c2 = client('c2', T, { scopes: ['scim:read', 'scim:write'], createdAt: at(2) })
      await store.oauthClients.insertClient(c2)
      await store.oauthClients.insertClient(client('c1', T, { scopes: [] }))
      await store.oauthClients.insertClient(client('c3', OTHER))
      assert.deepStrictEqual(await store.oauthClients.findClient('c2'), c2)
      assert.equal(await store.oauthClients.findClient('nope'), undefined)
      assert.deepStrictEqual(await store.oauthClients.listClients(T), [client('c1', T, { scopes: [] }), c2])
      assert.deepStrictEqual((await store.oauthClients.listClients(OTHER)).map((c) => c.id), ['c3'])
    })

    test('client ids are unique across tenants: 409 uniqueness', async () => {
      await store.oauthClients.insertClient(client('c1', T))
      await rejectsWith(store.oauthClients.insertClient(client('c1', OTHER)), 409, 'uniqueness')
      assert.equal((await store.oauthClients.findClient('c1'))?.tenant, T)
    })

    test('revoke only in the client’s tenant and only once; touch records the last use', async () => {
      await store.oauthClients.insertClient(client('c1', T))
      assert.equal(await store.oauthClients.revokeClient(OTHER, 'c1', at(5)), false)
      assert.equal((await store.oauthClients.findClient('c1'))?.revokedAt, undefined)
      assert.equal(await store.oauthClients.revokeClient(T, 'c1', at(6)), true)
      assert.equal(await store.oauthClients.revokeClient(T, 'c1', at(7)), false)
      assert.equal(await store.oauthClients.revokeClient(T, 'nope', at(7)), false)
      await store.oauthClients.touchClient('c1', at(8))
      assert.deepStrictEqual(await store.oauthClients.findClient('c1'), { ...client('c1', T), revokedAt: at(6), lastUsedAt: at(8) })
    })
  })

  describe(`${name}: signing keys (SigningKeyStore)`, { skip }, () => {
    setUp()

    test('insert and list (oldest first) round-trip the JWKs; a taken kid is 409', async () => {
      await store.signingKeys.insertKey(signingKey('kid-b', at(2)))
      await store.signingKeys.insertKey(signingKey('kid-a', at(1)))
      assert.deepStrictEqual(await store.signingKeys.listKeys(), [signingKey('kid-a', at(1)), signingKey('kid-b', at(2))])
      await rejectsWith(store.signingKeys.insertKey(signingKey('kid-a', at(3))), 409, 'uniqueness')
    })

    test('retireKey keeps the first retirement time; an unknown kid is a no-op', async () => {
      await store.signingKeys.insertKey(signingKey('kid-a', at(1)))
      await store.signingKeys.retireKey('kid-a', at(10))
      await store.signingKeys.retireKey('kid-a', at(20))
      await store.signingKeys.retireKey('nope', at(20))
      assert.deepStrictEqual(await store.signingKeys.listKeys(), [{ ...signingKey('kid-a', at(1)), retiredAt: at(10) }])
    })

    test('sealPrivateJwk replaces a bare private JWK, keeps the first sealing, and ignores an unknown kid', async () => {
      await store.signingKeys.insertKey(signingKey('kid-a', at(1)))
      await store.signingKeys.insertKey({ ...signingKey('kid-b', at(2)), privateJwk: sealed('first') })
      await store.signingKeys.sealPrivateJwk('kid-a', sealed('a'))
      await store.signingKeys.sealPrivateJwk('kid-b', sealed('second'))
      await store.signingKeys.sealPrivateJwk('nope', sealed('nope'))
      assert.deepStrictEqual(await store.signingKeys.listKeys(), [
        { ...signingKey('kid-a', at(1)), privateJwk: sealed('a') },
        { ...signingKey('kid-b', at(2)), privateJwk: sealed('first') },
      ])
    })
  })
}

// ---------------------------------------------------------------------------------------------------

const T = 'tenant-a'
const OTHER = 'tenant-b'

type Change = { readonly before?: CurrentResource; readonly after?: CurrentResource }

const at = (seconds: number) => new Date(Date.UTC(2024, 0, 1) + seconds * 1000).toISOString()
const pad = (n: number) => String(n).padStart(2, '0')
const registry = SchemaRegistry.withCoreSchemas()
const filterOf = (text: string, resourceType: string) => resolveFilter(parseFilter(text), registry, resourceType)
const memberValues = (members: Map<string, { value: string }[]>, groupId: string) => (members.get(groupId) ?? []).map((m) => m.value).sort()

const user = (id: string, userName: string): NewResource => ({ id, resourceType: 'User', data: { schemas: [USER_SCHEMA], userName }, now: at(0) })
const group = (id: string, displayName: string): NewResource => ({ id, resourceType: 'Group', data: { schemas: [GROUP_SCHEMA], displayName }, now: at(0) })

const ACME_SETTINGS: TenantSettings = {
  deletePolicy: 'deactivate',
  resourceTypes: ['User'],
  extensionSchemas: [{ id: 'urn:example:acme:2.0:User', name: 'Acme', attributes: [{ name: 'badge', type: 'string', multiValued: false }] }],
  webhookUrl: 'https://hooks.example.com/roster',
  auditReads: 'sample',
  auditReadSampleRate: 0.25,
  auditRetentionDays: 30,
  scimRateLimitPerMinute: 120,
}

const tenant = (id: string, name: string, createdAt: string, settings: TenantSettings = DEFAULT_TENANT_SETTINGS): TenantRecord => ({ id, name, createdAt, settings })

interface EventShape {
  tenant?: string
  time?: string
  /** null: no actor id (an anonymous request). */
  actorId?: string | null
  operation?: AuditOperation
  resourceType?: string
  resourceId?: string
  status?: number
}

function auditEvent(id: string, o: EventShape = {}): AuditEvent {
  return {
    id,
    tenant: o.tenant ?? T,
    time: o.time ?? at(0),
    actor: { type: 'token', ...(o.actorId === null ? {} : { id: o.actorId ?? 'k1' }), name: 'Okta production' },
    client: { ip: '192.0.2.1', userAgent: 'Okta SCIM Client 1.0.0', product: 'Okta' },
    request: { id: `req-${id}`, method: 'POST', path: '/scim/v2/Users' },
    resource: { ...(o.resourceType ? { type: o.resourceType } : {}), ...(o.resourceId ? { id: o.resourceId } : {}) },
    operation: o.operation ?? 'create',
    changes: [
      { attribute: 'userName', after: 'bjensen' },
      { attribute: 'name.givenName', before: 'Barbara', after: 'Babs' },
      { attribute: 'password', changed: true },
    ],
    outcome: { status: o.status ?? 201 },
    latencyMs: 3,
  }
}

/** A hook that records what it was given and answers one event about the resource, in `tenant`. */
function hookWith(id: string, seen: Change[] = [], tenant = T): AuditHook {
  return (change) => {
    seen.push(change)
    const resource = change.after ?? change.before!
    const operation = !change.before ? 'create' : !change.after ? 'delete' : 'patch'
    return auditEvent(id, { tenant, resourceType: resource.resourceType, resourceId: resource.id, operation })
  }
}

const throwingHook = (): AuditHook => () => {
  throw new Error('hook failed')
}

/**
 * 60 events in T (and 20 in OTHER): three per time, ids not in time order, every filter's column varied
 * independently, some with no actor id and some with no resource.
 */
function generatedEvents(): AuditEvent[] {
  const operations: AuditOperation[] = ['create', 'patch', 'delete', 'replace', 'request.rejected']
  const out: AuditEvent[] = []
  for (let i = 0; i < 60; i++) {
    const type = i % 5 === 0 ? undefined : i % 2 ? 'User' : 'Group'
    out.push(
      auditEvent(`e${pad((i * 37) % 60)}`, {
        time: at(Math.floor(i / 3)),
        actorId: [null, 'k1', 'k2', 'k3'][i % 4] as string | null,
        operation: operations[i % 5 === 0 ? 4 : i % 3]!,
        ...(type ? { resourceType: type, resourceId: `r${i % 6}` } : {}),
        status: i % 7 === 0 ? 401 : i % 11 === 0 ? 409 : 200,
      }),
    )
  }
  for (let i = 0; i < 20; i++) out.push(auditEvent(`o${pad(i)}`, { tenant: OTHER, time: at(i), actorId: 'k2', resourceType: 'User', resourceId: 'r3', status: 500 }))
  return out
}

/** The reference the adapters' SQL must agree with (ports.ts AuditQuery). */
function matchesQuery(e: AuditEvent, q: AuditQuery): boolean {
  return (
    e.tenant === q.tenant &&
    (q.from === undefined || e.time >= q.from) &&
    (q.to === undefined || e.time < q.to) &&
    (q.resourceType === undefined || e.resource.type === q.resourceType) &&
    (q.resourceId === undefined || e.resource.id === q.resourceId) &&
    (q.actorId === undefined || e.actor.id === q.actorId) &&
    (q.operation === undefined || e.operation === q.operation) &&
    (q.outcome === undefined || (q.outcome === 'success' ? e.outcome.status < 400 : e.outcome.status >= 400))
  )
}

const newestFirst = (a: AuditEvent, b: AuditEvent) => (a.time !== b.time ? (a.time < b.time ? 1 : -1) : a.id < b.id ? 1 : a.id > b.id ? -1 : 0)

function admin(id: string, email: string, extra: Partial<AdminRecord> = {}): AdminRecord {
  return { id, email, role: 'viewer', passwordHash: `scrypt$${id}`, createdAt: at(0), ...extra }
}

function session(idHash: string, adminId: string, extra: Partial<AdminSessionRecord> = {}): AdminSessionRecord {
  return { idHash, adminId, createdAt: at(0), lastSeenAt: at(0), expiresAt: at(1800), absoluteExpiresAt: at(43200), ...extra }
}

function apiKey(id: string, extra: Partial<AdminApiKeyRecord> = {}): AdminApiKeyRecord {
  return { id, name: `key ${id}`, role: 'securityAdmin', prefix: `rak_${id}`, hash: `hash-${id}`, createdBy: 'a1', createdAt: at(1), ...extra }
}

function client(id: string, tenant: string, extra: Partial<OAuthClientRecord> = {}): OAuthClientRecord {
  return { id, tenant, name: `client ${id}`, secretHash: `hash-${id}`, scopes: ['scim'], createdAt: at(1), ...extra }
}

/** A SealedJwk's shape; the store holds it as it is, never opening it. */
const sealed = (data: string): SealedJwk => ({ enc: 'A256GCM', iv: `iv-${data}`, tag: `tag-${data}`, data })

function signingKey(kid: string, createdAt: string): StoredSigningKey {
  const publicJwk = { kty: 'EC', crv: 'P-256', x: `x-${kid}`, y: `y-${kid}` }
  return { kid, algorithm: 'ES256', privateJwk: { ...publicJwk, d: `d-${kid}` }, publicJwk, createdAt }
}

async function rejectsWith(promise: Promise<unknown>, status: number, scimType?: string, detail?: RegExp): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof ScimError, `expected a ScimError, got ${String(e)}`)
    assert.equal(e.status, status)
    assert.equal(e.scimType, scimType)
    if (detail) assert.match(e.detail, detail)
    return true
  })
}
