import type { LookupAddress } from 'node:dns'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { LookupFunction } from 'node:net'
import { literalAddressOf } from './special-purpose-addresses.js'

/** One POST of a webhook delivery, to an address already resolved and checked. */
export interface WebhookRequest {
  readonly url: URL
  /** Where the connection goes, whatever the URL's host name resolves to by now. */
  readonly address: LookupAddress
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
  /** Aborts the attempt (timeout, close). */
  readonly signal: AbortSignal
}

/** Sends one request; resolves with the response status, rejects on network errors and aborts. */
export type WebhookPost = (request: WebhookRequest) => Promise<number>

/**
 * A `lookup` that answers every query with `address`: node's net.connect asks it instead of DNS, so the
 * socket goes to the checked address while the URL's host name still serves as Host header, TLS SNI and
 * the name the certificate must carry. With autoSelectFamily (on by default since Node 20) net asks for
 * `all` addresses, otherwise for one.
 */
const lookupPinnedTo =
  (address: LookupAddress): LookupFunction =>
  (_hostname, options, callback) => {
    if (options.all) callback(null, [address])
    else callback(null, address.address, address.family)
  }

/**
 * POSTs with node:http(s) to `address`. Node's fetch (undici) cannot be given a lookup without the undici
 * package, which Roster does not ship; http.request takes one. Redirects are never followed (http.request
 * does not follow them). A fresh connection each time (agent: false): a pooled socket would be reused by
 * host name, whatever address the next delivery checked. The response body is not read.
 */
export function postToAddress({ url, address, headers, body, signal }: WebhookRequest): Promise<number> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const req = send(
      {
        protocol: url.protocol,
        hostname: literalAddressOf(url.hostname) ?? url.hostname,
        ...(url.port ? { port: url.port } : {}),
        path: `${url.pathname}${url.search}`,
        ...(url.username || url.password ? { auth: `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` } : {}),
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        agent: false,
        lookup: lookupPinnedTo(address),
        signal,
      },
      (res) => {
        resolve(res.statusCode ?? 0)
        res.destroy()
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}
