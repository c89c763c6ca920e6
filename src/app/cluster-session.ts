/**
 * Opening and closing the Cassandra session for one command: load the configuration, connect (fail fast,
 * exit 5), check tend's schema version where the command uses tend's tables, always shut the session down.
 */
import type cassandra from 'cassandra-driver';
import type { CommandDeps } from '../cli/types.js';
import type { TendConfig } from '../config/schema.js';
import { checkSchemaVersion } from '../cluster/schema.js';
import { openSession } from '../cluster/session.js';

export interface SessionUse {
  /** Check tend's schema version before running (default true). */
  readonly checkSchema?: boolean;
}

export async function withCluster<T>(
  deps: Pick<CommandDeps, 'loadConfig' | 'env'>,
  work: (client: cassandra.Client, config: TendConfig) => Promise<T>,
  use: SessionUse = {},
): Promise<T> {
  // The configuration's warnings are logged once, by main() when it loads the configuration; not again here.
  const { config } = await deps.loadConfig();
  const client = await openSession(config, deps.env);
  try {
    if (use.checkSchema ?? true) await checkSchemaVersion(client, config.cassandra.keyspace);
    return await work(client, config);
  } finally {
    await client.shutdown().catch(() => undefined);
  }
}
