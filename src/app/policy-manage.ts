/**
 * The use cases behind `tend policy list|add|remove` and `tend schedule pause|resume`. They take a connected
 * client and tend's keyspace; the commands open and close the session (policy-session.ts).
 */
import type cassandra from 'cassandra-driver';
import { UsageError } from '../errors.js';
import { allRows, clusterNow } from '../cluster/session.js';
import { closest } from '../config/suggest.js';
import { windowContains, type TimeWindow } from '../core/index.js';
import { resolveUntil, toTimeWindow, type PolicyTarget, type UntilSpec, type WindowSpec } from './policy-input.js';
import {
  CLUSTER_SCOPE,
  deletePause,
  deleteWindow,
  insertWindow,
  operatorName,
  readPauses,
  readWindows,
  windowsFromConfig,
  writePause,
  type StoredPause,
  type StoredWindow,
  type WriteResult,
} from './policy-store.js';

type Client = Pick<cassandra.Client, 'execute'>;

async function names(client: Client, query: string, params: unknown[], column: string): Promise<string[]> {
  return (await allRows(client, query, params, { prepare: true })).map((row) => String(row.get(column)));
}

function unknownName(what: string, name: string, known: readonly string[]): UsageError {
  const suggestion = closest(name, known);
  return new UsageError(`unknown ${what} "${name}"`, {
    hints: suggestion ? [`Did you mean ${suggestion}?`] : known.length <= 20 ? [`Known: ${known.join(', ')}`] : [],
  });
}

/**
 * A window for a keyspace, table or datacenter that does not exist would never apply: almost always a typo, so
 * it is refused (exit 2) with the closest existing name.
 */
export async function checkScopeExists(client: Client, scope: PolicyTarget & { datacenter?: string }): Promise<void> {
  if (scope.keyspace !== undefined) {
    const keyspaces = await names(client, 'SELECT keyspace_name FROM system_schema.keyspaces', [], 'keyspace_name');
    if (!keyspaces.includes(scope.keyspace)) throw unknownName('keyspace', scope.keyspace, keyspaces);
    if (scope.table !== undefined) {
      const tables = await names(
        client,
        'SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?',
        [scope.keyspace],
        'table_name',
      );
      if (!tables.includes(scope.table)) throw unknownName(`table in ${scope.keyspace}`, scope.table, tables);
    }
  }
  if (scope.datacenter !== undefined) {
    const local = await names(client, 'SELECT data_center FROM system.local', [], 'data_center');
    const peers = await names(client, 'SELECT data_center FROM system.peers_v2', [], 'data_center');
    const datacenters = [...new Set([...local, ...peers])].sort();
    if (!datacenters.includes(scope.datacenter)) throw unknownName('datacenter', scope.datacenter, datacenters);
  }
}

export interface AddedPolicy extends WriteResult {
  window: StoredWindow;
  /** False when the same window already existed (adding is idempotent). */
  created: boolean;
}

export async function addPolicy(client: Client, tendKeyspace: string, spec: WindowSpec): Promise<AddedPolicy> {
  await checkScopeExists(client, spec);
  return insertWindow(client, tendKeyspace, spec, operatorName());
}

export interface PolicyView {
  /** Row id for stored windows; `config:N` for schedule.windows (removed by editing tend.yml). */
  id: string;
  source: 'cassandra' | 'config';
  action: 'block' | 'allow';
  keyspace: string;
  table: string;
  datacenter: string;
  days: string[];
  start: string;
  end: string;
  timezone: string;
  /** Whether the cluster clock is inside the window right now. */
  openNow: boolean;
  createdAt: number | null;
  createdBy: string | null;
}

export interface PolicyListing {
  /** Cassandra's clock when the listing was made (epoch ms). */
  now: number;
  windows: PolicyView[];
  /** The cluster-wide pause, when one is stored; `active` is false once `until` has passed. */
  pause: (StoredPause & { active: boolean }) | null;
  /** run_windows rows that could not be understood (ticks ignore them and warn). */
  problems: string[];
}

function viewOf(window: TimeWindow, id: string, extra: Partial<PolicyView>, now: number): PolicyView {
  return {
    id,
    source: 'cassandra',
    action: window.mode,
    keyspace: window.keyspace ?? '*',
    table: window.table ?? '*',
    datacenter: window.datacenters?.[0] ?? '*',
    days: [...(window.days ?? [])],
    start: window.start,
    end: window.end,
    timezone: window.timezone ?? 'UTC',
    openNow: windowContains(window, now),
    createdAt: null,
    createdBy: null,
    ...extra,
  };
}

function applies(view: PolicyView, filter: PolicyTarget): boolean {
  const match = (pattern: string, name: string | undefined) =>
    name === undefined || pattern === '*' || pattern === name;
  return match(view.keyspace, filter.keyspace) && match(view.table, filter.table);
}

export function pauseIsActive(pause: StoredPause, now: number): boolean {
  return pause.until === null || pause.until > now;
}

export async function listPolicies(
  client: Client,
  tendKeyspace: string,
  configWindows: Parameters<typeof windowsFromConfig>[0],
  filter: PolicyTarget = {},
): Promise<PolicyListing> {
  const [now, stored, pauses] = await Promise.all([
    clusterNow(client as cassandra.Client),
    readWindows(client, tendKeyspace),
    readPauses(client, tendKeyspace),
  ]);
  const fromConfig = windowsFromConfig(configWindows).map((window, index) =>
    viewOf(window, `config:${index + 1}`, { source: 'config' }, now),
  );
  const fromTable = stored.windows.map((window) =>
    viewOf(
      toTimeWindow(window, window.id),
      window.id,
      { createdAt: window.createdAt, createdBy: window.createdBy },
      now,
    ),
  );
  const pause = pauses.find((candidate) => candidate.scope === CLUSTER_SCOPE) ?? null;
  return {
    now,
    windows: [...fromConfig, ...fromTable].filter((view) => applies(view, filter)),
    pause: pause ? { ...pause, active: pauseIsActive(pause, now) } : null,
    problems: stored.problems,
  };
}

export interface RemovedPolicies extends Partial<WriteResult> {
  removed: StoredWindow[];
}

/** Removes stored windows by id; an unknown id is a usage error (exit 2) and nothing is removed. */
export async function removePolicies(
  client: Client,
  tendKeyspace: string,
  ids: readonly string[],
): Promise<RemovedPolicies> {
  const { windows } = await readWindows(client, tendKeyspace);
  const byId = new Map(windows.map((window) => [window.id, window]));
  for (const id of ids) {
    if (id.startsWith('config:')) {
      throw new UsageError(`${id} comes from schedule.windows in the configuration`, {
        hints: ['Edit tend.yml to change it.'],
      });
    }
    if (!byId.has(id)) throw unknownName('policy', id, [...byId.keys()]);
  }
  let result: WriteResult | undefined;
  const removed: StoredWindow[] = [];
  for (const id of new Set(ids)) {
    result = await deleteWindow(client, tendKeyspace, id);
    removed.push(byId.get(id)!);
  }
  return { removed, ...result };
}

export interface PauseResult extends WriteResult {
  now: number;
  pause: StoredPause;
  /** The pause this one replaced, if any. */
  previous: StoredPause | null;
  /** False when `until` is already past: the pause is stored but has no effect. */
  active: boolean;
}

/** `tend schedule pause`: durations count from Cassandra's clock, like the expiry check in every tick. */
export async function pauseSchedule(
  client: Client,
  tendKeyspace: string,
  options: { until?: UntilSpec; reason?: string },
): Promise<PauseResult> {
  const [now, pauses] = await Promise.all([clusterNow(client as cassandra.Client), readPauses(client, tendKeyspace)]);
  const until = options.until ? resolveUntil(options.until, now) : null;
  const pausedBy = operatorName();
  const reason = options.reason ?? null;
  const written = await writePause(client, tendKeyspace, { until, reason, pausedBy });
  const pause: StoredPause = { scope: CLUSTER_SCOPE, reason, pausedAt: now, pausedBy, until };
  return {
    now,
    pause,
    previous: pauses.find((candidate) => candidate.scope === CLUSTER_SCOPE) ?? null,
    active: pauseIsActive(pause, now),
    ...written,
  };
}

export interface ResumeResult extends Partial<WriteResult> {
  now: number;
  /** The pause that was lifted; null when the schedule was not paused. */
  previous: StoredPause | null;
}

export async function resumeSchedule(client: Client, tendKeyspace: string): Promise<ResumeResult> {
  const [now, pauses] = await Promise.all([clusterNow(client as cassandra.Client), readPauses(client, tendKeyspace)]);
  const previous = pauses.find((candidate) => candidate.scope === CLUSTER_SCOPE) ?? null;
  if (!previous) return { now, previous };
  return { now, previous, ...(await deletePause(client, tendKeyspace)) };
}
