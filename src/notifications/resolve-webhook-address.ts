import type { LookupAddress } from 'node:dns'
import { lookup } from 'node:dns/promises'
import { describeRange, literalAddressOf, specialPurposeRangeOf } from './special-purpose-addresses.js'

/** Every address a host name resolves to (node:dns lookup, all: true), in the resolver's order. */
export type HostLookup = (hostname: string) => Promise<readonly LookupAddress[]>

/** The system resolver, as the OS would answer a connect (getaddrinfo: /etc/hosts, then DNS). */
export const lookupAllAddresses: HostLookup = (hostname) => lookup(hostname, { all: true, verbatim: true })

/** How an operator lets webhooks reach private receivers; quoted in every refusal. */
export const ALLOW_PRIVATE_HINT = 'ROSTER_WEBHOOK_ALLOW_PRIVATE=true allows receivers on a private network'

/** Where one delivery attempt connects, or why it may not. */
export type WebhookAddress = { readonly ok: true; readonly address: LookupAddress } | { readonly ok: false; readonly reason: string }

export interface ResolveWebhookAddressOptions {
  /** ROSTER_WEBHOOK_ALLOW_PRIVATE: every address is allowed (it is still resolved once and pinned). */
  readonly allowPrivate: boolean
  readonly lookup: HostLookup
}

/** A localhost name (RFC 6761 §6.3: "localhost." and names under it resolve to loopback). */
const isLocalhostName = (hostname: string): boolean => /(^|\.)localhost\.?$/i.test(hostname)

/**
 * Why a webhook host is refused before any lookup, or undefined: an IP literal in a special-purpose range
 * (loopback, RFC 1918, link-local, unique-local, …, IPv4-mapped forms included) or a localhost name. The
 * settings check uses it when a webhook URL is saved; host names are resolved and checked again at each
 * delivery (resolveWebhookAddress), since what a name resolves to can change after it was saved.
 */
export function literalHostRefusalOf(hostname: string): string | undefined {
  const literal = literalAddressOf(hostname)
  if (literal !== undefined) {
    const range = specialPurposeRangeOf(literal)
    return range ? `${literal} is ${describeRange(range)}` : undefined
  }
  return isLocalhostName(hostname) ? `${hostname} is a loopback name (RFC 6761 §6.3)` : undefined
}

/**
 * The address a delivery to `hostname` connects to: its first resolved address, once every resolved
 * address is globally reachable. One private answer among public ones refuses the host, since any answer
 * could be the one a later connect picks. The caller connects to the address returned, never resolving
 * again, so a DNS answer that changes between check and connect (DNS rebinding) cannot steer the request.
 * Lookup errors (ENOTFOUND, EAI_AGAIN) are thrown, to be retried like network errors; a refusal is final.
 */
export async function resolveWebhookAddress(hostname: string, options: ResolveWebhookAddressOptions): Promise<WebhookAddress> {
  if (!options.allowPrivate) {
    const refusal = literalHostRefusalOf(hostname)
    if (refusal) return { ok: false, reason: `refused: ${refusal}. ${ALLOW_PRIVATE_HINT}` }
  }
  const literal = literalAddressOf(hostname)
  const addresses = literal !== undefined ? [{ address: literal, family: literal.includes(':') ? 6 : 4 }] : await options.lookup(hostname)
  const first = addresses[0]
  if (!first) return { ok: false, reason: `refused: ${hostname} resolves to no address` }
  if (!options.allowPrivate) {
    for (const { address } of addresses) {
      const range = specialPurposeRangeOf(address)
      if (range) return { ok: false, reason: `refused: ${hostname} resolves to ${address}, ${describeRange(range)}. ${ALLOW_PRIVATE_HINT}` }
    }
  }
  return { ok: true, address: first }
}
