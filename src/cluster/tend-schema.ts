/**
 * tend's own keyspace: the CQL that `tend schema print` shows DBAs and `tend schema apply` runs.
 *
 * Every statement is idempotent (IF NOT EXISTS), so apply can be re-run at any time. The version row lets
 * a tick refuse to run against a keyspace created by an older or newer tend (see TEND_SCHEMA_VERSION).
 *
 * Why each table looks the way it does:
 * - leases / lease_priorities hold short-lived rows written with TTLs and LWTs; gc_grace_seconds = 0 because a
 *   tombstone of an expired lease is worthless and LWT reads would otherwise wade through them.
 * - repair_history is append-only, partitioned by (keyspace, table) so every replica of every node reads the
 *   same partition; newest first; TWCS plus a 30-day TTL keep it bounded without manual cleanup.
 * - repair_state keeps, per table and range, the latest successful repair. It is what makes a tick's read cost
 *   proportional to tables × ranges instead of to the length of history. Rows are written with
 *   `USING TIMESTAMP repaired_at`, so concurrent writers keep the newest repair whatever order they land in.
 *   The static `external_folded_before` is the watermark of Cassandra's own history already folded in: sessions of
 *   system_distributed.repair_history that started before it need not be read again (src/history).
 * - table_summary keeps, per node and table, a lower bound of when the node's oldest range was last repaired
 *   (src/core/summary.ts): an idle tick plans from these N rows, one partition per node, and reads a table's
 *   repair_state only when its bound comes due. 30-day TTL: summaries of dropped tables go by themselves, and one
 *   that expires only makes its table be read again.
 * - run_windows and pauses are tiny operator-edited tables read whole on every tick.
 * - jobs / job_steps hold cluster-wide maintenance jobs (issue 17): one row per job, one partition of steps per job
 *   (one row per node), claimed and settled with LWTs on the step's state. jobs is read whole by every tick (a few
 *   rows); a 30-day TTL keeps both bounded, so a job's record lasts a month after its last change.
 * - coverage (schema v4, issue 18) records which tend instance covers which node: one row per node and instance,
 *   rewritten by every tick of that instance with its expiry (src/core/coverage.ts decides what is live). Read whole
 *   (a row or two per node). The row's own TTL is the claim's plus 30 days, so a node whose instance stopped still
 *   shows who covered it last, and rows of decommissioned nodes go by themselves; gc_grace_seconds = 0 since a
 *   resurrected expired claim would only say a node was covered in the past.
 */

import type { Client } from 'cassandra-driver';
import { SchemaVersionMismatch } from '../errors.js';

/** Bump when a statement below changes; a tick compares it with the stored row and refuses on mismatch. */
export const TEND_SCHEMA_VERSION = 6;

/** Replication map as CQL expects it, e.g. {class: 'NetworkTopologyStrategy', dc1: 3, dc2: 3}. */
export type Replication = Record<string, string | number>;

const THIRTY_DAYS_SECONDS = 30 * 24 * 3600;

export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function replicationLiteral(replication: Replication): string {
  const entries = Object.entries(replication).map(
    ([key, value]) => `'${key.replace(/'/g, "''")}': '${String(value).replace(/'/g, "''")}'`,
  );
  return `{${entries.join(', ')}}`;
}

export function schemaStatements(keyspace: string, replication: Replication): string[] {
  const ks = quoteIdentifier(keyspace);
  return [
    `CREATE KEYSPACE IF NOT EXISTS ${ks} WITH replication = ${replicationLiteral(replication)}`,
    `CREATE TABLE IF NOT EXISTS ${ks}.schema_version (
  component text PRIMARY KEY,
  version int,
  applied_at timestamp,
  applied_by text
)`,
    `CREATE TABLE IF NOT EXISTS ${ks}.leases (
  resource text PRIMARY KEY,
  holder text,
  holder_host text,
  acquired_at timestamp,
  renewed_at timestamp,
  ttl_seconds int,
  metadata map<text, text>
) WITH default_time_to_live = 600 AND gc_grace_seconds = 0`,
    `CREATE TABLE IF NOT EXISTS ${ks}.lease_priorities (
  resource text,
  holder text,
  priority bigint,
  tie_breaker bigint,
  announced_at timestamp,
  PRIMARY KEY ((resource), holder)
) WITH default_time_to_live = 600 AND gc_grace_seconds = 0`,
    `CREATE TABLE IF NOT EXISTS ${ks}.repair_history (
  keyspace_name text,
  table_name text,
  id timeuuid,
  range_start text,
  range_end text,
  coordinator text,
  participants set<text>,
  repair_type text,
  parallelism text,
  status text,
  started_at timestamp,
  finished_at timestamp,
  message text,
  tick_id text,
  task_id text,
  PRIMARY KEY ((keyspace_name, table_name), id)
) WITH CLUSTERING ORDER BY (id DESC)
  AND compaction = {'class': 'TimeWindowCompactionStrategy', 'compaction_window_unit': 'DAYS', 'compaction_window_size': '1'}
  AND default_time_to_live = ${THIRTY_DAYS_SECONDS}`,
    `CREATE TABLE IF NOT EXISTS ${ks}.repair_state (
  keyspace_name text,
  table_name text,
  range_start text,
  range_end text,
  repaired_at timestamp,
  repaired_by text,
  external_folded_before timestamp static,
  PRIMARY KEY ((keyspace_name, table_name), range_start, range_end)
)`,
    tableSummaryStatement(ks),
    `CREATE TABLE IF NOT EXISTS ${ks}.run_windows (
  id text PRIMARY KEY,
  keyspace_name text,
  table_name text,
  datacenter text,
  days set<text>,
  start_time text,
  end_time text,
  timezone text,
  action text,
  created_at timestamp,
  created_by text
)`,
    `CREATE TABLE IF NOT EXISTS ${ks}.pauses (
  scope text PRIMARY KEY,
  reason text,
  paused_at timestamp,
  paused_by text,
  until timestamp
)`,
    ...jobStatements(ks),
    coverageStatement(ks),
    `INSERT INTO ${ks}.schema_version (component, version, applied_at, applied_by) VALUES ('tend', ${TEND_SCHEMA_VERSION}, toTimestamp(now()), 'tend schema apply')`,
  ];
}

function tableSummaryStatement(ks: string): string {
  return `CREATE TABLE IF NOT EXISTS ${ks}.table_summary (
  host_id text,
  keyspace_name text,
  table_name text,
  oldest_repaired_at timestamp,
  fingerprint text,
  computed_at timestamp,
  PRIMARY KEY ((host_id), keyspace_name, table_name)
) WITH default_time_to_live = ${THIRTY_DAYS_SECONDS}`;
}

function jobStatements(ks: string): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${ks}.jobs (
  id text PRIMARY KEY,
  operation text,
  keyspace_name text,
  table_name text,
  datacenter text,
  concurrency int,
  concurrency_scope text,
  stale_after_ms bigint,
  step_timeout_ms bigint,
  max_attempts int,
  created_at timestamp,
  created_by text,
  aborted_at timestamp,
  aborted_by text,
  finished_at timestamp,
  run_window text,
  operation_options text
) WITH default_time_to_live = ${THIRTY_DAYS_SECONDS}`,
    `CREATE TABLE IF NOT EXISTS ${ks}.job_steps (
  job_id text,
  host_id text,
  address text,
  datacenter text,
  state text,
  attempt int,
  holder text,
  started_at timestamp,
  heartbeat_at timestamp,
  finished_at timestamp,
  message text,
  PRIMARY KEY ((job_id), host_id)
) WITH default_time_to_live = ${THIRTY_DAYS_SECONDS}`,
  ];
}

function coverageStatement(ks: string): string {
  return `CREATE TABLE IF NOT EXISTS ${ks}.coverage (
  host_id text,
  instance text,
  address text,
  instance_host text,
  kind text,
  claimed_at timestamp,
  expires_at timestamp,
  PRIMARY KEY ((host_id), instance)
) WITH gc_grace_seconds = 0`;
}

/** Migrations from a stored version to the next (index 0: 1 → 2, …). Each statement must be idempotent. */
const MIGRATIONS: readonly ((keyspace: string) => string[])[] = [
  // 1 → 2: per-node table summaries (idle ticks read one row per table).
  (keyspace) => [tableSummaryStatement(quoteIdentifier(keyspace))],
  // 2 → 3: cluster-wide maintenance jobs and their steps.
  (keyspace) => jobStatements(quoteIdentifier(keyspace)),
  // 3 → 4: the coverage record (which instance covers which node).
  (keyspace) => [coverageStatement(quoteIdentifier(keyspace))],
  // 4 → 5: a job's window (`job start --window`). ADD IF NOT EXISTS (Cassandra 4.1 and later) keeps it idempotent,
  // and a no-op on a keyspace whose jobs table the 2 → 3 step just created with the column.
  (keyspace) => [`ALTER TABLE ${quoteIdentifier(keyspace)}.jobs ADD IF NOT EXISTS run_window text`],
  // 5 → 6: the operation's options as JSON (`job start --include-all-sstables`), so that later options of an
  // operation need no migration of their own.
  (keyspace) => [`ALTER TABLE ${quoteIdentifier(keyspace)}.jobs ADD IF NOT EXISTS operation_options text`],
];

export interface SchemaApplyResult {
  readonly keyspace: string;
  /** Version stored before apply (null: the keyspace or its version row did not exist). */
  readonly previousVersion: number | null;
  readonly version: number;
  readonly statements: number;
  /** Replication the keyspace actually has, when it differs from the configured one (apply never alters it). */
  readonly replicationDiffers: { configured: Replication; actual: Record<string, string> } | null;
}

/** The stored schema version, or null when tend's keyspace or its version row does not exist. */
export async function readSchemaVersion(client: Client, keyspace: string): Promise<number | null> {
  const exists = await client.execute(
    'SELECT keyspace_name FROM system_schema.tables WHERE keyspace_name = ? AND table_name = ?',
    [keyspace, 'schema_version'],
    { prepare: true },
  );
  if (exists.rowLength === 0) return null;
  const row = (
    await client.execute(`SELECT version FROM ${quoteIdentifier(keyspace)}.schema_version WHERE component = 'tend'`)
  ).first();
  const version = row?.get('version') as number | null | undefined;
  return version ?? null;
}

function sameReplication(configured: Replication, actual: Record<string, string>): boolean {
  const norm = (map: Record<string, string | number>) =>
    Object.entries(map)
      .map(([k, v]) => [k, k === 'class' ? String(v).slice(String(v).lastIndexOf('.') + 1) : String(v)])
      .sort(([a], [b]) => ((a ?? '') < (b ?? '') ? -1 : 1))
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
  return norm(configured) === norm(actual);
}

/**
 * `tend schema apply`: creates tend's keyspace and tables (IF NOT EXISTS, so re-running is harmless), runs the
 * migrations from the stored version, and records TEND_SCHEMA_VERSION. Refuses when the stored version is newer
 * than this tend (an older binary must not downgrade a schema a newer one relies on). The keyspace's replication
 * is never altered by apply: changing it needs a repair afterwards, so it is reported for the operator to decide.
 */
export async function applySchema(
  client: Client,
  keyspace: string,
  replication: Replication,
): Promise<SchemaApplyResult> {
  const previousVersion = await readSchemaVersion(client, keyspace);
  if (previousVersion !== null && previousVersion > TEND_SCHEMA_VERSION) {
    throw new SchemaVersionMismatch(
      `keyspace ${keyspace} has tend schema version ${previousVersion}, newer than this tend's ${TEND_SCHEMA_VERSION}`,
      { hints: ['upgrade tend on this node; apply never downgrades a schema'] },
    );
  }
  const statements = schemaStatements(keyspace, replication);
  const create = statements.slice(0, -1);
  const recordVersion = statements[statements.length - 1] as string;
  const migrations = MIGRATIONS.slice(Math.max(0, (previousVersion ?? TEND_SCHEMA_VERSION) - 1)).flatMap((m) =>
    m(keyspace),
  );
  // DDL one statement at a time: the driver waits for schema agreement after each.
  for (const statement of [...create, ...migrations, recordVersion]) await client.execute(statement);
  const actual = (
    await client.execute('SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?', [keyspace], {
      prepare: true,
    })
  )
    .first()
    ?.get('replication') as Record<string, string> | undefined;
  return {
    keyspace,
    previousVersion,
    version: TEND_SCHEMA_VERSION,
    statements: create.length + migrations.length + 1,
    replicationDiffers: actual && !sameReplication(replication, actual) ? { configured: replication, actual } : null,
  };
}

/**
 * The check at the start of every command that reads or writes tend's tables: the stored version must be this
 * tend's. Throws SchemaVersionMismatch (with what to run) otherwise.
 */
export async function checkSchemaVersion(client: Client, keyspace: string): Promise<void> {
  const stored = await readSchemaVersion(client, keyspace);
  if (stored === TEND_SCHEMA_VERSION) return;
  if (stored === null) {
    throw new SchemaVersionMismatch(`tend's keyspace ${keyspace} does not exist or has no schema version`, {
      hints: ["run 'tend schema apply' once (or 'tend schema print | cqlsh')"],
    });
  }
  throw new SchemaVersionMismatch(
    `keyspace ${keyspace} has tend schema version ${stored}; this tend needs ${TEND_SCHEMA_VERSION}`,
    {
      hints: [stored < TEND_SCHEMA_VERSION ? "run 'tend schema apply' to migrate it" : 'upgrade tend on this node'],
    },
  );
}
