/**
 * Everything a plan needs, gathered from the cluster into the core's PlanInput: configuration per table,
 * topology, history, size estimates and run policies. `schedule status`, `schedule plan`, `history show
 * --coverage` and the tick all start here, so they agree on what is due.
 *
 * Reads, for N tables tend schedules with R local ranges each (see src/history/table-history.ts):
 * - topology: system.local + system.peers_v2 (one row per node) + system_schema keyspaces and tables;
 * - per table: its tend.repair_state partition (≈ R rows) plus system_distributed sessions since the watermark,
 *   plus their parent rows by key; read for HISTORY_GROUP_SIZE tables of a keyspace at a time, one request per
 *   source (`IN`), so the round trips grow with N / HISTORY_GROUP_SIZE;
 * - per keyspace: the local node's size estimates (tables × primary ranges rows);
 * - tend.run_windows + tend.pauses (a handful of rows).
 * `rowsRead` counts them; `schedule plan --explain` prints the figures.
 *
 * History is read only for tables the planner would schedule: a first, history-free pass of the pure planner tells
 * which tables it skips (disabled, not replicated here, a single replica, …), so their history is never read.
 */
import type cassandra from 'cassandra-driver';
import {
  buildRing,
  computePlacement,
  DEFAULT_HISTORY_LOOKBACK_MS,
  plan as planTables,
  rangesReplicatedBy,
  rangeWidth,
  tableKey,
  type PlanInput,
  type PlanLimits,
  type TableHistory,
  type TableSettings,
  type TableSize,
} from '../core/index.js';
import { tableSettings, unmatchedOverrides, type TableSettings as ConfigTableSettings } from '../config/tables.js';
import type { TableOverride } from '../config/schema.js';
import type { TendConfig } from '../config/schema.js';
import { readTopology, driverHost, type ClusterTopology } from '../cluster/topology.js';
import { readSizeEstimates } from '../cluster/size-estimates.js';
import { loadPolicies } from './policy-store.js';
import { readTableHistories, type HistoryRowsRead, type ParentCache } from '../history/table-history.js';
import { clusterNow } from '../cluster/session.js';
import { mapLimit } from './concurrency.js';
import { inScope, parseScopeArgument, resolveScope, type TableScope } from './scope.js';

export interface RowsRead extends HistoryRowsRead {
  topology: number;
  estimates: number;
  policies: number;
  total: number;
}

export interface GatherOptions {
  /** `KEYSPACE[.TABLE]` as the operator typed it: only those tables are planned (UsageError when unknown). */
  readonly scope?: string | undefined;
  /** Fold newly seen external history into repair_state and advance its watermark (the tick does). */
  readonly persistHistory?: boolean;
  /** Overrides of the limits derived from the configuration. */
  readonly limits?: Partial<PlanLimits>;
  /** Read size estimates (default true). */
  readonly readSizes?: boolean;
  /** Groups of tables (HISTORY_GROUP_SIZE each) whose history is read at once. */
  readonly concurrency?: number;
}

/**
 * Tables of one keyspace whose history is read with one request per source. Measured on the sandbox (100 tables,
 * warm client): one request per table 250–500 ms, groups of 10–25 about 100 ms; larger groups make one
 * coordinator read more partitions for one request without being faster.
 */
export const HISTORY_GROUP_SIZE = 20;

/** The tables of `jobs` in groups of at most `size` tables of one keyspace, in the jobs' order. */
export function historyGroups(
  jobs: readonly { keyspace: string; table: string }[],
  size: number,
): { keyspace: string; tables: string[] }[] {
  const byKeyspace = new Map<string, string[]>();
  for (const job of jobs) {
    const tables = byKeyspace.get(job.keyspace) ?? [];
    tables.push(job.table);
    byKeyspace.set(job.keyspace, tables);
  }
  const groups: { keyspace: string; tables: string[] }[] = [];
  for (const [keyspace, tables] of byKeyspace) {
    for (let from = 0; from < tables.length; from += size) {
      groups.push({ keyspace, tables: tables.slice(from, from + size) });
    }
  }
  return groups;
}

export interface PlanContext {
  readonly input: PlanInput;
  readonly topology: ClusterTopology;
  readonly scope: TableScope | undefined;
  /** Resolved configuration per table (with the override that applied), by tableKey. */
  readonly settings: ReadonlyMap<string, ConfigTableSettings>;
  readonly rowsRead: RowsRead;
  readonly sizesSource: string;
  /** Things an operator should know (estimates unavailable, …), for stderr. */
  readonly warnings: readonly string[];
}

/** The config's per-table settings in the core's shape. */
export function coreTableSettings(keyspace: string, table: string, settings: ConfigTableSettings): TableSettings {
  return {
    keyspace,
    table,
    enabled: settings.enabled,
    repairType: settings.type,
    parallelism: settings.parallelism,
    sizeTargetBytes: settings.sizeTarget,
    intervalMs: settings.interval,
    warnMs: settings.alarm.warn,
    errorMs: settings.alarm.error,
    weight: settings.weight,
  };
}

/**
 * Tables whose gc_grace_seconds is shorter than their error alarm: a range can pass gc_grace (deleted data may come
 * back) before tend raises its alarm. gc_grace_seconds 0 (tables that never delete, or TTL-only tables whose
 * owners accepted the risk) is left out: repair cannot protect it anyway.
 */
export function gcGraceWarning(
  topology: Pick<ClusterTopology, 'keyspaceInfo'>,
  settings: ReadonlyMap<string, ConfigTableSettings>,
): string | undefined {
  const short: string[] = [];
  for (const ks of Object.values(topology.keyspaceInfo)) {
    for (const [table, graceMs] of Object.entries(ks.gcGraceMs)) {
      const resolved = settings.get(tableKey(ks.name, table));
      if (!resolved?.enabled || graceMs <= 0) continue;
      if (graceMs < resolved.alarm.error) short.push(`${ks.name}.${table} (${graceMs / 1000}s)`);
    }
  }
  if (short.length === 0) return undefined;
  return (
    `${short.length} table(s) have gc_grace_seconds shorter than their error alarm, so deleted data may come back ` +
    `before tend alarms: ${short.slice(0, 5).join(', ')}${short.length > 5 ? ', …' : ''}; lower repair.alarm.error ` +
    `and repair.interval for them (repair.tables) or raise gc_grace_seconds`
  );
}

/**
 * One warning per repair.tables entry that matches no table tend sees (whatever the command's scope): it has no
 * effect, and an operator who wrote it expected one. Once per command, since every command plans once.
 */
export function overrideWarnings(
  entries: ReadonlyArray<Pick<TableOverride, 'match'>>,
  topology: Pick<ClusterTopology, 'keyspaceInfo'>,
): string[] {
  const tables = Object.values(topology.keyspaceInfo).flatMap((ks) =>
    ks.tables.map((table) => ({ keyspace: ks.name, table })),
  );
  return unmatchedOverrides(entries, tables).map(
    (entry) =>
      `repair.tables[${entry.index}]: match ${entry.match} matches no table, so it has no effect` +
      (entry.didYouMean
        ? `; exact matches are case-sensitive: did you mean ${entry.didYouMean}?`
        : ' (a typo, or a table that was dropped?)'),
  );
}

/** Gathers the PlanInput for the node tend acts for (config.node), optionally narrowed to a scope. */
export async function gatherPlanInput(
  client: cassandra.Client,
  config: TendConfig,
  options: GatherOptions = {},
): Promise<PlanContext> {
  const tendKeyspace = config.cassandra.keyspace;
  const warnings: string[] = [];
  const now = await clusterNow(client);
  const topology = await readTopology(client, {
    tendKeyspace,
    localNode: {
      hostId: config.node.hostId,
      address: config.node.address,
      contactPoint: config.cassandra.contactPoints[0],
    },
  });
  const scope = options.scope
    ? resolveScope(
        parseScopeArgument(options.scope),
        Object.fromEntries(Object.values(topology.keyspaceInfo).map((ks) => [ks.name, ks.tables])),
        topology.excludedKeyspaces,
      )
    : undefined;

  const settings = new Map<string, ConfigTableSettings>();
  const tables: TableSettings[] = [];
  for (const ks of Object.values(topology.keyspaceInfo)) {
    for (const table of ks.tables) {
      if (!inScope(scope, ks.name, table)) continue;
      const resolved = tableSettings(config.repair, ks.name, table);
      settings.set(tableKey(ks.name, table), resolved);
      tables.push(coreTableSettings(ks.name, table, resolved));
    }
  }
  const graceWarning = gcGraceWarning(topology, settings);
  if (graceWarning) warnings.push(graceWarning);
  warnings.push(...overrideWarnings(config.repair.tables, topology));
  const ring = buildRing(topology.nodes);
  const lookbackMs = config.repair.historyLookback ?? DEFAULT_HISTORY_LOOKBACK_MS;
  const limits: PlanLimits = { maxTasks: config.schedule.maxTasks, ...options.limits };
  const base = {
    now,
    localHostId: topology.localHostId,
    tables,
    topology,
    ring,
    limits,
    historyLookbackMs: lookbackMs,
  };

  // Which tables would be scheduled at all (the pure planner decides; its skips need no history).
  const scheduled = planTables({ ...base, history: {} }).jobs;

  const parents: ParentCache = new Map();
  const history: Record<string, TableHistory> = {};
  const historyRows: HistoryRowsRead = { state: 0, sessions: 0, parents: 0 };
  // Tables are read in groups of one keyspace: one request per group for repair_state and one for Cassandra's
  // sessions, instead of one each per table (an idle tick over 100 tables spent most of its time on those round
  // trips).
  await mapLimit(historyGroups(scheduled, HISTORY_GROUP_SIZE), options.concurrency ?? 4, async (group) => {
    const reads = await readTableHistories(client, {
      ring,
      tendKeyspace,
      keyspace: group.keyspace,
      tables: group.tables,
      now,
      lookbackMs,
      parents,
      persist: options.persistHistory ?? false,
      persistAs: config.node.name ?? topology.localAddress,
    });
    for (const [table, read] of reads) {
      history[tableKey(group.keyspace, table)] = read.history;
      historyRows.state += read.rowsRead.state;
      historyRows.sessions += read.rowsRead.sessions;
      historyRows.parents += read.rowsRead.parents;
    }
  });

  let estimatesRows = 0;
  let sizesSource = 'not read';
  const sizes: Record<string, TableSize> = {};
  if ((options.readSizes ?? true) && scheduled.length > 0) {
    const keyspaces = [...new Set(scheduled.map((job) => job.keyspace))].sort();
    const estimates = await readSizeEstimates(client, keyspaces, driverHost(client, topology.localAddress));
    estimatesRows = estimates.rowsRead;
    sizesSource = estimates.source;
    if (estimates.problem) warnings.push(`size estimates unavailable: ${estimates.problem}`);
    for (const ks of keyspaces) {
      const replication = topology.keyspaces[ks];
      const perTable = estimates.tables.get(ks);
      if (!replication || !perTable) continue;
      // Local width: every range this node replicates for the keyspace, not only its primary ones.
      const placement = computePlacement(ring, replication, topology.localHostId);
      let localWidth = 0;
      for (const index of rangesReplicatedBy(placement, topology.localHostId)) {
        const range = ring.ranges[index];
        if (range) localWidth += Number(rangeWidth(range));
      }
      for (const [table, estimate] of perTable) {
        sizes[tableKey(ks, table)] = {
          totalBytes: Math.round(estimate.bytesPerToken * localWidth),
          rangeBytes: estimate.rangeBytes,
        };
      }
    }
  }

  const policies = await loadPolicies(client, tendKeyspace, config.schedule.windows);
  for (const problem of policies.problems) warnings.push(problem);
  const policyRows = policies.windows.length - config.schedule.windows.length + policies.pauses.length;
  const rowsRead: RowsRead = {
    topology: topology.rowsRead,
    ...historyRows,
    estimates: estimatesRows,
    policies: policyRows,
    total:
      topology.rowsRead + historyRows.state + historyRows.sessions + historyRows.parents + estimatesRows + policyRows,
  };
  return {
    input: { ...base, history, sizes, policies: { windows: policies.windows, pauses: policies.pauses } },
    topology,
    scope,
    settings,
    rowsRead,
    sizesSource,
    warnings,
  };
}
