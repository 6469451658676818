import { newTimeOrderedId } from '../src/ids.js'
import { ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA, type ScimObject } from '../src/scim/index.js'

/** How many members the one huge group gets (or every user, when there are fewer). */
export const BIG_GROUP_SIZE = 100_000
export const SMALL_GROUPS = 50
export const SMALL_GROUP_SIZE = 20

const GIVEN = ['Barbara', 'Ahmed', 'Chen', 'Dolores', 'Emeka', 'Fatima', 'Gunnar', 'Hiroshi', 'Ines', 'Jonas', 'Kavya', 'Liam', 'Maria', 'Nikolai', 'Olga', 'Priya']
const FAMILY = ['Jensen', 'Okafor', 'Nakamura', 'García', 'Müller', 'Kowalski', 'Haddad', 'Silva', 'Novak', 'Larsen', "O'Brien", 'Dubois', 'Ivanova', 'Rossi', 'Tanaka', 'Patel', 'Smith']
const DEPARTMENTS = ['Engineering', 'Sales', 'Finance', 'Legal', 'Support', 'Marketing', 'Operations', 'People', 'Security', 'Research']
const TITLES = ['Engineer', 'Senior Engineer', 'Account Executive', 'Analyst', 'Counsel', 'Support Specialist', 'Designer', 'Manager']

/** The userName of seeded user i: `userName sw "user1234"` then matches user1234, user12340…12349, and so on. */
export const userNameOf = (i: number) => `user${i}@example.com`

/** The dataset to seed, with every id chosen up front so that managers and members can refer to them. */
export interface SeedPlan {
  readonly users: number
  readonly userIds: readonly string[]
  readonly bigGroupId: string
  readonly bigGroupSize: number
  readonly emptyGroupId: string
  readonly smallGroupIds: readonly string[]
  /** created of user i: a distinct, increasing timestamp, so the default (created, id) order is the seeding order. */
  createdOf(i: number): string
}

/** Ids as Roster gives them (time-ordered, src/ids.ts), at each resource's created time. */
export function planSeed(users: number): SeedPlan {
  const userIds = Array.from({ length: users }, (_, i) => newTimeOrderedId(SEED_BASE_TIME + i * 1000))
  const groupId = () => newTimeOrderedId(SEED_BASE_TIME + users * 1000)
  return withCreatedOf({
    users,
    userIds,
    bigGroupId: groupId(),
    bigGroupSize: Math.min(BIG_GROUP_SIZE, users),
    emptyGroupId: groupId(),
    smallGroupIds: Array.from({ length: SMALL_GROUPS }, groupId),
  })
}

const SEED_BASE_TIME = Date.parse('2024-01-01T00:00:00.000Z')

/** A plan's ids with its `created` times (a plan read back from --seed-cache has only the ids). */
export function withCreatedOf(ids: Omit<SeedPlan, 'createdOf'>): SeedPlan {
  return { ...ids, createdOf: (i) => new Date(SEED_BASE_TIME + i * 1000).toISOString() }
}

/**
 * A User as an IdP sends it: name, a work primary email and a home one, externalId, two phone numbers, a
 * title, and the Enterprise extension with a department and a manager (user ⌊i/8⌋, a management tree).
 * About 900 bytes of JSON.
 */
export function userBody(i: number, managerId: string | undefined, tag = ''): ScimObject {
  const given = GIVEN[i % GIVEN.length]!
  const family = FAMILY[Math.floor(i / GIVEN.length) % FAMILY.length]!
  const userName = tag ? `${tag}${i}@example.com` : userNameOf(i)
  const local = userName.slice(0, userName.indexOf('@'))
  return {
    schemas: [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
    externalId: `00u${(1e12 + i).toString(36)}${tag}`,
    userName,
    name: { formatted: `${given} ${family}`, familyName: family, givenName: given },
    displayName: `${given} ${family}`,
    title: TITLES[i % TITLES.length]!,
    preferredLanguage: 'en-US',
    locale: 'en-US',
    timezone: 'Europe/Berlin',
    active: true,
    emails: [
      { value: userName, type: 'work', primary: true },
      { value: `${local}@home.example.org`, type: 'home' },
    ],
    phoneNumbers: [
      { value: `+1 555 01${String(i % 100).padStart(2, '0')} ${String(i % 10_000).padStart(4, '0')}`, type: 'work' },
      { value: `+1 555 02${String(i % 100).padStart(2, '0')} ${String((i * 7) % 10_000).padStart(4, '0')}`, type: 'mobile' },
    ],
    [ENTERPRISE_USER_SCHEMA]: {
      employeeNumber: String(100_000 + i),
      costCenter: `CC-${(i % 40) + 100}`,
      organization: 'Example Corp',
      department: DEPARTMENTS[i % DEPARTMENTS.length]!,
      ...(managerId ? { manager: { value: managerId } } : {}),
    },
  }
}

export const managerOf = (plan: SeedPlan, i: number): string | undefined => (i === 0 ? undefined : plan.userIds[Math.floor(i / 8)])

export const groupBody = (displayName: string): ScimObject => ({ schemas: [GROUP_SCHEMA], displayName })

/** Members of small group g: 20 users spread over the whole set. */
export function smallGroupMembers(plan: SeedPlan, g: number): string[] {
  const stride = Math.max(1, Math.floor(plan.users / SMALL_GROUP_SIZE))
  const ids = new Set<string>()
  for (let k = 0; k < SMALL_GROUP_SIZE && k < plan.users; k++) ids.add(plan.userIds[(g + k * stride) % plan.users]!)
  return [...ids]
}
