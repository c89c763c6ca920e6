/**
 * Opening and closing the Cassandra session for one command: load the configuration, connect (fail fast,
 * exit 5), check tend's schema version where the command uses tend's tables, always shut the session down.
 */
import type cassandra from 'cassandra-driver';
import type { TendConfig } from '../config/schema.js';
import { checkSchemaVersion } from '../cluster/tend-schema.js';
import { openCassandra } from './adapters.js';
import type { AppContext } from './context.js';
import { actingNodes, type ActingNode } from './node-scope.js';

export interface SessionUse {
  /** Check tend's schema version before running (default true). */
  readonly checkSchema?: boolean;
}

export async function withCluster<T>(
  deps: Pick<AppContext, 'loadConfig' | 'secret'>,
  work: (client: cassandra.Client, config: TendConfig) => Promise<T>,
  use: SessionUse = {},
): Promise<T> {
  // The configuration's warnings are logged once, by main() when it loads the configuration; not again here.
  const { config } = await deps.loadConfig();
  const client = await openCassandra(config, deps.secret);
  try {
    if (use.checkSchema ?? true) await checkSchemaVersion(client, config.cassandra.keyspace);
    return await work(client, config);
  } finally {
    await client.shutdown().catch(() => undefined);
  }
}

/** What a command did for one node it acts for (`node` absent under a per-node configuration). */
export interface NodeResult<T> {
  readonly node: ActingNode['node'];
  readonly result: T;
}

/**
 * withCluster for a command that acts for a node (`--node`, src/app/node-scope.ts): `work` runs once per node,
 * each time with that node's configuration. Under a group configuration (`nodes:`) without `--node`: see
 * actingNodes' `without`.
 */
export function withActingNodes<T>(
  deps: Pick<AppContext, 'loadConfig' | 'secret' | 'out'>,
  options: { readonly node: string | undefined; readonly without: 'all' | 'any' | 'refuse' },
  work: (client: cassandra.Client, config: TendConfig, node: ActingNode['node']) => Promise<T>,
  use: SessionUse = {},
): Promise<NodeResult<T>[]> {
  return withCluster(
    deps,
    async (client, config) => {
      const results: NodeResult<T>[] = [];
      const acting = await actingNodes(client, config, { ...options, warn: (message) => deps.out.warn(message) });
      for (const { node, config: nodeConfig } of acting) {
        results.push({ node, result: await work(client, nodeConfig, node) });
      }
      return results;
    },
    use,
  );
}
