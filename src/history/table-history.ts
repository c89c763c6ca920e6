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
 *
 * With `persist`, the newly seen external successes are written into repair_state and the watermark advances,
 * so the next read starts where this one ended. Only what changes is written: a success repair_state already holds
 * (the hour behind the watermark is read again on every tick) is not rewritten, and the watermark moves only in
 * steps of WATERMARK_STEP_MS (a watermark behind where it could be only means a few more rows read). An idle tick
 * over 100 tables thus writes nothing. Read-only commands (`schedule status`, `schedule plan`) leave it
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
  readSessionRows,
  sessionEntry,
  type ParentSession,
} from './cassandra-history.js';
import { readRepairState, writeExternalWatermark, writeRepairState } from './tend-history.js';

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
  /** Parent sessions already read in this plan (shared by the tables of a keyspace); filled as a side effect. */
  readonly parents?: Map<string, ParentSession | null>;
  /** Write newly seen external successes into repair_state and advance the watermark. */
  readonly persist?: boolean;
  /** Name recorded as repaired_by for folded external repairs. */
  readonly persistAs?: string;
}

/** Reads and folds one table's history (see the header for what is read). */
export async function readTableHistory(
  client: cassandra.Client,
  options: TableHistoryOptions,
): Promise<TableHistoryRead> {
  const { ring, tendKeyspace, keyspace, table, now, lookbackMs } = options;
  const parents = options.parents ?? new Map<string, ParentSession | null>();
  const accumulator = new HistoryAccumulator(ring, options.mergeToleranceMs);
  const rowsRead: HistoryRowsRead = { state: 0, sessions: 0, parents: 0 };

  const state = await readRepairState(client, tendKeyspace, keyspace, table);
  rowsRead.state = state.rowsRead;
  accumulator.addAll(state.entries);

  const lookbackStart = now - lookbackMs;
  const readFrom = Math.max(lookbackStart, state.externalFoldedBefore ?? lookbackStart);
  // Newest success per range among what is new, for persisting: bounded by the distinct ranges repaired since.
  const fresh = new Map<string, RepairEntry & { finishedAt: number }>();
  const remember = (entry: RepairEntry) => {
    if (entry.status !== 'SUCCESS' || entry.finishedAt === null) return;
    const key = `${entry.start}:${entry.end}`;
    const known = fresh.get(key);
    if (!known || known.finishedAt < entry.finishedAt) fresh.set(key, { ...entry, finishedAt: entry.finishedAt });
  };
  let pinnedAt = now - SAFETY_MARGIN_MS;
  const pin = (at: number) => {
    if (at > now - STALE_SESSION_MS) pinnedAt = Math.min(pinnedAt, at - 1);
  };

  const wanted = new Set<string>();
  const sessionParents: string[] = [];
  for await (const row of readSessionRows(client, keyspace, table, readFrom)) {
    rowsRead.sessions++;
    const entry = sessionEntry(row);
    accumulator.add(entry);
    remember(entry);
    if (row.status !== 'SUCCESS' && row.status !== 'FAILED') pin(row.idTime);
    if (row.parentId) {
      sessionParents.push(`${row.parentId}@${row.idTime}`);
      if (!parents.has(row.parentId)) wanted.add(row.parentId);
    }
  }
  if (wanted.size > 0) {
    const found = await readParentSessions(client, wanted);
    rowsRead.parents += found.size;
    for (const id of wanted) parents.set(id, found.get(id) ?? null);
  }
  const expanded = new Set<string>();
  for (const item of sessionParents) {
    const [parentId = '', idTime = '0'] = item.split('@');
    if (expanded.has(parentId)) continue;
    expanded.add(parentId);
    const parent = parents.get(parentId);
    if (!parent) continue;
    if (parent.finishedAt === null) {
      pin(Number(idTime));
      continue;
    }
    const { entries } = parentEntries(parent, table);
    for (const entry of entries) {
      accumulator.add(entry);
      remember(entry);
    }
  }

  let watermark = state.externalFoldedBefore;
  if (options.persist) {
    const by = options.persistAs ?? 'tend';
    const held = new Map(state.entries.map((e) => [`${e.start}:${e.end}`, e.finishedAt ?? 0]));
    const changed = [...fresh.values()].filter((e) => (held.get(`${e.start}:${e.end}`) ?? -1) < e.finishedAt);
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
    const next = Math.max(pinnedAt, readFrom);
    if (watermark === null || next >= watermark + WATERMARK_STEP_MS) {
      await writeExternalWatermark(client, tendKeyspace, keyspace, table, next);
      watermark = next;
    }
  }
  return { history: accumulator.finish(), rowsRead, externalFoldedBefore: watermark, externalReadFrom: readFrom };
}
