/** Builds the configured lease backend: Cassandra on the caller's session, or Consul with token and TLS. */
import type cassandra from 'cassandra-driver';
import { ConfigError } from '../errors.js';
import type { TendConfig } from '../config/schema.js';
import { readSecret, secretOrigins, type Env } from '../config/secrets.js';
import { readPemFile, readSecretFile } from '../config/files.js';
import { CassandraLeaseBackend } from './cassandra.js';
import { ConsulLeaseBackend } from './consul.js';
import type { LeaseBackend } from './types.js';

async function readConfigFile(path: string | undefined, what: string): Promise<Buffer | undefined> {
  if (!path) return undefined;
  try {
    return await readPemFile(path);
  } catch (error) {
    throw new ConfigError(`${what}: cannot read ${path}: ${(error as Error).message}`);
  }
}

export async function consulBackend(config: TendConfig, env: Env): Promise<ConsulLeaseBackend> {
  const consul = config.lease.consul;
  const token = await readSecret(secretOrigins(config, env).consulToken, env, (path) =>
    readSecretFile(path).catch((error: Error) => {
      throw new ConfigError(`lease.consul.tokenFile: cannot read ${path}: ${error.message}`);
    }),
  );
  const tls = consul.tls
    ? {
        ca: await readConfigFile(consul.tls.caFile, 'lease.consul.tls.caFile'),
        cert: await readConfigFile(consul.tls.certFile, 'lease.consul.tls.certFile'),
        key: await readConfigFile(consul.tls.keyFile, 'lease.consul.tls.keyFile'),
        rejectUnauthorized: consul.tls.rejectUnauthorized,
      }
    : undefined;
  return new ConsulLeaseBackend({
    address: consul.address,
    prefix: consul.prefix,
    requestTimeoutMs: config.cassandra.requestTimeout,
    ...(token ? { token } : {}),
    ...(consul.datacenter ? { datacenter: consul.datacenter } : {}),
    ...(tls ? { tls } : {}),
  });
}

/**
 * The configured backend. `session` is needed for the Cassandra backend (pass the tick's session; it stays
 * owned by the caller) and ignored for Consul.
 */
export async function openLeaseBackend(
  config: TendConfig,
  env: Env,
  session: () => Promise<cassandra.Client>,
): Promise<LeaseBackend> {
  if (config.lease.backend === 'consul') return consulBackend(config, env);
  return new CassandraLeaseBackend(await session(), {
    keyspace: config.cassandra.keyspace,
    scope: config.lease.scope,
    resolveTimeoutMs: config.cassandra.requestTimeout,
  });
}
