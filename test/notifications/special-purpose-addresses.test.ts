import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { describeRange, literalAddressOf, specialPurposeRangeOf } from '../../src/notifications/special-purpose-addresses.js'

describe('specialPurposeRangeOf', () => {
  // Each address with the range it must land in (IANA special-purpose registries, RFC 6890).
  const blocked: { address: string; range: string; kind: RegExp }[] = [
    { address: '0.0.0.0', range: '0.0.0.0/8', kind: /unspecified/ },
    { address: '10.0.0.1', range: '10.0.0.0/8', kind: /private/ },
    { address: '10.255.255.255', range: '10.0.0.0/8', kind: /private/ },
    { address: '100.64.0.1', range: '100.64.0.0/10', kind: /carrier-grade NAT/ },
    { address: '100.127.255.254', range: '100.64.0.0/10', kind: /carrier-grade NAT/ },
    { address: '127.0.0.1', range: '127.0.0.0/8', kind: /loopback/ },
    { address: '127.8.9.10', range: '127.0.0.0/8', kind: /loopback/ },
    { address: '169.254.169.254', range: '169.254.0.0/16', kind: /link-local.*metadata/ },
    { address: '172.16.0.1', range: '172.16.0.0/12', kind: /private/ },
    { address: '172.31.255.255', range: '172.16.0.0/12', kind: /private/ },
    { address: '192.0.0.8', range: '192.0.0.0/24', kind: /IETF protocol/ },
    { address: '192.0.2.1', range: '192.0.2.0/24', kind: /documentation/ },
    { address: '192.168.1.1', range: '192.168.0.0/16', kind: /private/ },
    { address: '198.18.0.1', range: '198.18.0.0/15', kind: /benchmarking/ },
    { address: '203.0.113.9', range: '203.0.113.0/24', kind: /documentation/ },
    { address: '224.0.0.251', range: '224.0.0.0/4', kind: /multicast/ },
    { address: '239.255.255.250', range: '224.0.0.0/4', kind: /multicast/ },
    { address: '255.255.255.255', range: '240.0.0.0/4', kind: /broadcast/ },
    { address: '::', range: '::/128', kind: /unspecified/ },
    { address: '::1', range: '::1/128', kind: /loopback/ },
    { address: '0:0:0:0:0:0:0:1', range: '::1/128', kind: /loopback/ },
    { address: '::127.0.0.1', range: '::/96', kind: /IPv4-compatible/ },
    { address: 'fc00::1', range: 'fc00::/7', kind: /unique-local/ },
    { address: 'fd12:3456:789a::1', range: 'fc00::/7', kind: /unique-local/ },
    { address: 'fe80::1', range: 'fe80::/10', kind: /link-local/ },
    { address: 'febf:ffff::1', range: 'fe80::/10', kind: /link-local/ },
    { address: 'fec0::1', range: 'fec0::/10', kind: /site-local/ },
    { address: 'ff02::1', range: 'ff00::/8', kind: /multicast/ },
    { address: '2001:db8::1', range: '2001:db8::/32', kind: /documentation/ },
    { address: '100::1', range: '100::/64', kind: /discard-only/ },
    { address: '64:ff9b:1::1', range: '64:ff9b:1::/48', kind: /local-use NAT64/ },
    // IPv4-mapped IPv6 (RFC 4291 §2.5.5.2): the IPv4 address decides, in either spelling.
    { address: '::ffff:127.0.0.1', range: '127.0.0.0/8', kind: /loopback/ },
    { address: '::ffff:7f00:1', range: '127.0.0.0/8', kind: /loopback/ },
    { address: '::ffff:169.254.169.254', range: '169.254.0.0/16', kind: /link-local/ },
    { address: '::ffff:10.1.2.3', range: '10.0.0.0/8', kind: /private/ },
    { address: '0:0:0:0:0:ffff:c0a8:0101', range: '192.168.0.0/16', kind: /private/ },
    // NAT64 (RFC 6052): a gateway forwards 64:ff9b::a.b.c.d to a.b.c.d.
    { address: '64:ff9b::127.0.0.1', range: '64:ff9b::127.0.0.0/104', kind: /NAT64 form of 127\.0\.0\.0\/8, loopback/ },
    { address: '64:ff9b::a9fe:a9fe', range: '64:ff9b::169.254.0.0/112', kind: /NAT64 form of 169\.254\.0\.0\/16/ },
    { address: '64:ff9b::c0a8:1', range: '64:ff9b::192.168.0.0/112', kind: /NAT64 form of 192\.168\.0\.0\/16, private/ },
    // 6to4 (RFC 3056): 2002:aabb:ccdd:: carries a.b.c.d; Teredo (RFC 4380) is refused whole.
    { address: '2002:7f00:1::1', range: '2002:7f00:0000::/24', kind: /6to4 form of 127\.0\.0\.0\/8, loopback/ },
    { address: '2002:a9fe:a9fe::', range: '2002:a9fe:0000::/32', kind: /6to4 form of 169\.254\.0\.0\/16/ },
    { address: '2002:0a01:0203::5', range: '2002:0a00:0000::/24', kind: /6to4 form of 10\.0\.0\.0\/8, private/ },
    { address: '2001:0:4136:e378:8000:63bf:3fff:fdd2', range: '2001::/32', kind: /Teredo/ },
  ]
  for (const { address, range, kind } of blocked) {
    test(`${address} is in ${range}`, () => {
      const hit = specialPurposeRangeOf(address)
      assert.equal(hit?.range, range)
      assert.match(hit.kind, kind)
    })
  }

  // Globally reachable, including the neighbours of every range boundary that is easy to get wrong.
  const allowed = [
    '1.1.1.1',
    '8.8.8.8',
    '9.255.255.255',
    '11.0.0.0',
    '100.63.255.255',
    '100.128.0.0',
    '126.255.255.255',
    '128.0.0.0',
    '169.253.255.255',
    '169.255.0.0',
    '172.15.255.255',
    '172.32.0.0',
    '192.167.255.255',
    '192.169.0.0',
    '198.20.0.0',
    '223.255.255.255',
    '2606:4700:4700::1111',
    '2001:4860:4860::8888',
    '2a00:1450:4001:80b::200e',
    'fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
    'fe00::1',
    '::ffff:8.8.8.8',
    '::ffff:1.1.1.1',
    '64:ff9b::808:808',
    '64:ff9b::1.1.1.1',
    '2002:808:808::1',
    '2001:4860::1',
  ]
  for (const address of allowed) {
    test(`${address} is globally reachable`, () => assert.equal(specialPurposeRangeOf(address), undefined))
  }

  for (const text of ['', 'localhost', 'hooks.example.com', '127.0.0.1.', '[::1]', '1.2.3', '::g']) {
    test(`${JSON.stringify(text)} is not an IP address: refused, the check fails closed`, () => {
      assert.match(specialPurposeRangeOf(text)?.kind ?? '', /not an IP address/)
    })
  }

  test('describeRange names the kind, the CIDR and the RFC', () => {
    assert.equal(describeRange(specialPurposeRangeOf('127.0.0.1')!), 'loopback (127.0.0.0/8, RFC 1122)')
    assert.equal(describeRange(specialPurposeRangeOf('10.0.0.1')!), 'private (10.0.0.0/8, RFC 1918)')
  })
})

describe('literalAddressOf', () => {
  const cases: { hostname: string; expected: string | undefined }[] = [
    { hostname: '127.0.0.1', expected: '127.0.0.1' },
    { hostname: '[::1]', expected: '::1' },
    { hostname: new URL('http://[::ffff:127.0.0.1]/').hostname, expected: '::ffff:7f00:1' },
    // The WHATWG URL parser turns every IPv4 spelling into dotted decimal before we see it.
    { hostname: new URL('http://2130706433/').hostname, expected: '127.0.0.1' },
    { hostname: new URL('http://0x7f.1/').hostname, expected: '127.0.0.1' },
    { hostname: 'hooks.example.com', expected: undefined },
    { hostname: 'localhost', expected: undefined },
  ]
  for (const { hostname, expected } of cases) {
    test(`${hostname} → ${expected ?? 'a name'}`, () => assert.equal(literalAddressOf(hostname), expected))
  }
})
