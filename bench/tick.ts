// bench/tick: what `tend schedule tick` (the built bin, as the systemd timer runs it) costs, on the real sandbox.
//
//   npm run build && npm run bench:tick [-- --tables 100 --runs 5 --tasks 5 --executors jolokia,nodetool]
//   (`--tables 0` runs (b) only)
//
// (a) Idle tick: keyspace bench_tick_idle_<run> with 100 small tables, repaired once by a plain full
//     `nodetool repair` on node3 (dc2's only replica, so every range), one warm-up tick (folds that history into
//     repair_state), then `--runs` ticks with nothing due: median wall time and peak RSS (GNU time's %M).
//     Targets: < 1.5 s and < 150 MB.
// (b) Overhead per executor: a fresh keyspace with N small never-repaired tables, one tick with --max-tasks N;
//     ratio of the tick's wall time to the sum of Cassandra's own durations of the repairs it ran
//     (system_distributed.parent_repair_history, one row per repair command; repair_history sessions are
//     printed too). Target: Jolokia <= 1.10; nodetool measured (it starts a JVM per repair call). Also printed:
//     the same ratio from the first repair's start to the last one's end (the batch without the process's fixed
//     start and exit), and the executor's time alone. Where a task's time beyond Cassandra's goes, per task
//     (medians): from the task's start to its repair command's start in parent_repair_history, from the command's
//     end to the task's end, and between one task's end and the next one's start (record, lease); for an executor
//     that runs several commands per task (nodetool: one per range), the commands per task and their mean time.
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
  repairSessions,
  RUN,
  writeScopedConfig,
} from '../test/support/tick-e2e.js';
import { benchArgs } from './args.js';

const args = benchArgs({ tables: 100, runs: 5, tasks: 5 }, { executors: 'jolokia,nodetool' });
const EXECUTORS = args.executors.split(',') as ('jolokia' | 'nodetool')[];
const TABLES = args.tables;
const RUNS = args.runs;
const TASKS = args.tasks;
const TEND_KS = `tend_bench_tick_${RUN}`;
const IDLE_KS = `bench_tick_idle_${RUN}`;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Runs the built tick under GNU time: wall ms, peak RSS in MiB, and its JSON report. */
async function timedTick(config: string, args: string[] = []) {
  const started = process.hrtime.bigint();
  const result = await execa(
    '/usr/bin/time',
    ['-f', 'maxrss_kb=%M', 'node', BIN, '-c', config, '--json', 'schedule', 'tick', ...args],
    { reject: false, timeout: 30 * 60_000 },
  );
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const rss = /maxrss_kb=(\d+)/.exec(String(result.stderr));
  const report = JSON.parse(String(result.stdout)) as {
    result: string;
    summary: string;
    tasks: { tables: string[]; startedAt: number | null; finishedAt: number | null }[];
  };
  return { wallMs, rssMiB: rss ? Number(rss[1]) / 1024 : NaN, report, exitCode: result.exitCode };
}

/** Cassandra's own durations of the keyspace's repairs since `since`: commands (parents) and sessions. */
async function sessionDurations(client: cassandra.Client, keyspace: string, tables: string[], since: number) {
  const finished = <T extends { startedAt: number; finishedAt: number | null }>(rows: T[]) =>
    rows.flatMap((r) => (r.finishedAt === null ? [] : [r.finishedAt - r.startedAt]));
  const rows = await parentRepairs(client, keyspace, since - 2000);
  const parents = finished(rows);
  const sessions: number[] = [];
  for (const table of tables) sessions.push(...finished(await repairSessions(client, keyspace, table, since - 2000)));
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  return {
    parentMs: sum(parents),
    parentCount: parents.length,
    sessionMs: sum(sessions),
    sessionCount: sessions.length,
    rows,
  };
}

/**
 * Per task of a one-table-per-task tick, matched to its repair command by table (medians, ms): before Cassandra's
 * command starts, after it ends, and the gap from a task's end to the next task's start.
 */
function breakdown(
  tasks: { tables: string[]; startedAt: number | null; finishedAt: number | null }[],
  parents: { tables: string[]; startedAt: number; finishedAt: number | null }[],
) {
  const before: number[] = [];
  const after: number[] = [];
  const gaps: number[] = [];
  const ran = tasks.filter((t) => t.startedAt !== null && t.finishedAt !== null);
  for (const [i, task] of ran.entries()) {
    const parent = parents.find(
      (p) =>
        p.finishedAt !== null &&
        p.tables.join(',') === [...task.tables].sort().join(',') &&
        p.startedAt >= task.startedAt! - 1000 &&
        p.startedAt <= task.finishedAt!,
    );
    if (parent) {
      before.push(parent.startedAt - task.startedAt!);
      after.push(task.finishedAt! - parent.finishedAt!);
    }
    const next = ran[i + 1];
    if (next) gaps.push(next.startedAt! - task.finishedAt!);
  }
  const med = (values: number[]) => (values.length ? Math.round(median(values)) : NaN);
  return { matched: before.length, before: med(before), after: med(after), gap: med(gaps) };
}

const dir = mkdtempSync(join(tmpdir(), 'tend-bench-tick-'));
const client = cqlClient();
await client.connect();
const created: string[] = [TEND_KS, IDLE_KS];
try {
  await createTendKeyspace(client, TEND_KS);

  // (a) Idle tick over TABLES tables (`--tables 0` skips it).
  if (TABLES > 0) {
    console.log(`(a) creating ${TABLES} tables in ${IDLE_KS} …`);
    await createSmallKeyspace(
      client,
      IDLE_KS,
      { dc1: 2, dc2: 1 },
      Array.from({ length: TABLES }, (_, i) => `t${String(i).padStart(3, '0')}`),
      1,
    );
    const repaired = await nodetool(3, ['repair', '-full', IDLE_KS], 30 * 60_000);
    if (repaired.exitCode !== 0) throw new Error(`nodetool repair failed: ${repaired.stdout}${repaired.stderr}`);
    const idleConfig = writeScopedConfig(dir, nodeByName('node1'), {
      tendKeyspace: TEND_KS,
      keyspaces: [IDLE_KS],
      executor: 'jolokia',
    });
    const warm = await timedTick(idleConfig);
    console.log(`    warm-up tick: ${warm.report.result} (${Math.round(warm.wallMs)} ms): ${warm.report.summary}`);
    const runs = [];
    for (let i = 0; i < RUNS; i++) {
      const run = await timedTick(idleConfig);
      if (run.report.result !== 'nothing_due')
        console.log(`    run ${i + 1}: ${run.report.result}: ${run.report.summary}`);
      runs.push(run);
    }
    const walls = runs.map((r) => r.wallMs);
    const rss = runs.map((r) => r.rssMiB);
    console.log(
      `(a) idle tick over ${TABLES} tables, ${RUNS} runs: wall median ${Math.round(median(walls))} ms ` +
        `(min ${Math.round(Math.min(...walls))}, max ${Math.round(Math.max(...walls))}); ` +
        `peak RSS median ${median(rss).toFixed(1)} MiB (max ${Math.max(...rss).toFixed(1)}). Targets < 1500 ms, < 150 MB`,
    );
    // The same reads as an idle tick (schedule plan plans from the summaries exactly as the tick does).
    const planned = await execa('node', [BIN, '-c', idleConfig, '--json', 'schedule', 'plan'], { reject: false });
    const rows = (JSON.parse(String(planned.stdout)) as { rowsRead: Record<string, number> }).rowsRead;
    const perTable = Object.entries(rows)
      .filter(([source]) => source !== 'total')
      .map(([source, count]) => `${source} ${count}`)
      .join(', ');
    console.log(
      `    rows an idle plan reads: ${rows.total} (${perTable}); per table ${(rows.total! / TABLES).toFixed(2)}, ` +
        `of which the cluster's topology (nodes, keyspaces, every table of the schema, system ones included) ${rows.topology}. Target ≤ 3 per table`,
    );
  }

  // (b) Tick wall time vs Cassandra's own repair durations, per executor.
  for (const executor of EXECUTORS) {
    const keyspace = `bench_tick_${executor}_${RUN}`;
    created.push(keyspace);
    const tables = Array.from({ length: TASKS }, (_, i) => `s${i}`);
    await createSmallKeyspace(client, keyspace, { dc1: 2, dc2: 1 }, tables, 5);
    const config = writeScopedConfig(dir, nodeByName('node1'), {
      tendKeyspace: TEND_KS,
      keyspaces: [keyspace],
      executor,
      schedule: { maxTasks: TASKS },
    });
    const since = Date.now();
    const run = await timedTick(config, ['--max-tasks', String(TASKS)]);
    // Cassandra records a command in parent_repair_history before it reports the command complete.
    const started = run.report.tasks.filter((t) => t.startedAt !== null).length;
    const d = await sessionDurations(client, keyspace, tables, since);
    if (d.parentCount < started)
      console.log(`    (only ${d.parentCount} finished repair commands for ${started} tasks)`);
    const taskMs = run.report.tasks.reduce(
      (sum, t) => sum + (t.startedAt !== null && t.finishedAt !== null ? t.finishedAt - t.startedAt : 0),
      0,
    );
    // The batch in steady state: from the first repair's start to the last one's end, so per-task costs between
    // repairs (record, lease checks) count and the process start, connect, plan and exit do not.
    const ran = run.report.tasks.filter((t) => t.startedAt !== null && t.finishedAt !== null);
    const batchMs = ran.length
      ? Math.max(...ran.map((t) => t.finishedAt!)) - Math.min(...ran.map((t) => t.startedAt!))
      : 0;
    console.log(
      `(b) ${executor}: tick ${run.report.result} with ${run.report.tasks.length} task(s), wall ${Math.round(run.wallMs)} ms, ` +
        `of which the tasks (executor run, lease excluded) ${taskMs} ms; Cassandra: ${d.parentCount} repair command(s) ` +
        `totalling ${d.parentMs} ms (${d.sessionCount} sessions in repair_history totalling ${d.sessionMs} ms)\n` +
        `    ratio tick wall / Cassandra commands = ${(run.wallMs / Math.max(d.parentMs, 1)).toFixed(2)}; ` +
        `first repair start to last repair end / Cassandra commands = ${(batchMs / Math.max(d.parentMs, 1)).toFixed(2)}; ` +
        `task time / Cassandra commands = ${(taskMs / Math.max(d.parentMs, 1)).toFixed(2)}; ` +
        `outside the tasks (wall - task time) = ${Math.round(run.wallMs - taskMs)} ms, of which before the first ` +
        `repair or after the last ${Math.round(run.wallMs - batchMs)} ms`,
    );
    if (d.parentCount > ran.length) {
      // nodetool takes one -st/-et pair: a task of R ranges is R commands, each a JVM of its own.
      console.log(
        `    ${d.parentCount} repair commands for ${ran.length} task(s): ${(d.parentCount / Math.max(ran.length, 1)).toFixed(1)} per task, ` +
          `mean ${Math.round(taskMs / Math.max(d.parentCount, 1))} ms of task time per command against Cassandra's ` +
          `${Math.round(d.parentMs / Math.max(d.parentCount, 1))} ms`,
      );
      continue;
    }
    const split = breakdown(run.report.tasks, d.rows);
    console.log(
      `    per task (medians over ${split.matched} matched): task start → Cassandra's command start ${split.before} ms; ` +
        `command end → task end ${split.after} ms; task end → next task start ${split.gap} ms ` +
        `(clocks: tend's and Cassandra's, same machine)`,
    );
  }
} finally {
  for (const keyspace of created) await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
  await client.shutdown();
  rmSync(dir, { recursive: true, force: true });
}
