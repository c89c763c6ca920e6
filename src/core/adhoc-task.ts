// The one task `tend repair table` runs, from the ring, the keyspace's placement and the ranges asked for: pure, so
// that what an ad hoc repair covers is decided (and tested) like the planner's tasks. A request the node cannot
// carry out is an answer too (`refused`), which the use case turns into a usage error.
import { intersectRanges, rangeWidth, toRangeText, type TokenRange } from './ranges.js';
import { rangesReplicatedBy, type Placement, type Ring } from './ring.js';
import type { RepairParallelism, RepairTask } from './planner.js';

/** What an ad hoc repair runs: a RepairTask without the planner's bookkeeping (priority, reason, sizes). */
export type AdHocTask = Pick<
  RepairTask,
  'id' | 'keyspace' | 'tables' | 'scope' | 'ranges' | 'replicaAddresses' | 'incremental' | 'parallelism' | 'repairType'
>;

/** Why no task: the node replicates nothing of the keyspace, or not all of a requested range. */
export type AdHocRefusal =
  | { readonly refused: 'keyspace_not_replicated' }
  | { readonly refused: 'range_not_replicated'; readonly range: TokenRange };

export interface AdHocInput {
  readonly keyspace: string;
  readonly table: string;
  readonly ring: Ring;
  readonly placement: Placement;
  readonly localHostId: string;
  /** The ranges asked for; none: every range the node replicates, in one whole-table call. */
  readonly requested: readonly TokenRange[];
  readonly incremental: boolean;
  readonly parallelism: RepairParallelism;
}

/**
 * Without requested ranges: every range the node replicates, as one whole-table call. With them: exactly those
 * tokens, each cut at vnode boundaries (Cassandra refuses a range that spans two local ranges); a range (or part of
 * one) the node does not replicate is refused, since Cassandra would refuse it.
 */
export function adHocRepairTask(input: AdHocInput): AdHocTask | AdHocRefusal {
  const { ring, placement } = input;
  const local = rangesReplicatedBy(placement, input.localHostId);
  if (local.length === 0) return { refused: 'keyspace_not_replicated' };
  const pieces: { range: TokenRange; replicaSet: number }[] = [];
  for (const wanted of input.requested) {
    let covered = 0n;
    for (const index of local) {
      for (const piece of intersectRanges(ring.ranges[index]!, wanted)) {
        pieces.push({ range: piece, replicaSet: placement.replicaSetOfRange[index]! });
        covered += rangeWidth(piece);
      }
    }
    if (covered < rangeWidth(wanted)) return { refused: 'range_not_replicated', range: wanted };
  }
  const whole = input.requested.length === 0;
  const selected = whole
    ? local.map((index) => ({ range: ring.ranges[index]!, replicaSet: placement.replicaSetOfRange[index]! }))
    : pieces;
  const hostIds = new Set(selected.flatMap((piece) => placement.replicaSets[piece.replicaSet]!.hostIds));
  const replicaAddresses = [...hostIds].map((id) => ring.nodes.get(id)?.address ?? id).sort();
  return {
    id: `${input.keyspace}.${input.table}#adhoc`,
    keyspace: input.keyspace,
    tables: [input.table],
    scope: whole ? 'table' : 'ranges',
    ranges: selected.map((piece) => toRangeText(piece.range)),
    replicaAddresses,
    incremental: input.incremental,
    parallelism: input.parallelism,
    repairType: input.incremental ? 'incremental' : whole ? 'vnode' : 'subrange',
  };
}
