/**
 * The operator's commands on the secured sandbox (TEND_SANDBOX_SECURE=1), through the built bin with the sandbox's
 * own configurations (tend's role, its client certificate, password and token files): `repair table` with either
 * executor, `history show` (with --coverage), `lease status` and `lease release` with either lease backend. The
 * lease another node holds is taken by node2's tend code with node2's configuration, as its tick would.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type cassandra from 'cassandra-driver';
import { parse } from 'yaml';
import { validateConfig } from '../../src/config/validate.js';
import { openSession } from '../../src/cluster/session.js';
import { openLeaseBackend } from '../../src/lease/factory.js';
import type { LeaseBackend } from '../../src/lease/types.js';
import { cqlClient } from '../support/sandbox-clients.js';
import {
  createSmallKeyspace,
  createTendKeyspace,
  nodeByName,
  RUN,
  tend,
  writeScopedConfig,
} from '../support/tick-e2e.js';
import { expectNoSecret, requireSecureProfile } from '../support/secure-e2e.js';

const KS = `sec_cmd_${RUN}`;
const TEND_KS = `tend_sec_cmd_${RUN}`;

interface RepairJson {
  keyspace: string;
  table: string;
  status: string;
  rangesRepaired: number;
  ranges: number;
}

describe('secured sandbox: repair table, history show, lease status and release (e2e)', function () {
  this.timeout(10 * 60_000);
  let dir: string;
  let client: cassandra.Client;
  const configs: Record<string, string> = {};

  before(async function () {
    requireSecureProfile();
    dir = mkdtempSync(join(tmpdir(), 'tend-secure-commands-'));
    client = cqlClient();
    await client.connect();
    await createSmallKeyspace(client, KS, { dc1: 2, dc2: 1 }, ['by_nodetool', 'by_jolokia']);
    await createTendKeyspace(client, TEND_KS);
    for (const executor of ['nodetool', 'jolokia'] as const) {
      for (const leaseBackend of ['cassandra', 'consul'] as const) {
        for (const name of ['node1', 'node2']) {
          const sub = join(dir, `${executor}-${leaseBackend}`);
          configs[`${name}/${executor}/${leaseBackend}`] = writeScopedConfig(sub, nodeByName(name), {
            tendKeyspace: TEND_KS,
            keyspaces: [KS],
            executor,
            leaseBackend,
          });
        }
      }
    }
  });

  after(async function () {
    for (const keyspace of [KS, TEND_KS])
      await client?.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
    await client?.shutdown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const executor of ['nodetool', 'jolokia'] as const) {
    it(`repair table through ${executor}: every range of the node repaired, recorded, exit 0`, async function () {
      const config = configs[`node1/${executor}/cassandra`]!;
      const result = await tend(config, ['--json', 'repair', 'table', `${KS}.by_${executor}`], { timeout: 5 * 60_000 });
      expect(result.exitCode, String(result.stderr)).to.equal(0);
      const report = JSON.parse(String(result.stdout)) as RepairJson;
      expect(report).to.include({ keyspace: KS, table: `by_${executor}`, status: 'success' });
      expect(report.rangesRepaired).to.equal(report.ranges);
      expect(report.ranges).to.be.greaterThan(0);
      expectNoSecret(`${result.stdout}\n${result.stderr}`, `repair table through ${executor}`);
    });
  }

  it("history show: tend's record and Cassandra's of both repairs; --coverage: node1's ranges all repaired", async function () {
    const config = configs['node1/jolokia/cassandra']!;
    const result = await tend(config, ['--json', 'history', 'show', KS, '--coverage']);
    expect(result.exitCode, String(result.stderr)).to.equal(0);
    const report = JSON.parse(String(result.stdout)) as {
      sessions: { source: string; table: string; status: string }[];
      coverage: { table: string; share: number }[];
    };
    for (const table of ['by_nodetool', 'by_jolokia']) {
      const sessions = report.sessions.filter((s) => s.table === table);
      // tend's own history (tend's keyspace) and Cassandra's (system_distributed, granted to tend's role).
      expect([...new Set(sessions.map((s) => s.source))].sort(), table).to.deep.equal(['cassandra', 'tend']);
      expect(
        sessions.every((s) => s.status === 'SUCCESS'),
        JSON.stringify(sessions),
      ).to.equal(true);
      expect(report.coverage.find((row) => row.table === table)?.share, table).to.equal(1);
    }
    const text = await tend(config, ['history', 'show', `${KS}.by_nodetool`]);
    expect(text.exitCode, String(text.stderr)).to.equal(0);
    expect(String(text.stdout)).to.match(new RegExp(`${KS}\\.by_nodetool\\tcassandra\\t`));
    expectNoSecret(`${result.stdout}\n${text.stdout}\n${text.stderr}`, 'history show');
  });

  for (const leaseBackend of ['cassandra', 'consul'] as const) {
    it(`lease status and release (${leaseBackend}): node2's lease shown, refused without --force (exit 4), broken with it`, async function () {
      const node2 = validateConfig(parse(readFileSync(configs[`node2/jolokia/${leaseBackend}`]!, 'utf8')), { env: {} });
      if (!node2.config) throw new Error(node2.errors.join('; '));
      // node2's tend: its role over TLS, or its Consul token over HTTPS, exactly as its tick would open them.
      let session: cassandra.Client | undefined;
      const backend: LeaseBackend = await openLeaseBackend(node2.config, {}, async () => {
        session = await openSession(node2.config!, {});
        return session;
      });
      // In the grammar `lease release` accepts (slot-0 to slot-9999); an address no sandbox node has.
      const resource = `node/127.0.0.${leaseBackend === 'cassandra' ? 98 : 99}/slot-${process.pid % 10_000}`;
      try {
        const held = await backend.tryAcquire(resource, { name: 'node2', host: 'host-of-node2' }, 60_000, {
          task: `${KS}.by_jolokia`,
        });
        expect(held.acquired).to.equal(true);
        const config = configs[`node1/jolokia/${leaseBackend}`]!;

        const status = await tend(config, ['--json', 'lease', 'status']);
        expect(status.exitCode, String(status.stderr)).to.equal(0);
        const report = JSON.parse(String(status.stdout)) as {
          backend: string;
          leases: { resource: string; holder: string; holderHost: string }[];
        };
        expect(report.backend).to.equal(leaseBackend);
        expect(report.leases.find((lease) => lease.resource === resource)).to.include({
          holder: 'node2',
          holderHost: 'host-of-node2',
        });

        const refused = await tend(config, ['lease', 'release', resource]);
        expect(refused.exitCode, String(refused.stderr)).to.equal(4);
        expect(String(refused.stderr)).to.include('node2 on host-of-node2');

        const forced = await tend(config, ['--json', 'lease', 'release', resource, '--force']);
        expect(forced.exitCode, String(forced.stderr)).to.equal(0);
        expect(JSON.parse(String(forced.stdout))).to.include({ released: true, forced: true, previousHolder: 'node2' });

        const after = JSON.parse(String((await tend(config, ['--json', 'lease', 'status'])).stdout)) as {
          leases: { resource: string }[];
          broken: { resource: string; brokenBy: string }[];
        };
        expect(after.leases.map((lease) => lease.resource)).not.to.include(resource);
        expect(after.broken.find((record) => record.resource === resource)).to.include({ brokenBy: 'node1' });
        expectNoSecret(`${status.stdout}\n${refused.stderr}\n${forced.stdout}\n${forced.stderr}`, 'lease commands');
      } finally {
        await backend.close().catch(() => undefined);
        await session?.shutdown().catch(() => undefined);
      }
    });
  }
});
