import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  OAuthError,
  oauthErrorResponse,
  parseTokenRequest,
  type ClientCredentialsRequest,
  type OAuthErrorCode,
  type TokenHttpRequest,
} from '../../src/oauth/token-request.js'

const FORM = 'application/x-www-form-urlencoded'
const ID = 'rsc_0123456789abcdef01234567'
const SECRET = 'rcs_Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYg'

/** RFC 6749 §2.3.1: id and secret are form-urlencoded, then joined with ":" and base64-encoded (RFC 7617). */
const formEncode = (text: string) => new URLSearchParams({ v: text }).toString().slice(2)
const basic = (id: string, secret: string, scheme = 'Basic') => `${scheme} ${Buffer.from(`${formEncode(id)}:${formEncode(secret)}`).toString('base64')}`
const rawBasic = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`

const req = (body: string, authorization?: string, contentType: string = FORM): TokenHttpRequest => ({ contentType, authorization, body })

describe('parseTokenRequest: accepted', () => {
  const accepted: { name: string; request: TokenHttpRequest; expected: ClientCredentialsRequest }[] = [
    {
      name: 'HTTP Basic with our own credentials',
      request: req('grant_type=client_credentials', basic(ID, SECRET)),
      expected: { grantType: 'client_credentials', clientId: ID, clientSecret: SECRET, authMethod: 'client_secret_basic', scope: [] },
    },
    {
      name: 'HTTP Basic with a percent-encoded secret (RFC 6749 §2.3.1): ":" "@" "%" "+" and a space come back',
      request: req('grant_type=client_credentials', rawBasic('my+client:p%40ss%3Aw+rd%25%2B')),
      expected: { grantType: 'client_credentials', clientId: 'my client', clientSecret: 'p@ss:w rd%+', authMethod: 'client_secret_basic', scope: [] },
    },
    {
      name: 'HTTP Basic, scheme in lower case (RFC 7235 §2.1)',
      request: req('grant_type=client_credentials', basic(ID, SECRET, 'basic')),
      expected: { grantType: 'client_credentials', clientId: ID, clientSecret: SECRET, authMethod: 'client_secret_basic', scope: [] },
    },
    {
      name: 'HTTP Basic with the same client_id in the body (RFC 6749 §3.2.1)',
      request: req(`grant_type=client_credentials&client_id=${ID}`, basic(ID, SECRET)),
      expected: { grantType: 'client_credentials', clientId: ID, clientSecret: SECRET, authMethod: 'client_secret_basic', scope: [] },
    },
    {
      name: 'HTTP Basic with an empty client_secret in the body, which counts as absent (RFC 6749 §3.2)',
      request: req('grant_type=client_credentials&client_secret=', basic(ID, SECRET)),
      expected: { grantType: 'client_credentials', clientId: ID, clientSecret: SECRET, authMethod: 'client_secret_basic', scope: [] },
    },
    {
      name: 'client_id and client_secret in the body',
      request: req(`grant_type=client_credentials&client_id=${ID}&client_secret=${SECRET}`),
      expected: { grantType: 'client_credentials', clientId: ID, clientSecret: SECRET, authMethod: 'client_secret_post', scope: [] },
    },
    {
      name: 'body credentials percent-encoded in the form',
      request: req('grant_type=client_credentials&client_id=a%20b&client_secret=c%26d%3De'),
      expected: { grantType: 'client_credentials', clientId: 'a b', clientSecret: 'c&d=e', authMethod: 'client_secret_post', scope: [] },
    },
    {
      name: 'Content-Type with a charset parameter',
      request: req('grant_type=client_credentials', basic(ID, SECRET), 'application/x-www-form-urlencoded; charset=UTF-8'),
      expected: { grantType: 'client_credentials', clientId: ID, clientSecret: SECRET, authMethod: 'client_secret_basic', scope: [] },
    },
    {
      name: 'scope as space-separated tokens, each once (RFC 6749 §3.3)',
      request: req('grant_type=client_credentials&scope=scim+scim%3Aread+scim', basic(ID, SECRET)),
      expected: { grantType: 'client_credentials', clientId: ID, clientSecret: SECRET, authMethod: 'client_secret_basic', scope: ['scim', 'scim:read'] },
    },
  ]
  for (const { name, request, expected } of accepted) {
    test(name, () => assert.deepStrictEqual(parseTokenRequest(request), expected))
  }
})

describe('parseTokenRequest: refused (RFC 6749 §5.2)', () => {
  const refused: { name: string; request: TokenHttpRequest; error: OAuthErrorCode; status: 400 | 401; challenge: boolean }[] = [
    {
      name: 'credentials both in Basic and in the body (RFC 6749 §2.3: one method per request)',
      request: req(`grant_type=client_credentials&client_id=${ID}&client_secret=${SECRET}`, basic(ID, SECRET)),
      error: 'invalid_request',
      status: 400,
      challenge: false,
    },
    {
      name: 'a client_secret in the body next to Basic, even without client_id',
      request: req(`grant_type=client_credentials&client_secret=${SECRET}`, basic(ID, SECRET)),
      error: 'invalid_request',
      status: 400,
      challenge: false,
    },
    {
      name: 'a client_id in the body that names another client than Basic',
      request: req('grant_type=client_credentials&client_id=rsc_ffffffffffffffffffffffff', basic(ID, SECRET)),
      error: 'invalid_request',
      status: 400,
      challenge: false,
    },
    { name: 'grant_type password', request: req('grant_type=password&username=a&password=b', basic(ID, SECRET)), error: 'unsupported_grant_type', status: 400, challenge: false },
    { name: 'grant_type authorization_code', request: req('grant_type=authorization_code&code=x', basic(ID, SECRET)), error: 'unsupported_grant_type', status: 400, challenge: false },
    { name: 'no grant_type', request: req('scope=scim', basic(ID, SECRET)), error: 'invalid_request', status: 400, challenge: false },
    { name: 'an empty grant_type', request: req('grant_type=', basic(ID, SECRET)), error: 'invalid_request', status: 400, challenge: false },
    {
      name: 'grant_type twice (RFC 6749 §3.2)',
      request: req('grant_type=client_credentials&grant_type=client_credentials', basic(ID, SECRET)),
      error: 'invalid_request',
      status: 400,
      challenge: false,
    },
    { name: 'a JSON body', request: req('{"grant_type":"client_credentials"}', basic(ID, SECRET), 'application/json'), error: 'invalid_request', status: 400, challenge: false },
    {
      name: 'no Content-Type',
      request: { contentType: undefined, authorization: basic(ID, SECRET), body: 'grant_type=client_credentials' },
      error: 'invalid_request',
      status: 400,
      challenge: false,
    },
    { name: 'no credentials at all', request: req('grant_type=client_credentials'), error: 'invalid_client', status: 401, challenge: true },
    { name: 'a client_id without a secret in the body', request: req(`grant_type=client_credentials&client_id=${ID}`), error: 'invalid_client', status: 400, challenge: false },
    { name: 'a Bearer Authorization header', request: req('grant_type=client_credentials', `Bearer ${SECRET}`), error: 'invalid_client', status: 401, challenge: true },
    { name: 'Basic that is not base64', request: req('grant_type=client_credentials', 'Basic !!!not-base64'), error: 'invalid_client', status: 401, challenge: true },
    { name: 'Basic without a colon', request: req('grant_type=client_credentials', rawBasic(`${ID}${SECRET}`)), error: 'invalid_client', status: 401, challenge: true },
    { name: 'Basic with an empty secret', request: req('grant_type=client_credentials', rawBasic(`${ID}:`)), error: 'invalid_client', status: 401, challenge: true },
    { name: 'Basic with broken percent-encoding', request: req('grant_type=client_credentials', rawBasic(`${ID}:abc%zz`)), error: 'invalid_client', status: 401, challenge: true },
    { name: 'a scope with a double quote', request: req('grant_type=client_credentials&scope=%22scim%22', basic(ID, SECRET)), error: 'invalid_scope', status: 400, challenge: false },
    { name: 'a scope with two spaces in a row', request: req('grant_type=client_credentials&scope=a++b', basic(ID, SECRET)), error: 'invalid_scope', status: 400, challenge: false },
  ]
  for (const { name, request, error, status, challenge } of refused) {
    test(`${error} (${status}): ${name}`, () => {
      assert.throws(
        () => parseTokenRequest(request),
        (err: unknown) => {
          assert.ok(err instanceof OAuthError, String(err))
          assert.equal(err.error, error)
          assert.equal(err.status, status)
          assert.equal(err.challenge, challenge)
          // RFC 6749 §5.2: error_description is %x20-21 / %x23-5B / %x5D-7E
          assert.match(err.description, /^[\x20\x21\x23-\x5B\x5D-\x7E]+$/)
          return true
        },
      )
    })
  }
})

describe('oauthErrorResponse', () => {
  test('401 invalid_client: the RFC 6749 §5.2 body, a Basic challenge, never cached', () => {
    let err: unknown
    try {
      parseTokenRequest(req('grant_type=client_credentials', 'Basic !!!'))
    } catch (e) {
      err = e
    }
    assert.ok(err instanceof OAuthError)
    assert.deepStrictEqual(oauthErrorResponse(err), {
      status: 401,
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'cache-control': 'no-store',
        pragma: 'no-cache',
        'www-authenticate': 'Basic realm="roster", charset="UTF-8"',
      },
      body: { error: 'invalid_client', error_description: 'malformed Basic credentials' },
    })
  })

  test('400 errors carry no challenge', () => {
    const res = oauthErrorResponse(new OAuthError('unsupported_grant_type', 'only the client_credentials grant is supported', 400))
    assert.equal(res.status, 400)
    assert.equal(res.headers['www-authenticate'], undefined)
    assert.equal(res.headers['cache-control'], 'no-store')
    assert.deepStrictEqual(res.body, { error: 'unsupported_grant_type', error_description: 'only the client_credentials grant is supported' })
  })
})
