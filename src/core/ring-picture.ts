// A picture of one table's token ring (`history show --coverage --ring`): the ring from MIN_TOKEN to MAX_TOKEN cut
// into equal cells, each showing how old the last successful repair of the ranges it covers is, against the table's
// interval and alarms. Operators ask "which ranges are how old?"; the answer is a strip they can read at a glance.
//
// Vnode ranges are uneven (random tokens: one range may span many cells, many ranges may share one), so a cell shows
// the worst of the ranges that overlap it: a cell never looks better than any of its ranges. Ranges the node tend
// acts for does not replicate are not its to repair: a cell covered only by those says so instead of showing an age.
import type { TokenRange } from './ranges.js';
import { MIN_TOKEN, RING_SIZE, tokenDistance } from './tokens.js';
import { buildRing, computePlacement, rangesReplicatedBy } from './ring.js';
import { foldTableHistory, type RepairEntry, type TableHistory } from './timeline.js';
import { tableKey, type PlanInput } from './planner.js';

/**
 * How old a range's last successful repair is, worst last: within the interval, past the interval (due), past the
 * warn alarm, past the error alarm (by default gc_grace_seconds: deleted data may come back), or no successful
 * repair in the history read. The bounds are those of the planner (assessJob): `age >= limit` is past it.
 */
export type AgeBand = 'ok' | 'due' | 'warn' | 'error' | 'never';

export const AGE_BANDS: readonly AgeBand[] = ['ok', 'due', 'warn', 'error', 'never'];

/** A cell covered by no range of this node. */
export type CellBand = AgeBand | 'elsewhere';

export interface AgeLimits {
  readonly intervalMs: number;
  readonly warnMs: number;
  readonly errorMs: number;
}

/** One range of the ring and when it was last repaired successfully (null: never, within the history read). */
export interface RangeAge {
  readonly range: TokenRange;
  readonly repairedAt: number | null;
  /** Whether the node tend acts for replicates it (only those are its to repair, and get a band). */
  readonly local: boolean;
}

export interface RingCell {
  readonly band: CellBand;
  /** The oldest last repair among the local ranges overlapping the cell; null when one was never repaired, or none. */
  readonly repairedAt: number | null;
  /** Local ranges overlapping the cell. */
  readonly ranges: number;
}

export function ageBand(repairedAt: number | null, now: number, limits: AgeLimits): AgeBand {
  if (repairedAt === null) return 'never';
  const age = now - repairedAt;
  if (age >= limits.errorMs) return 'error';
  if (age >= limits.warnMs) return 'warn';
  if (age >= limits.intervalMs) return 'due';
  return 'ok';
}

/**
 * The cells `range` has a token in, in ring order from the cell holding its first token. Cell i holds the tokens
 * (MIN_TOKEN + i·w, MIN_TOKEN + (i+1)·w] with w = 2^64 / cells (the last cell ends at MIN_TOKEN itself, as a range
 * ending at MIN_TOKEN wraps). A range is (start, end]: its first token is start + 1. A range wrapping past MAX_TOKEN
 * (start >= end) continues in cell 0; start == end is the whole ring.
 */
export function cellsOfRange(range: TokenRange, cells: number): number[] {
  if (!Number.isInteger(cells) || cells < 1) throw new RangeError(`cells must be a positive integer, got ${cells}`);
  const n = BigInt(cells);
  const width = range.start === range.end ? RING_SIZE : tokenDistance(range.start, range.end);
  // Position of a token t: (t - MIN_TOKEN - 1) mod 2^64, so cell i holds positions [i·w, (i+1)·w) — exact for any
  // number of cells, as (position · cells) / 2^64 needs no rounding of w.
  const first = tokenDistance(MIN_TOKEN, range.start);
  const last = first + width - 1n;
  const firstCell = (first * n) / RING_SIZE;
  const lastCell = (last * n) / RING_SIZE;
  const count = Number(lastCell - firstCell + 1n);
  const result: number[] = [];
  for (let k = 0; k < Math.min(count, cells); k++) result.push((Number(firstCell) + k) % cells);
  return result;
}

/**
 * The ring as `cells` cells, each the worst band among the local ranges that overlap it: a never-repaired range
 * wins over any age, an older repair over a newer one. A cell no local range overlaps is `elsewhere`.
 */
export function ringCells(ranges: readonly RangeAge[], now: number, limits: AgeLimits, cells = 64): RingCell[] {
  const oldest: (number | null | undefined)[] = new Array<number | null | undefined>(cells).fill(undefined);
  const counts = new Array<number>(cells).fill(0);
  for (const { range, repairedAt, local } of ranges) {
    if (!local) continue;
    for (const cell of cellsOfRange(range, cells)) {
      counts[cell]! += 1;
      const seen = oldest[cell];
      if (seen === null) continue;
      if (repairedAt === null || seen === undefined || repairedAt < seen) oldest[cell] = repairedAt;
    }
  }
  return oldest.map((repairedAt, cell) =>
    repairedAt === undefined
      ? { band: 'elsewhere', repairedAt: null, ranges: 0 }
      : { band: ageBand(repairedAt, now, limits), repairedAt, ranges: counts[cell]! },
  );
}

/** How many local ranges fall in each band: the legend's counts. */
export function bandCounts(ranges: readonly RangeAge[], now: number, limits: AgeLimits): Record<AgeBand, number> {
  const counts: Record<AgeBand, number> = { ok: 0, due: 0, warn: 0, error: 0, never: 0 };
  for (const { repairedAt, local } of ranges) if (local) counts[ageBand(repairedAt, now, limits)]++;
  return counts;
}

/**
 * Every range of the ring for one table, with its last successful repair as the planner sees it (the history in
 * `input`, folded onto the ring the same way), in ring order. A vnode with sub-range history is given as its pieces,
 * each with its own time; otherwise as the whole vnode. `local`: the node `input` plans for replicates it.
 * Undefined when the keyspace is not in the topology.
 */
export function tableRangeAges(input: PlanInput, keyspace: string, table: string): RangeAge[] | undefined {
  const replication = input.topology.keyspaces[keyspace];
  if (!replication) return undefined;
  const given = input.history[tableKey(keyspace, table)];
  const folded: TableHistory =
    given !== undefined && !Array.isArray(given)
      ? (given as TableHistory)
      : foldTableHistory(
          input.ring ?? buildRing(input.topology.nodes),
          (given ?? []) as readonly RepairEntry[],
          input.mergeToleranceMs,
        );
  const ring = folded.ring;
  const local = new Set(rangesReplicatedBy(computePlacement(ring, replication, input.localHostId), input.localHostId));
  const ages: RangeAge[] = [];
  ring.ranges.forEach((range, index) => {
    const isLocal = local.has(index);
    const pieces = folded.pieces.get(index);
    if (pieces) {
      for (const piece of pieces) ages.push({ range: piece.range, repairedAt: piece.repairedAt, local: isLocal });
      return;
    }
    const at = folded.repairedAt[index] ?? -Infinity;
    ages.push({ range, repairedAt: at === -Infinity ? null : at, local: isLocal });
  });
  return ages;
}
