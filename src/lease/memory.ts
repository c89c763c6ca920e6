/**
 * An in-memory lease backend with an injectable clock: the fake the unit tests (and the tick's tests) use. It
 * follows the same contract as the real backends: expiry by TTL, renew/release only by the same acquisition.
 */
import { randomUUID } from 'node:crypto';
import {
  checkHolder,
  type AcquireResult,
  type Announcement,
  type BrokenLease,
  type ForceReleaseOptions,
  type HeldLease,
  type LeaseBackend,
  type LeaseHolder,
  type LeaseRecord,
  type RenewResult,
} from './types.js';

interface Stored extends LeaseRecord {
  leaseId: string;
}

export class MemoryLeaseBackend implements LeaseBackend {
  readonly kind = 'memory' as const;
  private readonly leases = new Map<string, Stored>();
  private readonly notes = new Map<string, Announcement>();
  private readonly broken: BrokenLease[] = [];
  /** Calls made, for tests that check order ("acquire node/a", "release node/a", …). */
  readonly calls: string[] = [];
  /** Makes the next calls of a method throw (to test failure paths). */
  failures: Partial<Record<'tryAcquire' | 'renew' | 'release', Error>> = {};

  constructor(private readonly now: () => number = Date.now) {}

  private live(resource: string): Stored | undefined {
    const lease = this.leases.get(resource);
    if (lease && lease.expiresAt.getTime() <= this.now()) {
      this.leases.delete(resource);
      return undefined;
    }
    return lease;
  }

  private static view(stored: Stored): LeaseRecord {
    const { leaseId, ...record } = stored;
    return { ...record, metadata: { ...record.metadata, lease_id: leaseId } };
  }

  async tryAcquire(
    resource: string,
    holder: LeaseHolder,
    ttlMs: number,
    metadata: Record<string, string> = {},
  ): Promise<AcquireResult> {
    this.calls.push(`acquire ${resource}`);
    if (this.failures.tryAcquire) throw this.failures.tryAcquire;
    const current = this.live(resource);
    if (current) return { acquired: false, reason: 'held', heldBy: MemoryLeaseBackend.view(current) };
    const now = new Date(this.now());
    const leaseId = randomUUID();
    const expiresAt = new Date(now.getTime() + ttlMs);
    this.leases.set(resource, {
      resource,
      holder: holder.name,
      holderHost: holder.host,
      acquiredAt: now,
      renewedAt: now,
      expiresAt,
      ttlMs,
      metadata,
      leaseId,
    });
    return { acquired: true, lease: { resource, holder, leaseId, ttlMs, acquiredAt: now, expiresAt, metadata } };
  }

  async renew(lease: HeldLease): Promise<RenewResult> {
    this.calls.push(`renew ${lease.resource}`);
    if (this.failures.renew) throw this.failures.renew;
    const current = this.live(lease.resource);
    if (!current) return { renewed: false, reason: 'gone' };
    if (current.leaseId !== lease.leaseId) {
      return { renewed: false, reason: 'taken', heldBy: MemoryLeaseBackend.view(current) };
    }
    current.renewedAt = new Date(this.now());
    current.expiresAt = new Date(this.now() + lease.ttlMs);
    return { renewed: true, expiresAt: current.expiresAt };
  }

  async release(lease: HeldLease): Promise<boolean> {
    this.calls.push(`release ${lease.resource}`);
    if (this.failures.release) throw this.failures.release;
    const current = this.live(lease.resource);
    if (!current || current.leaseId !== lease.leaseId) return false;
    this.leases.delete(lease.resource);
    return true;
  }

  async forceRelease(
    resource: string,
    by: LeaseHolder,
    options: ForceReleaseOptions = { record: true },
  ): Promise<BrokenLease | undefined> {
    const current = this.live(resource);
    if (!current) return undefined;
    checkHolder(MemoryLeaseBackend.view(current), options);
    this.leases.delete(resource);
    const broken: BrokenLease = {
      resource,
      previousHolder: current.holder,
      previousHost: current.holderHost,
      brokenBy: by.name,
      brokenByHost: by.host,
      brokenAt: new Date(this.now()),
    };
    if (options.record) this.broken.unshift(broken);
    return broken;
  }

  /** Test helper: the row disappears as if deleted by hand. */
  delete(resource: string): void {
    this.leases.delete(resource);
  }

  async list(): Promise<LeaseRecord[]> {
    return [...this.leases.keys()]
      .map((resource) => this.live(resource))
      .filter((lease): lease is Stored => lease !== undefined)
      .map((lease) => MemoryLeaseBackend.view(lease))
      .sort((a, b) => a.resource.localeCompare(b.resource));
  }

  async brokenLeases(): Promise<BrokenLease[]> {
    return [...this.broken];
  }

  async announce(announcement: Omit<Announcement, 'announcedAt' | 'expiresAt'>, ttlMs: number): Promise<void> {
    this.calls.push(`announce ${announcement.resource}`);
    const now = this.now();
    this.notes.set(`${announcement.resource}\u0000${announcement.holder}`, {
      ...announcement,
      announcedAt: new Date(now),
      expiresAt: new Date(now + ttlMs),
    });
  }

  async announcements(resource?: string): Promise<Announcement[]> {
    const now = this.now();
    return [...this.notes.values()].filter(
      (note) => note.expiresAt.getTime() > now && (resource === undefined || note.resource === resource),
    );
  }

  async withdraw(resource: string, holder: string): Promise<void> {
    this.calls.push(`withdraw ${resource}`);
    this.notes.delete(`${resource}\u0000${holder}`);
  }

  async close(): Promise<void> {}
}
