import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  generateClientCredentials,
  generateClientId,
  generateClientSecret,
  hashClientSecret,
  isClientId,
  verifyClientSecret,
} from '../../src/oauth/client-secrets.js'

test('client ids are rsc_ + 24 hex digits and differ every time', () => {
  const ids = new Set(Array.from({ length: 200 }, generateClientId))
  assert.equal(ids.size, 200)
  for (const id of ids) {
    assert.match(id, /^rsc_[0-9a-f]{24}$/)
    assert.ok(isClientId(id))
  }
})

test('client secrets are rcs_ + 256 random bits in base64url and differ every time', () => {
  const secrets = new Set(Array.from({ length: 200 }, generateClientSecret))
  assert.equal(secrets.size, 200)
  for (const s of secrets) {
    assert.match(s, /^rcs_[A-Za-z0-9_-]{43}$/)
    assert.equal(Buffer.from(s.slice(4), 'base64url').length, 32)
  }
})

test('ids and secrets survive form-urlencoding unchanged (RFC 6749 §2.3.1 Basic)', () => {
  const { clientId, clientSecret } = generateClientCredentials()
  const formEncode = (t: string) => new URLSearchParams({ v: t }).toString().slice(2)
  assert.equal(formEncode(clientId), clientId)
  assert.equal(formEncode(clientSecret), clientSecret)
})

test('only the SHA-256 of the secret is kept, and it verifies the secret', () => {
  const { clientSecret, secretHash } = generateClientCredentials()
  assert.match(secretHash, /^[0-9a-f]{64}$/)
  assert.ok(!secretHash.includes(clientSecret.slice(4)))
  assert.equal(secretHash, hashClientSecret(clientSecret))
  assert.equal(verifyClientSecret(clientSecret, secretHash), true)
})

const refusals: { name: string; presented: (secret: string) => string; stored?: (hash: string) => string }[] = [
  { name: 'another secret', presented: () => generateClientSecret() },
  { name: 'the secret with one character changed', presented: (s) => `${s.slice(0, -1)}${s.endsWith('A') ? 'B' : 'A'}` },
  { name: 'the secret without its prefix', presented: (s) => s.slice(4) },
  { name: 'the hash itself', presented: (_s) => hashClientSecret('x') },
  { name: 'an empty string', presented: () => '' },
  { name: 'a stored hash that is not 32 bytes', presented: (s) => s, stored: (h) => h.slice(0, 10) },
]
for (const { name, presented, stored } of refusals) {
  test(`refuses ${name}`, () => {
    const { clientSecret, secretHash } = generateClientCredentials()
    assert.equal(verifyClientSecret(presented(clientSecret), stored ? stored(secretHash) : secretHash), false)
  })
}
