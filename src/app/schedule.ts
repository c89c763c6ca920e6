/**
 * `schedule status` and `schedule plan`: the Plan the next tick would compute, shown two ways. Both read the
 * same inputs (plan-input.ts) and call the same pure planner, so what they show is what the tick will do.
 */
import type cassandra from 'cassandra-driver';
import {
  plan as computePlan,
  summariesToStore,
  tableKey,
  type Plan,
  type SkippedTable,
  type TableJob,
} from '../core/index.js';
import { writeTableSummaries } from '../history/table-summary.js';
import type { TendConfig } from '../config/schema.js';
import type { TableSettings as ConfigTableSettings } from '../config/tables.js';
import type { SecretSource } from '../config/secrets.js';
import type { CoverageReport } from '../core/index.js';
import { gatherPlanInput, type GatherOptions, type PlanContext, type RowsRead } from './plan-input.js';
import type { Output } from '../output/output.js';
import { replicaChecks, type ReplicaInspection } from './replica-checks.js';
import { openCoverageStore, readCoverage } from './coverage.js';

export interface StatusRow {
  readonly keyspace: string;
  readonly table: string;
  /** ON_TIME / LATE / OVERDUE / BLOCKED for scheduled jobs; SKIPPED for tables tend does not schedule. */
  readonly state: TableJob['state'] | 'SKIPPED';
  readonly alarm: TableJob['alarm'] | null;
  readonly due: boolean;
  readonly lastRepairedAt: number | null;
  readonly nextDueAt: number | null;
  readonly priority: number;
  readonly rangesBehind: number | null;
  readonly rangesTotal: number | null;
  readonly repairType: string | null;
  /** The config override that applied (`repair.tables[].match`), if any. */
  readonly matchedBy: string | null;
  /** Why skipped or blocked. */
  readonly reason: string | null;
  /**
   * The table's interval and alarms (ms), each with where it came from (a configuration key, the table's
   * gc_grace_seconds, tend's default): what `schedule status` shows so an operator sees why a table alarms when.
   */
  readonly schedule: ScheduleValues | null;
}

export interface ScheduleValues {
  readonly intervalMs: number;
  readonly warnMs: number;
  readonly errorMs: number;
  /** gc_grace_seconds in ms, when the schema gave it. */
  readonly gcGraceMs: number | null;
  readonly sources: ConfigTableSettings['sources'];
}

function scheduleValues(context: PlanContext, keyspace: string, table: string): ScheduleValues | null {
  const settings = context.settings.get(tableKey(keyspace, table));
  if (!settings) return null;
  return {
    intervalMs: settings.interval,
    warnMs: settings.alarm.warn,
    errorMs: settings.alarm.error,
    gcGraceMs: settings.gcGraceMs ?? null,
    sources: settings.sources,
  };
}

export interface StatusReport {
  readonly now: number;
  readonly node: { hostId: string; address: string; datacenter: string };
  readonly rows: readonly StatusRow[];
  readonly summary: Plan['summary'];
  /** Jobs past their error alarm (what `--check` exits 7 for). */
  readonly pastErrorAlarm: readonly string[];
  /**
   * Which instance covers each node of the ring (the coverage record, issue 18); `coverage.uncovered` is what
   * `--check` also exits 7 for. Null when the record could not be read (said in `warnings`).
   */
  readonly coverage?: CoverageReport | null;
  readonly rowsRead: RowsRead;
  readonly warnings: readonly string[];
}

function jobRow(job: TableJob, context: PlanContext): StatusRow {
  return {
    keyspace: job.keyspace,
    table: job.table,
    state: job.state,
    alarm: job.alarm,
    due: job.due,
    lastRepairedAt: job.lastRepairedAt,
    nextDueAt: job.nextDueAt,
    priority: job.priority,
    rangesBehind: job.rangesBehind,
    rangesTotal: job.rangesTotal,
    repairType: job.repairType,
    matchedBy: context.settings.get(tableKey(job.keyspace, job.table))?.matchedBy ?? null,
    reason: job.blockedBy.length > 0 ? job.blockedBy.join('; ') : null,
    schedule: scheduleValues(context, job.keyspace, job.table),
  };
}

function skippedRow(skip: SkippedTable, context: PlanContext): StatusRow {
  return {
    keyspace: skip.keyspace,
    table: skip.table,
    state: 'SKIPPED',
    alarm: null,
    due: false,
    lastRepairedAt: null,
    nextDueAt: null,
    priority: 0,
    rangesBehind: null,
    rangesTotal: null,
    repairType: null,
    matchedBy: context.settings.get(tableKey(skip.keyspace, skip.table))?.matchedBy ?? null,
    reason: `${skip.code}: ${skip.reason}`,
    schedule: scheduleValues(context, skip.keyspace, skip.table),
  };
}

/**
 * Plans and returns both the Plan and what it was computed from. With `persistHistory` (the tick), the summaries
 * the plan's range-level jobs give are stored when they changed, so the next tick needs no range of those tables
 * until they come due.
 */
export async function currentPlan(
  client: cassandra.Client,
  config: TendConfig,
  options: GatherOptions = {},
): Promise<{ plan: Plan; context: PlanContext }> {
  const context = await gatherPlanInput(client, config, options);
  const plan = context.plan ?? computePlan(context.input);
  if (options.persistHistory && context.summaries) {
    const changed = summariesToStore(plan, context.summaries.fingerprints, context.summaries.stored);
    await writeTableSummaries(client, config.cassandra.keyspace, plan.localHostId, changed, plan.now);
  }
  return { plan, context };
}

export async function scheduleStatus(
  client: cassandra.Client,
  config: TendConfig,
  options: { scope?: string | undefined; secret?: SecretSource | undefined } = {},
): Promise<StatusReport> {
  const { plan, context } = await currentPlan(client, config, { scope: options.scope });
  const warnings = [...context.warnings];
  let coverage: CoverageReport | null = null;
  if (options.secret) {
    const store = await openCoverageStore(config, options.secret, client).catch((error: Error) => error);
    try {
      if (store instanceof Error) throw store;
      coverage = await readCoverage(store, context.topology.nodes, plan.now);
    } catch (error) {
      warnings.push(`coverage record not read: ${(error as Error).message}`);
    } finally {
      if (!(store instanceof Error)) await store.close().catch(() => undefined);
    }
  }
  // Priority order for scheduled jobs (what runs first is listed first), then the skipped tables by name.
  const rows = [...plan.jobs.map((job) => jobRow(job, context)), ...plan.skipped.map((s) => skippedRow(s, context))];
  const local = context.topology.nodes.find((n) => n.hostId === plan.localHostId);
  return {
    now: plan.now,
    node: { hostId: plan.localHostId, address: local?.address ?? '?', datacenter: plan.localDatacenter },
    rows,
    summary: plan.summary,
    pastErrorAlarm: plan.jobs.filter((job) => job.alarm === 'error').map((job) => tableKey(job.keyspace, job.table)),
    coverage,
    rowsRead: context.rowsRead,
    warnings,
  };
}

export interface PlanReport {
  readonly plan: Plan;
  readonly rowsRead: RowsRead;
  readonly sizes: string;
  readonly warnings: readonly string[];
  /** With --explain: whether each task could start now, by the tick's own replica checks, in task order. */
  readonly startChecks?: readonly StartCheck[];
  /** How long those checks took, in ms (they read every replica's virtual tables, and Jolokia when configured). */
  readonly startChecksMs?: number;
}

/** Whether one planned task could start now, and why not: what the tick would log when it came to it. */
export interface StartCheck {
  readonly task: string;
  readonly start: boolean;
  /** repair_running or back_pressure when it could not start, as the tick reports the task (not_started_…). */
  readonly code: 'repair_running' | 'back_pressure' | null;
  /** The tick's reason text, word for word. */
  readonly reason: string | null;
  /** The repairs running on its replicas: which repair, of what, coordinated by whom, since when (epoch ms). */
  readonly repairs: readonly {
    readonly replica: string;
    readonly id: string;
    readonly coordinator: string;
    readonly keyspace: string | null;
    readonly tables: readonly string[];
    readonly since: number | null;
  }[];
  /** The back-pressure limits a replica is past: which figure, which limit. */
  readonly overloads: readonly { readonly replica: string; readonly what: string; readonly text: string }[];
  /** What could not be read (never stops a task), as `address: why`. */
  readonly unread: readonly string[];
  readonly backPressureChecked: boolean;
}

function startCheck(task: string, found: ReplicaInspection): StartCheck {
  return {
    task,
    start: found.busy === undefined,
    code: found.busy?.code ?? null,
    reason: found.busy?.reason ?? null,
    repairs: found.repairs.map(({ replica, coordinator, repair }) => ({
      replica,
      id: repair.id,
      coordinator,
      keyspace: repair.keyspace,
      tables: repair.tables,
      since: repair.since,
    })),
    overloads: found.overloads.map(({ replica, what, text }) => ({ replica, what, text })),
    unread: found.unread,
    backPressureChecked: found.backPressureChecked,
  };
}

/**
 * What the next tick would do: planned exactly as the tick plans (from the summaries), without writing anything.
 * With `explain`, each task's replicas are also checked as the tick checks them just before it starts a task
 * (replica-checks.ts: running repairs, back-pressure), one task after the other; nothing is leased or started.
 */
export async function schedulePlan(
  client: cassandra.Client,
  config: TendConfig,
  options: Pick<GatherOptions, 'limits'> & {
    readonly explain?: { readonly secret: SecretSource; readonly out: Output; readonly now: () => number };
  } = {},
): Promise<PlanReport> {
  const { explain, ...gather } = options;
  const { plan, context } = await currentPlan(client, config, { ...gather, basis: 'summaries' });
  const report = { plan, rowsRead: context.rowsRead, sizes: context.sizesSource, warnings: context.warnings };
  if (!explain || plan.tasks.length === 0) return report;
  const started = explain.now();
  // With `nodes:` tend runs on a management host, not on the node it plans for: its data directories cannot be
  // statfs'd from here, so no address is local to the back-pressure checks (as group ticks do, group-tick.ts).
  const topology = config.nodes ? { ...context.topology, localAddress: '' } : context.topology;
  const checks = replicaChecks({ config, secret: explain.secret, out: explain.out }, client, topology);
  const startChecks: StartCheck[] = [];
  try {
    // No repair of this process has ended: nothing to let pass as "its own, finished".
    for (const task of plan.tasks) startChecks.push(startCheck(task.id, await checks.inspect(task, [])));
  } finally {
    await checks.close();
  }
  return { ...report, startChecks, startChecksMs: explain.now() - started };
}
