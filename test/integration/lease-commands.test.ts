/**
 * `tend lease status` and `tend lease release [--force]` through main() against both real backends: a lease held
 * by node2 is refused to node1 without --force (exit 4, naming node2), broken with --force (recorded as broken
 * by node1), and visible in status with its holder, host and expiry.
 */
import { expect } from 'chai';
import { stringify } from 'yaml';
import type cassandra from 'cassandra-driver';
import { runTend } from '../unit/cli/helpers.js';
import { NODES } from '../sandbox/src/layout.js';
import { tendConfig } from '../sandbox/src/tend-config.js';
import type { LeaseBackend } from '../../src/lease/types.js';
import {
  LEASE_KEYSPACE,
  cassandraBackend,
  consulBackend,
  ensureLeaseKeyspace,
  leaseClient,
  uniqueNodeResource,
} from '../support/lease-sandbox.js';

for (const kind of ['cassandra', 'consul'] as const) {
  describe(`tend lease status|release on ${kind} (real sandbox)`, function () {
    this.timeout(60_000);
    const prefix = `tend-it-cmd-${Date.now().toString(36)}`;
    let client: cassandra.Client | undefined;
    let backend: LeaseBackend;
    const files = () => {
      const raw = tendConfig(NODES[0]!, { leaseBackend: kind });
      return {
        'tend.yml': stringify({
          ...raw,
          cassandra: { ...raw.cassandra, keyspace: LEASE_KEYSPACE },
          lease: { ...raw.lease, consul: { ...raw.lease.consul, prefix } },
        }),
      };
    };

    before(async function () {
      if (kind === 'cassandra') {
        await ensureLeaseKeyspace();
        client = leaseClient(2);
        await client.connect();
        backend = cassandraBackend(client, 'node');
      } else {
        backend = consulBackend(prefix);
      }
    });
    after(async function () {
      await client?.shutdown();
    });

    it("status shows node2's lease; release refuses it (exit 4); --force breaks it and records node1", async function () {
      const resource = uniqueNodeResource(`cmd-${kind}`);
      const held = await backend.tryAcquire(resource, { name: 'node2', host: 'host-of-node2' }, 30_000, {
        task: 'shop.orders',
      });
      expect(held.acquired).to.equal(true);

      const status = await runTend(['--json', 'lease', 'status'], { files: files() });
      expect(status.code, status.stderr).to.equal(0);
      const report = JSON.parse(status.stdout) as {
        backend: string;
        leases: Array<{ resource: string; holder: string; holderHost: string; expiresInMs: number }>;
      };
      expect(report.backend).to.equal(kind);
      const row = report.leases.find((lease) => lease.resource === resource);
      expect(row).to.include({ holder: 'node2', holderHost: 'host-of-node2' });
      // The expiry comes from Cassandra's TTL(), which counts whole seconds from the write's time (for an LWT,
      // its Paxos ballot): seen once in CI as 31 s left of a 30 s TTL (expiresInMs 31001). A second of slack
      // either way; the point is that status shows this lease's own TTL, not the default 10 minutes or 0.
      expect(row!.expiresInMs).to.be.within(20_000, 32_000);

      const table = await runTend(['--no-color', 'lease', 'status'], { files: files(), tty: true });
      expect(table.stdout).to.match(/RESOURCE\s+HOLDER\s+HOST\s+ACQUIRED\s+EXPIRES IN\s+TASK/);
      expect(table.stdout).to.include(resource);

      const refused = await runTend(['lease', 'release', resource], { files: files() });
      expect(refused.code).to.equal(4);
      expect(refused.stderr).to.include('node2 on host-of-node2');
      expect(refused.stderr).to.include('--force');

      const forced = await runTend(['--json', 'lease', 'release', resource, '--force'], { files: files() });
      expect(forced.code, forced.stderr).to.equal(0);
      expect(JSON.parse(forced.stdout)).to.include({
        released: true,
        forced: true,
        previousHolder: 'node2',
        previousHost: 'host-of-node2',
        releasedBy: 'node1',
      });

      const after = JSON.parse((await runTend(['--json', 'lease', 'status'], { files: files() })).stdout) as {
        leases: Array<{ resource: string }>;
        broken: Array<{ resource: string; previousHolder: string; brokenBy: string }>;
      };
      expect(after.leases.map((lease) => lease.resource)).not.to.include(resource);
      expect(after.broken.find((record) => record.resource === resource)).to.include({
        previousHolder: 'node2',
        brokenBy: 'node1',
      });
    });
  });
}
