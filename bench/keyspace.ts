// bench/keyspace: a keyspace of small never-repaired tables repaired through tend's timers, against one plain
// `nodetool repair -full KEYSPACE` of an identical keyspace, in the same run, on the real sandbox.
//
//   npm run build && npm run bench:keyspace [-- --tables 40 --runs 3 --executors jolokia,nodetool]
//
// Each run, per executor: two identical keyspaces (replication dc1: 2, dc2: 1, so every node holds every range) of
// `--tables` tables with one row each.
// - Baseline: `nodetool repair -full KS_REF` on node3 (dc2's only node: it holds every range), wall time of the
//   nodetool process, JVM start included, as an operator would run it.
// - tend: the three nodes' ticks as their timers would run them, one after the other (node1, node2, node3, node1,
//   …; the timers fire minutes apart with a random delay), each the built bin with a scoped configuration and
//   shipped defaults for batching (smallTableSize 1GiB, tablesPerCommand 64, maxTasks 10). Measured: the wall time
//   of the ticks up to the end of the last tick that ran a repair (the keyspace is repaired then); and, for
//   completeness, the ticks after it until each node has said nothing_due once (the cost of noticing).
// Checked from Cassandra's own history (parent_repair_history) after each side: every table's every range repaired
// (ranges of the keyspace's successful parents), and how many repair commands each side ran.
// Target (issue 14): tend ÷ nodetool ≤ 1.5 (it was 5.2 with one command per table).
//
// Prints figures; asserts nothing. Drops its keyspaces at the end.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type cassandra from 'cassandra-driver';
import { cqlClient, nodetool } from '../test/support/sandbox-clients.js';
import {
  BIN,
  createSmallKeyspace,
  createTendKeyspace,
  nodeByName,
  parentRepairs,
  RUN,
  writeScopedConfig,
} from '../test/support/tick-e2e.js';
import { NODES } from '../test/sandbox/src/layout.js';
import { benchArgs } from './args.js';

const args = benchArgs({ tables: 40, runs: 1 }, { executors: 'jolokia,nodetool' });
const EXECUTORS = args.executors.split(',') as ('jolokia' | 'nodetool')[];
const TABLES = args.tables;
const RUNS = args.runs;
const REPLICATION = { dc1: 2, dc2: 1 };
const MAX_TICKS = 30;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

interface TickRun {
  node: string;
  wallMs: number;
  result: string;
  tasks: number;
}

async function runTick(config: string, node: string): Promise<TickRun> {
  const started = process.hrtime.bigint();
  const result = await execa('node', [BIN, '-c', config, '--json', 'schedule', 'tick'], {
    reject: false,
    timeout: 10 * 60_000,
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  let report: { result: string; tasks: { startedAt: number | null }[] };
  try {
    report = JSON.parse(String(result.stdout)) as typeof report;
  } catch {
    throw new Error(`tick on ${node} exited ${result.exitCode} without a report: ${result.stderr}`);
  }
  return { node, wallMs, result: report.result, tasks: report.tasks.filter((t) => t.startedAt !== null).length };
}

/** Repair commands Cassandra ran on `keyspace` since `since`, and whether they covered every table's ranges. */
async function coverage(client: cassandra.Client, keyspace: string, tables: string[], since: number) {
  const parents = (await parentRepairs(client, keyspace, since - 2000)).filter((p) => p.finishedAt !== null);
  const ranges = new Map(tables.map((t) => [t, new Set<string>()]));
  for (const parent of parents) {
    for (const table of parent.tables) for (const range of parent.successfulRanges) ranges.get(table)?.add(range);
  }
  const counts = [...ranges.values()].map((set) => set.size);
  return { commands: parents.length, minRanges: Math.min(...counts), maxRanges: Math.max(...counts) };
}

const dir = mkdtempSync(join(tmpdir(), 'tend-bench-keyspace-'));
const client = cqlClient();
await client.connect();
const created: string[] = [];
const tables = Array.from({ length: TABLES }, (_, i) => `t${String(i).padStart(3, '0')}`);
const ratios: Record<string, number[]> = {};
try {
  for (let run = 1; run <= RUNS; run++) {
    for (const executor of EXECUTORS) {
      const suffix = `${executor.slice(0, 4)}_${RUN}_${run}`;
      const tendKs = `tend_bench_ks_${suffix}`;
      const keyspace = `bench_ks_${suffix}`;
      const reference = `bench_ks_ref_${suffix}`;
      created.push(tendKs, keyspace, reference);
      await createTendKeyspace(client, tendKs);
      await createSmallKeyspace(client, keyspace, REPLICATION, tables, 1);
      await createSmallKeyspace(client, reference, REPLICATION, tables, 1);

      const baselineStart = Date.now();
      const base = await nodetool(3, ['repair', '-full', reference], 30 * 60_000);
      const baselineMs = Date.now() - baselineStart;
      if (base.exitCode !== 0) throw new Error(`nodetool repair failed: ${base.stdout}${base.stderr}`);
      const baseCoverage = await coverage(client, reference, tables, baselineStart);

      const configs = NODES.map((node) => ({
        node: node.name,
        config: writeScopedConfig(join(dir, suffix), nodeByName(node.name), {
          tendKeyspace: tendKs,
          keyspaces: [keyspace],
          executor,
          schedule: { maxTasks: 10, maxDuration: '10m' },
        }),
      }));
      const tendStart = Date.now();
      const ticks: TickRun[] = [];
      const idleSince = new Set<string>();
      for (let i = 0; i < MAX_TICKS && idleSince.size < configs.length; i++) {
        const { node, config } = configs[i % configs.length]!;
        const tick = await runTick(config, node);
        ticks.push(tick);
        if (tick.tasks > 0) idleSince.clear();
        else if (tick.result === 'nothing_due') idleSince.add(node);
      }
      const lastWorking = ticks.map((t) => t.tasks > 0).lastIndexOf(true);
      const repairMs = ticks.slice(0, lastWorking + 1).reduce((sum, t) => sum + t.wallMs, 0);
      const noticeMs = ticks.slice(lastWorking + 1).reduce((sum, t) => sum + t.wallMs, 0);
      const tendCoverage = await coverage(client, keyspace, tables, tendStart);
      const ratio = repairMs / baselineMs;
      (ratios[executor] ??= []).push(ratio);
      console.log(
        `run ${run}, ${executor}: ${TABLES} tables; nodetool repair -full: ${seconds(baselineMs)}, ` +
          `${baseCoverage.commands} command(s), ranges per table ${baseCoverage.minRanges}–${baseCoverage.maxRanges}`,
      );
      console.log(
        `    tend: repaired after ${lastWorking + 1} tick(s) in ${seconds(repairMs)} ` +
          `(${ticks
            .slice(0, lastWorking + 1)
            .map((t) => `${t.node} ${t.result} ${t.tasks} task(s) ${seconds(t.wallMs)}`)
            .join('; ')}), ` +
          `${tendCoverage.commands} command(s), ranges per table ${tendCoverage.minRanges}–${tendCoverage.maxRanges}; ` +
          `then ${ticks.length - lastWorking - 1} tick(s) until every node said nothing_due: ${seconds(noticeMs)}`,
      );
      console.log(`    ratio tend ÷ nodetool = ${ratio.toFixed(2)} (target ≤ 1.5)`);
    }
  }
  for (const [executor, values] of Object.entries(ratios)) {
    console.log(
      `${executor}: median ratio ${median(values).toFixed(2)} over ${values.length} run(s) (${values.map((v) => v.toFixed(2)).join(', ')})`,
    );
  }
} finally {
  for (const keyspace of created) await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
  await client.shutdown();
  rmSync(dir, { recursive: true, force: true });
}
