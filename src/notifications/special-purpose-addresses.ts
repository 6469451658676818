import { BlockList, isIP } from 'node:net'

/** A range of the IANA special-purpose address registries (RFC 6890) that a webhook may not reach. */
export interface SpecialPurposeRange {
  /** CIDR, e.g. 169.254.0.0/16. */
  readonly range: string
  /** What the range is, in the words of the RFC that reserves it. */
  readonly kind: string
  readonly rfc: string
}

type Family = 'ipv4' | 'ipv6'

/**
 * The IPv4 ranges: every entry of the IANA IPv4 special-purpose registry that is not globally reachable,
 * plus multicast and the reserved 240/4. 169.254.169.254, the cloud metadata service, is link-local.
 */
const IPV4_RANGES: readonly SpecialPurposeRange[] = [
  { range: '0.0.0.0/8', kind: 'unspecified ("this network")', rfc: 'RFC 791' },
  { range: '10.0.0.0/8', kind: 'private', rfc: 'RFC 1918' },
  { range: '100.64.0.0/10', kind: 'shared address space (carrier-grade NAT)', rfc: 'RFC 6598' },
  { range: '127.0.0.0/8', kind: 'loopback', rfc: 'RFC 1122' },
  { range: '169.254.0.0/16', kind: 'link-local (cloud metadata services live here)', rfc: 'RFC 3927' },
  { range: '172.16.0.0/12', kind: 'private', rfc: 'RFC 1918' },
  { range: '192.0.0.0/24', kind: 'IETF protocol assignments', rfc: 'RFC 6890' },
  { range: '192.0.2.0/24', kind: 'documentation (TEST-NET-1)', rfc: 'RFC 5737' },
  { range: '192.88.99.0/24', kind: '6to4 relay anycast (deprecated)', rfc: 'RFC 7526' },
  { range: '192.168.0.0/16', kind: 'private', rfc: 'RFC 1918' },
  { range: '198.18.0.0/15', kind: 'benchmarking', rfc: 'RFC 2544' },
  { range: '198.51.100.0/24', kind: 'documentation (TEST-NET-2)', rfc: 'RFC 5737' },
  { range: '203.0.113.0/24', kind: 'documentation (TEST-NET-3)', rfc: 'RFC 5737' },
  { range: '224.0.0.0/4', kind: 'multicast', rfc: 'RFC 5771' },
  { range: '240.0.0.0/4', kind: 'reserved (and 255.255.255.255, limited broadcast)', rfc: 'RFC 1112' },
]

/**
 * The IPv6 ranges. IPv4-mapped addresses (::ffff:0:0/96) need no entry: BlockList checks ::ffff:a.b.c.d
 * against the IPv4 rules itself. NAT64 addresses (64:ff9b::/96, RFC 6052) carry an IPv4 address in their
 * last 32 bits, and a NAT64 gateway (IPv6-only clouds have one) forwards to it, so each IPv4 range is
 * also blocked in its NAT64 form, below; the rest of 64:ff9b::/96 reaches public IPv4 hosts and stays open.
 */
const IPV6_RANGES: readonly SpecialPurposeRange[] = [
  { range: '::/128', kind: 'unspecified', rfc: 'RFC 4291' },
  { range: '::1/128', kind: 'loopback', rfc: 'RFC 4291' },
  { range: '::/96', kind: 'IPv4-compatible (deprecated)', rfc: 'RFC 4291 §2.5.5.1' },
  { range: '64:ff9b:1::/48', kind: 'local-use NAT64', rfc: 'RFC 8215' },
  { range: '100::/64', kind: 'discard-only', rfc: 'RFC 6666' },
  // Teredo: a relay forwards to the (obfuscated) IPv4 address in the last 32 bits, whatever range it is in;
  // not globally reachable in the IANA registry, and nothing a webhook receiver would use.
  { range: '2001::/32', kind: 'Teredo (tunnels to an embedded IPv4 address)', rfc: 'RFC 4380' },
  { range: '2001:2::/48', kind: 'benchmarking', rfc: 'RFC 5180' },
  { range: '2001:db8::/32', kind: 'documentation', rfc: 'RFC 3849' },
  { range: 'fc00::/7', kind: 'unique-local', rfc: 'RFC 4193' },
  { range: 'fe80::/10', kind: 'link-local', rfc: 'RFC 4291' },
  { range: 'fec0::/10', kind: 'site-local (deprecated)', rfc: 'RFC 3879' },
  { range: 'ff00::/8', kind: 'multicast', rfc: 'RFC 4291' },
]

/** IPv4 range a.b.c.d/n as its NAT64 form 64:ff9b::a.b.c.d/(96+n) (RFC 6052 §2.2, the /96 prefix). */
const nat64FormOf = (v4: SpecialPurposeRange): SpecialPurposeRange => {
  const [network, prefix] = v4.range.split('/') as [string, string]
  return { range: `64:ff9b::${network}/${96 + Number(prefix)}`, kind: `NAT64 form of ${v4.range}, ${v4.kind}`, rfc: `RFC 6052, ${v4.rfc}` }
}

/**
 * IPv4 range a.b.c.d/n as its 6to4 form 2002:aabb:ccdd::/(16+n) (RFC 3056 §2: the IPv4 address in bits
 * 16–47): a 6to4 relay forwards there. The rest of 2002::/16 stays open, as the registry has it.
 */
const sixToFourFormOf = (v4: SpecialPurposeRange): SpecialPurposeRange => {
  const [network, prefix] = v4.range.split('/') as [string, string]
  const [a, b, c, d] = network.split('.').map((octet) => Number(octet).toString(16).padStart(2, '0')) as [string, string, string, string]
  return { range: `2002:${a}${b}:${c}${d}::/${16 + Number(prefix)}`, kind: `6to4 form of ${v4.range}, ${v4.kind}`, rfc: `RFC 3056, ${v4.rfc}` }
}

/** One BlockList per range, so a hit can name its range; about 60 checks per address, on webhook sends only. */
const RANGES: readonly { readonly range: SpecialPurposeRange; readonly list: BlockList }[] = [
  ...IPV4_RANGES.map((range) => ({ range, family: 'ipv4' as Family })),
  ...IPV6_RANGES.map((range) => ({ range, family: 'ipv6' as Family })),
  ...IPV4_RANGES.map((range) => ({ range: nat64FormOf(range), family: 'ipv6' as Family })),
  ...IPV4_RANGES.map((range) => ({ range: sixToFourFormOf(range), family: 'ipv6' as Family })),
].map(({ range, family }) => {
  const [network, prefix] = range.range.split('/') as [string, string]
  const list = new BlockList()
  list.addSubnet(network, Number(prefix), family)
  return { range, list }
})

const INVALID_ADDRESS: SpecialPurposeRange = { range: '(not an IP address)', kind: 'not an IP address', rfc: 'RFC 4291, RFC 791' }

/**
 * The special-purpose range an IP address (v4, or v6 without brackets) falls in, or undefined for a
 * globally reachable one. Text that is not an IP address gets a range too: a check that fails closed.
 *
 * @example specialPurposeRangeOf('::ffff:169.254.169.254') // { range: '169.254.0.0/16', kind: 'link-local …', … }
 */
export function specialPurposeRangeOf(address: string): SpecialPurposeRange | undefined {
  const version = isIP(address)
  if (version === 0) return INVALID_ADDRESS
  const family: Family = version === 4 ? 'ipv4' : 'ipv6'
  return RANGES.find(({ list }) => list.check(address, family))?.range
}

/** "loopback (127.0.0.0/8, RFC 1122)": a range as refusals in logs and 400 messages name it. */
export function describeRange(range: SpecialPurposeRange): string {
  return `${range.kind} (${range.range}, ${range.rfc})`
}

/** The IP address a URL's hostname spells (IPv6 without its brackets), or undefined for a name. */
export function literalAddressOf(hostname: string): string | undefined {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname
  return isIP(bare) === 0 ? undefined : bare
}
