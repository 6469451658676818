import { randomBytes } from 'node:crypto'
import { hashPassword, verifyPassword } from '../provisioning/password-hash.js'

/**
 * NIST SP 800-63B §5.1.1.2: at least 8 characters, and verifiers should allow at least 64. Admin
 * accounts can change every organization's credentials, so we ask for more than the floor.
 */
export const MIN_ADMIN_PASSWORD_LENGTH = 12
/** scrypt reads the whole input; a cap keeps a login request from costing more than any other. */
export const MAX_ADMIN_PASSWORD_LENGTH = 1024

/** What is wrong with a proposed admin password, as sentences for the form; empty when it is acceptable. */
export function checkAdminPassword(password: string): string[] {
  const problems: string[] = []
  // Length in code points after the same NFKC normalization hashPassword applies, so "é" counts once.
  const length = [...password.normalize('NFKC')].length
  if (length < MIN_ADMIN_PASSWORD_LENGTH) problems.push(`use at least ${MIN_ADMIN_PASSWORD_LENGTH} characters`)
  if (length > MAX_ADMIN_PASSWORD_LENGTH) problems.push(`use at most ${MAX_ADMIN_PASSWORD_LENGTH} characters`)
  if (password.trim() !== password) problems.push('do not start or end with spaces')
  return problems
}

/**
 * An admin password as stored (scrypt, by src/provisioning/password-hash.ts). Throws when
 * checkAdminPassword finds a problem, so no weak password is stored by mistake.
 */
export async function hashAdminPassword(password: string): Promise<string> {
  const problems = checkAdminPassword(password)
  if (problems.length > 0) throw new Error(`password not accepted: ${problems.join('; ')}`)
  return hashPassword(password)
}

let dummyHash: Promise<string> | undefined

/**
 * Whether `password` matches `stored`. Pass `undefined` when no admin has the e-mail given: the
 * password is then checked against a throwaway hash, so an unknown account costs as long as a wrong
 * password and login timing does not tell which e-mails are admins. A stored hash that cannot be
 * read (wrong scheme, bad parameters) never matches.
 */
export async function verifyAdminPassword(password: string, stored: string | undefined): Promise<boolean> {
  if (password.length > MAX_ADMIN_PASSWORD_LENGTH * 4) return false
  dummyHash ??= hashPassword(randomBytes(32).toString('base64url'))
  const hash = stored ?? (await dummyHash)
  let matches: boolean
  try {
    // verifyPassword is synchronous (scryptSync): it holds the event loop for one hash, as it does for SCIM
    // passwords. An async variant in password-hash.ts would free it; this signature already allows that.
    matches = verifyPassword(password, hash)
  } catch {
    matches = false
  }
  return matches && stored !== undefined
}
