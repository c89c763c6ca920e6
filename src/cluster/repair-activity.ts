/**
 * Repairs in progress on a set of replicas, read from each replica's node-local virtual tables (Cassandra 4.1 and
 * 5.0 have the same ones, with the same columns; fixtures of both in test/fixtures/cassandra/):
 * - system_views.repairs: the repairs this node coordinates (an operator's `nodetool repair` on it, a tend task it
 *   runs, Reaper's segments, AutoRepair's rounds), from the moment the command is accepted;
 * - system_views.repair_participates: the repairs this node takes part in, the coordinator's included, from the
 *   moment the coordinator's prepare message arrives (tens of ms after the start; a coordinator's own row in
 *   `repairs` covers that gap).
 * A virtual table is node-local: each query is pinned to its replica, never routed by the driver. The decision is
 * src/core/running-repairs.ts.
 */
import type cassandra from 'cassandra-driver';
import type { ReplicaRepair, ReplicaRepairReport } from '../core/running-repairs.js';
import { driverHost } from './topology.js';
import type { PinnedSessions } from './session.js';

const REPAIRS =
  'SELECT id, completed, keyspace_name, table_names, options_column_families, state_init_timestamp, status FROM system_views.repairs WHERE completed = false ALLOW FILTERING';
const PARTICIPATES =
  'SELECT id, completed, initiator, tables, state_init_timestamp FROM system_views.repair_participates WHERE completed = false ALLOW FILTERING';

/** A row as the driver gives it, reduced to what the parsers read (tests pass fixture objects). */
export type RowLike = Readonly<Record<string, unknown>>;

function text(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return String(value);
}

function list(value: unknown): string[] {
  if (value === null || value === undefined) return [];
  return [...(value as Iterable<unknown>)].map(String);
}

function millis(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const at = value instanceof Date ? value.getTime() : Date.parse(String(value));
  return Number.isFinite(at) ? at : null;
}

/**
 * The repairs a replica reports as not completed: its `repairs` rows (it coordinates them, so the coordinator is
 * the replica itself) and its `repair_participates` rows (the initiator as Cassandra wrote it), one per repair id.
 */
export function runningRepairsOf(address: string, repairs: readonly RowLike[], participates: readonly RowLike[]) {
  const found = new Map<string, ReplicaRepair>();
  for (const row of repairs) {
    if (row.completed !== false) continue;
    const id = String(row.id);
    const keyspace = text(row.keyspace_name);
    // table_names is filled in once the coordinator resolved the tables; until then the options name them (or
    // none: the whole keyspace).
    const tables = list(row.table_names).length > 0 ? list(row.table_names) : list(row.options_column_families);
    found.set(id, {
      id,
      coordinator: address,
      keyspace,
      tables: tables.map((t) => (keyspace && !t.includes('.') ? `${keyspace}.${t}` : t)),
      since: millis(row.state_init_timestamp),
      status: text(row.status),
    });
  }
  for (const row of participates) {
    if (row.completed !== false) continue;
    const id = String(row.id);
    if (found.has(id)) continue;
    const tables = list(row.tables);
    const keyspaces = [...new Set(tables.map((t) => t.split('.')[0] ?? ''))];
    found.set(id, {
      id,
      coordinator: text(row.initiator) ?? '?',
      keyspace: keyspaces.length === 1 ? keyspaces[0]! : null,
      tables,
      since: millis(row.state_init_timestamp),
      status: null,
    });
  }
  return [...found.values()];
}

function plainRows(result: cassandra.types.ResultSet): RowLike[] {
  return result.rows.map((row) => Object.fromEntries(row.keys().map((key) => [key, row.get(key) as unknown])));
}

/**
 * Asks each replica (by its address as the driver knows it) for the repairs it runs: through the main session
 * when it holds a connection to the replica (its local datacenter), else through a session to that node alone
 * (`pinned`, from session.ts's pinnedSessions; the main session keeps no connection to other datacenters). A
 * replica that cannot be reached, or fails the read, gives an error report: the verdict lists it as unchecked.
 */
export async function readRepairActivity(
  client: cassandra.Client,
  replicas: readonly string[],
  options: { readTimeoutMs?: number; pinned?: PinnedSessions } = {},
): Promise<ReplicaRepairReport[]> {
  const readTimeout = options.readTimeoutMs ?? 10_000;
  const read = async (session: cassandra.Client, host: cassandra.Host | undefined, address: string) => {
    const pinned = { ...(host ? { host } : {}), readTimeout, fetchSize: 5000 };
    const [repairs, participates] = await Promise.all([
      session.execute(REPAIRS, [], pinned),
      session.execute(PARTICIPATES, [], pinned),
    ]);
    return runningRepairsOf(address, plainRows(repairs), plainRows(participates));
  };
  return Promise.all(
    [...new Set(replicas)].map(async (address): Promise<ReplicaRepairReport> => {
      const host = driverHost(client, address);
      const local = host !== undefined && host.isUp() && client.getState().getOpenConnections(host) > 0;
      try {
        if (local) return { address, repairs: await read(client, host, address) };
        if (!options.pinned) return { address, error: 'no connection to it from this session' };
        return { address, repairs: await read(await options.pinned.clientFor(address), undefined, address) };
      } catch (error) {
        return { address, error: `reading its repair state failed: ${(error as Error).message}` };
      }
    }),
  );
}
