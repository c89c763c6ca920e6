/**
 * One real Cassandra node (5.0 on Java 17, or 4.1 on Java 11): CassandraDaemon from the cassandra-all jars in its
 * own JVM, with the Jolokia agent. Layout after ccm (see layout.ts): node i of instance N on 127.0.N.i, storage
 * 7000, CQL 9042, JMX 7000 + N×1000 + i×100 (bound on 127.0.0.1).
 */
import { mkdirSync, writeFileSync, copyFileSync, chmodSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { stringify } from 'yaml';
import {
  AUTO_REPAIR,
  CASSANDRA_VERSION,
  CLUSTER_NAME,
  HEAP,
  JOLOKIA_THREADS,
  NODES,
  SANDBOX_SOURCE_DIR,
  SECURE,
  VNODES_PER_NODE,
  javaRuntime,
  nodeTokens,
  paths,
  type SandboxNode,
} from './layout.js';
import { jammJar } from './provision.js';
import type { Daemon } from './processes.js';
import { secureCassandraYaml, secureJolokiaAgentOptions, secureJvmProperties, writeSecureNodeFiles } from './secure.js';

export const nodeDaemon = (node: SandboxNode): Daemon => ({
  name: `cassandra ${node.name}`,
  pidFile: join(paths.node(node), 'pid'),
  marker: `-Dcassandra.storagedir=${paths.node(node)}`,
});

export const systemLog = (node: SandboxNode) => join(paths.node(node), 'logs', 'system.log');
export const stdoutLog = (node: SandboxNode) => join(paths.node(node), 'logs', 'stdout.log');

function cassandraYaml(node: SandboxNode): Record<string, unknown> {
  const dir = paths.node(node);
  return {
    cluster_name: CLUSTER_NAME,
    num_tokens: VNODES_PER_NODE,
    // Explicit, interleaved tokens: balanced ownership and the same ring on every run.
    initial_token: nodeTokens(node).join(','),
    // Nodes join with their own tokens and no streaming; there is no data to stream in a fresh sandbox.
    auto_bootstrap: false,
    partitioner: 'org.apache.cassandra.dht.Murmur3Partitioner',
    endpoint_snitch: 'GossipingPropertyFileSnitch',
    seed_provider: [
      {
        class_name: 'org.apache.cassandra.locator.SimpleSeedProvider',
        parameters: [{ seeds: `${NODES[0]!.address}:${NODES[0]!.storagePort}` }],
      },
    ],
    listen_address: node.address,
    rpc_address: node.address,
    storage_port: node.storagePort,
    native_transport_port: node.nativePort,
    start_native_transport: true,
    data_file_directories: [join(dir, 'data')],
    commitlog_directory: join(dir, 'commitlog'),
    hints_directory: join(dir, 'hints'),
    saved_caches_directory: join(dir, 'saved_caches'),
    cdc_raw_directory: join(dir, 'cdc_raw'),
    commitlog_sync: 'periodic',
    commitlog_sync_period: '10000ms',
    authenticator: 'AllowAllAuthenticator',
    authorizer: 'AllowAllAuthorizer',
    auto_snapshot: false,
    concurrent_reads: 4,
    concurrent_writes: 4,
    concurrent_counter_writes: 4,
    concurrent_compactors: 1,
    memtable_heap_space: '64MiB',
    memtable_offheap_space: '64MiB',
    // Small machines: keep the JVM's own pools small too.
    key_cache_size: '8MiB',
    // Test tables are created and dropped in quick succession.
    materialized_views_enabled: false,
    ...(AUTO_REPAIR ? { auto_repair: AUTO_REPAIR_YAML } : {}),
    ...(SECURE ? secureCassandraYaml(node) : {}),
  };
}

/**
 * TEND_SANDBOX_AUTOREPAIR=1: Cassandra's own scheduled repair (CEP-37, backported to 5.0.7) runs full repairs of
 * every table once a day per node, checking every 10 s whose turn it is, so a test sees its first round within
 * about a minute of start-up. Incremental and preview repairs stay off (their defaults). Needs the JVM flag too.
 */
const AUTO_REPAIR_YAML = {
  enabled: true,
  repair_check_interval: '10s',
  repair_type_overrides: { full: { enabled: true, min_repair_interval: '24h' } },
};

export function writeNodeConfig(node: SandboxNode): void {
  const dir = paths.node(node);
  for (const sub of ['conf', 'data', 'commitlog', 'hints', 'saved_caches', 'cdc_raw', 'logs']) {
    mkdirSync(join(dir, sub), { recursive: true });
  }
  writeFileSync(join(dir, 'conf', 'cassandra.yaml'), stringify(cassandraYaml(node)));
  writeFileSync(join(dir, 'conf', 'cassandra-rackdc.properties'), `dc=${node.datacenter}\nrack=${node.rack}\n`);
  copyFileSync(join(SANDBOX_SOURCE_DIR, 'cassandra', 'logback.xml'), join(dir, 'conf', 'logback.xml'));
  if (SECURE) writeSecureNodeFiles(node);
}

export function nodeJavaArgs(node: SandboxNode): string[] {
  const dir = paths.node(node);
  return [
    `-Xms${HEAP}`,
    `-Xmx${HEAP}`,
    '-Xss256k',
    '-XX:+UseG1GC',
    '-XX:+HeapDumpOnOutOfMemoryError',
    `-XX:HeapDumpPath=${join(dir, 'logs')}`,
    `@${join(SANDBOX_SOURCE_DIR, 'cassandra', javaRuntime().argsFile)}`,
    `-javaagent:${jammJar()}`,
    `-javaagent:${paths.jolokiaAgent()}=${SECURE ? secureJolokiaAgentOptions(node) : `host=${node.address},port=${node.jolokiaPort},discoveryEnabled=false,${JOLOKIA_THREADS}`}`,
    `-Dcassandra.config=file://${join(dir, 'conf', 'cassandra.yaml')}`,
    `-Dcassandra-rackdc.properties=file://${join(dir, 'conf', 'cassandra-rackdc.properties')}`,
    '-Dcassandra-foreground=yes',
    `-Dcassandra.storagedir=${dir}`,
    `-Dcassandra.logdir=${join(dir, 'logs')}`,
    `-Dlogback.configurationFile=${join(dir, 'conf', 'logback.xml')}`,
    `-Dcassandra.jmx.local.port=${node.jmxPort}`,
    ...(SECURE ? secureJvmProperties(node) : ['-Dcom.sun.management.jmxremote.authenticate=false']),
    '-Dcassandra.skip_wait_for_gossip_to_settle=0',
    '-Dcassandra.available_processors=2',
    // AutoRepair's schema (the auto_repair table option, system_distributed.auto_repair_history) exists only with
    // this flag on every node.
    ...(AUTO_REPAIR ? ['-Dcassandra.autorepair.enable=true'] : []),
    // The conf dir first on the classpath: the rack/DC file is also found as a resource by older lookups.
    '-cp',
    `${join(dir, 'conf')}:${paths.lib()}/*`,
    'org.apache.cassandra.service.CassandraDaemon',
  ];
}

/**
 * The `nodetool` wrapper: NodeTool from the same jars on the same Java, the way Cassandra's bin/nodetool runs it.
 * Defaults to node1's JMX port; pass `-p PORT` for the other nodes (JMX always listens on 127.0.0.1).
 */
export function writeNodetoolWrapper(): string {
  const file = paths.nodetool();
  const bin = dirname(file);
  mkdirSync(bin, { recursive: true });
  // The JVM flags and logging config are copied next to the wrapper: it outlives the checkout that wrote it (a
  // CI clone deleted after its run would otherwise leave a wrapper pointing at files that are gone).
  const { java, argsFile } = javaRuntime();
  const jvmArgs = join(bin, argsFile);
  const logback = join(bin, 'logback-tools.xml');
  copyFileSync(join(SANDBOX_SOURCE_DIR, 'cassandra', argsFile), jvmArgs);
  copyFileSync(join(SANDBOX_SOURCE_DIR, 'cassandra', 'logback-tools.xml'), logback);
  const script = `#!/bin/sh
# Generated by tend's test/sandbox: runs NodeTool from the sandbox's Cassandra ${CASSANDRA_VERSION} jars.
# JMX listens on 127.0.0.1: ${NODES.map((n) => `${n.name} -p ${n.jmxPort}`).join(', ')}; default is node1.
case " $* " in
  *" -p "*|*" --port "*) ;;
  *) set -- -p ${NODES[0]!.jmxPort} "$@" ;;
esac
case " $* " in
  *" -h "*|*" --host "*) ;;
  *) set -- -h ${NODES[0]!.jmxHost} "$@" ;;
esac
exec ${java} -Xmx128m -XX:ParallelGCThreads=1 -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \\
  @${jvmArgs} \\
  -Dlogback.configurationFile=${logback} \\
  -Dcassandra.storagedir=${paths.state()}/nodetool \\
  -cp "${paths.lib()}/*" org.apache.cassandra.tools.NodeTool "$@"
`;
  writeFileSync(file, script);
  chmodSync(file, 0o755);
  return file;
}
