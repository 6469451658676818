import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { describe, test } from 'node:test'
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

interface Call {
  readonly url: string
  readonly init: RequestInit
}

/** A fetch that answers each call from `answers` in turn (a status, 'throw', or 'hang' until aborted). */
function fakeFetch(answers: (number | 'throw' | 'hang')[]): { fetch: typeof fetch; calls: Call[] } {
  const calls: Call[] = []
  const fetchImpl = (async (url: string, init: RequestInit) => {
    calls.push({ url, init })
    const answer = answers.shift() ?? 204
    if (answer === 'throw') throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } })
    if (answer === 'hang') {
      return new Promise((_, reject) => init.signal!.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))))
    }
    return new Response(null, { status: answer })
  }) as unknown as typeof fetch
  return { fetch: fetchImpl, calls }
}

function recordingLog(): NotifierLog & { warnings: { details: Record<string, unknown>; message: string }[] } {
  const warnings: { details: Record<string, unknown>; message: string }[] = []
  return { warnings, warn: (details, message) => warnings.push({ details, message }) }
}

const setup = (answers: (number | 'throw' | 'hang')[], options: { secret?: string; url?: string | undefined; timeoutMs?: number } = {}) => {
  const { fetch, calls } = fakeFetch(answers)
  const log = recordingLog()
  const notifier = new WebhookNotifier({
    webhookUrlOf: async () => ('url' in options ? options.url : URL_WITH_SECRET),
    ...(options.secret ? { secret: options.secret } : {}),
    timeoutMs: options.timeoutMs ?? 1_000,
    retryDelaysMs: [5, 5, 5],
    log,
    fetch,
  })
  return { notifier, calls, log }
}

describe('WebhookNotifier', () => {
  test('POSTs the event as JSON, signed with HMAC-SHA256 over the exact body', async () => {
    const { notifier, calls } = setup([204], { secret: 'k3y' })
    notifier.notify(EVENT)
    await notifier.drain()
    assert.equal(calls.length, 1)
    const { url, init } = calls[0]!
    const headers = init.headers as Record<string, string>
    assert.equal(url, URL_WITH_SECRET)
    assert.equal(init.method, 'POST')
    assert.equal(init.redirect, 'manual', 'redirects are not followed')
    assert.deepEqual(JSON.parse(init.body as string), EVENT)
    assert.equal(headers['x-roster-signature'], `sha256=${createHmac('sha256', 'k3y').update(init.body as string).digest('hex')}`)
    assert.equal(headers['x-roster-signature'], signWebhookBody(init.body as string, 'k3y'))
    assert.equal(headers['x-roster-event'], 'token.created')
  })

  test('without a secret there is no signature header', async () => {
    const { notifier, calls } = setup([204])
    notifier.notify(EVENT)
    await notifier.drain()
    assert.ok(!('x-roster-signature' in (calls[0]!.init.headers as Record<string, string>)))
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
      const ids = new Set(calls.map((c) => (c.init.headers as Record<string, string>)['x-roster-delivery']))
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
    const notifier = new WebhookNotifier({ webhookUrlOf: async () => Promise.reject(new Error('store down')), log, fetch: fakeFetch([]).fetch })
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
