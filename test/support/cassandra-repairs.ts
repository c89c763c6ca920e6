/**
 * Cassandra's own record of repairs, read the way a test or a bench can rely on: every page, at ALL.
 *
 * - `system_distributed.parent_repair_history` (one row per repair command) is keyed by parent_id alone, so a
 *   keyspace's rows can only be found by scanning the table. On a sandbox that has run the suite a few times the
 *   table holds thousands of rows (they live 30 days), more than one page of the driver (5000 rows). A scan that
 *   reads only the first page misses any row whose token falls on a later page: that is how CI "lost" sessions
 *   Cassandra had written. The filter runs on the server (ALLOW FILTERING) and the driver fetches every page.
 * - `system_distributed.repair_history` (one row per session and table) is partitioned by keyspace and table and
 *   clustered by a timeuuid, so a table's sessions since a time are one slice of one partition, paged too.
 *
 * At ALL because Cassandra writes both tables at consistency ANY: one replica may be the only one with a row.
 * Callers run with every node up.
 */
import cassandra from 'cassandra-driver';

const ALL = cassandra.types.consistencies.all;

export interface ParentRepair {
  parentId: string;
  tables: string[];
  startedAt: number;
  finishedAt: number | null;
  exception: string | null;
  successfulRanges: string[];
  options: Record<string, string>;
}

/** The parent repair sessions (repair commands) of `keyspace` that started at or after `since` (ms; 0: all). */
export async function parentRepairs(client: cassandra.Client, keyspace: string, since = 0): Promise<ParentRepair[]> {
  const result = await client.execute(
    'SELECT parent_id, columnfamily_names, started_at, finished_at, exception_message, successful_ranges, options FROM system_distributed.parent_repair_history WHERE keyspace_name = ? ALLOW FILTERING',
    [keyspace],
    { prepare: true, consistency: ALL, fetchSize: 1000 },
  );
  const found: ParentRepair[] = [];
  for await (const row of result) {
    // A row can lack started_at when only the UPDATE that finishes it reached the replicas (written at ANY).
    const startedAt = (row.get('started_at') as Date | null)?.getTime() ?? null;
    if (startedAt === null || startedAt < since) continue;
    found.push({
      parentId: String(row.get('parent_id')),
      tables: [...((row.get('columnfamily_names') as string[] | null) ?? [])].sort(),
      startedAt,
      finishedAt: (row.get('finished_at') as Date | null)?.getTime() ?? null,
      exception: (row.get('exception_message') as string | null) ?? null,
      successfulRanges: [...((row.get('successful_ranges') as string[] | null) ?? [])],
      options: (row.get('options') as Record<string, string> | null) ?? {},
    });
  }
  return found;
}

export interface RepairSession {
  parentId: string;
  status: string;
  rangeBegin: string;
  rangeEnd: string;
  startedAt: number;
  finishedAt: number | null;
}

/** The repair sessions of `keyspace`.`table` that started at or after `since` (ms). */
export async function repairSessions(
  client: cassandra.Client,
  keyspace: string,
  table: string,
  since: number,
): Promise<RepairSession[]> {
  const result = await client.execute(
    'SELECT parent_id, status, range_begin, range_end, started_at, finished_at FROM system_distributed.repair_history WHERE keyspace_name = ? AND columnfamily_name = ? AND id >= minTimeuuid(?)',
    [keyspace, table, new Date(since)],
    { prepare: true, consistency: ALL, fetchSize: 1000 },
  );
  const found: RepairSession[] = [];
  for await (const row of result) {
    found.push({
      parentId: String(row.get('parent_id')),
      status: String(row.get('status')),
      rangeBegin: String(row.get('range_begin')),
      rangeEnd: String(row.get('range_end')),
      startedAt: (row.get('started_at') as Date).getTime(),
      finishedAt: (row.get('finished_at') as Date | null)?.getTime() ?? null,
    });
  }
  return found;
}
