// Back-pressure: a repair adds validation compactions, streaming and (for incremental repair) anticompaction to
// every replica it touches. A replica that is already behind on compaction, holds a table in too many SSTables or
// is short of disk would fall further behind, or fill its disk, so the task waits for a later tick. The figures
// come from src/cluster/replica-load.ts; this file only compares them with the configured limits.

/** The limits of repair.backPressure (sizes in bytes, ratios 0..1). */
export interface BackPressureLimits {
  /** Postpone while a replica has more pending compactions than this (Reaper's default is 20). */
  readonly maxPendingCompactions: number;
  /** Postpone while one of the task's tables has more live SSTables than this on a replica. */
  readonly maxSSTables: number;
  /** Postpone while a replica's data directories have less than this share of their space free (0..1). */
  readonly minFreeDiskRatio: number;
}

/** What tend could measure on one replica; null (or a table missing) means unknown, never "fine". */
export interface ReplicaLoad {
  readonly address: string;
  /**
   * Estimated compactions to run (JMX Compaction.PendingTasks, what `nodetool compactionstats` prints), or, when
   * Jolokia cannot be reached, the compaction executor's running and queued tasks (system_views.thread_pools):
   * a lower bound of the same figure, without the compaction strategies' backlog estimate.
   */
  readonly pendingCompactions: { readonly value: number; readonly source: 'jmx' | 'thread_pools' } | null;
  /** Live SSTables of the task's tables on this replica (JMX Table.LiveSSTableCount), by table name. */
  readonly sstables: Readonly<Record<string, number>>;
  /** The fullest of the replica's data directories (statfs), when tend can see them (the local node). */
  readonly disk: { readonly freeBytes: number; readonly totalBytes: number; readonly path: string } | null;
  /**
   * Cassandra's own verdict on the replica's data disks, gossiped by every node when the guardrails
   * data_disk_usage_percentage_warn_threshold / _fail_threshold are set: STUFFED past the warn threshold, FULL past
   * the fail threshold. null: not configured, or not known.
   */
  readonly diskState: 'SPACIOUS' | 'STUFFED' | 'FULL' | null;
  /** Why a figure is unknown (Jolokia unreachable, …), for `--explain` and the debug log. */
  readonly problems: readonly string[];
}

/** One limit a replica is past. */
export interface Overload {
  readonly replica: string;
  readonly what: 'pending_compactions' | 'sstables' | 'free_disk' | 'disk_state';
  readonly text: string;
}

export type BackPressureVerdict =
  | { readonly start: true; readonly unknown: readonly { readonly replica: string; readonly problem: string }[] }
  | {
      readonly start: false;
      readonly code: 'back_pressure';
      /** One line: which replica, which figure, which limit. */
      readonly reason: string;
      readonly overloads: readonly Overload[];
      readonly unknown: readonly { readonly replica: string; readonly problem: string }[];
    };

/** `12.3MiB`: binary units, one decimal above bytes. */
export function formatBytes(value: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = value;
  let unit = 0;
  while (v >= 1024 && unit < units.length - 1) {
    v /= 1024;
    unit++;
  }
  return `${unit === 0 ? v : v.toFixed(1)}${units[unit]}`;
}

/** The limits `load` is past. */
export function overloads(load: ReplicaLoad, tables: readonly string[], limits: BackPressureLimits): Overload[] {
  const found: Overload[] = [];
  const replica = load.address;
  const pending = load.pendingCompactions;
  if (pending && pending.value > limits.maxPendingCompactions) {
    const what = pending.source === 'jmx' ? 'pending compactions' : 'compactions running or queued';
    found.push({
      replica,
      what: 'pending_compactions',
      text: `${pending.value} ${what} > repair.backPressure.maxPendingCompactions ${limits.maxPendingCompactions}`,
    });
  }
  for (const table of tables) {
    const count = load.sstables[table];
    if (count !== undefined && count > limits.maxSSTables) {
      found.push({
        replica,
        what: 'sstables',
        text: `${table} has ${count} SSTables > repair.backPressure.maxSSTables ${limits.maxSSTables}`,
      });
    }
  }
  if (load.disk && load.disk.totalBytes > 0) {
    const ratio = load.disk.freeBytes / load.disk.totalBytes;
    if (ratio < limits.minFreeDiskRatio) {
      found.push({
        replica,
        what: 'free_disk',
        text:
          `${formatBytes(load.disk.freeBytes)} free of ${formatBytes(load.disk.totalBytes)} (${(ratio * 100).toFixed(1)}%) on ${load.disk.path} ` +
          `< repair.backPressure.minFreeDisk ${(limits.minFreeDiskRatio * 100).toFixed(0)}%`,
      });
    }
  }
  if (load.diskState === 'STUFFED' || load.diskState === 'FULL') {
    found.push({
      replica,
      what: 'disk_state',
      text: `Cassandra reports its data disks ${load.diskState} (past data_disk_usage_percentage_${load.diskState === 'FULL' ? 'fail' : 'warn'}_threshold)`,
    });
  }
  return found;
}

/**
 * Whether a task of `tables` may start on `replicas` given their loads: postponed while any replica is past a
 * limit. Figures tend could not measure never postpone (an unreachable Jolokia must not stop repairs for good;
 * tables past gc_grace are worse than a busy node); they are listed under `unknown`.
 */
export function backPressureVerdict(input: {
  readonly replicas: readonly string[];
  readonly tables: readonly string[];
  readonly loads: readonly ReplicaLoad[];
  readonly limits: BackPressureLimits;
}): BackPressureVerdict {
  const found: Overload[] = [];
  const unknown: { replica: string; problem: string }[] = [];
  for (const replica of input.replicas) {
    const load = input.loads.find((l) => l.address === replica);
    if (!load) {
      unknown.push({ replica, problem: 'not measured' });
      continue;
    }
    for (const problem of load.problems) unknown.push({ replica, problem });
    found.push(...overloads(load, input.tables, input.limits));
  }
  if (found.length === 0) return { start: true, unknown };
  const first = found[0]!;
  const more = found.length > 1 ? ` (and ${found.length - 1} more)` : '';
  return {
    start: false,
    code: 'back_pressure',
    reason: `replica ${first.replica} is under back-pressure: ${first.text}${more}`,
    overloads: found,
    unknown,
  };
}
