// The planner: one pure function from everything a tick knows to the Plan of what it should do and why. The same
// Plan serves `schedule status`, `schedule plan [--explain]`, `schedule tick --dry-run` and the real tick, so what
// an operator is shown is exactly what runs.
import {
  assessJob,
  compareJobs,
  formatDuration,
  HOUR_MS,
  tieBreaker,
  type Alarm,
  type JobState,
  type JobTiming,
} from './job-state.js';
import { evaluatePolicies, type RunPolicies } from './policy.js';
import { describeRange, rangeWidth, splitRange, toRangeText, type TokenRange, type TokenRangeText } from './ranges.js';
import {
  buildRing,
  computePlacement,
  replicationSignature,
  strategyName,
  TopologyError,
  type KeyspaceReplication,
  type NodeInfo,
  type Placement,
  type Ring,
} from './ring.js';
import {
  DEFAULT_MERGE_TOLERANCE_MS,
  foldTableHistory,
  withRepairs,
  type HistoryStats,
  type RepairEntry,
  type TableHistory,
} from './timeline.js';

/** The version of the Plan's JSON shape; bump on incompatible changes (it is printed by `schedule plan --json`). */
export const PLAN_FORMAT_VERSION = 1;
export const DEFAULT_HISTORY_LOOKBACK_MS = 30 * 24 * HOUR_MS;
/**
 * The most sub-ranges one table is split into per plan, whatever its size and sizeTarget: at the default 200MiB
 * target a table needs over 12TiB on one node to reach it. Bounds the plan's memory by the ring, not by the data.
 */
export const MAX_SUBRANGES_PER_TABLE = 65_536;

/**
 * - vnode: repair whole vnode ranges (grouped by replica set into tasks).
 * - subrange: split due ranges into pieces of about `sizeTargetBytes` (needs a size estimate; else whole vnodes).
 * - incremental: one incremental repair of the whole table.
 */
export type RepairType = 'vnode' | 'subrange' | 'incremental';
/** Passed through to the executor (nodetool -seq / default / -dcpar; Jolokia's parallelism option). */
export type RepairParallelism = 'sequential' | 'parallel' | 'dc_parallel';

/** Per-table settings after config resolution (defaults and overrides applied by src/config). */
export interface TableSettings extends JobTiming {
  readonly keyspace: string;
  readonly table: string;
  /** false: listed under `skipped` and never planned. */
  readonly enabled: boolean;
  readonly repairType: RepairType;
  readonly parallelism: RepairParallelism;
  /** subrange: aim for this many bytes per task range. */
  readonly sizeTargetBytes?: number;
  /**
   * Set when the table's schema or another scheduler rules it out (gc_grace_seconds = 0, TWCS with repair.skipTwcs,
   * Cassandra's AutoRepair): listed under `skipped` with this reason and never planned.
   */
  readonly skip?: { readonly code: 'gc_grace_zero' | 'twcs' | 'auto_repair'; readonly reason: string };
}

export interface Topology {
  readonly nodes: readonly NodeInfo[];
  /** Replication of every keyspace that has a table in `tables`, by keyspace name. */
  readonly keyspaces: Readonly<Record<string, KeyspaceReplication>>;
}

/** Size of a table on the local node (system.size_estimates / table_estimates, or a metric). */
export interface TableSize {
  /** Bytes of this table the local node holds, over all ranges it replicates. */
  readonly totalBytes: number;
  /** Optional per-range bytes keyed by `START:END` (vnode ranges); ranges missing here get a share by width. */
  readonly rangeBytes?: Readonly<Record<string, number>>;
}

export interface PlanLimits {
  /** At most this many tasks in the plan (the tick's batch size). */
  readonly maxTasks: number;
  /** At most this many ranges in one task (default: no limit — one task per replica set). */
  readonly maxRangesPerTask?: number;
  /**
   * Tables whose local size is at most this are repaired whole, in one command without range arguments (default:
   * never). A table without a size estimate counts as small (see `wholeTableReason`).
   */
  readonly smallTableBytes?: number;
  /**
   * Due whole-table jobs of one keyspace with the same repair options share one command, up to this many tables
   * (default 1: a command per table).
   */
  readonly tablesPerCommand?: number;
}

export interface PlanInput {
  /** Epoch ms from Cassandra's clock (toTimestamp(now())), not the local clock: see DESIGN.md. */
  readonly now: number;
  /** The node tend acts for. Must be in topology.nodes. */
  readonly localHostId: string;
  readonly tables: readonly TableSettings[];
  readonly topology: Topology;
  /**
   * History per table, keyed by tableKey(keyspace, table); missing means no history. Either the raw entries, or a
   * TableHistory the adapter already folded page by page with a HistoryAccumulator on `ring` (the memory-bounded
   * way for large histories). Entries can be system_distributed.repair_history rows, tend's own history rows, or
   * tend's per-range "latest repair" rows: all have the RepairEntry shape.
   */
  readonly history: Readonly<Record<string, readonly RepairEntry[] | TableHistory>>;
  /**
   * For tables whose range-level history was not read: a lower bound of when their oldest local range was last
   * repaired (src/core/summary.ts). Such a job is assessed from the bound alone (`basis: 'summary'`): a stale bound
   * makes it look more overdue, never less. It gets no task; when it is due it is listed as `not_read`, and the
   * caller reads its history and plans again (`tablesToRead`). A table in `history` ignores its summary.
   */
  readonly summaries?: Readonly<Record<string, SummaryBound>>;
  /** The ring of topology.nodes, when the caller built it already (buildRing) to fold history onto it. */
  readonly ring?: Ring;
  /** Size estimates per table, keyed by tableKey(keyspace, table). */
  readonly sizes?: Readonly<Record<string, TableSize>>;
  readonly policies?: RunPolicies;
  readonly limits: PlanLimits;
  /**
   * How far back the history was read (default 30 days). A range with no successful repair in it is treated as
   * last repaired that long ago: due, and usually past the error alarm, but comparable with other jobs.
   */
  readonly historyLookbackMs?: number;
  /** Neighbouring sub-ranges repaired within this long of each other are merged (default 1 hour). */
  readonly mergeToleranceMs?: number;
}

/** What a plan may know of a table without reading its ranges: a lower bound of its oldest repair. */
export interface SummaryBound {
  /** No local range was last repaired before this (epoch ms); null when some range may never have been. */
  readonly oldestRepairedAt: number | null;
}

/** The key of a table in PlanInput maps: `keyspace.table` (Cassandra names cannot contain dots). */
export function tableKey(keyspace: string, table: string): string {
  return `${keyspace}.${table}`;
}

/** One table job as seen from the local node. Times are epoch ms from Cassandra's clock. */
export interface TableJob {
  readonly keyspace: string;
  readonly table: string;
  /**
   * What the assessment rests on: 'ranges' (the table's range-level history was read and folded) or 'summary' (a
   * lower bound only: `lastRepairedAt` may be older than the truth, and a job that is not due has every range
   * within its interval, exactly as with 'ranges').
   */
  readonly basis: 'ranges' | 'summary';
  readonly repairType: RepairType;
  readonly state: JobState;
  readonly alarm: Alarm;
  /** True when the oldest range was last repaired more than `interval` ago. */
  readonly due: boolean;
  /** (overdueHours + 1) × weight when due; 0 when not due. */
  readonly priority: number;
  readonly overdueHours: number;
  /** FNV-1a of `keyspace.table`: the tie-breaker between equal priorities. */
  readonly tieBreaker: number;
  /** When the oldest local range was last repaired; null when some range has no successful repair in the history. */
  readonly lastRepairedAt: number | null;
  /** When the job is (or was) due: oldest repair (or now - historyLookback when never) + interval. */
  readonly nextDueAt: number;
  /** Ranges the local node replicates (vnode ranges of the ring). */
  readonly rangesTotal: number;
  /** Local ranges last repaired more than `interval` ago, or never. */
  readonly rangesBehind: number;
  readonly rangesNeverRepaired: number;
  /** The local range repaired longest ago (the one that decides the job's age). */
  readonly oldestRange: TokenRangeText | null;
  readonly replicationFactor: number;
  /** Local size estimate in bytes, when known. */
  readonly estimatedBytes: number | null;
  /** Why the job may not run now (run policies), empty otherwise. */
  readonly blockedBy: readonly string[];
  /** How the table's history entries were used. */
  readonly history: HistoryStats;
}

/** One repair call. Tokens are decimal strings (JSON has no bigint); parse them with fromRangeText. */
export interface RepairTask {
  /** Stable within a plan: `keyspace.table#n`. */
  readonly id: string;
  readonly keyspace: string;
  readonly tables: readonly string[];
  /**
   * - 'ranges': repair exactly `ranges` (all share `replicas`).
   * - 'table': repair the whole table on the local node without range arguments (small tables, incremental);
   *   `ranges` lists every range that covers, for history recording, and `replicas` is the union of their replicas.
   */
  readonly scope: 'ranges' | 'table';
  readonly ranges: readonly TokenRangeText[];
  /** Host ids of every replica involved (sorted); the lease scope `node` locks each. */
  readonly replicas: readonly string[];
  readonly replicaAddresses: readonly string[];
  readonly datacenters: readonly string[];
  readonly repairType: RepairType;
  readonly incremental: boolean;
  readonly parallelism: RepairParallelism;
  /** The job's priority (what to announce for the lease). */
  readonly priority: number;
  /** Estimated bytes the task repairs on the local node, when sizes are known. */
  readonly estimatedBytes: number | null;
  /** Oldest repair time among the task's ranges; null when one was never repaired. */
  readonly oldestRepairedAt: number | null;
  /** Human text: which ranges, how old, which rule. */
  readonly reason: string;
}

export type SkipCode =
  | 'disabled'
  | 'unknown_keyspace'
  | 'unsupported_strategy'
  | 'local_strategy'
  | 'not_replicated_here'
  | 'single_replica'
  | 'gc_grace_zero'
  | 'twcs'
  | 'auto_repair';

/** A table tend does not schedule at all, and why. */
export interface SkippedTable {
  readonly keyspace: string;
  readonly table: string;
  readonly code: SkipCode;
  readonly reason: string;
}

/**
 * - blocked: a run policy forbids it now; batch_full: maxTasks reached by jobs ranked higher;
 * - replica_down: a replica its task needs is down;
 * - not_read: due by its summary, but its range-level history was not read in this plan (see `tablesToRead`).
 */
export type DeferCode = 'blocked' | 'batch_full' | 'replica_down' | 'not_read';

/** A due job (or part of one) that gets no task in this plan, and why. */
export interface DeferredJob {
  readonly keyspace: string;
  readonly table: string;
  readonly code: DeferCode;
  readonly reason: string;
}

export interface PlanSummary {
  readonly tables: number;
  readonly jobs: number;
  readonly due: number;
  readonly late: number;
  readonly overdue: number;
  readonly blocked: number;
  readonly skipped: number;
  readonly tasks: number;
  readonly historyEntries: number;
}

/** Plain JSON data: no bigint, Map or Date, so `JSON.stringify(plan)` is the `--json` output. */
export interface Plan {
  readonly formatVersion: number;
  readonly now: number;
  readonly localHostId: string;
  readonly localDatacenter: string;
  /** Every scheduled table job, in priority order (compareJobs): due jobs first. */
  readonly jobs: readonly TableJob[];
  /** Tasks for the top due jobs, in execution order, at most limits.maxTasks. */
  readonly tasks: readonly RepairTask[];
  readonly skipped: readonly SkippedTable[];
  readonly deferred: readonly DeferredJob[];
  readonly summary: PlanSummary;
}

interface KeyspacePlacement {
  readonly placement: Placement;
  /** Ring range indexes the local node replicates. */
  readonly localRanges: readonly number[];
  /** Largest replica count among the local ranges. */
  readonly localReplicationFactor: number;
}

/** A scheduled table: its job, and what planning its tasks needs. */
interface Candidate {
  readonly settings: TableSettings;
  readonly job: TableJob;
  readonly placement: KeyspacePlacement;
  /** Per ring range, when it was last repaired (-Infinity: never); absent for summary-basis jobs. */
  readonly repairedAt?: Float64Array;
  readonly pieces?: ReadonlyMap<number, readonly { range: TokenRange; repairedAt: number | null }[]>;
  readonly size: TableSize | undefined;
  readonly neverAt: number;
}

/** What every step of one plan shares. */
interface PlanContext {
  readonly input: PlanInput;
  readonly ring: Ring;
  readonly local: NodeInfo;
  readonly now: number;
  readonly lookbackMs: number;
  readonly toleranceMs: number;
  readonly placements: Map<string, KeyspacePlacement>;
}

/**
 * Computes the Plan. Pure and deterministic: the same input gives the same Plan, whatever the input order.
 * Three steps: assess every table (skip what tend must not schedule; state, alarm and priority of the rest), order
 * the jobs, then turn the due ones into at most maxTasks tasks.
 */
export function plan(input: PlanInput): Plan {
  const ring = input.ring ?? buildRing(input.topology.nodes);
  const local = ring.nodes.get(input.localHostId);
  if (!local) throw new TopologyError(`local node ${input.localHostId} is not in the topology`);
  const context: PlanContext = {
    input,
    ring,
    local,
    now: input.now,
    lookbackMs: input.historyLookbackMs ?? DEFAULT_HISTORY_LOOKBACK_MS,
    toleranceMs: input.mergeToleranceMs ?? DEFAULT_MERGE_TOLERANCE_MS,
    placements: new Map(),
  };
  const skipped: SkippedTable[] = [];
  const candidates: Candidate[] = [];
  let historyEntries = 0;
  for (const settings of input.tables) {
    const assessed = assessTable(context, settings);
    if ('code' in assessed) skipped.push(assessed);
    else {
      candidates.push(assessed);
      historyEntries += assessed.job.history.entries;
    }
  }
  candidates.sort((a, b) => compareJobs(a.job, b.job));
  const { tasks, deferred } = buildTasks(context, candidates);
  const jobs = candidates.map((c) => c.job);
  skipped.sort((a, b) => compareNames(tableKey(a.keyspace, a.table), tableKey(b.keyspace, b.table)));
  return {
    formatVersion: PLAN_FORMAT_VERSION,
    now: input.now,
    localHostId: input.localHostId,
    localDatacenter: local.datacenter,
    jobs,
    tasks,
    skipped,
    deferred,
    summary: {
      tables: input.tables.length,
      jobs: jobs.length,
      due: jobs.filter((j) => j.due).length,
      late: jobs.filter((j) => j.alarm === 'warn').length,
      overdue: jobs.filter((j) => j.alarm === 'error').length,
      blocked: jobs.filter((j) => j.state === 'BLOCKED').length,
      skipped: skipped.length,
      tasks: tasks.length,
      historyEntries,
    },
  };
}

/**
 * The tables whose range-level history a caller should read before planning again: due jobs known only by their
 * summary that could get a task in this batch (ranked before the batch filled up, or able to join a whole-table
 * command of their keyspace). Empty when the plan needs nothing more.
 */
export function tablesToRead(result: Plan): { keyspace: string; table: string }[] {
  return result.deferred.filter((d) => d.code === 'not_read').map(({ keyspace, table }) => ({ keyspace, table }));
}

/** A table's candidate job, or why tend does not schedule it. */
function assessTable(context: PlanContext, settings: TableSettings): Candidate | SkippedTable {
  const { input, ring, now } = context;
  const { keyspace, table } = settings;
  const skip = (code: SkipCode, reason: string): SkippedTable => ({ keyspace, table, code, reason });
  if (!settings.enabled) return skip('disabled', 'disabled in configuration');
  if (settings.skip) return skip(settings.skip.code, settings.skip.reason);
  const replication = input.topology.keyspaces[keyspace];
  if (!replication) return skip('unknown_keyspace', `keyspace ${keyspace} is not in the schema`);
  let strategy: ReturnType<typeof strategyName>;
  try {
    strategy = strategyName(replication.class);
  } catch (error) {
    return skip(
      'unsupported_strategy',
      `keyspace ${keyspace}: ${(error as Error).message}; tend cannot place its replicas`,
    );
  }
  if (strategy === 'LocalStrategy') {
    return skip('local_strategy', 'LocalStrategy keyspaces are node-local and never repaired');
  }
  const ks = keyspacePlacement(ring, replication, input.localHostId, context.placements);
  if (ks.localRanges.length === 0) {
    return skip(
      'not_replicated_here',
      `keyspace ${keyspace} has no replica on this node (${replicationSignature(replication)})`,
    );
  }
  if (ks.localReplicationFactor < 2) {
    return skip(
      'single_replica',
      `keyspace ${keyspace} keeps one replica of this node's ranges: nothing to repair against`,
    );
  }
  const key = tableKey(keyspace, table);
  const neverAt = now - context.lookbackMs;
  const size = input.sizes?.[key];
  const given = input.history[key];
  const summary = given === undefined ? input.summaries?.[key] : undefined;
  if (summary) {
    const oldest = summary.oldestRepairedAt ?? -Infinity;
    return {
      settings,
      placement: ks,
      size,
      neverAt,
      job: jobOf(context, settings, ks, size, {
        basis: 'summary',
        oldest,
        oldestIndex: -1,
        // Not due by the bound: every range was repaired within the interval (the bound is below each of them).
        behind: oldest + settings.intervalMs <= now ? ks.localRanges.length : 0,
        never: 0,
        history: EMPTY_STATS,
      }),
    };
  }
  const folded = given === undefined ? foldTableHistory(ring, [], context.toleranceMs) : foldGiven(context, key, given);
  let oldest = Infinity;
  let oldestIndex = -1;
  let behind = 0;
  let never = 0;
  for (const index of ks.localRanges) {
    const at = folded.repairedAt[index] ?? -Infinity;
    if (at === -Infinity) never++;
    if (at === -Infinity || at + settings.intervalMs <= now) behind++;
    if (at < oldest) {
      oldest = at;
      oldestIndex = index;
    }
  }
  return {
    settings,
    placement: ks,
    repairedAt: folded.repairedAt,
    pieces: folded.pieces,
    size,
    neverAt,
    job: jobOf(context, settings, ks, size, {
      basis: 'ranges',
      oldest,
      oldestIndex,
      behind,
      never,
      history: folded.stats,
    }),
  };
}

const EMPTY_STATS: HistoryStats = { entries: 0, used: 0, unsuccessful: 0, notContained: 0, malformed: 0 };

function foldGiven(context: PlanContext, key: string, given: readonly RepairEntry[] | TableHistory): TableHistory {
  const folded = isTableHistory(given) ? given : foldTableHistory(context.ring, given, context.toleranceMs);
  if (folded.ring !== context.ring) throw new TopologyError(`history of ${key} was folded onto a different ring`);
  return folded;
}

interface RangeFigures {
  readonly basis: TableJob['basis'];
  /** Oldest local range's last repair; -Infinity when one was never repaired. */
  readonly oldest: number;
  readonly oldestIndex: number;
  readonly behind: number;
  readonly never: number;
  readonly history: HistoryStats;
}

function jobOf(
  context: PlanContext,
  settings: TableSettings,
  ks: KeyspacePlacement,
  size: TableSize | undefined,
  figures: RangeFigures,
): TableJob {
  const { now, ring, local } = context;
  const { keyspace, table } = settings;
  const effective = figures.oldest === -Infinity ? now - context.lookbackMs : figures.oldest;
  const decision = evaluatePolicies(context.input.policies, { now, keyspace, table, datacenter: local.datacenter });
  const assessment = assessJob(now, effective, settings, !decision.allowed);
  const oldestRange = ring.ranges[figures.oldestIndex];
  return {
    keyspace,
    table,
    basis: figures.basis,
    repairType: settings.repairType,
    state: assessment.state,
    alarm: assessment.alarm,
    due: assessment.due,
    priority: assessment.priority,
    overdueHours: assessment.overdueHours,
    tieBreaker: tieBreaker(keyspace, table),
    lastRepairedAt: figures.oldest === -Infinity ? null : figures.oldest,
    nextDueAt: assessment.nextDueAt,
    rangesTotal: ks.localRanges.length,
    rangesBehind: figures.behind,
    rangesNeverRepaired: figures.never,
    oldestRange: oldestRange ? toRangeText(oldestRange) : null,
    replicationFactor: ks.localReplicationFactor,
    estimatedBytes: size ? size.totalBytes : null,
    blockedBy: decision.reasons,
    history: figures.history,
  };
}

function isTableHistory(value: readonly RepairEntry[] | TableHistory): value is TableHistory {
  return !Array.isArray(value);
}

function keyspacePlacement(
  ring: Ring,
  replication: KeyspaceReplication,
  localHostId: string,
  cache: Map<string, KeyspacePlacement>,
): KeyspacePlacement {
  const signature = replicationSignature(replication);
  const cached = cache.get(signature);
  if (cached) return cached;
  const placement = computePlacement(ring, replication, localHostId);
  const localSets = new Set<number>();
  let localReplicationFactor = 0;
  placement.replicaSets.forEach((set, index) => {
    if (set.hostIds.includes(localHostId)) {
      localSets.add(index);
      localReplicationFactor = Math.max(localReplicationFactor, set.hostIds.length);
    }
  });
  const localRanges: number[] = [];
  placement.replicaSetOfRange.forEach((setIndex, rangeIndex) => {
    if (localSets.has(setIndex)) localRanges.push(rangeIndex);
  });
  const result = { placement, localRanges, localReplicationFactor };
  cache.set(signature, result);
  return result;
}

type TaskDraft = Omit<RepairTask, 'id'>;

/**
 * Due jobs, in priority order, into at most maxTasks tasks. A whole-table job takes the due whole-table jobs of its
 * keyspace that follow it (same options) into its command, up to tablesPerCommand; those ride along and get no task
 * of their own. Jobs known only by their summary get no task: they are `not_read` when they could still get one.
 */
function buildTasks(
  context: PlanContext,
  candidates: readonly Candidate[],
): { tasks: RepairTask[]; deferred: DeferredJob[] } {
  const { limits } = context.input;
  const tasks: RepairTask[] = [];
  const deferred: DeferredJob[] = [];
  const defer = (job: TableJob, code: DeferCode, reason: string) =>
    deferred.push({ keyspace: job.keyspace, table: job.table, code, reason });
  const taken = new Set<Candidate>();
  /** Keyspaces with a whole-table command that has room for more tables. */
  const openCommands = new Set<string>();
  const unreadAfterFull: Candidate[] = [];
  for (const [position, candidate] of candidates.entries()) {
    const { job } = candidate;
    if (!job.due || taken.has(candidate)) continue;
    if (job.state === 'BLOCKED') {
      defer(job, 'blocked', job.blockedBy.join('; '));
      continue;
    }
    if (job.basis === 'summary') {
      if (tasks.length < limits.maxTasks) defer(job, 'not_read', NOT_READ_REASON);
      else unreadAfterFull.push(candidate);
      continue;
    }
    if (tasks.length >= limits.maxTasks) {
      defer(job, 'batch_full', `batch full: ${limits.maxTasks} task(s) planned for higher-priority jobs`);
      continue;
    }
    if (wholeTableReason(candidate.settings, candidate.size, limits) !== undefined) {
      const companions = commandCompanions(context, candidates, position, taken);
      for (const companion of companions) taken.add(companion);
      const group = [candidate, ...companions];
      const task = wholeTableTask(context, group);
      if ('withheld' in task) {
        for (const member of group) defer(member.job, 'replica_down', task.withheld);
        continue;
      }
      tasks.push({ id: taskId(job, group.length, 1), ...task });
      if (group.length < (limits.tablesPerCommand ?? 1)) openCommands.add(job.keyspace);
      continue;
    }
    const { planned, withheld } = rangeTasks(context, candidate);
    const room = limits.maxTasks - tasks.length;
    planned.slice(0, room).forEach((task, index) => tasks.push({ id: taskId(job, 1, index + 1), ...task }));
    if (planned.length > room) {
      defer(
        job,
        'batch_full',
        `${planned.length - room} of ${planned.length} task(s) left for a later tick (maxTasks ${limits.maxTasks})`,
      );
    }
    for (const reason of withheld) defer(job, 'replica_down', reason);
  }
  // Past the batch, a due job read only by its summary may still join its keyspace's whole-table command.
  for (const candidate of unreadAfterFull) {
    const { job } = candidate;
    if (openCommands.has(job.keyspace))
      defer(job, 'not_read', `${NOT_READ_REASON}; it may join a command of its keyspace`);
    else defer(job, 'batch_full', `batch full: ${limits.maxTasks} task(s) planned for higher-priority jobs`);
  }
  return { tasks, deferred };
}

const NOT_READ_REASON = 'due by its summary; its range-level history was not read for this plan';

/** `ks.table#1`; a command of several tables: `ks.table+3#1`. */
function taskId(job: Pick<TableJob, 'keyspace' | 'table'>, tables: number, index: number): string {
  return `${tableKey(job.keyspace, job.table)}${tables > 1 ? `+${tables - 1}` : ''}#${index}`;
}

/** The start of a whole-table command's reason when it repairs several tables; empty for one table. */
function commandPrefix(keyspace: string, tables: readonly string[]): string {
  if (tables.length < 2) return '';
  const listed = `${tables.slice(0, 5).join(', ')}${tables.length > 5 ? ', …' : ''}`;
  return `${tables.length} tables of ${keyspace} in one command (${listed}); `;
}

/**
 * A planned task narrowed to some of its tables (a non-empty subset, kept in the task's order), for a table left
 * out after planning (incremental: the node reports it fully repaired). The id and the reason then name what the
 * command repairs, not what was planned: an operator reading `KS.done+1` for a command that repaired only `todo`
 * would look for the wrong table. estimatedBytes stays the planned group's, an upper bound.
 */
export function narrowTask<T extends Pick<RepairTask, 'id' | 'keyspace' | 'tables' | 'reason'>>(
  task: T,
  tables: readonly string[],
): T {
  const kept = task.tables.filter((table) => tables.includes(table));
  if (kept.length === task.tables.length) return task;
  if (kept.length === 0) throw new Error(`narrowTask: no table of ${task.id} kept`);
  const prefix = commandPrefix(task.keyspace, task.tables);
  const rest = prefix !== '' && task.reason.startsWith(prefix) ? task.reason.slice(prefix.length) : task.reason;
  const index = Number(task.id.slice(task.id.lastIndexOf('#') + 1));
  return {
    ...task,
    tables: kept,
    id: taskId({ keyspace: task.keyspace, table: kept[0]! }, kept.length, index),
    reason: `${commandPrefix(task.keyspace, kept)}${rest}`,
  };
}

/**
 * Why a table is repaired whole in one command, or undefined when it is repaired range by range. Incremental
 * repairs are always whole-table. A full repair is whole-table when the table's local size is at most
 * smallTableBytes, or when there is no size estimate yet: Cassandra records estimates from flushed SSTables a few
 * minutes after a table appears or a node starts (size_recorder_interval, 5 min), so a table without one is new or
 * empty, and repairing it whole costs least. smallTableBytes 0 or unset turns whole-table full repairs off.
 */
export function wholeTableReason(
  settings: Pick<TableSettings, 'repairType'>,
  size: TableSize | undefined,
  limits: Pick<PlanLimits, 'smallTableBytes'>,
): string | undefined {
  if (settings.repairType === 'incremental') return 'incremental repair of the whole table';
  const limit = limits.smallTableBytes;
  if (limit === undefined || limit <= 0) return undefined;
  if (size === undefined) return 'no size estimate yet (a new or empty table): whole table in one command';
  if (size.totalBytes <= limit) {
    return `small table (${formatBytes(size.totalBytes)} ≤ ${formatBytes(limit)}): whole table in one command`;
  }
  return undefined;
}

/** Later due whole-table jobs of the same keyspace and repair options, up to tablesPerCommand − 1 of them. */
function commandCompanions(
  context: PlanContext,
  candidates: readonly Candidate[],
  position: number,
  taken: ReadonlySet<Candidate>,
): Candidate[] {
  const { limits } = context.input;
  const lead = candidates[position]!;
  const room = (limits.tablesPerCommand ?? 1) - 1;
  const companions: Candidate[] = [];
  for (let i = position + 1; i < candidates.length && companions.length < room; i++) {
    const other = candidates[i]!;
    const { job, settings } = other;
    if (!job.due || job.state === 'BLOCKED' || job.basis !== 'ranges' || taken.has(other)) continue;
    if (job.keyspace !== lead.job.keyspace) continue;
    if ((settings.repairType === 'incremental') !== (lead.settings.repairType === 'incremental')) continue;
    if (settings.parallelism !== lead.settings.parallelism) continue;
    if (wholeTableReason(settings, other.size, limits) === undefined) continue;
    companions.push(other);
  }
  return companions;
}

/** Replicas of the given hosts that are not up, as `address (hostId)`. */
function downIn(ring: Ring, hostIds: readonly string[]): string[] {
  return hostIds
    .filter((h) => ring.nodes.get(h)?.up !== true)
    .map((h) => `${ring.nodes.get(h)?.address ?? '?'} (${h})`);
}

/**
 * One command for the whole of each table in `group` (all of one keyspace, so all with the same local ranges): no
 * range arguments; `ranges` lists every local range for history, `replicas` is the union of their replicas.
 */
function wholeTableTask(context: PlanContext, group: readonly Candidate[]): TaskDraft | { withheld: string } {
  const { ring, now, input } = context;
  const lead = group[0]!;
  const { placement } = lead;
  const { replicaSets, replicaSetOfRange } = placement.placement;
  const hostIds = new Set<string>();
  let oldest = Infinity;
  for (const index of placement.localRanges) {
    for (const h of replicaSets[replicaSetOfRange[index] ?? 0]?.hostIds ?? []) hostIds.add(h);
    for (const member of group) oldest = Math.min(oldest, member.repairedAt?.[index] ?? -Infinity);
  }
  const replicas = [...hostIds].sort();
  const down = downIn(ring, replicas);
  if (down.length > 0) return { withheld: `whole-table task withheld: replica ${down.join(', ')} down` };
  const why = wholeTableReason(lead.settings, lead.size, input.limits)!;
  const tables = group.map((member) => member.job.table);
  const bytes = group.reduce<number | null>(
    (sum, member) => (sum === null || member.size === undefined ? null : sum + member.size.totalBytes),
    0,
  );
  const together = commandPrefix(lead.job.keyspace, tables);
  return {
    keyspace: lead.job.keyspace,
    tables,
    scope: 'table',
    ranges: placement.localRanges.map((i) => toRangeText(ring.ranges[i] ?? FULL)),
    replicas,
    replicaAddresses: replicas.map((h) => ring.nodes.get(h)?.address ?? '?'),
    datacenters: [...new Set(replicas.map((h) => ring.nodes.get(h)?.datacenter ?? '?'))].sort(),
    repairType: lead.settings.repairType,
    incremental: lead.settings.repairType === 'incremental',
    parallelism: lead.settings.parallelism,
    priority: lead.job.priority,
    estimatedBytes: bytes,
    oldestRepairedAt: oldest === -Infinity ? null : oldest,
    reason: `${together}${why}; ${jobReason(lead.job, lead.settings, now, lead.neverAt)}`,
  };
}

/** A range to repair and what it stands for. */
interface WorkItem {
  readonly range: TokenRange;
  /** Ring index of the vnode the range lies in. */
  readonly vnode: number;
  readonly replicaSet: number;
  readonly repairedAt: number;
  readonly bytes: number | null;
}

/** Tasks for the due ranges of one table: grouped by replica set, oldest group first, chunked by maxRangesPerTask. */
function rangeTasks(context: PlanContext, candidate: Candidate): { planned: TaskDraft[]; withheld: string[] } {
  const { ring, input } = context;
  const { replicaSets } = candidate.placement.placement;
  const items = dueWork(context, candidate);
  const groups = new Map<number, WorkItem[]>();
  for (const item of items) {
    let group = groups.get(item.replicaSet);
    if (!group) groups.set(item.replicaSet, (group = []));
    group.push(item);
  }
  const ordered = [...groups.entries()].sort(([setA, a], [setB, b]) => {
    const oldestA = Math.min(...a.map((i) => i.repairedAt));
    const oldestB = Math.min(...b.map((i) => i.repairedAt));
    return oldestA !== oldestB ? oldestA - oldestB : setA - setB;
  });
  const limit = input.limits.maxRangesPerTask;
  const chunkSize = limit && limit > 0 ? limit : Infinity;
  const planned: TaskDraft[] = [];
  const withheld: string[] = [];
  for (const [setIndex, group] of ordered) {
    const set = replicaSets[setIndex];
    if (!set) continue;
    const down = downIn(ring, set.hostIds);
    if (down.length > 0) {
      withheld.push(`${group.length} range(s) on replicas ${set.key} withheld: replica ${down.join(', ')} down`);
      continue;
    }
    for (let from = 0; from < group.length; from += chunkSize) {
      planned.push(rangeTask(context, candidate, set, group.slice(from, from + chunkSize)));
    }
  }
  return { planned, withheld };
}

/** The due work of a table, vnode by vnode in ring order: whole vnodes, or with sub-range history their due parts. */
function dueWork(context: PlanContext, candidate: Candidate): WorkItem[] {
  const { ring, now } = context;
  const { settings, placement, size } = candidate;
  const repairedAt = candidate.repairedAt!;
  const { replicaSetOfRange } = placement.placement;
  const dueBefore = now - settings.intervalMs;
  const localWidth = placement.localRanges.reduce((sum, i) => sum + Number(rangeWidth(ring.ranges[i] ?? FULL)), 0);
  const bytesOf = (vnode: TokenRange): number | null =>
    size
      ? (size.rangeBytes?.[`${vnode.start}:${vnode.end}`] ?? (size.totalBytes * Number(rangeWidth(vnode))) / localWidth)
      : null;
  let target = settings.repairType === 'subrange' ? settings.sizeTargetBytes : undefined;
  if (target !== undefined && target > 0) {
    // The plan holds one item per piece, so its memory grows with table size / target (2.6 million pieces and
    // ~1 GB for a 10GiB table at 4KiB, out of memory at 1B). Past MAX_SUBRANGES_PER_TABLE pieces, pieces grow.
    let localBytes = 0;
    for (const index of placement.localRanges) localBytes += bytesOf(ring.ranges[index] ?? FULL) ?? 0;
    target = Math.max(target, localBytes / MAX_SUBRANGES_PER_TABLE);
  }
  const items: WorkItem[] = [];
  for (const index of placement.localRanges) {
    const at = repairedAt[index] ?? -Infinity;
    if (at > dueBefore) continue;
    const vnode = ring.ranges[index];
    if (!vnode) continue;
    const vnodeBytes = bytesOf(vnode);
    const timeline = target !== undefined ? candidate.pieces?.get(index) : undefined;
    const parts = timeline ? dueParts(timeline, dueBefore) : [{ range: vnode, repairedAt: at }];
    const vnodeWidth = Number(rangeWidth(vnode));
    for (const part of parts) {
      const partBytes = vnodeBytes === null ? null : (vnodeBytes * Number(rangeWidth(part.range))) / vnodeWidth;
      const pieces =
        target !== undefined && partBytes !== null && target > 0 ? Math.max(1, Math.ceil(partBytes / target)) : 1;
      for (const range of splitRange(part.range, pieces)) {
        items.push({
          range,
          vnode: index,
          replicaSet: replicaSetOfRange[index] ?? 0,
          repairedAt: part.repairedAt,
          bytes: partBytes === null ? null : partBytes / pieces,
        });
      }
    }
  }
  return items;
}

/** With sub-range history only the due parts of a vnode are repaired; neighbouring due pieces join up first. */
function dueParts(
  timeline: readonly { range: TokenRange; repairedAt: number | null }[],
  dueBefore: number,
): { range: TokenRange; repairedAt: number }[] {
  const parts: { range: TokenRange; repairedAt: number }[] = [];
  for (const piece of timeline) {
    const pieceAt = piece.repairedAt ?? -Infinity;
    if (pieceAt > dueBefore) continue;
    const last = parts[parts.length - 1];
    if (last && last.range.end === piece.range.start) {
      parts[parts.length - 1] = {
        range: { start: last.range.start, end: piece.range.end },
        repairedAt: Math.min(last.repairedAt, pieceAt),
      };
    } else parts.push({ range: piece.range, repairedAt: pieceAt });
  }
  return parts;
}

function rangeTask(
  context: PlanContext,
  candidate: Candidate,
  set: { hostIds: readonly string[]; datacenters: readonly string[] },
  chunk: readonly WorkItem[],
): TaskDraft {
  const { ring, now } = context;
  const { job, settings } = candidate;
  let oldest = Infinity;
  let oldestItem = chunk[0];
  let bytes: number | null = 0;
  for (const item of chunk) {
    if (item.repairedAt < oldest) {
      oldest = item.repairedAt;
      oldestItem = item;
    }
    bytes = bytes === null || item.bytes === null ? null : bytes + item.bytes;
  }
  const vnodes = new Set(chunk.map((i) => i.vnode)).size;
  const what =
    chunk.length === vnodes
      ? `${vnodes} of ${job.rangesTotal} vnode range(s)`
      : `${chunk.length} sub-range(s) in ${vnodes} of ${job.rangesTotal} vnode range(s)`;
  const age =
    oldest === -Infinity ? 'never repaired in the history read' : `last repaired ${formatDuration(now - oldest)} ago`;
  return {
    keyspace: job.keyspace,
    tables: [job.table],
    scope: 'ranges',
    ranges: chunk.map((i) => toRangeText(i.range)),
    replicas: set.hostIds,
    replicaAddresses: set.hostIds.map((h) => ring.nodes.get(h)?.address ?? '?'),
    datacenters: set.datacenters,
    repairType: settings.repairType,
    incremental: false,
    parallelism: settings.parallelism,
    priority: job.priority,
    estimatedBytes: bytes === null ? null : Math.round(bytes),
    oldestRepairedAt: oldest === -Infinity ? null : oldest,
    reason:
      `${what} on replicas ${set.hostIds.length}×[${set.datacenters.join(',')}], ` +
      `oldest ${oldestItem ? describeRange(oldestItem.range) : '?'} ${age}; ${jobReason(job, settings, now, candidate.neverAt)}`,
  };
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const FULL: TokenRange = { start: 0n, end: 0n };

function jobReason(job: TableJob, settings: TableSettings, now: number, neverAt: number): string {
  const since =
    job.lastRepairedAt === null
      ? `a range has no successful repair in the last ${formatDuration(now - neverAt)} of history`
      : `oldest range repaired ${formatDuration(now - job.lastRepairedAt)} ago`;
  const alarm =
    job.alarm === 'error'
      ? ` — past the error alarm ${formatDuration(settings.errorMs)}`
      : job.alarm === 'warn'
        ? ` — past the warn alarm ${formatDuration(settings.warnMs)}`
        : '';
  return (
    `${since}, interval ${formatDuration(settings.intervalMs)}${alarm}; ` +
    `priority (${job.overdueHours}h overdue + 1) × weight ${settings.weight} = ${job.priority}`
  );
}

function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)}${units[unit]}`;
}

/** Ranges of one table that a repair of this batch confirmed, and when it ended. */
export interface RepairedTable {
  readonly keyspace: string;
  readonly table: string;
  readonly ranges: readonly TokenRangeText[];
  readonly finishedAt: number;
}

/**
 * The plan input as it stands after a batch: `repaired` added to the history of their tables, the clock moved to
 * `now`. `plan(inputAfterRepairs(…)).jobs` is the state of every table after the batch — what a tick reports
 * in its log and metrics, rather than the state it planned from (a tick that has just repaired a table must not
 * log it as "never repaired").
 */
export function inputAfterRepairs(input: PlanInput, repaired: readonly RepairedTable[], now: number): PlanInput {
  const ring = input.ring ?? buildRing(input.topology.nodes);
  const tolerance = input.mergeToleranceMs ?? DEFAULT_MERGE_TOLERANCE_MS;
  const added = new Map<string, RepairEntry[]>();
  for (const repair of repaired) {
    const key = tableKey(repair.keyspace, repair.table);
    const entries = added.get(key) ?? [];
    for (const range of repair.ranges) {
      entries.push({ start: range.start, end: range.end, finishedAt: repair.finishedAt, status: 'SUCCESS' });
    }
    added.set(key, entries);
  }
  const history: Record<string, readonly RepairEntry[] | TableHistory> = { ...input.history };
  for (const [key, entries] of added) {
    const given = input.history[key] ?? [];
    history[key] = isTableHistory(given) ? withRepairs(given, entries, tolerance) : [...given, ...entries];
  }
  return { ...input, ring, now, history };
}
