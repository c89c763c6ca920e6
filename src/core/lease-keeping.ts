/**
 * Between two tasks of a tick's batch: may the next task start at all, and may it run on the leases the task before
 * it held? Pure: the facts (clock, interrupt, replicas seen down, another node's announcement) are read by the caller
 * (src/app/batch.ts); a simulation of many nodes (bench/) calls these with its own facts.
 *
 * Leases are kept from one task to the next only while the next task needs exactly the same lease groups (the same
 * replicas in scope `node`, the same DC in scope `datacenter`) and no other node has announced a job that outranks
 * it: a release and a new acquisition would cost Paxos rounds (or Consul writes) for leases taken straight back,
 * while keeping them longer would hold replicas the batch is not repairing, or starve a more urgent job elsewhere.
 */

/** Why a task may not start now. */
export type StartBlock =
  | { readonly status: 'not_started_aborted'; readonly message: string }
  | { readonly status: 'not_started_deadline'; readonly message: string }
  | { readonly status: 'not_started_replica_down'; readonly message: string }
  | { readonly status: 'not_started_repair_running'; readonly message: string }
  | { readonly status: 'not_started_back_pressure'; readonly message: string };

export interface StartFacts {
  /** The process was interrupted (SIGINT/SIGTERM). */
  readonly interrupted: boolean;
  /** Epoch ms now, and the start deadline (tick start + schedule.maxDuration): a running task is never cut short. */
  readonly now: number;
  readonly startDeadline: number;
  /** Why a replica the task needs is down, when one went down during this batch. */
  readonly replicaDown?: string | undefined;
  /** A replica is busy: another repair runs on it, or it is past a back-pressure limit (src/core/running-repairs.ts, back-pressure.ts). */
  readonly replicaBusy?: { readonly code: 'repair_running' | 'back_pressure'; readonly reason: string } | undefined;
}

/**
 * Why a task may not start, first match of: interrupted, schedule.maxDuration reached, a replica it needs went
 * down during the batch, a replica busy (repairing already, or overloaded). `undefined`: it may start.
 */
export function startBlock(facts: StartFacts): StartBlock | undefined {
  if (facts.interrupted) return { status: 'not_started_aborted', message: 'interrupted' };
  if (facts.now >= facts.startDeadline) {
    return { status: 'not_started_deadline', message: 'schedule.maxDuration reached' };
  }
  if (facts.replicaDown !== undefined) return { status: 'not_started_replica_down', message: facts.replicaDown };
  if (facts.replicaBusy !== undefined) {
    return { status: `not_started_${facts.replicaBusy.code}`, message: facts.replicaBusy.reason };
  }
  return undefined;
}

/** The start blocks a replica of the task caused (down, already repairing, overloaded): logged, counted, skipped. */
export const REPLICA_BLOCKS: ReadonlySet<string> = new Set<StartBlock['status']>([
  'not_started_replica_down',
  'not_started_repair_running',
  'not_started_back_pressure',
]);

/** Same lease groups, by name (same names, same slots): the only case where leases may be kept. */
export function sameLeases(held: readonly string[], needed: readonly string[]): boolean {
  return held.length === needed.length && held.every((name, index) => name === needed[index]);
}

export interface KeepLeasesFacts {
  /** The lease groups held for the task that just ended, by name, in leaseGroups' order. */
  readonly held: readonly string[];
  /**
   * The task that ended stopped the run: a lease was lost, the process interrupted, or the node became
   * unreachable. Nothing follows under these leases.
   */
  readonly stopped: boolean;
  /** The next task of the batch, in plan order; absent when the batch has none left. */
  readonly next?: {
    /** The lease groups it needs, by name, in leaseGroups' order. */
    readonly groups: readonly string[];
    /**
     * Another node announced, for one of these groups, a priority higher than the next task's; also true when the
     * announcements could not be read (keeping leases a more urgent node may be waiting for is the wrong bet).
     * Only asked of the backend when `sameLeases(held, groups)`.
     */
    readonly outranked: boolean;
    /** startBlock for the next task, after the task that ended. */
    readonly blocked?: StartBlock | undefined;
  };
}

export type KeepLeases =
  | { readonly keep: true }
  | {
      readonly keep: false;
      /** stopped: see KeepLeasesFacts.stopped; last: no next task; other_leases: it needs other groups. */
      readonly reason: 'stopped' | 'last' | 'other_leases' | 'outranked' | 'blocked';
    };

/**
 * Keep the leases held now for the next task of the batch, or release them (and, for a next task that needs other
 * leases, acquire those). The first reason that applies wins, in the order of the KeepLeases reasons.
 */
export function keepLeases(facts: KeepLeasesFacts): KeepLeases {
  if (facts.stopped) return { keep: false, reason: 'stopped' };
  if (!facts.next) return { keep: false, reason: 'last' };
  if (!sameLeases(facts.held, facts.next.groups)) return { keep: false, reason: 'other_leases' };
  if (facts.next.outranked) return { keep: false, reason: 'outranked' };
  if (facts.next.blocked) return { keep: false, reason: 'blocked' };
  return { keep: true };
}
