/**
 * The SSTable operations a node runs now (cleanup, compactions, upgradesstables, garbagecollect, index builds), as
 * the node itself lists them in system_views.sstable_tasks (Cassandra 4.1 and 5.0; what `nodetool
 * compactionstats` prints). The table is node-local: ask the node through a session pinned to it.
 */
import type cassandra from 'cassandra-driver';
import type { SSTableTask } from '../core/index.js';

export async function readSSTableTasks(client: cassandra.Client): Promise<SSTableTask[]> {
  const result = await client.execute(
    'SELECT keyspace_name, table_name, kind, progress, total, unit FROM system_views.sstable_tasks',
  );
  return result.rows.map((row) => ({
    keyspace: String(row.get('keyspace_name') ?? ''),
    table: String(row.get('table_name') ?? ''),
    kind: String(row.get('kind') ?? ''),
    // bigint columns: the driver gives Long objects; Number() reads them exactly below 2^53 bytes.
    progress: Number(row.get('progress') ?? 0),
    total: Number(row.get('total') ?? 0),
    unit: String(row.get('unit') ?? ''),
  }));
}
