import { randomBytes, type KeyObject } from 'node:crypto'
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'
import { parseSecretKey } from './config.js'

/**
 * The key-encryption key kept in a file, for an install without ROSTER_SECRET_KEY: read when the file
 * exists, else created first with 32 random bytes, base64 (the form ROSTER_SECRET_KEY takes, so the line
 * can become the variable's value), readable by its owner only.
 * A malformed file is a ConfigError naming the path, never the content.
 */
export function openSecretKeyFile(path: string): KeyObject {
  try {
    return parseSecretKey(path, readFileSync(path, 'utf8'))
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
  }
  createSecretKeyFile(path)
  return parseSecretKey(path, readFileSync(path, 'utf8'))
}

/**
 * Writes the key to a temporary file, syncs it, then links it into place: a reader never sees a file half
 * written, and of two processes creating it at once (the server and a CLI command on a first start) the
 * second's link fails with EEXIST and both use the first's key. The directory is synced too: the key
 * must be on disk before any signing key sealed with it is committed to the database.
 */
function createSecretKeyFile(path: string): void {
  const dir = dirname(path)
  mkdirSync(dir, { recursive: true })
  const temporary = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`
  const fd = openSync(temporary, 'wx', 0o600)
  try {
    writeSync(fd, `${randomBytes(32).toString('base64')}\n`)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  try {
    linkSync(temporary, path)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
  } finally {
    unlinkSync(temporary)
  }
  const dirFd = openSync(dir, 'r')
  try {
    fsyncSync(dirFd)
  } finally {
    closeSync(dirFd)
  }
}
