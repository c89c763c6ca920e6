// The repair-history timeline: when was each range last repaired successfully?
//
// History comes from system_distributed.repair_history (anyone's repairs, including a plain `nodetool repair`) and
// from tend's own table. Following ecChronos (seeds/002, "Sub-range repairs"): an entry counts for a vnode only when
// it lies entirely inside that vnode; entries that overlap are split so each piece gets the newest time that covers
// it; then neighbouring pieces repaired close together are merged, so the state of a vnode stays a handful of pieces
// however many sub-range sessions ran.
import { rangeContainsRange, rangeWidth, type TokenRange } from './ranges.js';
import { rangeIndexOfToken, type Ring } from './ring.js';
import { advanceToken, compareTokens, parseToken, tokenDistance } from './tokens.js';

/**
 * One repair history row as the history adapter hands it over. Tokens are decimal text, as stored by Cassandra, so
 * the common case (an entry that is exactly a vnode) is matched by text without parsing.
 */
export interface RepairEntry {
  /** range_begin: the excluded start token. */
  readonly start: string;
  /** range_end: the included end token. */
  readonly end: string;
  /** finished_at in epoch milliseconds; null while a session is still running. */
  readonly finishedAt: number | null;
  /** Only 'SUCCESS' counts as repaired; 'FAILED', 'STARTED' and anything else are ignored. */
  readonly status: string;
}

/** A piece of a vnode and when it was last repaired successfully (null: not within the history that was read). */
export interface TimelinePiece {
  readonly range: TokenRange;
  readonly repairedAt: number | null;
}

/** A successful repair of a range, tokens already parsed. */
export interface RepairedRange {
  readonly range: TokenRange;
  readonly finishedAt: number;
}

/** Default merge tolerance: pieces repaired within an hour of each other are treated as one (seeds/002). */
export const DEFAULT_MERGE_TOLERANCE_MS = 60 * 60 * 1000;

/**
 * The timeline of one vnode: consecutive pieces covering it exactly, in ring order from `vnode.start`.
 * Entries not fully contained in the vnode are ignored. Where entries overlap the newest time wins. Neighbouring
 * pieces whose times lie within `mergeToleranceMs` of each other are merged and keep the OLDEST of their times, so a
 * merge can make a range look older than it is, never newer; never-repaired neighbours merge too.
 */
export function buildRangeTimeline(
  vnode: TokenRange,
  repairs: readonly RepairedRange[],
  mergeToleranceMs: number = DEFAULT_MERGE_TOLERANCE_MS,
): TimelinePiece[] {
  const width = rangeWidth(vnode);
  const spans: { from: bigint; to: bigint; at: number }[] = [];
  for (const repair of repairs) {
    if (!Number.isFinite(repair.finishedAt) || !rangeContainsRange(vnode, repair.range)) continue;
    const from = repair.range.start === vnode.start ? 0n : tokenDistance(vnode.start, repair.range.start);
    spans.push({ from, to: from + rangeWidth(repair.range), at: repair.finishedAt });
  }
  const boundarySet = new Set<bigint>([0n, width]);
  for (const span of spans) {
    boundarySet.add(span.from);
    boundarySet.add(span.to);
  }
  const boundaries = [...boundarySet].sort(compareTokens);
  const times = new Float64Array(boundaries.length - 1).fill(-Infinity);
  // Newest first: the first span to paint a segment holds the newest time for it.
  spans.sort((a, b) => b.at - a.at);
  for (const span of spans) {
    for (let k = lowerBound(boundaries, span.from); k < times.length && (boundaries[k] ?? width) < span.to; k++) {
      if (times[k] === -Infinity) times[k] = span.at;
    }
  }
  const pieces: TimelinePiece[] = [];
  let pieceFrom = 0n;
  let oldest = times[0] ?? -Infinity;
  let newest = oldest;
  for (let k = 1; k <= times.length; k++) {
    const t = k < times.length ? (times[k] ?? -Infinity) : undefined;
    const mergeable =
      t !== undefined &&
      (t === -Infinity
        ? oldest === -Infinity
        : oldest !== -Infinity && Math.max(newest, t) - Math.min(oldest, t) <= mergeToleranceMs);
    if (mergeable) {
      oldest = Math.min(oldest, t);
      newest = Math.max(newest, t);
      continue;
    }
    const pieceTo = boundaries[k] ?? width;
    pieces.push({
      range: {
        start: advanceToken(vnode.start, pieceFrom),
        end: pieceTo === width ? vnode.end : advanceToken(vnode.start, pieceTo),
      },
      repairedAt: oldest === -Infinity ? null : oldest,
    });
    if (t !== undefined) {
      pieceFrom = pieceTo;
      oldest = t;
      newest = t;
    }
  }
  return pieces;
}

function lowerBound(sorted: readonly bigint[], value: bigint): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] ?? value) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The history of one table folded onto the ring. Arrays are indexed like Ring.ranges. */
export interface TableHistory {
  /** The ring the history was folded onto; the planner refuses a history folded onto another ring. */
  readonly ring: Ring;
  /**
   * When each ring range was last repaired as a whole (epoch ms; -Infinity when never, within the history read).
   * For a range with sub-range history this is the oldest of its pieces.
   */
  readonly repairedAt: Float64Array;
  /** Timelines of the ranges that have sub-range history; ranges absent here are one piece at repairedAt. */
  readonly pieces: ReadonlyMap<number, readonly TimelinePiece[]>;
  readonly stats: HistoryStats;
}

export interface HistoryStats {
  /** Entries handed in. */
  entries: number;
  /** Successful entries that count for a vnode. */
  used: number;
  /** Entries that are not SUCCESS or have no finish time. */
  unsuccessful: number;
  /** Successful entries not contained in any single vnode (e.g. recorded under an older ring) — ignored. */
  notContained: number;
  /** Entries whose tokens do not parse — ignored. */
  malformed: number;
}

/**
 * Folds one table's history onto the ring entry by entry, so the history adapter can fold each page of rows as it
 * reads it and drop the page: memory then stays proportional to the ring (8 bytes per range, plus sub-range
 * entries), not to the length of history.
 *
 * Cost per entry: one Map lookup when the entry is exactly a vnode (the usual case: tend and `nodetool repair` both
 * repair whole vnodes), a BigInt parse and a binary search otherwise. Timelines are built only for vnodes that have
 * sub-range entries.
 */
export class HistoryAccumulator {
  private readonly repairedAt: Float64Array;
  private readonly subRanges = new Map<number, RepairedRange[]>();
  private readonly stats: HistoryStats = { entries: 0, used: 0, unsuccessful: 0, notContained: 0, malformed: 0 };
  private finished = false;

  constructor(
    readonly ring: Ring,
    private readonly mergeToleranceMs: number = DEFAULT_MERGE_TOLERANCE_MS,
  ) {
    this.repairedAt = new Float64Array(ring.ranges.length).fill(-Infinity);
  }

  add(entry: RepairEntry): void {
    if (this.finished) throw new Error('HistoryAccumulator.add() after finish()');
    const stats = this.stats;
    stats.entries++;
    const at = entry.finishedAt;
    if (entry.status !== 'SUCCESS' || at === null || !Number.isFinite(at)) {
      stats.unsuccessful++;
      return;
    }
    const ring = this.ring;
    const index = ring.indexByStartText.get(entry.start);
    if (index !== undefined && ring.endTexts[index] === entry.end) {
      if (at > (this.repairedAt[index] ?? -Infinity)) this.repairedAt[index] = at;
      stats.used++;
      return;
    }
    let range: TokenRange;
    try {
      range = { start: parseToken(entry.start), end: parseToken(entry.end) };
    } catch {
      stats.malformed++;
      return;
    }
    const vnodeIndex = ring.ranges.length === 0 ? -1 : rangeIndexOfToken(ring, advanceToken(range.start, 1n));
    const vnode = ring.ranges[vnodeIndex];
    if (!vnode || !rangeContainsRange(vnode, range)) {
      stats.notContained++;
      return;
    }
    stats.used++;
    let list = this.subRanges.get(vnodeIndex);
    if (!list) this.subRanges.set(vnodeIndex, (list = []));
    list.push({ range, finishedAt: at });
  }

  addAll(entries: Iterable<RepairEntry>): this {
    for (const entry of entries) this.add(entry);
    return this;
  }

  /** Builds the timelines of vnodes with sub-range history and returns the result. Call once. */
  finish(): TableHistory {
    this.finished = true;
    const { ring, repairedAt } = this;
    const pieces = new Map<number, TimelinePiece[]>();
    for (const [index, repairs] of this.subRanges) {
      const vnode = ring.ranges[index];
      if (!vnode) continue;
      const whole = repairedAt[index] ?? -Infinity;
      if (whole !== -Infinity) repairs.push({ range: vnode, finishedAt: whole });
      const timeline = buildRangeTimeline(vnode, repairs, this.mergeToleranceMs);
      let oldest = Infinity;
      for (const piece of timeline) oldest = Math.min(oldest, piece.repairedAt ?? -Infinity);
      repairedAt[index] = oldest;
      if (timeline.length > 1) pieces.set(index, timeline);
    }
    this.subRanges.clear();
    return { ring, repairedAt, pieces, stats: { ...this.stats } };
  }
}

/** Folds a whole table history at once (see HistoryAccumulator). */
export function foldTableHistory(
  ring: Ring,
  entries: Iterable<RepairEntry>,
  mergeToleranceMs: number = DEFAULT_MERGE_TOLERANCE_MS,
): TableHistory {
  return new HistoryAccumulator(ring, mergeToleranceMs).addAll(entries).finish();
}

/**
 * `history` with `entries` added, as if they had been in the history read: the state after repairs that just
 * finished, without reading anything again. The folded state is replayed as entries (whole ranges and the pieces
 * of ranges with sub-range history) and the new ones are added on top; pieces are merged again with the same
 * tolerance, which may make a range look older, never newer.
 */
export function withRepairs(
  history: TableHistory,
  entries: Iterable<RepairEntry>,
  mergeToleranceMs: number = DEFAULT_MERGE_TOLERANCE_MS,
): TableHistory {
  const { ring } = history;
  const accumulator = new HistoryAccumulator(ring, mergeToleranceMs);
  for (let index = 0; index < ring.ranges.length; index++) {
    const pieces = history.pieces.get(index);
    if (pieces) {
      for (const piece of pieces) {
        if (piece.repairedAt === null) continue;
        accumulator.add({
          start: piece.range.start.toString(),
          end: piece.range.end.toString(),
          finishedAt: piece.repairedAt,
          status: 'SUCCESS',
        });
      }
      continue;
    }
    const at = history.repairedAt[index] ?? -Infinity;
    if (at === -Infinity) continue;
    accumulator.add({ start: ring.startTexts[index]!, end: ring.endTexts[index]!, finishedAt: at, status: 'SUCCESS' });
  }
  accumulator.addAll(entries);
  const folded = accumulator.finish();
  return { ...folded, stats: history.stats };
}
