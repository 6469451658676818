import { createSecretKey, randomBytes } from 'node:crypto'
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { JWK } from 'jose'
import { isSealedJwk, openSealedJwk, sealJwk, type SealedJwk } from '../../src/oauth/sealed-jwk.js'

const KEY = createSecretKey(randomBytes(32))
const OTHER_KEY = createSecretKey(randomBytes(32))
const KID = 'kid-1'
// The shape of an ES256 private JWK (RFC 7518 §6.2.2); the values need not be a real key here.
const JWK_ES256: JWK = { kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0', d: 'jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI' }

/** Flips the last bit of a base64url field's first byte (iv, tag or data). */
const flipFirstByte = (field: string) => {
  const bytes = Buffer.from(field, 'base64url')
  bytes[0]! ^= 0x01
  return bytes.toString('base64url')
}

describe('sealJwk / openSealedJwk: AES-256-GCM, 96-bit random IV, kid as additional authenticated data', () => {
  test('round trip: the opened JWK is the sealed one, and the envelope holds none of it in the clear', () => {
    const sealed = sealJwk(JWK_ES256, KID, KEY)
    assert.deepStrictEqual(Object.keys(sealed).sort(), ['data', 'enc', 'iv', 'tag'])
    assert.equal(sealed.enc, 'A256GCM')
    assert.equal(Buffer.from(sealed.iv, 'base64url').length, 12)
    assert.equal(Buffer.from(sealed.tag, 'base64url').length, 16)
    const text = JSON.stringify(sealed)
    for (const value of Object.values(JWK_ES256)) assert.equal(text.includes(String(value)), false, `"${String(value)}" is not in the envelope`)
    assert.deepStrictEqual(openSealedJwk(sealed, KID, KEY), JWK_ES256)
  })

  test('each seal draws a new IV, so one JWK sealed twice gives two different envelopes', () => {
    const a = sealJwk(JWK_ES256, KID, KEY)
    const b = sealJwk(JWK_ES256, KID, KEY)
    assert.notEqual(a.iv, b.iv)
    assert.notEqual(a.data, b.data)
    assert.deepStrictEqual(openSealedJwk(b, KID, KEY), openSealedJwk(a, KID, KEY))
  })

  const sealed = sealJwk(JWK_ES256, KID, KEY)
  const failures: { title: string; envelope: SealedJwk; kid?: string; key?: typeof KEY; error: RegExp }[] = [
    { title: 'a tampered tag', envelope: { ...sealed, tag: flipFirstByte(sealed.tag) }, error: /authentication failed/ },
    { title: 'a tampered IV', envelope: { ...sealed, iv: flipFirstByte(sealed.iv) }, error: /authentication failed/ },
    { title: 'tampered data', envelope: { ...sealed, data: flipFirstByte(sealed.data) }, error: /authentication failed/ },
    { title: 'another kid (the envelope copied onto another key’s row)', envelope: sealed, kid: 'kid-2', error: /authentication failed/ },
    { title: 'another key-encryption key', envelope: sealed, key: OTHER_KEY, error: /authentication failed/ },
    { title: 'a tag cut to 4 bytes (GCM would check a short tag)', envelope: { ...sealed, tag: Buffer.from(sealed.tag, 'base64url').subarray(0, 4).toString('base64url') }, error: /tag is 4 bytes, expected 16/ },
    { title: 'an IV of 16 bytes', envelope: { ...sealed, iv: randomBytes(16).toString('base64url') }, error: /IV is 16 bytes, expected 12/ },
    { title: 'an unknown enc', envelope: { ...sealed, enc: 'A128GCM' as 'A256GCM' }, error: /unsupported encryption "A128GCM"/ },
  ]
  for (const { title, envelope, kid, key, error } of failures) {
    test(`refuses ${title}`, () => {
      assert.throws(() => openSealedJwk(envelope, kid ?? KID, key ?? KEY), error)
    })
  }
})

describe('isSealedJwk: tells the envelope from a bare JWK stored before encryption', () => {
  const cases: { title: string; value: SealedJwk | JWK; expected: boolean }[] = [
    { title: 'a sealed JWK', value: sealJwk(JWK_ES256, KID, KEY), expected: true },
    { title: 'a bare EC private JWK', value: JWK_ES256, expected: false },
    { title: 'a bare JWK with alg and kid', value: { ...JWK_ES256, alg: 'ES256', kid: KID }, expected: false },
  ]
  for (const { title, value, expected } of cases) test(`${title}: ${expected}`, () => assert.equal(isSealedJwk(value), expected))
})
