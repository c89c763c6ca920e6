/**
 * One Cassandra session for one policy or pause command: load the configuration, connect (fail fast, exit 5),
 * check tend's schema version (the commands write tend's tables), always shut down.
 *
 * Like withCluster (cluster-session.ts), without logging the configuration's warnings a second time: main()
 * already logs them once for every command.
 */
import type cassandra from 'cassandra-driver';
import type { CommandDeps } from '../cli/types.js';
import type { TendConfig } from '../config/schema.js';
import { checkSchemaVersion } from '../cluster/tend-schema.js';
import { openSession } from '../cluster/session.js';

export async function withPolicySession<T>(
  deps: Pick<CommandDeps, 'loadConfig' | 'env'>,
  work: (client: cassandra.Client, config: TendConfig) => Promise<T>,
): Promise<T> {
  const { config } = await deps.loadConfig();
  const client = await openSession(config, deps.env);
  try {
    await checkSchemaVersion(client, config.cassandra.keyspace);
    return await work(client, config);
  } finally {
    await client.shutdown().catch(() => undefined);
  }
}
