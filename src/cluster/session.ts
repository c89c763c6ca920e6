/**
 * The one place tend opens a Cassandra session: contact points, local datacenter, auth, TLS and timeouts that
 * fail fast. Every other adapter (topology, history, leases) takes the Client this returns.
 */
import cassandra from 'cassandra-driver';
import { ClusterUnavailable, ConfigError, describeTlsFailure } from '../errors.js';
import type { TendConfig } from '../config/schema.js';
import { readSecret, secretOrigins, type Env } from '../config/secrets.js';
import { readPemFile, readSecretFile } from '../config/files.js';

export type CassandraSettings = TendConfig['cassandra'];

export interface SessionOptions {
  /** Consistency for ordinary reads and writes; LWTs choose their serial level per call. */
  consistency?: number;
  /** Name in Cassandra's client list (`nodetool clientstats`), so operators can tell tend's sessions apart. */
  applicationName?: string;
}

function endpoint(contactPoint: string, port: number): string {
  return /:\d+$/.test(contactPoint) ? contactPoint : `${contactPoint}:${port}`;
}

async function sslOptions(tls: CassandraSettings['tls']): Promise<object | undefined> {
  if (!tls) return undefined;
  const read = async (path: string | undefined, what: string) => {
    if (!path) return undefined;
    try {
      return await readPemFile(path);
    } catch (error) {
      throw new ConfigError(`cassandra.tls.${what}: cannot read ${path}: ${(error as Error).message}`);
    }
  };
  return {
    ca: await read(tls.caFile, 'caFile'),
    cert: await read(tls.certFile, 'certFile'),
    key: await read(tls.keyFile, 'keyFile'),
    rejectUnauthorized: tls.rejectUnauthorized,
  };
}

/** The reasons a connection attempt failed: the driver's innerErrors by address, or the error itself. */
function causes(error: unknown): Array<[host: string | undefined, cause: unknown]> {
  const inner = (error as { innerErrors?: Record<string, unknown> }).innerErrors;
  if (inner && Object.keys(inner).length > 0) return Object.entries(inner);
  return [[undefined, error]];
}

/** Why each host refused, without credentials: the driver's innerErrors keyed by address. */
export function describeUnavailable(error: unknown): string {
  return causes(error)
    .map(([host, cause]) => {
      const reason =
        describeTlsFailure(cause, 'cassandra.tls')?.message ?? (cause instanceof Error ? cause.message : String(cause));
      return host === undefined ? reason : `${host}: ${reason}`;
    })
    .join('; ');
}

/** What to check, for the failures an operator fixes in tend.yml: TLS files, the role and its password. */
function unavailableHints(error: unknown): string[] {
  const hints = new Set<string>();
  for (const [, cause] of causes(error)) {
    const tls = describeTlsFailure(cause, 'cassandra.tls');
    if (tls) hints.add(tls.hint);
    else if ((cause as { name?: string }).name === 'AuthenticationError') {
      hints.add('check cassandra.auth.username and cassandra.auth.passwordFile (or TEND_CASSANDRA_PASSWORD)');
    }
  }
  return [...hints];
}

function isUnavailable(error: unknown): boolean {
  const name = (error as { name?: string }).name;
  return name === 'NoHostAvailableError' || name === 'OperationTimedOutError' || name === 'BusyConnectionError';
}

/** Wraps a driver failure in ClusterUnavailable (exit 5) when no node could answer; rethrows anything else. */
export function asClusterError(error: unknown, doing: string): never {
  if (isUnavailable(error)) {
    throw new ClusterUnavailable('cassandra', `${doing}: ${describeUnavailable(error)}`, {
      cause: error,
      hints: unavailableHints(error),
    });
  }
  throw error;
}

async function clientOptions(
  settings: CassandraSettings,
  env: Env,
  config: TendConfig,
): Promise<cassandra.ClientOptions> {
  const password = await readSecret(secretOrigins(config, env).cassandraPassword, env, (path) =>
    readSecretFile(path).catch((error: Error) => {
      throw new ConfigError(`cassandra.auth.passwordFile: cannot read ${path}: ${error.message}`);
    }),
  );
  const auth = settings.auth;
  if (auth && password === undefined) {
    throw new ConfigError(
      'cassandra.auth: a username is set but no password: set passwordFile or TEND_CASSANDRA_PASSWORD',
    );
  }
  return {
    contactPoints: settings.contactPoints.map((cp) => endpoint(cp, settings.port)),
    protocolOptions: { port: settings.port },
    authProvider: auth ? new cassandra.auth.PlainTextAuthProvider(auth.username, password!) : undefined,
    sslOptions: (await sslOptions(settings.tls)) as cassandra.ClientOptions['sslOptions'],
    socketOptions: {
      connectTimeout: settings.connectTimeout,
      readTimeout: settings.requestTimeout,
    },
    // One connection per host is plenty for a short-lived CLI, and keeps start-up cheap.
    pooling: { coreConnectionsPerHost: { 0: 1, 1: 1, 2: 0 } },
    // A CLI must not keep reconnecting to a dead node in the background after its work is done.
    policies: { reconnection: new cassandra.policies.reconnection.ConstantReconnectionPolicy(10_000) },
  };
}

/**
 * The datacenter of the node at the first contact point, for when the configuration does not name one. The
 * driver needs a local DC to route; asking the node itself is what an operator would do by hand.
 */
async function discoverLocalDatacenter(options: cassandra.ClientOptions): Promise<string> {
  const first = options.contactPoints![0]!;
  const probe = new cassandra.Client({
    ...options,
    contactPoints: [first],
    policies: {
      ...options.policies,
      loadBalancing: new cassandra.policies.loadBalancing.AllowListPolicy(
        new cassandra.policies.loadBalancing.RoundRobinPolicy(),
        [first],
      ),
    },
  });
  try {
    const row = (await probe.execute('SELECT data_center FROM system.local')).first();
    return row.get('data_center') as string;
  } catch (error) {
    asClusterError(error, `asking ${first} for its datacenter`);
  } finally {
    await probe.shutdown().catch(() => undefined);
  }
}

export async function openSession(
  config: TendConfig,
  env: Env,
  options: SessionOptions = {},
): Promise<cassandra.Client> {
  const settings = config.cassandra;
  const base = await clientOptions(settings, env, config);
  const localDataCenter = settings.localDatacenter ?? (await discoverLocalDatacenter(base));
  const client = new cassandra.Client({
    ...base,
    localDataCenter,
    applicationName: options.applicationName ?? 'tend',
    queryOptions: {
      consistency: options.consistency ?? cassandra.types.consistencies.localQuorum,
      prepare: true,
    },
  });
  try {
    await client.connect();
  } catch (error) {
    await client.shutdown().catch(() => undefined);
    asClusterError(error, `connecting to ${base.contactPoints!.join(', ')}`);
  }
  return client;
}

/**
 * Cassandra's clock, in ms since the epoch. History timestamps are written by coordinators, so "now" for
 * comparing against them comes from the cluster too: a skewed local clock cannot reorder the cluster's plan.
 */
export async function clusterNow(client: cassandra.Client): Promise<number> {
  try {
    const row = (await client.execute('SELECT toTimestamp(now()) AS now FROM system.local')).first();
    return (row.get('now') as Date).getTime();
  } catch (error) {
    asClusterError(error, 'reading the cluster clock');
  }
}

/**
 * Every row a query returns, all pages. `ResultSet.rows` holds only the first page (fetchSize rows, 5000 unless
 * set), and nothing in it says more pages exist: reading `.rows` of a query that can return more than a page
 * silently drops the rest. Use this for every multi-row read (the schema, leases, announcements, policies).
 */
export async function allRows(
  client: Pick<cassandra.Client, 'execute'>,
  query: string,
  params: unknown[] = [],
  options: cassandra.QueryOptions = {},
): Promise<cassandra.types.Row[]> {
  const result = await client.execute(query, params, options);
  const rows: cassandra.types.Row[] = [];
  for await (const row of result) rows.push(row);
  return rows;
}
