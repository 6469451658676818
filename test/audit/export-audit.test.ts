import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { exportAudit, formatCsv, formatNdjson } from '../../src/audit/export-audit.js'
import type { AuditEvent } from '../../src/audit/audit-event.js'

const created: AuditEvent = {
  id: 'evt-1',
  tenant: 'acme',
  time: '2025-01-01T10:00:00.000Z',
  actor: { type: 'token', id: '0123456789ab', name: 'Okta production' },
  client: { ip: '203.0.113.7', userAgent: 'Okta SCIM Client 1.0.0', product: 'Okta' },
  request: { id: 'req-1', method: 'POST', path: '/scim/v2/Users' },
  resource: { type: 'User', id: 'u-1' },
  operation: 'create',
  changes: [
    { attribute: 'userName', after: 'bjensen' },
    { attribute: 'password', after: '[redacted]', changed: true },
  ],
  outcome: { status: 201 },
  latencyMs: 12,
}

const rejected: AuditEvent = {
  id: 'evt-2',
  tenant: 'acme',
  time: '2025-01-01T10:00:01.000Z',
  actor: { type: 'anonymous' },
  client: { ip: '198.51.100.9', userAgent: '=HYPERLINK("http://evil.example","x")' },
  request: { id: 'req-2', method: 'DELETE', path: '/scim/v2/Users/u-1' },
  resource: { type: 'User', id: 'u-1' },
  operation: 'request.rejected',
  changes: [],
  outcome: { status: 401, detail: 'no valid bearer token' },
  latencyMs: 1,
}

const patched: AuditEvent = {
  id: 'evt-3',
  tenant: 'acme',
  time: '2025-01-01T10:00:02.000Z',
  actor: { type: 'oauthClient', id: 'rsc_0123456789abcdef01234567', name: 'Entra, "prod"' },
  client: { ip: '2001:db8::1', userAgent: 'Microsoft Azure AD SCIM provisioning', product: 'Microsoft Entra ID' },
  request: { id: 'req-3', method: 'PATCH', path: '/scim/v2/Groups/g-1' },
  resource: { type: 'Group', id: 'g-1' },
  operation: 'patch',
  changes: [{ attribute: 'displayName', before: 'Ops', after: '+Ops\nTeam' }],
  outcome: { status: 409, scimType: 'uniqueness', detail: 'displayName taken' },
  latencyMs: 3,
}

const three = [created, rejected, patched]

async function* from<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) yield item
}

async function readAll(stream: AsyncIterable<unknown>): Promise<string> {
  let text = ''
  for await (const chunk of stream) text += typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8')
  return text
}

describe('NDJSON export', () => {
  test('one JSON document per line, in order, each ending in a newline', async () => {
    const text = await readAll(formatNdjson(from(three)))
    assert.equal(text, `${JSON.stringify(created)}\n${JSON.stringify(rejected)}\n${JSON.stringify(patched)}\n`)
    assert.deepStrictEqual(text.trimEnd().split('\n').map((l) => JSON.parse(l)), three)
  })

  test('exportAudit(…, "ndjson") streams the same bytes', async () => {
    assert.equal(await readAll(exportAudit(from(three), 'ndjson')), await readAll(formatNdjson(from(three))))
  })

  test('a line separator inside a value stays inside its line', async () => {
    const odd = { ...created, outcome: { status: 400, detail: 'a\u2028b\u2029c\nd' } }
    const text = await readAll(formatNdjson(from([odd])))
    assert.equal(text.split('\n').length, 2)
    assert.ok(!/[\u2028\u2029]/.test(text), 'U+2028 is escaped')
    assert.deepStrictEqual(JSON.parse(text), odd)
  })
})

describe('CSV export', () => {
  test('a header and one CRLF-terminated row per event, changes as one JSON column, formulas defused', async () => {
    const text = await readAll(formatCsv(from(three)))
    const expected = [
      'id,time,tenant,operation,status,scimType,detail,actorType,actorId,actorName,clientIp,userAgent,clientProduct,requestId,method,path,resourceType,resourceId,latencyMs,changes',
      'evt-1,2025-01-01T10:00:00.000Z,acme,create,201,,,token,0123456789ab,Okta production,203.0.113.7,Okta SCIM Client 1.0.0,Okta,req-1,POST,/scim/v2/Users,User,u-1,12,' +
        '"[{""attribute"":""userName"",""after"":""bjensen""},{""attribute"":""password"",""after"":""[redacted]"",""changed"":true}]"',
      // The user agent starts with "=": prefixed with an apostrophe so a spreadsheet shows it as text
      'evt-2,2025-01-01T10:00:01.000Z,acme,request.rejected,401,,no valid bearer token,anonymous,,,198.51.100.9,' +
        '"\'=HYPERLINK(""http://evil.example"",""x"")",,req-2,DELETE,/scim/v2/Users/u-1,User,u-1,1,[]',
      // A name with a comma and quotes is quoted; the JSON column keeps "\n" escaped, so the row stays one line
      'evt-3,2025-01-01T10:00:02.000Z,acme,patch,409,uniqueness,displayName taken,oauthClient,rsc_0123456789abcdef01234567,"Entra, ""prod""",2001:db8::1,' +
        'Microsoft Azure AD SCIM provisioning,Microsoft Entra ID,req-3,PATCH,/scim/v2/Groups/g-1,Group,g-1,3,' +
        '"[{""attribute"":""displayName"",""before"":""Ops"",""after"":""+Ops\\nTeam""}]"',
    ]
    assert.equal(text, `${expected.join('\r\n')}\r\n`)
  })

  test('exportAudit(…, "csv") streams the same text', async () => {
    assert.equal(await readAll(exportAudit(from(three), 'csv')), await readAll(formatCsv(from(three))))
  })

  test('no events: the header alone', async () => {
    const text = await readAll(formatCsv(from([])))
    assert.equal(text.split('\r\n')[0]?.startsWith('id,time,tenant,'), true)
    assert.equal(text.split('\r\n').filter(Boolean).length, 1)
  })
})

describe('streaming', () => {
  /** An export of `total` events that counts how many the consumer made it read. */
  function counted(total: number) {
    const state = { pulled: 0, finished: false }
    async function* events(): AsyncGenerator<AuditEvent> {
      try {
        for (let i = 0; i < total; i++) {
          state.pulled++
          yield { ...created, id: `evt-${i}` }
        }
      } finally {
        state.finished = true
      }
    }
    return { state, events: events() }
  }

  for (const format of ['ndjson', 'csv'] as const) {
    test(`${format}: reads the store only as far as the consumer reads, and stops when it stops`, async () => {
      const { state, events } = counted(100_000)
      const stream = exportAudit(events, format)
      let chunks = 0
      for await (const _ of stream) {
        if (++chunks === 3) break
      }
      // Breaking out of for-await destroys the stream, which must close the source generator.
      await new Promise((resolve) => setImmediate(resolve))
      assert.ok(state.pulled < 1_000, `pulled ${state.pulled} of 100000 events for 3 chunks`)
      assert.equal(state.finished, true, 'the source generator was closed')
    })
  }

  test('an error while reading events reaches the consumer', async () => {
    async function* failing(): AsyncGenerator<AuditEvent> {
      yield created
      throw new Error('store went away')
    }
    for (const format of ['ndjson', 'csv'] as const) {
      await assert.rejects(readAll(exportAudit(failing(), format)), /store went away/, format)
    }
  })
})
