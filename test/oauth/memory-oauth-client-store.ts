import type { OAuthClientRecord, OAuthClientStore } from '../../src/oauth/oauth-clients.js'

export class MemoryOAuthClientStore implements OAuthClientStore {
  readonly clients = new Map<string, OAuthClientRecord>()
  touches = 0

  async insertClient(record: OAuthClientRecord): Promise<void> {
    if (this.clients.has(record.id)) throw new Error(`duplicate client ${record.id}`)
    this.clients.set(record.id, record)
  }

  async findClient(id: string): Promise<OAuthClientRecord | undefined> {
    return this.clients.get(id)
  }

  async listClients(tenant: string): Promise<OAuthClientRecord[]> {
    return [...this.clients.values()].filter((c) => c.tenant === tenant)
  }

  async revokeClient(tenant: string, id: string, at: string): Promise<boolean> {
    const c = this.clients.get(id)
    if (!c || c.tenant !== tenant || c.revokedAt) return false
    this.clients.set(id, { ...c, revokedAt: at })
    return true
  }

  async touchClient(id: string, at: string): Promise<void> {
    this.touches++
    const c = this.clients.get(id)
    if (c) this.clients.set(id, { ...c, lastUsedAt: at })
  }
}
