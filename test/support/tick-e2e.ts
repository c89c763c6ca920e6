/**
 * Helpers for the e2e tests of the built `tend schedule tick` (test/e2e/tick-*.test.ts) and bench/tick.ts:
 * per-node configurations scoped to a few keyspaces (every other keyspace of the shared sandbox disabled, as an
 * operator would scope tend to part of a cluster), a tend keyspace of the test's own, running the built bin,
 * and checks of what is left running on the nodes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa, type Options, type ResultPromise } from 'execa';
import { stringify } from 'yaml';
import type cassandra from 'cassandra-driver';
import { nodeClient } from './sandbox-clients.js';
import { schemaStatements } from '../../src/cluster/tend-schema.js';
import { NODES, SECURE, type SandboxNode } from '../sandbox/src/layout.js';
import { tendGrants } from '../sandbox/src/secure.js';
import { tendConfig } from '../sandbox/src/tend-config.js';

export const BIN = 'bin/tend';

/**
 * A suffix unique to this run: Cassandra's repair history outlives a dropped keyspace, so a table recreated
 * under the same name on a reused sandbox would already count as repaired.
 */
export const RUN = Date.now().toString(36);

export interface ScopedConfigOptions {
  /** tend's own keyspace for this test (leases, history, policies). */
  tendKeyspace: string;
  /** Data keyspaces tend may repair; every other keyspace is disabled. */
  keyspaces: string[];
  executor?: 'nodetool' | 'jolokia';
  leaseBackend?: 'cassandra' | 'consul';
  /** Merged over the `repair`, `schedule` and `lease` sections. */
  repair?: Record<string, unknown>;
  schedule?: Record<string, unknown>;
  lease?: Record<string, unknown>;
  metricsDirectory?: string;
  /** The `hooks` section, as written in tend.yml. */
  hooks?: Record<string, unknown>;
  /** repair.tables entries put before the ones that scope the test (the first match wins). */
  tables?: Record<string, unknown>[];
}

/** Writes `<dir>/<node>.yml` for one sandbox node and returns its path. */
export function writeScopedConfig(dir: string, node: SandboxNode, options: ScopedConfigOptions): string {
  const raw = tendConfig(node, { executor: options.executor ?? 'jolokia', leaseBackend: options.leaseBackend });
  const alternatives = options.keyspaces.join('|');
  const config = {
    ...raw,
    cassandra: { ...raw.cassandra, keyspace: options.tendKeyspace },
    repair: {
      ...raw.repair,
      ...options.repair,
      // The first matching entry wins: this test's keyspaces, then everything else disabled.
      tables: [...(options.tables ?? []), { match: `/^(${alternatives})\\./` }, { match: '/.*/', enabled: false }],
    },
    // The timers here meet each other's leases all the time (every replica set is all three nodes); the shortest
    // replan pause (5s; shipped 30s, which spares a large cluster's history reads) only saves the suite waiting:
    // tick-cluster took 201 s instead of 247 s with it (one run each, loaded machine).
    schedule: { maxTasks: 10, maxDuration: '10m', replan: { pause: '5s' }, ...options.schedule },
    lease: {
      ...raw.lease,
      ...options.lease,
      consul: { ...raw.lease.consul, prefix: `tend-${options.tendKeyspace.replaceAll('_', '-')}` },
    },
    metrics: { textfileDirectory: options.metricsDirectory ?? join(dir, 'metrics', node.name) },
    ...(options.hooks ? { hooks: options.hooks } : {}),
  };
  mkdirSync(config.metrics.textfileDirectory, { recursive: true });
  const file = join(dir, `${node.name}.yml`);
  writeFileSync(file, stringify(config));
  return file;
}

export function nodeByName(name: string): SandboxNode {
  const node = NODES.find((n) => n.name === name);
  if (!node) throw new Error(`no sandbox node ${name}`);
  return node;
}

/**
 * Creates tend's keyspace `keyspace` from scratch (dropped first). In the secured profile the client is the
 * superuser (a DBA running `tend schema print | cqlsh`), and tend's role then gets what it needs on the keyspace.
 */
export async function createTendKeyspace(client: cassandra.Client, keyspace: string): Promise<void> {
  await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
  for (const statement of schemaStatements(keyspace, { class: 'NetworkTopologyStrategy', dc1: 2, dc2: 1 })) {
    await client.execute(statement);
  }
  if (SECURE) for (const grant of tendGrants(keyspace)) await client.execute(grant);
}

/** A fresh data keyspace with `tables` small tables of a few rows each. */
export async function createSmallKeyspace(
  client: cassandra.Client,
  keyspace: string,
  replication: Record<string, number>,
  tables: string[],
  rows = 5,
): Promise<void> {
  await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
  const dcs = Object.entries(replication)
    .map(([dc, n]) => `'${dc}': ${n}`)
    .join(', ');
  await client.execute(`CREATE KEYSPACE ${keyspace} WITH replication = {'class': 'NetworkTopologyStrategy', ${dcs}}`);
  for (const table of tables) {
    await client.execute(`CREATE TABLE ${keyspace}.${table} (id int PRIMARY KEY, v text)`);
    for (let i = 0; i < rows; i++) {
      await client.execute(`INSERT INTO ${keyspace}.${table} (id, v) VALUES (?, ?)`, [i, `v${i}`], { prepare: true });
    }
  }
}

export {
  expectStoppedOnNode,
  inconsistentKeyspace,
  noRepairLeft,
  parentSessions,
  throttledStreaming,
  untilRepairRuns,
  validationsRunning,
} from './slow-repair.js';
export { parentRepairs, repairSessions, type ParentRepair, type RepairSession } from './cassandra-repairs.js';

export interface TickJson {
  result: string;
  summary: string;
  plannedTasks: number;
  /** Tables left out: a replica down, or (incremental) reported fully repaired by the node. */
  skipped: { table: string; reason: string }[];
  tasks: {
    id: string;
    keyspace: string;
    tables: string[];
    status: string;
    message: string;
    reason: string;
    replicas: string[];
    /** The covered node that ran it (a group tick, `nodes:`). */
    node?: string;
  }[];
  /** Lease outcomes: acquired, kept (a task ran on the leases of the one before), held_elsewhere, lost. */
  leases?: Record<string, number>;
}

/** Runs the built `tend -c CONFIG --json schedule tick ARGS…`. */
export function tick(config: string, args: string[] = [], options: Options = {}): ResultPromise {
  return execa('node', [BIN, '-c', config, '--json', 'schedule', 'tick', ...args], {
    reject: false,
    timeout: 5 * 60_000,
    ...options,
  });
}

/** Runs the built bin with any arguments (no --json unless given). */
export function tend(config: string, args: string[], options: Options = {}): ResultPromise {
  return execa('node', [BIN, '-c', config, ...args], { reject: false, timeout: 120_000, ...options });
}

export async function historyRows(
  client: cassandra.Client,
  tendKeyspace: string,
  keyspace: string,
  table: string,
): Promise<{ status: string; message: string | null; startedAt: number; finishedAt: number }[]> {
  const rows = await client.execute(
    `SELECT status, message, started_at, finished_at FROM ${tendKeyspace}.repair_history WHERE keyspace_name = ? AND table_name = ?`,
    [keyspace, table],
    { prepare: true },
  );
  return rows.rows.map((r) => ({
    status: r.get('status') as string,
    message: (r.get('message') as string | null) ?? null,
    startedAt: (r.get('started_at') as Date).getTime(),
    finishedAt: (r.get('finished_at') as Date).getTime(),
  }));
}

/** The sandbox ring's vnode ranges as `START:END`, read from node1. */
export async function ringRanges(): Promise<string[]> {
  const client = nodeClient(1);
  try {
    const local = (await client.execute('SELECT tokens FROM system.local')).first().get('tokens') as string[];
    const peers = await client.execute('SELECT tokens FROM system.peers_v2');
    const tokens = [...local, ...peers.rows.flatMap((r) => r.get('tokens') as string[])]
      .map(BigInt)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return tokens.map((end, i) => `${tokens[(i + tokens.length - 1) % tokens.length]}:${end}`);
  } finally {
    await client.shutdown();
  }
}
