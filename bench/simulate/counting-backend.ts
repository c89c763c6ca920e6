// The lease backend every simulated node shares: the real MemoryLeaseBackend (on the simulated clock), with each
// operation counted the way it would reach Cassandra or Consul: a slot attempt, a renewal and a release are one
// conditional write each (an LWT in Cassandra), an announcement and a withdrawal a plain write, a read of the
// announcements of one resource a read.
import type { MemoryLeaseBackend } from '../../src/lease/memory.js';
import type {
  AcquireResult,
  Announcement,
  BrokenLease,
  ForceReleaseOptions,
  HeldLease,
  LeaseBackend,
  LeaseHolder,
  LeaseRecord,
  RenewResult,
} from '../../src/lease/types.js';

export interface LeaseCounts {
  /** tryAcquire calls: one per slot tried. */
  slotAttempts: number;
  /** Of those, the ones that got the slot. */
  slotsTaken: number;
  renewals: number;
  releases: number;
  announcements: number;
  withdrawals: number;
  /** announcements(resource) reads. */
  announcementReads: number;
  /** list() reads: one listing of every lease (the free-first choice reads one before each claim). */
  listings: number;
}

export class CountingLeaseBackend implements LeaseBackend {
  readonly kind = 'memory' as const;
  readonly counts: LeaseCounts = {
    slotAttempts: 0,
    slotsTaken: 0,
    renewals: 0,
    releases: 0,
    announcements: 0,
    withdrawals: 0,
    announcementReads: 0,
    listings: 0,
  };

  constructor(private readonly inner: MemoryLeaseBackend) {}

  async tryAcquire(
    resource: string,
    holder: LeaseHolder,
    ttlMs: number,
    metadata?: Record<string, string>,
  ): Promise<AcquireResult> {
    this.counts.slotAttempts++;
    const result = await this.inner.tryAcquire(resource, holder, ttlMs, metadata);
    if (result.acquired) this.counts.slotsTaken++;
    return result;
  }

  renew(lease: HeldLease): Promise<RenewResult> {
    this.counts.renewals++;
    return this.inner.renew(lease);
  }

  release(lease: HeldLease): Promise<boolean> {
    this.counts.releases++;
    return this.inner.release(lease);
  }

  forceRelease(resource: string, by: LeaseHolder, options?: ForceReleaseOptions): Promise<BrokenLease | undefined> {
    return this.inner.forceRelease(resource, by, options);
  }

  list(): Promise<LeaseRecord[]> {
    this.counts.listings++;
    return this.inner.list();
  }

  brokenLeases(): Promise<BrokenLease[]> {
    return this.inner.brokenLeases();
  }

  announce(announcement: Omit<Announcement, 'announcedAt' | 'expiresAt'>, ttlMs: number): Promise<void> {
    this.counts.announcements++;
    return this.inner.announce(announcement, ttlMs);
  }

  announcements(resource?: string): Promise<Announcement[]> {
    this.counts.announcementReads++;
    return this.inner.announcements(resource);
  }

  withdraw(resource: string, holder: string): Promise<void> {
    this.counts.withdrawals++;
    return this.inner.withdraw(resource, holder);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
