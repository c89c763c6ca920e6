/**
 * `tend repair table` as a use case against the sandbox: node2 repairs a range under the tick's lease and
 * records it in tend's history; a lease held by another node gives LeaseUnavailable (exit 4), and --wait
 * takes it once it is released.
 */
import { expect } from 'chai';
import type cassandra from 'cassandra-driver';
import { repairTable } from '../../src/app/repair-table.js';
import { openLeaseBackend, acquireLeases, leaseGroups } from '../../src/lease/index.js';
import { ExitCode, LeaseUnavailable } from '../../src/errors.js';
import { parseTokenRange } from '../../src/core/index.js';
import { Output } from '../../src/output/output.js';
import { MemoryStream } from '../../src/output/memory-stream.js';
import { cqlClient } from '../support/sandbox-clients.js';
import { ensureTendSchema, sandboxTendConfig } from '../support/sandbox-config.js';
import { NODES } from '../sandbox/src/layout.js';

const KS = 'it_repair_table';
const RANGE = '-8839064868652493483:-8070450532247928832'; // two sandbox vnodes

describe('tend repair table against the sandbox (real Cassandra 5.0)', function () {
  this.timeout(120_000);
  let client: cassandra.Client;
  const config = sandboxTendConfig(2, { executor: 'jolokia' });
  const out = new Output({ stdout: new MemoryStream(), stderr: new MemoryStream() });

  before(async function () {
    client = cqlClient();
    await client.connect();
    await ensureTendSchema(client, config);
    await client.execute(
      `CREATE KEYSPACE IF NOT EXISTS ${KS} WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 2, 'dc2': 1}`,
    );
    await client.execute(`CREATE TABLE IF NOT EXISTS ${KS}.t (id int PRIMARY KEY, v text)`);
    for (let i = 0; i < 50; i++) {
      await client.execute(`INSERT INTO ${KS}.t (id, v) VALUES (?, ?)`, [i, `v${i}`], { prepare: true });
    }
  });

  after(async function () {
    await client?.shutdown();
  });

  it('repairs the range cut at the vnode boundary and records both pieces in tend history', async function () {
    const since = Date.now();
    const report = await repairTable({ config, env: {}, out, signal: new AbortController().signal }, client, {
      table: `${KS}.t`,
      ranges: [parseTokenRange(RANGE)],
      incremental: false,
      parallelism: undefined,
      wait: false,
    });
    expect(report.status, report.message).to.equal('success');
    expect(report.ranges).to.equal(2);
    expect(report.rangesRepaired).to.equal(2);
    expect(report.executor).to.equal('jolokia');
    expect(report.error).to.equal(undefined);
    const rows = await client.execute(
      `SELECT range_start, range_end, status, started_at FROM ${config.cassandra.keyspace}.repair_history WHERE keyspace_name = ? AND table_name = ?`,
      [KS, 't'],
      { prepare: true },
    );
    const fresh = rows.rows.filter((r) => (r.get('started_at') as Date).getTime() >= since - 1000);
    expect(fresh.map((r) => `${r.get('range_start')}:${r.get('range_end')} ${r.get('status')}`)).to.have.members([
      '-8839064868652493483:-8454757700450211158 SUCCESS',
      '-8454757700450211158:-8070450532247928832 SUCCESS',
    ]);
  });

  it('a lease held by another node: exit 4; with --wait it runs once the lease is released', async function () {
    const backend = await openLeaseBackend(config, {}, async () => client);
    const groups = leaseGroups(config.lease, { datacenter: 'dc1', replicas: [NODES[1]!.address] });
    const claim = await acquireLeases(backend, groups, {
      holder: { name: 'someone-else', host: 'elsewhere' },
      ttlMs: 30_000,
      announcementTtlMs: 30_000,
    });
    if (!claim.acquired) throw new Error('could not take the lease for the test');
    try {
      const options = {
        table: `${KS}.t`,
        ranges: [parseTokenRange(RANGE)],
        incremental: false,
        parallelism: undefined,
        wait: false,
      };
      const deps = { config, env: {}, out, signal: new AbortController().signal };
      const refused = await repairTable(deps, client, options).catch((e: unknown) => e);
      expect(refused).to.be.instanceOf(LeaseUnavailable);
      expect((refused as LeaseUnavailable).exitCode).to.equal(ExitCode.LeaseUnavailable);
      expect((refused as Error).message).to.include(`lease node/${NODES[1]!.address} is held by someone-else until `);

      const started = Date.now();
      setTimeout(() => void Promise.all(claim.leases.map((lease) => backend.release(lease))), 2000);
      const report = await repairTable(deps, client, { ...options, wait: true });
      expect(report.status, report.message).to.equal('success');
      expect(Date.now() - started).to.be.at.least(1900);
    } finally {
      await Promise.all(claim.leases.map((lease) => backend.release(lease).catch(() => false)));
      await backend.close();
    }
  });
});
