import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import type { LookupAddress } from 'node:dns'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import type { WebhookPost, WebhookRequest } from '../../src/notifications/post-to-address.js'
import type { HostLookup } from '../../src/notifications/resolve-webhook-address.js'
import { WebhookNotifier, signWebhookBody, type CredentialEvent, type NotifierLog } from '../../src/notifications/webhook-notifier.js'

const EVENT: CredentialEvent = {
  type: 'token.created',
  organization: 'acme',
  tokenId: '0123456789ab',
  name: 'Okta',
  at: '2025-01-01T00:00:00.000Z',
  actor: { type: 'admin', id: 'a1', name: 'owner@example.com' },
}
const URL_WITH_SECRET = 'https://hooks.example.com/services/T000/B000/XXXXSECRET?token=abc'

/** A public address for hooks.example.com, so the tests never depend on DNS. */
const PUBLIC_ADDRESS: LookupAddress = { address: '93.184.215.14', family: 4 }

/** A resolver answering `answers` for every name, recording the names asked. */
function fixedLookup(answers: LookupAddress[]): HostLookup & { asked: string[] } {
  const asked: string[] = []
  return Object.assign(async (hostname: string) => (asked.push(hostname), answers), { asked })
}

/** A transport that answers each call from `answers` in turn (a status, 'throw', or 'hang' until aborted). */
function fakePost(answers: (number | 'throw' | 'hang')[]): { post: WebhookPost; calls: WebhookRequest[] } {
  const calls: WebhookRequest[] = []
  const post: WebhookPost = async (request) => {
    calls.push(request)
    const answer = answers.shift() ?? 204
    if (answer === 'throw') throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })
    if (answer === 'hang') {
      return new Promise((_, reject) => request.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))))
    }
    return answer
  }
  return { post, calls }
}

function recordingLog(): NotifierLog & { warnings: { details: Record<string, unknown>; message: string }[] } {
  const warnings: { details: Record<string, unknown>; message: string }[] = []
  return { warnings, warn: (details, message) => warnings.push({ details, message }) }
}

interface SetupOptions {
  readonly secret?: string
  readonly url?: string | undefined
  readonly timeoutMs?: number
  readonly lookup?: HostLookup
  readonly allowPrivateAddresses?: boolean
}

const setup = (answers: (number | 'throw' | 'hang')[], options: SetupOptions = {}) => {
  const { post, calls } = fakePost(answers)
  const log = recordingLog()
  const notifier = new WebhookNotifier({
    webhookUrlOf: async () => ('url' in options ? options.url : URL_WITH_SECRET),
    ...(options.secret ? { secret: options.secret } : {}),
    timeoutMs: options.timeoutMs ?? 1_000,
    retryDelaysMs: [5, 5, 5],
    log,
    lookup: options.lookup ?? fixedLookup([PUBLIC_ADDRESS]),
    ...(options.allowPrivateAddresses !== undefined ? { allowPrivateAddresses: options.allowPrivateAddresses } : {}),
    post,
  })
  return { notifier, calls, log }
}

describe('WebhookNotifier', () => {
  test('POSTs the event as JSON, signed with HMAC-SHA256 over the exact body', async () => {
    const { notifier, calls } = setup([204], { secret: 'k3y' })
    notifier.notify(EVENT)
    await notifier.drain()
    assert.equal(calls.length, 1)
    const { url, address, headers, body } = calls[0]!
    assert.equal(url.href, URL_WITH_SECRET)
    assert.deepEqual(address, PUBLIC_ADDRESS, 'sent to the address that was checked')
    assert.equal(headers['content-type'], 'application/json')
    assert.deepEqual(JSON.parse(body), EVENT)
    assert.equal(headers['x-roster-signature'], `sha256=${createHmac('sha256', 'k3y').update(body).digest('hex')}`)
    assert.equal(headers['x-roster-signature'], signWebhookBody(body, 'k3y'))
    assert.equal(headers['x-roster-event'], 'token.created')
  })

  test('without a secret there is no signature header', async () => {
    const { notifier, calls } = setup([204])
    notifier.notify(EVENT)
    await notifier.drain()
    assert.ok(!('x-roster-signature' in calls[0]!.headers))
  })

  test('an organization without a webhook URL gets nothing', async () => {
    const { notifier, calls } = setup([], { url: undefined })
    notifier.notify(EVENT)
    await notifier.drain()
    assert.equal(calls.length, 0)
  })

  const retried: { name: string; answers: (number | 'throw' | 'hang')[]; attempts: number; warned: boolean }[] = [
    { name: '5xx then success: retried once', answers: [503, 200], attempts: 2, warned: false },
    { name: '429 is retried', answers: [429, 204], attempts: 2, warned: false },
    { name: 'network errors are retried', answers: ['throw', 'throw', 204], attempts: 3, warned: false },
    { name: 'a timeout is retried', answers: ['hang', 204], attempts: 2, warned: false },
    { name: 'a 4xx is the receiver refusing: not retried', answers: [400], attempts: 1, warned: true },
    { name: 'a redirect is not followed nor retried', answers: [302], attempts: 1, warned: true },
    { name: 'gives up after the last retry', answers: [500, 500, 500, 500, 500], attempts: 4, warned: true },
  ]
  for (const { name, answers, attempts, warned } of retried) {
    test(name, async () => {
      const { notifier, calls, log } = setup(answers, { timeoutMs: 50 })
      notifier.notify(EVENT)
      await notifier.drain()
      assert.equal(calls.length, attempts)
      const ids = new Set(calls.map((c) => c.headers['x-roster-delivery']))
      assert.equal(ids.size, 1, 'every attempt carries the same delivery id')
      assert.equal(log.warnings.length, warned ? 1 : 0)
    })
  }

  test('failures are logged with the destination origin only, never the URL path or query', async () => {
    const { notifier, log } = setup(['throw', 'throw', 'throw', 'throw'])
    notifier.notify(EVENT)
    await notifier.drain()
    assert.equal(log.warnings.length, 1)
    const text = JSON.stringify(log.warnings)
    assert.match(text, /https:\/\/hooks\.example\.com/)
    assert.match(text, /ECONNREFUSED/)
    assert.ok(!text.includes('XXXXSECRET') && !text.includes('token=abc'))
  })

  test('notify returns at once, and a failing URL lookup never throws into the caller', async () => {
    const log = recordingLog()
    const notifier = new WebhookNotifier({ webhookUrlOf: async () => Promise.reject(new Error('store down')), log, post: fakePost([]).post })
    assert.equal(notifier.notify(EVENT), undefined)
    await notifier.drain()
    assert.equal(log.warnings.length, 1)
  })

  test('drain with a deadline abandons a delivery that hangs; close stops retries', async () => {
    const { notifier, calls } = setup(['hang'], { timeoutMs: 60_000 })
    notifier.notify(EVENT)
    const started = Date.now()
    await notifier.drain(50)
    assert.ok(Date.now() - started < 1_000)
    assert.equal(calls.length, 1, 'no retry after close')
    notifier.notify(EVENT)
    await notifier.drain()
    assert.equal(calls.length, 1, 'a closed notifier sends nothing')
  })
})

describe('WebhookNotifier: private and local addresses (server-side request forgery)', () => {
  const refused: { name: string; url: string; answers: LookupAddress[]; reason: RegExp }[] = [
    { name: 'a host resolving to 127.0.0.1', url: URL_WITH_SECRET, answers: [{ address: '127.0.0.1', family: 4 }], reason: /hooks\.example\.com resolves to 127\.0\.0\.1, loopback/ },
    { name: 'a host with one RFC 1918 answer among public ones', url: URL_WITH_SECRET, answers: [PUBLIC_ADDRESS, { address: '10.0.0.7', family: 4 }], reason: /10\.0\.0\.7, private/ },
    { name: 'a host resolving to an IPv4-mapped link-local address', url: URL_WITH_SECRET, answers: [{ address: '::ffff:169.254.169.254', family: 6 }], reason: /link-local/ },
    { name: 'a host resolving to a unique-local IPv6 address', url: URL_WITH_SECRET, answers: [{ address: 'fd00::1', family: 6 }], reason: /unique-local/ },
    { name: 'the cloud metadata service by IP', url: 'http://169.254.169.254/latest/meta-data/', answers: [], reason: /169\.254\.169\.254 is link-local/ },
    { name: 'an IPv6 loopback literal', url: 'http://[::1]:8080/hook', answers: [], reason: /::1 is loopback/ },
    { name: 'an IPv4-mapped loopback literal', url: 'http://[::ffff:127.0.0.1]/hook', answers: [], reason: /loopback \(127\.0\.0\.0\/8/ },
    { name: 'localhost', url: 'http://localhost:9000/hook', answers: [], reason: /localhost is a loopback name/ },
  ]
  for (const { name, url, answers, reason } of refused) {
    test(`refuses ${name}: nothing sent, logged as a failed delivery, not retried`, async () => {
      const lookup = fixedLookup(answers)
      const { notifier, calls, log } = setup([], { url, lookup })
      notifier.notify(EVENT)
      await notifier.drain()
      assert.equal(calls.length, 0)
      assert.ok(lookup.asked.length <= 1, 'resolved once, not again for retries')
      assert.equal(log.warnings.length, 1)
      const { details, message } = log.warnings[0]!
      assert.equal(message, 'webhook delivery failed')
      assert.equal(details.attempts, 1)
      assert.match(String(details.reason), /^refused: /)
      assert.match(String(details.reason), reason)
      assert.match(String(details.reason), /ROSTER_WEBHOOK_ALLOW_PRIVATE=true/)
      assert.ok(!JSON.stringify(log.warnings).includes('XXXXSECRET'), 'never the URL path or query')
    })
  }

  test('with allowPrivateAddresses, a host resolving to 127.0.0.1 is delivered, to that address', async () => {
    const { notifier, calls, log } = setup([204], { lookup: fixedLookup([{ address: '127.0.0.1', family: 4 }]), allowPrivateAddresses: true })
    notifier.notify(EVENT)
    await notifier.drain()
    assert.equal(log.warnings.length, 0)
    assert.equal(calls.length, 1)
    assert.deepEqual(calls[0]!.address, { address: '127.0.0.1', family: 4 })
  })

  test('each attempt resolves again: a host that turns private between attempts is refused then', async () => {
    const answers: LookupAddress[][] = [[PUBLIC_ADDRESS], [{ address: '127.0.0.1', family: 4 }]]
    const lookup: HostLookup = async () => answers.shift() ?? []
    const { notifier, calls, log } = setup([503], { lookup })
    notifier.notify(EVENT)
    await notifier.drain()
    assert.equal(calls.length, 1, 'the first attempt went to the public address; the retry was refused')
    assert.match(String(log.warnings[0]?.details.reason), /refused: .*127\.0\.0\.1/)
  })

  test('a lookup failure is retried like a network error', async () => {
    const lookup: HostLookup = async () => Promise.reject(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }))
    const { notifier, calls, log } = setup([], { lookup })
    notifier.notify(EVENT)
    await notifier.drain()
    assert.equal(calls.length, 0)
    assert.equal(log.warnings[0]?.details.attempts, 4)
    assert.equal(log.warnings[0]?.details.reason, 'ENOTFOUND')
  })

  test('a lookup that never answers is abandoned at the attempt timeout, and retried', async () => {
    let asked = 0
    const lookup: HostLookup = () => (asked++, new Promise<never>(() => {}))
    const { notifier, calls, log } = setup([], { lookup, timeoutMs: 20 })
    notifier.notify(EVENT)
    await notifier.drain()
    assert.deepEqual([asked, calls.length], [4, 0])
    assert.equal(log.warnings[0]?.details.reason, 'no answer within 20 ms')
  })

  for (const url of ['ftp://hooks.example.com/hook', 'not a url']) {
    test(`a stored URL that is not http(s) (${url}) is refused without a lookup`, async () => {
      const lookup = fixedLookup([PUBLIC_ADDRESS])
      const { notifier, calls, log } = setup([], { url, lookup })
      notifier.notify(EVENT)
      await notifier.drain()
      assert.deepEqual([calls.length, lookup.asked.length], [0, 0])
      assert.match(String(log.warnings[0]?.details.reason), /refused: not an http or https URL/)
    })
  }
})

interface Received {
  readonly url: string
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

/** A local receiver on 127.0.0.1 answering every request with `status` (and `location`, when given). */
async function startReceiver(status: number, location?: string): Promise<{ server: Server; port: number; received: Received[] }> {
  const received: Received[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      received.push({ url: req.url ?? '', headers: req.headers, body })
      res.writeHead(status, location ? { location } : {}).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, port: (server.address() as AddressInfo).port, received }
}

describe('WebhookNotifier over HTTP (postToAddress)', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>
  let redirecting: Awaited<ReturnType<typeof startReceiver>>
  before(async () => {
    receiver = await startReceiver(204)
    redirecting = await startReceiver(302, `http://127.0.0.1:${receiver.port}/elsewhere`)
  })
  after(async () => {
    for (const { server } of [receiver, redirecting]) await new Promise((resolve) => server.close(resolve))
  })

  /** A notifier for `url` whose resolver answers 127.0.0.1 for every name, with the real transport. */
  const notifierFor = (url: string, allowPrivateAddresses: boolean) => {
    const log = recordingLog()
    const lookup = fixedLookup([{ address: '127.0.0.1', family: 4 }])
    const notifier = new WebhookNotifier({ webhookUrlOf: async () => url, secret: 'k3y', retryDelaysMs: [5, 5, 5], log, lookup, allowPrivateAddresses })
    return { notifier, log, lookup }
  }

  test('a host resolving to 127.0.0.1 is not delivered without ROSTER_WEBHOOK_ALLOW_PRIVATE', async () => {
    const before = receiver.received.length
    const { notifier, log } = notifierFor(`http://receiver.test:${receiver.port}/hook?key=s3cr3t`, false)
    notifier.notify(EVENT)
    await notifier.drain()
    assert.equal(receiver.received.length, before, 'the receiver got nothing')
    assert.match(String(log.warnings[0]?.details.reason), /refused: receiver\.test resolves to 127\.0\.0\.1, loopback/)
  })

  test('with it, the POST reaches the address checked: receiver.test (unresolvable, RFC 6761) is only a name here', async () => {
    const before = receiver.received.length
    const { notifier, log, lookup } = notifierFor(`http://receiver.test:${receiver.port}/hook?key=s3cr3t`, true)
    notifier.notify(EVENT)
    await notifier.drain()
    assert.deepEqual(log.warnings, [])
    assert.deepEqual(lookup.asked, ['receiver.test'], 'resolved once, by the notifier; the connect asked no one else')
    const delivered = receiver.received.slice(before)
    assert.equal(delivered.length, 1)
    const { url, headers, body } = delivered[0]!
    assert.equal(url, '/hook?key=s3cr3t')
    assert.equal(headers.host, `receiver.test:${receiver.port}`, 'the URL host name is still the Host header')
    assert.equal(headers['content-type'], 'application/json')
    assert.equal(headers['content-length'], String(Buffer.byteLength(body)))
    assert.deepEqual(JSON.parse(body), EVENT)
    assert.equal(headers['x-roster-signature'], signWebhookBody(body, 'k3y'))
  })

  test('a redirect is not followed, even to an allowed address, nor retried', async () => {
    const before = receiver.received.length
    const { notifier, log } = notifierFor(`http://127.0.0.1:${redirecting.port}/hook`, true)
    notifier.notify(EVENT)
    await notifier.drain()
    assert.equal(redirecting.received.length, 1)
    assert.equal(receiver.received.length, before, 'the Location was not visited')
    assert.deepEqual([log.warnings[0]?.details.attempts, log.warnings[0]?.details.reason], [1, 'HTTP 302'])
  })
})
