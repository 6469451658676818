import type autocannon from 'autocannon'
import { BULK_REQUEST, PATCH_OP } from '../src/scim/index.js'
import { fetchJson } from './measure.js'
import { userBody, userNameOf, type SeedPlan } from './seed-data.js'

const SCIM = '/scim/v2'

/** What the server advertises in /ServiceProviderConfig that decides which operations run. */
export interface ServerFeatures {
  /** RFC 9865 cursor paging. */
  readonly cursor: boolean
  readonly maxPageSize: number
  readonly bulk: { readonly supported: boolean; readonly maxOperations: number; readonly maxPayloadSize: number }
}

export async function readFeatures(origin: string, headers: Record<string, string>): Promise<ServerFeatures> {
  const { status, body } = await fetchJson(`${origin}${SCIM}/ServiceProviderConfig`, headers)
  if (status !== 200) throw new Error(`GET /ServiceProviderConfig answered ${status}`)
  const pagination = (body.pagination ?? {}) as { cursor?: unknown; maxPageSize?: unknown }
  const bulk = (body.bulk ?? {}) as { supported?: unknown; maxOperations?: unknown; maxPayloadSize?: unknown }
  const filter = (body.filter ?? {}) as { maxResults?: unknown }
  const num = (v: unknown, fallback: number) => (typeof v === 'number' && v > 0 ? v : fallback)
  return {
    cursor: pagination.cursor === true,
    maxPageSize: num(pagination.maxPageSize, num(filter.maxResults, 100)),
    bulk: { supported: bulk.supported === true, maxOperations: num(bulk.maxOperations, 0), maxPayloadSize: num(bulk.maxPayloadSize, 0) },
  }
}

/**
 * A cursor whose page starts at position `depth` of the default order (created, id), found by walking
 * nextCursor from the first page with pages as large as the server allows, then one page sized to land
 * exactly on `depth`. Cursors are opaque (RFC 9865 §2), so walking is the only honest way to get one.
 */
export async function walkToCursor(origin: string, headers: Record<string, string>, depth: number, maxPageSize: number): Promise<{ cursor: string; requests: number; seconds: number }> {
  const started = performance.now()
  let position = 0
  let cursor = ''
  let requests = 0
  while (position < depth) {
    const count = Math.min(maxPageSize, depth - position)
    const { status, body } = await fetchJson(`${origin}${SCIM}/Users?cursor=${encodeURIComponent(cursor)}&count=${count}&attributes=id`, headers)
    requests++
    const resources = Array.isArray(body.Resources) ? body.Resources : []
    if (status !== 200 || typeof body.nextCursor !== 'string' || resources.length === 0) {
      throw new Error(`cursor walk stopped at ${position}: status ${status}, ${JSON.stringify(body).slice(0, 300)}`)
    }
    position += resources.length
    cursor = body.nextCursor
  }
  return { cursor, requests, seconds: (performance.now() - started) / 1000 }
}

export type OperationKey =
  | 'getById'
  | 'filterEq'
  | 'filterSw'
  | 'filterCo'
  | 'indexDeep'
  | 'cursorFirst'
  | 'cursorDeep'
  | 'postUser'
  | 'patchUser'
  | 'bulk'
  | 'memberBig'
  | 'memberEmpty'

export interface Operation {
  readonly key: OperationKey
  readonly label: string
  readonly requests: autocannon.Request[]
  /** Counts gathered from the responses while it ran (Bulk: users committed; member adds: fresh ids used). */
  readonly counters?: () => Record<string, number>
}

export interface OperationContext {
  readonly plan: SeedPlan
  /** A tag unique to this run, so that POST and Bulk userNames never collide with earlier ones. */
  readonly tag: string
  /** Users in no group (created by POST /Users and /Bulk during this run): what the member PATCHes add. */
  readonly freshUsers: string[]
  readonly bulkSize: number
  readonly deepCursor?: string
}

const pick = <T>(items: readonly T[]) => items[Math.floor(Math.random() * items.length)]!
const idFromLocation = (location: string | undefined) => (location ? decodeURIComponent(location.slice(location.lastIndexOf('/') + 1)) : undefined)

/** Counts definitions, so that every run of POST or Bulk (measured, warm-up or profiled) has userNames of its own. */
let definitions = 0

export function defineOperation(key: OperationKey, ctx: OperationContext): Operation {
  const { plan } = ctx
  const tag = `${ctx.tag}${(definitions++).toString(36)}`
  const get = (label: string, path: () => string): Operation => ({
    key,
    label,
    requests: [{ method: 'GET', setupRequest: (r) => ({ ...r, method: 'GET', path: path() }) }],
  })
  switch (key) {
    case 'getById':
      return get('GET /Users/{id}', () => `${SCIM}/Users/${pick(plan.userIds)}`)
    case 'filterEq':
      return get('GET /Users?filter=userName eq', () => `${SCIM}/Users?filter=${encodeURIComponent(`userName eq "${userNameOf(Math.floor(Math.random() * plan.users))}"`)}`)
    case 'filterSw':
      return get('GET /Users?filter=userName sw "user1234"&count=100', () => `${SCIM}/Users?filter=${encodeURIComponent('userName sw "user1234"')}&count=100`)
    case 'filterCo':
      // On PostgreSQL a pg_trgm GIN index serves this; on SQLite it is the documented fallback, a scan of
      // the tenant's userName index (see BENCHMARKS.md), measured here so its cost is known.
      return get('GET /Users?filter=userName co "ser1234"&count=100', () => `${SCIM}/Users?filter=${encodeURIComponent('userName co "ser1234"')}&count=100`)
    case 'indexDeep': {
      const startIndex = Math.max(1, plan.users - 100)
      return get(`GET /Users?startIndex=${startIndex}&count=100`, () => `${SCIM}/Users?startIndex=${startIndex}&count=100`)
    }
    case 'cursorFirst':
      return get('GET /Users?cursor&count=100 (first page)', () => `${SCIM}/Users?cursor&count=100`)
    case 'cursorDeep': {
      const cursor = encodeURIComponent(ctx.deepCursor ?? '')
      return get(`GET /Users?cursor=…&count=100 (at ${Math.max(0, plan.users - 100).toLocaleString('en-US')})`, () => `${SCIM}/Users?cursor=${cursor}&count=100`)
    }
    case 'postUser': {
      let n = 0
      return {
        key,
        label: 'POST /Users',
        requests: [
          {
            method: 'POST',
            setupRequest: (r) => {
              const i = n++
              return { ...r, method: 'POST', path: `${SCIM}/Users`, body: JSON.stringify(userBody(i, pick(plan.userIds), `${tag}p`)) }
            },
            onResponse: (status, _body, _context, headers) => {
              const id = status === 201 ? idFromLocation(headers.location) : undefined
              if (id) ctx.freshUsers.push(id)
            },
          },
        ],
      }
    }
    case 'patchUser': {
      let n = 0
      return {
        key,
        label: 'PATCH /Users/{id} replace title',
        requests: [
          {
            method: 'PATCH',
            setupRequest: (r) => ({
              ...r,
              method: 'PATCH',
              path: `${SCIM}/Users/${pick(plan.userIds)}`,
              body: JSON.stringify({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: `Title ${tag}-${n++}` }] }),
            }),
          },
        ],
      }
    }
    case 'bulk': {
      let n = 0
      let committed = 0
      let failedOps = 0
      return {
        key,
        label: `POST /Bulk (${ctx.bulkSize} POST /Users each)`,
        requests: [
          {
            method: 'POST',
            setupRequest: (r) => {
              const Operations = Array.from({ length: ctx.bulkSize }, () => {
                const i = n++
                return { method: 'POST', path: '/Users', bulkId: `u${i}`, data: userBody(i, pick(plan.userIds), `${tag}b`) }
              })
              return { ...r, method: 'POST', path: `${SCIM}/Bulk`, body: JSON.stringify({ schemas: [BULK_REQUEST], Operations }) }
            },
            onResponse: (status, body) => {
              if (status !== 200) return
              const ops = (JSON.parse(body) as { Operations?: { status?: unknown; location?: string }[] }).Operations ?? []
              for (const op of ops) {
                if (String(op.status) === '201') {
                  committed++
                  const id = idFromLocation(op.location)
                  if (id) ctx.freshUsers.push(id)
                } else failedOps++
              }
            },
          },
        ],
        counters: () => ({ committed, failedOps }),
      }
    }
    case 'memberBig':
    case 'memberEmpty': {
      const groupId = key === 'memberBig' ? plan.bigGroupId : plan.emptyGroupId
      const pool = ctx.freshUsers
      let n = 0
      return {
        key,
        label:
          key === 'memberBig'
            ? `PATCH /Groups/{id} add 1 member (group of ${plan.bigGroupSize.toLocaleString('en-US')})`
            : 'PATCH /Groups/{id} add 1 member (group starting empty)',
        requests: [
          {
            method: 'PATCH',
            setupRequest: (r) => ({
              ...r,
              method: 'PATCH',
              path: `${SCIM}/Groups/${groupId}`,
              body: JSON.stringify({ schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: pool[n++ % pool.length] }] }] }),
            }),
          },
        ],
        // Adds past the pool's size repeat ids (no-op inserts); the report says how many were fresh.
        counters: () => ({ sent: n, fresh: Math.min(n, pool.length) }),
      }
    }
    default:
      key satisfies never
      throw new Error(`unknown operation ${String(key)}`)
  }
}
