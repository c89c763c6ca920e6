/**
 * The coverage record (issue 18): which tend instance covers which node, so that a node nobody repairs any more (its
 * group instance stopped, its own timer disabled) shows as an alarm instead of silently going overdue, and two
 * instances repairing the same node are told about it.
 *
 * Every tick records a claim per node it acts for: a group tick (`nodes:`) one per covered node under its instance
 * name, a per-node tick (`node:`) one for its own node under the node's name (node.name, else its address), so a node
 * covered by its own timer counts as covered. A claim lasts the coverage TTL (coverageTtlMs) and is refreshed by each
 * tick, at its start and its end. Pure: the tick and `schedule status` read the claims and the ring, and these
 * functions decide.
 */
import type { NodeInfo } from './ring.js';

/** One instance's claim on one node, as stored. Times are epoch ms, Cassandra's clock where the writer knew it. */
export interface CoverageClaim {
  /** The covered node (its host id: stable across address changes). */
  readonly hostId: string;
  /** Its address when the claim was written (for people). */
  readonly address: string;
  /** nodes.instance for a group tick; the node's own name (node.name, else its address) for a per-node tick. */
  readonly instance: string;
  /** The machine the instance runs on (its host name). */
  readonly instanceHost: string;
  readonly kind: 'group' | 'node';
  readonly claimedAt: number;
  readonly expiresAt: number;
}

/** Who claims: a tick's identity. */
export interface Claimant {
  readonly instance: string;
  readonly instanceHost: string;
  readonly kind: 'group' | 'node';
}

/**
 * The margin on top of the longest healthy tick: three periods of the default 5-minute timer, so one missed or
 * delayed timer (RandomizedDelaySec, a slow start) does not make a node look uncovered.
 */
export const COVERAGE_MARGIN_MS = 15 * 60_000;

/** Expired claims are kept this long (for "last covered by" in `schedule status`), then removed. */
export const COVERAGE_KEEP_MS = 30 * 86_400_000;

/**
 * How long a claim lasts: `schedule.coverageTtl` when set, else the longest a healthy tick goes without refreshing
 * its claims (it refreshes them at its start and end; it starts no task after schedule.maxDuration, and a task ends by
 * repair.taskTimeout) plus COVERAGE_MARGIN_MS. With the defaults: 1h + 3h + 15m = 4h15m.
 */
export function coverageTtlMs(settings: {
  readonly coverageTtl?: number | undefined;
  readonly maxDuration: number;
  readonly taskTimeout: number;
}): number {
  return settings.coverageTtl ?? settings.maxDuration + settings.taskTimeout + COVERAGE_MARGIN_MS;
}

/** The claims a tick writes for the nodes it acts for, valid from `now` for `ttlMs`. */
export function claimsFor(
  claimant: Claimant,
  nodes: readonly Pick<NodeInfo, 'hostId' | 'address'>[],
  now: number,
  ttlMs: number,
): CoverageClaim[] {
  return nodes.map((node) => ({
    hostId: node.hostId,
    address: node.address,
    instance: claimant.instance,
    instanceHost: claimant.instanceHost,
    kind: claimant.kind,
    claimedAt: now,
    expiresAt: now + ttlMs,
  }));
}

export function isLive(claim: Pick<CoverageClaim, 'expiresAt'>, now: number): boolean {
  return claim.expiresAt > now;
}

/** `existing` with `mine` written over it (one claim per node and instance). */
export function withClaims(existing: readonly CoverageClaim[], mine: readonly CoverageClaim[]): CoverageClaim[] {
  const key = (c: CoverageClaim) => `${c.hostId}\u0000${c.instance}`;
  const merged = new Map(existing.map((c) => [key(c), c]));
  for (const claim of mine) merged.set(key(claim), claim);
  return [...merged.values()];
}

/** Another live claim on a node this tick claims. */
export interface ClaimConflict {
  readonly hostId: string;
  readonly address: string;
  /** The other claim. */
  readonly other: CoverageClaim;
  /**
   * other_instance: a second instance acts for the node (two timers repair it); same_name_other_host: this instance's
   * name is also used on another machine (two hosts run one configuration).
   */
  readonly why: 'other_instance' | 'same_name_other_host';
}

/**
 * The live claims of others on the nodes of `mine`. A node's own timer and a group instance claiming it both conflict
 * (during a migration from per-node timers to a group, stop the node's timer once the group covers it).
 */
export function claimConflicts(
  mine: readonly CoverageClaim[],
  existing: readonly CoverageClaim[],
  now: number,
): ClaimConflict[] {
  const conflicts: ClaimConflict[] = [];
  for (const claim of mine) {
    for (const other of existing) {
      if (other.hostId !== claim.hostId || !isLive(other, now)) continue;
      if (other.instance !== claim.instance) {
        conflicts.push({ hostId: claim.hostId, address: claim.address, other, why: 'other_instance' });
      } else if (other.instanceHost !== claim.instanceHost) {
        conflicts.push({ hostId: claim.hostId, address: claim.address, other, why: 'same_name_other_host' });
      }
    }
  }
  return conflicts;
}

/** The warning a tick logs for a conflict. */
export function describeConflict(conflict: ClaimConflict, instance: string): string {
  const other = conflict.other;
  const until = new Date(other.expiresAt).toISOString();
  if (conflict.why === 'same_name_other_host') {
    return `node ${conflict.address} (${conflict.hostId}): instance name ${instance} is also used on host ${other.instanceHost} (claim until ${until}); give each instance its own name (nodes.instance or node.name)`;
  }
  const what = other.kind === 'group' ? `group instance ${other.instance}` : `its own timer (${other.instance})`;
  return `node ${conflict.address} (${conflict.hostId}) is also covered by ${what} on host ${other.instanceHost} (claim until ${until}): two instances repair it; stop one of them or narrow nodes:`;
}

export type NodeCoverageState = 'covered' | 'uncovered' | 'claimed_twice';

export interface NodeCoverage {
  readonly hostId: string;
  readonly address: string;
  readonly datacenter: string;
  readonly state: NodeCoverageState;
  /** Live claims, by instance name. */
  readonly coveredBy: readonly Pick<CoverageClaim, 'instance' | 'instanceHost' | 'kind' | 'expiresAt'>[];
  /** For an uncovered node, the claim that lapsed last (null: no claim was ever kept). */
  readonly lastCoveredBy: Pick<CoverageClaim, 'instance' | 'instanceHost' | 'kind' | 'expiresAt'> | null;
}

export interface CoverageReport {
  /**
   * Whether any claim is recorded at all. Until the first tick of a tend that records coverage (schema v4), nothing
   * is, and no node is called uncovered: that would alarm on every node of a cluster just upgraded.
   */
  readonly recorded: boolean;
  /** Every node of the ring, in ring order (datacenter, then address). */
  readonly nodes: readonly NodeCoverage[];
  /** Addresses of the nodes no live instance covers (empty when nothing is recorded). */
  readonly uncovered: readonly string[];
  /** Addresses of the nodes two or more live instances claim. */
  readonly claimedTwice: readonly string[];
}

/**
 * Which instance covers each node of the ring now. Claims of nodes no longer in the ring (decommissioned) are left
 * out; every node of the ring is expected to be covered by someone.
 */
export function coverageOf(
  ring: readonly Pick<NodeInfo, 'hostId' | 'address' | 'datacenter'>[],
  claims: readonly CoverageClaim[],
  now: number,
): CoverageReport {
  const recorded = claims.length > 0;
  const byHost = new Map<string, CoverageClaim[]>();
  for (const claim of claims) byHost.set(claim.hostId, [...(byHost.get(claim.hostId) ?? []), claim]);
  const pick = (c: CoverageClaim) => ({
    instance: c.instance,
    instanceHost: c.instanceHost,
    kind: c.kind,
    expiresAt: c.expiresAt,
  });
  const nodes = [...ring]
    .sort((a, b) => a.datacenter.localeCompare(b.datacenter) || a.address.localeCompare(b.address))
    .map((node): NodeCoverage => {
      const own = byHost.get(node.hostId) ?? [];
      const live = own.filter((c) => isLive(c, now)).sort((a, b) => a.instance.localeCompare(b.instance));
      const lapsed = own.filter((c) => !isLive(c, now)).sort((a, b) => b.expiresAt - a.expiresAt)[0];
      const state: NodeCoverageState =
        live.length === 0 ? (recorded ? 'uncovered' : 'covered') : live.length > 1 ? 'claimed_twice' : 'covered';
      return {
        hostId: node.hostId,
        address: node.address,
        datacenter: node.datacenter,
        state,
        coveredBy: live.map(pick),
        lastCoveredBy: live.length === 0 && lapsed ? pick(lapsed) : null,
      };
    });
  return {
    recorded,
    nodes,
    uncovered: nodes.filter((n) => n.state === 'uncovered').map((n) => n.address),
    claimedTwice: nodes.filter((n) => n.state === 'claimed_twice').map((n) => n.address),
  };
}

/** Claims lapsed for longer than COVERAGE_KEEP_MS: a store without row TTLs (Consul KV) deletes them. */
export function staleClaims(claims: readonly CoverageClaim[], now: number): CoverageClaim[] {
  return claims.filter((c) => c.expiresAt + COVERAGE_KEEP_MS < now);
}
