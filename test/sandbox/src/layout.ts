/**
 * Where the sandbox lives and how it is laid out: three Cassandra nodes and one Consul agent, all on loopback.
 *
 * Everything downloaded, built or written at run time sits under the cache directory (outside the source tree),
 * so a fresh clone reuses what an earlier run fetched, and `git status` stays clean.
 */
import { homedir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CASSANDRA_VERSION = '5.0.8';
export const CONSUL_VERSION = 'v1.16.1';
export const CLUSTER_NAME = 'tend-sandbox';
export const VNODES_PER_NODE = 16;
export const HEAP = '1G';

export interface SandboxNode {
  /** 1-based index; node N lives on 127.0.0.N. */
  index: number;
  name: string;
  address: string;
  datacenter: string;
  rack: string;
  nativePort: number;
  storagePort: number;
  /** Cassandra binds local JMX on 127.0.0.1 whatever the listen address, so each node needs its own port. */
  jmxPort: number;
  jolokiaPort: number;
}

export const NODES: readonly SandboxNode[] = [1, 2, 3].map((index) => ({
  index,
  name: `node${index}`,
  address: `127.0.0.${index}`,
  datacenter: index <= 2 ? 'dc1' : 'dc2',
  rack: `rack${index <= 2 ? index : 1}`,
  nativePort: 9042,
  storagePort: 7000,
  jmxPort: 7000 + index * 100,
  jolokiaPort: 8778,
}));

export const CONSUL = {
  address: '127.0.0.1',
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

export const paths = {
  runtime: () => join(cacheDir(), `cassandra-${CASSANDRA_VERSION}`),
  lib: () => join(paths.runtime(), 'lib'),
  jolokiaAgent: () => join(paths.runtime(), 'agents', 'jolokia-agent.jar'),
  consulBuild: () => join(cacheDir(), `consul-${CONSUL_VERSION}`),
  consulBinary: () => join(paths.consulBuild(), 'consul'),
  /** Per-run state: node data, logs, pid files. Wiped by `down --purge`. */
  state: () => join(cacheDir(), 'cluster'),
  node: (node: SandboxNode) => join(paths.state(), node.name),
  nodetool: () => join(paths.state(), 'bin', 'nodetool'),
  consulState: () => join(paths.state(), 'consul'),
};

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
