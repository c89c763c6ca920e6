/**
 * A repair that runs long enough to be stopped while it runs, on the real sandbox: a keyspace whose replicas
 * disagree, repaired with streaming throttled on every node. Shared by the executor integration tests and the
 * tick's failure e2e tests.
 */
import { randomBytes } from 'node:crypto';
import cassandra from 'cassandra-driver';
import { setTimeout as sleep } from 'node:timers/promises';
import { jolokia } from './sandbox-clients.js';

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

/**
 * Runs `work` with streaming throttled to `mebibytesPerSecond` on every node, and puts the previous limits back
 * afterwards (all are read before any is changed). The limits are node-wide; other tests' repairs stream a few
 * kilobytes at most, so they do not notice. The entire-SSTable limits are readable only as doubles (`…AsDouble`),
 * writable only as ints.
 */
export async function throttledStreaming<T>(work: () => Promise<T>, mebibytesPerSecond = 1): Promise<T> {
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
      const reply = await jolokia(index, { type: 'write', mbean, attribute, value: mebibytesPerSecond });
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
  successfulRanges: string[];
}

/** Cassandra's own parent repair sessions of `keyspace` started since `since`. */
export async function parentSessions(client: cassandra.Client, keyspace: string, since: number): Promise<ParentRow[]> {
  // At ALL, so that no replica's copy is missed (every caller runs with all nodes up). Even so, CI has seen a
  // session Cassandra ran be absent from this table altogether: the rows are Cassandra's bookkeeping, not a record.
  const rows = await client.execute(
    'SELECT parent_id, keyspace_name, started_at, finished_at, exception_message, successful_ranges FROM system_distributed.parent_repair_history',
    [],
    { consistency: cassandra.types.consistencies.all },
  );
  return rows.rows
    .filter((r) => r.get('keyspace_name') === keyspace && (r.get('started_at') as Date).getTime() >= since - 2000)
    .map((r) => ({
      parentId: String(r.get('parent_id')),
      startedAt: (r.get('started_at') as Date).getTime(),
      finishedAt: (r.get('finished_at') as Date | null)?.getTime() ?? null,
      exception: (r.get('exception_message') as string | null) ?? null,
      successfulRanges: [...((r.get('successful_ranges') as string[] | null) ?? [])],
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
