/**
 * A repair that runs long enough to be stopped while it runs, on the real sandbox: a keyspace whose replicas
 * disagree, repaired with streaming throttled on every node. Shared by the executor integration tests and the
 * tick's failure e2e tests.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import cassandra from 'cassandra-driver';
import { setTimeout as sleep } from 'node:timers/promises';
import { parentRepairs, type ParentRepair } from './cassandra-repairs.js';
import { jolokia } from './sandbox-clients.js';
import { NODES } from '../sandbox/src/layout.js';

/**
 * A keyspace whose replicas disagree: written with one replica (dc1: 1), then widened to three. A full repair
 * must then stream about `megabytes` MB (10 by default) to two replicas; with streaming throttled
 * (`throttledStreaming`, 1 MiB/s) that keeps it running for about as many seconds. Unthrottled, the sandbox
 * repairs 10 MB in under a second.
 */
export async function inconsistentKeyspace(client: cassandra.Client, keyspace: string, megabytes = 10): Promise<void> {
  await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
  await client.execute(`CREATE KEYSPACE ${keyspace} WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 1}`);
  await client.execute(`CREATE TABLE ${keyspace}.big (id int, c int, v blob, PRIMARY KEY (id, c))`);
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < megabytes * 100; i++) {
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
  for (const index of NODES.map((node) => node.index)) {
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

/** Cassandra's own parent repair sessions of `keyspace` started since `since` (2 s of slack for clock rounding). */
export async function parentSessions(
  client: cassandra.Client,
  keyspace: string,
  since: number,
): Promise<ParentRepair[]> {
  return parentRepairs(client, keyspace, since - 2000);
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
  for (const index of NODES.map((node) => node.index)) {
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
export async function noRepairLeft(client: cassandra.Client, keyspace: string, since: number): Promise<ParentRepair[]> {
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

/**
 * The repair was stopped on the node, not left to finish: it had started (at least one parent session), and every
 * parent session ended with an exception no earlier than `stoppedAt` (ms, the moment the test or tend asked for
 * the stop). Left alone, these repairs complete without an exception after seconds of throttled streaming.
 *
 * Cassandra's message depends on the phase the termination lands in: "Terminate session is called" while the
 * session syncs; while it validates, the failure the removed parent session causes on the coordinator ("Got
 * VALIDATION_REQ failure from …", logged as "Parent repair session … has been removed, failing repair").
 * So the check is on the outcome and its time, not on the wording.
 */
export function expectStoppedOnNode(parents: ParentRepair[], stoppedAt: number): void {
  expect(parents.length, 'the repair had started on the node').to.be.greaterThan(0);
  for (const parent of parents) {
    const what = JSON.stringify(parent);
    expect(parent.exception, `failed, not completed: ${what}`).to.be.a('string');
    // 500 ms for the node's clock against this process's (same machine; to_timestamp(now()) in ms).
    expect(parent.finishedAt, `ended after the stop at ${stoppedAt}: ${what}`).to.be.at.least(stoppedAt - 500);
  }
}
