import { randomUUID } from 'node:crypto'
import { conflict, invalidValue, notFound } from '../scim/index.js'
import type { AdminRecord, AdminStore } from '../store/ports.js'
import { checkAdminPassword, hashAdminPassword, verifyAdminPassword } from './admin-password.js'
import { isAdminRole, type AdminRole } from './roles.js'

/** An admin as shown by the API and the CLI: everything but the password hash. */
export type AdminView = Omit<AdminRecord, 'passwordHash'>

export const toAdminView = ({ passwordHash: _hash, ...view }: AdminRecord): AdminView => view

export interface NewAdmin {
  readonly email: string
  readonly password: string
  readonly role: AdminRole
  readonly name?: string
  /** The one organization the admin may see; absent: every organization. */
  readonly tenant?: string
}

export interface AdminChange {
  readonly role?: AdminRole
  readonly name?: string
  /** null makes the admin installation-wide. */
  readonly tenant?: string | null
  readonly disabled?: boolean
}

export interface AdminAccountOptions {
  readonly clock?: () => Date
  readonly newId?: () => string
  /** Whether an organization exists, so an admin is never scoped to a typo. */
  readonly organizationExists: (id: string) => Promise<boolean>
}

// Deliberately loose (one @, no spaces, a dot in the domain): the address is a login name here, not a mailbox we write to.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
const MAX_EMAIL_LENGTH = 254

/** Lower-cased and trimmed, as stored; a 400 invalidValue when it is not an address. */
export function normalizeAdminEmail(email: string): string {
  const normalized = email.trim().toLowerCase()
  if (normalized.length > MAX_EMAIL_LENGTH || !EMAIL.test(normalized)) throw invalidValue('email must be an e-mail address')
  return normalized
}

/**
 * Admin accounts: creation (the first one from the CLI), sign-in, password changes, role and scope
 * changes, disabling, removal. Problems are ScimErrors (400 invalidValue, 404, 409) like the rest of the
 * domains, so the admin API and the CLI report them the same way.
 *
 * One rule guards against locking everyone out: the last enabled installation-wide owner can be neither
 * demoted, scoped, disabled nor removed.
 */
export class AdminAccountService {
  private readonly clock: () => Date
  private readonly newId: () => string

  constructor(private readonly store: AdminStore, private readonly options: AdminAccountOptions) {
    this.clock = options.clock ?? (() => new Date())
    this.newId = options.newId ?? randomUUID
  }

  async create(input: NewAdmin): Promise<AdminRecord> {
    const email = normalizeAdminEmail(input.email)
    if (!isAdminRole(input.role)) throw invalidValue('role must be owner, securityAdmin or viewer')
    requireAcceptablePassword(input.password)
    const name = input.name?.trim()
    if (name !== undefined && name.length > 200) throw invalidValue('name must be at most 200 characters')
    if (input.tenant !== undefined) await this.requireOrganization(input.tenant)
    const record: AdminRecord = {
      id: this.newId(),
      email,
      ...(name ? { name } : {}),
      role: input.role,
      ...(input.tenant !== undefined ? { tenant: input.tenant } : {}),
      passwordHash: await hashAdminPassword(input.password),
      createdAt: this.clock().toISOString(),
    }
    // The store answers 409 uniqueness when the e-mail is taken.
    await this.store.insertAdmin(record)
    return record
  }

  /**
   * The enabled admin with this e-mail and password, or undefined. Unknown e-mails cost a password hash
   * too (verifyAdminPassword), so timing does not tell which addresses are admins.
   */
  async authenticate(email: string, password: string): Promise<AdminRecord | undefined> {
    const found = await this.store.findAdminByEmail(email.trim().toLowerCase())
    const matches = await verifyAdminPassword(password, found?.passwordHash)
    if (!found || !matches || found.disabledAt) return undefined
    return found
  }

  get(id: string): Promise<AdminRecord | undefined> {
    return this.store.getAdmin(id)
  }

  /** The admin with this e-mail (compared as stored: trimmed, lower-cased); 404 when there is none. */
  async getByEmail(email: string): Promise<AdminRecord> {
    const found = await this.store.findAdminByEmail(email.trim().toLowerCase())
    if (!found) throw notFound(`no admin has the e-mail address ${email.trim().toLowerCase()}`)
    return found
  }

  /**
   * An admin's own password change: the new password once `currentPassword` is theirs (verified as
   * authenticate verifies it, in constant time over scrypt), or undefined, with nothing changed, when it is
   * not. The new password meets the rules of create first (400 invalidValue listing the problems), so a
   * mistyped new password costs no guess.
   */
  async changePassword(id: string, currentPassword: string, newPassword: string): Promise<AdminRecord | undefined> {
    requireAcceptablePassword(newPassword)
    const found = await this.store.getAdmin(id)
    const matches = await verifyAdminPassword(currentPassword, found?.passwordHash)
    if (!found || !matches) return undefined
    return this.storePassword(id, newPassword)
  }

  /**
   * Sets an admin's password without the current one: recovery from the CLI, whose user holds the database
   * anyway. The rules of create apply (400 invalidValue); 404 when the admin is absent.
   */
  async setPassword(id: string, newPassword: string): Promise<AdminRecord> {
    requireAcceptablePassword(newPassword)
    return this.storePassword(id, newPassword)
  }

  private async storePassword(id: string, password: string): Promise<AdminRecord> {
    const after = await this.store.updateAdmin(id, { passwordHash: await hashAdminPassword(password) })
    if (!after) throw notFound(`admin ${id} not found`)
    return after
  }

  list(): Promise<AdminRecord[]> {
    return this.store.listAdmins()
  }

  async count(): Promise<number> {
    return this.store.countAdmins()
  }

  /** Applies `change`; returns the record before and after. 404 when absent, 409 when it would remove the last owner. */
  async update(id: string, change: AdminChange): Promise<{ before: AdminRecord; after: AdminRecord }> {
    const before = await this.store.getAdmin(id)
    if (!before) throw notFound(`admin ${id} not found`)
    if (change.role !== undefined && !isAdminRole(change.role)) throw invalidValue('role must be owner, securityAdmin or viewer')
    if (typeof change.tenant === 'string') await this.requireOrganization(change.tenant)
    const name = change.name?.trim()
    if (name !== undefined && name.length > 200) throw invalidValue('name must be at most 200 characters')
    const next: Partial<Pick<AdminRecord, 'name' | 'role' | 'tenant' | 'disabledAt'>> = {
      ...(change.role !== undefined ? { role: change.role } : {}),
      ...(name !== undefined ? { name } : {}),
      ...(change.tenant !== undefined ? { tenant: change.tenant ?? undefined } : {}),
      ...(change.disabled === true && !before.disabledAt ? { disabledAt: this.clock().toISOString() } : {}),
      ...(change.disabled === false ? { disabledAt: undefined } : {}),
    }
    const wouldBe: AdminRecord = { ...before, ...next }
    if (isInstallationOwner(before) && !isInstallationOwner(wouldBe)) await this.keepAnOwner(id)
    const after = await this.store.updateAdmin(id, next)
    if (!after) throw notFound(`admin ${id} not found`)
    return { before, after }
  }

  /** Removes an admin; returns the removed record. 404 when absent, 409 for the last owner. */
  async remove(id: string): Promise<AdminRecord> {
    const record = await this.store.getAdmin(id)
    if (!record) throw notFound(`admin ${id} not found`)
    if (isInstallationOwner(record)) await this.keepAnOwner(id)
    if (!(await this.store.deleteAdmin(id))) throw notFound(`admin ${id} not found`)
    return record
  }

  private async keepAnOwner(leaving: string): Promise<void> {
    const others = (await this.store.listAdmins()).filter((a) => a.id !== leaving && isInstallationOwner(a))
    if (others.length === 0) throw conflict('this is the last enabled owner of the whole installation; make another admin owner first')
  }

  private async requireOrganization(id: string): Promise<void> {
    if (!(await this.options.organizationExists(id))) throw invalidValue(`organization ${id} does not exist`)
  }
}

/** 400 invalidValue naming every problem checkAdminPassword finds: the one password rule of create and of changes. */
function requireAcceptablePassword(password: string): void {
  const problems = checkAdminPassword(password)
  if (problems.length > 0) throw invalidValue(`password not accepted: ${problems.join('; ')}`)
}

/** An enabled owner who sees every organization: the admin who can repair anything. */
const isInstallationOwner = (a: AdminRecord) => a.role === 'owner' && a.tenant === undefined && !a.disabledAt
