/**
 * The one place tend opens a Cassandra session: contact points, local datacenter, auth, TLS and timeouts that
 * fail fast. Every other adapter (topology, history, leases) takes the Client this returns.
 */
import cassandra from 'cassandra-driver';
import { ClusterUnavailable, ConfigError, describeTlsFailure, RequestRefused, TendError } from '../errors.js';
import { externalMessage } from '../output/sanitize.js';
import { timerDelay } from '../timers.js';
import { requireSupportedCassandra } from './cassandra-version.js';
import { beginActivity } from '../activity.js';

/**
 * What a session needs, with its secret and files already read (src/app/adapters.ts builds it from the
 * configuration): this adapter reads no file and knows nothing of the rest of tend.yml.
 */
export interface SessionSettings {
  readonly contactPoints: readonly string[];
  readonly port: number;
  /** undefined: ask the first contact point for its datacenter. */
  readonly localDatacenter?: string | undefined;
  readonly auth?: { readonly username: string; readonly password: string } | undefined;
  readonly tls?:
    | {
        readonly ca?: Buffer | undefined;
        readonly cert?: Buffer | undefined;
        readonly key?: Buffer | undefined;
        readonly rejectUnauthorized: boolean;
      }
    | undefined;
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
}

export interface SessionOptions {
  /** Consistency for ordinary reads and writes; LWTs choose their serial level per call. */
  consistency?: number;
  /** Name in Cassandra's client list (`nodetool clientstats`), so operators can tell tend's sessions apart. */
  applicationName?: string;
}

function endpoint(contactPoint: string, port: number): string {
  return /:\d+$/.test(contactPoint) ? contactPoint : `${contactPoint}:${port}`;
}

/** The fields of a driver error tend looks at. */
export interface DriverErrorShape {
  readonly name?: string;
  readonly message?: string;
  readonly code?: number;
  readonly writeType?: string;
  readonly innerErrors?: Record<string, unknown>;
}

/**
 * The driver's own error behind `error`: itself when it comes straight from the driver, or the cause of the
 * TendError the session wrapped it in. For code that decides by the driver's error code (LWT outcomes, the
 * EACH_QUORUM fallback); undefined for anything else.
 */
export function driverErrorOf(error: unknown): DriverErrorShape | undefined {
  if (error instanceof cassandra.errors.DriverError) return error as DriverErrorShape;
  if (error instanceof TendError && error.cause instanceof cassandra.errors.DriverError) {
    return error.cause as DriverErrorShape;
  }
  return undefined;
}

/**
 * Why each host failed, as one line of outside text: the driver's innerErrors keyed by address (their messages
 * without the stack traces the driver puts into NoHostAvailableError's own message), secrets masked.
 */
export function describeUnavailable(error: unknown): string {
  return causes(error)
    .map(([host, cause]) => {
      const reason = describeTlsFailure(cause, 'cassandra.tls')?.message ?? externalMessage(cause, 300);
      return host === undefined ? reason : `${host}: ${reason}`;
    })
    .join('; ');
}

/** The reasons a request failed: the driver's innerErrors by address, or the error itself. */
function causes(error: unknown): Array<[host: string | undefined, cause: unknown]> {
  const driver = driverErrorOf(error) ?? (error as DriverErrorShape);
  const inner = driver?.innerErrors;
  if (inner && Object.keys(inner).length > 0) return Object.entries(inner);
  return [[undefined, driver ?? error]];
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

const CODES = cassandra.types.responseErrorCodes;

/**
 * Requests Cassandra refused as wrong (not as "cannot now"): retrying later would not help, and it is not an
 * outage. Everything else the driver throws — no host, timeouts, unavailable, overloaded, bootstrapping, read or
 * write failures, server errors, a closed connection — means Cassandra could not serve the request: exit 5.
 */
const REFUSED_CODES: ReadonlySet<number> = new Set([
  CODES.syntaxError,
  CODES.invalid,
  CODES.configError,
  CODES.alreadyExists,
  CODES.unprepared,
  CODES.functionFailure,
  CODES.unauthorized,
]);
const REFUSED_NAMES: ReadonlySet<string> = new Set(['ArgumentError', 'NotSupportedError', 'VIntOutOfRangeException']);

/**
 * The one mapping from a driver error to tend's errors, used for every request of a session (see `openSession`):
 * ClusterUnavailable (exit 5) when Cassandra could not serve it, RequestRefused (exit 1) when it refused it,
 * both naming Cassandra and what tend was doing, with the driver's text reduced to one sanitised line. Anything
 * that is not a driver error (one of tend's own, a programming error) passes through unchanged.
 */
export function cassandraError(error: unknown, doing: string): unknown {
  if (error instanceof TendError || !(error instanceof cassandra.errors.DriverError)) return error;
  const driver = error as DriverErrorShape;
  const refused = (driver.code !== undefined && REFUSED_CODES.has(driver.code)) || REFUSED_NAMES.has(driver.name ?? '');
  if (refused) {
    return new RequestRefused('cassandra', `${doing}: ${describeUnavailable(error)}`, {
      cause: error,
      ...(driver.code === CODES.unauthorized
        ? { hints: ["grant tend's role the permissions it needs on the keyspaces it reads and tend's own"] }
        : {}),
    });
  }
  const hints = unavailableHints(error);
  return new ClusterUnavailable('cassandra', `${doing}: ${describeUnavailable(error)}`, {
    cause: error,
    ...(hints.length > 0 ? { hints } : {}),
  });
}

/** Throws the mapped error (see `cassandraError`). */
export function asClusterError(error: unknown, doing: string): never {
  throw cassandraError(error, doing);
}

/**
 * What a CQL statement does, for messages: `reading tend.repair_state`, `writing tend.leases`, `changing the
 * schema`. Bound values never appear (tend passes them as parameters).
 */
export function describeStatement(query: unknown): string {
  const text = typeof query === 'string' ? query.replace(/\s+/g, ' ').trim() : '';
  const name = '((?:"(?:[^"]|"")+"|[\\w$]+)(?:\\.(?:"(?:[^"]|"")+"|[\\w$]+))?)';
  const patterns: Array<[RegExp, string]> = [
    [new RegExp(`^SELECT\\b.*?\\bFROM ${name}`, 'i'), 'reading'],
    [new RegExp(`^INSERT INTO ${name}`, 'i'), 'writing'],
    [new RegExp(`^UPDATE ${name}`, 'i'), 'writing'],
    [new RegExp(`^DELETE\\b.*?\\bFROM ${name}`, 'i'), 'deleting from'],
  ];
  for (const [pattern, verb] of patterns) {
    const match = pattern.exec(text);
    if (match) return `${verb} ${match[1]!}`;
  }
  if (/^BEGIN\b|^APPLY\b/i.test(text)) return 'writing a batch';
  if (/^(CREATE|ALTER|DROP|TRUNCATE)\b/i.test(text)) return 'changing the schema';
  return 'a CQL request';
}

/** Replaces a ResultSet's next-page function so that the pages after the first are mapped like the first. */
function mapPages<T>(result: T, doing: string): T {
  const rs = result as { nextPageAsync?: (state: unknown) => Promise<unknown> };
  const next = rs?.nextPageAsync;
  if (typeof next === 'function') {
    rs.nextPageAsync = (state: unknown) =>
      next.call(rs, state).then(
        (page) => mapPages(page, doing),
        (error: unknown) => {
          throw cassandraError(error, doing);
        },
      );
  }
  return result;
}

/**
 * The client every adapter gets: the driver's, with the errors of execute and batch (and of every later page)
 * mapped by `cassandraError`. One mechanism instead of a try/catch at each call site: a schema-version check or a
 * history read that meets a timeout ends with exit 5 naming Cassandra, not exit 1 with the driver's text.
 */
export function guardClient(client: cassandra.Client): cassandra.Client {
  const guarded: Record<string, (...args: unknown[]) => unknown> = {
    execute: (...args) => {
      const doing = describeStatement(args[0]);
      const end = beginActivity(`Cassandra: ${doing}`);
      return (client.execute as (...a: unknown[]) => Promise<unknown>)
        .apply(client, args)
        .then(
          (result) => mapPages(result, doing),
          (error: unknown) => {
            throw cassandraError(error, doing);
          },
        )
        .finally(end);
    },
    batch: (...args) => {
      const end = beginActivity('Cassandra: writing a batch');
      return (client.batch as (...a: unknown[]) => Promise<unknown>)
        .apply(client, args)
        .catch((error: unknown) => {
          throw cassandraError(error, 'writing a batch');
        })
        .finally(end);
    },
  };
  return new Proxy(client, {
    get(target, property, receiver) {
      if (typeof property === 'string' && Object.hasOwn(guarded, property)) return guarded[property];
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

function clientOptions(settings: SessionSettings): cassandra.ClientOptions {
  const { auth, tls } = settings;
  return {
    contactPoints: settings.contactPoints.map((cp) => endpoint(cp, settings.port)),
    protocolOptions: { port: settings.port },
    authProvider: auth ? new cassandra.auth.PlainTextAuthProvider(auth.username, auth.password) : undefined,
    sslOptions: tls
      ? ({
          ca: tls.ca,
          cert: tls.cert,
          key: tls.key,
          rejectUnauthorized: tls.rejectUnauthorized,
        } as cassandra.ClientOptions['sslOptions'])
      : undefined,
    // Clamped: the driver's timers are plain Node timers, which fire at once above 24.8 days.
    socketOptions: {
      connectTimeout: timerDelay(settings.connectTimeoutMs),
      readTimeout: timerDelay(settings.requestTimeoutMs),
    },
    // One connection per host is plenty for a short-lived CLI, and keeps start-up cheap.
    pooling: { coreConnectionsPerHost: { 0: 1, 1: 1, 2: 0 } },
    // A CLI must not keep reconnecting to a dead node in the background after its work is done.
    policies: { reconnection: new cassandra.policies.reconnection.ConstantReconnectionPolicy(10_000) },
  };
}

interface DriverConnection {
  closeAsync?: () => Promise<void>;
}

interface DriverControlConnection {
  connection?: DriverConnection | null;
  shutdown?: () => void;
  _createConnection?: (contactPoint: string) => Promise<DriverConnection>;
}

/**
 * Connects `client`, and on failure closes everything the driver opened. The driver's shutdown() does nothing on
 * a client that never connected, and its control connection (driver 4.10) keeps the socket of every contact point
 * whose topology it could not use, such as one where the configured localDataCenter does not exist: the process
 * then stayed alive after its error, with those sockets open, until systemd or the operator killed it. So every
 * connection the control connection creates is noted, and those it does not keep are closed — after a failure
 * all of them, after a success the ones it gave up on. (It reaches into the driver's control connection; the
 * test of a misspelt datacenter fails if a driver upgrade changes that.)
 */
async function connectOrClose(client: cassandra.Client): Promise<void> {
  const control = (client as unknown as { controlConnection?: DriverControlConnection }).controlConnection;
  const opened: DriverConnection[] = [];
  const create = control?._createConnection?.bind(control);
  if (control && create) {
    control._createConnection = async (contactPoint: string) => {
      const connection = await create(contactPoint);
      opened.push(connection);
      return connection;
    };
  }
  const close = (connections: DriverConnection[]) =>
    Promise.all(connections.map((connection) => connection.closeAsync?.().catch(() => undefined)));
  try {
    await client.connect();
  } catch (error) {
    control?.shutdown?.();
    await close(opened);
    await client.shutdown().catch(() => undefined);
    throw error;
  }
  await close(opened.filter((connection) => connection !== control?.connection));
}

/** The driver's refusal of a localDataCenter that no node has, as the configuration error it is (exit 3). */
export function unknownDatacenter(error: unknown, configured: string | undefined): ConfigError | undefined {
  if (configured === undefined) return undefined;
  const inner = driverErrorOf(error)?.innerErrors ?? {};
  for (const cause of Object.values(inner)) {
    const found = /but only found hosts in data centers: \[(.*)\]/.exec(String((cause as Error)?.message ?? ''));
    if (found) {
      // Sorted: the driver lists them in the order it met the hosts, which differs from run to run.
      const datacenters = found[1]!
        .split(',')
        .map((name) => name.trim())
        .filter((name) => name !== '')
        .sort()
        .join(', ');
      return new ConfigError(`cassandra.localDatacenter: ${configured} is not a datacenter of the cluster`, {
        problems: [
          `cassandra.localDatacenter: expected one of the cluster's datacenters (${datacenters}), found "${configured}"`,
        ],
        cause: error,
      });
    }
  }
  return undefined;
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
  const doing = `asking ${first} for its datacenter`;
  try {
    await connectOrClose(probe);
    const row = (await probe.execute('SELECT data_center FROM system.local')).first();
    return row.get('data_center') as string;
  } catch (error) {
    asClusterError(error, doing);
  } finally {
    await probe.shutdown().catch(() => undefined);
  }
}

/**
 * A connected session for `config`, failing fast: ClusterUnavailable (exit 5) when no contact point answers,
 * ConfigError (exit 3) for a localDatacenter the cluster does not have. Every request of the returned client maps
 * driver errors the one way (`guardClient`). Shut it down when done.
 */
export async function openSession(settings: SessionSettings, options: SessionOptions = {}): Promise<cassandra.Client> {
  const base = clientOptions(settings);
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
    await connectOrClose(client);
  } catch (error) {
    throw (
      unknownDatacenter(error, settings.localDatacenter) ??
      cassandraError(error, `connecting to ${base.contactPoints!.join(', ')}`)
    );
  }
  const guarded = guardClient(client);
  // Before anything is read or repaired: every node must run a release tend knows (4.1.x or 5.0.x).
  await requireSupportedCassandra(guarded).catch(async (error: unknown) => {
    await guarded.shutdown().catch(() => undefined);
    throw error;
  });
  return guarded;
}

/**
 * Sessions that each talk to one node only, opened on first use and kept until `close()`: for node-local reads
 * (system_views) of nodes the main session has no connection to. The main session's load-balancing policy keeps
 * connections to the local datacenter only, so a query pinned to a remote node fails there ("All host(s) tried").
 */
export interface PinnedSessions {
  clientFor(address: string): Promise<cassandra.Client>;
  close(): Promise<void>;
}

export function pinnedSessions(settings: SessionSettings): PinnedSessions {
  const open = new Map<string, Promise<cassandra.Client>>();
  return {
    clientFor(address) {
      let client = open.get(address);
      if (!client) {
        client = (async () => {
          const base = clientOptions(settings);
          const contact = endpoint(address, settings.port);
          const single = new cassandra.Client({
            ...base,
            contactPoints: [contact],
            applicationName: 'tend',
            policies: {
              ...base.policies,
              loadBalancing: new cassandra.policies.loadBalancing.AllowListPolicy(
                new cassandra.policies.loadBalancing.RoundRobinPolicy(),
                [contact],
              ),
            },
          });
          try {
            await connectOrClose(single);
          } catch (error) {
            throw cassandraError(error, `connecting to ${contact}`);
          }
          return guardClient(single);
        })();
        open.set(address, client);
      }
      return client;
    },
    async close() {
      const clients = await Promise.allSettled(open.values());
      open.clear();
      await Promise.all(
        clients.map((c) => (c.status === 'fulfilled' ? c.value.shutdown().catch(() => undefined) : undefined)),
      );
    },
  };
}

/**
 * Cassandra's clock, in ms since the epoch. History timestamps are written by coordinators, so "now" for
 * comparing against them comes from the cluster too: a skewed local clock cannot reorder the cluster's plan.
 */
export async function clusterNow(client: cassandra.Client): Promise<number> {
  const row = (await client.execute('SELECT toTimestamp(now()) AS now FROM system.local')).first();
  return (row.get('now') as Date).getTime();
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
