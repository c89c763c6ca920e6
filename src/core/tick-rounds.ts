/**
 * After a round of a tick's batch: plan again, or end the tick? Pure; src/app/tick.ts carries it out and
 * bench/simulate calls it for 30 simulated nodes.
 *
 * Why a tick plans again at all: in a cluster of many nodes most ticks find the leases they need held by another
 * node. A tick that exits then leaves its node idle until its next timer (5 minutes), although the lease it waited
 * for is usually released within seconds to minutes. bench/simulate measured it (issue 14, small shape: 6 nodes,
 * 40 tables): the first full repair took 4.2 × the lower bound when refused ticks exited, 1.5 × when they paused
 * 30 s and planned again. Planning again, not retrying the refused tasks: the history read afresh sees what the
 * holder of the lease has repaired meanwhile, so no range is repaired twice.
 *
 * Only refused leases start another round. Other reasons to stop are not transient on that scale (a window closes,
 * a replica is down, a replica is under back-pressure or already repairing: the next timer looks again), or mean the
 * tick is done (nothing left, maxTasks, maxDuration) or must end (an error, an interrupt).
 */

export interface RoundFacts {
  /** The round ended on an error or an interrupt (lease lost, node unreachable, SIGTERM): the tick ends. */
  readonly stopped: boolean;
  /** Tasks of this round refused because another node held or outranked their leases. */
  readonly refused: number;
  /** Tasks started by the whole tick so far (every round), and schedule.maxTasks. */
  readonly startedInTick: number;
  readonly maxTasks: number;
  /** Epoch ms now, and the tick's start deadline (its start + schedule.maxDuration). */
  readonly now: number;
  readonly startDeadline: number;
  /** schedule.replan: off (undefined) or the pause before planning again, in ms. */
  readonly pauseMs: number | undefined;
}

export type RoundVerdict =
  | { readonly again: true; readonly at: number }
  | { readonly again: false; readonly reason: 'stopped' | 'off' | 'not_refused' | 'max_tasks' | 'max_duration' };

/**
 * Plan again at `at` (after the pause) when a lease was refused, the tick may still start tasks (maxTasks) and the
 * pause ends before schedule.maxDuration; otherwise why the tick ends.
 */
export function nextRound(facts: RoundFacts): RoundVerdict {
  if (facts.stopped) return { again: false, reason: 'stopped' };
  if (facts.refused === 0) return { again: false, reason: 'not_refused' };
  if (facts.pauseMs === undefined) return { again: false, reason: 'off' };
  if (facts.startedInTick >= facts.maxTasks) return { again: false, reason: 'max_tasks' };
  const at = facts.now + facts.pauseMs;
  if (at >= facts.startDeadline) return { again: false, reason: 'max_duration' };
  return { again: true, at };
}
