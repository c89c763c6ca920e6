/**
 * How much data each table holds on the local node, from Cassandra's own estimates: `system.table_estimates`
 * (Cassandra 4.0+, range_type 'primary': the node's primary ranges) or, on older nodes, `system.size_estimates`.
 * Both are node-local tables refreshed every few minutes by the node itself, so the query is pinned to the local
 * node; when that is not possible (node down, not reachable from this session) sizes are simply unknown and the
 * planner falls back to whole vnodes.
 *
 * The estimates cover primary ranges only. Data is spread evenly over tokens by Murmur3, so the density
 * (bytes per token) of the primary ranges stands for every range the node replicates: the adapter returns bytes
 * per primary range and the density; src/app scales it to the node's replicated ranges.
 */
import type cassandra from 'cassandra-driver';
import { parseToken, rangeWidth } from '../core/index.js';

export interface PrimaryRangeEstimate {
  /** Bytes per primary range keyed by `START:END` (decimal tokens, as the planner's TableSize.rangeBytes). */
  readonly rangeBytes: Record<string, number>;
  /** Sum over primary ranges. */
  readonly bytes: number;
  /** Bytes per token over the primary ranges (0 when the ranges are empty). */
  readonly bytesPerToken: number;
}

export interface SizeEstimates {
  /** By keyspace, then table. Tables without a row are absent. */
  readonly tables: ReadonlyMap<string, ReadonlyMap<string, PrimaryRangeEstimate>>;
  readonly source: 'table_estimates' | 'size_estimates' | 'unavailable';
  readonly rowsRead: number;
  /** Why estimates are unavailable, when they are. */
  readonly problem?: string;
}

interface Accumulating {
  rangeBytes: Record<string, number>;
  bytes: number;
  width: bigint;
}

function isMissingTable(error: unknown): boolean {
  return /unconfigured table|table .* does not exist/i.test((error as Error).message ?? '');
}

/** The tables of one keyspace whose estimates are wanted; all of its tables when `tables` is absent. */
export interface EstimatesRequest {
  readonly keyspace: string;
  readonly tables?: readonly string[];
}

/**
 * Reads the estimates of the requested tables from the node `host` (the local node): one request per keyspace,
 * paged; rows = tables × primary ranges of the node.
 */
export async function readSizeEstimates(
  client: cassandra.Client,
  requests: readonly EstimatesRequest[],
  host: cassandra.Host | undefined,
): Promise<SizeEstimates> {
  const tables = new Map<string, Map<string, PrimaryRangeEstimate>>();
  if (requests.length === 0) return { tables, source: 'unavailable', rowsRead: 0 };
  if (!host || !host.isUp()) {
    return { tables, source: 'unavailable', rowsRead: 0, problem: 'the local node is not reachable from this session' };
  }
  const columns = 'table_name, range_start, range_end, mean_partition_size, partitions_count';
  const queries = [
    {
      source: 'table_estimates' as const,
      all: `SELECT ${columns} FROM system.table_estimates WHERE keyspace_name = ? AND range_type = 'primary' ALLOW FILTERING`,
      some: `SELECT ${columns} FROM system.table_estimates WHERE keyspace_name = ? AND table_name IN ? AND range_type = 'primary'`,
    },
    {
      source: 'size_estimates' as const,
      all: `SELECT ${columns} FROM system.size_estimates WHERE keyspace_name = ?`,
      some: `SELECT ${columns} FROM system.size_estimates WHERE keyspace_name = ? AND table_name IN ?`,
    },
  ];
  for (const query of queries) {
    let rowsRead = 0;
    try {
      for (const { keyspace, tables: wanted } of requests) {
        const acc = new Map<string, Accumulating>();
        const result = wanted
          ? await client.execute(query.some, [keyspace, [...wanted]], { prepare: true, host, fetchSize: 5000 })
          : await client.execute(query.all, [keyspace], { prepare: true, host, fetchSize: 5000 });
        for await (const row of result) {
          rowsRead++;
          const table = String(row.get('table_name'));
          const start = String(row.get('range_start'));
          const end = String(row.get('range_end'));
          const bytes = Number(row.get('mean_partition_size') ?? 0) * Number(row.get('partitions_count') ?? 0);
          let entry = acc.get(table);
          if (!entry) acc.set(table, (entry = { rangeBytes: {}, bytes: 0, width: 0n }));
          entry.rangeBytes[`${start}:${end}`] = bytes;
          entry.bytes += bytes;
          try {
            entry.width += rangeWidth({ start: parseToken(start), end: parseToken(end) });
          } catch {
            // A malformed token only loses this row's width; the bytes still count.
          }
        }
        const perTable = new Map<string, PrimaryRangeEstimate>();
        for (const [table, entry] of acc) {
          perTable.set(table, {
            rangeBytes: entry.rangeBytes,
            bytes: entry.bytes,
            bytesPerToken: entry.width > 0n ? entry.bytes / Number(entry.width) : 0,
          });
        }
        tables.set(keyspace, perTable);
      }
      return { tables, source: query.source, rowsRead };
    } catch (error) {
      tables.clear();
      // Sizes only refine the plan (sub-range splits, small tables): without them whole vnodes are planned.
      if (!isMissingTable(error)) {
        return { tables, source: 'unavailable', rowsRead, problem: (error as Error).message };
      }
    }
  }
  return { tables, source: 'unavailable', rowsRead: 0 };
}
