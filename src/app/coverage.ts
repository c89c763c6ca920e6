/**
 * The coverage record (issue 18), carried out: a tick claims the nodes it acts for and is told about other instances
 * claiming them; `schedule status` shows which instance covers each node and which node nobody covers. The store is
 * tend's keyspace (src/cluster/coverage-store.ts) or, with lease.backend consul, Consul KV (src/lease/consul.ts); the
 * decisions are src/core/coverage.ts.
 */
import type cassandra from 'cassandra-driver';
import {
  claimConflicts,
  claimsFor,
  coverageOf,
  coverageTtlMs,
  describeConflict,
  staleClaims,
  withClaims,
  type Claimant,
  type CoverageClaim,
  type CoverageReport,
  type NodeInfo,
} from '../core/index.js';
import type { TendConfig } from '../config/schema.js';
import type { SecretSource } from '../config/secrets.js';
import { CassandraCoverageStore } from '../cluster/coverage-store.js';
import { ConsulLeaseBackend } from '../lease/index.js';
import { consulSettings } from './adapters.js';

/** Where claims live: rows or KV keys, nothing more. */
export interface CoverageStore {
  read(): Promise<CoverageClaim[]>;
  write(claims: readonly CoverageClaim[]): Promise<void>;
  /** Removes lapsed claims read by `read` (a store whose rows expire by themselves does nothing). */
  remove(claims: readonly CoverageClaim[]): Promise<void>;
  close(): Promise<void>;
}

/** The configured store: Consul KV with the Consul lease backend, else tend's keyspace on `client`. */
export async function openCoverageStore(
  config: TendConfig,
  secret: SecretSource,
  client: cassandra.Client,
): Promise<CoverageStore> {
  if (config.lease.backend !== 'consul') return new CassandraCoverageStore(client, config.cassandra.keyspace);
  const consul = new ConsulLeaseBackend(await consulSettings(config, secret));
  return {
    read: () => consul.coverageClaims(),
    write: (claims) => consul.writeCoverage(claims),
    remove: (claims) => consul.removeCoverage(claims),
    close: () => consul.close(),
  };
}

/** The claim lifetime the configuration gives (src/core/coverage.ts coverageTtlMs says the rule). */
export function configuredCoverageTtl(config: TendConfig): number {
  return coverageTtlMs({
    coverageTtl: config.schedule.coverageTtl,
    maxDuration: config.schedule.maxDuration,
    taskTimeout: config.repair.taskTimeout,
  });
}

/** What a tick recorded, for its report (`--json`: coverage) and its metrics. */
export interface TickCoverage {
  readonly instance: string;
  readonly kind: 'group' | 'node';
  readonly ttlMs: number;
  readonly expiresAt: number;
  /** The nodes claimed, by address. */
  readonly nodes: readonly string[];
  /** The warnings about other instances claiming them (also logged). */
  readonly conflicts: readonly string[];
  /** Every node of the ring, as this tick left the record (the metrics publish it). */
  readonly ring: CoverageReport;
}

/**
 * A tick's claim: reads the record, warns about other live instances on its nodes, writes (refreshes) its claims for
 * `ttlMs` from `now`, removes claims lapsed long ago, and returns the coverage of the whole ring as it leaves it.
 */
export async function claimCoverage(
  store: CoverageStore,
  claimant: Claimant,
  nodes: readonly NodeInfo[],
  ring: readonly NodeInfo[],
  clock: { readonly now: number; readonly ttlMs: number },
  warn: (message: string) => void,
): Promise<TickCoverage> {
  const existing = await store.read();
  const mine = claimsFor(claimant, nodes, clock.now, clock.ttlMs);
  const conflicts = claimConflicts(mine, existing, clock.now).map((c) => describeConflict(c, claimant.instance));
  for (const message of conflicts) warn(message);
  await store.write(mine);
  const stale = staleClaims(existing, clock.now);
  if (stale.length > 0) await store.remove(stale);
  return {
    instance: claimant.instance,
    kind: claimant.kind,
    ttlMs: clock.ttlMs,
    expiresAt: clock.now + clock.ttlMs,
    nodes: nodes.map((n) => n.address),
    conflicts,
    ring: coverageOf(ring, withClaims(existing, mine), clock.now),
  };
}

/**
 * claimCoverage for a tick: a store that cannot be opened, read or written is a warning, never the tick's failure
 * (repairs matter more; the node then shows uncovered elsewhere after the TTL, which is the alarm it deserves).
 */
export async function claimCoverageQuietly(
  open: () => Promise<CoverageStore>,
  claimant: Claimant,
  nodes: readonly NodeInfo[],
  ring: readonly NodeInfo[],
  clock: { readonly now: number; readonly ttlMs: number },
  warn: (message: string) => void,
): Promise<TickCoverage | undefined> {
  let store: CoverageStore | undefined;
  try {
    store = await open();
    return await claimCoverage(store, claimant, nodes, ring, clock, warn);
  } catch (error) {
    warn(`coverage not recorded: ${(error as Error).message}`);
    return undefined;
  } finally {
    await store?.close().catch(() => undefined);
  }
}

/** The coverage of `ring` now, for `schedule status`. */
export async function readCoverage(
  store: CoverageStore,
  ring: readonly Pick<NodeInfo, 'hostId' | 'address' | 'datacenter'>[],
  now: number,
): Promise<CoverageReport> {
  return coverageOf(ring, await store.read(), now);
}

/**
 * A tick's claims, made at its start and refreshed at its end (claimCoverageQuietly each time); a conflict is logged
 * once per tick.
 */
export function coverageRecorder(
  open: () => Promise<CoverageStore>,
  claimant: Claimant,
  warn: (message: string) => void,
): (
  nodes: readonly NodeInfo[],
  ring: readonly NodeInfo[],
  clock: { readonly now: number; readonly ttlMs: number },
) => Promise<TickCoverage | undefined> {
  const warned = new Set<string>();
  const once = (message: string) => {
    if (warned.has(message)) return;
    warned.add(message);
    warn(message);
  };
  return (nodes, ring, clock) => claimCoverageQuietly(open, claimant, nodes, ring, clock, once);
}
