/**
 * The textfile a tick writes, from a real plan of the sandbox: every planned table appears with its state, and a
 * table never repaired reads as such. Also checks that `Plan['jobs']` feeds writeTickMetrics as it is.
 */
import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type cassandra from 'cassandra-driver';
import { currentPlan } from '../../src/app/schedule.js';
import { schemaStatements } from '../../src/cluster/tend-schema.js';
import { writeTickMetrics } from '../../src/metrics/tick-metrics.js';
import { parseExposition } from '../../src/metrics/textfile.js';
import { sandboxTendConfig, openTestSession } from '../support/sandbox-config.js';

const KS = 'tend_it_metrics';
const DATA = 'tend_it_metrics_data';

describe('metrics textfile from a real plan (real sandbox)', function () {
  let client: cassandra.Client;
  const config = sandboxTendConfig(1, {}, (raw) => {
    raw.cassandra.keyspace = KS;
  });

  before(async function () {
    client = await openTestSession(config);
    for (const statement of schemaStatements(KS, { class: 'NetworkTopologyStrategy', dc1: 2, dc2: 1 })) {
      await client.execute(statement);
    }
    await client.execute(
      `CREATE KEYSPACE IF NOT EXISTS ${DATA} WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 2, 'dc2': 1}`,
    );
    await client.execute(`CREATE TABLE IF NOT EXISTS ${DATA}.events (id int PRIMARY KEY, v text)`);
  });
  after(() => client?.shutdown());

  it('publishes every planned table; a never-repaired table is 0, ratio 0, OVERDUE, error alarm', async () => {
    const started = Date.now();
    const { plan } = await currentPlan(client, config);
    const dir = mkdtempSync(join(tmpdir(), 'tend-metrics-it-'));
    const path = await writeTickMetrics(dir, {
      startedAt: plan.now,
      durationMs: Date.now() - started,
      result: plan.tasks.length > 0 ? 'ran' : 'nothing_due',
      jobs: plan.jobs,
      tasks: {},
      leases: {},
      node: { name: 'node1', datacenter: plan.localDatacenter, version: 'test' },
    });
    const samples = parseExposition(await readFile(path, 'utf8'));
    const ratios = samples.filter((s) => s.name === 'tend_table_repaired_ratio');
    expect(ratios).to.have.length(plan.jobs.length);
    const events = { keyspace: DATA, table: 'events' };
    const find = (name: string, labels: Record<string, string>) =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    expect(find('tend_table_last_repaired_timestamp_seconds', events)).to.equal(0);
    expect(find('tend_table_repaired_ratio', events)).to.equal(0);
    expect(find('tend_table_state', { ...events, state: 'OVERDUE' })).to.equal(1);
    expect(find('tend_table_alarm_level', events)).to.equal(2);
    const errorTables = plan.jobs.filter((job) => job.alarm === 'error').length;
    expect(find('tend_alarm_tables', { level: 'error' })).to.equal(errorTables);
    expect(find('tend_info', { datacenter: 'dc1' })).to.equal(1);
  });
});
