// computePlacement (and replicationSignature) with a cache, for the simulator only: loaded in place of src/core/ring.js for the modules of
// src/core when `npm run bench:simulate` starts node with bench/simulate/placement-cache-register.mjs.
//
// plan() computes every keyspace's placement afresh on each call (its cache lives for one call). At 30 nodes × 256
// vnodes that is a walk of 7,680 ranges, 50–60 ms of CPU per call measured here, and the simulation makes tens of
// thousands of plan() calls. The placement depends only on the ring and the replication (and, for LocalStrategy, the
// local node), so the cache returns exactly what the computation would; the bench checks that once per run. A cache
// like this in src/core (keyed by the Ring object) would save a real tick the same time on every plan() call.
import {
  computePlacement as computeUncached,
  replicationSignature as signatureUncached,
  strategyName,
  type KeyspaceReplication,
  type Placement,
  type Ring,
} from '../../src/core/ring.js';

export * from '../../src/core/ring.js';

export interface PlacementCacheStats {
  hits: number;
  misses: number;
  /** CPU spent computing the placements that were missed (ms). */
  computeMs: number;
}

export const PLACEMENT_CACHE_KEY = Symbol.for('tend.simulate.placementCache');
const stats: PlacementCacheStats = { hits: 0, misses: 0, computeMs: 0 };
(globalThis as Record<symbol, unknown>)[PLACEMENT_CACHE_KEY] = stats;

const cache = new WeakMap<Ring, Map<string, Placement>>();
const signatures = new WeakMap<KeyspaceReplication, string>();

/**
 * plan() also derives the signature of every table's keyspace replication on each call (a sort and a join per table,
 * 7 % of the simulation's time); the same replication object always gives the same signature.
 */
export function replicationSignature(replication: KeyspaceReplication): string {
  let signature = signatures.get(replication);
  if (signature === undefined) signatures.set(replication, (signature = signatureUncached(replication)));
  return signature;
}

export function computePlacement(ring: Ring, replication: KeyspaceReplication, localHostId?: string): Placement {
  const local = strategyName(replication.class) === 'LocalStrategy' ? (localHostId ?? '') : '';
  const key = `${replicationSignature(replication)}|${local}`;
  let byKey = cache.get(ring);
  if (!byKey) cache.set(ring, (byKey = new Map()));
  const cached = byKey.get(key);
  if (cached) {
    stats.hits++;
    return cached;
  }
  const started = performance.now();
  const placement = computeUncached(ring, replication, localHostId);
  stats.computeMs += performance.now() - started;
  stats.misses++;
  byKey.set(key, placement);
  return placement;
}
