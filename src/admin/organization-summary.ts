import type { AuditStore, ResourceStore } from '../store/ports.js'

export interface OrganizationSummary {
  readonly organization: string
  readonly users: number
  readonly groups: number
  /** The organization's newest audit event, whenever it was; absent when it has none. */
  readonly lastActivity?: string
  readonly last24Hours: {
    readonly events: number
    readonly failures: number
    /** failures / events, 0 when there were no events. */
    readonly errorRate: number
  }
}

const DAY_MS = 86_400_000

/**
 * The numbers on an organization's dashboard. Counts are `count: 0` queries (RFC 7644 §3.4.2.4: only
 * totalResults), which both adapters answer from counts they keep with every write, without reading the
 * tenant's resources; the rest is one summarizeAudit over the last 24 hours.
 */
export async function summarizeOrganization(
  deps: { readonly resources: Pick<ResourceStore, 'query'>; readonly audit: Pick<AuditStore, 'summarizeAudit'> },
  tenant: string,
  now: Date,
): Promise<OrganizationSummary> {
  const count = async (resourceType: string) => (await deps.resources.query(tenant, resourceType, { startIndex: 1, count: 0 })).totalResults ?? 0
  const [users, groups, audit] = await Promise.all([count('User'), count('Group'), deps.audit.summarizeAudit(tenant, new Date(now.getTime() - DAY_MS).toISOString())])
  return {
    organization: tenant,
    users,
    groups,
    ...(audit.lastActivity ? { lastActivity: audit.lastActivity } : {}),
    last24Hours: { events: audit.events, failures: audit.failures, errorRate: audit.events === 0 ? 0 : audit.failures / audit.events },
  }
}
