/**
 * tend's own history tables (schema: src/cluster/tend-schema.ts):
 * - `repair_history`: one row per table and range of every task tend ran, whatever the outcome (what
 *   `history show` lists; TTL 30 days);
 * - `repair_state`: per table and range the latest successful repair, plus the static watermark
 *   `external_folded_before` (see table-history.ts). A plan reads this instead of history: tables × ranges rows.
 *
 * Writes to repair_state carry `USING TIMESTAMP <repaired_at in µs>`: Cassandra keeps the cell with the highest
 * write timestamp, so whichever node writes last, the newest repair wins and an older fold can never make a range
 * look older than it is.
 */
import cassandra from 'cassandra-driver';
import type { RepairEntry, RepairParallelism, RepairType, TokenRangeText } from '../core/index.js';
import { quoteIdentifier } from '../cluster/tend-schema.js';

/** What the task runner reports after a task ends; recordTaskOutcome stores it. */
export interface TaskOutcome {
  readonly keyspace: string;
  readonly tables: readonly string[];
  /** Every range the task covered (for a whole-table task: every local range). */
  readonly ranges: readonly TokenRangeText[];
  /** SUCCESS counts as repaired; FAILED, ABORTED (lease lost, interrupted) and TIMEOUT do not. */
  readonly status: 'SUCCESS' | 'FAILED' | 'ABORTED' | 'TIMEOUT';
  /** Epoch ms (Cassandra's clock where possible). */
  readonly startedAt: number;
  readonly finishedAt: number;
  /** The tend instance that ran it (node.name). */
  readonly coordinator: string;
  /** Addresses of the replicas. */
  readonly participants: readonly string[];
  readonly repairType: RepairType;
  readonly parallelism: RepairParallelism;
  readonly message?: string | undefined;
  readonly tickId?: string | undefined;
  readonly taskId?: string | undefined;
  /**
   * The id recordTaskStarted returned for this task: the outcome's rows then replace the STARTED rows (same
   * primary key). Without it the outcome gets rows of its own.
   */
  readonly id?: string | undefined;
  /**
   * With `id`: how many of each table's rows earlier records of the same task used (an outcome split into a SUCCESS
   * and a FAILED record writes the second after the first's rows, not over them). 0 for the first record.
   */
  readonly firstIndex?: number | undefined;
}

/** A task about to start: what recordTaskStarted stores before the repair is sent to Cassandra. */
export type TaskStart = Omit<TaskOutcome, 'status' | 'finishedAt' | 'message' | 'id' | 'firstIndex'>;

/** One row of tend's repair_history, as `history show` lists it. */
export interface TendHistoryRow {
  readonly keyspace: string;
  readonly table: string;
  readonly id: string;
  readonly start: string;
  readonly end: string;
  readonly coordinator: string;
  readonly participants: readonly string[];
  readonly repairType: string;
  readonly status: string;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  readonly message: string | null;
  readonly tickId: string | null;
  readonly taskId: string | null;
}

/** Rows per batch: single-partition unlogged batches stay far below Cassandra's 50 KiB batch_size_fail_threshold. */
const BATCH_ROWS = 50;

async function inBatches(client: cassandra.Client, queries: { query: string; params: unknown[] }[]): Promise<void> {
  for (let from = 0; from < queries.length; from += BATCH_ROWS) {
    // Every query of a batch targets the same partition, so the batch is atomic and costs one mutation.
    await client.batch(queries.slice(from, from + BATCH_ROWS), { prepare: true, logged: false });
  }
}

/**
 * Records that a task is starting, before the repair is sent, so a tick killed mid-task (SIGKILL, OOM, power loss)
 * leaves a STARTED row in `history show` instead of nothing. Returns the id to pass as the outcome's `id`: the
 * outcome's first row of each table has that id, so it replaces the STARTED row (same primary key) rather than
 * standing beside it. A STARTED row that stays is a task whose process died (or that still runs).
 *
 * The decision (issue 15): one row per table of the task, not one per table and range. The first version wrote a
 * STARTED row for every range, which is what the outcome writes; for a whole-table command over 40 tables of 48
 * ranges that is 1,920 writes before the repair may start. One row per table keeps `history show KS.TABLE`
 * showing the unfinished task for every table it covered (history is partitioned by table, and each table's
 * operator looks there), costs one write for a one-table task and one concurrent write per table of a grouped
 * command (one round trip's wait), and needs no new table or schema version. What it gives up: the STARTED row
 * names the task's first range and says how many it covers in its message, rather than listing every range; the
 * ranges of a task that never ended were not repaired by it anyway (repair_state is untouched).
 */
export async function recordTaskStarted(
  client: cassandra.Client,
  tendKeyspace: string,
  start: TaskStart,
): Promise<string> {
  const id = cassandra.types.TimeUuid.fromDate(new Date(start.startedAt), 0);
  const first = start.ranges[0];
  if (first === undefined) return id.toString();
  const tables = start.tables.length > 1 ? ` of ${start.tables.length} tables` : '';
  const message = `started: ${start.ranges.length} range(s)${tables}; no outcome recorded yet: the task still runs, or the tend process that ran it died`;
  await Promise.all(
    start.tables.map((table) =>
      writeHistoryRows(
        client,
        tendKeyspace,
        { ...start, ranges: [first], status: 'STARTED', finishedAt: null, message },
        { id, firstIndex: 0 },
        table,
      ),
    ),
  );
  return id.toString();
}

type HistoryRows = Omit<TaskOutcome, 'status' | 'finishedAt' | 'id' | 'firstIndex'> & {
  readonly status: TaskOutcome['status'] | 'STARTED';
  readonly finishedAt: number | null;
};

/**
 * The id of a task's `index`-th range row: a row per range needs its own id (the range is not in the primary key),
 * and the outcome must find the STARTED rows again, so the ids derive from the task's id (its node and clock
 * sequence), 10,000 per millisecond from the id's own time on.
 */
function rangeId(base: cassandra.types.TimeUuid, index: number): cassandra.types.TimeUuid {
  if (index === 0) return base;
  return cassandra.types.TimeUuid.fromDate(
    new Date(base.getDate().getTime() + Math.floor(index / 10_000)),
    index % 10_000,
    // Present in the driver (lib/types/time-uuid.js), missing from its type declarations.
    (base as unknown as { getNodeId(): Buffer }).getNodeId(),
    (base as unknown as { getClockId(): Buffer }).getClockId(),
  );
}

async function writeHistoryRows(
  client: cassandra.Client,
  tendKeyspace: string,
  rows: HistoryRows,
  ids: { id: cassandra.types.TimeUuid; firstIndex: number },
  table?: string,
): Promise<void> {
  const ks = quoteIdentifier(tendKeyspace);
  const participants = [...new Set(rows.participants)].sort();
  const startedAt = new Date(rows.startedAt);
  const finishedAt = rows.finishedAt === null ? null : new Date(rows.finishedAt);
  for (const name of table === undefined ? rows.tables : [table]) {
    await inBatches(
      client,
      rows.ranges.map((range, index) => ({
        query: `INSERT INTO ${ks}.repair_history (keyspace_name, table_name, id, range_start, range_end, coordinator, participants, repair_type, parallelism, status, started_at, finished_at, message, tick_id, task_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        params: [
          rows.keyspace,
          name,
          rangeId(ids.id, ids.firstIndex + index),
          range.start,
          range.end,
          rows.coordinator,
          participants,
          rows.repairType,
          rows.parallelism,
          rows.status,
          startedAt,
          finishedAt,
          rows.message ?? null,
          rows.tickId ?? null,
          rows.taskId ?? null,
        ],
      })),
    );
  }
}

/**
 * Records a finished task: one repair_history row per table and range, and on SUCCESS the repair_state of each
 * range. Call it once per task, after the repair ended (or was abandoned).
 */
export async function recordTaskOutcome(
  client: cassandra.Client,
  tendKeyspace: string,
  outcome: TaskOutcome,
): Promise<void> {
  const ids = {
    id:
      outcome.id !== undefined
        ? cassandra.types.TimeUuid.fromString(outcome.id)
        : cassandra.types.TimeUuid.fromDate(new Date(outcome.startedAt), 0),
    firstIndex: outcome.id !== undefined ? (outcome.firstIndex ?? 0) : 0,
  };
  for (const table of outcome.tables) {
    // The history rows and the ranges' new state are independent upserts: one round trip's wait, not two.
    await Promise.all([
      writeHistoryRows(client, tendKeyspace, outcome, ids, table),
      outcome.status === 'SUCCESS'
        ? writeRepairState(
            client,
            tendKeyspace,
            outcome.keyspace,
            table,
            outcome.ranges.map((range) => ({ ...range, repairedAt: outcome.finishedAt })),
            outcome.coordinator,
          )
        : undefined,
    ]);
  }
}

/** Upserts repair_state rows; the newest repaired_at wins whatever the order of writes (USING TIMESTAMP). */
export async function writeRepairState(
  client: cassandra.Client,
  tendKeyspace: string,
  keyspace: string,
  table: string,
  ranges: readonly (TokenRangeText & { repairedAt: number })[],
  repairedBy: string,
): Promise<void> {
  const ks = quoteIdentifier(tendKeyspace);
  await inBatches(
    client,
    ranges.map((range) => ({
      query: `INSERT INTO ${ks}.repair_state (keyspace_name, table_name, range_start, range_end, repaired_at, repaired_by) VALUES (?, ?, ?, ?, ?, ?) USING TIMESTAMP ?`,
      params: [
        keyspace,
        table,
        range.start,
        range.end,
        new Date(range.repairedAt),
        repairedBy,
        cassandra.types.Long.fromNumber(Math.round(range.repairedAt) * 1000),
      ],
    })),
  );
}

/** Moves the watermark of folded external history; like repair_state, the newest watermark wins. */
export async function writeExternalWatermark(
  client: cassandra.Client,
  tendKeyspace: string,
  keyspace: string,
  table: string,
  foldedBefore: number,
): Promise<void> {
  await client.execute(
    `INSERT INTO ${quoteIdentifier(tendKeyspace)}.repair_state (keyspace_name, table_name, external_folded_before) VALUES (?, ?, ?) USING TIMESTAMP ?`,
    [keyspace, table, new Date(foldedBefore), cassandra.types.Long.fromNumber(Math.round(foldedBefore) * 1000)],
    { prepare: true },
  );
}

export interface RepairStateRead {
  /** Latest success per recorded range, as RepairEntry rows. */
  readonly entries: RepairEntry[];
  /** Sessions of system_distributed.repair_history that started before this are folded in; null: never folded. */
  readonly externalFoldedBefore: number | null;
  readonly rowsRead: number;
}

/**
 * Reads the repair_state partitions of several tables of one keyspace in one request (`table_name IN ?`, all
 * pages): one round trip instead of one per table, which is most of an idle tick's cost. Every table asked for is
 * in the result (empty when nothing is recorded). Callers keep the list short (tens of tables): the coordinator
 * reads the partitions for one request.
 */
export async function readRepairStates(
  client: cassandra.Client,
  tendKeyspace: string,
  keyspace: string,
  tables: readonly string[],
): Promise<Map<string, RepairStateRead>> {
  const reads = new Map<string, { entries: RepairEntry[]; externalFoldedBefore: number | null; rowsRead: number }>(
    tables.map((table) => [table, { entries: [], externalFoldedBefore: null, rowsRead: 0 }]),
  );
  if (tables.length === 0) return reads;
  const result = await client.execute(
    `SELECT table_name, range_start, range_end, repaired_at, external_folded_before FROM ${quoteIdentifier(tendKeyspace)}.repair_state WHERE keyspace_name = ? AND table_name IN ?`,
    [keyspace, [...new Set(tables)]],
    { prepare: true, fetchSize: 5000 },
  );
  for await (const row of result) {
    const read = reads.get(String(row.get('table_name')));
    if (!read) continue;
    read.rowsRead++;
    const watermark = row.get('external_folded_before') as Date | null;
    if (watermark) read.externalFoldedBefore = watermark.getTime();
    const start = row.get('range_start') as string | null;
    const end = row.get('range_end') as string | null;
    const at = row.get('repaired_at') as Date | null;
    // A partition holding only the static watermark comes back as one row with null clustering columns.
    if (start === null || end === null || at === null) continue;
    read.entries.push({ start, end, finishedAt: at.getTime(), status: 'SUCCESS' });
  }
  return reads;
}

/** tend's repair_history rows of one table finished (or started) after `sinceMs`, newest first. */
export async function* readTendHistory(
  client: cassandra.Client,
  tendKeyspace: string,
  keyspace: string,
  table: string,
  sinceMs: number,
): AsyncGenerator<TendHistoryRow> {
  const result = await client.execute(
    `SELECT keyspace_name, table_name, id, range_start, range_end, coordinator, participants, repair_type, status, started_at, finished_at, message, tick_id, task_id FROM ${quoteIdentifier(tendKeyspace)}.repair_history WHERE keyspace_name = ? AND table_name = ? AND id > minTimeuuid(?)`,
    [keyspace, table, new Date(sinceMs)],
    { prepare: true, fetchSize: 1000 },
  );
  for await (const row of result) {
    const time = (name: string) => (row.get(name) as Date | null)?.getTime() ?? null;
    const optional = (name: string) => (row.get(name) as string | null) ?? null;
    yield {
      keyspace: String(row.get('keyspace_name')),
      table: String(row.get('table_name')),
      id: String(row.get('id')),
      start: String(row.get('range_start')),
      end: String(row.get('range_end')),
      coordinator: String(row.get('coordinator') ?? ''),
      participants: [...((row.get('participants') as string[] | null) ?? [])].sort(),
      repairType: String(row.get('repair_type') ?? ''),
      status: String(row.get('status') ?? ''),
      startedAt: time('started_at'),
      finishedAt: time('finished_at'),
      message: optional('message'),
      tickId: optional('tick_id'),
      taskId: optional('task_id'),
    };
  }
}
