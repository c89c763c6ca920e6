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
import { gatherPlanInput, type GatherOptions, type PlanContext, type RowsRead } from './plan-input.js';

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
}

export interface StatusReport {
  readonly now: number;
  readonly node: { hostId: string; address: string; datacenter: string };
  readonly rows: readonly StatusRow[];
  readonly summary: Plan['summary'];
  /** Jobs past their error alarm (what `--check` exits 7 for). */
  readonly pastErrorAlarm: readonly string[];
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
  options: { scope?: string | undefined } = {},
): Promise<StatusReport> {
  const { plan, context } = await currentPlan(client, config, { scope: options.scope });
  // Priority order for scheduled jobs (what runs first is listed first), then the skipped tables by name.
  const rows = [...plan.jobs.map((job) => jobRow(job, context)), ...plan.skipped.map((s) => skippedRow(s, context))];
  const local = context.topology.nodes.find((n) => n.hostId === plan.localHostId);
  return {
    now: plan.now,
    node: { hostId: plan.localHostId, address: local?.address ?? '?', datacenter: plan.localDatacenter },
    rows,
    summary: plan.summary,
    pastErrorAlarm: plan.jobs.filter((job) => job.alarm === 'error').map((job) => tableKey(job.keyspace, job.table)),
    rowsRead: context.rowsRead,
    warnings: context.warnings,
  };
}

export interface PlanReport {
  readonly plan: Plan;
  readonly rowsRead: RowsRead;
  readonly sizes: string;
  readonly warnings: readonly string[];
}

/** What the next tick would do: planned exactly as the tick plans (from the summaries), without writing anything. */
export async function schedulePlan(
  client: cassandra.Client,
  config: TendConfig,
  options: Pick<GatherOptions, 'limits'> = {},
): Promise<PlanReport> {
  const { plan, context } = await currentPlan(client, config, { ...options, basis: 'summaries' });
  return { plan, rowsRead: context.rowsRead, sizes: context.sizesSource, warnings: context.warnings };
}
