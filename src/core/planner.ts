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
  /** Tables whose local size is at most this are repaired in one task for the whole table (default: never). */
  readonly smallTableBytes?: number;
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

/** The key of a table in PlanInput maps: `keyspace.table` (Cassandra names cannot contain dots). */
export function tableKey(keyspace: string, table: string): string {
  return `${keyspace}.${table}`;
}

/** One table job as seen from the local node. Times are epoch ms from Cassandra's clock. */
export interface TableJob {
  readonly keyspace: string;
  readonly table: string;
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
  | 'single_replica';

/** A table tend does not schedule at all, and why. */
export interface SkippedTable {
  readonly keyspace: string;
  readonly table: string;
  readonly code: SkipCode;
  readonly reason: string;
}

export type DeferCode = 'blocked' | 'batch_full' | 'replica_down';

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

interface Candidate {
  readonly settings: TableSettings;
  readonly job: TableJob;
  readonly placement: KeyspacePlacement;
  readonly repairedAt: Float64Array;
  readonly pieces: ReadonlyMap<number, readonly { range: TokenRange; repairedAt: number | null }[]>;
  readonly size: TableSize | undefined;
  readonly neverAt: number;
}

/** Computes the Plan. Pure and deterministic: the same input gives the same Plan, whatever the input order. */
export function plan(input: PlanInput): Plan {
  const { now, localHostId, limits } = input;
  const lookback = input.historyLookbackMs ?? DEFAULT_HISTORY_LOOKBACK_MS;
  const tolerance = input.mergeToleranceMs ?? DEFAULT_MERGE_TOLERANCE_MS;
  const ring = input.ring ?? buildRing(input.topology.nodes);
  const local = ring.nodes.get(localHostId);
  if (!local) throw new TopologyError(`local node ${localHostId} is not in the topology`);
  const placements = new Map<string, KeyspacePlacement>();
  const skipped: SkippedTable[] = [];
  const candidates: Candidate[] = [];
  let historyEntries = 0;

  for (const settings of input.tables) {
    const { keyspace, table } = settings;
    const skip = (code: SkipCode, reason: string): void => {
      skipped.push({ keyspace, table, code, reason });
    };
    if (!settings.enabled) {
      skip('disabled', 'disabled in configuration');
      continue;
    }
    const replication = input.topology.keyspaces[keyspace];
    if (!replication) {
      skip('unknown_keyspace', `keyspace ${keyspace} is not in the schema`);
      continue;
    }
    let strategy: ReturnType<typeof strategyName>;
    try {
      strategy = strategyName(replication.class);
    } catch (error) {
      skip('unsupported_strategy', `keyspace ${keyspace}: ${(error as Error).message}; tend cannot place its replicas`);
      continue;
    }
    if (strategy === 'LocalStrategy') {
      skip('local_strategy', 'LocalStrategy keyspaces are node-local and never repaired');
      continue;
    }
    const ks = keyspacePlacement(ring, replication, localHostId, placements);
    if (ks.localRanges.length === 0) {
      skip(
        'not_replicated_here',
        `keyspace ${keyspace} has no replica on this node (${replicationSignature(replication)})`,
      );
      continue;
    }
    if (ks.localReplicationFactor < 2) {
      skip('single_replica', `keyspace ${keyspace} keeps one replica of this node's ranges: nothing to repair against`);
      continue;
    }
    const key = tableKey(keyspace, table);
    const given = input.history[key] ?? [];
    const folded = isTableHistory(given) ? given : foldTableHistory(ring, given, tolerance);
    if (folded.ring !== ring) throw new TopologyError(`history of ${key} was folded onto a different ring`);
    historyEntries += folded.stats.entries;
    const neverAt = now - lookback;
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
    const effective = oldest === -Infinity ? neverAt : oldest;
    const decision = evaluatePolicies(input.policies, { now, keyspace, table, datacenter: local.datacenter });
    const assessment = assessJob(now, effective, settings, !decision.allowed);
    const oldestRange = ring.ranges[oldestIndex];
    const size = input.sizes?.[key];
    candidates.push({
      settings,
      placement: ks,
      repairedAt: folded.repairedAt,
      pieces: folded.pieces,
      size,
      neverAt,
      job: {
        keyspace,
        table,
        repairType: settings.repairType,
        state: assessment.state,
        alarm: assessment.alarm,
        due: assessment.due,
        priority: assessment.priority,
        overdueHours: assessment.overdueHours,
        tieBreaker: tieBreaker(keyspace, table),
        lastRepairedAt: oldest === -Infinity ? null : oldest,
        nextDueAt: assessment.nextDueAt,
        rangesTotal: ks.localRanges.length,
        rangesBehind: behind,
        rangesNeverRepaired: never,
        oldestRange: oldestRange ? toRangeText(oldestRange) : null,
        replicationFactor: ks.localReplicationFactor,
        estimatedBytes: size ? size.totalBytes : null,
        blockedBy: decision.reasons,
        history: folded.stats,
      },
    });
  }

  candidates.sort((a, b) => compareJobs(a.job, b.job));
  const tasks: RepairTask[] = [];
  const deferred: DeferredJob[] = [];
  for (const candidate of candidates) {
    const { job } = candidate;
    if (!job.due) continue;
    if (job.state === 'BLOCKED') {
      deferred.push({ keyspace: job.keyspace, table: job.table, code: 'blocked', reason: job.blockedBy.join('; ') });
      continue;
    }
    if (tasks.length >= limits.maxTasks) {
      deferred.push({
        keyspace: job.keyspace,
        table: job.table,
        code: 'batch_full',
        reason: `batch full: ${limits.maxTasks} task(s) planned for higher-priority jobs`,
      });
      continue;
    }
    const { planned, withheld } = tasksForJob(ring, candidate, now, limits);
    let taken = 0;
    for (const task of planned) {
      if (tasks.length >= limits.maxTasks) break;
      tasks.push({ id: `${tableKey(job.keyspace, job.table)}#${taken + 1}`, ...task });
      taken++;
    }
    if (taken < planned.length) {
      deferred.push({
        keyspace: job.keyspace,
        table: job.table,
        code: 'batch_full',
        reason: `${planned.length - taken} of ${planned.length} task(s) left for a later tick (maxTasks ${limits.maxTasks})`,
      });
    }
    for (const reason of withheld)
      deferred.push({ keyspace: job.keyspace, table: job.table, code: 'replica_down', reason });
  }

  const jobs = candidates.map((c) => c.job);
  skipped.sort((a, b) => compareNames(tableKey(a.keyspace, a.table), tableKey(b.keyspace, b.table)));
  return {
    formatVersion: PLAN_FORMAT_VERSION,
    now,
    localHostId,
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

/** A range to repair and what it stands for. */
interface WorkItem {
  readonly range: TokenRange;
  /** Ring index of the vnode the range lies in. */
  readonly vnode: number;
  readonly replicaSet: number;
  readonly repairedAt: number;
  readonly bytes: number | null;
}

type TaskDraft = Omit<RepairTask, 'id'>;

function tasksForJob(
  ring: Ring,
  candidate: Candidate,
  now: number,
  limits: PlanLimits,
): { planned: TaskDraft[]; withheld: string[] } {
  const { settings, job, placement, repairedAt, size } = candidate;
  const { replicaSets, replicaSetOfRange } = placement.placement;
  const dueBefore = now - settings.intervalMs;
  const localWidth = placement.localRanges.reduce((sum, i) => sum + Number(rangeWidth(ring.ranges[i] ?? FULL)), 0);
  const bytesOf = (index: number): number | null => {
    if (!size) return null;
    const range = ring.ranges[index];
    if (!range) return null;
    const listed = size.rangeBytes?.[`${range.start}:${range.end}`];
    return listed ?? (size.totalBytes * Number(rangeWidth(range))) / localWidth;
  };
  const withheld: string[] = [];
  const downIn = (hostIds: readonly string[]): string[] =>
    hostIds.filter((h) => ring.nodes.get(h)?.up !== true).map((h) => `${ring.nodes.get(h)?.address ?? '?'} (${h})`);

  const wholeTable =
    settings.repairType === 'incremental' ||
    (size !== undefined && limits.smallTableBytes !== undefined && size.totalBytes <= limits.smallTableBytes);
  if (wholeTable) {
    const hostIds = new Set<string>();
    let oldest = Infinity;
    for (const index of placement.localRanges) {
      for (const h of replicaSets[replicaSetOfRange[index] ?? 0]?.hostIds ?? []) hostIds.add(h);
      oldest = Math.min(oldest, repairedAt[index] ?? -Infinity);
    }
    const replicas = [...hostIds].sort();
    const down = downIn(replicas);
    if (down.length > 0)
      return { planned: [], withheld: [`whole-table task withheld: replica ${down.join(', ')} down`] };
    const why =
      settings.repairType === 'incremental'
        ? 'incremental repair of the whole table'
        : `small table (${formatBytes(size?.totalBytes ?? 0)} ≤ ${formatBytes(limits.smallTableBytes ?? 0)}): whole table in one task`;
    return {
      planned: [
        {
          keyspace: job.keyspace,
          tables: [job.table],
          scope: 'table',
          ranges: placement.localRanges.map((i) => toRangeText(ring.ranges[i] ?? FULL)),
          replicas,
          replicaAddresses: replicas.map((h) => ring.nodes.get(h)?.address ?? '?'),
          datacenters: [...new Set(replicas.map((h) => ring.nodes.get(h)?.datacenter ?? '?'))].sort(),
          repairType: settings.repairType,
          incremental: settings.repairType === 'incremental',
          parallelism: settings.parallelism,
          priority: job.priority,
          estimatedBytes: size ? size.totalBytes : null,
          oldestRepairedAt: oldest === -Infinity ? null : oldest,
          reason: `${why}; ${jobReason(job, settings, now, candidate.neverAt)}`,
        },
      ],
      withheld,
    };
  }

  // Collect the due work, vnode by vnode in ring order.
  const items: WorkItem[] = [];
  const target = settings.repairType === 'subrange' ? settings.sizeTargetBytes : undefined;
  for (const index of placement.localRanges) {
    const at = repairedAt[index] ?? -Infinity;
    if (at > dueBefore) continue;
    const vnode = ring.ranges[index];
    if (!vnode) continue;
    const replicaSet = replicaSetOfRange[index] ?? 0;
    const vnodeBytes = bytesOf(index);
    const timeline = target !== undefined ? candidate.pieces.get(index) : undefined;
    // With sub-range history only the due parts of the vnode are repaired; neighbouring due pieces join up first.
    const dueParts: { range: TokenRange; repairedAt: number }[] = [];
    if (timeline) {
      for (const piece of timeline) {
        const pieceAt = piece.repairedAt ?? -Infinity;
        if (pieceAt > dueBefore) continue;
        const last = dueParts[dueParts.length - 1];
        if (last && last.range.end === piece.range.start) {
          dueParts[dueParts.length - 1] = {
            range: { start: last.range.start, end: piece.range.end },
            repairedAt: Math.min(last.repairedAt, pieceAt),
          };
        } else dueParts.push({ range: piece.range, repairedAt: pieceAt });
      }
    } else dueParts.push({ range: vnode, repairedAt: at });
    const vnodeWidth = Number(rangeWidth(vnode));
    for (const part of dueParts) {
      const partBytes = vnodeBytes === null ? null : (vnodeBytes * Number(rangeWidth(part.range))) / vnodeWidth;
      const pieces =
        target !== undefined && partBytes !== null && target > 0 ? Math.max(1, Math.ceil(partBytes / target)) : 1;
      for (const range of splitRange(part.range, pieces)) {
        items.push({
          range,
          vnode: index,
          replicaSet,
          repairedAt: part.repairedAt,
          bytes: partBytes === null ? null : partBytes / pieces,
        });
      }
    }
  }

  // Group by replica set: a task never mixes replica sets. Groups holding the oldest ranges go first.
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
  const chunkSize = limits.maxRangesPerTask && limits.maxRangesPerTask > 0 ? limits.maxRangesPerTask : Infinity;
  const planned: TaskDraft[] = [];
  for (const [setIndex, group] of ordered) {
    const set = replicaSets[setIndex];
    if (!set) continue;
    const down = downIn(set.hostIds);
    if (down.length > 0) {
      withheld.push(`${group.length} range(s) on replicas ${set.key} withheld: replica ${down.join(', ')} down`);
      continue;
    }
    for (let from = 0; from < group.length; from += chunkSize) {
      const chunk = group.slice(from, from + chunkSize);
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
        oldest === -Infinity
          ? 'never repaired in the history read'
          : `last repaired ${formatDuration(now - oldest)} ago`;
      planned.push({
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
      });
    }
  }
  return { planned, withheld };
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
