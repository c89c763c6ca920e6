// bench/task-started: what recording a task's start (STARTED, before its repair) costs, on the sandbox.
//
//   npx tsx bench/task-started.ts [--rounds 30]        (needs the sandbox: npm run sandbox -- up)
//
// The start is written before the repair is sent, so its latency is added to every task. Measured, in the same
// run and against the same node: the design in use (one row per table of the task, written concurrently) for a
// one-table task and for a grouped command over 40 tables of 48 ranges; and, as the baseline it replaced, one row
// per table and range (1,920 rows for that command, in single-partition batches of 50, as the outcome is written).
// Prints rows written and median / p90 wall time per task, and the ratio to the baseline.
import { performance } from 'node:perf_hooks';
import cassandra from 'cassandra-driver';
import { recordTaskOutcome, recordTaskStarted, type TaskStart } from '../src/history/tend-history.js';
import { createTendKeyspace } from '../test/support/tick-e2e.js';
import { cqlClient } from '../test/support/sandbox-clients.js';

const roundsArg = process.argv.indexOf('--rounds');
const ROUNDS = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 30;
const WARMUP = 3;
const TEND_KS = `tend_bench_started_${Date.now().toString(36)}`;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))]!;
}

function task(tables: number, ranges: number): TaskStart {
  const step = 2n ** 64n / BigInt(ranges);
  return {
    keyspace: 'bench_ks',
    tables: Array.from({ length: tables }, (_, i) => `t${i}`),
    ranges: Array.from({ length: ranges }, (_, i) => ({
      start: String(-(2n ** 63n) + step * BigInt(i)),
      end: String(-(2n ** 63n) + step * BigInt(i + 1)),
    })),
    startedAt: Date.now(),
    coordinator: 'bench',
    participants: ['127.0.0.1', '127.0.0.2', '127.0.0.3'],
    repairType: 'vnode',
    parallelism: 'parallel',
    taskId: 'bench#0',
  };
}

async function measure(label: string, rows: number, write: () => Promise<unknown>): Promise<number> {
  const timings: number[] = [];
  for (let round = 0; round < ROUNDS + WARMUP; round += 1) {
    const t = performance.now();
    await write();
    if (round >= WARMUP) timings.push(performance.now() - t);
  }
  const median = percentile(timings, 0.5);
  console.log(
    `  ${label.padEnd(58)} ${String(rows).padStart(5)} rows  ${median.toFixed(1).padStart(7)} ms (p90 ${percentile(timings, 0.9).toFixed(1)})`,
  );
  return median;
}

async function main(): Promise<void> {
  console.log(`tend bench/task-started — median over ${ROUNDS} tasks (after ${WARMUP} warm-up), node1, one writer`);
  const client: cassandra.Client = cqlClient();
  await client.connect();
  try {
    await createTendKeyspace(client, TEND_KS);
    const one = task(1, 1);
    const grouped = task(40, 48);
    const at = () => Date.now();
    const single = await measure('STARTED, one table, one range (a range task)', 1, () =>
      recordTaskStarted(client, TEND_KS, { ...one, startedAt: at() }),
    );
    const perTable = await measure('STARTED, one row per table: 40 tables × 48 ranges', 40, () =>
      recordTaskStarted(client, TEND_KS, { ...grouped, startedAt: at() }),
    );
    // The replaced design wrote what an outcome writes to repair_history: every table × range.
    const perRange = await measure('baseline: one row per table and range, 40 × 48', 40 * 48, () =>
      recordTaskOutcome(client, TEND_KS, { ...grouped, startedAt: at(), status: 'FAILED', finishedAt: at() }),
    );
    console.log(
      `  one row per table / one per range (40 × 48): ${(perTable / perRange).toFixed(3)} of the time; one-table task ${single.toFixed(1)} ms`,
    );
  } finally {
    await client.execute(`DROP KEYSPACE IF EXISTS ${TEND_KS}`).catch(() => undefined);
    await client.shutdown();
  }
}

await main();
