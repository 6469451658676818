import type { AdminSessionRecord, AdminSessionStore } from '../../src/admin/sessions.js'

export class MemoryAdminSessionStore implements AdminSessionStore {
  readonly sessions = new Map<string, AdminSessionRecord>()
  touches = 0

  async insertSession(record: AdminSessionRecord): Promise<void> {
    this.sessions.set(record.idHash, record)
  }

  async findSession(idHash: string): Promise<AdminSessionRecord | undefined> {
    return this.sessions.get(idHash)
  }

  async touchSession(idHash: string, lastSeenAt: string, expiresAt: string): Promise<void> {
    this.touches++
    const s = this.sessions.get(idHash)
    if (s) this.sessions.set(idHash, { ...s, lastSeenAt, expiresAt })
  }

  async deleteSession(idHash: string): Promise<void> {
    this.sessions.delete(idHash)
  }

  async deleteSessionsOf(adminId: string): Promise<number> {
    let n = 0
    for (const [k, s] of this.sessions) if (s.adminId === adminId && this.sessions.delete(k)) n++
    return n
  }

  async deleteOtherSessionsOf(adminId: string, keptIdHash: string): Promise<number> {
    let n = 0
    for (const [k, s] of this.sessions) if (s.adminId === adminId && k !== keptIdHash && this.sessions.delete(k)) n++
    return n
  }

  async deleteExpiredSessions(now: string): Promise<number> {
    let n = 0
    for (const [k, s] of this.sessions) {
      if ((s.expiresAt <= now || s.absoluteExpiresAt <= now) && this.sessions.delete(k)) n++
    }
    return n
  }
}
