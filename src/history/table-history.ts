/**
 * The history of one table as a plan needs it: when was each range last repaired successfully, by anyone.
 *
 * What is read, per table (this is what keeps a tick's reads proportional to tables × ranges, not to history):
 * 1. tend's `repair_state` partition: the latest success per recorded range, and the watermark
 *    `external_folded_before` — R rows for R recorded ranges.
 * 2. `system_distributed.repair_history` rows of sessions that started after the watermark (or within the lookback
 *    when there is none yet): a clustering slice, so only sessions since the last fold are read.
 * 3. `system_distributed.parent_repair_history` by key, for the parents those sessions name: the complete set of
 *    ranges of multi-range repairs (the trap in src/core/README.md). Parents are shared between the tables of a
 *    keyspace, so callers pass one cache for a whole plan.
 * Everything is folded page by page into the core's HistoryAccumulator: memory stays at the ring's size.
 * `readTableHistories` reads tens of tables of one keyspace together: 1 and 2 are one request each for all of
 * them (`IN`), 3 one point read per parent; each table is then folded from its own watermark.
 *
 * With `persist`, the newly seen external successes are written into repair_state and the watermark advances,
 * so the next read starts where this one ended. Only what changes is written: a success repair_state already holds
 * (the hour behind the watermark is read again on every tick) is not rewritten, and the watermark moves only in
 * steps of WATERMARK_STEP_MS (a watermark behind where it could be only means a few more rows read). An idle tick
 * thus writes nothing, except once per WATERMARK_STEP_MS one watermark per table (written all at once). Read-only commands (`schedule status`, `schedule plan`) leave it
 * off and pay for the external sessions since the last tick; the tick persists.
 *
 * The watermark stays behind sessions that may still change: a STARTED session (or an unfinished parent) younger
 * than STALE_SESSION_MS pins it, and it never passes now − SAFETY_MARGIN_MS, so a coordinator whose clock lags
 * (session ids carry the coordinator's clock) does not slip a session in behind it.
 */
import type cassandra from 'cassandra-driver';
import { HistoryAccumulator, type RepairEntry, type Ring, type TableHistory } from '../core/index.js';
import {
  parentEntries,
  readParentSessions,
  readSessionRowsOf,
  sessionEntry,
  type ParentSession,
  type SessionRow,
} from './cassandra-history.js';
import { readRepairStates, writeExternalWatermark, writeRepairState, type RepairStateRead } from './tend-history.js';

/** A STARTED session older than this is taken as abandoned (its coordinator died) and no longer pins the watermark. */
export const STALE_SESSION_MS = 24 * 60 * 60 * 1000;
/** The watermark never comes closer to now than this. */
export const SAFETY_MARGIN_MS = 60 * 60 * 1000;
/** The watermark is rewritten only when it can move forward by at least this much. */
export const WATERMARK_STEP_MS = 10 * 60 * 1000;

export interface HistoryRowsRead {
  /** tend.repair_state rows. */
  state: number;
  /** system_distributed.repair_history rows. */
  sessions: number;
  /** system_distributed.parent_repair_history rows (point reads; shared parents counted once per plan). */
  parents: number;
}

/** Parent id → its row (null when Cassandra has none), as a read in flight or done. */
export type ParentCache = Map<string, Promise<ParentSession | null>>;

export interface TableHistoryRead {
  readonly history: TableHistory;
  readonly rowsRead: HistoryRowsRead;
  /** The watermark in effect after this read (the new one when persisted). */
  readonly externalFoldedBefore: number | null;
  /** Where the system_distributed slice started. */
  readonly externalReadFrom: number;
}

export interface TableHistoryOptions {
  readonly ring: Ring;
  readonly tendKeyspace: string;
  readonly keyspace: string;
  readonly table: string;
  /** Cassandra's clock. */
  readonly now: number;
  readonly lookbackMs: number;
  readonly mergeToleranceMs?: number;
  /**
   * Parent sessions read (or being read) in this plan, shared by the tables of a keyspace; filled as a side effect.
   * It holds the reads in flight, not only their results: tables read concurrently that name the same parent wait
   * for one point read instead of each issuing its own (one `nodetool repair` of a keyspace is one parent for all
   * of its tables).
   */
  readonly parents?: ParentCache;
  /** Write newly seen external successes into repair_state and advance the watermark. */
  readonly persist?: boolean;
  /** Name recorded as repaired_by for folded external repairs. */
  readonly persistAs?: string;
}

export interface TableHistoriesOptions extends Omit<TableHistoryOptions, 'table'> {
  /** Tables of `keyspace`, read together: keep it to tens (each read is one request for all of them). */
  readonly tables: readonly string[];
}

/** Reads and folds one table's history (see the header for what is read). */
export async function readTableHistory(
  client: cassandra.Client,
  options: TableHistoryOptions,
): Promise<TableHistoryRead> {
  const { table, ...rest } = options;
  return (await readTableHistories(client, { ...rest, tables: [table] })).get(table)!;
}

/**
 * Reads and folds the histories of several tables of one keyspace, with one request per source for all of them
 * (repair_state and repair_history with `IN`, parents by key once each), then folds and persists table by table
 * exactly as for one table. The system_distributed slice starts at the oldest table's start; each table keeps only
 * its own sessions from its own start.
 */
export async function readTableHistories(
  client: cassandra.Client,
  options: TableHistoriesOptions,
): Promise<Map<string, TableHistoryRead>> {
  const { ring, tendKeyspace, keyspace, tables, now, lookbackMs } = options;
  const parents: ParentCache = options.parents ?? new Map();
  const states = await readRepairStates(client, tendKeyspace, keyspace, tables);
  const lookbackStart = now - lookbackMs;
  const folds = new Map<string, TableFold>();
  for (const [table, state] of states) {
    const readFrom = Math.max(lookbackStart, state.externalFoldedBefore ?? lookbackStart);
    folds.set(table, new TableFold(ring, now, state, readFrom, options.mergeToleranceMs));
  }

  const wanted = new Set<string>();
  for (const group of sliceGroups([...folds].map(([table, fold]) => [table, fold.readFrom] as const))) {
    for await (const row of readSessionRowsOf(client, keyspace, group.tables, group.from)) {
      const fold = folds.get(row.table);
      // Rows before this table's own start were folded on an earlier tick (the slice starts at the group's oldest).
      if (!fold || row.idTime < fold.readFrom) continue;
      fold.addSession(row);
      if (row.parentId && !parents.has(row.parentId)) wanted.add(row.parentId);
    }
  }
  let parentsRead = 0;
  if (wanted.size > 0) {
    const reading = readParentSessions(client, wanted);
    for (const id of wanted) {
      const one = reading.then((found) => found.get(id) ?? null);
      // Awaited below (and maybe by other tables); marked handled so a failed read is not also an unhandled one.
      one.catch(() => undefined);
      parents.set(id, one);
    }
    parentsRead = (await reading).size;
  }

  // Table by table, all at once: persisting is a write or two per table whose watermark is due (every
  // WATERMARK_STEP_MS), so one tick in two writes for every table; one after the other that was 5–7 ms each.
  const done = await Promise.all(
    [...folds].map(async ([table, fold]) => {
      await fold.addParents(parents, table);
      const watermark = options.persist
        ? await fold.persist(client, tendKeyspace, keyspace, table, options.persistAs ?? 'tend')
        : fold.state.externalFoldedBefore;
      return [table, fold, watermark] as const;
    }),
  );
  const reads = new Map<string, TableHistoryRead>();
  for (const [table, fold, watermark] of done) {
    // Parents read for this call are counted once, on its first table.
    const rowsRead = { ...fold.rowsRead, parents: reads.size === 0 ? parentsRead : 0 };
    reads.set(table, {
      history: fold.accumulator.finish(),
      rowsRead,
      externalFoldedBefore: watermark,
      externalReadFrom: fold.readFrom,
    });
  }
  return reads;
}

/**
 * Tables whose slices start within SLICE_SPREAD_MS of each other share one repair_history request. In steady state
 * every watermark is about an hour behind now: one request. A table with no watermark yet (its slice starts at the
 * lookback) gets its own, so the others do not read weeks of sessions only to discard them.
 */
export const SLICE_SPREAD_MS = 6 * 60 * 60 * 1000;

export function sliceGroups(
  starts: Iterable<readonly [table: string, readFrom: number]>,
): { tables: string[]; from: number }[] {
  const byStart = [...starts].sort(([, a], [, b]) => a - b);
  const groups: { tables: string[]; from: number }[] = [];
  for (const [table, readFrom] of byStart) {
    const last = groups[groups.length - 1];
    if (last && readFrom - last.from <= SLICE_SPREAD_MS) last.tables.push(table);
    else groups.push({ tables: [table], from: readFrom });
  }
  return groups;
}

/** One table's fold: its repair_state, then its sessions, then the parents they name; what is new is persisted. */
class TableFold {
  readonly accumulator: HistoryAccumulator;
  readonly rowsRead: HistoryRowsRead;
  /** Newest success per range among what is new, for persisting: bounded by the distinct ranges repaired since. */
  private readonly fresh = new Map<string, RepairEntry & { finishedAt: number }>();
  private readonly sessionParents: { parentId: string; idTime: number }[] = [];
  private pinnedAt: number;

  constructor(
    ring: Ring,
    private readonly now: number,
    readonly state: RepairStateRead,
    readonly readFrom: number,
    mergeToleranceMs?: number,
  ) {
    this.accumulator = new HistoryAccumulator(ring, mergeToleranceMs);
    this.accumulator.addAll(state.entries);
    this.rowsRead = { state: state.rowsRead, sessions: 0, parents: 0 };
    this.pinnedAt = now - SAFETY_MARGIN_MS;
  }

  /** The watermark may not pass a session that may still change (started less than STALE_SESSION_MS ago). */
  private pin(at: number): void {
    if (at > this.now - STALE_SESSION_MS) this.pinnedAt = Math.min(this.pinnedAt, at - 1);
  }

  private remember(entry: RepairEntry): void {
    if (entry.status !== 'SUCCESS' || entry.finishedAt === null) return;
    const key = `${entry.start}:${entry.end}`;
    const known = this.fresh.get(key);
    if (!known || known.finishedAt < entry.finishedAt) this.fresh.set(key, { ...entry, finishedAt: entry.finishedAt });
  }

  addSession(row: SessionRow): void {
    this.rowsRead.sessions++;
    const entry = sessionEntry(row);
    this.accumulator.add(entry);
    this.remember(entry);
    if (row.status !== 'SUCCESS' && row.status !== 'FAILED') this.pin(row.idTime);
    if (row.parentId) this.sessionParents.push({ parentId: row.parentId, idTime: row.idTime });
  }

  /** Every range a finished parent of this table's sessions repaired; an unfinished one pins the watermark. */
  async addParents(parents: ParentCache, table: string): Promise<void> {
    const expanded = new Set<string>();
    for (const { parentId, idTime } of this.sessionParents) {
      if (expanded.has(parentId)) continue;
      expanded.add(parentId);
      const parent = await parents.get(parentId);
      if (!parent) continue;
      if (parent.finishedAt === null) {
        this.pin(idTime);
        continue;
      }
      const { entries } = parentEntries(parent, table);
      for (const entry of entries) {
        this.accumulator.add(entry);
        this.remember(entry);
      }
    }
  }

  /** Writes what is new into repair_state and moves the watermark; returns the watermark in effect. */
  async persist(
    client: cassandra.Client,
    tendKeyspace: string,
    keyspace: string,
    table: string,
    by: string,
  ): Promise<number | null> {
    const held = new Map(this.state.entries.map((e) => [`${e.start}:${e.end}`, e.finishedAt ?? 0]));
    const changed = [...this.fresh.values()].filter((e) => (held.get(`${e.start}:${e.end}`) ?? -1) < e.finishedAt);
    if (changed.length > 0) {
      await writeRepairState(
        client,
        tendKeyspace,
        keyspace,
        table,
        changed.map((e) => ({ start: e.start, end: e.end, repairedAt: e.finishedAt })),
        by,
      );
    }
    const watermark = this.state.externalFoldedBefore;
    const next = Math.max(this.pinnedAt, this.readFrom);
    if (watermark === null || next >= watermark + WATERMARK_STEP_MS) {
      await writeExternalWatermark(client, tendKeyspace, keyspace, table, next);
      return next;
    }
    return watermark;
  }
}
