/**
 * The one place where tend's configuration becomes what each adapter takes: its own section, typed, with its
 * secret and files already read. Secrets come from a SecretSource (src/config/secrets.ts: each read once, when an
 * adapter first needs it, and registered for masking); PEM files are read bounded, and a file that cannot be read is
 * a ConfigError naming its key (exit 3), before anything connects. No adapter reads a file or sees TendConfig.
 */
import type cassandra from 'cassandra-driver';
import { ConfigError } from '../errors.js';
import type { TendConfig } from '../config/schema.js';
import { jmxPasswords, registerSecret, type SecretSource } from '../config/secrets.js';
import { readConfiguredText, readPemFile } from '../config/files.js';
import {
  openSession,
  pinnedSessions,
  type PinnedSessions,
  type SessionOptions,
  type SessionSettings,
} from '../cluster/session.js';
import { jolokiaUrlFor } from '../cluster/replica-load.js';
import {
  CassandraLeaseBackend,
  ConsulLeaseBackend,
  type CassandraLeaseOptions,
  type ConsulLeaseOptions,
  type LeaseBackend,
} from '../lease/index.js';
import {
  JolokiaClient,
  JolokiaExecutor,
  JolokiaRepairedState,
  NodetoolExecutor,
  NodetoolRepairedState,
  type Executor,
  type JolokiaClientOptions,
  type NodetoolConnection,
  type RepairedStateReader,
} from '../repair/index.js';

type PemFiles = { caFile?: string | undefined; certFile?: string | undefined; keyFile?: string | undefined };

/** Reads a PEM file the configuration names at `key`; ConfigError naming the key when it cannot. */
async function pem(
  path: string | undefined,
  key: string,
  read: (path: string) => Promise<Buffer>,
): Promise<Buffer | undefined> {
  if (!path) return undefined;
  try {
    return await read(path);
  } catch (error) {
    throw new ConfigError(`${key}: cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** The CA, certificate and key of a `tls` section (`section` is its dotted path). */
async function tlsFiles(tls: PemFiles & { rejectUnauthorized: boolean }, section: string, read = readPemFile) {
  return {
    ca: await pem(tls.caFile, `${section}.caFile`, read),
    cert: await pem(tls.certFile, `${section}.certFile`, read),
    key: await pem(tls.keyFile, `${section}.keyFile`, read),
    rejectUnauthorized: tls.rejectUnauthorized,
  };
}

/** cassandra.*: contact points, the password, TLS files, timeouts. */
export async function cassandraSettings(config: TendConfig, secret: SecretSource): Promise<SessionSettings> {
  const cassandra = config.cassandra;
  const password = await secret('cassandraPassword');
  if (cassandra.auth && password === undefined) {
    throw new ConfigError(
      'cassandra.auth: a username is set but no password: set passwordFile or TEND_CASSANDRA_PASSWORD',
    );
  }
  return {
    contactPoints: cassandra.contactPoints,
    port: cassandra.port,
    localDatacenter: cassandra.localDatacenter,
    auth: cassandra.auth ? { username: cassandra.auth.username, password: password! } : undefined,
    tls: cassandra.tls ? await tlsFiles(cassandra.tls, 'cassandra.tls') : undefined,
    connectTimeoutMs: cassandra.connectTimeout,
    requestTimeoutMs: cassandra.requestTimeout,
  };
}

/** A connected Cassandra session for `config` (see openSession); shut it down when done. */
export async function openCassandra(
  config: TendConfig,
  secret: SecretSource,
  options: SessionOptions = {},
): Promise<cassandra.Client> {
  return openSession(await cassandraSettings(config, secret), options);
}

/** lease.consul.*: address, prefix, token, TLS files; one request limit for every outside system (requestTimeout). */
export async function consulSettings(config: TendConfig, secret: SecretSource): Promise<ConsulLeaseOptions> {
  const consul = config.lease.consul;
  const token = await secret('consulToken');
  return {
    address: consul.address,
    prefix: consul.prefix,
    requestTimeoutMs: config.cassandra.requestTimeout,
    ...(token ? { token } : {}),
    ...(consul.datacenter ? { datacenter: consul.datacenter } : {}),
    ...(consul.tls ? { tls: await tlsFiles(consul.tls, 'lease.consul.tls') } : {}),
  };
}

/** Sessions to one node each, for node-local reads of the replicas (running repairs, back-pressure). */
export async function openPinnedSessions(config: TendConfig, secret: SecretSource): Promise<PinnedSessions> {
  return pinnedSessions(await cassandraSettings(config, secret));
}

/** The Cassandra lease backend's own settings (it runs on the caller's session). */
export function cassandraLeaseSettings(config: TendConfig): CassandraLeaseOptions {
  return {
    keyspace: config.cassandra.keyspace,
    scope: config.lease.scope,
    resolveTimeoutMs: config.cassandra.requestTimeout,
  };
}

/**
 * The configured lease backend. `session` is asked for only by the Cassandra backend (pass the command's session; it
 * stays owned by the caller).
 */
export async function openLeaseBackend(
  config: TendConfig,
  secret: SecretSource,
  session: () => Promise<cassandra.Client>,
): Promise<LeaseBackend> {
  if (config.lease.backend === 'consul') return new ConsulLeaseBackend(await consulSettings(config, secret));
  return new CassandraLeaseBackend(await session(), cassandraLeaseSettings(config));
}

/** executor.jolokia.*: URL, user and password, TLS files. */
export async function jolokiaSettings(
  config: TendConfig,
  secret: SecretSource,
  read: (path: string) => Promise<Buffer> = readPemFile,
): Promise<JolokiaClientOptions> {
  const jolokia = config.executor.jolokia;
  return {
    url: jolokia.url,
    // One request limit for every outside system an operator configures: Cassandra's (Consul uses it too).
    requestTimeoutMs: config.cassandra.requestTimeout,
    user: jolokia.user,
    password: await secret('jolokiaPassword'),
    tls: jolokia.tls ? await tlsFiles(jolokia.tls, 'executor.jolokia.tls', read) : undefined,
  };
}

/**
 * One Jolokia client per replica, made on first use: repair.backPressure.jolokiaUrl with the replica's address (or
 * executor.jolokia.url with its host replaced), with executor.jolokia's user, password and TLS.
 */
export function replicaJolokia(config: TendConfig, secret: SecretSource): (address: string) => Promise<JolokiaClient> {
  const clients = new Map<string, Promise<JolokiaClient>>();
  return (address) => {
    let client = clients.get(address);
    if (!client) {
      const url = jolokiaUrlFor(config, address);
      client = jolokiaSettings(config, secret).then((settings) => new JolokiaClient({ ...settings, url }));
      clients.set(address, client);
    }
    return client;
  };
}

/**
 * executor.nodetool.*. nodetool reads its password file itself (-pwf), so tend never holds that password; it reads
 * the file only to register its passwords as secrets, so that nodetool's output echoing one is masked like every
 * other outside text. An unreadable file is nodetool's to report.
 */
export async function nodetoolSettings(
  config: TendConfig,
  read: (path: string) => Promise<string> = readConfiguredText,
): Promise<NodetoolConnection> {
  const nodetool = config.executor.nodetool;
  if (nodetool.passwordFile) {
    const content = await read(nodetool.passwordFile).catch(() => '');
    for (const password of jmxPasswords(content, nodetool.user)) registerSecret(password);
  }
  return {
    path: nodetool.path,
    host: nodetool.host,
    port: nodetool.port,
    user: nodetool.user,
    passwordFile: nodetool.passwordFile,
  };
}

/** The Executor the configuration names (executor.type). */
export async function openExecutor(config: TendConfig, secret: SecretSource): Promise<Executor> {
  if (config.executor.type === 'jolokia') {
    return new JolokiaExecutor({ client: new JolokiaClient(await jolokiaSettings(config, secret)) });
  }
  return new NodetoolExecutor({ connection: await nodetoolSettings(config) });
}

/** Reads percentRepaired / maxRepairedAt the way the configured executor reaches the node. */
export async function openRepairedStateReader(config: TendConfig, secret: SecretSource): Promise<RepairedStateReader> {
  if (config.executor.type === 'jolokia') {
    return new JolokiaRepairedState(new JolokiaClient(await jolokiaSettings(config, secret)));
  }
  return new NodetoolRepairedState(await nodetoolSettings(config));
}
