/**
 * `history show`: repair sessions of the tables in scope, from Cassandra's own history (every repair, whoever ran
 * it) and from tend's (every task tend ran, including failures). One line per repair command and table: who
 * coordinated, how many ranges, status, duration. With `--coverage`, per table the share of local ranges repaired
 * within the interval and the age of the oldest one — computed by the same planner as `schedule status`.
 */
import type cassandra from 'cassandra-driver';
import {
  bandCounts,
  ageBand,
  plan as computePlan,
  tableRangeAges,
  toRangeText,
  type AgeBand,
  type JobStepHistoryRow,
  type TableJob,
} from '../core/index.js';
import type { TendConfig } from '../config/schema.js';
import { tableSettings } from '../config/tables.js';
import { clusterNow } from '../cluster/session.js';
import { readParentSessions, readSessionRowsOf, type SessionRow } from '../history/cassandra-history.js';
import { readTendHistory, type TendHistoryRow } from '../history/tend-history.js';
import { gatherPlanInput, readLocalTopology, resolveScopeIn } from './plan-input.js';
import { mapLimit } from './concurrency.js';
import { inScope, type TableScope } from './scope.js';

export interface HistorySession {
  /** 'cassandra': system_distributed (any repair); 'tend': tend's own record of a task. */
  readonly source: 'cassandra' | 'tend';
  /** Parent repair id (cassandra) or task id (tend). */
  readonly id: string;
  readonly keyspace: string;
  readonly table: string;
  readonly coordinator: string;
  readonly participants: readonly string[];
  /** SUCCESS, FAILED, STARTED (running or abandoned), ABORTED, TIMEOUT. */
  readonly status: string;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  readonly durationMs: number | null;
  readonly ranges: number;
  readonly message: string | null;
}

export interface CoverageRow {
  readonly keyspace: string;
  readonly table: string;
  readonly rangesTotal: number;
  readonly rangesWithinInterval: number;
  /** rangesWithinInterval / rangesTotal, 0..1. */
  readonly share: number;
  readonly oldestRepairedAt: number | null;
  /** now − oldestRepairedAt; null when a range has no repair in the history read. */
  readonly oldestAgeMs: number | null;
  readonly intervalMs: number;
  readonly state: TableJob['state'];
  /** With --ring: every local range and how old its last successful repair is (the data the picture is drawn from). */
  readonly ring?: RingData;
}

/** One table's local ranges for `--ring`, in ring order, with the limits their bands are measured against. */
export interface RingData {
  readonly warnMs: number;
  readonly errorMs: number;
  /** Local ranges by band. */
  readonly bands: Record<AgeBand, number>;
  /**
   * The local ranges (start, end] (tokens as decimal text), each with its last successful repair (epoch ms; null:
   * none in the history read) and band. A vnode with sub-range history is given as its pieces.
   */
  readonly ranges: readonly {
    readonly start: string;
    readonly end: string;
    readonly repairedAt: number | null;
    readonly band: AgeBand;
  }[];
}

export interface HistoryReport {
  readonly now: number;
  readonly since: number;
  readonly sessions: readonly HistorySession[];
  readonly coverage?: readonly CoverageRow[];
  /** With --jobs: the steps of cluster-wide jobs (issue 17) that ran in the period, newest first. */
  readonly jobSteps?: readonly JobStepHistoryRow[];
}

export interface HistoryShowOptions {
  readonly scope?: string | undefined;
  readonly sinceMs: number;
  readonly coverage: boolean;
  /** Per table, the age of every local range (for the ring picture); implies coverage. */
  readonly ring?: boolean;
  /** With --jobs: reads the job steps since `since` in `scope` (from the job store, which may be Consul's). */
  readonly jobSteps?: (since: number, scope: TableScope | undefined) => Promise<JobStepHistoryRow[]>;
}

function worst(statuses: Iterable<string>): string {
  const set = new Set(statuses);
  for (const status of ['FAILED', 'TIMEOUT', 'ABORTED', 'STARTED']) if (set.has(status)) return status;
  return set.has('SUCCESS') ? 'SUCCESS' : ([...set][0] ?? 'UNKNOWN');
}

interface Group<Row> {
  rows: Row[];
}

function group<Row>(rows: Iterable<Row>, key: (row: Row) => string): Map<string, Group<Row>> {
  const groups = new Map<string, Group<Row>>();
  for (const row of rows) {
    const k = key(row);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { rows: [] }));
    g.rows.push(row);
  }
  return groups;
}

function span(rows: readonly { startedAt: number | null; finishedAt: number | null }[]) {
  const starts = rows.map((r) => r.startedAt).filter((t): t is number => t !== null);
  const ends = rows.map((r) => r.finishedAt).filter((t): t is number => t !== null);
  const startedAt = starts.length ? Math.min(...starts) : null;
  const finishedAt = ends.length === rows.length && ends.length > 0 ? Math.max(...ends) : null;
  return {
    startedAt,
    finishedAt,
    durationMs: startedAt !== null && finishedAt !== null ? finishedAt - startedAt : null,
  };
}

async function cassandraSessions(
  client: cassandra.Client,
  keyspace: string,
  table: string,
  since: number,
): Promise<HistorySession[]> {
  const rows: SessionRow[] = [];
  for await (const row of readSessionRowsOf(client, keyspace, [table], since)) rows.push(row);
  const byParent = group(rows, (row) => row.parentId ?? row.id);
  const parents = await readParentSessions(
    client,
    rows.map((row) => row.parentId).filter((id): id is string => id !== null),
  );
  return [...byParent.entries()].map(([id, { rows: sessionRows }]) => {
    const parent = parents.get(id);
    const first = sessionRows[0] as SessionRow;
    const timing = span(sessionRows);
    const status = worst(sessionRows.map((r) => r.status));
    const ranges = parent
      ? (status === 'SUCCESS' ? parent.successfulRanges : parent.requestedRanges).length ||
        parent.requestedRanges.length
      : new Set(sessionRows.map((r) => `${r.start}:${r.end}`)).size;
    return {
      source: 'cassandra' as const,
      id,
      keyspace,
      table,
      coordinator: first.coordinator,
      participants: [...new Set(sessionRows.flatMap((r) => r.participants))].sort(),
      status,
      startedAt: parent?.startedAt ?? timing.startedAt,
      finishedAt: parent?.finishedAt ?? timing.finishedAt,
      durationMs:
        parent?.startedAt != null && parent.finishedAt != null
          ? parent.finishedAt - parent.startedAt
          : timing.durationMs,
      ranges,
      message: sessionRows.find((r) => r.message)?.message ?? parent?.message ?? null,
    };
  });
}

/**
 * tend's history rows of one table as sessions: one per run of a task. A task id (`ks.t#0`, `ks.t#adhoc`) is only
 * unique within a plan, so rows are grouped by the tick, the task and when that run started: every row of one
 * executor run carries the same started_at. Grouping by task id alone merged runs of different ticks into one
 * session spanning them (a failed task of 88 ms showed as 105 s).
 */
export function tendSessionsOf(keyspace: string, table: string, rows: readonly TendHistoryRow[]): HistorySession[] {
  const byRun = group(rows, (row) => `${row.tickId ?? ''}|${row.taskId ?? row.id}|${row.startedAt ?? row.id}`);
  return [...byRun.values()].map(({ rows: taskRows }) => {
    const first = taskRows[0] as TendHistoryRow;
    return {
      source: 'tend' as const,
      id: first.taskId ?? first.id,
      keyspace,
      table,
      coordinator: first.coordinator,
      participants: [...new Set(taskRows.flatMap((r) => r.participants))].sort(),
      status: worst(taskRows.map((r) => r.status)),
      ...span(taskRows),
      ranges: new Set(taskRows.map((r) => `${r.start}:${r.end}`)).size,
      message: taskRows.find((r) => r.message)?.message ?? null,
    };
  });
}

async function tendSessions(
  client: cassandra.Client,
  tendKeyspace: string,
  keyspace: string,
  table: string,
  since: number,
): Promise<HistorySession[]> {
  const rows: TendHistoryRow[] = [];
  for await (const row of readTendHistory(client, tendKeyspace, keyspace, table, since)) rows.push(row);
  return tendSessionsOf(keyspace, table, rows);
}

export async function historyShow(
  client: cassandra.Client,
  config: TendConfig,
  options: HistoryShowOptions,
): Promise<HistoryReport> {
  const now = await clusterNow(client);
  const tendKeyspace = config.cassandra.keyspace;
  const topology = await readLocalTopology(client, config);
  const scope = options.scope ? resolveScopeIn(topology, options.scope) : undefined;
  const since = now - options.sinceMs;
  const tables = Object.values(topology.keyspaceInfo).flatMap((ks) =>
    ks.tables.filter((t) => inScope(scope, ks.name, t)).map((t) => ({ keyspace: ks.name, table: t })),
  );
  const perTable = await mapLimit(tables, 8, async ({ keyspace, table }) => [
    ...(await cassandraSessions(client, keyspace, table, since)),
    ...(await tendSessions(client, tendKeyspace, keyspace, table, since)),
  ]);
  const sessions = perTable.flat();
  sessions.sort((a, b) => (b.startedAt ?? 0) - (a.startedAt ?? 0) || a.id.localeCompare(b.id));
  const jobs = options.jobSteps ? { jobSteps: await options.jobSteps(since, scope) } : {};
  if (!options.coverage && !options.ring) return { now, since, sessions, ...jobs };

  const context = await gatherPlanInput(client, config, { scope: options.scope, readSizes: false });
  const plan = computePlan(context.input);
  const coverage = plan.jobs.map((job) => {
    const settings =
      context.settings.get(`${job.keyspace}.${job.table}`) ?? tableSettings(config.repair, job.keyspace, job.table);
    const intervalMs = settings.interval;
    const within = job.rangesTotal - job.rangesBehind;
    const limits = { intervalMs, warnMs: settings.alarm.warn, errorMs: settings.alarm.error };
    const ages = options.ring ? tableRangeAges(context.input, job.keyspace, job.table) : undefined;
    const local = ages?.filter((age) => age.local);
    return {
      keyspace: job.keyspace,
      table: job.table,
      rangesTotal: job.rangesTotal,
      rangesWithinInterval: within,
      share: job.rangesTotal > 0 ? within / job.rangesTotal : 0,
      oldestRepairedAt: job.lastRepairedAt,
      oldestAgeMs: job.lastRepairedAt === null ? null : plan.now - job.lastRepairedAt,
      intervalMs,
      state: job.state,
      ...(local
        ? {
            ring: {
              warnMs: limits.warnMs,
              errorMs: limits.errorMs,
              bands: bandCounts(local, plan.now, limits),
              ranges: local.map(({ range, repairedAt }) => ({
                ...toRangeText(range),
                repairedAt,
                band: ageBand(repairedAt, plan.now, limits),
              })),
            },
          }
        : {}),
    };
  });
  coverage.sort((a, b) => (a.keyspace + '.' + a.table).localeCompare(b.keyspace + '.' + b.table));
  return { now, since, sessions, coverage, ...jobs };
}
