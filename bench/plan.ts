// bench/plan: how long core.plan() takes, and how much memory it needs, on a large synthetic cluster.
//
//   npx tsx bench/plan.ts [--tables 1000] [--vnodes 256] [--baseline 100] [--mode streamed|entries] [--rows state]
//   npm run bench:plan
//
// Cluster: 3 nodes × 256 vnodes in one DC, RF 3 (every node replicates every range: the largest plan one node can
// have), 1,000 tables in 50 keyspaces, 30 days of history ≈ one million entries: every range of every table repaired
// once in the lookback, one in five ranges a second time, one in twenty with a failed attempt, and for one table in
// ten (subrange tables) a third of the vnodes repaired in four sub-ranges. Token strings are distinct per entry, as
// the driver hands them over. Targets (issue 4): under 1 s and under 300 MB.
//
// Two modes, each in its own process so peak RSS is its own (without --mode, both run, one after the other):
// - streamed: what the history adapter should do: fold each page of rows into a HistoryAccumulator as it is read,
//   then plan. Memory is bounded by the ring, not by history. Time = folding + planning.
// - entries: all rows held as RepairEntry arrays, then plan(): memory grows with history.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  buildRing,
  HistoryAccumulator,
  plan,
  splitRange,
  tableKey,
  type KeyspaceReplication,
  type PlanInput,
  type RepairEntry,
  type Ring,
  type TableHistory,
  type TableSettings,
} from '../src/core/index.js';
import { prng, syntheticNodes } from '../test/unit/core/synthetic.js';
import { benchArgs } from './args.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MB = 1024 * 1024;
const NOW = Date.UTC(2026, 10, 21, 12);
const TARGET_MS = 1000;
const TARGET_MB = 300;

// --mode is how the bench runs itself once per mode, in a fresh process each.
const args = benchArgs(
  { tables: 1000, vnodes: 256, baseline: 100 },
  { mode: undefined as string | undefined, rows: undefined as string | undefined },
);
for (const name of ['tables', 'vnodes', 'baseline'] as const) {
  if (!Number.isInteger(args[name])) throw new Error(`--${name} needs a positive integer`);
}
const { mode, tables: tableCount, vnodes, baseline: baselineCount } = args;
// --rows state: feed only the latest success per range (tend's proposed repair_state rows) instead of 30 days of rows.
const stateRows = args.rows === 'state';

function tableSettings(count: number): TableSettings[] {
  const tables: TableSettings[] = [];
  for (let i = 0; i < count; i++) {
    const subrange = i % 10 === 0;
    tables.push({
      keyspace: `ks${String(i % 50).padStart(2, '0')}`,
      table: `table${String(i).padStart(4, '0')}`,
      enabled: true,
      intervalMs: 7 * DAY,
      warnMs: 8 * DAY,
      errorMs: 10 * DAY,
      weight: 1 + (i % 3),
      repairType: subrange ? 'subrange' : 'vnode',
      parallelism: 'parallel',
      ...(subrange ? { sizeTargetBytes: 200 * MB } : {}),
    });
  }
  return tables;
}

function tableHistory(ring: Ring, settings: TableSettings, rand: () => number): RepairEntry[] {
  const entries: RepairEntry[] = [];
  // Each table was last repaired somewhere in the last 10 days; its ranges were done over a few hours.
  const lastRun = NOW - Math.floor(rand() * 10 * DAY);
  ring.ranges.forEach((range, i) => {
    const at = lastRun - Math.floor(rand() * 6 * HOUR);
    const entry = (start: bigint, end: bigint, finishedAt: number, status = 'SUCCESS'): RepairEntry => ({
      start: start.toString(),
      end: end.toString(),
      finishedAt,
      status,
    });
    entries.push(entry(range.start, range.end, at));
    const again = rand() < 0.2;
    const failed = rand() < 0.05;
    if (again && !stateRows) entries.push(entry(range.start, range.end, at - 7 * DAY));
    if (failed && !stateRows) entries.push(entry(range.start, range.end, at - HOUR, 'FAILED'));
    if (settings.repairType === 'subrange' && i % 3 === 0) {
      const subAt = at + Math.floor(rand() * 3 * DAY);
      for (const piece of splitRange(range, 4)) entries.push(entry(piece.start, piece.end, subAt));
    }
  });
  return entries;
}

interface Setup {
  readonly input: PlanInput;
  readonly entries: number;
  /** Time spent folding history (streamed mode only; in entries mode plan() folds). */
  readonly foldMs: number;
}

const PAGE_SIZE = 5000; // the driver's default fetchSize

function buildInput(count: number, streamed: boolean): Setup {
  const rand = prng(42);
  const nodes = syntheticNodes([{ name: 'dc1', nodes: 3, racks: 3 }], vnodes, 2026);
  const ring = buildRing(nodes);
  const tables = tableSettings(count);
  const history: Record<string, readonly RepairEntry[] | TableHistory> = {};
  const sizes: Record<string, { totalBytes: number }> = {};
  const keyspaces: Record<string, KeyspaceReplication> = {};
  let entries = 0;
  let foldMs = 0;
  for (const t of tables) {
    const key = tableKey(t.keyspace, t.table);
    const rows = tableHistory(ring, t, rand);
    entries += rows.length;
    if (streamed) {
      const accumulator = new HistoryAccumulator(ring);
      for (let from = 0; from < rows.length; from += PAGE_SIZE) {
        const page = rows.slice(from, from + PAGE_SIZE);
        const started = performance.now();
        accumulator.addAll(page);
        foldMs += performance.now() - started;
      }
      const started = performance.now();
      history[key] = accumulator.finish();
      foldMs += performance.now() - started;
    } else {
      history[key] = rows;
    }
    sizes[key] = { totalBytes: Math.floor(rand() * 50 * 1024 * MB) };
    keyspaces[t.keyspace] = { class: 'NetworkTopologyStrategy', datacenters: { dc1: 3 } };
  }
  const input: PlanInput = {
    now: NOW,
    localHostId: nodes[0]!.hostId,
    tables,
    topology: { nodes, keyspaces },
    ring,
    history,
    sizes,
    policies: { windows: [{ mode: 'block', days: ['sat'], start: '00:00', end: '06:00', timezone: 'Europe/Berlin' }] },
    limits: { maxTasks: 10, smallTableBytes: 100 * MB },
    historyLookbackMs: 30 * DAY,
  };
  return { input, entries, foldMs };
}

function bestOf(repeats: number, input: PlanInput): number {
  let best = Infinity;
  for (let i = 0; i < repeats; i++) {
    const started = performance.now();
    plan(input);
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

const rssMb = (): number => process.memoryUsage().rss / MB;
// Typed arrays (the folded history) live outside the JS heap: count them too.
const heapMb = (): number => {
  const usage = process.memoryUsage();
  return (usage.heapUsed + usage.arrayBuffers) / MB;
};
const maxRssMb = (): number => (process.resourceUsage().maxRSS * 1024) / MB;
const f = (n: number, digits = 1): string => n.toFixed(digits);

function runMode(streamed: boolean): void {
  const startRss = rssMb();
  // Baseline in the same process: a run with fewer tables, so the ratio shows how the cost scales with tables.
  const small = buildInput(baselineCount, streamed);
  const baselineMs = bestOf(1, small.input) && bestOf(5, small.input);
  const baselineTotal = small.foldMs + baselineMs;

  globalThis.gc?.();
  const heapBefore = heapMb();
  const setupStarted = performance.now();
  const { input, entries, foldMs } = buildInput(tableCount, streamed);
  const setupMs = performance.now() - setupStarted;
  globalThis.gc?.();
  const inputHeap = globalThis.gc ? `${f(heapMb() - heapBefore)} MB` : 'n/a (run node with --expose-gc)';
  const rssBeforePlan = maxRssMb();
  // A tick plans once per process: the first (cold) call is the figure that matters; warm calls for comparison.
  const coldStarted = performance.now();
  const result = plan(input);
  const coldMs = performance.now() - coldStarted;
  const warmMs = bestOf(3, input);
  const peakRss = maxRssMb();
  const totalMs = foldMs + coldMs;

  const name = streamed ? 'streamed (fold pages into HistoryAccumulator, then plan)' : 'entries (all rows in memory)';
  console.log(`tend bench/plan — ${name}`);
  console.log(
    `  cluster                ${tableCount} tables × 3 nodes × ${vnodes} vnodes, RF 3, node ${process.version}`,
  );
  const rows = stateRows ? 'latest success per range (repair_state rows)' : '30 days of history';
  console.log(
    `  history entries        ${entries.toLocaleString('en-US')}, ${rows} (generated in ${f(setupMs / 1000)} s)`,
  );
  if (streamed) console.log(`  fold history           ${f(foldMs)} ms`);
  console.log(`  plan, cold / warm      ${f(coldMs)} ms / ${f(warmMs)} ms`);
  console.log(
    `  planning time          ${f(totalMs)} ms${streamed ? ' (fold + cold plan)' : ' (cold plan, folding included)'}`,
  );
  console.log(`  heap held by input     ${inputHeap}`);
  console.log(
    `  peak RSS               ${f(peakRss)} MB (process start ${f(startRss)} MB incl. tsx, before planning ${f(rssBeforePlan)} MB)`,
  );
  console.log(`  plan                   ${result.summary.due} due jobs, ${result.tasks.length} tasks`);
  console.log(
    `  baseline               ${baselineCount} tables, ${small.entries.toLocaleString('en-US')} entries: ${f(baselineTotal)} ms`,
  );
  console.log(
    `  ratio                  ${f(totalMs / baselineTotal, 2)}× the time for ${f(tableCount / baselineCount, 0)}× the tables`,
  );
  console.log(
    `  targets                time ${totalMs < TARGET_MS ? 'OK' : 'MISSED'} (< ${TARGET_MS} ms), ` +
      `memory ${peakRss < TARGET_MB ? 'OK' : 'MISSED'} (< ${TARGET_MB} MB peak RSS)`,
  );
}

if (mode === 'streamed' || mode === 'entries') {
  runMode(mode === 'streamed');
} else {
  // One child process per mode: maxRSS only ever grows, so each mode needs its own process to be measured.
  const self = fileURLToPath(import.meta.url);
  for (const each of ['streamed', 'entries']) {
    const child = spawnSync(process.execPath, [...process.execArgv, self, ...process.argv.slice(2), '--mode', each], {
      stdio: 'inherit',
    });
    if (child.status !== 0) process.exit(child.status ?? 1);
  }
}
