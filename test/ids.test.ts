import { test } from 'node:test'
import assert from 'node:assert/strict'
import { newTimeOrderedId } from '../src/ids.js'

// RFC 9562 §5.7: unix_ts_ms (48 bits) | ver (4 bits, 0b0111) | rand_a (12) | var (2 bits, 0b10) | rand_b (62)
const V7 = /^([0-9a-f]{8})-([0-9a-f]{4})-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

test('newTimeOrderedId gives UUIDv7: version 7, RFC 9562 variant, the millisecond time in its first 48 bits', () => {
  const cases = [0, 1, Date.UTC(2024, 0, 1), Date.UTC(2026, 11, 2, 13, 43), 2 ** 48 - 1]
  for (const time of cases) {
    const id = newTimeOrderedId(time)
    const m = V7.exec(id)
    assert.ok(m, `${id} is a UUIDv7`)
    assert.equal(parseInt(`${m[1]}${m[2]}`, 16), time)
  }
})

test('ids of later milliseconds sort after earlier ones, as text (so they append to an index)', () => {
  const ids = Array.from({ length: 1000 }, (_, i) => newTimeOrderedId(Date.UTC(2026, 0, 1) + i))
  assert.deepEqual([...ids].sort(), ids)
  assert.equal(new Set(Array.from({ length: 10_000 }, () => newTimeOrderedId(5))).size, 10_000, 'distinct within one millisecond')
})
