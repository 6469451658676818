import type { ClientBase } from 'pg'

/**
 * The PostgreSQL schema, one entry per version: entry i takes the schema from version i to i + 1.
 * Entries are append-only: a released migration is never edited, a change is a new entry.
 *
 * The tables mirror SQLite's (src/store/sqlite/migrations.ts): every table carries tenant_id and every
 * btree index starts with it. Text columns are COLLATE "C" so that comparisons, the `sw` ranges
 * compile-filter emits and ORDER BY follow code points, as SQLite's BINARY does, whatever the
 * database's default collation is.
 *
 * Unlike SQLite, there is no resources (tenant_id, resource_type, id) index: SQLite needed it only to
 * stop its planner from walking resources_created for `r.id IN (…)`; PostgreSQL probes the primary key.
 *
 * The three GIN trigram indexes serve `co` (and `ew`) on userName, displayName and emails.value, which
 * compile-filter writes `col LIKE $n ESCAPE '\'`: pg_trgm's gin_trgm_ops answers LIKE with any
 * wildcards (EXPLAIN in test/store/postgres.test.ts). They hold the column alone (a GIN index cannot
 * take tenant_id without btree_gin); the planner ANDs them with the tenant's btree index when useful.
 * gin_trgm_ops is found through the search_path migratePostgres sets (the extension's schema second).
 */
export const POSTGRES_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE resources (
    tenant_id       text COLLATE "C" NOT NULL,
    resource_type   text COLLATE "C" NOT NULL,
    id              text COLLATE "C" NOT NULL,
    data            jsonb NOT NULL,
    version         integer NOT NULL,
    created         text COLLATE "C" NOT NULL,
    last_modified   text COLLATE "C" NOT NULL,
    -- Copies of data.userName / data.displayName lower-cased in JavaScript, and data.externalId as is,
    -- so that the common filters and the userName uniqueness check are index searches.
    user_name_ci    text COLLATE "C",
    external_id     text COLLATE "C",
    display_name_ci text COLLATE "C",
    password_hash   text,
    CONSTRAINT resources_pkey PRIMARY KEY (tenant_id, id)
  );
  -- RFC 7643 §4.1.1: userName is unique (uniqueness "server") and case-insensitive (caseExact false).
  CREATE UNIQUE INDEX resources_user_name_ci ON resources (tenant_id, resource_type, user_name_ci) WHERE user_name_ci IS NOT NULL;
  CREATE INDEX resources_external_id ON resources (tenant_id, resource_type, external_id);
  CREATE INDEX resources_display_name_ci ON resources (tenant_id, resource_type, display_name_ci);
  -- The default order of a list (created, then id), so that paging is stable and served by the index.
  CREATE INDEX resources_created ON resources (tenant_id, resource_type, created, id);
  CREATE INDEX resources_user_name_trgm ON resources USING gin (user_name_ci gin_trgm_ops);
  CREATE INDEX resources_display_name_trgm ON resources USING gin (display_name_ci gin_trgm_ops);

  -- Each email's value, lower-cased (emails.value is caseExact false), rewritten on every write of data.
  CREATE TABLE resource_emails (
    tenant_id   text COLLATE "C" NOT NULL,
    resource_id text COLLATE "C" NOT NULL,
    value_ci    text COLLATE "C" NOT NULL,
    FOREIGN KEY (tenant_id, resource_id) REFERENCES resources (tenant_id, id) ON DELETE CASCADE
  );
  CREATE INDEX resource_emails_value ON resource_emails (tenant_id, value_ci);
  CREATE INDEX resource_emails_resource ON resource_emails (tenant_id, resource_id);
  CREATE INDEX resource_emails_value_trgm ON resource_emails USING gin (value_ci gin_trgm_ops);

  -- Group membership, one row per member. member_type is read from the member's row when it is added.
  CREATE TABLE group_members (
    tenant_id   text COLLATE "C" NOT NULL,
    group_id    text COLLATE "C" NOT NULL,
    member_id   text COLLATE "C" NOT NULL,
    member_type text COLLATE "C" NOT NULL CHECK (member_type IN ('User', 'Group')),
    CONSTRAINT group_members_pkey PRIMARY KEY (tenant_id, group_id, member_id),
    CONSTRAINT group_members_group_fkey FOREIGN KEY (tenant_id, group_id) REFERENCES resources (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT group_members_member_fkey FOREIGN KEY (tenant_id, member_id) REFERENCES resources (tenant_id, id) ON DELETE CASCADE
  );
  CREATE INDEX group_members_member ON group_members (tenant_id, member_id);

  CREATE TABLE tokens (
    id           text COLLATE "C" NOT NULL,
    tenant_id    text COLLATE "C" NOT NULL,
    name         text NOT NULL,
    prefix       text COLLATE "C" NOT NULL,
    hash         text COLLATE "C" NOT NULL,
    created_at   text COLLATE "C" NOT NULL,
    last_used_at text COLLATE "C",
    expires_at   text COLLATE "C",
    revoked_at   text COLLATE "C",
    CONSTRAINT tokens_pkey PRIMARY KEY (id)
  );
  CREATE INDEX tokens_tenant ON tokens (tenant_id, created_at);
  `,
  // 2: organizations, the audit log, admins and their sessions and API keys, OAuth clients, signing keys
  // (as SQLite's migration 2). Constraints are named: the adapter tells a taken email from a taken id by name.
  `
  CREATE TABLE tenants (
    id         text COLLATE "C" NOT NULL,
    name       text COLLATE "C" NOT NULL,
    created_at text COLLATE "C" NOT NULL,
    settings   jsonb NOT NULL,
    CONSTRAINT tenants_pkey PRIMARY KEY (id)
  );
  -- The settings are DEFAULT_TENANT_SETTINGS of src/store/ports.ts at this version.
  INSERT INTO tenants (id, name, created_at, settings) VALUES (
    'default', 'Default', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    '{"deletePolicy":"delete","resourceTypes":["User","Group"],"extensionSchemas":[],"auditReads":"off","auditReadSampleRate":0,"auditRetentionDays":90,"scimRateLimitPerMinute":6000}'
  );

  -- One row per event: copies of the fields queries filter or order on, and the event as jsonb. Times
  -- are ISO 8601 UTC text (toISOString), so text order under COLLATE "C" is time order.
  CREATE TABLE audit_events (
    id            text COLLATE "C" NOT NULL,
    tenant_id     text COLLATE "C" NOT NULL,
    time          text COLLATE "C" NOT NULL,
    actor_id      text COLLATE "C",
    operation     text COLLATE "C" NOT NULL,
    resource_type text COLLATE "C",
    resource_id   text COLLATE "C",
    status        integer NOT NULL,
    event         jsonb NOT NULL,
    CONSTRAINT audit_events_pkey PRIMARY KEY (id)
  );
  CREATE INDEX audit_events_time ON audit_events (tenant_id, time DESC, id DESC);
  CREATE INDEX audit_events_resource ON audit_events (tenant_id, resource_type, resource_id, time DESC, id DESC);
  CREATE INDEX audit_events_actor ON audit_events (tenant_id, actor_id, time DESC, id DESC);

  -- email is stored lower-cased by the adapter (JavaScript's toLowerCase), so the unique index is case-insensitive.
  CREATE TABLE admins (
    id            text COLLATE "C" NOT NULL,
    email         text COLLATE "C" NOT NULL,
    name          text COLLATE "C",
    role          text COLLATE "C" NOT NULL,
    tenant_id     text COLLATE "C",
    password_hash text COLLATE "C" NOT NULL,
    created_at    text COLLATE "C" NOT NULL,
    disabled_at   text COLLATE "C",
    CONSTRAINT admins_pkey PRIMARY KEY (id),
    CONSTRAINT admins_email_key UNIQUE (email)
  );

  CREATE TABLE admin_sessions (
    id_hash             text COLLATE "C" NOT NULL,
    admin_id            text COLLATE "C" NOT NULL,
    created_at          text COLLATE "C" NOT NULL,
    last_seen_at        text COLLATE "C" NOT NULL,
    expires_at          text COLLATE "C" NOT NULL,
    absolute_expires_at text COLLATE "C" NOT NULL,
    ip                  text COLLATE "C",
    user_agent          text COLLATE "C",
    CONSTRAINT admin_sessions_pkey PRIMARY KEY (id_hash)
  );
  CREATE INDEX admin_sessions_admin ON admin_sessions (admin_id);

  CREATE TABLE admin_api_keys (
    id           text COLLATE "C" NOT NULL,
    name         text COLLATE "C" NOT NULL,
    role         text COLLATE "C" NOT NULL,
    prefix       text COLLATE "C" NOT NULL,
    hash         text COLLATE "C" NOT NULL,
    created_by   text COLLATE "C" NOT NULL,
    created_at   text COLLATE "C" NOT NULL,
    last_used_at text COLLATE "C",
    expires_at   text COLLATE "C",
    revoked_at   text COLLATE "C",
    CONSTRAINT admin_api_keys_pkey PRIMARY KEY (id)
  );

  -- Client ids are unique across tenants: the token endpoint finds a client by id alone.
  CREATE TABLE oauth_clients (
    id           text COLLATE "C" NOT NULL,
    tenant_id    text COLLATE "C" NOT NULL,
    name         text COLLATE "C" NOT NULL,
    secret_hash  text COLLATE "C" NOT NULL,
    scopes       jsonb NOT NULL,
    created_at   text COLLATE "C" NOT NULL,
    last_used_at text COLLATE "C",
    revoked_at   text COLLATE "C",
    CONSTRAINT oauth_clients_pkey PRIMARY KEY (id)
  );
  CREATE INDEX oauth_clients_tenant ON oauth_clients (tenant_id, created_at);

  -- One table for the installation: the tenant is a claim inside each token.
  CREATE TABLE signing_keys (
    kid         text COLLATE "C" NOT NULL,
    algorithm   text COLLATE "C" NOT NULL,
    private_jwk jsonb NOT NULL,
    public_jwk  jsonb NOT NULL,
    created_at  text COLLATE "C" NOT NULL,
    retired_at  text COLLATE "C",
    CONSTRAINT signing_keys_pkey PRIMARY KEY (kid)
  );
  `,
  // 3: the number of resources of each type per tenant, kept by triggers in the writing transaction (as
  // SQLite's migration 4), so the totalResults of an unfiltered list is a sum of a few rows: COUNT(*) read an
  // index entry of every resource of the type, 930 ms at 1,000,000 users (bench: 33 requests/s for the first
  // cursor page).
  //
  // Several instances write at once, and a counter row stays locked by the transaction that changed it until
  // that commits: one row per (tenant, type) would make every create and delete of every instance queue on
  // it, through each commit's WAL flush (pgbench, single-row INSERTs from 8 connections on 2 cores: 11,600 a
  // second without counting, 3,600 with one counter row, 9,500 with the shards below). So each (tenant,
  // type) has up to 16 rows, its shards, and the total is their SUM(n) (a shard's n alone means nothing,
  // and goes negative where deletes ran on another shard than the creates). A backend adds to shard
  // pid % 16. All the statements of a transaction run on one backend, so a transaction holds
  // one counter row per (tenant, type) it writes, however many resources it writes, and two transactions
  // queue on one only when their backends' pids agree modulo 16: three instances of 10 connections share a
  // shard by two on average, where one row would be shared by all 30. Deadlocks through counter rows need
  // two such transactions that also wait on each other elsewhere (a Bulk of Users then Groups against one
  // of Groups then Users, or an insert waiting on the other's uncommitted userName); PostgreSQL then aborts
  // one (40P01), and the adapter runs it again (postgres-store.ts isRetryable). The number of shards is the
  // writers' business only: readers sum whatever rows there are, so a later migration may change it in the
  // function without touching the rows.
  //
  // Statement-level triggers with transition tables: a statement that writes 5,000 users (createMany) is
  // one upsert of one counter row per (tenant, type), not 5,000. The rows INSERT … ON CONFLICT DO NOTHING
  // skipped are not in the transition table, and the triggers fire for the data-modifying CTEs the adapter
  // writes with. One function serves both triggers (each names its transition table `written`), its sign
  // from TG_OP. No UPDATE trigger: no statement changes a resource's tenant_id or resource_type. TRUNCATE
  // (operators only: the adapter never truncates) empties the counts.
  //
  // SET search_path FROM CURRENT pins the schema being migrated (this function's search_path, set by
  // migratePostgres), so a session on another search_path (psql, a script) that deletes from this schema's
  // resources updates this schema's counts, never those of a `public` deployment in the same database.
  //
  // The fill runs after the triggers exist, under the table lock CREATE TRIGGER takes (SHARE ROW EXCLUSIVE,
  // which waits for writers in flight and holds off new ones until the migration commits): no write of an
  // older instance falls between the count and the triggers, and from the commit on, older instances'
  // writes go through the triggers too.
  `
  CREATE TABLE resource_counts (
    tenant_id     text COLLATE "C" NOT NULL,
    resource_type text COLLATE "C" NOT NULL,
    shard         smallint NOT NULL,
    n             integer NOT NULL,
    CONSTRAINT resource_counts_pkey PRIMARY KEY (tenant_id, resource_type, shard)
  );
  CREATE FUNCTION resource_counts_follow() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
  BEGIN
    INSERT INTO resource_counts AS c (tenant_id, resource_type, shard, n)
    SELECT w.tenant_id, w.resource_type, pg_backend_pid() % 16, CASE TG_OP WHEN 'INSERT' THEN COUNT(*) ELSE -COUNT(*) END
    FROM written w GROUP BY w.tenant_id, w.resource_type
    -- One order for the counter rows of a statement that writes several types or tenants.
    ORDER BY w.tenant_id, w.resource_type
    ON CONFLICT (tenant_id, resource_type, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
  END
  $$;
  CREATE FUNCTION resource_counts_clear() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
  BEGIN
    DELETE FROM resource_counts;
    RETURN NULL;
  END
  $$;
  CREATE TRIGGER resource_counts_insert AFTER INSERT ON resources REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION resource_counts_follow();
  CREATE TRIGGER resource_counts_delete AFTER DELETE ON resources REFERENCING OLD TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION resource_counts_follow();
  CREATE TRIGGER resource_counts_truncate AFTER TRUNCATE ON resources FOR EACH STATEMENT EXECUTE FUNCTION resource_counts_clear();
  INSERT INTO resource_counts (tenant_id, resource_type, shard, n) SELECT tenant_id, resource_type, 0, COUNT(*) FROM resources GROUP BY tenant_id, resource_type;
  `,
]

/**
 * The key of the transaction-level advisory lock every migration run takes first. One fixed key for
 * the whole database (not one per schema): instances starting together queue on it, and so do the
 * database-wide steps (CREATE EXTENSION, CREATE SCHEMA), which would otherwise race on their catalogs.
 * 0x526f73746572 is "Roster" in ASCII.
 */
export const MIGRATION_LOCK_KEY = 0x526f73746572n

/** The table that records which versions of POSTGRES_MIGRATIONS a schema has, one row each. */
export const MIGRATIONS_TABLE = 'roster_migrations'

/** Schema names are written into SQL and into search_path; only plain lower-case identifiers pass. */
export function assertSchemaName(schema: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`PostgreSQL schema name must match [a-z_][a-z0-9_]* (at most 63 characters), got "${schema}"`)
  return schema
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`

/**
 * Brings `schema` to the latest version in one transaction, under pg_advisory_xact_lock, so several
 * instances starting at once migrate it exactly once: the first takes the lock and migrates, the
 * others wait, then find nothing pending. Creates the schema and the pg_trgm extension when missing
 * (pg_trgm in `public`, or wherever the database already has it; never in `schema`, whose DROP would
 * cascade to the trigram indexes of every other schema). Refuses a schema written by a newer Roster.
 * @returns the schema version now in force.
 */
export async function migratePostgres(client: ClientBase, schema: string, migrations: readonly string[] = POSTGRES_MIGRATIONS): Promise<number> {
  assertSchemaName(schema)
  await client.query('BEGIN')
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY.toString()])
    // Each object is looked up before it is created: CREATE … IF NOT EXISTS checks the privilege to create
    // first, so a role allowed to use an existing schema but not to create anything could not even start.
    const found = await client.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [schema])
    if (found.rowCount === 0) await client.query(`CREATE SCHEMA ${quoteIdent(schema)}`)
    const trgm = `SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'`
    let ext = await client.query<{ schema: string }>(trgm)
    if (ext.rowCount === 0) {
      await client.query('CREATE EXTENSION pg_trgm WITH SCHEMA public')
      ext = await client.query<{ schema: string }>(trgm)
    }
    const trgmSchema = ext.rows[0]!.schema
    // Tables land in the first schema of the path; gin_trgm_ops resolves through the second.
    await client.query(`SET LOCAL search_path TO ${quoteIdent(schema)}, ${quoteIdent(trgmSchema)}`)
    const table = `${quoteIdent(schema)}.${MIGRATIONS_TABLE}`
    const hasTable = await client.query<{ found: string | null }>(`SELECT to_regclass($1)::text AS found`, [table])
    if (hasTable.rows[0]?.found === null) {
      await client.query(`CREATE TABLE ${table} (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`)
    }
    const applied = await client.query<{ current: number | null }>(`SELECT max(version) AS current FROM ${table}`)
    const current = applied.rows[0]?.current ?? 0
    if (current > migrations.length) {
      throw new Error(`database schema "${schema}" is at version ${current}, newer than this Roster knows (${migrations.length})`)
    }
    for (let v = current; v < migrations.length; v++) {
      await client.query(migrations[v]!)
      await client.query(`INSERT INTO ${table} (version) VALUES ($1)`, [v + 1])
    }
    await client.query('COMMIT')
    return migrations.length
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw e
  }
}
