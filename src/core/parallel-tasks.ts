/**
 * Which waiting tasks of a group tick start now (`schedule.parallelTasks`, issue 18). Pure and deterministic: every
 * instance given the same queue and the same running tasks starts the same ones. src/app/group-tick.ts asks it each
 * time a task ends.
 *
 * - At most `parallelTasks` tasks run at once.
 * - A task starts only when it shares no replica with a running task, nor with one started before it in the same
 *   call: a replica never takes part in two of the tick's repairs at once (each would add its validation compactions
 *   and streams to the other's). The leases say the same across instances (scope node: every replica); this keeps
 *   the tick from asking for a lease it holds itself.
 * - Lease scope datacenter: each task takes its own slot of its coordinator's datacenter, so at most
 *   `slotsPerDatacenter` of the tick's tasks run in one datacenter; one more would only be refused by its own lease.
 * - First fit in queue order (the merged plan's priority order): a task waits only for the running tasks that block
 *   it, and the tasks behind it that nothing blocks start meanwhile. Every task of the queue belongs to this tick
 *   (maxTasks cut it already), so waiting costs a task its place, not its turn.
 *
 * With a per-node configuration every task includes the node itself, so no two are ever disjoint: config validation
 * refuses `parallelTasks` above 1 there (src/config/rules.ts).
 */

export interface ParallelCandidate {
  /** The task's replicas (addresses as the ring names them). */
  readonly replicas: readonly string[];
  /** The datacenter whose slot its lease takes in scope datacenter: its coordinator's. */
  readonly datacenter: string;
}

export interface ParallelLimits {
  /** schedule.parallelTasks: tasks running at once, at least 1. */
  readonly parallelTasks: number;
  /** lease.slotsPerDatacenter when lease.scope is datacenter; absent in scope node. */
  readonly slotsPerDatacenter?: number;
}

/**
 * The indices into `waiting` of the tasks to start now, ascending. `running` are the tick's tasks still running.
 * Empty when nothing may start: then a running task must end first (or, with nothing running, the queue is empty).
 */
export function tasksToStart(
  waiting: readonly ParallelCandidate[],
  running: readonly ParallelCandidate[],
  limits: ParallelLimits,
): number[] {
  const busy = new Set<string>();
  const perDatacenter = new Map<string, number>();
  const take = (task: ParallelCandidate) => {
    for (const replica of task.replicas) busy.add(replica);
    perDatacenter.set(task.datacenter, (perDatacenter.get(task.datacenter) ?? 0) + 1);
  };
  for (const task of running) take(task);
  const free = (task: ParallelCandidate) =>
    !task.replicas.some((replica) => busy.has(replica)) &&
    (limits.slotsPerDatacenter === undefined || (perDatacenter.get(task.datacenter) ?? 0) < limits.slotsPerDatacenter);
  const starts: number[] = [];
  let slots = Math.max(1, limits.parallelTasks) - running.length;
  for (let index = 0; index < waiting.length && slots > 0; index += 1) {
    const task = waiting[index]!;
    if (!free(task)) continue;
    take(task);
    starts.push(index);
    slots -= 1;
  }
  return starts;
}
