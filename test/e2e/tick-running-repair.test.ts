/**
 * A tick never starts a repair onto a replica that is already repairing (issue 15), end to end through the built
 * `tend schedule tick`: an operator's `nodetool repair --full` runs on node2 (streaming throttled, so it lasts), the
 * tick on node1 sees it in the replicas' system_views and holds its task back, naming the repair, with exit 0 and
 * the metrics counting it; once the operator's repair has ended, the next tick counts it as the table's repair.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type cassandra from 'cassandra-driver';
import { cqlClient, nodetool } from '../support/sandbox-clients.js';
import {
  createTendKeyspace,
  inconsistentKeyspace,
  nodeByName,
  parentSessions,
  RUN,
  throttledStreaming,
  tick,
  untilRepairRuns,
  writeScopedConfig,
  type TickJson,
} from '../support/tick-e2e.js';

const TEND_KS = `tend_e2e_running_${RUN}`;
const KS = `e2e_running_${RUN}`;

describe('schedule tick: a replica already repairing holds the task back (e2e)', function () {
  this.timeout(5 * 60_000);
  let dir: string;
  let client: cassandra.Client;
  const node = nodeByName('node1');

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'tend-tick-running-'));
    client = cqlClient();
    await client.connect();
    await createTendKeyspace(client, TEND_KS);
    await inconsistentKeyspace(client, KS, 20);
  });

  after(async function () {
    for (const keyspace of [KS, TEND_KS]) {
      await client?.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
    }
    await client?.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it("an operator's nodetool repair on node2: node1's tick holds its task back with the reason, exit 0; then counts it", async function () {
    const metrics = join(dir, 'metrics');
    const config = writeScopedConfig(dir, node, {
      tendKeyspace: TEND_KS,
      keyspaces: [KS],
      executor: 'jolokia',
      metricsDirectory: metrics,
    });
    const since = Date.now();
    const result = await throttledStreaming(async () => {
      const operator = nodetool(2, ['repair', '--full', KS], 4 * 60_000);
      await untilRepairRuns(client, KS, since);
      const held = await tick(config);
      await operator;
      return held;
    });
    expect(result.exitCode, String(result.stderr)).to.equal(0);
    const report = JSON.parse(String(result.stdout)) as TickJson;
    expect(report.tasks.map((t) => t.status)).to.deep.equal(['not_started_repair_running']);
    expect(report.tasks[0]!.message).to.match(/^replica 127\.\d+\.\d+\.\d+ is already repairing: repair [0-9a-f-]{36}/);
    expect(report.tasks[0]!.message).to.include(`coordinated by ${nodeByName('node2').address}`);
    expect(report.skipped.map((s) => s.table)).to.deep.equal([`${KS}.big`]);
    expect(String(result.stderr)).to.include(`skipped ${KS}.big: replica`);
    // The only repair of KS in Cassandra's books is the operator's (one nodetool command: one parent session).
    expect(await parentSessions(client, KS, since)).to.have.length(1);
    expect(readFileSync(join(metrics, 'tend.prom'), 'utf8')).to.match(/tend_tick_tasks\{outcome="repair_running"\} 1/);

    // Once it has ended, nothing holds the table back, and nothing is left to do: the operator's full repair
    // covered every range node1 holds (RF 3 on three nodes), and tend counts repairs by anyone.
    const after = await tick(config);
    expect(after.exitCode, String(after.stderr)).to.equal(0);
    const next = JSON.parse(String(after.stdout)) as TickJson;
    expect(next.tasks).to.deep.equal([]);
    expect(next.result, next.summary).to.equal('nothing_due');
  });
});
