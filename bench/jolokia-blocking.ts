// bench/jolokia-blocking: whether node1's Jolokia agent answers other requests while a blocking JMX operation runs
// through it, on the real sandbox (issue 17: `job abort` of a step that runs through Jolokia).
//
//   npm run bench:jolokia-blocking [-- --rows 25000]
//
// A keyspace of `--rows` rows of 1 KiB flushed on node1; compaction throughput 1 MiB/s on node1; then, through
// node1's agent: StorageService.forceKeyspaceCompaction (a blocking call: the request is answered only when the
// major compaction ends), and 3 s later a `version` request, then CompactionManager.stopCompaction(MAJOR_COMPACTION).
// Printed: the idle `version` latency (median of 5), the `version` latency while the compaction runs, how long the
// stop took to be answered, how long the compaction request took in all after the stop was sent, and whether
// Cassandra logged "Compaction interrupted". With an agent serving one request at a time (the JVM agent's default,
// executor=single), the `version` request and the stop wait for the compaction to end; with executor=cached or
// fixed they are answered at once and the stop interrupts it. Prints figures; asserts nothing. Drops its keyspace.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { NODES } from '../test/sandbox/src/layout.js';
import { systemLog } from '../test/sandbox/src/cassandra-node.js';
import { cqlClient, env, nodetool } from '../test/support/sandbox-clients.js';
import { RUN } from '../test/support/tick-e2e.js';
import { benchArgs } from './args.js';

const { rows: ROWS } = benchArgs({ rows: 25_000 });
const KS = `bench_jolokia_blocking_${RUN}`;
const STORAGE_SERVICE = 'org.apache.cassandra.db:type=StorageService';
const COMPACTION_MANAGER = 'org.apache.cassandra.db:type=CompactionManager';

/** One request to node1's agent, waiting up to 5 minutes (the helper in test/support gives up after 30 s). */
async function jolokia<T>(_node: 1, request: object): Promise<{ status: number; value: T; error?: string }> {
  const response = await fetch(env.nodes[0]!.jolokiaUrl, {
    method: 'POST',
    body: JSON.stringify(request),
    signal: AbortSignal.timeout(300_000),
  });
  return (await response.json()) as { status: number; value: T; error?: string };
}

const timed = async <T>(call: () => Promise<T>) => {
  const start = performance.now();
  const value = await call();
  return { value, ms: performance.now() - start };
};

const client = cqlClient();
await client.connect();
try {
  await client.execute(`CREATE KEYSPACE ${KS} WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 2}`);
  await client.execute(`CREATE TABLE ${KS}.t (id int PRIMARY KEY, v text)`);
  const insert = `INSERT INTO ${KS}.t (id, v) VALUES (?, ?)`;
  for (let start = 0; start < ROWS; start += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, ROWS - start) }, (_, i) =>
        client.execute(insert, [start + i, randomBytes(768).toString('base64')], { prepare: true }),
      ),
    );
    // Several SSTables, so the major compaction has something to merge.
    if (start % 5000 === 0) await nodetool(1, ['flush', '--', KS]);
  }
  await nodetool(1, ['flush', '--', KS]);
  const logBefore = readFileSync(systemLog(NODES[0]!), 'utf8').length;
  const idle: number[] = [];
  for (let i = 0; i < 5; i++) idle.push((await timed(() => jolokia(1, { type: 'version' }))).ms);
  idle.sort((a, b) => a - b);
  await nodetool(1, ['setcompactionthroughput', '1']);
  const compaction = timed(() =>
    jolokia(1, {
      type: 'exec',
      mbean: STORAGE_SERVICE,
      operation: 'forceKeyspaceCompaction(boolean,java.lang.String,[Ljava.lang.String;)',
      arguments: [false, KS, []],
    }),
  );
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const during = await timed(() => jolokia(1, { type: 'version' }));
  const stopSentAt = performance.now();
  const stop = await timed(() =>
    jolokia(1, {
      type: 'exec',
      mbean: COMPACTION_MANAGER,
      operation: 'stopCompaction',
      arguments: ['MAJOR_COMPACTION'],
    }),
  );
  const done = await compaction;
  const afterStop = performance.now() - stopSentAt;
  const log = readFileSync(systemLog(NODES[0]!), 'utf8').slice(logBefore);
  const agent = (await jolokia<{ config?: Record<string, string> }>(1, { type: 'version' })).value.config ?? {};
  console.log(`agent executor: ${agent.executor ?? '(not reported)'}, threadNr ${agent.threadNr ?? '-'}`);
  console.log(`version, idle (median of 5):            ${idle[2]!.toFixed(0)} ms`);
  console.log(`version, during the compaction:         ${during.ms.toFixed(0)} ms`);
  console.log(`stopCompaction answered after:          ${stop.ms.toFixed(0)} ms`);
  console.log(`compaction request ended, after stop:   ${afterStop.toFixed(0)} ms (in all ${done.ms.toFixed(0)} ms)`);
  console.log(`ratio version during / idle:            ${(during.ms / idle[2]!).toFixed(1)}`);
  console.log(`"Compaction interrupted" in node1's log: ${/Compaction interrupted/.test(log) ? 'yes' : 'no'}`);
} finally {
  await nodetool(1, ['setcompactionthroughput', '64']);
  await client.execute(`DROP KEYSPACE IF EXISTS ${KS}`);
  await client.shutdown();
}
