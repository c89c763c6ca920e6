/**
 * The lease port: what a backend (Cassandra LWT, Consul sessions, or the in-memory one of the tests) offers.
 * Higher-level behaviour — announcements before acquiring, waiting until a deadline, several leases at once, the
 * heartbeat — is built once on top of it in leases.ts and heartbeat.ts.
 */
import { LeaseUnavailable } from '../errors.js';

/** Who asks for a lease. `name` is the node name operators see (node.name); `host` where the process runs. */
export interface LeaseHolder {
  name: string;
  host: string;
}

/** A lease as anybody can see it (status, busy results). */
export interface LeaseRecord {
  resource: string;
  holder: string;
  holderHost: string;
  acquiredAt: Date;
  renewedAt: Date;
  /** When the lease lapses unless renewed. From the server's TTL where the backend exposes it. */
  expiresAt: Date;
  ttlMs: number;
  metadata: Record<string, string>;
}

/** A lease this process holds. `leaseId` is unique per acquisition: two processes on one node never mix up. */
export interface HeldLease {
  resource: string;
  holder: LeaseHolder;
  leaseId: string;
  ttlMs: number;
  acquiredAt: Date;
  /** The latest moment the lease is known to be ours: measured from when the last successful write was sent. */
  expiresAt: Date;
  metadata: Record<string, string>;
}

export type AcquireResult =
  | { acquired: true; lease: HeldLease }
  | {
      acquired: false;
      /** held: someone else holds it; outranked: a higher-priority announcement is live. */
      reason: 'held' | 'outranked';
      /** Who holds it and until when, when the backend could tell. */
      heldBy?: LeaseRecord;
      /** The announcement that outranks ours. */
      outrankedBy?: Announcement;
    };

export type RenewResult =
  | { renewed: true; expiresAt: Date }
  /** taken: another holder has it; gone: it expired or was deleted/destroyed. */
  | { renewed: false; reason: 'taken' | 'gone'; heldBy?: LeaseRecord };

/** A node's wish to take a resource, visible to the others until it expires or is withdrawn. */
export interface Announcement {
  resource: string;
  holder: string;
  /** Higher wins (core's job priority). */
  priority: number;
  /** Equal priorities: lower tie breaker wins (core's stable hash), then the holder name. */
  tieBreaker: number;
  announcedAt: Date;
  expiresAt: Date;
}

/** A forced release: whose lease was broken, and by whom (kept for operators, see `lease status`). */
export interface BrokenLease {
  resource: string;
  previousHolder: string;
  previousHost: string;
  brokenBy: string;
  brokenByHost: string;
  brokenAt: Date;
}

export interface ForceReleaseOptions {
  onlyHolder?: string;
  record?: boolean;
}

/** Refuses to release a lease someone else holds (without --force). */
export function checkHolder(record: LeaseRecord, options: ForceReleaseOptions | undefined): void {
  if (options?.onlyHolder !== undefined && record.holder !== options.onlyHolder) {
    throw new LeaseUnavailable(record.resource, `${record.holder} on ${record.holderHost}`, {
      hints: [
        `it expires at ${record.expiresAt.toISOString()} unless renewed`,
        "to break it anyway (the holder's repair is then unprotected): tend lease release RESOURCE --force",
      ],
    });
  }
}

export interface LeaseBackend {
  readonly kind: 'cassandra' | 'consul' | 'memory';
  /** One bounded attempt. Never assumes the outcome of an ambiguous write (see the backends). */
  tryAcquire(
    resource: string,
    holder: LeaseHolder,
    ttlMs: number,
    metadata?: Record<string, string>,
  ): Promise<AcquireResult>;
  renew(lease: HeldLease): Promise<RenewResult>;
  /** Releases a lease we hold; false when it was no longer ours (expired or broken). */
  release(lease: HeldLease): Promise<boolean>;
  /**
   * Releases whoever holds `resource` (any acquisition) and returns what was released (undefined when nobody held
   * it). With `onlyHolder`, throws LeaseUnavailable instead when someone else holds it (`tend lease release`);
   * with `record`, keeps a BrokenLease record for `lease status` (`--force`).
   */
  forceRelease(resource: string, by: LeaseHolder, options?: ForceReleaseOptions): Promise<BrokenLease | undefined>;
  list(): Promise<LeaseRecord[]>;
  /** Forced releases of the last days, newest first. */
  brokenLeases(): Promise<BrokenLease[]>;
  announce(announcement: Omit<Announcement, 'announcedAt' | 'expiresAt'>, ttlMs: number): Promise<void>;
  /** Live announcements, of one resource or all. */
  announcements(resource?: string): Promise<Announcement[]>;
  withdraw(resource: string, holder: string): Promise<void>;
  close(): Promise<void>;
}

/** Total order of announcements: true when `a` goes before `b`. Deterministic on every node. */
export function outranks(a: Announcement, b: Pick<Announcement, 'priority' | 'tieBreaker' | 'holder'>): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  if (a.tieBreaker !== b.tieBreaker) return a.tieBreaker < b.tieBreaker;
  return a.holder < b.holder;
}
