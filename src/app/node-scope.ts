/**
 * `--node` (issue 18): which node a command acts for when the configuration names a group (`nodes:`).
 *
 * A per-node configuration (`node:`) acts for one node and takes no `--node`. A group configuration acts for each
 * node it covers: `--node` picks one (by broadcast address or host id), and the command then runs exactly as that
 * node's own per-node configuration would — `node:` set to it, the executor pointed at its endpoint (Jolokia URL or
 * JMX host and port, from the templates or the explicit map), so the reads, the leases and the history are the ones
 * that node's own tick uses.
 */
import type cassandra from 'cassandra-driver';
import type { NodeInfo } from '../core/index.js';
import { normalizeAddress } from '../core/running-repairs.js';
import type { TendConfig } from '../config/schema.js';
import { UsageError } from '../errors.js';
import { configForNode, nodeEndpoint, readGroupTopology, resolveGroup } from './group-tick.js';

/** One node a command acts for; `node` is absent for a per-node configuration (it acts for its `node:`). */
export interface ActingNode {
  readonly node: NodeInfo | undefined;
  readonly config: TendConfig;
}

/**
 * The configuration of one covered node: `node:` set to it (what the planner and the commands act for), the
 * executor at its endpoint. `nodes:` stays: it says tend runs on another host than the node (no local data
 * directory to statfs for back-pressure, the instance as lease holder for `lease release`).
 */
export function nodeConfig(config: TendConfig, node: NodeInfo): TendConfig {
  if (!config.nodes) return config;
  const narrowed = configForNode(config, nodeEndpoint(config, config.nodes, node));
  return { ...narrowed, node: { ...config.node, hostId: node.hostId, address: node.address } };
}

/** Whether `wanted` (an address or host id, as typed) names `node`. */
export function namesNode(node: NodeInfo, wanted: string): boolean {
  const value = wanted.trim();
  return (
    node.hostId.toLowerCase() === value.toLowerCase() || normalizeAddress(node.address) === normalizeAddress(value)
  );
}

/**
 * The nodes a command acts for: the configured one (`node:`), the group's node `--node` names, or without `--node`
 * under a group: every covered node (`without: 'all'`), the first one (`'any'`: what the command shows does not
 * depend on the node), or a usage error naming the covered nodes (`'refuse'`).
 */
export async function actingNodes(
  client: cassandra.Client,
  config: TendConfig,
  options: {
    readonly node: string | undefined;
    readonly without: 'all' | 'any' | 'refuse';
    readonly warn: (message: string) => void;
  },
): Promise<ActingNode[]> {
  if (!config.nodes) {
    if (options.node !== undefined) {
      throw new UsageError(
        `--node ${options.node}: this configuration acts for one node (node:); --node picks a node of a group configured with nodes:`,
      );
    }
    return [{ node: undefined, config }];
  }
  const covered = resolveGroup(await readGroupTopology(client, config), config.nodes, options.warn);
  const names = covered.map((n) => n.address).join(', ');
  if (options.node !== undefined) {
    const match = covered.find((n) => namesNode(n, options.node!));
    if (!match) {
      throw new UsageError(
        `--node ${options.node}: not a node instance ${config.nodes.instance} covers (it covers ${names})`,
      );
    }
    return [{ node: match, config: nodeConfig(config, match) }];
  }
  if (options.without === 'any') return [{ node: covered[0]!, config: nodeConfig(config, covered[0]!) }];
  if (options.without === 'refuse') {
    throw new UsageError(
      `instance ${config.nodes.instance} acts for several nodes (nodes:): name one with --node (one of ${names})`,
    );
  }
  return covered.map((node) => ({ node, config: nodeConfig(config, node) }));
}
