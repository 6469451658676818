import type { Database } from 'better-sqlite3'

/**
 * The SQLite schema, one entry per version: entry i takes PRAGMA user_version from i to i + 1. Entries
 * are append-only: a released migration is never edited, a change is a new entry.
 *
 * Every table carries tenant_id and every index starts with it, so each query of the adapter is a
 * search within one tenant.
 */
export const SQLITE_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE resources (
    tenant_id       TEXT NOT NULL,
    resource_type   TEXT NOT NULL,
    id              TEXT NOT NULL,
    data            TEXT NOT NULL CHECK (json_valid(data)),
    version         INTEGER NOT NULL,
    created         TEXT NOT NULL,
    last_modified   TEXT NOT NULL,
    -- Copies of data.userName / data.displayName lower-cased in JavaScript, and data.externalId as is,
    -- so that the common filters and the userName uniqueness check are index searches.
    user_name_ci    TEXT,
    external_id     TEXT,
    display_name_ci TEXT,
    password_hash   TEXT,
    PRIMARY KEY (tenant_id, id)
  );
  -- RFC 7643 §4.1.1: userName is unique (uniqueness "server") and case-insensitive (caseExact false).
  CREATE UNIQUE INDEX resources_user_name_ci ON resources (tenant_id, resource_type, user_name_ci) WHERE user_name_ci IS NOT NULL;
  CREATE INDEX resources_external_id ON resources (tenant_id, resource_type, external_id);
  CREATE INDEX resources_display_name_ci ON resources (tenant_id, resource_type, display_name_ci);
  -- The default order of a list (created, then id), so that paging is stable and served by the index.
  CREATE INDEX resources_created ON resources (tenant_id, resource_type, created, id);
  -- For "r.id IN (SELECT … FROM resource_emails / group_members …)": with only the primary key
  -- (tenant_id, id), SQLite 3.53 prefers resources_created for "tenant_id = ? AND resource_type = ?" and
  -- probes the subquery's list once per row of the tenant; with this index the IN list drives the search.
  CREATE INDEX resources_type_id ON resources (tenant_id, resource_type, id);

  -- Each email's value, lower-cased (emails.value is caseExact false), rewritten on every write of data.
  CREATE TABLE resource_emails (
    tenant_id   TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    value_ci    TEXT NOT NULL,
    FOREIGN KEY (tenant_id, resource_id) REFERENCES resources (tenant_id, id) ON DELETE CASCADE
  );
  CREATE INDEX resource_emails_value ON resource_emails (tenant_id, value_ci);
  CREATE INDEX resource_emails_resource ON resource_emails (tenant_id, resource_id);

  -- Group membership, one row per member. member_type is read from the member's row when it is added.
  CREATE TABLE group_members (
    tenant_id   TEXT NOT NULL,
    group_id    TEXT NOT NULL,
    member_id   TEXT NOT NULL,
    member_type TEXT NOT NULL CHECK (member_type IN ('User', 'Group')),
    PRIMARY KEY (tenant_id, group_id, member_id),
    FOREIGN KEY (tenant_id, group_id) REFERENCES resources (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, member_id) REFERENCES resources (tenant_id, id) ON DELETE CASCADE
  ) WITHOUT ROWID;
  CREATE INDEX group_members_member ON group_members (tenant_id, member_id);

  CREATE TABLE tokens (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    hash         TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    expires_at   TEXT,
    revoked_at   TEXT
  );
  CREATE INDEX tokens_tenant ON tokens (tenant_id, created_at);
  `,
  // 2: organizations, the audit log, admins and their sessions and API keys, OAuth clients, signing keys.
  `
  CREATE TABLE tenants (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    settings   TEXT NOT NULL CHECK (json_valid(settings))
  );
  -- Every database has the organization that single-organization installations (and the SCIM routes
  -- without /o/{org}) use. The settings are DEFAULT_TENANT_SETTINGS of src/store/ports.ts at this version.
  INSERT INTO tenants (id, name, created_at, settings) VALUES (
    'default', 'Default', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
    '{"deletePolicy":"delete","resourceTypes":["User","Group"],"extensionSchemas":[],"auditReads":"off","auditReadSampleRate":0,"auditRetentionDays":90,"scimRateLimitPerMinute":6000}'
  );

  -- One row per event. The columns are copies of event fields that queries filter or order on; the
  -- event itself is the JSON. Times are ISO 8601 UTC text (toISOString), so text order is time order.
  -- rowid stays (no WITHOUT ROWID): pruneAuditEvents deletes by rowid in small batches.
  CREATE TABLE audit_events (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    time          TEXT NOT NULL,
    actor_id      TEXT,
    operation     TEXT NOT NULL,
    resource_type TEXT,
    resource_id   TEXT,
    status        INTEGER NOT NULL,
    event         TEXT NOT NULL CHECK (json_valid(event))
  );
  -- Newest first within a tenant, the keyset (time, id) of every page, and the time range of a prune.
  CREATE INDEX audit_events_time ON audit_events (tenant_id, time DESC, id DESC);
  -- The history of one resource (or of a resource type), and what one actor did; id last, so that
  -- these searches deliver rows in the page order too.
  CREATE INDEX audit_events_resource ON audit_events (tenant_id, resource_type, resource_id, time DESC, id DESC);
  CREATE INDEX audit_events_actor ON audit_events (tenant_id, actor_id, time DESC, id DESC);

  -- email is stored lower-cased by the adapter (JavaScript's toLowerCase), so the unique index is case-insensitive.
  CREATE TABLE admins (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL,
    name          TEXT,
    role          TEXT NOT NULL,
    tenant_id     TEXT,
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    disabled_at   TEXT
  );
  CREATE UNIQUE INDEX admins_email ON admins (email);

  CREATE TABLE admin_sessions (
    id_hash             TEXT PRIMARY KEY,
    admin_id            TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    last_seen_at        TEXT NOT NULL,
    expires_at          TEXT NOT NULL,
    absolute_expires_at TEXT NOT NULL,
    ip                  TEXT,
    user_agent          TEXT
  ) WITHOUT ROWID;
  CREATE INDEX admin_sessions_admin ON admin_sessions (admin_id);

  CREATE TABLE admin_api_keys (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    hash         TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    expires_at   TEXT,
    revoked_at   TEXT
  );

  -- Client ids are unique across tenants: the token endpoint finds a client by id alone.
  CREATE TABLE oauth_clients (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL,
    name         TEXT NOT NULL,
    secret_hash  TEXT NOT NULL,
    scopes       TEXT NOT NULL CHECK (json_valid(scopes)),
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
  );
  CREATE INDEX oauth_clients_tenant ON oauth_clients (tenant_id, created_at);

  -- One table for the installation: the tenant is a claim inside each token.
  CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY,
    algorithm   TEXT NOT NULL,
    private_jwk TEXT NOT NULL CHECK (json_valid(private_jwk)),
    public_jwk  TEXT NOT NULL CHECK (json_valid(public_jwk)),
    created_at  TEXT NOT NULL,
    retired_at  TEXT
  );
  `,
  // 3: memberships of a group in a group, apart. A user's `groups` (direct and indirect) needs the recursive
  // walk only when the tenant nests groups at all, which this index answers at once; Okta and Entra push
  // flat groups, and the walk cost more than the rest of a GET /Users/{id} (bench profile, 100,000 users).
  `
  CREATE INDEX group_members_nested ON group_members (tenant_id, member_id) WHERE member_type = 'Group';
  `,
  // 4: the number of resources of each type per tenant, kept by triggers in the writing transaction, so the
  // totalResults of an unfiltered list is a lookup: COUNT(*) walked an index of the whole tenant, 120 ms at
  // 1,000,000 users (bench: the first cursor page, 8 requests/s), and the triggers see every writer.
  `
  CREATE TABLE resource_counts (
    tenant_id     TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    n             INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, resource_type)
  ) WITHOUT ROWID;
  INSERT INTO resource_counts (tenant_id, resource_type, n) SELECT tenant_id, resource_type, COUNT(*) FROM resources GROUP BY tenant_id, resource_type;
  CREATE TRIGGER resource_counts_insert AFTER INSERT ON resources BEGIN
    INSERT INTO resource_counts (tenant_id, resource_type, n) VALUES (NEW.tenant_id, NEW.resource_type, 1)
    ON CONFLICT (tenant_id, resource_type) DO UPDATE SET n = n + 1;
  END;
  CREATE TRIGGER resource_counts_delete AFTER DELETE ON resources BEGIN
    UPDATE resource_counts SET n = n - 1 WHERE tenant_id = OLD.tenant_id AND resource_type = OLD.resource_type;
  END;
  `,
]

/**
 * Brings the database to the latest schema version in one immediate transaction (all pending migrations
 * or none), so two processes opening the same file cannot both migrate it. Refuses a database written by
 * a newer Roster rather than running against a schema it does not know.
 * @returns the schema version now in force.
 */
export function migrateSqlite(db: Database, migrations: readonly string[] = SQLITE_MIGRATIONS): number {
  const run = db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number
    if (current > migrations.length) {
      throw new Error(`database schema version ${current} is newer than this Roster knows (${migrations.length})`)
    }
    for (let v = current; v < migrations.length; v++) db.exec(migrations[v]!)
    if (current < migrations.length) db.pragma(`user_version = ${migrations.length}`)
    return migrations.length
  })
  return run.immediate()
}
