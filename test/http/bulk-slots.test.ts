import { test } from 'node:test'
import assert from 'node:assert/strict'
import { BulkSlots } from '../../src/http/routes/bulk.js'

test('BulkSlots lets `size` holders in at once, the others in arrival order as slots are given back', async () => {
  const slots = new BulkSlots(2)
  const order: string[] = []
  const hold = async (name: string, ms: number) => {
    const release = await slots.acquire()
    order.push(`${name} in`)
    await new Promise((resolve) => setTimeout(resolve, ms))
    order.push(`${name} out`)
    release()
    release() // a second release changes nothing
  }
  await Promise.all([hold('a', 30), hold('b', 10), hold('c', 10), hold('d', 10)])
  assert.deepEqual(order.slice(0, 2), ['a in', 'b in'])
  // c takes b's slot, d takes the next one; never more than two inside.
  let inside = 0
  for (const step of order) {
    inside += step.endsWith(' in') ? 1 : -1
    assert.ok(inside <= 2, `at most two at once: ${order.join(', ')}`)
  }
  assert.ok(order.indexOf('c in') > order.indexOf('b out'))
  assert.equal(inside, 0)
  // All slots are free again.
  const releases = await Promise.all([slots.acquire(), slots.acquire()])
  releases.forEach((r) => r())
})
