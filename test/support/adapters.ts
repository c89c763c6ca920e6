/**
 * The adapters as a command opens them (src/app/adapters.ts), with secrets from a given environment: for tests
 * that exercise one adapter against the sandbox or a stand-in server.
 */
import type cassandra from 'cassandra-driver';
import {
  consulSettings,
  jolokiaSettings,
  openExecutor,
  openLeaseBackend,
  openRepairedStateReader,
} from '../../src/app/adapters.js';
import type { TendConfig } from '../../src/config/schema.js';
import { secretSource, type Env } from '../../src/config/secrets.js';
import { ConsulLeaseBackend } from '../../src/lease/index.js';
import { JolokiaClient, type Executor, type RepairedStateReader } from '../../src/repair/index.js';

export function executorFor(config: TendConfig, env: Env = {}): Promise<Executor> {
  return openExecutor(config, secretSource(config, env));
}

export function repairedStateFor(config: TendConfig, env: Env = {}): Promise<RepairedStateReader> {
  return openRepairedStateReader(config, secretSource(config, env));
}

export async function consulBackendFor(config: TendConfig, env: Env = {}): Promise<ConsulLeaseBackend> {
  return new ConsulLeaseBackend(await consulSettings(config, secretSource(config, env)));
}

export function leaseBackendFor(config: TendConfig, client: cassandra.Client, env: Env = {}) {
  return openLeaseBackend(config, secretSource(config, env), async () => client);
}

export async function jolokiaClientFor(config: TendConfig, env: Env = {}): Promise<JolokiaClient> {
  return new JolokiaClient(await jolokiaSettings(config, secretSource(config, env)));
}
