/**
 * Run policies as the use cases see them: the stored windows validated (a row edited by hand into nonsense is
 * reported, not fatal), windows added under their content id, and `loadPolicies`, which turns what is stored and
 * configured into the core's RunPolicies for `plan()`. Storage, CQL and consistency are the adapter's
 * (src/cluster/policy-store.ts).
 */
import { hostname, userInfo } from 'node:os';
import type { Pause, RunPolicies, TimeWindow } from '../core/index.js';
import type { PolicyStore, StoredPause, WriteResult } from '../cluster/policy-store.js';
import { toTimeWindow, windowFromRow, windowId, WEEK, type WindowSpec } from './policy-input.js';

/** Who changed a policy, for `policy list` and the pause record: user@host of the operator's shell. */
export function operatorName(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (some containers): the host name alone still says where the change came from.
  }
  return `${user}@${hostname()}`;
}

export interface StoredWindow extends WindowSpec {
  id: string;
  createdAt: number | null;
  createdBy: string | null;
}

export interface StoredWindows {
  windows: StoredWindow[];
  /** Rows that could not be understood (edited by hand), one message each naming the row id. */
  problems: string[];
}

export async function readWindows(store: PolicyStore): Promise<StoredWindows> {
  const windows: StoredWindow[] = [];
  const problems: string[] = [];
  for (const row of await store.windowRows()) {
    try {
      windows.push({
        id: row.id,
        ...windowFromRow(row),
        createdAt: row.created_at ? row.created_at.getTime() : null,
        createdBy: row.created_by ?? null,
      });
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  windows.sort((a, b) => a.id.localeCompare(b.id));
  return { windows, problems };
}

/** Inserts the window under its content id. `created` is false when an identical window already existed. */
export async function insertWindow(
  store: PolicyStore,
  spec: WindowSpec,
  createdBy: string,
): Promise<{ window: StoredWindow; created: boolean } & WriteResult> {
  const id = windowId(spec);
  const existing = await store.windowRow(id);
  if (existing) {
    return {
      window: {
        id,
        ...spec,
        createdAt: existing.created_at ? existing.created_at.getTime() : null,
        createdBy: existing.created_by ?? null,
      },
      created: false,
      consistency: 'EACH_QUORUM',
    };
  }
  const createdAt = new Date();
  const result = await store.insertWindow({
    id,
    keyspace_name: spec.keyspace ?? '*',
    table_name: spec.table ?? '*',
    datacenter: spec.datacenter ?? '*',
    days: spec.days.length === 7 ? [...WEEK] : spec.days,
    start_time: spec.start,
    end_time: spec.end,
    timezone: spec.timezone,
    action: spec.action,
    created_by: createdBy,
  });
  return { window: { id, ...spec, createdAt: createdAt.getTime(), createdBy }, created: true, ...result };
}

/**
 * The only pause scope tend writes today: '*', the whole cluster. `pauses` is keyed by scope ('*', KEYSPACE or
 * KEYSPACE.TABLE) so narrower pauses can follow.
 */
export const CLUSTER_SCOPE = '*';

/** The core's view of a stored pause: a cluster-wide pause has no keyspace/table scope. */
export function toCorePause(pause: StoredPause): Pause {
  const [keyspace, table] = pause.scope === CLUSTER_SCOPE || pause.scope === '' ? [] : pause.scope.split('.');
  return {
    until: pause.until,
    ...(pause.reason ? { reason: pause.reason } : {}),
    ...(keyspace ? { keyspace } : {}),
    ...(table ? { table } : {}),
  };
}

/** Config `schedule.windows` are allow windows for every table and datacenter (core README). */
export function windowsFromConfig(
  windows: ReadonlyArray<{ days: readonly string[]; start: string; end: string; timezone: string }>,
): TimeWindow[] {
  return windows.map((window) => ({
    mode: 'allow',
    days: window.days as TimeWindow['days'],
    start: window.start,
    end: window.end,
    timezone: window.timezone,
    source: 'config schedule.windows',
  }));
}

export interface LoadedPolicies extends RunPolicies {
  readonly windows: readonly TimeWindow[];
  readonly pauses: readonly Pause[];
  /** Stored rows that could not be understood and were left out: log each as a warning on every tick. */
  readonly problems: readonly string[];
}

/**
 * Everything `plan()` needs as `policies`: the config's allow windows (pass `config.schedule.windows`), tend's
 * stored windows and the pause. Whether a pause has expired is left to the core, which compares `until` with the
 * plan's `now` (Cassandra's clock), so a pause whose `until` has passed simply has no effect.
 */
export async function loadPolicies(
  store: PolicyStore,
  configWindows: Parameters<typeof windowsFromConfig>[0] = [],
): Promise<LoadedPolicies> {
  const [stored, pauses] = await Promise.all([readWindows(store), store.pauses()]);
  return {
    windows: [
      ...windowsFromConfig(configWindows),
      ...stored.windows.map((window) => toTimeWindow(window, `tend policy ${window.id}`)),
    ],
    pauses: pauses.map(toCorePause),
    problems: stored.problems,
  };
}
