/**
 * The metrics one tick publishes: `tend.prom` in node_exporter's textfile directory (metrics.textfileDirectory),
 * rewritten atomically at the end of every tick.
 *
 * Each tick is a separate short process, so nothing stays in memory between ticks. Two kinds of series follow:
 * - gauges describing the cluster as this tick saw it (per table: last repaired, repaired ratio, state, alarm) and
 *   the tick itself (`tend_tick_*`, which describe only the last tick);
 * - counters (`*_total`) that accumulate over ticks. They are carried from one tick to the next by reading the
 *   previous file before it is replaced, so `increase(tend_tasks_total[1d])` works; deleting the file resets them,
 *   which Prometheus treats as an ordinary counter reset.
 *
 * Metric reference (also in tend(8), section METRICS):
 *   tend_info{node,datacenter,version}                              1
 *   tend_table_last_repaired_timestamp_seconds{keyspace,table}      oldest local range's last repair; 0 = some range
 *                                                                   has no repair in the history read
 *   tend_table_repaired_ratio{keyspace,table}                       local ranges repaired within the interval / all
 *   tend_table_next_due_timestamp_seconds{keyspace,table}
 *   tend_table_state{keyspace,table,state}                          1 for the current state (ON_TIME, LATE, OVERDUE,
 *                                                                   BLOCKED), 0 for the others
 *   tend_table_alarm_level{keyspace,table}                          0 none, 1 warn, 2 error
 *   tend_alarm_tables{level}                                        tables past the warn / error alarm
 *   tend_tick_timestamp_seconds, tend_tick_duration_seconds         when the last tick started, how long it took
 *   tend_tick_result{result}                                        1 for what the last tick did, 0 for the rest
 *   tend_tick_tasks{outcome}, tend_tasks_total{outcome}             tasks by outcome: last tick / all ticks
 *                                                                   (replica_down, repair_running, back_pressure:
 *                                                                   held back by a replica before they started)
 *   tend_tick_lease_outcomes{outcome}, tend_lease_outcomes_total{outcome}
 *   tend_node_coverage_instances{node,datacenter}                   live instances claiming the node (coverage record):
 *                                                                   0 uncovered, 2+ claimed twice
 *   tend_uncovered_nodes                                            nodes of the ring no live instance covers
 */
import { join } from 'node:path';
import { Counter, Gauge, Registry } from 'prom-client';
import { readTextfile, writeTextfileAtomically, type Sample } from './textfile.js';

export const TEXTFILE_NAME = 'tend.prom';

export const TABLE_STATES = ['ON_TIME', 'LATE', 'OVERDUE', 'BLOCKED'] as const;
export const ALARM_LEVELS = { none: 0, warn: 1, error: 2 } as const;
/**
 * Outcomes always published (as 0 when none happened) so alert rules never meet a missing series. Planned tasks
 * not started because of a replica: `replica_down` (it went down during the batch: a repair failed naming a dead
 * endpoint, and a second look found the replica down), `repair_running` (a replica already runs a repair: an
 * orphan, an operator's, another tool's), `back_pressure` (a replica past a repair.backPressure limit).
 */
export const TASK_OUTCOMES = [
  'success',
  'failed',
  'timed_out',
  'aborted',
  'replica_down',
  'repair_running',
  'back_pressure',
] as const;
/** `kept`: a task that ran under the leases of the task before it (same leases, nobody outranking it). */
export const LEASE_OUTCOMES = ['acquired', 'kept', 'held_elsewhere', 'lost', 'error'] as const;
export const TICK_RESULTS = [
  'ran',
  'nothing_due',
  'outside_window',
  'paused',
  'lease_held_elsewhere',
  'failed',
  'interrupted',
  'job_step',
] as const;

/** What a table contributes; `Plan['jobs']` entries (src/core TableJob) fit as they are. */
export interface TableMetricsInput {
  readonly keyspace: string;
  readonly table: string;
  readonly state: string;
  readonly alarm: 'none' | 'warn' | 'error';
  /** Epoch ms; null when some range has no successful repair in the history read. */
  readonly lastRepairedAt: number | null;
  readonly nextDueAt: number;
  readonly rangesTotal: number;
  readonly rangesBehind: number;
}

export interface TickMetricsData {
  /** When the tick started (epoch ms, Cassandra's clock when known). */
  readonly startedAt: number;
  readonly durationMs: number;
  /** What the tick did (one of TICK_RESULTS, or another word). */
  readonly result?: string;
  /**
   * Every table job as it stands after the tick's batch (the plan plus what the batch repaired); omit (undefined)
   * when the tick never got as far as planning.
   */
  readonly jobs?: readonly TableMetricsInput[];
  /** Tasks this tick by outcome (success, failed, timed_out, aborted, …). */
  readonly tasks?: Readonly<Record<string, number>>;
  /** Lease attempts this tick by outcome (acquired, held_elsewhere, lost, error, …). */
  readonly leases?: Readonly<Record<string, number>>;
  readonly node?: { readonly name?: string; readonly datacenter?: string; readonly version?: string };
  /**
   * Every node of the ring with the live instances claiming it (the coverage record, src/core/coverage.ts); empty
   * when nothing is recorded yet; omit (undefined) when the tick could not read the record.
   */
  readonly coverage?: readonly {
    readonly address: string;
    readonly datacenter: string;
    readonly coveredBy: readonly unknown[];
  }[];
}

/** Local ranges repaired within the interval, over all local ranges (1 when the node has none). */
export function repairedRatio(job: Pick<TableMetricsInput, 'rangesTotal' | 'rangesBehind'>): number {
  if (job.rangesTotal <= 0) return 1;
  return Math.max(0, job.rangesTotal - job.rangesBehind) / job.rangesTotal;
}

function withDefaults(known: readonly string[], values: Readonly<Record<string, number>> | undefined) {
  const out = new Map<string, number>(known.map((key) => [key, 0]));
  for (const [key, value] of Object.entries(values ?? {})) out.set(key, (out.get(key) ?? 0) + value);
  return out;
}

function previousTotals(previous: readonly Sample[], name: string): Map<string, number> {
  const totals = new Map<string, number>();
  for (const sample of previous) {
    const outcome = sample.labels.outcome;
    if (sample.name === name && outcome !== undefined && Number.isFinite(sample.value) && sample.value >= 0) {
      totals.set(outcome, sample.value);
    }
  }
  return totals;
}

/** The per-table series and the alarm counts, declared in the order they appear in the file. */
const TABLE_GAUGES = [
  {
    name: 'tend_table_last_repaired_timestamp_seconds',
    help: "When the table's least recently repaired local range was last repaired; 0 when some range has no successful repair in the history read.",
    labelNames: ['keyspace', 'table'],
  },
  {
    name: 'tend_table_repaired_ratio',
    help: 'Share of the local ranges repaired within the repair interval (0 to 1).',
    labelNames: ['keyspace', 'table'],
  },
  {
    name: 'tend_table_next_due_timestamp_seconds',
    help: 'When the table is (or was) due for repair: oldest range repair plus the interval.',
    labelNames: ['keyspace', 'table'],
  },
  {
    name: 'tend_table_state',
    help: 'Job state of the table: 1 for the current state (ON_TIME, LATE, OVERDUE, BLOCKED), 0 for the others.',
    labelNames: ['keyspace', 'table', 'state'],
  },
  {
    name: 'tend_table_alarm_level',
    help: 'Alarm of the table: 0 none, 1 past repair.alarm.warn, 2 past repair.alarm.error.',
    labelNames: ['keyspace', 'table'],
  },
  {
    name: 'tend_alarm_tables',
    help: 'Number of tables past each alarm threshold (warn counts only tables not yet past error).',
    labelNames: ['level'],
  },
] as const;

type TableGauges = Record<(typeof TABLE_GAUGES)[number]['name'], Gauge>;

const seconds = (ms: number) => ms / 1000;

/**
 * The textfile for one tick, in Prometheus text format. `previous` are the samples of the file it replaces: the
 * `*_total` counters continue from there, and when this tick did not plan (`jobs` undefined), the per-table
 * series are carried over rather than dropped, so a tick that stopped early does not blank the dashboards.
 */
export async function renderTickMetrics(data: TickMetricsData, previous: readonly Sample[] = []): Promise<string> {
  const registry = new Registry();
  const registers = [registry];
  if (data.node) nodeInfo(data.node, registers);
  const tables = Object.fromEntries(
    TABLE_GAUGES.map((gauge) => [gauge.name, new Gauge({ ...gauge, labelNames: [...gauge.labelNames], registers })]),
  ) as TableGauges;
  if (data.jobs) setTableSeries(tables, data.jobs);
  else for (const sample of previous) tables[sample.name as keyof TableGauges]?.set(sample.labels, sample.value);

  new Gauge({ name: 'tend_tick_timestamp_seconds', help: 'When the last tick started.', registers }).set(
    seconds(data.startedAt),
  );
  new Gauge({ name: 'tend_tick_duration_seconds', help: 'Wall time of the last tick.', registers }).set(
    seconds(data.durationMs),
  );
  if (data.result !== undefined) tickResult(data.result, registers);
  if (data.coverage) coverageSeries(data.coverage, registers);
  const series = { registers, previous };
  outcomeSeries(series, ['tend_tick_tasks', 'tend_tasks_total'], 'Repair tasks', TASK_OUTCOMES, data.tasks);
  outcomeSeries(
    series,
    ['tend_tick_lease_outcomes', 'tend_lease_outcomes_total'],
    'Lease attempts',
    LEASE_OUTCOMES,
    data.leases,
  );
  return registry.metrics();
}

function nodeInfo(node: NonNullable<TickMetricsData['node']>, registers: Registry[]): void {
  new Gauge({
    name: 'tend_info',
    help: 'Which node this file describes, and the tend version that wrote it.',
    labelNames: ['node', 'datacenter', 'version'],
    registers,
  }).set({ node: node.name ?? '', datacenter: node.datacenter ?? '', version: node.version ?? '' }, 1);
}

function setTableSeries(gauges: TableGauges, jobs: NonNullable<TickMetricsData['jobs']>): void {
  const alarms = { warn: 0, error: 0 };
  for (const job of jobs) {
    const labels = { keyspace: job.keyspace, table: job.table };
    gauges.tend_table_last_repaired_timestamp_seconds.set(
      labels,
      job.lastRepairedAt === null ? 0 : seconds(job.lastRepairedAt),
    );
    gauges.tend_table_repaired_ratio.set(labels, repairedRatio(job));
    gauges.tend_table_next_due_timestamp_seconds.set(labels, seconds(job.nextDueAt));
    const states = TABLE_STATES.includes(job.state as (typeof TABLE_STATES)[number])
      ? TABLE_STATES
      : [...TABLE_STATES, job.state];
    for (const candidate of states) {
      gauges.tend_table_state.set({ ...labels, state: candidate }, candidate === job.state ? 1 : 0);
    }
    gauges.tend_table_alarm_level.set(labels, ALARM_LEVELS[job.alarm]);
    if (job.alarm !== 'none') alarms[job.alarm] += 1;
  }
  gauges.tend_alarm_tables.set({ level: 'warn' }, alarms.warn);
  gauges.tend_alarm_tables.set({ level: 'error' }, alarms.error);
}

function tickResult(result: string, registers: Registry[]): void {
  const gauge = new Gauge({
    name: 'tend_tick_result',
    help: 'What the last tick did: 1 for its result, 0 for the others.',
    labelNames: ['result'],
    registers,
  });
  const results: readonly string[] = TICK_RESULTS.includes(result as (typeof TICK_RESULTS)[number])
    ? TICK_RESULTS
    : [...TICK_RESULTS, result];
  for (const candidate of results) gauge.set({ result: candidate }, candidate === result ? 1 : 0);
}

/** Per node, the live instances claiming it; and the count of uncovered nodes, the series to alert on. */
function coverageSeries(nodes: NonNullable<TickMetricsData['coverage']>, registers: Registry[]): void {
  const perNode = new Gauge({
    name: 'tend_node_coverage_instances',
    help: 'Live tend instances claiming the node in the coverage record: 0 uncovered, 1 covered, 2 or more claimed twice.',
    labelNames: ['node', 'datacenter'],
    registers,
  });
  for (const node of nodes) perNode.set({ node: node.address, datacenter: node.datacenter }, node.coveredBy.length);
  new Gauge({
    name: 'tend_uncovered_nodes',
    help: 'Nodes of the ring that no live tend instance covers (coverage record; 0 until one is recorded).',
    registers,
  }).set(nodes.filter((node) => node.coveredBy.length === 0).length);
}

/** A gauge for this tick and a counter over all ticks (continued from the previous file), by outcome. */
function outcomeSeries(
  { registers, previous }: { registers: Registry[]; previous: readonly Sample[] },
  [tickName, totalName]: [string, string],
  what: string,
  known: readonly string[],
  values: Readonly<Record<string, number>> | undefined,
): void {
  const tick = new Gauge({
    name: tickName,
    help: `${what} in the last tick, by outcome.`,
    labelNames: ['outcome'],
    registers,
  });
  const total = new Counter({
    name: totalName,
    help: `${what} over all ticks since this file was created, by outcome.`,
    labelNames: ['outcome'],
    registers,
  });
  const thisTick = withDefaults(known, values);
  const before = previousTotals(previous, totalName);
  for (const outcome of new Set([...thisTick.keys(), ...before.keys()])) {
    const count = thisTick.get(outcome) ?? 0;
    if (thisTick.has(outcome)) tick.set({ outcome }, count);
    total.inc({ outcome }, (before.get(outcome) ?? 0) + count);
  }
}

/**
 * Writes `tend.prom` into `directory` atomically (see textfile.ts) and returns its path. The directory must exist
 * (it is node_exporter's, and creating it here would hide a typo in metrics.textfileDirectory). Throws
 * MetricsWriteError; a tick should log it as a warning rather than fail, since repairs matter more than metrics.
 */
export async function writeTickMetrics(directory: string, data: TickMetricsData): Promise<string> {
  const path = join(directory, TEXTFILE_NAME);
  const previous = await readTextfile(path);
  await writeTextfileAtomically(path, await renderTickMetrics(data, previous));
  return path;
}
