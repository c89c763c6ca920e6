/**
 * tend's keyspace migrated for cluster-wide jobs (issue 17), on the real sandbox: a v2 keyspace (before jobs) gets
 * the jobs and job_steps tables from `applySchema` (2 → 3), the job's window column (4 → 5) and its operation's
 * options (5 → 6); a v4 keyspace whose jobs table has neither gets both columns (the two ALTER TABLE steps on an
 * existing table; a v5 case would repeat the second at 15 s of CI); a second apply is a no-op (ADD IF NOT EXISTS). Then a job with a window and one of every SSTable are written and read back
 * through the Cassandra job store of the migrated keyspace.
 */
import { expect } from 'chai';
import type cassandra from 'cassandra-driver';
import { initialSteps, type MaintenanceJob } from '../../src/core/index.js';
import { applySchema, schemaStatements, TEND_SCHEMA_VERSION } from '../../src/cluster/tend-schema.js';
import { CassandraJobStore } from '../../src/cluster/job-store.js';
import { cqlClient } from '../support/sandbox-clients.js';

const RUN = `${process.pid}_${Date.now().toString(36)}`;
const REPLICATION = { class: 'NetworkTopologyStrategy', dc1: 2, dc2: 1 };

/** The statements of an older version: today's, without the tables (and column) that came later. */
function olderSchema(keyspace: string, version: number): string[] {
  return schemaStatements(keyspace, REPLICATION)
    .filter((s) => !(version < 3 && /\.job(s|_steps) \(/.test(s)))
    .filter((s) => !(version < 4 && /\.coverage \(/.test(s)))
    .map((s) => (version < 6 ? s.replace(/,\s*operation_options text/, '') : s))
    .map((s) => (version < 5 ? s.replace(/,\s*run_window text/, '') : s))
    .map((s) => s.replace(/VALUES \('tend', \d+,/, `VALUES ('tend', ${version},`));
}

async function columns(client: cassandra.Client, keyspace: string, table: string): Promise<string[]> {
  const result = await client.execute(
    'SELECT column_name FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ?',
    [keyspace, table],
    { prepare: true },
  );
  return result.rows.map((r) => String(r.get('column_name'))).sort();
}

describe('schema migration of the jobs tables (integration)', function () {
  this.timeout(5 * 60_000);
  let client: cassandra.Client;
  const keyspaces = [`tend_it_jobs_v2_${RUN}`, `tend_it_jobs_v4_${RUN}`];

  before(async function () {
    client = cqlClient();
    await client.connect();
  });

  after(async function () {
    for (const ks of keyspaces) await client?.execute(`DROP KEYSPACE IF EXISTS ${ks}`).catch(() => undefined);
    await client?.shutdown();
  });

  for (const [index, from] of [2, 4].entries()) {
    it(`migrates a v${from} keyspace to v${TEND_SCHEMA_VERSION}: jobs tables, the window and options columns, twice harmlessly`, async function () {
      const keyspace = keyspaces[index]!;
      for (const statement of olderSchema(keyspace, from)) await client.execute(statement);
      const before = await columns(client, keyspace, 'jobs');
      expect(before.includes('run_window'), 'no window column before').to.equal(false);
      expect(before.includes('operation_options'), 'no options column before').to.equal(false);
      if (from === 2) expect(before).to.deep.equal([]);

      const applied = await applySchema(client, keyspace, REPLICATION);
      expect(applied).to.include({ previousVersion: from, version: TEND_SCHEMA_VERSION });
      expect(await columns(client, keyspace, 'jobs')).to.include.members([
        'id',
        'operation',
        'run_window',
        'operation_options',
      ]);
      expect(await columns(client, keyspace, 'job_steps')).to.include.members(['job_id', 'host_id', 'state']);
      // Applied again from v5 (no migration), and a v4 → v5 step replayed on the migrated table: both harmless.
      expect(await applySchema(client, keyspace, REPLICATION)).to.include({ previousVersion: TEND_SCHEMA_VERSION });
      await client.execute(`ALTER TABLE ${keyspace}.jobs ADD IF NOT EXISTS run_window text`);
      await client.execute(`ALTER TABLE ${keyspace}.jobs ADD IF NOT EXISTS operation_options text`);

      const store = new CassandraJobStore(client, keyspace);
      const job: MaintenanceJob = {
        id: `it-${from}`,
        operation: 'cleanup',
        keyspace: 'shop',
        concurrency: 1,
        concurrencyScope: 'cluster',
        staleAfterMs: 30_000,
        stepTimeoutMs: 3_600_000,
        maxAttempts: 2,
        createdAt: Date.now(),
        createdBy: 'it',
        window: {
          mode: 'allow',
          days: ['mon', 'tue'],
          start: '22:00',
          end: '06:00',
          timezone: 'Europe/Berlin',
          source: 'job start --window',
        },
      };
      await store.create(job, initialSteps(job, [{ hostId: 'h1', address: '127.0.0.1', datacenter: 'dc1' }]));
      expect((await store.job(job.id))?.window).to.deep.equal(job.window);
      const { window: _window, ...plain } = job;
      await store.create({ ...plain, id: `it-${from}-plain` }, []);
      expect((await store.job(`it-${from}-plain`))?.window).to.equal(undefined);
      expect((await store.job(`it-${from}-plain`))?.includeAllSSTables).to.equal(undefined);
      await store.create(
        { ...plain, id: `it-${from}-all`, operation: 'upgradesstables', includeAllSSTables: true },
        [],
      );
      expect((await store.job(`it-${from}-all`))?.includeAllSSTables).to.equal(true);
    });
  }
});
