/**
 * `tend lease status` and `tend lease release`: what the operator sees of the lease backend, and how they free a
 * lease left behind (their own) or break another node's (--force, recorded with who broke it).
 */
import { hostname } from 'node:os';
import type cassandra from 'cassandra-driver';
import type { AppContext } from './context.js';
import type { TendConfig } from '../config/schema.js';
import type { Announcement, BrokenLease, LeaseBackend, LeaseHolder, LeaseRecord } from '../lease/types.js';

export interface LeaseStatusReport {
  backend: 'cassandra' | 'consul' | 'memory';
  /** Local clock when the report was made; expiresInMs is relative to it. */
  now: string;
  leases: Array<{
    resource: string;
    holder: string;
    holderHost: string;
    acquiredAt: string;
    renewedAt: string;
    expiresAt: string;
    expiresInMs: number;
    /** The group instance (`nodes.instance`) holding it, null for a per-node tick's lease (issue 18). */
    instance: string | null;
    /** The node the group instance runs the lease's task for. */
    forNode: string | null;
    metadata: Record<string, string>;
  }>;
  announcements: Array<{
    resource: string;
    holder: string;
    priority: number;
    tieBreaker: number;
    expiresAt: string;
    expiresInMs: number;
  }>;
  /** Forced releases of the last days, newest first. */
  broken: Array<{
    resource: string;
    previousHolder: string;
    previousHost: string;
    brokenBy: string;
    brokenByHost: string;
    brokenAt: string;
  }>;
}

export interface LeaseReleaseReport {
  resource: string;
  released: boolean;
  forced: boolean;
  previousHolder: string | null;
  previousHost: string | null;
  releasedBy: string;
}

/**
 * The name this node holds leases under: the same as the tick's (nodes.instance for a group of nodes, else node.name,
 * else node.address, else host).
 */
export function localHolder(config: TendConfig): LeaseHolder {
  return { name: config.nodes?.instance ?? config.node.name ?? config.node.address ?? hostname(), host: hostname() };
}

/** Opens the configured backend for one command (and a Cassandra session only if it needs one); closes both. */
export async function withLeaseBackend<T>(
  deps: Pick<AppContext, 'loadConfig' | 'secret'>,
  work: (backend: LeaseBackend, config: TendConfig) => Promise<T>,
): Promise<T> {
  const { config } = await deps.loadConfig();
  const { openCassandra, openLeaseBackend } = await import('./adapters.js');
  let client: cassandra.Client | undefined;
  try {
    const backend = await openLeaseBackend(config, deps.secret, async () => {
      client = await openCassandra(config, deps.secret);
      return client;
    });
    try {
      return await work(backend, config);
    } finally {
      await backend.close();
    }
  } finally {
    await client?.shutdown().catch(() => undefined);
  }
}

export async function leaseStatus(backend: LeaseBackend, now = Date.now()): Promise<LeaseStatusReport> {
  const [leases, announcements, broken] = await Promise.all([
    backend.list(),
    backend.announcements(),
    backend.brokenLeases(),
  ]);
  const iso = (date: Date) => date.toISOString();
  return {
    backend: backend.kind,
    now: new Date(now).toISOString(),
    leases: leases.map((lease: LeaseRecord) => ({
      resource: lease.resource,
      holder: lease.holder,
      holderHost: lease.holderHost,
      acquiredAt: iso(lease.acquiredAt),
      renewedAt: iso(lease.renewedAt),
      expiresAt: iso(lease.expiresAt),
      expiresInMs: Math.max(0, lease.expiresAt.getTime() - now),
      instance: lease.metadata.instance ?? null,
      forNode: lease.metadata.node ?? null,
      metadata: lease.metadata,
    })),
    announcements: announcements
      .sort((a, b) => a.resource.localeCompare(b.resource) || b.priority - a.priority)
      .map((note: Announcement) => ({
        resource: note.resource,
        holder: note.holder,
        priority: note.priority,
        tieBreaker: note.tieBreaker,
        expiresAt: iso(note.expiresAt),
        expiresInMs: Math.max(0, note.expiresAt.getTime() - now),
      })),
    broken: broken.map((record: BrokenLease) => ({ ...record, brokenAt: iso(record.brokenAt) })),
  };
}

export async function releaseLease(
  backend: LeaseBackend,
  resource: string,
  me: LeaseHolder,
  force: boolean,
): Promise<LeaseReleaseReport> {
  const released = await backend.forceRelease(resource, me, force ? { record: true } : { onlyHolder: me.name });
  return {
    resource,
    released: released !== undefined,
    forced: force,
    previousHolder: released?.previousHolder ?? null,
    previousHost: released?.previousHost ?? null,
    releasedBy: me.name,
  };
}
