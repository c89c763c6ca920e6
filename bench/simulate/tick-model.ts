// How a tick carries out one plan (one round), for the simulator: the decisions of src/app/batch.ts, made by the
// same pure functions of src/core (keepLeases, startBlock); cluster.ts decides between rounds with the tick's own
// nextRound (src/core/tick-rounds.ts). Keep it in step with batch.ts:
// - tasks are tried in plan order; none starts once maxDuration has passed since the tick started;
// - each task takes its lease groups with the real acquireLeases (announce, one attempt over all-or-nothing slots,
//   withdraw); "held elsewhere" or "outranked" moves on to the next task in scope node and ends the batch in scope
//   datacenter;
// - while a task runs, the next planned task is proposed to follow it under the same leases when it needs exactly
//   the same lease groups and higherAnnouncement finds no other node's job that outranks it; it follows when the
//   task has ended and maxDuration has not passed; otherwise the leases are released;
// - leases are renewed every renewEvery while held (the heartbeat) and released after the last task of the run.
// What the real tick does besides (metrics, history records, incremental filtering, interrupts, lost leases
// stopping the repair) has no effect on the simulated schedule: repairs here never fail and leases are never lost
// unless the model is wrong, which is counted and fails the bench.
import { chooseNextTask, fnv1a32, keepLeases, startBlock, type RepairTask } from '../../src/core/index.js';
import { acquireLeases, higherAnnouncement, leaseGroups, type LeaseGroup } from '../../src/lease/leases.js';
import type { HeldLease, LeaseBackend, LeaseHolder } from '../../src/lease/types.js';

export interface LeaseSettings {
  readonly scope: 'datacenter' | 'node';
  readonly slotsPerDatacenter: number;
  readonly perResource: number;
  readonly ttlMs: number;
  readonly renewEveryMs: number;
  readonly announcementTtlMs: number;
}

export interface TickModelPorts {
  readonly backend: LeaseBackend;
  readonly now: () => number;
  /** Runs one repair task to its end (simulated time passes). */
  readonly repair: (task: RepairTask) => Promise<void>;
  /** Starts renewing `leases` every renewEvery; the returned function stops it. */
  readonly heartbeat: (leases: readonly HeldLease[]) => () => void;
}

export interface TickModelOptions {
  readonly holder: LeaseHolder;
  readonly datacenter: string;
  readonly lease: LeaseSettings;
  /** When the tick started (its maxDuration counts from there). */
  readonly startedAt: number;
  readonly maxDurationMs: number;
  /**
   * Prototype, not what tend does: a node that could not take its leases leaves its announcement in place (until
   * announcementTtl) instead of withdrawing it, so that holders keeping leases for their next task step aside.
   */
  readonly keepAnnouncementOnFailure?: boolean;
  /** Run at most this many tasks (schedule.maxTasks less what the tick started already). */
  readonly maxRun?: number;
  /**
   * Before each claim, list the leases once and try first the pending task whose leases nobody else holds
   * (core chooseNextTask); false: plan order, as before.
   */
  readonly freeFirst?: boolean;
}

/** What happened to the tasks of one plan. */
export interface TickModelResult {
  /** Tasks that ran. */
  ran: number;
  /** Runs of tasks under one acquisition (acquireLeases succeeded). */
  claims: number;
  /** Tasks that ran on the leases of the task before them. */
  kept: number;
  /** Claims refused because a slot was held. */
  heldElsewhere: number;
  /** Claims refused because another node announced a higher priority. */
  outranked: number;
  /** Tasks not started because maxDuration had passed (or maxRun was reached). */
  deadline: number;
  /** Claims of a task chosen ahead of earlier ones in plan order because their leases were held (freeFirst). */
  choseFree: number;
  /** Lease listings read for the choice (freeFirst). */
  listings: number;
  /** Releases that found the lease no longer ours (expired under a running task): must stay 0. */
  lost: number;
  /** The tasks refused (held elsewhere or outranked), in plan order. */
  refused: RepairTask[];
}

/** Lease groups compare by name: same names, same slots (tick.ts's groupKey). */
function groupKey(groups: readonly LeaseGroup[]): string {
  return groups.map((group) => group.name).join(' ');
}

/**
 * The decision "keep these leases for the next task", made by the tick's own pure functions (src/core/lease-keeping:
 * `keepLeases`, with `startBlock` for schedule.maxDuration), as src/app/batch.ts makes it.
 * - Proposed (no `startDeadline`): the next planned task follows under the held leases when it needs exactly the
 *   same lease groups and no other node announced a job that outranks it.
 * - Started (with `startDeadline` and `now`): the proposed task starts only while maxDuration has not passed.
 * (The real tick's other conditions, an interrupt, a replica found down or busy mid-batch, never arise here.)
 */
export function keepLeasesFor(
  candidate: RepairTask | undefined,
  facts: { sameLeases: boolean; outranked: boolean; startDeadline?: number; now?: number },
): RepairTask | undefined {
  if (!candidate) return undefined;
  const blocked =
    facts.startDeadline === undefined
      ? undefined
      : startBlock({ interrupted: false, now: facts.now ?? -Infinity, startDeadline: facts.startDeadline });
  // Group names stand for "the same groups" or not; keepLeases compares them with sameLeases.
  const verdict = keepLeases({
    held: ['held'],
    stopped: false,
    next: { groups: facts.sameLeases ? ['held'] : ['other'], outranked: facts.outranked, blocked },
  });
  return verdict.keep ? candidate : undefined;
}

/** Carries out `tasks` (a plan's tasks, in order) as src/app/tick.ts does. */
export async function carryOutTasks(
  tasks: readonly RepairTask[],
  ports: TickModelPorts,
  options: TickModelOptions,
): Promise<TickModelResult> {
  const { backend, now } = ports;
  const { holder, lease } = options;
  const result: TickModelResult = {
    ran: 0,
    claims: 0,
    kept: 0,
    heldElsewhere: 0,
    outranked: 0,
    deadline: 0,
    choseFree: 0,
    listings: 0,
    lost: 0,
    refused: [],
  };
  const startDeadline = options.startedAt + options.maxDurationMs;
  const groupsOf = (task: RepairTask) =>
    leaseGroups(
      { scope: lease.scope, slotsPerDatacenter: lease.slotsPerDatacenter, perResource: lease.perResource },
      { datacenter: options.datacenter, replicas: task.replicaAddresses },
    );
  const priorityOf = (task: RepairTask) => ({
    priority: Math.round(task.priority * 1000),
    tieBreaker: fnv1a32(holder.name),
  });

  // The tasks not yet tried, in plan order; the next to try is the first (or, freeFirst, the first whose leases are
  // free), and the one proposed to follow a running task under its leases is the first left after it.
  const pending = [...tasks];
  while (pending.length > 0) {
    if (now() >= startDeadline || result.ran >= (options.maxRun ?? Infinity)) {
      result.deadline += pending.length;
      break;
    }
    let pick = 0;
    if (options.freeFirst) {
      result.listings += 1;
      const listed = await backend.list();
      const at = now();
      const heldElsewhere = new Set(
        listed.filter((l) => l.holder !== holder.name && l.expiresAt.getTime() > at).map((l) => l.resource),
      );
      const choice = chooseNextTask({
        pending: pending.map((t) => groupsOf(t).map((g) => g.slots)),
        heldElsewhere,
      });
      pick = choice?.index ?? 0;
      if (pick > 0) result.choseFree += 1;
    }
    const [task] = pending.splice(pick, 1) as [RepairTask];
    const groups = groupsOf(task);
    const claim = await acquireLeases(backend, groups, {
      holder,
      ttlMs: lease.ttlMs,
      announcementTtlMs: lease.announcementTtlMs,
      priority: priorityOf(task),
      metadata: { task: task.id },
    });
    if (!claim.acquired) {
      if (claim.reason === 'outranked') result.outranked += 1;
      else result.heldElsewhere += 1;
      result.refused.push(task);
      if (options.keepAnnouncementOnFailure) {
        await Promise.all(
          groups.map((group) =>
            backend.announce(
              { resource: group.name, holder: holder.name, ...priorityOf(task) },
              lease.announcementTtlMs,
            ),
          ),
        );
      }
      if (lease.scope === 'datacenter') break;
      continue;
    }
    result.claims += 1;
    const heldKey = groupKey(groups);
    const stopHeartbeat = ports.heartbeat(claim.leases);
    try {
      for (let current: RepairTask | undefined = task; current;) {
        // Proposed as the task starts (the real tick reads the announcements while the repair runs); the
        // announcements are read only when the next task needs the same leases, as tick.ts does.
        const candidate = pending[0];
        const sameLeases = candidate !== undefined && groupKey(groupsOf(candidate)) === heldKey;
        const outranked =
          sameLeases && (await higherAnnouncement(backend, groups, holder.name, priorityOf(candidate))) !== undefined;
        const proposed = keepLeasesFor(candidate, { sameLeases, outranked });
        await ports.repair(current);
        result.ran += 1;
        const follows =
          proposed !== undefined &&
          keepLeasesFor(proposed, { sameLeases, outranked, startDeadline, now: now() }) !== undefined &&
          result.ran < (options.maxRun ?? Infinity);
        if (!follows) break;
        pending.shift();
        result.kept += 1;
        current = proposed;
      }
    } finally {
      stopHeartbeat();
      const released = await Promise.all(claim.leases.map((held) => backend.release(held)));
      result.lost += released.filter((ok) => !ok).length;
    }
  }
  return result;
}
