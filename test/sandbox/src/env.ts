/**
 * Connection details of the running sandbox, for tests, the README's demo and `sandbox env`.
 * Plain data; nothing here talks to a server.
 */
import { CASSANDRA_VERSION, CONSUL, INSTANCE, NODES, paths } from './layout.js';

export interface SandboxEnv {
  instance: number;
  cassandraVersion: string;
  cassandra: { contactPoints: string[]; localDatacenter: string; nativePort: number };
  nodes: {
    name: string;
    address: string;
    datacenter: string;
    rack: string;
    jmxHost: string;
    jmxPort: number;
    jolokiaUrl: string;
  }[];
  nodetool: string;
  consul: { address: string };
}

export function sandboxEnv(): SandboxEnv {
  return {
    instance: INSTANCE,
    cassandraVersion: CASSANDRA_VERSION,
    cassandra: {
      contactPoints: NODES.map((n) => n.address),
      localDatacenter: NODES[0]!.datacenter,
      nativePort: NODES[0]!.nativePort,
    },
    nodes: NODES.map((n) => ({
      name: n.name,
      address: n.address,
      datacenter: n.datacenter,
      rack: n.rack,
      jmxHost: n.jmxHost,
      jmxPort: n.jmxPort,
      jolokiaUrl: `http://${n.address}:${n.jolokiaPort}/jolokia/`,
    })),
    nodetool: paths.nodetool(),
    consul: { address: `http://${CONSUL.address}:${CONSUL.httpPort}` },
  };
}

/** Shell-friendly form for `eval "$(npm run -s sandbox env)"`. */
export function envLines(env: SandboxEnv): string[] {
  return [
    `TEND_SANDBOX_INSTANCE=${env.instance}`,
    `TEND_SANDBOX_CASSANDRA=${env.cassandraVersion}`,
    `TEND_SANDBOX_CONTACT_POINTS=${env.cassandra.contactPoints.join(',')}`,
    `TEND_SANDBOX_LOCAL_DC=${env.cassandra.localDatacenter}`,
    `TEND_SANDBOX_NODETOOL=${env.nodetool}`,
    `TEND_SANDBOX_CONSUL=${env.consul.address}`,
    ...env.nodes.flatMap((n, i) => [
      `TEND_SANDBOX_NODE${i + 1}_ADDRESS=${n.address}`,
      `TEND_SANDBOX_NODE${i + 1}_JMX_PORT=${n.jmxPort}`,
      `TEND_SANDBOX_NODE${i + 1}_JOLOKIA_URL=${n.jolokiaUrl}`,
    ]),
  ];
}
