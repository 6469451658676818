import { isScimError, validateResource, type SchemaRegistry, type ScimObject } from '../src/scim/index.js'
import type { NewResource, ResourceStore, StoredResource } from '../src/store/ports.js'
import { DEFAULT_TENANT } from '../src/store/ports.js'
import { groupBody, managerOf, smallGroupMembers, userBody, type SeedPlan } from './seed-data.js'

export const SEED_BATCH = 5_000
/** How often seeding stops for the store's maintenance (PostgreSQL without autovacuum: VACUUM ANALYZE). */
export const SEED_MAINTENANCE_EVERY = 25_000

export interface SeedStats {
  readonly seconds: number
  readonly usersPerSecond: number
  /** 'createMany' (batches of SEED_BATCH) or 'create' (one call per resource), whichever the store has. */
  readonly method: 'createMany' | 'create'
}

type CreateMany = (tenant: string, inputs: readonly NewResource[]) => Promise<(StoredResource | Error)[]>

/**
 * Seeds the plan through the store port, in process, as fast as the port allows: users in batches of
 * SEED_BATCH through createMany when the adapter has it (one transaction and one sync per batch), else one
 * create per user. Bodies go through validateResource first, so the rows hold exactly the canonical
 * documents POST /Users would have stored. Groups last, members by id.
 */
export async function seedStore(
  store: ResourceStore,
  registry: SchemaRegistry,
  plan: SeedPlan,
  log: (line: string) => void,
  maintain: () => Promise<void> = async () => {},
): Promise<SeedStats> {
  const started = performance.now()
  // The port declares createMany; an adapter being written may not have it yet, so look before using it.
  const createMany = typeof (store as Partial<ResourceStore>).createMany === 'function' ? (store.createMany.bind(store) as CreateMany) : undefined
  const method = createMany ? 'createMany' : 'create'
  const canonical = (body: ScimObject, resourceType: string) => validateResource(body, { registry, resourceType, context: 'create' })
  let lastReport = started
  for (let from = 0; from < plan.users; from += SEED_BATCH) {
    const batch: NewResource[] = []
    for (let i = from; i < Math.min(plan.users, from + SEED_BATCH); i++) {
      const now = plan.createdOf(i)
      batch.push({ id: plan.userIds[i]!, resourceType: 'User', data: canonical(userBody(i, managerOf(plan, i)), 'User'), now })
    }
    if (createMany) {
      const results = await createMany(DEFAULT_TENANT, batch)
      const failed = results.find((r) => r instanceof Error || isScimError(r))
      if (failed) throw new Error(`seeding failed: ${(failed as Error).message}`)
    } else {
      for (const input of batch) await store.create(DEFAULT_TENANT, input)
    }
    if ((from + SEED_BATCH) % SEED_MAINTENANCE_EVERY === 0) await maintain()
    if (performance.now() - lastReport > 5_000) {
      lastReport = performance.now()
      const done = Math.min(plan.users, from + SEED_BATCH)
      log(`  seeded ${done.toLocaleString('en-US')} users (${Math.round(done / ((lastReport - started) / 1000)).toLocaleString('en-US')}/s)`)
    }
  }
  const usersDone = performance.now()
  const now = plan.createdOf(plan.users)
  const group = (id: string, name: string, memberIds: readonly string[]): NewResource => ({
    id,
    resourceType: 'Group',
    data: canonical(groupBody(name), 'Group'),
    memberIds,
    now,
  })
  await store.create(DEFAULT_TENANT, group(plan.bigGroupId, 'All Staff', plan.userIds.slice(0, plan.bigGroupSize)))
  await store.create(DEFAULT_TENANT, group(plan.emptyGroupId, 'Empty', []))
  for (const [g, id] of plan.smallGroupIds.entries()) {
    await store.create(DEFAULT_TENANT, group(id, `Team ${String(g + 1).padStart(2, '0')}`, smallGroupMembers(plan, g)))
  }
  const ended = performance.now()
  log(`  users: ${((usersDone - started) / 1000).toFixed(1)} s; groups (one of ${plan.bigGroupSize.toLocaleString('en-US')} members): ${((ended - usersDone) / 1000).toFixed(1)} s`)
  const seconds = (ended - started) / 1000
  return { seconds, usersPerSecond: plan.users / ((usersDone - started) / 1000), method }
}
