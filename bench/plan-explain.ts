// bench/plan-explain: what `schedule plan --explain`'s replica checks cost, on the sandbox, against plain `schedule
// plan` in the same run.
//
//   npm run build && npx tsx bench/plan-explain.ts [--rounds 10] [--tables 12] [--maxTasks 10]
//   (needs the sandbox: npm run sandbox -- up; set TEND_SANDBOX_INSTANCE for another instance)
//
// --explain runs, for each planned task, the checks the tick runs before a task: each replica's system_views repair
// tables, and with back-pressure on (the default) its load through Jolokia. Measured: the wall time of the built
// command (a process per run, as an operator runs it), alternating with and without --explain so both see the same
// machine; and the checks' own time as the command reports it (startChecksMs). Prints medians, p90 and the ratio.
import { performance } from 'node:perf_hooks';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { benchArgs } from './args.js';
import { cqlClient } from '../test/support/sandbox-clients.js';
import {
  BIN,
  createSmallKeyspace,
  createTendKeyspace,
  nodeByName,
  writeScopedConfig,
} from '../test/support/tick-e2e.js';

const { rounds, tables, maxTasks } = benchArgs({ rounds: 10, tables: 12, maxTasks: 10 });
const SUFFIX = Date.now().toString(36);
const TEND_KS = `tend_bench_explain_${SUFFIX}`;
const KS = `bench_explain_${SUFFIX}`;

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))]!;
}

async function main(): Promise<void> {
  const client = cqlClient();
  await client.connect();
  const dir = mkdtempSync(join(tmpdir(), 'tend-bench-explain-'));
  try {
    await createTendKeyspace(client, TEND_KS);
    const names = Array.from({ length: tables }, (_, i) => `t${i}`);
    await createSmallKeyspace(client, KS, { dc1: 2, dc2: 1 }, names, 5);
    const config = writeScopedConfig(dir, nodeByName('node1'), {
      tendKeyspace: TEND_KS,
      keyspaces: [KS],
      executor: 'jolokia',
      // A command per table: as many tasks as the batch allows, each checked on its own.
      repair: { tablesPerCommand: 1 },
      schedule: { maxTasks },
    });
    const run = async (explain: boolean) => {
      const started = performance.now();
      const result = await execa(
        'node',
        [BIN, '-c', config, '--json', 'schedule', 'plan', ...(explain ? ['--explain'] : [])],
        { reject: false },
      );
      const ms = performance.now() - started;
      if (result.exitCode !== 0) throw new Error(`schedule plan failed: ${String(result.stderr)}`);
      const document = JSON.parse(String(result.stdout)) as { tasks: unknown[]; startChecksMs?: number };
      return { ms, tasks: document.tasks.length, checksMs: document.startChecksMs };
    };
    await run(false);
    await run(true);
    const plain: number[] = [];
    const explained: number[] = [];
    const checks: number[] = [];
    let tasks = 0;
    for (let round = 0; round < rounds; round++) {
      plain.push((await run(false)).ms);
      const e = await run(true);
      explained.push(e.ms);
      checks.push(e.checksMs ?? NaN);
      tasks = e.tasks;
    }
    const line = (label: string, values: number[]) =>
      console.log(
        `  ${label.padEnd(44)} median ${percentile(values, 0.5).toFixed(0).padStart(6)} ms  p90 ${percentile(values, 0.9).toFixed(0).padStart(6)} ms`,
      );
    console.log(
      `tend bench/plan-explain — ${rounds} rounds (after a warm-up), node1, ${tables} tables, ${tasks} planned task(s)`,
    );
    line('schedule plan (wall, a process per run)', plain);
    line('schedule plan --explain (wall)', explained);
    line('  of which the replica checks (startChecksMs)', checks);
    console.log(
      `  ratio --explain / plain (medians): ${(percentile(explained, 0.5) / percentile(plain, 0.5)).toFixed(2)}; checks per task: ${(percentile(checks, 0.5) / Math.max(1, tasks)).toFixed(0)} ms`,
    );
  } finally {
    for (const keyspace of [KS, TEND_KS]) await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => {});
    await client.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
