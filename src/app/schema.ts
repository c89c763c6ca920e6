/**
 * `tend schema print|apply`: tend's own keyspace as CQL for DBAs, and creating or migrating it. The statements and
 * migrations live with the Cassandra adapter (src/cluster/tend-schema.ts); this decides the keyspace's replication
 * from the configuration and opens the session.
 */
import { ConfigError } from '../errors.js';
import type { TendConfig } from '../config/schema.js';
import { applySchema, schemaStatements, TEND_SCHEMA_VERSION, type SchemaApplyResult } from '../cluster/tend-schema.js';
import { withCluster } from './cluster-session.js';
import type { AppContext } from './context.js';

/** cassandra.replication, else 3 replicas in the local datacenter; SimpleStrategy is never guessed. */
export function keyspaceReplication(cassandra: TendConfig['cassandra']): Record<string, string | number> {
  if (cassandra.replication && Object.keys(cassandra.replication).length > 0) {
    return { class: 'NetworkTopologyStrategy', ...cassandra.replication };
  }
  if (cassandra.localDatacenter) {
    return { class: 'NetworkTopologyStrategy', [cassandra.localDatacenter]: 3 };
  }
  throw new ConfigError('cannot tell how to replicate the tend keyspace', {
    problems: [
      'cassandra.replication: needed to print the keyspace definition; set it (for example {dc1: 3, dc2: 3}) or set cassandra.localDatacenter',
    ],
  });
}

export interface SchemaListing {
  readonly version: number;
  readonly keyspace: string;
  readonly replication: Record<string, string | number>;
  readonly statements: readonly string[];
}

/** The CQL of tend's keyspace and tables for `config`; contacts nothing. */
export function schemaListing(config: TendConfig): SchemaListing {
  const replication = keyspaceReplication(config.cassandra);
  return {
    version: TEND_SCHEMA_VERSION,
    keyspace: config.cassandra.keyspace,
    replication,
    statements: schemaStatements(config.cassandra.keyspace, replication),
  };
}

/** Creates or migrates tend's keyspace (idempotent); the schema version is not checked first, it is what changes. */
export function applyTendSchema(deps: Pick<AppContext, 'loadConfig' | 'secret'>): Promise<SchemaApplyResult> {
  return withCluster(
    deps,
    (client, config) => applySchema(client, config.cassandra.keyspace, keyspaceReplication(config.cassandra)),
    { checkSchema: false },
  );
}
