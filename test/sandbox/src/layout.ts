/**
 * Where the sandbox lives and how it is laid out: three (or four) Cassandra nodes and one Consul agent, all on
 * loopback, chosen by environment variables read once when this module loads:
 *
 * - TEND_SANDBOX_INSTANCE=N (default 0): which sandbox. Instance 0 is the original layout (nodes on 127.0.0.1–3,
 *   JMX 7100/7200/7300, state in <cache>/cluster). Instance N ≥ 1 puts its nodes on 127.0.N.1–3, Consul on
 *   127.0.N.1 (same ports: it binds that address), JMX on 7000 + N×1000 + i×100 (JMX always binds 127.0.0.1, so
 *   every instance needs its own ports) and its state in <cache>/cluster-N (cluster-N-VERSION for a release other
 *   than the default). Several instances run side by side.
 * - TEND_SANDBOX_CASSANDRA (default 5.0.8, or 4.1.x): which Cassandra release from Maven Central. 4.1 runs on a
 *   Java 11 runtime the sandbox fetches from Debian's archive (see provision.ts).
 * - TEND_SANDBOX_NODES (3 or 4), TEND_SANDBOX_VNODES (default 16), TEND_SANDBOX_HEAP (default 1G).
 * - TEND_SANDBOX_AUTOREPAIR=1 (default off; 5.0.7 and later): every node starts with Cassandra's own scheduled
 *   repair (CEP-37) on: `-Dcassandra.autorepair.enable=true` and an `auto_repair` section in cassandra.yaml that
 *   runs full repairs (see cassandra-node.ts). For tests of tend beside AutoRepair; it repairs every table.
 * - TEND_SANDBOX_SECURE=1: the secured profile (see secure.ts): password authentication and authorization,
 *   client TLS and JMX authentication in Cassandra, Jolokia over HTTPS with client certificates and basic auth,
 *   Consul with default-deny ACLs over HTTPS. Its state lives in its own directory (cluster-N-secure), so the
 *   default profile of the same instance is never touched.
 *
 * Everything downloaded, built or written at run time sits under the cache directory (outside the source tree),
 * so a fresh clone reuses what an earlier run fetched, and `git status` stays clean. The runtimes (jars, Java 11,
 * Consul) are shared by all instances; node data is per instance.
 */
import { homedir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A knob set to something the sandbox cannot run: the message says what is accepted. */
export class SandboxSettingError extends Error {
  override name = 'SandboxError';
}

const DEFAULT_CASSANDRA = '5.0.8';
/** Releases the sandbox knows how to run: the JVM, its flags and the nodetool wrapper differ per major line. */
export const SUPPORTED_CASSANDRA = /^(5\.0|4\.1)\.\d+$/;

function intSetting(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new SandboxSettingError(`${name}=${raw}: expected a whole number from ${min} to ${max}`);
  }
  return value;
}

function readSettings() {
  const cassandra = process.env.TEND_SANDBOX_CASSANDRA || DEFAULT_CASSANDRA;
  if (!SUPPORTED_CASSANDRA.test(cassandra)) {
    throw new SandboxSettingError(
      `TEND_SANDBOX_CASSANDRA=${cassandra}: the sandbox runs Cassandra 5.0.x (default ${DEFAULT_CASSANDRA}) or 4.1.x (e.g. 4.1.10)`,
    );
  }
  const heap = process.env.TEND_SANDBOX_HEAP || '1G';
  if (!/^\d+[mMgG]$/.test(heap)) {
    throw new SandboxSettingError(`TEND_SANDBOX_HEAP=${heap}: expected a JVM heap size such as 1G or 768m`);
  }
  const nodes = intSetting('TEND_SANDBOX_NODES', 3, 3, 4);
  const autoRepair = process.env.TEND_SANDBOX_AUTOREPAIR ?? '';
  if (!['', '0', '1'].includes(autoRepair)) {
    throw new SandboxSettingError(`TEND_SANDBOX_AUTOREPAIR=${autoRepair}: expected 1 (on) or 0 (off, the default)`);
  }
  // AutoRepair was backported to 5.0.7 (CASSANDRA-21138); 4.1 and earlier 5.0 releases do not have it.
  const [, minor = 0, patch = 0] = cassandra.split('.').map(Number);
  if (autoRepair === '1' && !(cassandra.startsWith('5.0.') && minor === 0 && patch >= 7)) {
    throw new SandboxSettingError(
      `TEND_SANDBOX_AUTOREPAIR=1 needs Cassandra 5.0.7 or later (AutoRepair's backport), not ${cassandra}`,
    );
  }
  const secure = process.env.TEND_SANDBOX_SECURE ?? '';
  if (!['', '0', '1'].includes(secure)) {
    throw new SandboxSettingError(`TEND_SANDBOX_SECURE=${secure}: expected 1 (the secured profile) or 0`);
  }
  return {
    // Up to 10: JMX ports (all on 127.0.0.1) then stay at or below 17400, clear of instance 0's Consul on
    // 127.0.0.1:18300-18500 and of the kernel's ephemeral ports (32768 and up), which a client may hold.
    instance: intSetting('TEND_SANDBOX_INSTANCE', 0, 0, 10),
    cassandra,
    heap,
    nodes,
    // num_tokens above 256 only slows everything down; 1 is a legal single-token ring.
    vnodes: intSetting('TEND_SANDBOX_VNODES', 16, 1, 256),
    autoRepair: autoRepair === '1',
    secure: secure === '1',
  };
}

export const SETTINGS = readSettings();

export const INSTANCE = SETTINGS.instance;
export const CASSANDRA_VERSION = SETTINGS.cassandra;
/** The secured profile (TEND_SANDBOX_SECURE=1): authentication and TLS everywhere, see secure.ts. */
export const SECURE = SETTINGS.secure;
/** 4 or 5: selects the JVM (11 or 17), its flags, and what the tests may expect of the server. */
export const CASSANDRA_MAJOR = Number(CASSANDRA_VERSION.split('.')[0]);
export const CONSUL_VERSION = 'v1.16.1';
/**
 * The Jolokia JVM agent: 2.4 and later are compiled for Java 17 (class file 61), so 4.1 on Java 11 gets 2.3.0,
 * the newest 2.x whose classes Java 11 loads (2.5.1 stops the JVM: UnsupportedClassVersionError in premain).
 */
export const JOLOKIA_VERSION = CASSANDRA_MAJOR === 4 ? '2.3.0' : '2.5.1';

/**
 * The agent's HTTP threads. Its default (executor=single) serves one request at a time, so while a blocking JMX
 * operation runs through it (a job's cleanup or compaction) every other request waits, the stopCompaction of
 * `tend job abort` included, which then finds nothing left to stop (measured with bench/jolokia-blocking: a
 * `version` request waited 21 s). tend's README asks operators for the same setting. Both agent versions (2.3.0,
 * 2.5.1) read these option names (JolokiaServerConfig).
 */
export const JOLOKIA_THREADS = 'executor=fixed,threadNr=4';
/** Instance 0 keeps the historical name; other instances get their own, so gossip can never join two sandboxes. */
export const CLUSTER_NAME = `${INSTANCE === 0 ? 'tend-sandbox' : `tend-sandbox-${INSTANCE}`}${SECURE ? '-secure' : ''}`;
export const VNODES_PER_NODE = SETTINGS.vnodes;
export const HEAP = SETTINGS.heap;
/** TEND_SANDBOX_AUTOREPAIR=1: the nodes run Cassandra's AutoRepair (a start-up setting, like the heap). */
export const AUTO_REPAIR = SETTINGS.autoRepair;

export interface SandboxNode {
  /** 1-based index; node i of instance N lives on 127.0.N.i. */
  index: number;
  name: string;
  address: string;
  datacenter: string;
  rack: string;
  nativePort: number;
  storagePort: number;
  /** Cassandra binds local JMX on 127.0.0.1 whatever the listen address, so each node needs its own port. */
  jmxPort: number;
  /** Where nodetool reaches JMX: always 127.0.0.1 (see jmxPort). */
  jmxHost: string;
  jolokiaPort: number;
}

/** 127.0.N.i: the second octet stays 0, so every address is on loopback and routes to `lo` without aliases. */
export const nodeAddress = (index: number, instance = INSTANCE) => `127.0.${instance}.${index}`;

/** Instance 0 keeps ccm's 7000 + i×100; instance N adds N×1000, clear of every other instance's ports. */
export const jmxPort = (index: number, instance = INSTANCE) => 7000 + instance * 1000 + index * 100;

/** dc1 = node1, node2 (and node4 when there are four); dc2 = node3. Each node of dc1 has its own rack. */
function placement(index: number): { datacenter: string; rack: string } {
  if (index === 3) return { datacenter: 'dc2', rack: 'rack1' };
  return { datacenter: 'dc1', rack: `rack${index === 4 ? 3 : index}` };
}

export const NODES: readonly SandboxNode[] = Array.from({ length: SETTINGS.nodes }, (_, i) => i + 1).map((index) => ({
  index,
  name: `node${index}`,
  address: nodeAddress(index),
  ...placement(index),
  nativePort: 9042,
  storagePort: 7000,
  jmxPort: jmxPort(index),
  jmxHost: '127.0.0.1',
  jolokiaPort: 8778,
}));

export const CONSUL = {
  address: nodeAddress(1),
  httpPort: 18500,
  serverPort: 18300,
  serfLanPort: 18301,
  serfWanPort: 18302,
} as const;

const here = dirname(fileURLToPath(import.meta.url));
/** test/sandbox in the source tree: the pom, JVM flags and logback files kept in the repo. */
export const SANDBOX_SOURCE_DIR = resolve(here, '..');

export function cacheDir(): string {
  if (process.env.TEND_SANDBOX_CACHE) return resolve(process.env.TEND_SANDBOX_CACHE);
  const base = process.env.XDG_CACHE_HOME ? resolve(process.env.XDG_CACHE_HOME) : join(homedir(), '.cache');
  return join(base, 'tend-sandbox');
}

/** Debian's OpenJDK 11 (4.1 does not run on 17); see provision.ts. */
export const JAVA11_DIR = 'java-11';

export const paths = {
  runtime: () => join(cacheDir(), `cassandra-${CASSANDRA_VERSION}`),
  lib: () => join(paths.runtime(), 'lib'),
  /** 5.0 keeps the file name it always had, so a runtime fetched earlier stays valid. */
  jolokiaAgent: () =>
    join(
      paths.runtime(),
      'agents',
      CASSANDRA_MAJOR === 4 ? `jolokia-agent-${JOLOKIA_VERSION}.jar` : 'jolokia-agent.jar',
    ),
  consulBuild: () => join(cacheDir(), `consul-${CONSUL_VERSION}`),
  consulBinary: () => join(paths.consulBuild(), 'consul'),
  java11Home: () => join(cacheDir(), JAVA11_DIR, 'usr', 'lib', 'jvm', 'java-11-openjdk-amd64'),
  /**
   * Per-run state: node data, logs, pid files. Wiped by `down --purge`. Another release than the default gets
   * its own directory (cluster-N-4.1.10), so npm test's 4.1 phase never meets the 5.0 data of a developer's
   * sandbox on the same instance number; so does the secured profile (cluster-N-secure), whose nodes keep their
   * roles and whose certificates and secrets live there too.
   */
  state: () =>
    join(
      cacheDir(),
      `${INSTANCE === 0 ? 'cluster' : `cluster-${INSTANCE}`}${CASSANDRA_VERSION === DEFAULT_CASSANDRA ? '' : `-${CASSANDRA_VERSION}`}${SECURE ? '-secure' : ''}`,
    ),
  /** What the state was created with: tokens and data are fixed at bootstrap (see sandbox.ts). */
  manifest: () => join(paths.state(), 'sandbox.json'),
  node: (node: SandboxNode) => join(paths.state(), node.name),
  nodetool: () => join(paths.state(), 'bin', 'nodetool'),
  consulState: () => join(paths.state(), 'consul'),
};

/** The java that runs this Cassandra line (and its nodetool), and the flags file for it in test/sandbox/cassandra. */
export function javaRuntime(): { java: string; argsFile: string } {
  return CASSANDRA_MAJOR === 4
    ? { java: join(paths.java11Home(), 'bin', 'java'), argsFile: 'jvm11.args' }
    : { java: 'java', argsFile: 'jvm17.args' };
}

/** Tokens spread evenly over the ring and interleaved between nodes, so ownership is balanced and repeatable. */
export function nodeTokens(node: SandboxNode): string[] {
  const total = BigInt(NODES.length * VNODES_PER_NODE);
  const ring = 2n ** 64n;
  const tokens: string[] = [];
  for (let v = 0; v < VNODES_PER_NODE; v++) {
    const slot = BigInt(v * NODES.length + (node.index - 1));
    tokens.push(String((slot * ring) / total - 2n ** 63n));
  }
  return tokens;
}
