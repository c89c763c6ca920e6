/**
 * Which Cassandra releases tend runs against, and the check that refuses the others before anything is read or
 * repaired. tend is tested against 4.1 and 5.0 (the sandbox's 4.1.10 and 5.0.8): the system_distributed history
 * tables, size estimates, StorageService.repairAsync's option keys and getParentRepairStatus, and nodetool's
 * repair output are the same in both. An older release (4.0, 3.x) differs in ways tend does not handle, and a
 * newer one has not been tried: in both cases the safe answer is to stop with a message, not to guess.
 *
 * Every node is checked (system.local and system.peers_v2 of the coordinator), because a cluster in the middle
 * of a rolling upgrade mixes releases, and repair runs across all replicas.
 */
import type cassandra from 'cassandra-driver';
import { TendError } from '../errors.js';
import { allRows, asClusterError } from './session.js';

/** Release lines tend supports, as major.minor. */
export const SUPPORTED_RELEASES = ['4.1', '5.0'] as const;

export interface CassandraRelease {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** As the node reported it (release_version), e.g. 5.0.8 or 4.1.10-SNAPSHOT. */
  readonly text: string;
}

export interface NodeRelease {
  /** The node's address (system.local's broadcast_address, system.peers_v2's peer). */
  readonly address: string;
  /** release_version as read; null when a peer row has none yet (a node still joining). */
  readonly releaseVersion: string | null;
}

/** A node runs a Cassandra release tend does not support (exit 1). */
export class UnsupportedCassandraVersion extends TendError {}

/** `5.0.8`, `4.1.10-SNAPSHOT`, `5.0-beta1` → numbers; undefined for anything else. */
export function parseReleaseVersion(text: string): CassandraRelease | undefined {
  const match = /^(\d+)\.(\d+)(?:\.(\d+))?(?:[-.].*)?$/.exec(text.trim());
  if (!match) return undefined;
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3] ?? 0), text: text.trim() };
}

export const isSupported = (release: CassandraRelease) =>
  (SUPPORTED_RELEASES as readonly string[]).includes(`${release.major}.${release.minor}`);

/**
 * The releases of every node, checked: throws UnsupportedCassandraVersion naming each node whose release is not
 * supported (or cannot be read), and returns the oldest release, which is the one whose behaviour tend must
 * follow. Nodes with no release_version yet are skipped; at least one node must report one.
 */
export function checkCassandraReleases(nodes: readonly NodeRelease[]): CassandraRelease {
  const problems: string[] = [];
  const releases: CassandraRelease[] = [];
  for (const node of nodes) {
    if (node.releaseVersion === null || node.releaseVersion === '') continue;
    const release = parseReleaseVersion(node.releaseVersion);
    if (!release) problems.push(`${node.address} reports release_version "${node.releaseVersion}"`);
    else if (!isSupported(release)) problems.push(`${node.address} runs Cassandra ${release.text}`);
    else releases.push(release);
  }
  const supported = SUPPORTED_RELEASES.map((r) => `${r}.x`).join(' and ');
  if (problems.length > 0) {
    throw new UnsupportedCassandraVersion(`unsupported Cassandra version: ${problems.join('; ')}`, {
      hints: [
        `tend supports Cassandra ${supported}; it stops before reading or repairing anything on other releases.`,
        'Upgrade those nodes first, or run tend from a release that supports them.',
      ],
    });
  }
  const oldest = releases.sort((a, b) => a.major - b.major || a.minor - b.minor || a.patch - b.patch)[0];
  if (!oldest) {
    throw new UnsupportedCassandraVersion('no node reported its Cassandra version (system.local.release_version)', {
      hints: [`tend supports Cassandra ${supported}.`],
    });
  }
  return oldest;
}

/** Reads release_version of the coordinator and of every peer it knows: one row per node. */
export async function readNodeReleases(client: Pick<cassandra.Client, 'execute'>): Promise<NodeRelease[]> {
  let local: cassandra.types.Row[];
  let peers: cassandra.types.Row[];
  try {
    local = await allRows(client, 'SELECT broadcast_address, release_version FROM system.local');
    peers = await allRows(client, 'SELECT peer, release_version FROM system.peers_v2');
  } catch (error) {
    asClusterError(error, 'reading the Cassandra version');
  }
  const address = (value: unknown) => (value === null || value === undefined ? 'unknown' : String(value));
  return [
    ...local.map((row) => ({
      address: address(row.get('broadcast_address')),
      releaseVersion: (row.get('release_version') as string | null) ?? null,
    })),
    ...peers.map((row) => ({
      address: address(row.get('peer')),
      releaseVersion: (row.get('release_version') as string | null) ?? null,
    })),
  ];
}

/**
 * The one call a command makes after connecting: refuses an unsupported cluster (UnsupportedCassandraVersion,
 * exit 1) and returns the oldest release otherwise.
 */
export async function requireSupportedCassandra(client: Pick<cassandra.Client, 'execute'>): Promise<CassandraRelease> {
  return checkCassandraReleases(await readNodeReleases(client));
}
