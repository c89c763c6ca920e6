/**
 * The figures back-pressure compares with repair.backPressure (src/core/back-pressure.ts), read from each replica:
 * - pending compactions: JMX Compaction.PendingTasks through the replica's Jolokia agent (what `nodetool
 *   compactionstats` prints: the strategies' estimate of compactions still to run); without an agent, the
 *   compaction executor's running and queued tasks from system_views.thread_pools (a lower bound);
 * - live SSTables of each of the task's tables: JMX Table.LiveSSTableCount (no virtual table gives it);
 * - free space of the data directories: statfs, on the node tend runs on only (data_file_directories from
 *   system_views.settings); every replica's own verdict through gossip (system_views.gossip_info.disk_usage:
 *   SPACIOUS / STUFFED / FULL when the data_disk_usage guardrails are set).
 * Figures that cannot be read are null, with the reason in `problems`: unknown never postpones.
 */
import type cassandra from 'cassandra-driver';
import { statfs } from 'node:fs/promises';
import type { BackPressureLimits, ReplicaLoad } from '../core/back-pressure.js';
import type { TendConfig } from '../config/schema.js';
import type { JolokiaClient, JolokiaRequest } from '../repair/jolokia-client.js';
import { driverHost } from './topology.js';
import type { PinnedSessions } from './session.js';

export const PENDING_COMPACTIONS_MBEAN = 'org.apache.cassandra.metrics:type=Compaction,name=PendingTasks';
export const liveSSTablesMbean = (keyspace: string, table: string): string =>
  `org.apache.cassandra.metrics:type=Table,keyspace=${keyspace},scope=${table},name=LiveSSTableCount`;

/** The Jolokia URL of a replica: repair.backPressure.jolokiaUrl with {address}, else executor.jolokia.url's host replaced. */
export function jolokiaUrlFor(config: TendConfig, address: string): string {
  const host = address.includes(':') ? `[${address}]` : address;
  const template = config.repair.backPressure.jolokiaUrl;
  if (template !== undefined) return template.replaceAll('{address}', host);
  const url = new URL(config.executor.jolokia.url);
  url.hostname = host;
  return url.toString();
}

export interface ReplicaLoadSources {
  /** The Jolokia agent of a replica; absent: pending compactions from thread_pools, SSTable counts unknown. */
  readonly jolokia?: (address: string) => Promise<JolokiaClient>;
  /** Sessions to single nodes, for replicas of other datacenters (see session.ts). */
  readonly pinned?: PinnedSessions;
  /** The node tend runs on: the only one whose data directories it can statfs. */
  readonly localAddress: string;
  /** statfs of a path (tests may pass a stand-in for a full disk). */
  readonly statfs?: (path: string) => Promise<{ freeBytes: number; totalBytes: number }>;
}

async function realStatfs(path: string): Promise<{ freeBytes: number; totalBytes: number }> {
  const stats = await statfs(path);
  // bavail: what an unprivileged process (Cassandra) may still write; blocks: the file system's size.
  return { freeBytes: stats.bavail * stats.bsize, totalBytes: stats.blocks * stats.bsize };
}

/** `[/a, /b]` (Cassandra's list as text) or `/a` as paths. */
export function dataDirectories(value: string | null | undefined): string[] {
  if (!value) return [];
  return value
    .replace(/^\[|\]$/g, '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

type Session = { client: cassandra.Client; host: cassandra.Host | undefined };

async function sessionFor(client: cassandra.Client, address: string, pinned?: PinnedSessions): Promise<Session> {
  const host = driverHost(client, address);
  if (host && host.isUp() && client.getState().getOpenConnections(host) > 0) return { client, host };
  if (!pinned) throw new Error('no connection to it from this session');
  return { client: await pinned.clientFor(address), host: undefined };
}

async function query(session: Session, cql: string, params: unknown[] = []): Promise<cassandra.types.Row[]> {
  const options = { ...(session.host ? { host: session.host } : {}), prepare: params.length > 0, readTimeout: 10_000 };
  return (await session.client.execute(cql, params, options)).rows;
}

/** Reads the load of each replica for a task of `tables`. Never throws: what fails becomes a problem. */
export async function readReplicaLoads(
  client: cassandra.Client,
  replicas: readonly string[],
  tables: readonly { keyspace: string; table: string }[],
  sources: ReplicaLoadSources,
): Promise<ReplicaLoad[]> {
  // Each node's own disk verdict, as gossip spreads it: one read, from any node.
  const diskStates = new Map<string, ReplicaLoad['diskState']>();
  const gossipProblem: string[] = [];
  try {
    for (const row of (await client.execute('SELECT address, disk_usage FROM system_views.gossip_info')).rows) {
      const state = row.get('disk_usage') as string | null;
      const address = String(row.get('address') ?? '');
      if (state === 'SPACIOUS' || state === 'STUFFED' || state === 'FULL') diskStates.set(address, state);
    }
  } catch (error) {
    gossipProblem.push(`gossip_info unreadable: ${(error as Error).message}`);
  }
  return Promise.all(
    [...new Set(replicas)].map(async (address): Promise<ReplicaLoad> => {
      const problems = [...gossipProblem];
      let pendingCompactions: ReplicaLoad['pendingCompactions'] = null;
      const sstables: Record<string, number> = {};
      let jolokiaDown = sources.jolokia === undefined;
      if (sources.jolokia) {
        const requests: JolokiaRequest[] = [
          { type: 'read', mbean: PENDING_COMPACTIONS_MBEAN, attribute: 'Value' },
          ...tables.map((t): JolokiaRequest => ({
            type: 'read',
            mbean: liveSSTablesMbean(t.keyspace, t.table),
            attribute: 'Value',
          })),
        ];
        try {
          const [pending, ...counts] = await (await sources.jolokia(address)).bulk(requests);
          if (typeof pending === 'number') pendingCompactions = { value: pending, source: 'jmx' };
          else problems.push(`pending compactions unreadable: ${String((pending as Error)?.message ?? pending)}`);
          counts.forEach((count, index) => {
            const { keyspace, table } = tables[index]!;
            const value = typeof count === 'string' ? Number(count) : count;
            if (typeof value === 'number' && Number.isFinite(value)) sstables[`${keyspace}.${table}`] = value;
            else
              problems.push(
                `SSTable count of ${keyspace}.${table} unreadable: ${String((count as Error)?.message ?? count)}`,
              );
          });
        } catch (error) {
          jolokiaDown = true;
          problems.push(`Jolokia unreachable: ${(error as Error).message}`);
        }
      }
      let session: Session | undefined;
      try {
        session = await sessionFor(client, address, sources.pinned);
      } catch (error) {
        problems.push(`no CQL read possible: ${(error as Error).message}`);
      }
      if (jolokiaDown && session) {
        try {
          const [pool] = await query(
            session,
            "SELECT active_tasks, pending_tasks FROM system_views.thread_pools WHERE name = 'CompactionExecutor'",
          );
          if (pool) {
            const value = Number(pool.get('active_tasks') ?? 0) + Number(pool.get('pending_tasks') ?? 0);
            pendingCompactions = { value, source: 'thread_pools' };
          }
          if (tables.length > 0) problems.push('SSTable counts need Jolokia');
        } catch (error) {
          problems.push(`thread_pools unreadable: ${(error as Error).message}`);
        }
      }
      let disk: ReplicaLoad['disk'] = null;
      if (address === sources.localAddress && session) {
        try {
          const [row] = await query(
            session,
            "SELECT value FROM system_views.settings WHERE name = 'data_file_directories'",
          );
          for (const path of dataDirectories(row?.get('value') as string | null)) {
            const space = await (sources.statfs ?? realStatfs)(path);
            const ratio = space.totalBytes > 0 ? space.freeBytes / space.totalBytes : 1;
            if (!disk || ratio < disk.freeBytes / disk.totalBytes) disk = { ...space, path };
          }
        } catch (error) {
          problems.push(`data directories unreadable: ${(error as Error).message}`);
        }
      }
      return { address, pendingCompactions, sstables, disk, diskState: diskStates.get(address) ?? null, problems };
    }),
  );
}

/** repair.backPressure as the core's limits. */
export function backPressureLimits(config: TendConfig['repair']['backPressure']): BackPressureLimits {
  return {
    maxPendingCompactions: config.maxPendingCompactions,
    maxSSTables: config.maxSSTables,
    minFreeDiskRatio: config.minFreeDisk,
  };
}
