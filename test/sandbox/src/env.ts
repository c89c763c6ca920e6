/**
 * Connection details of the running sandbox, for tests, the README's demo and `sandbox env`.
 * Plain data; nothing here talks to a server.
 */
import { CASSANDRA_VERSION, CONSUL, INSTANCE, NODES, SECURE, paths } from './layout.js';
import { securePaths, TEND_USER, ADMIN_USER } from './secure.js';

/** The secured profile's files (paths, never contents): what a client needs to reach the servers. */
export interface SecureEnv {
  ca: string;
  clientCert: string;
  clientKey: string;
  user: string;
  adminUser: string;
  adminPasswordFile: string;
  cassandraPasswordFile: string;
  nodetoolPasswordFile: string;
  jolokiaPasswordFile: string;
  consulTokenFile: string;
  consulManagementTokenFile: string;
}

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
  /** Set in the secured profile (TEND_SANDBOX_SECURE=1). */
  secure: SecureEnv | null;
}

export function sandboxEnv(): SandboxEnv {
  const scheme = SECURE ? 'https' : 'http';
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
      jolokiaUrl: `${scheme}://${n.address}:${n.jolokiaPort}/jolokia/`,
    })),
    nodetool: paths.nodetool(),
    consul: { address: `${scheme}://${CONSUL.address}:${CONSUL.httpPort}` },
    secure: SECURE
      ? {
          ca: securePaths.ca(),
          clientCert: securePaths.clientCert(),
          clientKey: securePaths.clientKey(),
          user: TEND_USER,
          adminUser: ADMIN_USER,
          adminPasswordFile: securePaths.adminPassword(),
          cassandraPasswordFile: securePaths.cassandraPassword(),
          nodetoolPasswordFile: securePaths.nodetoolPasswordFile(),
          jolokiaPasswordFile: securePaths.jolokiaPassword(),
          consulTokenFile: securePaths.consulToken(),
          consulManagementTokenFile: securePaths.consulManagementToken(),
        }
      : null,
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
    ...(env.secure
      ? [
          `TEND_SANDBOX_SECURE=1`,
          `TEND_SANDBOX_CA=${env.secure.ca}`,
          `TEND_SANDBOX_CLIENT_CERT=${env.secure.clientCert}`,
          `TEND_SANDBOX_CLIENT_KEY=${env.secure.clientKey}`,
          `TEND_SANDBOX_ADMIN_PASSWORD_FILE=${env.secure.adminPasswordFile}`,
          `TEND_SANDBOX_CONSUL_MANAGEMENT_TOKEN_FILE=${env.secure.consulManagementTokenFile}`,
        ]
      : []),
    ...env.nodes.flatMap((n, i) => [
      `TEND_SANDBOX_NODE${i + 1}_ADDRESS=${n.address}`,
      `TEND_SANDBOX_NODE${i + 1}_JMX_PORT=${n.jmxPort}`,
      `TEND_SANDBOX_NODE${i + 1}_JOLOKIA_URL=${n.jolokiaUrl}`,
    ]),
  ];
}
