/**
 * Cassandra's own repair history, written by every coordinator of every repair (tend's, Reaper's, a plain
 * `nodetool repair`): `system_distributed.repair_history` (one row per session and table) and
 * `system_distributed.parent_repair_history` (one row per repair command).
 *
 * The trap (src/core/README.md): repair_history's key is ((keyspace, table), id) and a session writes one row per
 * range with the same id, so a multi-range session keeps only one range there. The full set of ranges lives in the
 * parent row's `successful_ranges`. Reading the parent table whole would cost a scan of every repair the cluster
 * ever ran; instead the session rows found in a table's partition name their `parent_id`, and only those parents
 * are read, by key. So the cost of reading external history is the number of sessions since the last fold, not the
 * length of history.
 *
 * Reads use consistency ONE; Cassandra writes system_distributed at ANY, so no read level guarantees a row is seen.
 * History is advisory: a missed row makes a range look older, so it is repaired again, never the other way round.
 */
import cassandra from 'cassandra-driver';
import { parseRangeNotation, type CommandSessionRow, type RepairEntry } from '../core/index.js';

const ONE = cassandra.types.consistencies.one;

/** One row of system_distributed.repair_history. */
export interface SessionRow {
  readonly keyspace: string;
  readonly table: string;
  /** Session id (timeuuid) and the time in it (when the session started, by the coordinator's clock). */
  readonly id: string;
  readonly idTime: number;
  readonly parentId: string | null;
  readonly coordinator: string;
  readonly participants: readonly string[];
  /** One range of the session (see the trap above), decimal token text. */
  readonly start: string;
  readonly end: string;
  /** SUCCESS, FAILED or STARTED (still running, or its coordinator died). */
  readonly status: string;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  readonly message: string | null;
}

/** One row of system_distributed.parent_repair_history. */
export interface ParentSession {
  readonly parentId: string;
  readonly keyspace: string;
  readonly tables: readonly string[];
  /** `(START,END]` texts as Cassandra writes them. */
  readonly requestedRanges: readonly string[];
  readonly successfulRanges: readonly string[];
  readonly startedAt: number | null;
  /** null while the repair command runs (or when its coordinator died). */
  readonly finishedAt: number | null;
  readonly message: string | null;
  readonly options: Readonly<Record<string, string>>;
}

function time(value: unknown): number | null {
  return value instanceof Date ? value.getTime() : null;
}

function str(value: unknown): string {
  return value === null || value === undefined ? '' : String(value);
}

function list(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (value instanceof Set) return [...(value as Set<unknown>)].map(String);
  return [];
}

const SESSION_COLUMNS =
  'keyspace_name, columnfamily_name, id, parent_id, coordinator, participants, range_begin, range_end, status, started_at, finished_at, exception_message';

function sessionRow(row: cassandra.types.Row): SessionRow {
  const id = row.get('id') as cassandra.types.TimeUuid;
  return {
    keyspace: str(row.get('keyspace_name')),
    table: str(row.get('columnfamily_name')),
    id: id.toString(),
    idTime: id.getDate().getTime(),
    parentId: row.get('parent_id') ? str(row.get('parent_id')) : null,
    coordinator: str(row.get('coordinator')),
    participants: list(row.get('participants')).sort(),
    start: str(row.get('range_begin')),
    end: str(row.get('range_end')),
    status: str(row.get('status')).toUpperCase(),
    startedAt: time(row.get('started_at')),
    finishedAt: time(row.get('finished_at')),
    message: row.get('exception_message') ? str(row.get('exception_message')) : null,
  };
}

/**
 * Session rows of tables of one keyspace whose id is newer than `afterMs` (a clustering slice of each table's
 * partition, so only newer rows are read), in one request (`columnfamily_name IN ?`), page by page: partition after
 * partition, each oldest first. One round trip instead of one per table; callers keep the list short (tens of
 * tables). One table is a list of one.
 */
export async function* readSessionRowsOf(
  client: cassandra.Client,
  keyspace: string,
  tables: readonly string[],
  afterMs: number,
  fetchSize = 1000,
): AsyncGenerator<SessionRow> {
  if (tables.length === 0) return;
  const result = await client.execute(
    `SELECT ${SESSION_COLUMNS} FROM system_distributed.repair_history WHERE keyspace_name = ? AND columnfamily_name IN ? AND id > minTimeuuid(?)`,
    [keyspace, [...new Set(tables)], new Date(afterMs)],
    { prepare: true, consistency: ONE, fetchSize },
  );
  for await (const row of result) yield sessionRow(row);
}

/** Parent rows by id (point reads, in parallel). Ids not found are absent from the map. */
export async function readParentSessions(
  client: cassandra.Client,
  parentIds: Iterable<string>,
): Promise<Map<string, ParentSession>> {
  const found = new Map<string, ParentSession>();
  const ids = [...new Set(parentIds)];
  const concurrency = 16;
  for (let from = 0; from < ids.length; from += concurrency) {
    await Promise.all(
      ids.slice(from, from + concurrency).map(async (id) => {
        const result = await client.execute(
          'SELECT parent_id, keyspace_name, columnfamily_names, requested_ranges, successful_ranges, started_at, finished_at, exception_message, options FROM system_distributed.parent_repair_history WHERE parent_id = ?',
          [cassandra.types.TimeUuid.fromString(id)],
          { prepare: true, consistency: ONE },
        );
        const row = result.first();
        if (row) found.set(id, parentSession(row));
      }),
    );
  }
  return found;
}

function parentSession(row: cassandra.types.Row): ParentSession {
  const options = (row.get('options') as Record<string, string> | null) ?? {};
  return {
    parentId: str(row.get('parent_id')),
    keyspace: str(row.get('keyspace_name')),
    tables: list(row.get('columnfamily_names')).sort(),
    requestedRanges: list(row.get('requested_ranges')),
    successfulRanges: list(row.get('successful_ranges')),
    startedAt: time(row.get('started_at')),
    finishedAt: time(row.get('finished_at')),
    message: row.get('exception_message') ? str(row.get('exception_message')) : null,
    options,
  };
}

/**
 * The ranges a finished parent repaired successfully for `table`, as RepairEntry rows (one per range, the
 * parent's finish time). Unparseable range texts are skipped (counted in `malformed`).
 */
export function parentEntries(parent: ParentSession, table: string): { entries: RepairEntry[]; malformed: number } {
  const entries: RepairEntry[] = [];
  let malformed = 0;
  if (parent.finishedAt === null || !parent.tables.includes(table)) return { entries, malformed };
  for (const text of parent.successfulRanges) {
    try {
      const range = parseRangeNotation(text);
      entries.push({
        start: range.start.toString(),
        end: range.end.toString(),
        finishedAt: parent.finishedAt,
        status: 'SUCCESS',
      });
    } catch {
      malformed++;
    }
  }
  return { entries, malformed };
}

/** A session row as a RepairEntry (its one surviving range). */
export function sessionEntry(row: SessionRow): RepairEntry {
  return { start: row.start, end: row.end, finishedAt: row.finishedAt, status: row.status };
}

/**
 * What Cassandra recorded, per table and session, for repair commands of `tables` that the node `coordinator`
 * started between `fromMs` and `toMs` (session ids carry the coordinator's clock; a second of slack either side).
 * One request for all tables (`columnfamily_name IN ?`, a clustering slice of each partition).
 */
export async function readCommandSessions(
  client: cassandra.Client,
  keyspace: string,
  tables: readonly string[],
  window: { readonly fromMs: number; readonly toMs: number; readonly coordinator: string },
): Promise<CommandSessionRow[]> {
  const rows: CommandSessionRow[] = [];
  for await (const row of readSessionRowsOf(client, keyspace, tables, window.fromMs - 1000)) {
    if (row.idTime > window.toMs + 1000 || !sameAddress(row.coordinator, window.coordinator)) continue;
    rows.push({ table: row.table, sessionId: row.id, parentId: row.parentId, status: row.status });
  }
  return rows;
}

/** `127.0.0.1` and `/127.0.0.1` (the driver's inet text) name the same coordinator. */
function sameAddress(recorded: string, address: string): boolean {
  return recorded.replace(/^\//, '') === address.replace(/^\//, '');
}
