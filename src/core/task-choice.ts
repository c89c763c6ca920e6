/**
 * Which planned task a tick tries next: the first one, in plan order, whose leases are free, read from one listing of
 * the leases just before. Pure; src/app/batch.ts calls it before each claim of a node's tick, and when it finds no task
 * free ends the batch without attempting one (the tick plans again after schedule.replan.pause); bench/simulate calls it
 * for 30 simulated nodes.
 *
 * Why: every node plans the same jobs in the same order (deterministic priorities), so in a large cluster most of a
 * node's first choices are replica sets another node is repairing right now. Trying them in plan order costs a lease
 * attempt each and, when all are refused, a replan pause (schedule.replan.pause, 30s) during which the replicas the
 * holder frees stay idle; range commands at 256 vnodes last a few seconds. Trying first the tasks whose replicas
 * nobody holds starts a repair at once wherever one can start. The order among free tasks, and among busy ones, stays
 * the plan's: priorities decide as before, a busy task is only passed over while its replicas are held. It pays
 * with more candidates than the tick starts (schedule.candidates): bench/simulate, 30 nodes at 64 vnodes, 0.387 of
 * the lower bound with 10 planned, 0.559 with 100.
 *
 * A listing is a snapshot: a slot it shows free may be taken before the claim (the claim is then refused as before),
 * and a slot it shows held may be released meanwhile (the task is still tried, after the free ones). So the choice
 * never lets two repairs share a replica: the claim's compare-and-set decides that, as before.
 */

/** The facts for one choice. */
export interface TaskChoiceFacts {
  /**
   * The tasks not yet tried, in plan order: for each, the slots of each lease group it needs (a group is free when
   * one of its slots is; a task is free when every group is).
   */
  readonly pending: readonly (readonly (readonly string[])[])[];
  /** Lease resources (slot names) held now by any other holder, from one listing of the leases. */
  readonly heldElsewhere: ReadonlySet<string>;
}

export interface TaskChoice {
  /** Index into `pending` of the task to try next. */
  readonly index: number;
  /** Whether its leases looked free; false: none did, and this is the first pending task in plan order. */
  readonly free: boolean;
}

/** The first pending task whose every lease group has a slot nobody else holds; else the first pending task. */
export function chooseNextTask(facts: TaskChoiceFacts): TaskChoice | undefined {
  if (facts.pending.length === 0) return undefined;
  const index = facts.pending.findIndex((groups) =>
    groups.every((slots) => slots.some((slot) => !facts.heldElsewhere.has(slot))),
  );
  return index >= 0 ? { index, free: true } : { index: 0, free: false };
}
