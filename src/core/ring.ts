// The token ring and replica placement, computed from topology data the cluster adapter reads (system.peers_v2,
// system.local, system_schema.keyspaces). Placement follows Cassandra's own strategies so that tend groups ranges by
// the same replica sets Cassandra will actually repair together.
import { compareTokens, parseToken } from './tokens.js';
import type { TokenRange } from './ranges.js';

/** One Cassandra node as the cluster adapter sees it. */
export interface NodeInfo {
  /** system.local/peers host_id (a UUID string); stable across address changes, so tend keys everything by it. */
  readonly hostId: string;
  /** The node's broadcast/RPC address, for humans and for executors. */
  readonly address: string;
  /**
   * The node's other addresses (broadcast, listen, internode), where they differ from `address`: Cassandra names
   * repair coordinators and participants by their internode address.
   */
  readonly aliases?: readonly string[];
  readonly datacenter: string;
  readonly rack: string;
  /** The node's tokens as decimal strings. A node without tokens (still joining) owns no ranges. */
  readonly tokens: readonly string[];
  /** Whether the node is up as far as the driver/gossip knows. Down replicas block tasks that include them. */
  readonly up: boolean;
}

export type ReplicationStrategyName =
  'SimpleStrategy' | 'NetworkTopologyStrategy' | 'LocalStrategy' | 'EverywhereStrategy';

/**
 * A keyspace's replication settings. `class` may be the short name or the fully qualified
 * `org.apache.cassandra.locator.…` name from system_schema.keyspaces.
 */
export interface KeyspaceReplication {
  readonly class: string;
  /** SimpleStrategy: the replication factor. */
  readonly replicationFactor?: number;
  /** NetworkTopologyStrategy: replication factor per datacenter name. */
  readonly datacenters?: Readonly<Record<string, number>>;
}

/** A set of replicas that shares some ranges; tasks never mix replica sets. */
export interface ReplicaSet {
  /** Sorted host ids joined by ',' — a stable identity for grouping and for lease resource names. */
  readonly key: string;
  readonly hostIds: readonly string[];
  /** Sorted distinct datacenters of the replicas. */
  readonly datacenters: readonly string[];
}

/** The ring: every vnode range, sorted by end token. ranges[0] is the wrapping range (lastToken, firstToken]. */
export interface Ring {
  readonly nodes: ReadonlyMap<string, NodeInfo>;
  readonly ranges: readonly TokenRange[];
  /** Decimal text of each range's start and end, as Cassandra writes them to repair history. */
  readonly startTexts: readonly string[];
  readonly endTexts: readonly string[];
  /** Host id owning each range's end token (the range's primary replica). */
  readonly owners: readonly string[];
  /** Range index by the decimal text of its start token: matches history entries without parsing BigInts. */
  readonly indexByStartText: ReadonlyMap<string, number>;
}

/** Replica placement of one keyspace on a ring. */
export interface Placement {
  readonly replicaSets: readonly ReplicaSet[];
  /** For each ring range (same index as Ring.ranges): index into replicaSets. */
  readonly replicaSetOfRange: Int32Array;
  /** The effective replication factor (replicas per range; the maximum when ranges differ). */
  readonly replicationFactor: number;
}

/** The topology cannot be turned into a ring (duplicate tokens, unknown strategy, …). */
export class TopologyError extends Error {
  override readonly name = 'TopologyError';
}

export function strategyName(replicationClass: string): ReplicationStrategyName {
  const short = replicationClass.slice(replicationClass.lastIndexOf('.') + 1);
  switch (short) {
    case 'SimpleStrategy':
    case 'NetworkTopologyStrategy':
    case 'LocalStrategy':
    case 'EverywhereStrategy':
      return short;
    default:
      throw new TopologyError(`unsupported replication strategy "${replicationClass}"`);
  }
}

export function buildRing(nodes: readonly NodeInfo[]): Ring {
  const byHost = new Map<string, NodeInfo>();
  const tokens: { token: bigint; text: string; hostId: string }[] = [];
  for (const node of nodes) {
    if (byHost.has(node.hostId)) throw new TopologyError(`host id ${node.hostId} appears twice in the topology`);
    byHost.set(node.hostId, node);
    for (const text of node.tokens) tokens.push({ token: parseToken(text), text: text.trim(), hostId: node.hostId });
  }
  tokens.sort((a, b) => compareTokens(a.token, b.token));
  for (let i = 1; i < tokens.length; i++) {
    const previous = tokens[i - 1];
    const current = tokens[i];
    if (previous && current && previous.token === current.token) {
      throw new TopologyError(`token ${current.text} is owned by both ${previous.hostId} and ${current.hostId}`);
    }
  }
  const ranges: TokenRange[] = [];
  const startTexts: string[] = [];
  const endTexts: string[] = [];
  const owners: string[] = [];
  const indexByStartText = new Map<string, number>();
  for (let i = 0; i < tokens.length; i++) {
    const previous = tokens[(i - 1 + tokens.length) % tokens.length];
    const current = tokens[i];
    if (!previous || !current) continue;
    const startText = previous.token.toString();
    ranges.push({ start: previous.token, end: current.token });
    startTexts.push(startText);
    endTexts.push(current.token.toString());
    owners.push(current.hostId);
    indexByStartText.set(startText, i);
  }
  return { nodes: byHost, ranges, startTexts, endTexts, owners, indexByStartText };
}

/** Index of the ring range containing `token`: the first range whose end is >= token, or the wrapping range 0. */
export function rangeIndexOfToken(ring: Ring, token: bigint): number {
  const ranges = ring.ranges;
  let lo = 0;
  let hi = ranges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const range = ranges[mid];
    if (range !== undefined && range.end < token) lo = mid + 1;
    else hi = mid;
  }
  return lo === ranges.length ? 0 : lo;
}

/** A stable text identity of a replication setting, so placements can be shared by keyspaces that replicate alike. */
export function replicationSignature(replication: KeyspaceReplication): string {
  const strategy = strategyName(replication.class);
  if (strategy === 'SimpleStrategy') return `${strategy}:${replication.replicationFactor ?? 0}`;
  if (strategy === 'NetworkTopologyStrategy') {
    const dcs = Object.entries(replication.datacenters ?? {})
      .filter(([, rf]) => rf > 0)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([dc, rf]) => `${dc}=${rf}`);
    return `${strategy}:${dcs.join(',')}`;
  }
  return strategy;
}

/**
 * Computes the replicas of every ring range for a keyspace's replication, the way Cassandra does:
 * - SimpleStrategy: walk clockwise from the range's end token, taking the first RF distinct nodes.
 * - NetworkTopologyStrategy: walk clockwise; per datacenter take nodes from racks not seen yet, and only once the
 *   datacenter has fewer racks than its RF, accept rack repeats to fill it (NetworkTopologyStrategy.
 *   calculateNaturalReplicas). A datacenter named in the settings but absent from the ring contributes nothing.
 * - EverywhereStrategy: every node with tokens. LocalStrategy: only `localHostId` (never repaired).
 */
export function computePlacement(ring: Ring, replication: KeyspaceReplication, localHostId?: string): Placement {
  const strategy = strategyName(replication.class);
  const n = ring.ranges.length;
  const perRange: string[][] = new Array<string[]>(n);
  if (strategy === 'SimpleStrategy') {
    const rf = replication.replicationFactor ?? 0;
    for (let i = 0; i < n; i++) perRange[i] = walkSimple(ring, i, rf);
  } else if (strategy === 'NetworkTopologyStrategy') {
    const dcStats = datacenterStats(ring);
    for (let i = 0; i < n; i++) perRange[i] = walkNetworkTopology(ring, i, replication.datacenters ?? {}, dcStats);
  } else if (strategy === 'EverywhereStrategy') {
    const all = [...new Set(ring.owners)];
    for (let i = 0; i < n; i++) perRange[i] = all;
  } else {
    for (let i = 0; i < n; i++) perRange[i] = localHostId === undefined ? [] : [localHostId];
  }
  const replicaSets: ReplicaSet[] = [];
  const setIndex = new Map<string, number>();
  const replicaSetOfRange = new Int32Array(n);
  let replicationFactor = 0;
  for (let i = 0; i < n; i++) {
    const hostIds = [...(perRange[i] ?? [])].sort();
    replicationFactor = Math.max(replicationFactor, hostIds.length);
    const key = hostIds.join(',');
    let index = setIndex.get(key);
    if (index === undefined) {
      index = replicaSets.length;
      setIndex.set(key, index);
      const datacenters = [...new Set(hostIds.map((h) => ring.nodes.get(h)?.datacenter ?? '?'))].sort();
      replicaSets.push({ key, hostIds, datacenters });
    }
    replicaSetOfRange[i] = index;
  }
  return { replicaSets, replicaSetOfRange, replicationFactor };
}

function walkSimple(ring: Ring, rangeIndex: number, rf: number): string[] {
  const replicas: string[] = [];
  const n = ring.owners.length;
  for (let step = 0; step < n && replicas.length < rf; step++) {
    const owner = ring.owners[(rangeIndex + step) % n];
    if (owner !== undefined && !replicas.includes(owner)) replicas.push(owner);
  }
  return replicas;
}

interface DatacenterStats {
  readonly racks: number;
  readonly nodes: number;
}

function datacenterStats(ring: Ring): Map<string, DatacenterStats> {
  const racks = new Map<string, Set<string>>();
  const nodes = new Map<string, Set<string>>();
  for (const owner of ring.owners) {
    const node = ring.nodes.get(owner);
    if (!node) continue;
    if (!racks.has(node.datacenter)) racks.set(node.datacenter, new Set());
    if (!nodes.has(node.datacenter)) nodes.set(node.datacenter, new Set());
    racks.get(node.datacenter)?.add(node.rack);
    nodes.get(node.datacenter)?.add(node.hostId);
  }
  const stats = new Map<string, DatacenterStats>();
  for (const [dc, rackSet] of racks) stats.set(dc, { racks: rackSet.size, nodes: nodes.get(dc)?.size ?? 0 });
  return stats;
}

function walkNetworkTopology(
  ring: Ring,
  rangeIndex: number,
  factors: Readonly<Record<string, number>>,
  stats: ReadonlyMap<string, DatacenterStats>,
): string[] {
  interface Wanted {
    left: number;
    acceptableRackRepeats: number;
    readonly racks: Set<string>;
  }
  const wanted = new Map<string, Wanted>();
  let datacentersLeft = 0;
  for (const [dc, rf] of Object.entries(factors)) {
    const stat = stats.get(dc);
    if (!stat || !(rf > 0)) continue;
    const left = Math.min(rf, stat.nodes);
    wanted.set(dc, { left, acceptableRackRepeats: rf - stat.racks, racks: new Set() });
    if (left > 0) datacentersLeft++;
  }
  const replicas: string[] = [];
  const n = ring.owners.length;
  for (let step = 0; step < n && datacentersLeft > 0; step++) {
    const owner = ring.owners[(rangeIndex + step) % n];
    const node = owner === undefined ? undefined : ring.nodes.get(owner);
    if (!node) continue;
    const dc = wanted.get(node.datacenter);
    if (!dc || dc.left === 0 || replicas.includes(node.hostId)) continue;
    if (!dc.racks.has(node.rack)) {
      dc.racks.add(node.rack);
    } else if (dc.acceptableRackRepeats > 0) {
      dc.acceptableRackRepeats--;
    } else {
      continue; // rack already used and enough distinct racks remain to fill this datacenter
    }
    replicas.push(node.hostId);
    dc.left--;
    if (dc.left === 0) datacentersLeft--;
  }
  return replicas;
}

/** Indexes of the ring ranges that `hostId` replicates under `placement` (all of them, not only primary ranges). */
export function rangesReplicatedBy(placement: Placement, hostId: string): number[] {
  const mine = new Set<number>();
  placement.replicaSets.forEach((set, index) => {
    if (set.hostIds.includes(hostId)) mine.add(index);
  });
  const out: number[] = [];
  for (let i = 0; i < placement.replicaSetOfRange.length; i++) {
    if (mine.has(placement.replicaSetOfRange[i] ?? -1)) out.push(i);
  }
  return out;
}
