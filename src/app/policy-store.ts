/**
 * Run policies kept in Cassandra: time windows (`run_windows`) and the cluster-wide pause (`pauses`), read whole
 * on every tick (both tables hold a handful of rows), and `loadPolicies`, which turns them into the core's
 * RunPolicies for `plan()`.
 *
 * Consistency: every tick reads at LOCAL_QUORUM, so writes go out at EACH_QUORUM: a pause or a new block window
 * must be seen by the next tick in every datacenter, not eventually. When a datacenter is unreachable the write
 * falls back to LOCAL_QUORUM and says so; refusing to pause during an incident would be worse.
 */
import { hostname, userInfo } from 'node:os';
import cassandra from 'cassandra-driver';
import { TendError } from '../errors.js';
import { allRows, asClusterError, driverErrorOf } from '../cluster/session.js';
import { quoteIdentifier } from '../cluster/schema.js';
import type { Pause, RunPolicies, TimeWindow } from '../core/index.js';
import { toTimeWindow, windowFromRow, windowId, WEEK, type WindowRow, type WindowSpec } from './policy-input.js';

/** The part of cassandra.Client the stores use (a fake-able seam; production passes the client). */
export type CqlClient = Pick<cassandra.Client, 'execute'>;

const { consistencies } = cassandra.types;
const UNAVAILABLE_CODES = new Set([
  cassandra.types.responseErrorCodes.unavailableException,
  cassandra.types.responseErrorCodes.writeTimeout,
]);

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

/** Turns "unconfigured table" and "keyspace does not exist" into the action the operator has to take. */
export function asStoreError(error: unknown, keyspace: string, doing: string): never {
  const message = error instanceof Error ? error.message : String(error);
  if (/unconfigured table|does not exist|Keyspace .* not/i.test(message)) {
    throw new TendError(`${doing}: tend's tables are missing in keyspace ${keyspace} (${message})`, {
      cause: error,
      hints: [`Create them with 'tend schema print | cqlsh' (or 'tend schema apply').`],
    });
  }
  asClusterError(error, doing);
}

export interface WriteResult {
  /** The consistency the write achieved: 'EACH_QUORUM', or 'LOCAL_QUORUM' when a DC could not be reached. */
  consistency: 'EACH_QUORUM' | 'LOCAL_QUORUM';
}

/** A write every datacenter's next tick must see (see the header). */
export async function writeEverywhere(client: CqlClient, query: string, params: unknown[]): Promise<WriteResult> {
  try {
    await client.execute(query, params, { prepare: true, consistency: consistencies.eachQuorum });
    return { consistency: 'EACH_QUORUM' };
  } catch (error) {
    const code = (driverErrorOf(error) ?? (error as { code?: number })).code;
    if (code === undefined || !UNAVAILABLE_CODES.has(code)) throw error;
    await client.execute(query, params, { prepare: true, consistency: consistencies.localQuorum });
    return { consistency: 'LOCAL_QUORUM' };
  }
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

export async function readWindows(client: CqlClient, keyspace: string): Promise<StoredWindows> {
  let rows: cassandra.types.Row[];
  try {
    rows = await allRows(
      client,
      `SELECT id, keyspace_name, table_name, datacenter, days, start_time, end_time, timezone, action, created_at, created_by FROM ${quoteIdentifier(keyspace)}.run_windows`,
      [],
      { prepare: true },
    );
  } catch (error) {
    asStoreError(error, keyspace, 'reading run windows');
  }
  const windows: StoredWindow[] = [];
  const problems: string[] = [];
  for (const row of rows) {
    try {
      const spec = windowFromRow(row as unknown as WindowRow);
      const createdAt = row.get('created_at') as Date | null;
      windows.push({
        id: row.get('id') as string,
        ...spec,
        createdAt: createdAt ? createdAt.getTime() : null,
        createdBy: (row.get('created_by') as string | null) ?? null,
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
  client: CqlClient,
  keyspace: string,
  spec: WindowSpec,
  createdBy: string,
): Promise<{ window: StoredWindow; created: boolean } & WriteResult> {
  const id = windowId(spec);
  const table = `${quoteIdentifier(keyspace)}.run_windows`;
  try {
    const existing = (
      await client.execute(`SELECT id, created_at, created_by FROM ${table} WHERE id = ?`, [id], { prepare: true })
    ).first();
    if (existing) {
      const createdAt = existing.get('created_at') as Date | null;
      return {
        window: {
          id,
          ...spec,
          createdAt: createdAt ? createdAt.getTime() : null,
          createdBy: existing.get('created_by') as string | null,
        },
        created: false,
        consistency: 'EACH_QUORUM',
      };
    }
    const createdAt = new Date();
    const result = await writeEverywhere(
      client,
      `INSERT INTO ${table} (id, keyspace_name, table_name, datacenter, days, start_time, end_time, timezone, action, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, toTimestamp(now()), ?)`,
      [
        id,
        spec.keyspace ?? '*',
        spec.table ?? '*',
        spec.datacenter ?? '*',
        spec.days.length === 7 ? [...WEEK] : spec.days,
        spec.start,
        spec.end,
        spec.timezone,
        spec.action,
        createdBy,
      ],
    );
    return { window: { id, ...spec, createdAt: createdAt.getTime(), createdBy }, created: true, ...result };
  } catch (error) {
    asStoreError(error, keyspace, 'adding a run window');
  }
}

export async function deleteWindow(client: CqlClient, keyspace: string, id: string): Promise<WriteResult> {
  try {
    return await writeEverywhere(client, `DELETE FROM ${quoteIdentifier(keyspace)}.run_windows WHERE id = ?`, [id]);
  } catch (error) {
    asStoreError(error, keyspace, 'removing a run window');
  }
}

/**
 * The only pause scope tend writes today: '*', the whole cluster. `pauses` is keyed by scope ('*', KEYSPACE or
 * KEYSPACE.TABLE) so narrower pauses can follow.
 */
export const CLUSTER_SCOPE = '*';

export interface StoredPause {
  scope: string;
  reason: string | null;
  pausedAt: number | null;
  pausedBy: string | null;
  /** Epoch ms; null: until resumed. */
  until: number | null;
}

export async function readPauses(client: CqlClient, keyspace: string): Promise<StoredPause[]> {
  try {
    const rows = await allRows(
      client,
      `SELECT scope, reason, paused_at, paused_by, until FROM ${quoteIdentifier(keyspace)}.pauses`,
      [],
      { prepare: true },
    );
    return rows.map((row) => ({
      scope: row.get('scope') as string,
      reason: (row.get('reason') as string | null) ?? null,
      pausedAt: (row.get('paused_at') as Date | null)?.getTime() ?? null,
      pausedBy: (row.get('paused_by') as string | null) ?? null,
      until: (row.get('until') as Date | null)?.getTime() ?? null,
    }));
  } catch (error) {
    asStoreError(error, keyspace, 'reading pauses');
  }
}

export async function writePause(
  client: CqlClient,
  keyspace: string,
  pause: { until: number | null; reason: string | null; pausedBy: string },
): Promise<WriteResult> {
  try {
    return await writeEverywhere(
      client,
      `INSERT INTO ${quoteIdentifier(keyspace)}.pauses (scope, reason, paused_at, paused_by, until) VALUES (?, ?, toTimestamp(now()), ?, ?)`,
      [CLUSTER_SCOPE, pause.reason, pause.pausedBy, pause.until === null ? null : new Date(pause.until)],
    );
  } catch (error) {
    asStoreError(error, keyspace, 'pausing the schedule');
  }
}

export async function deletePause(client: CqlClient, keyspace: string): Promise<WriteResult> {
  try {
    return await writeEverywhere(client, `DELETE FROM ${quoteIdentifier(keyspace)}.pauses WHERE scope = ?`, [
      CLUSTER_SCOPE,
    ]);
  } catch (error) {
    asStoreError(error, keyspace, 'resuming the schedule');
  }
}

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
  client: CqlClient,
  keyspace: string,
  configWindows: Parameters<typeof windowsFromConfig>[0] = [],
): Promise<LoadedPolicies> {
  const [stored, pauses] = await Promise.all([readWindows(client, keyspace), readPauses(client, keyspace)]);
  return {
    windows: [
      ...windowsFromConfig(configWindows),
      ...stored.windows.map((window) => toTimeWindow(window, `tend policy ${window.id}`)),
    ],
    pauses: pauses.map(toCorePause),
    problems: stored.problems,
  };
}
