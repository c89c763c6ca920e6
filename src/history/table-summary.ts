/**
 * tend's `table_summary`: per node and table, a lower bound of when the node's oldest local range was last repaired
 * (src/core/summary.ts says why it may only err towards "more overdue"). One partition per node, so a plan reads
 * every table's summary in one paged request: N rows for N tables, whatever the ring size.
 */
import cassandra from 'cassandra-driver';
import { tableKey, type TableSummary } from '../core/index.js';
import { quoteIdentifier } from '../cluster/tend-schema.js';

export interface SummariesRead {
  /** By tableKey. */
  readonly summaries: Map<string, TableSummary>;
  readonly rowsRead: number;
}

/** Every summary stored for the node `hostId`. */
export async function readTableSummaries(
  client: cassandra.Client,
  tendKeyspace: string,
  hostId: string,
): Promise<SummariesRead> {
  const result = await client.execute(
    `SELECT keyspace_name, table_name, oldest_repaired_at, fingerprint FROM ${quoteIdentifier(tendKeyspace)}.table_summary WHERE host_id = ?`,
    [hostId],
    { prepare: true, fetchSize: 5000 },
  );
  const summaries = new Map<string, TableSummary>();
  let rowsRead = 0;
  for await (const row of result) {
    rowsRead++;
    const keyspace = String(row.get('keyspace_name'));
    const table = String(row.get('table_name'));
    const oldest = row.get('oldest_repaired_at') as Date | null;
    summaries.set(tableKey(keyspace, table), {
      keyspace,
      table,
      oldestRepairedAt: oldest ? oldest.getTime() : null,
      fingerprint: String(row.get('fingerprint') ?? ''),
    });
  }
  return { summaries, rowsRead };
}

/** Writes summaries of the node `hostId`, up to 32 at once (each a single-partition write). */
export async function writeTableSummaries(
  client: cassandra.Client,
  tendKeyspace: string,
  hostId: string,
  summaries: readonly TableSummary[],
  computedAt: number,
): Promise<void> {
  if (summaries.length === 0) return;
  await cassandra.concurrent.executeConcurrent(
    client,
    `INSERT INTO ${quoteIdentifier(tendKeyspace)}.table_summary (host_id, keyspace_name, table_name, oldest_repaired_at, fingerprint, computed_at) VALUES (?, ?, ?, ?, ?, ?)`,
    summaries.map((summary) => [
      hostId,
      summary.keyspace,
      summary.table,
      summary.oldestRepairedAt === null ? null : new Date(summary.oldestRepairedAt),
      summary.fingerprint,
      new Date(computedAt),
    ]),
    { concurrencyLevel: 32, raiseOnFirstError: true },
  );
}
