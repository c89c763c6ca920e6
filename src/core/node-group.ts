/**
 * Acting for a group of nodes (`nodes:`, issue 18): which nodes of the ring the group covers, where each one's
 * executor answers, and one batch made of the per-node plans. Pure: the tick reads the topology once, plans once per
 * covered node (the same planner, the same input but for the local node), and runs the merged batch.
 *
 * The merge keeps every node's own order (a k-way merge by priority), so the tasks a group tick runs for a node come
 * in the order that node's own tick would run them: per-node ticks and group ticks can share a cluster during a
 * migration and agree on what comes first.
 */
import type { NodeInfo } from './ring.js';
import type { RepairTask } from './planner.js';

export interface GroupScope {
  readonly datacenters?: readonly string[] | undefined;
  /** `DATACENTER:RACK`. */
  readonly racks?: readonly string[] | undefined;
  /** Addresses (any of a node's addresses) or host ids. */
  readonly hosts?: readonly string[] | undefined;
}

export interface CoveredNodes {
  /** The nodes the group acts for, by host id. */
  readonly nodes: readonly NodeInfo[];
  /** Entries of the scope that match no node of the ring (a typo, a decommissioned node): the operator is told. */
  readonly unmatched: readonly string[];
  /** Hosts listed twice under different names (an address and a host id of the same node). */
  readonly listedTwice: readonly string[];
}

/** The nodes of `ring` that `scope` names, sorted by host id (the order ties are broken in). */
export function coveredNodes(ring: readonly NodeInfo[], scope: GroupScope): CoveredNodes {
  const matched = new Map<string, NodeInfo>();
  const unmatched: string[] = [];
  const listedTwice: string[] = [];
  const add = (entry: string, found: readonly NodeInfo[]) => {
    if (found.length === 0) unmatched.push(entry);
    for (const node of found) {
      if (matched.has(node.hostId) && scope.hosts?.length) listedTwice.push(`${entry} (${node.hostId})`);
      matched.set(node.hostId, node);
    }
  };
  for (const dc of scope.datacenters ?? [])
    add(
      dc,
      ring.filter((n) => n.datacenter === dc),
    );
  for (const rack of scope.racks ?? []) {
    const at = rack.indexOf(':');
    const dc = rack.slice(0, at);
    const name = rack.slice(at + 1);
    add(
      rack,
      ring.filter((n) => n.datacenter === dc && n.rack === name),
    );
  }
  for (const host of scope.hosts ?? []) {
    const wanted = host.toLowerCase();
    add(
      host,
      ring.filter(
        (n) =>
          n.hostId.toLowerCase() === wanted ||
          n.address.toLowerCase() === wanted ||
          (n.aliases ?? []).some((a) => a.toLowerCase() === wanted),
      ),
    );
  }
  const nodes = [...matched.values()].sort((a, b) => (a.hostId < b.hostId ? -1 : a.hostId > b.hostId ? 1 : 0));
  return { nodes, unmatched, listedTwice };
}

export interface EndpointTemplates {
  /** `{address}` stands for the node's address. */
  readonly jolokiaUrl?: string | undefined;
  readonly nodetoolHost?: string | undefined;
  /** By address or host id. */
  readonly endpoints: Readonly<
    Record<
      string,
      { jolokiaUrl?: string | undefined; nodetoolHost?: string | undefined; nodetoolPort?: number | undefined }
    >
  >;
}

export interface NodeEndpoint {
  readonly jolokiaUrl: string;
  readonly nodetoolHost: string;
  readonly nodetoolPort: number;
}

/** An address as it goes in a URL's host (IPv6 in brackets). */
function urlHost(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

/**
 * Where `node`'s executor answers: its entry of `endpoints` (by host id, else by any of its addresses), else the
 * templates, else `defaults.jolokiaUrl` with its host replaced by the node's address and the node's address as JMX
 * host.
 */
export function endpointFor(
  node: Pick<NodeInfo, 'hostId' | 'address' | 'aliases'>,
  templates: EndpointTemplates,
  defaults: { readonly jolokiaUrl: string; readonly nodetoolPort: number },
): NodeEndpoint {
  const keys = Object.keys(templates.endpoints);
  const names = [node.hostId, node.address, ...(node.aliases ?? [])].map((name) => name.toLowerCase());
  const key = names.map((name) => keys.find((k) => k.toLowerCase() === name)).find((k) => k !== undefined);
  const own = key === undefined ? undefined : templates.endpoints[key];
  const fill = (template: string) => template.replaceAll('{address}', urlHost(node.address));
  let jolokiaUrl = own?.jolokiaUrl ?? (templates.jolokiaUrl ? fill(templates.jolokiaUrl) : undefined);
  if (jolokiaUrl === undefined) {
    const url = new URL(defaults.jolokiaUrl);
    url.hostname = urlHost(node.address);
    jolokiaUrl = url.toString();
  }
  const nodetoolHost = own?.nodetoolHost
    ? own.nodetoolHost.replaceAll('{address}', node.address)
    : (templates.nodetoolHost ?? '{address}').replaceAll('{address}', node.address);
  return { jolokiaUrl, nodetoolHost, nodetoolPort: own?.nodetoolPort ?? defaults.nodetoolPort };
}

export interface NodeTask {
  /** The covered node that coordinates the task (its executor runs it). */
  readonly hostId: string;
  readonly task: RepairTask;
}

/**
 * One batch from the per-node plans: a k-way merge, each step taking the head task of highest priority (ties: the
 * node listed first), so each node's tasks keep their plan order. A task is left out when an earlier one already
 * repairs every range of every table it would (two covered nodes replicate the same range: the first repair covers
 * both). At most `maxTasks`.
 */
export function mergeNodePlans(
  plans: readonly { readonly hostId: string; readonly tasks: readonly RepairTask[] }[],
  maxTasks: number,
): NodeTask[] {
  const heads = plans.map(() => 0);
  const merged: NodeTask[] = [];
  const covered = new Set<string>();
  const pieces = (task: RepairTask) =>
    task.tables.flatMap((table) => task.ranges.map((range) => `${task.keyspace}.${table} ${range.start} ${range.end}`));
  while (merged.length < maxTasks) {
    let best = -1;
    for (let i = 0; i < plans.length; i += 1) {
      const task = plans[i]!.tasks[heads[i]!];
      if (!task) continue;
      if (best < 0 || task.priority > plans[best]!.tasks[heads[best]!]!.priority) best = i;
    }
    if (best < 0) break;
    const task = plans[best]!.tasks[heads[best]!]!;
    heads[best] = heads[best]! + 1;
    const own = pieces(task);
    if (own.length > 0 && own.every((piece) => covered.has(piece))) continue;
    for (const piece of own) covered.add(piece);
    merged.push({ hostId: plans[best]!.hostId, task });
  }
  return merged;
}
