/** Validated tend configurations for the sandbox's nodes, as the real loader would produce them. */
import { validateConfig } from '../../src/config/validate.js';
import type { TendConfig } from '../../src/config/schema.js';
import type cassandra from 'cassandra-driver';
import { applySchema } from '../../src/cluster/tend-schema.js';
import { keyspaceReplication } from '../../src/app/schema.js';
import { openCassandra } from '../../src/app/adapters.js';
import { secretSource, type Env } from '../../src/config/secrets.js';
import { NODES } from '../sandbox/src/layout.js';
import { tendConfig } from '../sandbox/src/tend-config.js';

export function sandboxTendConfig(
  index = 1,
  overrides: Parameters<typeof tendConfig>[1] = {},
  patch: (raw: ReturnType<typeof tendConfig>) => void = () => undefined,
): TendConfig {
  const raw = tendConfig(NODES[index - 1]!, overrides);
  patch(raw);
  const result = validateConfig(raw, { env: {} });
  if (!result.config) throw new Error(`sandbox config does not validate: ${result.errors.join('; ')}`);
  return result.config;
}

/**
 * `tend schema apply` for a configuration's keyspace (idempotent). Tests that use the sandbox's own configuration
 * (keyspace `tend`) call it first: on a brand-new sandbox nothing else has created it (`npm run demo` does, which is
 * why a reused sandbox hid the missing step).
 */
export async function ensureTendSchema(client: cassandra.Client, config: TendConfig): Promise<void> {
  await applySchema(client, config.cassandra.keyspace, keyspaceReplication(config.cassandra));
}

/** A Cassandra session for `config`, opened as a command opens it (its secrets from `env`). */
export function openTestSession(config: TendConfig, env: Env = {}): Promise<cassandra.Client> {
  return openCassandra(config, secretSource(config, env));
}
