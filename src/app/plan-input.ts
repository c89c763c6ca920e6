/**
 * Everything a plan needs, gathered from the cluster into the core's PlanInput: configuration per table,
 * topology, history, size estimates and run policies. `schedule status`, `schedule plan`, `history show
 * --coverage` and the tick all start here, so they agree on what is due.
 *
 * Two ways to read history (GatherOptions.basis):
 * - 'summaries' (the tick, `schedule plan`): every table is planned from its one-row summary in tend.table_summary
 *   (src/core/summary.ts); the range-level history of a table is read only when the planner says it could get a
 *   task in this batch (`tablesToRead`), and the plan is made again, until it needs nothing more. An idle tick
 *   reads, per table, its system_schema row and its summary: two rows, whatever the number of vnodes or nodes.
 * - 'ranges' (`schedule status`, `history show --coverage`): every table's range-level history is read, so every
 *   figure shown is exact.
 *
 * Range-level reads, for a table with R local ranges (see src/history/table-history.ts): its tend.repair_state
 * partition (≈ R rows) plus system_distributed sessions since the watermark, plus their parent rows by key; read for
 * HISTORY_GROUP_SIZE tables of a keyspace at a time, one request per source (`IN`). Size estimates (tables ×
 * primary ranges rows) are read for the same tables only. Plus the topology (system.local, system.peers_v2,
 * system_schema keyspaces and tables) and tend.run_windows + tend.pauses (a handful of rows). `rowsRead` counts
 * them; `schedule plan --explain` prints the figures.
 *
 * History is read only for tables the planner would schedule: a first, history-free pass of the pure planner tells
 * which tables it skips (disabled, not replicated here, a single replica, …), so their history is never read.
 */
import type cassandra from 'cassandra-driver';
import {
  buildRing,
  computePlacement,
  DEFAULT_HISTORY_LOOKBACK_MS,
  keyspaceFingerprints,
  plan as planTables,
  rangesReplicatedBy,
  rangeWidth,
  summaryBounds,
  tableKey,
  tablesToRead,
  type Plan,
  type PlanInput,
  type PlanLimits,
  type Ring,
  type RunPolicies,
  type SummaryBound,
  type TableHistory,
  type TableSettings,
  type TableSize,
  type TableSummary,
} from '../core/index.js';
import {
  schemaSkip,
  tableSettings,
  unmatchedOverrides,
  type TableSettings as ConfigTableSettings,
} from '../config/tables.js';
import type { TableOverride } from '../config/schema.js';
import type { TendConfig } from '../config/schema.js';
import { readTopology, driverHost, type ClusterTopology } from '../cluster/topology.js';
import { readSizeEstimates, type EstimatesRequest } from '../cluster/size-estimates.js';
import { readTableSummaries } from '../history/table-summary.js';
import { readAutoRepairState } from '../cluster/auto-repair.js';
import { withAutoRepairSkips } from '../core/auto-repair.js';
import { loadPolicies } from './policies.js';
import { CassandraPolicyStore } from '../cluster/policy-store.js';
import { readTableHistories, type HistoryRowsRead, type ParentCache } from '../history/table-history.js';
import { clusterNow } from '../cluster/session.js';
import { mapLimit } from './concurrency.js';
import { inScope, parseScopeArgument, resolveScope, type TableScope } from './scope.js';

export interface RowsRead extends HistoryRowsRead {
  topology: number;
  /** tend.table_summary rows (basis 'summaries'). */
  summaries: number;
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
  /**
   * 'ranges' (default): read every table's range-level history. 'summaries': plan from tend.table_summary and read
   * the ranges of the tables that could get a task only (the tick and `schedule plan`).
   */
  readonly basis?: 'ranges' | 'summaries';
  /**
   * The topology as seen from the node to plan for, already read (a group tick reads it once for every node it
   * covers; see src/app/group-tick.ts). Absent: read here for config.node.
   */
  readonly topology?: ClusterTopology;
  /**
   * Range-level history already read, by tableKey, shared between the plans of a group tick: a table's history is
   * the cluster's, whichever node plans (size estimates stay per node). Tables read here are added to it.
   */
  readonly history?: Record<string, TableHistory>;
  /** The ring `history` was folded onto (buildRing of the topology's nodes), shared with it. */
  readonly ring?: Ring;
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
  /** The plan of `input`, when gathering computed it already (basis 'summaries'). */
  readonly plan?: Plan;
  /** With basis 'summaries': what was stored, and the fingerprints of the local ranges now (to store new ones). */
  readonly summaries?: {
    readonly stored: ReadonlyMap<string, TableSummary>;
    readonly fingerprints: ReadonlyMap<string, string>;
  };
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
    `and repair.interval for them (repair.tables), leave them unset to follow gc_grace_seconds, or raise it`
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
  const topology = options.topology ?? (await readLocalTopology(client, config));
  const scope = options.scope ? resolveScopeIn(topology, options.scope) : undefined;
  const resolved = resolveTables(config, topology, scope);
  const { settings } = resolved;
  const tables = await leaveToAutoRepair(client, topology, resolved.tables);
  const graceWarning = gcGraceWarning(topology, settings);
  if (graceWarning) warnings.push(graceWarning);
  warnings.push(...overrideWarnings(config.repair.tables, topology));
  const ring = options.ring ?? buildRing(topology.nodes);
  const limits: PlanLimits = {
    maxTasks: config.schedule.maxTasks,
    smallTableBytes: config.repair.smallTableSize,
    tablesPerCommand: config.repair.tablesPerCommand,
    ...options.limits,
  };
  const loaded = await loadPolicies(new CassandraPolicyStore(client, tendKeyspace), config.schedule.windows);
  warnings.push(...loaded.problems);
  const policies: RunPolicies = { windows: loaded.windows, pauses: loaded.pauses };
  const base = {
    now,
    localHostId: topology.localHostId,
    tables,
    topology,
    ring,
    limits,
    policies,
    historyLookbackMs: config.repair.historyLookback ?? DEFAULT_HISTORY_LOOKBACK_MS,
  };
  // Which tables would be scheduled at all (the pure planner decides; its skips need no history, and it plans no
  // task with a batch of 0).
  const scheduled = planTables({ ...base, history: {}, limits: { ...limits, maxTasks: 0 } }).jobs;
  const reader = new HistoryReader(client, config, options, {
    ring,
    now,
    lookbackMs: base.historyLookbackMs,
    topology,
  });

  let summaries: PlanContext['summaries'];
  let bounds: Record<string, SummaryBound> | undefined;
  let summaryRows = 0;
  let plan: Plan | undefined;
  if (options.basis === 'summaries') {
    const read = await readTableSummaries(client, tendKeyspace, topology.localHostId);
    summaryRows = read.rowsRead;
    const fingerprints = keyspaceFingerprints(ring, topology, topology.localHostId);
    summaries = { stored: read.summaries, fingerprints };
    bounds = summaryBounds(scheduled, read.summaries, fingerprints);
    // Plan from the summaries; read the tables the plan asks for; plan again, until it asks for nothing more. The
    // last plan is the plan of the input returned (kept, so the caller need not compute it again).
    for (;;) {
      plan = planTables({ ...base, history: reader.history, summaries: bounds, sizes: reader.sizes });
      const wanted = tablesToRead(plan);
      if (wanted.length === 0) break;
      await reader.read(wanted, options.readSizes ?? true);
    }
  } else {
    await reader.read(scheduled, options.readSizes ?? true);
  }
  warnings.push(...reader.warnings);

  const policyRows = loaded.windows.length - config.schedule.windows.length + loaded.pauses.length;
  const rows = reader.rows;
  const rowsRead: RowsRead = {
    topology: topology.rowsRead,
    summaries: summaryRows,
    ...rows.history,
    estimates: rows.estimates,
    policies: policyRows,
    total:
      topology.rowsRead +
      summaryRows +
      rows.history.state +
      rows.history.sessions +
      rows.history.parents +
      rows.estimates +
      policyRows,
  };
  return {
    input: { ...base, history: reader.history, sizes: reader.sizes, ...(bounds ? { summaries: bounds } : {}) },
    topology,
    scope,
    settings,
    rowsRead,
    sizesSource: reader.sizesSource,
    warnings,
    ...(summaries ? { summaries } : {}),
    ...(plan ? { plan } : {}),
  };
}

/** The topology as seen for the node tend acts for (config.node, else the first contact point's node). */
export function readLocalTopology(client: cassandra.Client, config: TendConfig): Promise<ClusterTopology> {
  return readTopology(client, {
    tendKeyspace: config.cassandra.keyspace,
    localNode: {
      hostId: config.node.hostId,
      address: config.node.address,
      contactPoint: config.cassandra.contactPoints[0],
    },
  });
}

/** `KEYSPACE[.TABLE]` as typed, resolved against the tables of `topology` (UsageError when unknown). */
export function resolveScopeIn(
  topology: Pick<ClusterTopology, 'keyspaceInfo' | 'excludedKeyspaces'>,
  argument: string,
): TableScope {
  return resolveScope(
    parseScopeArgument(argument),
    Object.fromEntries(Object.values(topology.keyspaceInfo).map((ks) => [ks.name, ks.tables])),
    topology.excludedKeyspaces,
  );
}

/**
 * Cassandra's AutoRepair (CEP-37) on the node tend acts for: the tables it repairs there are skipped with the
 * reason (src/core/auto-repair.ts), so two schedulers never repair the same table. One read of the node's
 * system_views.settings per plan (and of system_schema.tables when AutoRepair is on). A node without AutoRepair
 * (4.1, 5.0 before 5.0.7, or without the JVM flag) skips nothing; so does a read that fails (4.0's settings table
 * has no auto_repair rows; a permission or a timeout must not stop the plan): the tables are then scheduled as
 * before, which is what tend did before it knew of AutoRepair.
 */
async function leaveToAutoRepair(
  client: cassandra.Client,
  topology: ClusterTopology,
  tables: TableSettings[],
): Promise<TableSettings[]> {
  // Settings are node-local: without the local node's connection, another node's answer would be a guess.
  const host = driverHost(client, topology.localAddress);
  if (host === undefined) return tables;
  const state = await readAutoRepairState(client, host).catch(() => undefined);
  if (!state) return tables;
  return withAutoRepairSkips(tables, state.node, topology.localDatacenter, state.tables);
}

/** Every table in scope with the configuration that applies to it (overrides resolved). */
function resolveTables(
  config: TendConfig,
  topology: ClusterTopology,
  scope: TableScope | undefined,
): { settings: Map<string, ConfigTableSettings>; tables: TableSettings[] } {
  const settings = new Map<string, ConfigTableSettings>();
  const tables: TableSettings[] = [];
  for (const ks of Object.values(topology.keyspaceInfo)) {
    for (const table of ks.tables) {
      if (!inScope(scope, ks.name, table)) continue;
      const schema = { gcGraceMs: ks.gcGraceMs[table], compactionClass: ks.compaction[table] };
      const resolved = tableSettings(config.repair, ks.name, table, schema);
      settings.set(tableKey(ks.name, table), resolved);
      const skip = schemaSkip(resolved, schema);
      tables.push({ ...coreTableSettings(ks.name, table, resolved), ...(skip ? { skip } : {}) });
    }
  }
  return { settings, tables };
}

/**
 * Reads range-level history and size estimates for the tables asked for, once each, and keeps them for the plan.
 * Tables are read in groups of one keyspace: one request per group for repair_state and one for Cassandra's
 * sessions, instead of one each per table (an idle tick over 100 tables spent most of its time on those round trips).
 */
class HistoryReader {
  readonly history: Record<string, TableHistory>;
  readonly sizes: Record<string, TableSize> = {};
  readonly warnings: string[] = [];
  readonly rows = { history: { state: 0, sessions: 0, parents: 0 } as HistoryRowsRead, estimates: 0 };
  sizesSource = 'not read';
  private readonly parents: ParentCache = new Map();

  constructor(
    private readonly client: cassandra.Client,
    private readonly config: TendConfig,
    private readonly options: GatherOptions,
    private readonly at: { ring: Ring; now: number; lookbackMs: number; topology: ClusterTopology },
  ) {
    this.history = options.history ?? {};
  }

  async read(tables: readonly { keyspace: string; table: string }[], withSizes: boolean): Promise<void> {
    const fresh = tables.filter((t) => this.history[tableKey(t.keyspace, t.table)] === undefined);
    if (fresh.length > 0) {
      await mapLimit(historyGroups(fresh, HISTORY_GROUP_SIZE), this.options.concurrency ?? 4, (group) =>
        this.readGroup(group),
      );
    }
    // Sizes are this node's: asked for every table without one yet, its history read here or by another node's plan.
    const unsized = tables.filter((t) => this.sizes[tableKey(t.keyspace, t.table)] === undefined);
    if (withSizes && unsized.length > 0) await this.readSizes(unsized);
  }

  private async readGroup(group: { keyspace: string; tables: string[] }): Promise<void> {
    const { ring, now, lookbackMs, topology } = this.at;
    const reads = await readTableHistories(this.client, {
      ring,
      tendKeyspace: this.config.cassandra.keyspace,
      keyspace: group.keyspace,
      tables: group.tables,
      now,
      lookbackMs,
      parents: this.parents,
      persist: this.options.persistHistory ?? false,
      persistAs: this.config.node.name ?? topology.localAddress,
    });
    for (const [table, read] of reads) {
      this.history[tableKey(group.keyspace, table)] = read.history;
      this.rows.history.state += read.rowsRead.state;
      this.rows.history.sessions += read.rowsRead.sessions;
      this.rows.history.parents += read.rowsRead.parents;
    }
  }

  /** The local node's estimates of these tables, scaled from its primary ranges to every range it replicates. */
  private async readSizes(tables: readonly { keyspace: string; table: string }[]): Promise<void> {
    const { ring, topology } = this.at;
    const byKeyspace = new Map<string, string[]>();
    for (const { keyspace, table } of tables) byKeyspace.set(keyspace, [...(byKeyspace.get(keyspace) ?? []), table]);
    const requests: EstimatesRequest[] = [...byKeyspace].map(([keyspace, names]) => ({ keyspace, tables: names }));
    const estimates = await readSizeEstimates(this.client, requests, driverHost(this.client, topology.localAddress));
    this.rows.estimates += estimates.rowsRead;
    this.sizesSource = estimates.source;
    if (estimates.problem) this.warnings.push(`size estimates unavailable: ${estimates.problem}`);
    for (const keyspace of byKeyspace.keys()) {
      const replication = topology.keyspaces[keyspace];
      const perTable = estimates.tables.get(keyspace);
      if (!replication || !perTable) continue;
      // Local width: every range this node replicates for the keyspace, not only its primary ones.
      const placement = computePlacement(ring, replication, topology.localHostId);
      let localWidth = 0;
      for (const index of rangesReplicatedBy(placement, topology.localHostId)) {
        const range = ring.ranges[index];
        if (range) localWidth += Number(rangeWidth(range));
      }
      for (const [table, estimate] of perTable) {
        this.sizes[tableKey(keyspace, table)] = {
          totalBytes: Math.round(estimate.bytesPerToken * localWidth),
          rangeBytes: estimate.rangeBytes,
        };
      }
    }
  }
}
