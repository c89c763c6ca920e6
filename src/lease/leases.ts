/**
 * Taking leases the way a tick needs them: announcement first, then one bounded attempt (or attempts until a
 * deadline), several resources all-or-nothing in sorted order, and the work run under a heartbeat with release
 * in `finally`.
 */
import { Interrupted, LeaseLost } from '../errors.js';
import { Heartbeat } from './heartbeat.js';
import { sleep } from '../timers.js';
import { beginActivity } from '../activity.js';
import {
  outranks,
  type Announcement,
  type HeldLease,
  type LeaseBackend,
  type LeaseHolder,
  type LeaseRecord,
} from './types.js';

/**
 * A set of interchangeable slots of which one is needed (`dc/dc1` with slots `dc/dc1/slot-0`, …). A claim is
 * one slot of every group.
 */
export interface LeaseGroup {
  name: string;
  slots: string[];
}

export interface LeaseScopeSettings {
  scope: 'datacenter' | 'node';
  slotsPerDatacenter: number;
  perResource: number;
}

function slots(name: string, count: number): LeaseGroup {
  return { name, slots: Array.from({ length: count }, (_, index) => `${name}/slot-${index}`) };
}

/**
 * The lease groups a task needs. `datacenter`: one of N slots of the local DC. `node`: one of `perResource` slots
 * on every replica the task touches, sorted so that two nodes never wait on each other in opposite order.
 */
export function leaseGroups(
  settings: LeaseScopeSettings,
  task: { datacenter: string; replicas: readonly string[] },
): LeaseGroup[] {
  if (settings.scope === 'datacenter') return [slots(`dc/${task.datacenter}`, settings.slotsPerDatacenter)];
  return [...new Set(task.replicas)].sort().map((replica) => slots(`node/${replica}`, settings.perResource));
}

export interface AcquireOptions {
  holder: LeaseHolder;
  ttlMs: number;
  /** With a priority, an announcement is written first and a higher live one makes us step back. */
  priority?: { priority: number; tieBreaker: number };
  announcementTtlMs: number;
  /** Keep trying until this time (ms since epoch); without it, one attempt. */
  waitUntil?: number;
  /** Pause between attempts while waiting (jittered). */
  retryEveryMs?: number;
  metadata?: Record<string, string>;
  signal?: AbortSignal;
}

export type ClaimResult =
  | { acquired: true; leases: HeldLease[] }
  | {
      acquired: false;
      reason: 'held' | 'outranked';
      /** The group that could not be taken. */
      group: string;
      /** Who holds its slots and until when. */
      heldBy: LeaseRecord[];
      outrankedBy?: Announcement;
    };

async function releaseQuietly(backend: LeaseBackend, leases: readonly HeldLease[]): Promise<void> {
  await Promise.all(leases.map((lease) => backend.release(lease).catch(() => undefined)));
}

/**
 * The highest live announcement by another holder that outranks `priority` on one of `groups` (the first such
 * group in order), or undefined. What a node asks before taking leases, and as each task starts while it keeps
 * them.
 */
export async function higherAnnouncement(
  backend: LeaseBackend,
  groups: readonly LeaseGroup[],
  holder: string,
  priority: { priority: number; tieBreaker: number },
): Promise<{ group: string; outrankedBy: Announcement } | undefined> {
  // Read at once (one round trip's wait, not one per replica), judged in order.
  const lists = await Promise.all(groups.map((group) => backend.announcements(group.name)));
  for (const [index, group] of groups.entries()) {
    const higher = lists[index]!.filter((note) => note.holder !== holder)
      .sort((a, b) => (outranks(a, b) ? -1 : 1))
      .find((note) => outranks(note, { ...priority, holder }));
    if (higher) return { group: group.name, outrankedBy: higher };
  }
  return undefined;
}

async function attempt(
  backend: LeaseBackend,
  groups: readonly LeaseGroup[],
  options: AcquireOptions,
): Promise<ClaimResult> {
  if (options.priority) {
    const higher = await higherAnnouncement(backend, groups, options.holder.name, options.priority);
    if (higher) return { acquired: false, reason: 'outranked', heldBy: [], ...higher };
  }
  const taken: HeldLease[] = [];
  try {
    for (const group of groups) {
      const heldBy: LeaseRecord[] = [];
      let lease: HeldLease | undefined;
      for (const slot of group.slots) {
        const result = await backend.tryAcquire(slot, options.holder, options.ttlMs, options.metadata);
        if (result.acquired) {
          lease = result.lease;
          break;
        }
        if (result.heldBy) heldBy.push(result.heldBy);
      }
      if (!lease) {
        // All or nothing: a partial set would block others while we cannot work.
        await releaseQuietly(backend, taken);
        return { acquired: false, reason: 'held', group: group.name, heldBy };
      }
      taken.push(lease);
    }
    return { acquired: true, leases: taken };
  } catch (error) {
    await releaseQuietly(backend, taken);
    throw error;
  }
}

/**
 * One slot of every group, or nothing. Writes announcements first when a priority is given, and removes them
 * after acquiring or giving up (on error too). With `waitUntil`, retries until then.
 */
export async function acquireLeases(
  backend: LeaseBackend,
  groups: readonly LeaseGroup[],
  options: AcquireOptions,
): Promise<ClaimResult> {
  // Groups whose announcement was written: only those are withdrawn at the end. One that failed (the backend
  // unreachable) would only fail again, adding a timeout to the exit; if it was written after all, its TTL ends it.
  const announced = new Set<string>();
  const announce = async () => {
    if (!options.priority) return;
    const { priority } = options;
    // Plain writes with a TTL, independent of each other: all at once.
    await Promise.all(
      groups.map(async (group) => {
        await backend.announce(
          { resource: group.name, holder: options.holder.name, ...priority },
          options.announcementTtlMs,
        );
        announced.add(group.name);
      }),
    );
  };
  const end = options.waitUntil
    ? beginActivity(`waiting for lease ${groups.map((group) => group.name).join(', ')}`)
    : () => undefined;
  try {
    for (;;) {
      if (options.signal?.aborted) throw options.signal.reason ?? new Interrupted();
      await announce();
      const result = await attempt(backend, groups, options);
      const remaining = (options.waitUntil ?? 0) - Date.now();
      if (result.acquired || remaining <= 0) return result;
      const pause = Math.min(remaining, (options.retryEveryMs ?? 1000) * (0.5 + Math.random()));
      await sleep(pause, options.signal);
      if (options.signal?.aborted) throw options.signal.reason ?? new Interrupted();
    }
  } finally {
    end();
    await Promise.all([...announced].map((name) => backend.withdraw(name, options.holder.name).catch(() => undefined)));
  }
}

export interface WithLeasesOptions {
  renewEveryMs: number;
  /** Abort from outside (SIGINT/SIGTERM via the command's signal). */
  signal?: AbortSignal;
  /** Install SIGINT/SIGTERM handlers here (for programs without main()'s handlers). */
  handleSignals?: boolean;
  onRenewError?: (lease: HeldLease, error: unknown) => void;
  onRenewed?: (lease: HeldLease, sentAt: number) => void;
  onReleaseError?: (lease: HeldLease, error: unknown) => void;
}

/**
 * Runs `work` under a heartbeat and releases the leases in `finally` — after success, failure, a lost lease or
 * an interrupt. `work` gets a signal that aborts when a lease is lost (reason: LeaseLost) or on interrupt; it
 * must stop promptly. If a lease was lost, LeaseLost is thrown even when `work` returned.
 */
export async function withLeases<T>(
  backend: LeaseBackend,
  leases: HeldLease[],
  options: WithLeasesOptions,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const heartbeat = new Heartbeat(backend, leases, {
    renewEveryMs: options.renewEveryMs,
    ...(options.onRenewError ? { onRenewError: options.onRenewError } : {}),
    ...(options.onRenewed ? { onRenewed: options.onRenewed } : {}),
  }).start();
  const interrupt = new AbortController();
  const onSignal = (name: NodeJS.Signals) => interrupt.abort(new Interrupted(`interrupted by ${name}`));
  if (options.handleSignals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  const signals = [heartbeat.signal, interrupt.signal, ...(options.signal ? [options.signal] : [])];
  const signal = AbortSignal.any(signals);
  try {
    const value = await work(signal);
    if (heartbeat.signal.aborted) throw heartbeat.signal.reason as LeaseLost;
    return value;
  } finally {
    await heartbeat.stop();
    // All at once: one round trip (a Paxos round each in Cassandra) instead of one after the other. The order does
    // not matter: slots are taken in a fixed order, which is what keeps contenders from deadlocking; one that sees
    // a slot free before another just finds the next still held and tries again.
    await Promise.all(
      leases.map((lease) =>
        backend.release(lease).catch((error: unknown) => {
          // The TTL frees it; say so rather than hide it.
          options.onReleaseError?.(lease, error);
        }),
      ),
    );
    if (options.handleSignals) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}
