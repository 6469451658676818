import type { AdminApiKeyRecord, AdminApiKeyStore } from '../../src/admin/api-keys.js'

export class MemoryAdminApiKeyStore implements AdminApiKeyStore {
  readonly keys = new Map<string, AdminApiKeyRecord>()
  touches = 0

  async insertApiKey(record: AdminApiKeyRecord): Promise<void> {
    if (this.keys.has(record.id)) throw new Error(`duplicate key ${record.id}`)
    this.keys.set(record.id, record)
  }

  async findApiKey(id: string): Promise<AdminApiKeyRecord | undefined> {
    return this.keys.get(id)
  }

  async listApiKeys(): Promise<AdminApiKeyRecord[]> {
    return [...this.keys.values()]
  }

  async revokeApiKey(id: string, at: string): Promise<boolean> {
    const k = this.keys.get(id)
    if (!k || k.revokedAt) return false
    this.keys.set(id, { ...k, revokedAt: at })
    return true
  }

  async touchApiKey(id: string, at: string): Promise<void> {
    this.touches++
    const k = this.keys.get(id)
    if (k) this.keys.set(id, { ...k, lastUsedAt: at })
  }
}
