/**
 * A tick never starts a repair onto a replica that is already repairing (issue 15), end to end through the built
 * `tend schedule tick`: an operator's `nodetool repair --full` runs on node2 (streaming throttled, so it lasts), the
 * tick on node1 sees it in the replicas' system_views and holds its task back, naming the repair, with exit 0 and
 * the metrics counting it; `schedule plan --explain`, asked just before, says the same; once the operator's repair
 * has ended, the next tick counts it as the table's repair. Then, on what that leaves (no new repair work): the
 * ring picture of the repaired table and of a new one, on a pseudo-terminal and as JSON, and a back-pressure limit
 * lowered below a table's SSTable count, which `schedule plan --explain` and the tick both report in the same words.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type cassandra from 'cassandra-driver';
import type { StartCheck } from '../../src/app/schedule.js';
import type { HistoryReport } from '../../src/app/history-show.js';
import { execa } from 'execa';
import { cqlClient, jolokia, nodetool } from '../support/sandbox-clients.js';
import {
  createTendKeyspace,
  inconsistentKeyspace,
  nodeByName,
  parentSessions,
  ringRanges,
  RUN,
  tend,
  throttledStreaming,
  tick,
  BIN,
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
      const explained = await tend(config, ['--json', 'schedule', 'plan', '--explain']);
      const held = await tick(config);
      await operator;
      return { ...held, explained };
    });
    // --explain, read just before the tick, found the same running repair and says it in the tick's words (but for
    // the "(… ago)" it measures at its own moment), taking no lease and starting nothing (one parent session below).
    expect(result.explained.exitCode, String(result.explained.stderr)).to.equal(0);
    const explained = JSON.parse(String(result.explained.stdout)) as { startChecks: StartCheck[]; tasks: unknown[] };
    expect(explained.startChecks).to.have.length(explained.tasks.length).and.length.greaterThan(0);
    const check = explained.startChecks[0]!;
    expect(check.start).to.equal(false);
    expect(check.code).to.equal('repair_running');
    expect(check.repairs.map((r) => r.coordinator)).to.include(nodeByName('node2').address);
    expect(result.exitCode, String(result.stderr)).to.equal(0);
    const report = JSON.parse(String(result.stdout)) as TickJson;
    expect(report.tasks.map((t) => t.status)).to.deep.equal(['not_started_repair_running']);
    expect(report.tasks[0]!.message).to.match(/^replica 127\.\d+\.\d+\.\d+ is already repairing: repair [0-9a-f-]{36}/);
    expect(report.tasks[0]!.message).to.include(`coordinated by ${nodeByName('node2').address}`);
    const withoutAge = (text: string | null) => String(text).replace(/ \([^()]* ago\)/, '');
    expect(withoutAge(check.reason)).to.equal(withoutAge(report.tasks[0]!.message));
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

  it('the ring picture: the repaired table in full, a new one never; on a pseudo-terminal and as JSON', async function () {
    const config = writeScopedConfig(dir, node, { tendKeyspace: TEND_KS, keyspaces: [KS], executor: 'jolokia' });
    await client.execute(`CREATE TABLE ${KS}.fresh (id int PRIMARY KEY, v text)`);
    const json = await tend(config, ['--json', 'history', 'show', KS, '--ring']);
    expect(json.exitCode, String(json.stderr)).to.equal(0);
    const report = JSON.parse(String(json.stdout)) as HistoryReport;
    const ring = (table: string) => report.coverage!.find((row) => row.table === table)!.ring!;
    // RF 3 on three nodes: node1 replicates every range; the operator's full repair covered them all.
    const ranges = (await ringRanges()).length;
    expect(ring('big').ranges).to.have.length(ranges);
    expect(ring('big').bands).to.deep.equal({ ok: ranges, due: 0, warn: 0, error: 0, never: 0 });
    expect(ring('fresh').ranges.map((r) => r.band)).to.deep.equal(Array<string>(ranges).fill('never'));

    // Under a pseudo-terminal (util-linux script): the strips, each run of cells in its band's colour (piped
    // and NO_COLOR output, plain characters, is checked by test/unit/cli/history-output.test.ts).
    const command = [process.execPath, BIN, '-c', config, 'history', 'show', KS, '--ring'].map(shellQuote).join(' ');
    const tty = await execa('script', ['-qec', command, '/dev/null'], {
      reject: false,
      timeout: 60_000,
      env: { TERM: 'xterm', NO_COLOR: undefined, FORCE_COLOR: undefined },
    });
    expect(tty.exitCode, String(tty.stderr)).to.equal(0);
    expect(String(tty.stdout)).to.include(`|\u001b[32m${'#'.repeat(64)}\u001b[39m|`);
    expect(String(tty.stdout)).to.include(`|\u001b[35m${'?'.repeat(64)}\u001b[39m|`);
  });

  it("a back-pressure limit below a table's SSTable count: plan --explain and the tick give the same reason", async function () {
    // Two SSTables of KS.fresh on node1 (two flushes, fewer than compaction's threshold of 4); none elsewhere.
    for (let flush = 0; flush < 2; flush++) {
      await client.execute(`INSERT INTO ${KS}.fresh (id, v) VALUES (?, ?)`, [flush, 'x'], { prepare: true });
      const reply = await jolokia(node.index, {
        type: 'exec',
        mbean: 'org.apache.cassandra.db:type=StorageService',
        operation: 'forceKeyspaceFlush(java.lang.String,[Ljava.lang.String;)',
        arguments: [KS, ['fresh']],
      });
      expect(reply.status, reply.error).to.equal(200);
    }
    const config = writeScopedConfig(join(dir, 'pressed'), node, {
      tendKeyspace: TEND_KS,
      keyspaces: [KS],
      executor: 'jolokia',
      repair: { backPressure: { maxSSTables: 1 } },
    });
    const expected = new RegExp(
      `^replica ${node.address.replaceAll('.', '\\.')} is under back-pressure: ${KS}\\.fresh has [2-9] SSTables > repair\\.backPressure\\.maxSSTables 1`,
    );
    const plan = await tend(config, ['--json', 'schedule', 'plan', '--explain']);
    expect(plan.exitCode, String(plan.stderr)).to.equal(0);
    const check = (JSON.parse(String(plan.stdout)) as { startChecks: StartCheck[] }).startChecks[0]!;
    expect(check.code).to.equal('back_pressure');
    expect(check.reason).to.match(expected);
    expect(check.overloads.map((o) => `${o.replica} ${o.what}`)).to.deep.equal([`${node.address} sstables`]);

    const held = await tick(config);
    expect(held.exitCode, String(held.stderr)).to.equal(0);
    const report = JSON.parse(String(held.stdout)) as TickJson;
    expect(report.tasks.map((t) => t.status)).to.deep.equal(['not_started_back_pressure']);
    expect(report.tasks[0]!.message).to.equal(check.reason);
  });
});

function shellQuote(word: string): string {
  return `'${word.replaceAll("'", "'\\''")}'`;
}
