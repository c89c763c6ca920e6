/**
 * The cluster as tend plans against it, read over CQL: nodes (system.local + system.peers_v2: host id, address,
 * datacenter, rack, tokens), whether each is up (the driver's host state, which follows the coordinator's gossip
 * events), every keyspace's replication (system_schema.keyspaces) and its tables (system_schema.tables).
 *
 * What tend is responsible for is decided here and in the core, not by the operator listing tables:
 * - system keyspaces (`system`, `system_*`, and `dse_*`/`solr_admin` of DataStax builds) are never listed: their
 *   replication is managed by Cassandra itself, or they are node-local.
 * - tend's own keyspace (cassandra.keyspace) is excluded too: its leases and priorities expire by TTL with
 *   gc_grace_seconds 0, its history by TTL, and repairing it under a lease stored in it would be circular. Repair it
 *   ad hoc (`tend repair table tend.repair_state`) if you must.
 * - everything else is handed to the planner, which lists keyspaces with a single replica, not replicated to this
 *   node, or with LocalStrategy under `skipped` with the reason (see src/core/README.md), so `schedule status`
 *   shows why a table is not scheduled instead of silently leaving it out.
 */
import { connect } from 'node:net';
import type cassandra from 'cassandra-driver';
import { ConfigError } from '../errors.js';
import type { KeyspaceReplication, NodeInfo, Topology } from '../core/index.js';
import { allRows } from './session.js';

export interface KeyspaceInfo {
  readonly name: string;
  readonly replication: KeyspaceReplication;
  /** Table names, sorted. */
  readonly tables: readonly string[];
  /** gc_grace_seconds of each table, in ms: how long a tombstone is kept, the deadline every repair must meet. */
  readonly gcGraceMs: Readonly<Record<string, number>>;
  /** The compaction strategy class of each table as the schema names it (repair.skipTwcs). */
  readonly compaction: Readonly<Record<string, string>>;
}

export interface ClusterTopology extends Topology {
  readonly localHostId: string;
  readonly localDatacenter: string;
  /** The local node's address, as the driver knows it (for pinning node-local reads). */
  readonly localAddress: string;
  /** Keyspaces tend is responsible for (system keyspaces and tend's own excluded), by name. */
  readonly keyspaceInfo: Readonly<Record<string, KeyspaceInfo>>;
  /** Keyspaces left out on purpose, and why (for `--verbose` and the docs). */
  readonly excludedKeyspaces: readonly { name: string; reason: string }[];
  /** CQL rows read to build this. */
  readonly rowsRead: number;
}

/** Which node tend acts for: node.hostId, else node.address, else the host of the first contact point. */
export interface LocalNodeSelector {
  readonly hostId?: string | undefined;
  readonly address?: string | undefined;
  readonly contactPoint?: string | undefined;
  /** A group tick (`nodes:`) acts for several nodes: any node serves as the view point, each plan re-centres it. */
  readonly any?: boolean;
}

const SYSTEM_KEYSPACE = /^(system|system_.*|dse_.*|solr_admin|cfs|cfs_archive|OpsCenter)$/;

/** Why a keyspace is not tend's to repair, or undefined when it is. */
export function keyspaceExclusion(name: string, tendKeyspace: string): string | undefined {
  if (SYSTEM_KEYSPACE.test(name)) return 'system keyspace: replication is managed by Cassandra';
  if (name === tendKeyspace) return "tend's own keyspace: TTL-bounded state, repaired only ad hoc";
  return undefined;
}

/** Turns system_schema.keyspaces' replication map into the core's shape. */
export function replicationFromMap(map: Readonly<Record<string, string>>): KeyspaceReplication {
  const { class: cls = '', replication_factor: rf, ...rest } = map;
  const short = cls.slice(cls.lastIndexOf('.') + 1);
  if (short === 'SimpleStrategy') return { class: cls, replicationFactor: Number(rf ?? 0) };
  if (short === 'NetworkTopologyStrategy') {
    const datacenters: Record<string, number> = {};
    for (const [dc, value] of Object.entries(rest)) {
      // Cassandra 4+ may store "3/1" (full/transient replicas); tend repairs the full ones.
      const full = Number(String(value).split('/')[0]);
      if (Number.isFinite(full)) datacenters[dc] = full;
    }
    return { class: cls, datacenters };
  }
  return { class: cls };
}

function hostOf(endpoint: string): string {
  const bracketed = /^\[(.*)\](?::\d+)?$/.exec(endpoint);
  if (bracketed?.[1]) return bracketed[1];
  return endpoint.includes(':') && endpoint.indexOf(':') === endpoint.lastIndexOf(':')
    ? endpoint.slice(0, endpoint.indexOf(':'))
    : endpoint;
}

function text(value: unknown): string {
  return value === null || value === undefined ? '' : String(value);
}

interface NodeRow {
  hostId: string;
  addresses: string[];
  datacenter: string;
  rack: string;
  tokens: string[];
}

/** The nodes of the ring, from system.local and system.peers_v2 of whichever node coordinates. */
async function readNodeRows(client: cassandra.Client): Promise<{ rows: NodeRow[]; read: number }> {
  const local = await client.execute(
    'SELECT host_id, broadcast_address, rpc_address, listen_address, data_center, rack, tokens FROM system.local',
  );
  // system.local and system.peers_v2 describe the ring only together, from the same node: pin the second query to
  // the coordinator of the first (the driver would otherwise route it to any node and return that node's peers).
  const coordinator = local.info.queriedHost ? driverHost(client, hostOf(String(local.info.queriedHost))) : undefined;
  const pinned = coordinator ? { host: coordinator } : {};
  // peers_v2 exists from Cassandra 4.0; older nodes only have system.peers (rpc_address instead of native_address).
  const peers = await allRows(
    client,
    'SELECT peer, host_id, native_address, data_center, rack, tokens FROM system.peers_v2',
    [],
    pinned,
  ).catch((error: unknown) => {
    if (!/unconfigured table|does not exist/i.test((error as Error).message ?? '')) throw error;
    return allRows(
      client,
      'SELECT peer, host_id, rpc_address AS native_address, data_center, rack, tokens FROM system.peers',
      [],
      pinned,
    );
  });
  const rows: NodeRow[] = [];
  const seen = new Set<string>();
  const add = (row: NodeRow) => {
    if (row.hostId === '' || seen.has(row.hostId)) return;
    seen.add(row.hostId);
    rows.push(row);
  };
  for (const row of local.rows) {
    add({
      hostId: text(row.get('host_id')),
      addresses: [row.get('rpc_address'), row.get('broadcast_address'), row.get('listen_address')].map(text),
      datacenter: text(row.get('data_center')),
      rack: text(row.get('rack')),
      tokens: (row.get('tokens') as string[] | null) ?? [],
    });
  }
  for (const row of peers) {
    add({
      hostId: text(row.get('host_id')),
      addresses: [row.get('native_address'), row.get('peer')].map(text),
      datacenter: text(row.get('data_center')),
      rack: text(row.get('rack')),
      tokens: (row.get('tokens') as string[] | null) ?? [],
    });
  }
  return { rows, read: local.rows.length + peers.length };
}

/**
 * Up/down as the driver sees it (gossip events pushed to its control connection), keyed by address. A host
 * the driver has no connection to yet (remote datacenters are not warmed up on connect) is optimistically
 * "up" until something fails, which would let a short-lived tick plan work on a stopped node. Such hosts get a
 * TCP connect to their native port (the load-balancing policy may ignore remote hosts, so a query cannot be sent
 * there); a host whose port does not answer within 2 s counts as down.
 */
function portAnswers(address: string): Promise<boolean> {
  const separator = address.lastIndexOf(':');
  const host = address.slice(0, separator).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(separator + 1));
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 2000 });
    const done = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

async function hostStates(client: cassandra.Client): Promise<Map<string, boolean>> {
  const states = new Map<string, boolean>();
  const state = client.getState();
  const hosts = [...client.hosts.values()];
  const probed = await Promise.all(
    hosts.map(async (host) => {
      if (!host.isUp() || state.getOpenConnections(host) > 0) return host.isUp();
      return portAnswers(host.address);
    }),
  );
  for (const [index, host] of hosts.entries()) {
    const up = probed[index]!;
    states.set(hostOf(host.address), up);
    const id = host.hostId?.toString();
    if (id) states.set(id, up);
  }
  return states;
}

export function selectLocalNode(nodes: readonly NodeRow[], selector: LocalNodeSelector): NodeRow {
  const candidates: string[] = [];
  if (selector.any && nodes[0]) return nodes[0];
  if (selector.hostId) {
    const byId = nodes.find((node) => node.hostId === selector.hostId);
    if (byId) return byId;
    candidates.push(`node.hostId ${selector.hostId}`);
  } else {
    const address = selector.address ?? (selector.contactPoint ? hostOf(selector.contactPoint) : undefined);
    if (address) {
      const byAddress = nodes.find((node) => node.addresses.includes(address));
      if (byAddress) return byAddress;
      candidates.push(`${selector.address ? 'node.address' : 'the first contact point'} ${address}`);
    }
  }
  throw new ConfigError(`cannot tell which node tend acts for: ${candidates.join(', ') || 'nothing configured'}`, {
    problems: [
      `node: set node.hostId or node.address to one of: ${nodes
        .map((node) => `${node.addresses[0] ?? '?'} (${node.hostId}, ${node.datacenter})`)
        .join('; ')}`,
    ],
  });
}

/**
 * Reads the topology. Keyspaces tend is responsible for get their tables listed; the planner then decides per
 * keyspace whether this node replicates it with at least two replicas.
 */
export async function readTopology(
  client: cassandra.Client,
  options: { tendKeyspace: string; localNode: LocalNodeSelector },
): Promise<ClusterTopology> {
  const { rows, read } = await readNodeRows(client);
  const local = selectLocalNode(rows, options.localNode);
  const states = await hostStates(client);
  const nodes: NodeInfo[] = rows.map((row) => {
    const address = row.addresses.find((a) => a !== '') ?? '?';
    // Repair state names nodes by their internode address, which may differ from the native one.
    const aliases = [...new Set(row.addresses.filter((a) => a !== '' && a !== address))];
    return {
      hostId: row.hostId,
      address,
      ...(aliases.length > 0 ? { aliases } : {}),
      datacenter: row.datacenter,
      rack: row.rack,
      tokens: row.tokens,
      // Unknown to the driver (e.g. filtered out) counts as up: the executor fails loudly if it is not.
      up: states.get(row.hostId) ?? row.addresses.map((a) => states.get(a)).find((s) => s !== undefined) ?? true,
    };
  });
  // All pages: a cluster can have more tables than one page holds, and a table left off would never be repaired.
  const keyspaceRows = await allRows(client, 'SELECT keyspace_name, replication FROM system_schema.keyspaces');
  const tableRows = await allRows(
    client,
    'SELECT keyspace_name, table_name, gc_grace_seconds, compaction FROM system_schema.tables',
  );
  const tablesByKeyspace = new Map<string, string[]>();
  const gcGraceByKeyspace = new Map<string, Record<string, number>>();
  const compactionByKeyspace = new Map<string, Record<string, string>>();
  for (const row of tableRows) {
    const ks = text(row.get('keyspace_name'));
    let list = tablesByKeyspace.get(ks);
    if (!list) tablesByKeyspace.set(ks, (list = []));
    const table = text(row.get('table_name'));
    list.push(table);
    let grace = gcGraceByKeyspace.get(ks);
    if (!grace) gcGraceByKeyspace.set(ks, (grace = {}));
    grace[table] = Number(row.get('gc_grace_seconds') ?? 864_000) * 1000;
    let compaction = compactionByKeyspace.get(ks);
    if (!compaction) compactionByKeyspace.set(ks, (compaction = {}));
    compaction[table] = (row.get('compaction') as Record<string, string> | null)?.class ?? '';
  }
  const keyspaces: Record<string, KeyspaceReplication> = {};
  const keyspaceInfo: Record<string, KeyspaceInfo> = {};
  const excludedKeyspaces: { name: string; reason: string }[] = [];
  for (const row of keyspaceRows) {
    const name = text(row.get('keyspace_name'));
    const exclusion = keyspaceExclusion(name, options.tendKeyspace);
    if (exclusion) {
      excludedKeyspaces.push({ name, reason: exclusion });
      continue;
    }
    const replication = replicationFromMap((row.get('replication') as Record<string, string> | null) ?? {});
    keyspaces[name] = replication;
    keyspaceInfo[name] = {
      name,
      replication,
      tables: (tablesByKeyspace.get(name) ?? []).sort(),
      gcGraceMs: gcGraceByKeyspace.get(name) ?? {},
      compaction: compactionByKeyspace.get(name) ?? {},
    };
  }
  excludedKeyspaces.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    nodes,
    keyspaces,
    keyspaceInfo,
    excludedKeyspaces,
    localHostId: local.hostId,
    localDatacenter: local.datacenter,
    localAddress: nodes.find((n) => n.hostId === local.hostId)?.address ?? '?',
    rowsRead: read + keyspaceRows.length + tableRows.length,
  };
}

/** `topology` as seen from `node`: the same ring and schema, with `node` as the local node (a group tick's plans). */
export function seenFrom(topology: ClusterTopology, node: NodeInfo): ClusterTopology {
  return { ...topology, localHostId: node.hostId, localDatacenter: node.datacenter, localAddress: node.address };
}

/**
 * Which of `addresses` are down now, looked at again: the driver's view, and a TCP connect to each one's native
 * port (2 s). Used after a repair failed naming a dead endpoint, when the driver may not have noticed yet: a
 * stopped or partitioned node does not accept the connection.
 */
export async function downAmong(client: cassandra.Client, addresses: readonly string[]): Promise<string[]> {
  const options = (client as unknown as { options?: { protocolOptions?: { port?: number } } }).options;
  const port = options?.protocolOptions?.port ?? 9042;
  const checks = await Promise.all(
    [...new Set(addresses)].map(async (address) => {
      const host = driverHost(client, address);
      if (host && !host.isUp()) return address;
      const endpoint = host?.address ?? (address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`);
      return (await portAnswers(endpoint)) ? undefined : address;
    }),
  );
  return checks.filter((address): address is string => address !== undefined).sort();
}

/** The driver's Host object for an address, to pin node-local reads (size estimates) to that node. */
export function driverHost(client: cassandra.Client, address: string): cassandra.Host | undefined {
  for (const host of client.hosts.values()) if (hostOf(host.address) === address) return host;
  return undefined;
}
