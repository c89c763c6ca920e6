/**
 * Issue 12 item 24 on the sandbox: node3 dies while the first task of a batch repairs a keyspace it replicates.
 * The tick used to go on starting the remaining tasks on that replica, each failing at once with "Endpoint not
 * alive" (4 FAILED records within a second). Now the failure that names the dead endpoint makes the tick look at
 * the replicas again, and the tasks that need node3 are left for a later tick, with the reason in the report,
 * the log and the metrics.
 *
 * The first task is a table whose replicas disagree by about 10 MB, repaired with streaming throttled on node1
 * and node2, so it is still running when node3 is stopped. Stops a sandbox node, so it runs last (zz-) and starts
 * it again in after(). Jolokia executor.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type cassandra from 'cassandra-driver';
import { stringify } from 'yaml';
import { stopNode, up } from '../sandbox/src/sandbox.js';
import { tendConfig } from '../sandbox/src/tend-config.js';
import { cqlClient, jolokia } from '../support/sandbox-clients.js';
import {
  createTendKeyspace,
  historyRows,
  inconsistentKeyspace,
  nodeByName,
  RUN,
  tick,
  untilRepairRuns,
  type TickJson,
} from '../support/tick-e2e.js';

const TEND_KS = `tend_e2e_dies_${RUN}`;
const KS = `e2e_dies_${RUN}`;
const SMALL = ['a', 'b', 'c', 'd'];
/** node3 of this run's sandbox, the replica that dies. */
const NODE3 = nodeByName('node3').address;
const MBEAN = 'org.apache.cassandra.db:type=StorageService';
const THROUGHPUT = ['StreamThroughputMebibytesPerSec', 'EntireSSTableStreamThroughputMebibytesPerSec'];

describe('schedule tick: a replica that dies mid-batch (e2e)', function () {
  this.timeout(15 * 60_000);
  let dir: string;
  let client: cassandra.Client;
  let result: {
    exitCode: number | undefined;
    stderr: string;
    report: TickJson & { skipped: { table: string; reason: string }[] };
  };
  const restore: { index: number; attribute: string; value: number }[] = [];

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'tend-dies-'));
    // node1 and node2 of this run's sandbox (TEND_SANDBOX_INSTANCE): never another run's nodes.
    client = cqlClient({
      contactPoints: [nodeByName('node1').address, nodeByName('node2').address],
      localDataCenter: 'dc1',
    });
    await client.connect();
    await createTendKeyspace(client, TEND_KS);
    await inconsistentKeyspace(client, KS);
    for (const table of SMALL) {
      await client.execute(`CREATE TABLE ${KS}.${table} (id int PRIMARY KEY, v text)`);
      await client.execute(`INSERT INTO ${KS}.${table} (id, v) VALUES (1, 'x')`);
    }
    const raw = tendConfig(nodeByName('node1'), { executor: 'jolokia' });
    const config = {
      ...raw,
      cassandra: { ...raw.cassandra, keyspace: TEND_KS },
      repair: {
        ...raw.repair,
        // Range by range: one task per replica set and table, so the batch has tasks left on node3 when it dies
        // (by default these tables, 10 MB and less, would all be repaired whole in one command).
        smallTableSize: '0B',
        // The big table first (the highest weight), so node3 dies while it runs and the small ones follow.
        tables: [{ match: `${KS}.big`, weight: 1000 }, { match: `/^${KS}\\./` }, { match: '/.*/', enabled: false }],
      },
      schedule: { maxTasks: 10, maxDuration: '10m' },
      metrics: { textfileDirectory: dir },
    };
    const file = join(dir, 'node1.yml');
    writeFileSync(file, stringify(config));

    // Streaming from node1 and node2 throttled (node3 is about to go; it restarts with its defaults).
    for (const index of [1, 2]) {
      for (const attribute of THROUGHPUT) {
        const reply = await jolokia<number>(index, { type: 'read', mbean: MBEAN, attribute: `${attribute}AsDouble` });
        restore.push({ index, attribute, value: Math.round(reply.value) });
        await jolokia(index, { type: 'write', mbean: MBEAN, attribute, value: 1 });
      }
    }
    const since = Date.now();
    const running = tick(file);
    await untilRepairRuns(client, KS, since);
    await stopNode('node3');
    const done = await running;
    result = {
      exitCode: done.exitCode,
      stderr: String(done.stderr),
      report: JSON.parse(String(done.stdout)) as typeof result.report,
    };
  });

  after(async function () {
    this.timeout(10 * 60_000);
    for (const { index, attribute, value } of restore) {
      await jolokia(index, { type: 'write', mbean: MBEAN, attribute, value }).catch(() => undefined);
    }
    // Always bring node3 back: the rest of the suite needs the whole sandbox.
    await up();
    await client?.execute(`DROP KEYSPACE IF EXISTS ${KS}`).catch(() => undefined);
    await client?.execute(`DROP KEYSPACE IF EXISTS ${TEND_KS}`).catch(() => undefined);
    await client?.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('after the first failure naming the dead endpoint, no task that needs node3 is started', function () {
    const what = `${JSON.stringify(result.report, null, 1)}\n${result.stderr}`;
    const tasks = result.report.tasks;
    expect(tasks[0]!.tables, what).to.deep.equal(['big']);
    // The big table's session fails when node3 dies (Cassandra: "Endpoint … died"); at the latest the next task
    // fails at once with "Endpoint not alive". From then on every task is held back, none fails.
    const first = tasks.findIndex((t) => /not alive|died|is dead/i.test(t.message));
    expect(first, what).to.be.within(0, 1);
    expect(
      tasks.slice(0, first + 1).every((t) => t.status === 'failed'),
      what,
    ).to.equal(true);
    const rest = tasks.slice(first + 1);
    expect(rest.length, what).to.be.at.least(3);
    for (const task of rest) {
      expect(task.status, what).to.equal('not_started_replica_down');
      expect(task.message, what).to.include(`replica ${NODE3} went down during this tick`);
    }
    expect(result.report.skipped.map((s) => s.table).sort(), what).to.deep.equal(
      rest.map((t) => `${KS}.${t.tables[0]}`).sort(),
    );
    expect(result.exitCode, what).to.equal(6);
  });

  it('the log names each held-back task, and no history record is written for them', async function () {
    expect(result.stderr).to.include(`replica ${NODE3} is down: the remaining tasks that need it are left`);
    for (const task of result.report.tasks.filter((t) => t.status === 'not_started_replica_down')) {
      const table = task.tables[0]!;
      expect(result.stderr).to.include(`skipped ${KS}.${table}: replica ${NODE3} went down`);
      expect(await historyRows(client, TEND_KS, KS, table)).to.deep.equal([]);
    }
  });

  it('the metrics count the held-back tasks', function () {
    const held = result.report.tasks.filter((t) => t.status === 'not_started_replica_down').length;
    const metrics = readFileSync(join(dir, 'tend.prom'), 'utf8');
    expect(metrics).to.include(`tend_tick_tasks{outcome="replica_down"} ${held}`);
  });
});
