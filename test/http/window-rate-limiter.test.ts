import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { WindowRateLimiter } from '../../src/http/window-rate-limiter.js'

describe('WindowRateLimiter', () => {
  const setup = (limit = 3, maxKeys?: number) => {
    let now = 1_000_000
    const limiter = new WindowRateLimiter({ limit, windowMs: 60_000, clock: () => now, ...(maxKeys ? { maxKeys } : {}) })
    return { limiter, advance: (ms: number) => (now += ms) }
  }

  test('allows `limit` requests per key and window, then refuses with the seconds left as Retry-After', () => {
    const { limiter, advance } = setup()
    assert.deepEqual([1, 2, 3].map(() => limiter.consume('k').allowed), [true, true, true])
    advance(20_500)
    const refused = limiter.consume('k')
    assert.equal(refused.allowed, false)
    assert.equal(refused.remaining, 0)
    assert.equal(refused.retryAfterSeconds, 40)
    assert.equal(limiter.consume('other').allowed, true, 'keys are counted apart')
  })

  test('a new window starts when the old one ends', () => {
    const { limiter, advance } = setup(1)
    limiter.consume('k')
    assert.equal(limiter.consume('k').allowed, false)
    advance(60_000)
    assert.equal(limiter.consume('k').allowed, true)
  })

  test('check does not count; reset forgets the key', () => {
    const { limiter } = setup(2)
    limiter.consume('k')
    assert.equal(limiter.check('k').allowed, true)
    assert.equal(limiter.check('k').allowed, true)
    limiter.consume('k')
    assert.equal(limiter.check('k').allowed, false)
    limiter.reset('k')
    assert.equal(limiter.check('k').allowed, true)
  })

  test('memory is bounded: expired windows are swept first, then the oldest keys dropped', () => {
    const { limiter, advance } = setup(1, 2)
    limiter.consume('a')
    advance(60_000)
    limiter.consume('b')
    limiter.consume('c')
    assert.equal(limiter.check('b').allowed, false, 'b is kept: the expired a made room')
    limiter.consume('d')
    assert.equal(limiter.check('b').allowed, true, 'b, the oldest live key, was dropped for d')
    assert.equal(limiter.check('d').allowed, false)
  })
})
