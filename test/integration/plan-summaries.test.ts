/**
 * Idle plans from summaries, on the real sandbox (issue 14): after one tick-like plan has read a keyspace's ranges
 * and stored its summaries, the next plan reads one summary row per table and no range-level state, and reaches the
 * same decisions as a plan that reads everything. A summary whose local ranges changed is not trusted. And what
 * Cassandra records per table for a real repair command over several tables is read back per table.
 */
import { expect } from 'chai';
import cassandra from 'cassandra-driver';
import { openSession } from '../../src/cluster/session.js';
import { schemaStatements } from '../../src/cluster/schema.js';
import { currentPlan } from '../../src/app/schedule.js';
import { tableKey, tablesRepairedByCommand } from '../../src/core/index.js';
import { readTableSummaries, writeTableSummaries } from '../../src/history/table-summary.js';
import { readCommandSessions } from '../../src/history/cassandra-history.js';
import { NODES } from '../sandbox/src/layout.js';
import { nodetool } from '../support/sandbox-clients.js';
import { sandboxTendConfig } from '../support/sandbox-config.js';
import { createSmallKeyspace } from '../support/tick-e2e.js';
import type { TendConfig } from '../../src/config/schema.js';

const TEND_KS = 'tend_it_summaries';
const KS = `it_summaries_${process.pid}`;
const TABLES = Array.from({ length: 10 }, (_, i) => `t${i}`);

describe('plans from table summaries (integration)', function () {
  this.timeout(5 * 60_000);
  let client: cassandra.Client;
  let config: TendConfig;

  before(async function () {
    config = sandboxTendConfig(1, {}, (raw) => {
      raw.cassandra.keyspace = TEND_KS;
      (raw.repair as Record<string, unknown>).tables = [{ match: `/^${KS}\\./` }, { match: '/.*/', enabled: false }];
    });
    client = await openSession(config, {});
    await client.execute(`DROP KEYSPACE IF EXISTS ${TEND_KS}`);
    for (const statement of schemaStatements(TEND_KS, { class: 'NetworkTopologyStrategy', dc1: 2, dc2: 1 })) {
      await client.execute(statement);
    }
    await createSmallKeyspace(client, KS, { dc1: 2, dc2: 1 }, TABLES, 2);
    // node3 (dc2's only node) holds every range: one full repair of the keyspace repairs everything.
    const repaired = await nodetool(3, ['repair', '-full', KS], 10 * 60_000);
    expect(repaired.exitCode, `${repaired.stdout}${repaired.stderr}`).to.equal(0);
  });

  after(async function () {
    await client?.execute(`DROP KEYSPACE IF EXISTS ${KS}`).catch(() => undefined);
    await client?.execute(`DROP KEYSPACE IF EXISTS ${TEND_KS}`).catch(() => undefined);
    await client?.shutdown();
  });

  it('a first plan reads the ranges and stores summaries; the next reads one summary row per table and nothing else', async function () {
    const first = await currentPlan(client, config, { basis: 'summaries', persistHistory: true });
    expect(first.plan.jobs.map((j) => j.basis)).to.deep.equal(TABLES.map(() => 'ranges'));
    expect(first.plan.jobs.every((j) => !j.due)).to.equal(true);
    expect(first.context.rowsRead.state + first.context.rowsRead.sessions).to.be.greaterThan(0);
    const stored = await readTableSummaries(client, TEND_KS, first.plan.localHostId);
    expect([...stored.summaries.keys()].sort()).to.deep.equal(TABLES.map((t) => tableKey(KS, t)).sort());

    const idle = await currentPlan(client, config, { basis: 'summaries', persistHistory: true });
    const rows = idle.context.rowsRead;
    expect(rows).to.deep.include({ summaries: TABLES.length, state: 0, sessions: 0, parents: 0, estimates: 0 });
    expect(idle.plan.jobs.map((j) => j.basis)).to.deep.equal(TABLES.map(() => 'summary'));
    // Per table: its summary row and its system_schema row; the rest is the topology of the whole cluster.
    expect(rows.total - rows.topology).to.equal(TABLES.length + rows.policies);

    const full = await currentPlan(client, config, { basis: 'ranges' });
    const decisions = (jobs: typeof full.plan.jobs) =>
      jobs.map((j) => [j.table, j.due, j.state, j.alarm, j.priority, j.rangesBehind].join(' ')).sort();
    expect(decisions(idle.plan.jobs)).to.deep.equal(decisions(full.plan.jobs));
    expect(idle.plan.tasks).to.deep.equal(full.plan.tasks);
  });

  it('does not trust a summary computed on other ranges (a changed ring or replication): reads the table again', async function () {
    const before = await currentPlan(client, config, { basis: 'summaries' });
    await writeTableSummaries(
      client,
      TEND_KS,
      before.plan.localHostId,
      [{ keyspace: KS, table: 't0', oldestRepairedAt: Date.now(), fingerprint: 'other-ranges' }],
      Date.now(),
    );
    const after = await currentPlan(client, config, { basis: 'summaries' });
    expect(after.plan.jobs.find((j) => j.table === 't0')!.basis).to.equal('ranges');
    expect(after.context.rowsRead.state).to.be.greaterThan(0);
    expect(after.plan.jobs.filter((j) => j.basis === 'summary')).to.have.length(TABLES.length - 1);
  });

  it('reads back per table what Cassandra recorded for one repair command over several tables', async function () {
    const node = NODES[0]!;
    const from = Date.now();
    const run = await nodetool(1, ['repair', '-full', KS, 't1', 't2', 't3'], 10 * 60_000);
    expect(run.exitCode, `${run.stdout}${run.stderr}`).to.equal(0);
    const rows = await readCommandSessions(client, KS, ['t1', 't2', 't3', 't4'], {
      fromMs: from,
      toMs: Date.now(),
      coordinator: node.address,
    });
    const parents = new Set(rows.map((r) => r.parentId));
    expect(parents.size, JSON.stringify(rows)).to.equal(1);
    expect(rows.every((r) => r.table !== 't4')).to.equal(true);
    expect(tablesRepairedByCommand(['t1', 't2', 't3', 't4'], rows)).to.deep.equal(['t1', 't2', 't3']);
    // Another coordinator's window sees none of it.
    const elsewhere = await readCommandSessions(client, KS, ['t1'], {
      fromMs: from,
      toMs: Date.now(),
      coordinator: NODES[1]!.address,
    });
    expect(elsewhere).to.deep.equal([]);
  });
});
