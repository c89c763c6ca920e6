/**
 * Leases: the port the tick (and ad hoc commands) use to make "one repair at a time per replica / per DC" true
 * across nodes that never talk to each other.
 *
 * How a tick uses it:
 *
 *   const backend = await openLeaseBackend(config, secret, () => session);     // src/app/adapters.ts
 *   const groups = leaseGroups(config.lease, { datacenter, replicas });         // scope datacenter | node
 *   const claim = await acquireLeases(backend, groups, {
 *     holder: { name: config.node.name ?? hostname(), host: hostname() },
 *     ttlMs: config.lease.ttl, announcementTtlMs: config.lease.announcementTtl,
 *     priority: { priority: job.priority, tieBreaker: job.tieBreaker },          // announce first
 *     // waitUntil: Date.now() + ms  — only for commands run with --wait; a tick makes one bounded attempt
 *     signal: deps.signal,
 *   });
 *   if (!claim.acquired) → exit 0 from a tick ("lease held by another node": claim.heldBy says who, until when),
 *                          or throw new LeaseUnavailable(claim.group, claim.heldBy[0]?.holder) → exit 4 ad hoc.
 *   await withLeases(backend, claim.leases, { renewEveryMs: config.lease.renewEvery, signal: deps.signal },
 *     async (signal) => runTask(..., signal));    // signal aborts with LeaseLost or Interrupted: cancel the
 *                                                 // repair on the server, record it aborted, return/throw
 *
 * Guarantees:
 * - acquireLeases: one slot of every group or nothing (taken in sorted order, released on partial failure);
 *   announcements are withdrawn after acquiring or giving up; ClusterUnavailable (exit 5) when no quorum / Consul.
 * - withLeases: heartbeat every renewEvery; the signal fires a renew interval before the lease could expire, or
 *   at once when a renewal is refused; leases are released in `finally` (also on interrupt); if a lease was lost
 *   it throws LeaseLost (exit 1) even when the work returned.
 * - An ambiguous Cassandra write (CAS timeout) is resolved by a SERIAL/LOCAL_SERIAL read, never assumed.
 * - MemoryLeaseBackend is the fake for unit tests (injectable clock, failure injection, a call log).
 */
export * from './types.js';
export { acquireLeases, higherAnnouncement, leaseGroups, withLeases } from './leases.js';
export type { AcquireOptions, ClaimResult, LeaseGroup, LeaseScopeSettings, WithLeasesOptions } from './leases.js';
export { Heartbeat } from './heartbeat.js';
export type { HeartbeatOptions } from './heartbeat.js';
export { CassandraLeaseBackend, classifyCasError, type CassandraLeaseOptions } from './cassandra.js';
export { ConsulLeaseBackend, type ConsulLeaseOptions } from './consul.js';
export { MemoryLeaseBackend } from './memory.js';
