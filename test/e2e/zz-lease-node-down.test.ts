/**
 * Leases with one of the three Cassandra nodes stopped (node2, dc1). tend's keyspace here has RF dc1: 2, dc2: 1:
 * - node scope (SERIAL, quorum of all 3 replicas = 2): still works with node1 and node3.
 * - datacenter scope seen from dc2 (LOCAL_SERIAL over dc2's single replica): still works.
 * - datacenter scope seen from dc1 (LOCAL_SERIAL needs both dc1 replicas): cannot work; the built `tend` fails
 *   within its timeout with exit 5 and a message naming Cassandra and the quorum.
 *
 * Stopping a node disturbs every other test using the sandbox, so this file sorts last and is meant to run
 * alone under the shared lock: flock /tmp/tend-sandbox-disrupt.lock npx mocha … --spec test/e2e/zz-lease-node-down.test.ts
 * The node is always started again in after().
 */
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { execa } from 'execa';
import { stringify } from 'yaml';
import type cassandra from 'cassandra-driver';
import { stopNode, up } from '../sandbox/src/sandbox.js';
import { NODES } from '../sandbox/src/layout.js';
import { tendConfig } from '../sandbox/src/tend-config.js';
import { acquireLeases, leaseGroups } from '../../src/lease/leases.js';
import {
  LEASE_KEYSPACE,
  cassandraBackend,
  ensureLeaseKeyspace,
  leaseClient,
  uniqueNodeResource,
  uniqueResource,
} from '../support/lease-sandbox.js';

const dir = mkdtempSync(join(tmpdir(), 'tend-lease-down-'));

function configFor(index: number, scope: 'node' | 'datacenter'): string {
  const node = NODES[index - 1]!;
  const raw = tendConfig(node);
  const config = {
    ...raw,
    cassandra: { ...raw.cassandra, keyspace: LEASE_KEYSPACE, requestTimeout: '5s' },
    lease: { ...raw.lease, scope },
  };
  const file = join(dir, `${node.name}-${scope}.yml`);
  writeFileSync(file, stringify(config));
  return file;
}

async function tend(config: string, ...args: string[]) {
  const started = Date.now();
  const result = await execa('node', ['bin/tend', '-c', config, ...args], { reject: false, timeout: 120_000 });
  return { ...result, elapsedMs: Date.now() - started };
}

describe('leases with a Cassandra node stopped (real sandbox, disruptive)', function () {
  this.timeout(600_000);
  const clients: cassandra.Client[] = [];

  before(async function () {
    await ensureLeaseKeyspace();
    if (!existsSync('dist/src/cli/commands/lease.js')) {
      await execa('npx', ['tsc', '-p', 'tsconfig.build.json'], { reject: false });
    }
    await stopNode('node2');
  });

  after(async function () {
    for (const client of clients) await client.shutdown().catch(() => undefined);
    await up();
  });

  async function connected(index: number): Promise<cassandra.Client> {
    const client = leaseClient(index);
    await client.connect();
    clients.push(client);
    return client;
  }

  it('node scope (SERIAL) still acquires, renews and releases with 2 of 3 replicas', async function () {
    const backend = cassandraBackend(await connected(1), 'node');
    const groups = leaseGroups(
      { scope: 'node', slotsPerDatacenter: 1, perResource: 1 },
      { datacenter: 'dc1', replicas: [uniqueResource('down-a'), uniqueResource('down-b')] },
    );
    const claim = await acquireLeases(backend, groups, {
      holder: { name: 'node1', host: 'test' },
      ttlMs: 10_000,
      announcementTtlMs: 10_000,
      priority: { priority: 1, tieBreaker: 1 },
    });
    expect(claim.acquired).to.equal(true);
    if (!claim.acquired) return;
    for (const lease of claim.leases) expect((await backend.renew(lease)).renewed).to.equal(true);
    for (const lease of claim.leases) expect(await backend.release(lease)).to.equal(true);
  });

  it('the built tend: lease status and release of our own lease work in node scope (exit 0)', async function () {
    const backend = cassandraBackend(await connected(1), 'node');
    const resource = uniqueNodeResource('down-cli');
    expect((await backend.tryAcquire(resource, { name: 'node1', host: 'h' }, 30_000)).acquired).to.equal(true);
    const config = configFor(1, 'node');
    const status = await tend(config, '--json', 'lease', 'status');
    expect(status.exitCode, status.stderr).to.equal(0);
    expect(
      (JSON.parse(status.stdout) as { leases: Array<{ resource: string }> }).leases.map((l) => l.resource),
    ).to.include(resource);
    const release = await tend(config, '--json', 'lease', 'release', resource);
    expect(release.exitCode, release.stderr).to.equal(0);
    expect(JSON.parse(release.stdout)).to.include({ released: true, previousHolder: 'node1' });
  });

  it('datacenter scope in dc2 (LOCAL_SERIAL over its own replica) still works', async function () {
    const backend = cassandraBackend(await connected(3), 'datacenter');
    const resource = uniqueResource('down-dc2');
    const result = await backend.tryAcquire(resource, { name: 'node3', host: 'h' }, 10_000);
    expect(result.acquired).to.equal(true);
    if (result.acquired) expect(await backend.release(result.lease)).to.equal(true);
  });

  it('datacenter scope in dc1 (no LOCAL_SERIAL quorum): tend exits 5 within its timeout, saying why', async function () {
    const config = configFor(1, 'datacenter');
    const release = await tend(config, 'lease', 'release', 'dc/dc1/slot-0');
    console.log(
      `      lease release: exit ${release.exitCode} after ${release.elapsedMs} ms: ${release.stderr.trim()}`,
    );
    expect(release.exitCode).to.equal(5);
    expect(release.stderr).to.match(/cassandra unavailable/i);
    expect(release.stderr).to.match(/quorum|LOCAL_SERIAL|consistency/i);
    // requestTimeout 5s: one attempt plus retries of the serial read for at most that long, plus start-up.
    expect(release.elapsedMs).to.be.lessThan(20_000);

    const status = await tend(config, 'lease', 'status');
    expect(status.exitCode, status.stderr).to.equal(5);
    expect(status.stderr).to.match(/cassandra unavailable/i);
    expect(status.elapsedMs).to.be.lessThan(20_000);
  });
});
