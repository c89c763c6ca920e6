// How a tick carries out one plan (one round), for the simulator: the decisions of src/app/batch.ts, made by the
// same pure functions of src/core (chooseNextTask, chooseFollower, keepLeases, startBlock); cluster.ts decides
// between rounds with the tick's own nextRound (src/core/tick-rounds.ts). Keep it in step with batch.ts:
// - the plan holds schedule.candidates tasks; at most maxTasks start in the tick; none starts once maxDuration has
//   passed since the tick started;
// - before each claim the leases are listed once and the first pending task whose leases are free is tried
//   (chooseNextTask); when none is free, none is attempted and each counts as refused (freeFirst with
//   stopWhenNoneFree, the defaults; --plan-order tries every task in plan order as tend did before);
// - each task takes its lease groups with the real acquireLeases (announce, one attempt over all-or-nothing slots,
//   withdraw); "held elsewhere" or "outranked" moves on to the next task in scope node and ends the batch in scope
//   datacenter;
// - while a task runs, the first pending task the held leases cover (same replicas or a subset, chooseFollower) is
//   proposed to follow it when higherAnnouncement finds no other node's job outranking it on a held lease; it
//   follows when the task has ended and maxDuration has not passed; otherwise the leases are released;
// - leases are renewed every renewEvery while held (the heartbeat) and released after the last task of the run.
// What the real tick does besides (metrics, history records, incremental filtering, interrupts, lost leases
// stopping the repair) has no effect on the simulated schedule: repairs here never fail and leases are never lost
// unless the model is wrong, which is counted and fails the bench.
import {
  chooseFollower,
  chooseNextTask,
  fnv1a32,
  keepLeases,
  startBlock,
  type RepairTask,
} from '../../src/core/index.js';
import { acquireLeases, higherAnnouncement, leaseGroups } from '../../src/lease/leases.js';
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
  /**
   * Before chooseFollower: only the next task in plan order may follow on the held leases (when they cover it).
   * Default: the first pending task they cover.
   */
  readonly followNextOnly?: boolean;
  /** With freeFirst: when the listing shows no pending task free, end the round (all count as refused). */
  readonly stopWhenNoneFree?: boolean;
  /** Prototype: as a task follows on a subset of the held leases, release the ones it does not need. */
  readonly narrowOnFollow?: boolean;
}

/** What happened to the tasks of one plan. */
export interface TickModelResult {
  /** Tasks that ran. */
  ran: number;
  /** Runs of tasks under one acquisition (acquireLeases succeeded). */
  claims: number;
  /** Tasks that ran on the leases of the task before them. */
  kept: number;
  /** Of those, tasks that were not the next in plan order (chooseFollower passed over tasks the leases do not cover). */
  keptOutOfOrder: number;
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

/**
 * The decision "keep these leases for the proposed task", made by the tick's own pure function (src/core/lease-keeping:
 * `keepLeases`, with `startBlock` for schedule.maxDuration), as src/app/batch.ts makes it.
 * - Proposed (no `startDeadline`): the task follows under the held leases when they cover its lease groups and no
 *   other node announced a job that outranks it.
 * - Started (with `startDeadline` and `now`): the proposed task starts only while maxDuration has not passed.
 * (The real tick's other conditions, an interrupt, a replica found down or busy mid-batch, never arise here.)
 */
export function keepLeasesFor(
  candidate: RepairTask | undefined,
  facts: {
    held: readonly string[];
    groups: readonly string[];
    outranked: boolean;
    startDeadline?: number;
    now?: number;
  },
): RepairTask | undefined {
  if (!candidate) return undefined;
  const blocked =
    facts.startDeadline === undefined
      ? undefined
      : startBlock({ interrupted: false, now: facts.now ?? -Infinity, startDeadline: facts.startDeadline });
  const verdict = keepLeases({
    held: facts.held,
    stopped: false,
    next: { groups: facts.groups, outranked: facts.outranked, blocked },
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
    keptOutOfOrder: 0,
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
  const namesOf = (task: RepairTask) => groupsOf(task).map((group) => group.name);
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
      if (options.stopWhenNoneFree && choice && !choice.free) {
        // Every pending task's leases are held (by the listing): each counts as refused, none is attempted.
        result.heldElsewhere += pending.length;
        result.refused.push(...pending);
        break;
      }
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
    let held = groups.map((group) => group.name);
    let heldGroups = groups;
    // Mutable: narrowOnFollow releases the leases a follower does not need (the heartbeat renews what is left).
    const heldLeases = [...claim.leases];
    const stopHeartbeat = ports.heartbeat(heldLeases);
    try {
      for (let current: RepairTask | undefined = task; current;) {
        // Proposed as the task starts (the real tick reads the announcements while the repair runs): the first
        // pending task the held leases cover (core chooseFollower), or with followNextOnly the next in plan order;
        // the announcements on the held leases are read only when it is covered, as batch.ts does.
        const at = options.followNextOnly
          ? pending.length > 0 && keepLeasesFor(pending[0], { held, groups: namesOf(pending[0]!), outranked: false })
            ? 0
            : undefined
          : chooseFollower(
              held,
              pending.map((t) => namesOf(t)),
            );
        const candidate = at === undefined ? undefined : pending[at];
        const covered = candidate !== undefined;
        const outranked =
          covered && (await higherAnnouncement(backend, heldGroups, holder.name, priorityOf(candidate))) !== undefined;
        const facts = { held, groups: candidate ? namesOf(candidate) : [], outranked };
        const proposed = keepLeasesFor(candidate, facts);
        await ports.repair(current);
        result.ran += 1;
        const follows =
          proposed !== undefined &&
          keepLeasesFor(proposed, { ...facts, startDeadline, now: now() }) !== undefined &&
          result.ran < (options.maxRun ?? Infinity);
        if (!follows) break;
        pending.splice(at!, 1);
        result.kept += 1;
        if (options.narrowOnFollow) {
          const keep = groupsOf(proposed);
          const keepNames = new Set(keep.map((group) => group.name));
          const unneeded = heldLeases.filter((lease) => !keepNames.has(lease.resource.replace(/\/slot-\d+$/, '')));
          if (unneeded.length > 0) {
            const released = await Promise.all(unneeded.map((lease) => backend.release(lease)));
            result.lost += released.filter((ok) => !ok).length;
            for (const lease of unneeded) heldLeases.splice(heldLeases.indexOf(lease), 1);
            held = keep.map((group) => group.name);
            heldGroups = keep;
          }
        }
        if (at! > 0) result.keptOutOfOrder += 1;
        current = proposed;
      }
    } finally {
      stopHeartbeat();
      const released = await Promise.all(heldLeases.map((lease) => backend.release(lease)));
      result.lost += released.filter((ok) => !ok).length;
    }
  }
  return result;
}
