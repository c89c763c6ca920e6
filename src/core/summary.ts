// Table summaries: what lets an idle tick plan from one row per table instead of one per range.
//
// A summary is, for one node and one table, a lower bound of when the node's oldest local range was last repaired.
// The planner assesses a job from it alone (`basis: 'summary'`) and reads the table's ranges only when the bound says
// the job is due, or could join a command that is being planned. Why a stored summary can only make a table look
// more overdue, never less:
// - it is computed from the range-level history of the moment (the oldest range), and a range's last repair only
//   moves forward afterwards: any repair by anyone (tend on another node, nodetool, Reaper) makes the truth newer
//   than the bound, never older;
// - it holds for the local ranges it was computed on: a change of the ring or of the keyspace's replication gives the
//   node other ranges, possibly never repaired, so each summary carries a fingerprint of those ranges and one that
//   does not match is not used (the table is read again);
// - a table whose bound is not due has every range repaired within its interval, exactly: its state, alarm and
//   repaired share are the same as with the ranges read; only `lastRepairedAt` may be older than the truth;
// - a bound that comes due is replaced by the truth at once (the ranges are read and the summary rewritten), so the
//   staleness is bounded by the interval.
import { fnv1a32 } from './hash.js';
import type { Plan, SummaryBound, Topology } from './planner.js';
import { tableKey } from './planner.js';
import { computePlacement, rangesReplicatedBy, strategyName, type Ring } from './ring.js';

/** A summary as stored: the bound, and the local ranges it holds for. */
export interface TableSummary extends SummaryBound {
  readonly keyspace: string;
  readonly table: string;
  /** rangesFingerprint of the local ranges the bound was computed on. */
  readonly fingerprint: string;
}

/** `count:hash-of-starts:hash-of-ends` of ring ranges: changes when the local ranges do. */
export function rangesFingerprint(ring: Ring, indexes: readonly number[]): string {
  let starts = '';
  let ends = '';
  for (const index of indexes) {
    const range = ring.ranges[index];
    if (!range) continue;
    starts += `${range.start},`;
    ends += `${range.end},`;
  }
  return `${indexes.length}:${fnv1a32(starts).toString(16)}:${fnv1a32(ends).toString(16)}`;
}

/** The fingerprint of the local node's ranges per keyspace (keyspaces tend cannot place are left out). */
export function keyspaceFingerprints(ring: Ring, topology: Topology, localHostId: string): Map<string, string> {
  const byKeyspace = new Map<string, string>();
  for (const [keyspace, replication] of Object.entries(topology.keyspaces)) {
    try {
      if (strategyName(replication.class) === 'LocalStrategy') continue;
    } catch {
      continue;
    }
    const placement = computePlacement(ring, replication, localHostId);
    byKeyspace.set(keyspace, rangesFingerprint(ring, rangesReplicatedBy(placement, localHostId)));
  }
  return byKeyspace;
}

/**
 * The bound to plan each table from: its stored summary when that still holds (the fingerprint matches the local
 * ranges now), else "unknown" (null: as if some range had never been repaired), which makes the job due at the top
 * of the order, so its ranges are read first. By tableKey.
 */
export function summaryBounds(
  tables: Iterable<{ readonly keyspace: string; readonly table: string }>,
  stored: ReadonlyMap<string, TableSummary>,
  fingerprints: ReadonlyMap<string, string>,
): Record<string, SummaryBound> {
  const bounds: Record<string, SummaryBound> = {};
  for (const { keyspace, table } of tables) {
    const key = tableKey(keyspace, table);
    const summary = stored.get(key);
    const holds = summary !== undefined && fingerprints.get(keyspace) === summary.fingerprint;
    bounds[key] = { oldestRepairedAt: holds ? summary.oldestRepairedAt : null };
  }
  return bounds;
}

/**
 * The summaries a plan's range-level jobs give, when they differ from what is stored: what a tick writes so that
 * its next plan needs no range of these tables until they come due.
 */
export function summariesToStore(
  result: Pick<Plan, 'jobs'>,
  fingerprints: ReadonlyMap<string, string>,
  stored: ReadonlyMap<string, TableSummary>,
): TableSummary[] {
  const changed: TableSummary[] = [];
  for (const job of result.jobs) {
    if (job.basis !== 'ranges') continue;
    const fingerprint = fingerprints.get(job.keyspace);
    if (fingerprint === undefined) continue;
    const previous = stored.get(tableKey(job.keyspace, job.table));
    if (previous?.fingerprint === fingerprint && previous.oldestRepairedAt === job.lastRepairedAt) continue;
    changed.push({ keyspace: job.keyspace, table: job.table, oldestRepairedAt: job.lastRepairedAt, fingerprint });
  }
  return changed;
}
