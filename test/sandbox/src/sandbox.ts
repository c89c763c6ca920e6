/**
 * The sandbox's verbs: up (idempotent), down (nothing left behind), status.
 */
import { rmSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import cassandra from 'cassandra-driver';
import {
  AUTO_REPAIR,
  CASSANDRA_MAJOR,
  CASSANDRA_VERSION,
  CONSUL,
  INSTANCE,
  SECURE,
  NODES,
  VNODES_PER_NODE,
  javaRuntime,
  paths,
  type SandboxNode,
} from './layout.js';
import { provision } from './provision.js';
import {
  nodeDaemon,
  nodeJavaArgs,
  stdoutLog,
  systemLog,
  writeNodeConfig,
  writeNodetoolWrapper,
} from './cassandra-node.js';
import { consulArgs, consulDaemon, consulHttpAddress, consulLeader, consulLog } from './consul.js';
import { runningPid, startDaemon, stopDaemon, tail, type Daemon } from './processes.js';
import { portOpen, waitFor, processAlive } from './wait.js';
import { log, SandboxError } from './log.js';
import { writeTendConfigs } from './tend-config.js';
import {
  ADMIN_USER,
  adminCqlOptions,
  bootstrapConsulAcl,
  ensureSecureMaterial,
  httpsRequest,
  jolokiaAuthorization,
  readSecretValue,
  securePaths,
  TEND_SYSTEM_GRANTS,
  TEND_USER,
  tendGrants,
} from './secure.js';

const NODE_START_TIMEOUT_MS = Number(process.env.TEND_SANDBOX_NODE_TIMEOUT_MS ?? 240_000);
const CLUSTER_READY_TIMEOUT_MS = 180_000;

function nodePorts(node: SandboxNode): [string, number][] {
  return [
    [node.address, node.nativePort],
    [node.address, node.storagePort],
    [node.jmxHost, node.jmxPort],
    [node.address, node.jolokiaPort],
  ];
}

/** A port that answers while our own daemon is not running belongs to someone else: say so plainly. */
async function assertPortsFree(daemon: Daemon, ports: [string, number][]): Promise<void> {
  if (runningPid(daemon) !== undefined) return;
  for (const [host, port] of ports) {
    if (await portOpen(host, port, 500)) {
      throw new SandboxError(
        `${host}:${port} is already in use by another process, so ${daemon.name} cannot start. ` +
          `Find it with: ss -ltnp 'sport = :${port}'`,
      );
    }
  }
}

/** What a running node was started with that the knobs can change between runs (see `startNode`). */
const startedWithFile = (node: SandboxNode) => join(paths.node(node), 'started-with.json');

function startedWith(node: SandboxNode): { autoRepair: boolean } {
  const file = startedWithFile(node);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { autoRepair: boolean }) : { autoRepair: false };
}

async function startNode(node: SandboxNode): Promise<void> {
  const daemon = nodeDaemon(node);
  if (runningPid(daemon) !== undefined && (await portOpen(node.address, node.nativePort))) {
    // A running node keeps the JVM flags it was started with: say so rather than pretend the knob took effect.
    if (startedWith(node).autoRepair !== AUTO_REPAIR) {
      const instance = INSTANCE === 0 ? '' : `TEND_SANDBOX_INSTANCE=${INSTANCE} `;
      throw new SandboxError(
        `${node.name} runs with AutoRepair ${AUTO_REPAIR ? 'off' : 'on'}, but TEND_SANDBOX_AUTOREPAIR asks for it ` +
          `${AUTO_REPAIR ? 'on' : 'off'}: stop the sandbox first (\`${instance}npm run sandbox -- down\`, the data stays)`,
      );
    }
    log(`${node.name} already running (${node.address}, ${node.datacenter}/${node.rack})`);
    return;
  }
  await assertPortsFree(daemon, nodePorts(node));
  writeNodeConfig(node);
  writeFileSync(startedWithFile(node), `${JSON.stringify({ autoRepair: AUTO_REPAIR })}\n`);
  rmSync(systemLog(node), { force: true });
  const started = Date.now();
  const pid = startDaemon(daemon, javaRuntime().java, nodeJavaArgs(node), stdoutLog(node), paths.node(node));
  log(`starting ${node.name} on ${node.address} (${node.datacenter}/${node.rack}), pid ${pid}`);
  await waitFor(
    `${node.name} to accept CQL on ${node.address}:${node.nativePort}`,
    NODE_START_TIMEOUT_MS,
    async () => {
      if (!processAlive(pid)) throw new SandboxError(`${node.name} exited during start-up`);
      return (await portOpen(node.address, node.nativePort)) ? true : undefined;
    },
    {
      intervalMs: 1000,
      onTimeout: () => nodeLogTail(node),
    },
  ).catch((error: Error) => {
    throw new SandboxError(`${error.message}\n${error.message.includes('system.log') ? '' : nodeLogTail(node)}`);
  });
  log(`${node.name} accepts CQL after ${Math.round((Date.now() - started) / 1000)}s`);
}

function nodeLogTail(node: SandboxNode): string {
  return [
    `--- last lines of ${systemLog(node)} ---`,
    tail(systemLog(node), 30),
    `--- last lines of ${stdoutLog(node)} ---`,
    tail(stdoutLog(node), 15),
  ].join('\n');
}

async function startConsul(): Promise<void> {
  const daemon = consulDaemon();
  if (runningPid(daemon) === undefined) {
    await assertPortsFree(daemon, [
      [CONSUL.address, CONSUL.httpPort],
      [CONSUL.address, CONSUL.serverPort],
      [CONSUL.address, CONSUL.serfLanPort],
      [CONSUL.address, CONSUL.serfWanPort],
    ]);
    const pid = startDaemon(daemon, paths.consulBinary(), consulArgs(), consulLog(), paths.consulState());
    log(`starting consul on ${CONSUL.address}:${CONSUL.httpPort}, pid ${pid}`);
  }
  const leader = await waitFor('Consul to elect a leader', 60_000, consulLeader, {
    onTimeout: () => `--- ${consulLog()} ---\n${tail(consulLog(), 20)}`,
  });
  log(`consul ready, leader ${leader}`);
  if (SECURE) {
    await bootstrapConsulAcl(consulHttpAddress());
    log(`consul ACLs: default deny; tend's token limited to keys under tend and sessions`);
  }
}

/** What each node itself says over CQL: its DC and rack, whether it bootstrapped, and which peers it sees. */
export interface NodeView {
  address: string;
  datacenter: string;
  rack: string;
  bootstrapped: string;
  releaseVersion: string;
  tokens: number;
  /** Gossip status of every endpoint as this node sees it (system_views.gossip_info), e.g. NORMAL. */
  gossip: Record<string, { status: string; dc: string }>;
}

/**
 * Driver options for the sandbox's own sessions: none in the default profile; in the secured one the superuser
 * over TLS (with tend's client certificate: the nodes require one).
 */
export function adminClientOptions(password?: string): Partial<cassandra.ClientOptions> {
  if (!SECURE) return {};
  const { credentials, sslOptions } = adminCqlOptions(password);
  return {
    authProvider: new cassandra.auth.PlainTextAuthProvider(credentials.username, credentials.password),
    sslOptions,
  };
}

/** A client that talks to one node only: its own DC as local, and an allow-list of its address. */
export function singleNodeClient(node: SandboxNode, password?: string): cassandra.Client {
  const { AllowListPolicy, DCAwareRoundRobinPolicy } = cassandra.policies.loadBalancing;
  const endpoint = `${node.address}:${node.nativePort}`;
  return new cassandra.Client({
    contactPoints: [endpoint],
    localDataCenter: node.datacenter,
    policies: { loadBalancing: new AllowListPolicy(new DCAwareRoundRobinPolicy(node.datacenter), [endpoint]) },
    socketOptions: { connectTimeout: 5000, readTimeout: 10_000 },
    ...adminClientOptions(password),
  });
}

async function nodeView(node: SandboxNode): Promise<NodeView> {
  const client = singleNodeClient(node);
  try {
    await client.connect();
    const local = (
      await client.execute('SELECT data_center, rack, bootstrapped, release_version, tokens FROM system.local')
    ).first();
    const gossip = await client.execute('SELECT address, status_with_port, dc FROM system_views.gossip_info');
    return {
      address: node.address,
      datacenter: local.get('data_center') as string,
      rack: local.get('rack') as string,
      bootstrapped: local.get('bootstrapped') as string,
      releaseVersion: local.get('release_version') as string,
      tokens: ((local.get('tokens') as string[] | null) ?? []).length,
      gossip: Object.fromEntries(
        gossip.rows.map((row) => [
          String(row.get('address')),
          { status: String(row.get('status_with_port') ?? '').split(',')[0] ?? '', dc: String(row.get('dc')) },
        ]),
      ),
    };
  } finally {
    await client.shutdown();
  }
}

export async function nodeViews(): Promise<NodeView[]> {
  return Promise.all(NODES.map(nodeView));
}

/** Up and Normal, checked over CQL: every node answers, has bootstrapped, and sees every endpoint NORMAL. */
async function waitForClusterNormal(): Promise<NodeView[]> {
  return waitFor(
    `all ${NODES.length} nodes to be Up/Normal (over CQL)`,
    CLUSTER_READY_TIMEOUT_MS,
    async () => {
      const views = await nodeViews();
      const ok = views.every(
        (v) => v.bootstrapped === 'COMPLETED' && NODES.every((n) => v.gossip[n.address]?.status === 'NORMAL'),
      );
      return ok ? views : undefined;
    },
    { intervalMs: 2000 },
  );
}

async function jolokiaOperationMode(node: SandboxNode): Promise<string | undefined> {
  const request = JSON.stringify({
    type: 'read',
    mbean: 'org.apache.cassandra.db:type=StorageService',
    attribute: 'OperationMode',
  });
  let text: string;
  if (SECURE) {
    const reply = await httpsRequest(`https://${node.address}:${node.jolokiaPort}/jolokia/`, {
      method: 'POST',
      body: request,
      headers: { authorization: jolokiaAuthorization() },
      timeoutMs: 3000,
    });
    if (reply.status !== 200) throw new Error(`Jolokia answered HTTP ${reply.status}`);
    text = reply.body;
  } else {
    const response = await fetch(`http://${node.address}:${node.jolokiaPort}/jolokia/`, {
      method: 'POST',
      body: request,
      signal: AbortSignal.timeout(3000),
    });
    text = await response.text();
  }
  const body = JSON.parse(text) as { status: number; value?: string };
  return body.status === 200 ? body.value : undefined;
}

/**
 * The superuser's password is the generated one: a fresh cluster has only `cassandra`/`cassandra` (created by
 * each node a few seconds after it starts, once a quorum of system_auth answers), which is changed here. Tried
 * until it works: the default role appears only after that delay.
 */
async function ensureAdminPassword(): Promise<void> {
  const node = NODES[0]!;
  const password = readSecretValue(securePaths.adminPassword());
  await waitFor(
    `the Cassandra superuser on ${node.address}`,
    CLUSTER_READY_TIMEOUT_MS,
    async () => {
      const client = singleNodeClient(node, password);
      try {
        await client.connect();
        return true;
      } catch (error) {
        if (!(error instanceof Error) || !/Authentication|credentials|password/i.test(describeDriverError(error)))
          throw error;
      } finally {
        await client.shutdown().catch(() => undefined);
      }
      const initial = singleNodeClient(node, 'cassandra');
      try {
        await initial.connect();
        await initial.execute(`ALTER ROLE ${ADMIN_USER} WITH PASSWORD = '${password}'`);
        log(`Cassandra superuser ${ADMIN_USER}: password set from ${securePaths.adminPassword()}`);
        return true;
      } finally {
        await initial.shutdown().catch(() => undefined);
      }
    },
    { intervalMs: 2000 },
  );
}

function describeDriverError(error: Error): string {
  const inner = (error as { innerErrors?: Record<string, unknown> }).innerErrors;
  return [error.message, ...Object.values(inner ?? {}).map((e) => (e instanceof Error ? e.message : String(e)))].join(
    '; ',
  );
}

/** tend's role, its grants and its (empty) keyspace; idempotent. See secure.ts, tendGrants. */
async function bootstrapCassandraRoles(): Promise<void> {
  const client = singleNodeClient(NODES[0]!);
  try {
    await client.connect();
    // Logins read roles at LOCAL_QUORUM. SimpleStrategy counts its quorum over all replicas, which dc2's single
    // node can never meet; per datacenter, with a replica on every node (as system_auth was created: see
    // secureJvmProperties), no data has to move.
    const perDatacenter = new Map<string, number>();
    for (const node of NODES) perDatacenter.set(node.datacenter, (perDatacenter.get(node.datacenter) ?? 0) + 1);
    const replication = [...perDatacenter].map(([dc, count]) => `'${dc}': ${count}`).join(', ');
    await client.execute(
      `ALTER KEYSPACE system_auth WITH replication = {'class': 'NetworkTopologyStrategy', ${replication}}`,
    );
    const password = readSecretValue(securePaths.cassandraPassword());
    await client.execute(`CREATE ROLE IF NOT EXISTS ${TEND_USER} WITH LOGIN = true AND PASSWORD = '${password}'`);
    await client.execute(
      `CREATE KEYSPACE IF NOT EXISTS tend WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 2, 'dc2': 1}`,
    );
    for (const statement of [...TEND_SYSTEM_GRANTS, ...tendGrants('tend')]) await client.execute(statement);
    log(`Cassandra role ${TEND_USER}: SELECT, MODIFY on keyspace tend; SELECT on system_distributed's repair history`);
  } finally {
    await client.shutdown();
  }
}

/** What a sandbox's data was created with; a node's tokens and its on-disk format are fixed at bootstrap. */
export interface SandboxManifest {
  cassandra: string;
  nodes: number;
  vnodes: number;
}

const wanted = (): SandboxManifest => ({
  cassandra: CASSANDRA_VERSION,
  nodes: NODES.length,
  vnodes: VNODES_PER_NODE,
});

const SETTING_NAMES: Record<keyof SandboxManifest, string> = {
  cassandra: 'TEND_SANDBOX_CASSANDRA',
  nodes: 'TEND_SANDBOX_NODES',
  vnodes: 'TEND_SANDBOX_VNODES',
};

/**
 * The state directory's manifest, or (for state written before manifests existed) the only settings that code
 * could create: Cassandra 5.0.8, three nodes, 16 vnodes. Undefined when there is no node data yet.
 */
export function readManifest(): SandboxManifest | undefined {
  if (existsSync(paths.manifest())) return JSON.parse(readFileSync(paths.manifest(), 'utf8')) as SandboxManifest;
  const hasData = [1, 2, 3, 4].some((i) => existsSync(join(paths.state(), `node${i}`, 'data')));
  return hasData ? { cassandra: '5.0.8', nodes: 3, vnodes: 16 } : undefined;
}

/**
 * Refuses to start nodes whose data disagrees with the knobs: a node keeps the tokens it bootstrapped with (a
 * different num_tokens or node count would give it other tokens, which Cassandra refuses or, worse, silently
 * ignores), and a 5.0 data directory cannot go back to 4.1. The message names the way out.
 */
export function checkManifest(): void {
  const existing = readManifest();
  const want = wanted();
  if (existing) {
    const differences = (Object.keys(want) as (keyof SandboxManifest)[])
      .filter((key) => String(existing[key]) !== String(want[key]))
      .map((key) => `${SETTING_NAMES[key]}=${want[key]} but the data was created with ${existing[key]}`);
    if (differences.length > 0) {
      const instance = INSTANCE === 0 ? '' : `TEND_SANDBOX_INSTANCE=${INSTANCE} `;
      throw new SandboxError(
        `the sandbox in ${paths.state()} does not match the requested settings: ${differences.join('; ')}. ` +
          `A node's tokens and data format are fixed when it first starts. Start afresh with ` +
          `\`${instance}npm run sandbox -- down --purge\` (deletes this sandbox's data), or use another instance ` +
          `(TEND_SANDBOX_INSTANCE=N).`,
      );
    }
  }
  mkdirSync(paths.state(), { recursive: true });
  writeFileSync(paths.manifest(), `${JSON.stringify(want, null, 2)}\n`);
}

export async function up(): Promise<void> {
  const started = Date.now();
  if (SECURE && CASSANDRA_MAJOR !== 5) {
    throw new SandboxError(
      `TEND_SANDBOX_SECURE=1 runs Cassandra 5.0.x (its PEM-based SSL context factory is what is tested), not ${CASSANDRA_VERSION}`,
    );
  }
  checkManifest();
  await provision();
  if (SECURE) await ensureSecureMaterial();
  writeNodetoolWrapper();
  writeTendConfigs();
  // Consul first: it is quick and independent, and its failure should not cost a Cassandra start.
  await startConsul();
  // Seed first, then the others one by one, as ccm does: concurrent joins race on gossip and on 2 cores
  // three JVMs starting at once are not faster anyway.
  for (const node of NODES) await startNode(node);
  if (SECURE) await ensureAdminPassword();
  const views = await waitForClusterNormal();
  if (SECURE) await bootstrapCassandraRoles();
  for (const view of views)
    log(`${view.address}: ${view.datacenter}/${view.rack}, Cassandra ${view.releaseVersion}, UN`);
  for (const node of NODES) {
    const mode = await waitFor(`Jolokia on ${node.address}:${node.jolokiaPort}`, 60_000, () =>
      jolokiaOperationMode(node),
    );
    log(`jolokia ${node.address}:${node.jolokiaPort} OperationMode=${mode}`);
  }
  log(`sandbox up in ${Math.round((Date.now() - started) / 1000)}s`);
}

export async function down(options: { purge: boolean }): Promise<void> {
  // Reverse order; SIGTERM runs Cassandra's drain hook, SIGKILL after a grace period so nothing is left behind.
  // Every node the data was created with, whatever the knobs say now (a fourth node is stopped too).
  const count = Math.max(NODES.length, readManifest()?.nodes ?? 0);
  const nodes = Array.from({ length: count }, (_, i) => NODES[i] ?? { ...NODES[0]!, name: `node${i + 1}` });
  for (const node of nodes.reverse()) {
    if (await stopDaemon(nodeDaemon(node), 60_000)) log(`stopped ${node.name}`);
  }
  if (await stopDaemon(consulDaemon(), 10_000)) log('stopped consul');
  if (options.purge && existsSync(paths.state())) {
    rmSync(paths.state(), { recursive: true, force: true });
    log(`removed ${paths.state()}`);
  }
}

export interface SandboxStatus {
  nodes: { name: string; address: string; pid: number | null; cql: boolean }[];
  consul: { pid: number | null; leader: string | null };
}

export async function status(): Promise<SandboxStatus> {
  const nodes = [];
  for (const node of NODES) {
    nodes.push({
      name: node.name,
      address: node.address,
      pid: runningPid(nodeDaemon(node)) ?? null,
      cql: await portOpen(node.address, node.nativePort),
    });
  }
  const leader = await consulLeader().catch(() => undefined);
  return { nodes, consul: { pid: runningPid(consulDaemon()) ?? null, leader: leader ?? null } };
}

/** Stops one node (for tests of failure handling); `up` starts it again. */
export async function stopNode(name: string): Promise<void> {
  const node = NODES.find((n) => n.name === name);
  if (!node) throw new SandboxError(`no sandbox node named ${name}; nodes are ${NODES.map((n) => n.name).join(', ')}`);
  await stopDaemon(nodeDaemon(node), 60_000);
}
