/**
 * Helpers for the e2e tests of the built `tend schedule tick` (test/e2e/tick-*.test.ts) and bench/tick.ts:
 * per-node configurations scoped to a few keyspaces (every other keyspace of the shared sandbox disabled, as an
 * operator would scope tend to part of a cluster), a tend keyspace of the test's own, running the built bin,
 * and checks of what is left running on the nodes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa, type Options, type ResultPromise } from 'execa';
import { stringify } from 'yaml';
import type cassandra from 'cassandra-driver';
import { schemaStatements } from '../../src/cluster/schema.js';
import { NODES, type SandboxNode } from '../sandbox/src/layout.js';
import { tendConfig } from '../sandbox/src/tend-config.js';
import { jolokia } from './sandbox-clients.js';

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
      tables: [{ match: `/^(${alternatives})\\./` }, { match: '/.*/', enabled: false }],
    },
    schedule: { maxTasks: 10, maxDuration: '10m', ...options.schedule },
    lease: {
      ...raw.lease,
      ...options.lease,
      consul: { ...raw.lease.consul, prefix: `tend-${options.tendKeyspace.replaceAll('_', '-')}` },
    },
    metrics: { textfileDirectory: options.metricsDirectory ?? join(dir, 'metrics', node.name) },
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

/** Creates tend's keyspace `keyspace` from scratch (dropped first). */
export async function createTendKeyspace(client: cassandra.Client, keyspace: string): Promise<void> {
  await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
  for (const statement of schemaStatements(keyspace, { class: 'NetworkTopologyStrategy', dc1: 2, dc2: 1 })) {
    await client.execute(statement);
  }
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

/**
 * A keyspace whose replicas disagree: written with one replica (dc1: 1), then widened to three. A full repair
 * must then stream about 10 MB to two replicas; with streaming throttled (`throttledStreaming`) that keeps it
 * running for seconds. Unthrottled, the sandbox repairs it in under a second.
 */
export async function inconsistentKeyspace(client: cassandra.Client, keyspace: string): Promise<void> {
  await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
  await client.execute(`CREATE KEYSPACE ${keyspace} WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 1}`);
  await client.execute(`CREATE TABLE ${keyspace}.big (id int, c int, v blob, PRIMARY KEY (id, c))`);
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < 1000; i++) {
    pending.push(
      client.execute(`INSERT INTO ${keyspace}.big (id, c, v) VALUES (?, ?, ?)`, [i % 100, i, randomBytes(10_000)], {
        prepare: true,
      }),
    );
    if (pending.length >= 64) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  await client.execute(
    `ALTER KEYSPACE ${keyspace} WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 2, 'dc2': 1}`,
  );
}

const STREAM_THROUGHPUT = [
  'StreamThroughputMebibytesPerSec',
  'InterDCStreamThroughputMebibytesPerSec',
  'EntireSSTableStreamThroughputMebibytesPerSec',
  'EntireSSTableInterDCStreamThroughputMebibytesPerSec',
];

/** Runs `work` with streaming throttled to 1 MiB/s on every node, and puts the previous limits back afterwards. */
export async function throttledStreaming<T>(work: () => Promise<T>): Promise<T> {
  const mbean = 'org.apache.cassandra.db:type=StorageService';
  const before: { index: number; attribute: string; value: number }[] = [];
  for (const index of [1, 2, 3]) {
    for (const attribute of STREAM_THROUGHPUT) {
      const reply = await jolokia<number>(index, { type: 'read', mbean, attribute: `${attribute}AsDouble` });
      if (reply.status !== 200) throw new Error(`reading ${attribute} on node${index}: ${reply.error}`);
      before.push({ index, attribute, value: Math.round(reply.value) });
    }
  }
  try {
    for (const { index, attribute } of before) {
      const reply = await jolokia(index, { type: 'write', mbean, attribute, value: 1 });
      if (reply.status !== 200) throw new Error(`writing ${attribute} on node${index}: ${reply.error}`);
    }
    return await work();
  } finally {
    for (const { index, attribute, value } of before) {
      await jolokia(index, { type: 'write', mbean, attribute, value });
    }
  }
}

export interface ParentRow {
  parentId: string;
  startedAt: number;
  finishedAt: number | null;
  exception: string | null;
}

/** Cassandra's own parent repair sessions of `keyspace` started since `since`. */
export async function parentSessions(client: cassandra.Client, keyspace: string, since: number): Promise<ParentRow[]> {
  const rows = await client.execute(
    'SELECT parent_id, keyspace_name, started_at, finished_at, exception_message FROM system_distributed.parent_repair_history',
  );
  return rows.rows
    .filter((r) => r.get('keyspace_name') === keyspace && (r.get('started_at') as Date).getTime() >= since - 2000)
    .map((r) => ({
      parentId: String(r.get('parent_id')),
      startedAt: (r.get('started_at') as Date).getTime(),
      finishedAt: (r.get('finished_at') as Date | null)?.getTime() ?? null,
      exception: (r.get('exception_message') as string | null) ?? null,
    }));
}

/** Waits until a parent repair session of the keyspace is open: the repair really runs on the node. */
export async function untilRepairRuns(client: cassandra.Client, keyspace: string, since: number): Promise<number> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const parents = await parentSessions(client, keyspace, since);
    if (parents.some((p) => p.finishedAt === null && p.exception === null)) return Date.now();
    await sleep(50);
  }
  throw new Error(`no repair of ${keyspace} started within 60 s`);
}

interface Compaction {
  keyspace: string;
  taskType: string;
}

/** Validation compactions of `keyspace` running on any node (CompactionManager.Compactions via Jolokia). */
export async function validationsRunning(keyspace: string): Promise<Compaction[]> {
  const found: Compaction[] = [];
  for (const index of [1, 2, 3]) {
    const reply = await jolokia<Compaction[]>(index, {
      type: 'read',
      mbean: 'org.apache.cassandra.db:type=CompactionManager',
      attribute: 'Compactions',
    });
    found.push(...(reply.value ?? []).filter((c) => c.keyspace === keyspace && c.taskType === 'Validation'));
  }
  return found;
}

/**
 * Nothing of this keyspace's repairs is left on the nodes: every parent session since `since` has finished or
 * failed, and no validation compaction of the keyspace runs. Polls: termination is asynchronous in Cassandra.
 * Returns the sessions, or throws with what is still running.
 */
export async function noRepairLeft(client: cassandra.Client, keyspace: string, since: number): Promise<ParentRow[]> {
  const deadline = Date.now() + 30_000;
  let last: unknown;
  while (Date.now() < deadline) {
    const parents = await parentSessions(client, keyspace, since);
    const validations = await validationsRunning(keyspace);
    last = { parents, validations };
    if (validations.length === 0 && parents.every((p) => p.finishedAt !== null || p.exception !== null)) {
      return parents;
    }
    await sleep(250);
  }
  throw new Error(`a repair of ${keyspace} is still running on the nodes: ${JSON.stringify(last)}`);
}

export interface TickJson {
  result: string;
  summary: string;
  plannedTasks: number;
  tasks: { id: string; keyspace: string; tables: string[]; status: string; message: string; replicas: string[] }[];
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
