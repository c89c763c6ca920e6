/** Lease backends on the real sandbox, each test in its own keyspace / Consul prefix. */
import cassandra from 'cassandra-driver';
import { schemaStatements } from '../../src/cluster/schema.js';
import { CassandraLeaseBackend, type LeaseScope } from '../../src/lease/cassandra.js';
import { ConsulLeaseBackend } from '../../src/lease/consul.js';
import { env } from './sandbox-clients.js';

export const LEASE_KEYSPACE = 'tend_it_lease';

/** A client on the given node (1-based) whose local DC is that node's. */
export function leaseClient(index = 1): cassandra.Client {
  const node = env.nodes[index - 1]!;
  return new cassandra.Client({
    contactPoints: [node.address],
    localDataCenter: node.datacenter,
    socketOptions: { connectTimeout: 5000, readTimeout: 12_000 },
    pooling: { coreConnectionsPerHost: { 0: 1, 1: 1, 2: 0 } },
  });
}

let created: Promise<void> | undefined;

/** tend's keyspace (RF dc1: 2, dc2: 1, like the sandbox config) under a name of our own, created once (the driver waits for schema agreement after each DDL). */
export function ensureLeaseKeyspace(): Promise<void> {
  created ??= (async () => {
    const client = leaseClient(1);
    try {
      for (const statement of schemaStatements(LEASE_KEYSPACE, {
        class: 'NetworkTopologyStrategy',
        dc1: 2,
        dc2: 1,
      })) {
        await client.execute(statement);
      }
    } finally {
      await client.shutdown();
    }
  })();
  return created;
}

export function cassandraBackend(client: cassandra.Client, scope: LeaseScope = 'node'): CassandraLeaseBackend {
  return new CassandraLeaseBackend(client, { keyspace: LEASE_KEYSPACE, scope, resolveTimeoutMs: 15_000 });
}

export function consulBackend(prefix: string): ConsulLeaseBackend {
  return new ConsulLeaseBackend({ address: env.consul.address, prefix, requestTimeoutMs: 5000 });
}

/** A resource name no other test run uses. */
export function uniqueResource(label: string): string {
  return `it/${label}/${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

/** A unique resource in the grammar tend generates (`node/ADDRESS/slot-N`), for what the CLI must accept. */
export function uniqueNodeResource(label: string): string {
  return `node/${label}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}/slot-0`;
}
