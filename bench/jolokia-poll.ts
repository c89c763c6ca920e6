// bench/jolokia-poll: what the Jolokia executor adds to a repair beyond Cassandra's own time, per poll schedule,
// on the real sandbox.
//
//   npm run bench:jolokia-poll [-- --repairs 20]
//
// A keyspace with small tables ({dc1: 2, dc2: 1}, so every range is on all three nodes); `--repairs` whole-table
// full repairs from node1 per schedule, the schedules interleaved (A, B, A, B, …) so that load on the machine hits
// both alike. For each repair: the executor's time (repairAsync until it reports COMPLETED) minus the duration
// Cassandra recorded for that parent session in system_distributed.parent_repair_history. Printed per schedule:
// median and mean of that overhead, where it falls (before Cassandra's session starts, after it ends), and the
// ratio executor time / Cassandra time.
//   A (baseline) = the previous schedule: 10 ms, ×1.25 per poll from the start, at most 2 s.
//   B (current)  = JolokiaExecutor's defaults: 5 ms for the first second, then ×1.25, at most 2 s.
// Prints figures; asserts nothing. Drops its keyspace at the end.
import type cassandra from 'cassandra-driver';
import { JolokiaClient } from '../src/repair/jolokia-client.js';
import { JolokiaExecutor, type JolokiaExecutorOptions } from '../src/repair/jolokia-executor.js';
import type { RepairOutcome, RepairRequest } from '../src/repair/executor.js';
import { cqlClient, env } from '../test/support/sandbox-clients.js';
import { createSmallKeyspace, parentRepairs, RUN } from '../test/support/tick-e2e.js';
import { benchArgs } from './args.js';

const { repairs: REPAIRS } = benchArgs({ repairs: 20 });
const KS = `bench_jolokia_poll_${RUN}`;
const TABLES = ['p0', 'p1', 'p2', 'p3'];

const SCHEDULES: { name: string; options: Partial<JolokiaExecutorOptions> }[] = [
  { name: 'A baseline (10 ms ×1.25 from the start)', options: { pollMinMs: 10, pollFastForMs: 0 } },
  { name: 'B current (5 ms for 1 s, then ×1.25)', options: {} },
];

interface Sample {
  schedule: number;
  outcome: RepairOutcome;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/** parent_repair_history rows of the keyspace: [started, finished] in ms. */
async function parents(client: cassandra.Client): Promise<{ start: number; end: number }[]> {
  return (await parentRepairs(client, KS)).flatMap((p) =>
    p.finishedAt === null ? [] : [{ start: p.startedAt, end: p.finishedAt }],
  );
}

const client = cqlClient();
await client.connect();
try {
  await createSmallKeyspace(client, KS, { dc1: 2, dc2: 1 }, TABLES, 5);
  const jolokia = new JolokiaClient({ url: env.nodes[0]!.jolokiaUrl, requestTimeoutMs: 10_000 });
  const executors = SCHEDULES.map((s) => new JolokiaExecutor({ client: jolokia, ...s.options }));
  const samples: Sample[] = [];
  for (let i = 0; i < REPAIRS * SCHEDULES.length; i++) {
    const schedule = i % SCHEDULES.length;
    const table = TABLES[Math.floor(i / SCHEDULES.length) % TABLES.length]!;
    const request: RepairRequest = {
      id: `${KS}.${table}#${i}`,
      keyspace: KS,
      tables: [table],
      scope: 'table',
      ranges: [],
      replicaAddresses: env.nodes.map((n) => n.address),
      incremental: false,
      parallelism: 'parallel',
    };
    const outcome = await executors[schedule]!.run(request, { timeoutMs: 120_000 });
    if (outcome.status !== 'success') throw new Error(`repair ${request.id}: ${outcome.status}: ${outcome.message}`);
    samples.push({ schedule, outcome });
  }
  // Cassandra writes parent_repair_history as the repair ends: give the last one a moment.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const recorded = await parents(client);
  console.log(`${REPAIRS} whole-table full repairs per schedule from node1 (${KS}), interleaved:`);
  for (const [i, schedule] of SCHEDULES.entries()) {
    const overheads: number[] = [];
    const before: number[] = [];
    const after: number[] = [];
    let executorMs = 0;
    let cassandraMs = 0;
    for (const { outcome } of samples.filter((s) => s.schedule === i)) {
      // Sequential repairs: the parent session that started inside this executor run is this run's.
      const parent = recorded.find((p) => p.start >= outcome.startedAt - 50 && p.start <= outcome.finishedAt);
      if (!parent) throw new Error(`no parent_repair_history row for ${outcome.taskId}`);
      const took = outcome.finishedAt - outcome.startedAt;
      overheads.push(took - (parent.end - parent.start));
      before.push(parent.start - outcome.startedAt);
      after.push(outcome.finishedAt - parent.end);
      executorMs += took;
      cassandraMs += parent.end - parent.start;
    }
    console.log(
      `  ${schedule.name}: overhead per repair median ${median(overheads)} ms, mean ${mean(overheads).toFixed(1)} ms; ` +
        `executor ${executorMs} ms / Cassandra ${cassandraMs} ms = ${(executorMs / cassandraMs).toFixed(3)} ` +
        `(Cassandra mean ${(cassandraMs / overheads.length).toFixed(0)} ms per repair); median ${median(before)} ms ` +
        `from our start to the session's start, ${median(after)} ms from its end to our verdict`,
    );
  }
} finally {
  await client.execute(`DROP KEYSPACE IF EXISTS ${KS}`).catch(() => undefined);
  await client.shutdown();
}
