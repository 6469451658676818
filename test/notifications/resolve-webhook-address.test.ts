import assert from 'node:assert/strict'
import type { LookupAddress } from 'node:dns'
import { describe, test } from 'node:test'
import { literalHostRefusalOf, resolveWebhookAddress, type HostLookup } from '../../src/notifications/resolve-webhook-address.js'

const v4 = (address: string): LookupAddress => ({ address, family: 4 })
const v6 = (address: string): LookupAddress => ({ address, family: 6 })

/** A resolver answering `answers` for every name, recording the names asked. */
function fixedLookup(answers: LookupAddress[]): HostLookup & { asked: string[] } {
  const asked: string[] = []
  return Object.assign(async (hostname: string) => (asked.push(hostname), answers), { asked })
}

describe('literalHostRefusalOf', () => {
  const cases: { hostname: string; refusal: RegExp | undefined }[] = [
    { hostname: '127.0.0.1', refusal: /^127\.0\.0\.1 is loopback \(127\.0\.0\.0\/8, RFC 1122\)$/ },
    { hostname: '169.254.169.254', refusal: /link-local/ },
    { hostname: '10.20.30.40', refusal: /private \(10\.0\.0\.0\/8, RFC 1918\)/ },
    { hostname: '[::1]', refusal: /^::1 is loopback/ },
    { hostname: '[fd00::5]', refusal: /unique-local/ },
    { hostname: '[::ffff:7f00:1]', refusal: /loopback \(127\.0\.0\.0\/8/ },
    { hostname: 'localhost', refusal: /loopback name \(RFC 6761/ },
    { hostname: 'LOCALHOST.', refusal: /loopback name/ },
    { hostname: 'api.localhost', refusal: /loopback name/ },
    { hostname: '8.8.8.8', refusal: undefined },
    { hostname: '[2606:4700:4700::1111]', refusal: undefined },
    { hostname: 'hooks.example.com', refusal: undefined },
    // Only what the text says; a name that resolves to loopback is caught when resolved.
    { hostname: 'localhost.example.com', refusal: undefined },
    { hostname: 'notlocalhost', refusal: undefined },
  ]
  for (const { hostname, refusal } of cases) {
    test(`${hostname}: ${refusal ? 'refused' : 'not refused before resolving'}`, () => {
      const got = literalHostRefusalOf(hostname)
      if (refusal) assert.match(got ?? '', refusal)
      else assert.equal(got, undefined)
    })
  }
})

describe('resolveWebhookAddress', () => {
  const refused: { name: string; hostname: string; answers: LookupAddress[]; reason: RegExp }[] = [
    { name: 'a name resolving to 127.0.0.1', hostname: 'hooks.example.com', answers: [v4('127.0.0.1')], reason: /hooks\.example\.com resolves to 127\.0\.0\.1, loopback/ },
    { name: 'a name resolving to the metadata service', hostname: 'meta.example.com', answers: [v4('169.254.169.254')], reason: /169\.254\.169\.254, link-local/ },
    { name: 'one private answer among public ones', hostname: 'mixed.example.com', answers: [v4('1.1.1.1'), v4('10.0.0.7')], reason: /10\.0\.0\.7, private/ },
    { name: 'a public v4 and a loopback v6 answer', hostname: 'dual.example.com', answers: [v4('8.8.8.8'), v6('::1')], reason: /::1, loopback/ },
    { name: 'an IPv4-mapped private answer', hostname: 'mapped.example.com', answers: [v6('::ffff:192.168.0.10')], reason: /private \(192\.168\.0\.0\/16/ },
    { name: 'a unique-local answer', hostname: 'ula.example.com', answers: [v6('fd00::1')], reason: /unique-local/ },
    { name: 'no answer at all', hostname: 'empty.example.com', answers: [], reason: /resolves to no address/ },
  ]
  for (const { name, hostname, answers, reason } of refused) {
    test(`refuses ${name}, naming the address and the opt-out`, async () => {
      const got = await resolveWebhookAddress(hostname, { allowPrivate: false, lookup: fixedLookup(answers) })
      assert.equal(got.ok, false)
      if (got.ok) return
      assert.match(got.reason, /^refused: /)
      assert.match(got.reason, reason)
      if (answers.length > 0) assert.match(got.reason, /ROSTER_WEBHOOK_ALLOW_PRIVATE=true/)
    })
  }

  test('refuses a private IP literal without asking the resolver', async () => {
    const lookup = fixedLookup([v4('1.1.1.1')])
    const got = await resolveWebhookAddress('[::ffff:7f00:1]', { allowPrivate: false, lookup })
    assert.equal(got.ok, false)
    assert.deepEqual(lookup.asked, [])
  })

  test('answers the first address of a name whose every address is public', async () => {
    const lookup = fixedLookup([v6('2606:4700:4700::1111'), v4('1.1.1.1')])
    assert.deepEqual(await resolveWebhookAddress('hooks.example.com', { allowPrivate: false, lookup }), { ok: true, address: v6('2606:4700:4700::1111') })
    assert.deepEqual(lookup.asked, ['hooks.example.com'])
  })

  test('a public IP literal is its own address, no lookup', async () => {
    const lookup = fixedLookup([])
    assert.deepEqual(await resolveWebhookAddress('[2001:4860:4860::8888]', { allowPrivate: false, lookup }), { ok: true, address: v6('2001:4860:4860::8888') })
    assert.deepEqual(await resolveWebhookAddress('8.8.8.8', { allowPrivate: false, lookup }), { ok: true, address: v4('8.8.8.8') })
    assert.deepEqual(lookup.asked, [])
  })

  test('with allowPrivate, private answers, literals and localhost are allowed, still resolved once', async () => {
    const lookup = fixedLookup([v4('127.0.0.1')])
    assert.deepEqual(await resolveWebhookAddress('localhost', { allowPrivate: true, lookup }), { ok: true, address: v4('127.0.0.1') })
    assert.deepEqual(await resolveWebhookAddress('10.0.0.7', { allowPrivate: true, lookup }), { ok: true, address: v4('10.0.0.7') })
    assert.deepEqual(await resolveWebhookAddress('[::1]', { allowPrivate: true, lookup }), { ok: true, address: v6('::1') })
    assert.deepEqual(lookup.asked, ['localhost'])
  })

  test('a lookup error is thrown (the notifier retries it like a network error)', async () => {
    const lookup: HostLookup = async () => Promise.reject(Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.invalid'), { code: 'ENOTFOUND' }))
    await assert.rejects(resolveWebhookAddress('nowhere.invalid', { allowPrivate: false, lookup }), { code: 'ENOTFOUND' })
  })
})
