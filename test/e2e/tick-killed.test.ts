/**
 * A tick killed with SIGKILL mid-repair (issue 15 item 1), end to end through the built `tend schedule tick`:
 * - its task's start was recorded before the repair was sent, so `history show` lists the task as STARTED (with
 *   the reason it may have stayed so), not as nothing;
 * - its repair goes on in Cassandra as an orphan, and the next tick holds its own task back for it
 *   (not_started_repair_running), before any lease: the killed tick's leases are still held until their TTL.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type cassandra from 'cassandra-driver';
import { cqlClient, jolokia } from '../support/sandbox-clients.js';
import { NODES } from '../sandbox/src/layout.js';
import {
  createTendKeyspace,
  inconsistentKeyspace,
  nodeByName,
  noRepairLeft,
  RUN,
  tend,
  throttledStreaming,
  tick,
  untilRepairRuns,
  writeScopedConfig,
  type TickJson,
} from '../support/tick-e2e.js';
import type { HistoryReport } from '../../src/app/history-show.js';

const TEND_KS = `tend_e2e_killed_${RUN}`;
const KS = `e2e_killed_${RUN}`;

describe('schedule tick killed with SIGKILL mid-repair (e2e)', function () {
  this.timeout(5 * 60_000);
  let dir: string;
  let client: cassandra.Client;
  const node = nodeByName('node1');

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'tend-tick-killed-'));
    client = cqlClient();
    await client.connect();
    await createTendKeyspace(client, TEND_KS);
    await inconsistentKeyspace(client, KS, 20);
  });

  after(async function () {
    // The orphan would stream for about 20 s more at 1 MiB/s: stop it so later tests find idle nodes.
    for (const { index } of NODES) {
      await jolokia(index, {
        type: 'exec',
        mbean: 'org.apache.cassandra.db:type=StorageService',
        operation: 'forceTerminateAllRepairSessions()',
      }).catch(() => undefined);
    }
    await noRepairLeft(client, KS, 0).catch(() => undefined);
    for (const keyspace of [KS, TEND_KS]) {
      await client?.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
    }
    await client?.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('history show lists the task as STARTED; the next tick holds its task back for the orphan', async function () {
    const config = writeScopedConfig(dir, node, { tendKeyspace: TEND_KS, keyspaces: [KS], executor: 'jolokia' });
    const since = Date.now();
    const { killed, history, next } = await throttledStreaming(async () => {
      const running = tick(config);
      await untilRepairRuns(client, KS, since);
      running.kill('SIGKILL');
      const killed = await running;
      const history = await tend(config, ['--json', 'history', 'show', `${KS}.big`, '--since', '1h']);
      const next = await tick(config);
      return { killed, history, next };
    });
    expect(killed.signal).to.equal('SIGKILL');

    expect(history.exitCode, String(history.stderr)).to.equal(0);
    const report = JSON.parse(String(history.stdout)) as HistoryReport;
    const ours = report.sessions.filter((s) => s.source === 'tend');
    expect(ours.map((s) => [s.table, s.status, s.finishedAt])).to.deep.equal([['big', 'STARTED', null]]);
    expect(ours[0]!.coordinator).to.equal('node1');
    expect(ours[0]!.message).to.match(/^started: \d+ range\(s\); no outcome recorded yet/);
    // Cassandra's own books show the orphan too, still running.
    const theirs = report.sessions.filter((s) => s.source === 'cassandra');
    expect(theirs.length, JSON.stringify(report.sessions)).to.be.greaterThan(0);

    expect(next.exitCode, String(next.stderr)).to.equal(0);
    const held = JSON.parse(String(next.stdout)) as TickJson;
    expect(held.tasks.map((t) => t.status)).to.deep.equal(['not_started_repair_running']);
    expect(held.tasks[0]!.message).to.include(`coordinated by ${node.address}`);
  });
});
