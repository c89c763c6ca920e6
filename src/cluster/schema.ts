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
 *   proportional to tables × ranges instead of to the length of history.
 * - run_windows and pauses are tiny operator-edited tables read whole on every tick.
 */

/** Bump when a statement below changes; a tick compares it with the stored row and refuses on mismatch. */
export const TEND_SCHEMA_VERSION = 1;

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
  PRIMARY KEY ((keyspace_name, table_name), range_start, range_end)
)`,
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
    `INSERT INTO ${ks}.schema_version (component, version, applied_at, applied_by) VALUES ('tend', ${TEND_SCHEMA_VERSION}, toTimestamp(now()), 'tend schema apply')`,
  ];
}
