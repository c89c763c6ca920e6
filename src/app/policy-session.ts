/**
 * One Cassandra session for one policy or pause command: load the configuration, connect (fail fast, exit 5),
 * always shut down. (src/app/cluster-session.ts, being written for issue 4, does the same plus a schema version
 * check; the policy commands can switch to it once it lands.)
 */
import type cassandra from 'cassandra-driver';
import type { CommandDeps } from '../cli/types.js';
import type { TendConfig } from '../config/schema.js';
import { openSession } from '../cluster/session.js';

export async function withPolicySession<T>(
  deps: Pick<CommandDeps, 'loadConfig' | 'env'>,
  work: (client: cassandra.Client, config: TendConfig) => Promise<T>,
): Promise<T> {
  const { config } = await deps.loadConfig();
  const client = await openSession(config, deps.env);
  try {
    return await work(client, config);
  } finally {
    await client.shutdown().catch(() => undefined);
  }
}
