/**
 * Between two tasks of a tick's batch: may the next task start at all, and which task may run on the leases the
 * task before it held? Pure: the facts (clock, interrupt, replicas seen down, another node's announcement) are read
 * by the caller (src/app/batch.ts); a simulation of many nodes (bench/) calls these with its own facts.
 *
 * Leases are kept for the next task when they cover it: every lease group it needs is held (in scope `node` its
 * replicas are a subset of the replicas held, in scope `datacenter` the same DC), and no other node has announced,
 * on the leases held, a job that outranks it. The task that follows is the first pending one in plan order (the
 * highest priority) that the held leases cover, not only the task right after in plan order: like ecChronos's repair
 * groups, one acquisition carries the due work of a replica set across tables and keyspaces. In a large cluster this
 * is what keeps a replica set busy: every node plans the same jobs in the same order, so a lease released and taken
 * again costs Paxos rounds (or Consul writes) and, when another node's claim is refused meanwhile, a replan pause
 * of that node. A batch may then hold, for a while, a replica the running task does not touch (a subset runs on a
 * larger set's leases); the announcement check on every held lease bounds that: a more urgent job announced on any
 * of them gets them after the running task.
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

/** Same lease groups, by name (same names, same slots). */
export function sameLeases(held: readonly string[], needed: readonly string[]): boolean {
  return held.length === needed.length && held.every((name, index) => name === needed[index]);
}

/**
 * The held lease groups cover `needed`: every group it needs is held (by name; one slot of a group serves any task
 * that needs the group). A task that needs no group is not covered (it would not be a repair on these replicas).
 */
export function leasesCover(held: readonly string[], needed: readonly string[]): boolean {
  return needed.length > 0 && needed.every((name) => held.includes(name));
}

/**
 * Which pending task is proposed to follow on the leases held: the first, in plan order, whose lease groups the held
 * ones cover (`leasesCover`). Every node plans the same tasks in the same order, so every node makes the same choice
 * for the same held leases. `undefined`: none is covered (the leases are released after the running task).
 */
export function chooseFollower(held: readonly string[], pending: readonly (readonly string[])[]): number | undefined {
  const index = pending.findIndex((groups) => leasesCover(held, groups));
  return index >= 0 ? index : undefined;
}

export interface KeepLeasesFacts {
  /** The lease groups held for the task that just ended, by name, in leaseGroups' order. */
  readonly held: readonly string[];
  /**
   * The task that ended stopped the run: a lease was lost, the process interrupted, or the node became
   * unreachable. Nothing follows under these leases.
   */
  readonly stopped: boolean;
  /** The task proposed to follow (chooseFollower, or the next in plan order); absent when the batch has none left. */
  readonly next?: {
    /** The lease groups it needs, by name, in leaseGroups' order. */
    readonly groups: readonly string[];
    /**
     * Another node announced, for one of the groups held, a priority higher than the next task's; also true when
     * the announcements could not be read (keeping leases a more urgent node may be waiting for is the wrong bet).
     * Only asked of the backend when `leasesCover(held, groups)`.
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
      /** stopped: see KeepLeasesFacts.stopped; last: no next task; other_leases: it needs a group not held. */
      readonly reason: 'stopped' | 'last' | 'other_leases' | 'outranked' | 'blocked';
    };

/**
 * Keep the leases held now for the next task of the batch, or release them (and, for a next task that needs other
 * leases, acquire those). The first reason that applies wins, in the order of the KeepLeases reasons.
 */
export function keepLeases(facts: KeepLeasesFacts): KeepLeases {
  if (facts.stopped) return { keep: false, reason: 'stopped' };
  if (!facts.next) return { keep: false, reason: 'last' };
  if (!leasesCover(facts.held, facts.next.groups)) return { keep: false, reason: 'other_leases' };
  if (facts.next.outranked) return { keep: false, reason: 'outranked' };
  if (facts.next.blocked) return { keep: false, reason: 'blocked' };
  return { keep: true };
}
