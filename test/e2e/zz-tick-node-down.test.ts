/**
 * The liveness gate end to end: with node3 stopped, the built `tend schedule tick` on node1 skips the tasks
 * that need node3 (every range of a keyspace replicated to dc2), says why, and still repairs a keyspace that
 * lives in dc1 only. Ticks exit 0 throughout.
 *
 * A cluster-wide job (issue 17) started before node3 stops: node1's and node2's ticks skip node3's step with the
 * reason, carry out their own, and `job status` exits 6. The job is kept in Consul (its ticks use the Consul lease
 * backend), so node1's repair ticks above, on the Cassandra store, never see it.
 *
 * Stops a sandbox node, so it runs last (zz-) and always starts it again in after(). Jolokia executor.
 */
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type cassandra from 'cassandra-driver';
import { stopNode, up } from '../sandbox/src/sandbox.js';
import { NODES } from '../sandbox/src/layout.js';
import { cqlClient, jolokia } from '../support/sandbox-clients.js';
import {
  createSmallKeyspace,
  createTendKeyspace,
  historyRows,
  tend,
  nodeByName,
  RUN,
  tick,
  writeScopedConfig,
  type TickJson,
} from '../support/tick-e2e.js';

const TEND_KS = `tend_e2e_tick_down_${RUN}`;
const BOTH_DCS = `e2e_tick_down_both_${RUN}`;
const DC1_ONLY = `e2e_tick_down_dc1_${RUN}`;

interface TickWithSkips extends TickJson {
  skipped: { table: string; reason: string }[];
}

/** Waits until node1's gossip no longer lists node3 as live. */
async function untilNode3Down(): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const reply = await jolokia<string[]>(1, {
      type: 'read',
      mbean: 'org.apache.cassandra.db:type=StorageService',
      attribute: 'LiveNodes',
    });
    if (reply.status === 200 && !reply.value.some((n) => n.includes(NODES[2]!.address))) return;
    await sleep(250);
  }
  throw new Error('node1 still sees node3 as live after 60 s');
}

describe('schedule tick with a node down: tasks that need it are skipped, others run (e2e)', function () {
  this.timeout(15 * 60_000);
  let dir: string;
  let client: cassandra.Client;
  let config: string;
  const ticks: { exitCode: number | undefined; stderr: string; report: TickWithSkips }[] = [];
  let jobConfigs: string[] = [];
  let jobId: string;

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'tend-tick-down-'));
    client = cqlClient({ contactPoints: [NODES[0]!.address, NODES[1]!.address], localDataCenter: 'dc1' });
    await client.connect();
    await createTendKeyspace(client, TEND_KS);
    await createSmallKeyspace(client, BOTH_DCS, { dc1: 2, dc2: 1 }, ['t']);
    await createSmallKeyspace(client, DC1_ONLY, { dc1: 2 }, ['t']);
    config = writeScopedConfig(dir, nodeByName('node1'), {
      tendKeyspace: TEND_KS,
      keyspaces: [BOTH_DCS, DC1_ONLY],
      executor: 'jolokia',
      leaseBackend: 'cassandra',
    });
    // Their own directory: a config file is named after its node, and node1's above must stay as it is.
    const jobDir = join(dir, 'job');
    mkdirSync(jobDir);
    jobConfigs = ['node1', 'node2'].map((name) =>
      writeScopedConfig(jobDir, nodeByName(name), {
        tendKeyspace: TEND_KS,
        keyspaces: [`none_${RUN}`],
        executor: 'jolokia',
        leaseBackend: 'consul',
      }),
    );
    const started = await tend(jobConfigs[0]!, ['--json', 'job', 'start', 'cleanup', DC1_ONLY]);
    expect(started.exitCode, String(started.stderr)).to.equal(0);
    jobId = (JSON.parse(String(started.stdout)) as { job: { id: string } }).job.id;
    await stopNode('node3');
    await untilNode3Down();
    for (let round = 0; round < 6; round++) {
      const result = await tick(config);
      const report = JSON.parse(String(result.stdout)) as TickWithSkips;
      ticks.push({ exitCode: result.exitCode, stderr: String(result.stderr), report });
      if (report.result !== 'ran') break;
    }
  });

  after(async function () {
    this.timeout(10 * 60_000);
    // Always bring node3 back, whatever happened above: the rest of the suite needs the whole sandbox.
    await up();
    await client?.execute(`DROP KEYSPACE IF EXISTS ${BOTH_DCS}`).catch(() => undefined);
    await client?.execute(`DROP KEYSPACE IF EXISTS ${DC1_ONLY}`).catch(() => undefined);
    await client?.execute(`DROP KEYSPACE IF EXISTS ${TEND_KS}`).catch(() => undefined);
    await client?.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every tick exits 0', function () {
    for (const t of ticks) expect(t.exitCode, `${t.report.result}: ${t.report.summary}\n${t.stderr}`).to.equal(0);
  });

  it('the keyspace not replicated to node3 is repaired', async function () {
    const ran = ticks.filter((t) => t.report.result === 'ran');
    expect(ran.length, JSON.stringify(ticks.map((t) => t.report.summary))).to.be.greaterThan(0);
    const rows = await historyRows(client, TEND_KS, DC1_ONLY, 't');
    expect(rows.length).to.be.greaterThan(0);
    expect(rows.every((r) => r.status === 'SUCCESS')).to.equal(true);
  });

  it('tasks that need node3 are skipped, with the reason, and never run', async function () {
    for (const t of ticks) {
      expect(t.report.tasks.map((task) => task.keyspace)).to.not.include(BOTH_DCS);
      const skipped = t.report.skipped.filter((s) => s.table === `${BOTH_DCS}.t`);
      expect(skipped.length, JSON.stringify(t.report)).to.be.greaterThan(0);
      expect(skipped[0]!.reason).to.include(NODES[2]!.address);
      expect(skipped[0]!.reason).to.match(/down/);
      expect(t.stderr).to.match(new RegExp(`skipped ${BOTH_DCS}\\.t: .*down`));
    }
    expect(await historyRows(client, TEND_KS, BOTH_DCS, 't')).to.deep.equal([]);
  });

  it('once the dc1-only keyspace is done, the tick says replicas are down (exit 0, one line why)', function () {
    const last = ticks[ticks.length - 1]!.report;
    expect(last.result, last.summary).to.equal('replicas_down');
    expect(last.summary).to.match(/down/);
  });

  it("a job started before node3 stopped: node3's step is skipped with the reason, the others run, job status exits 6", async function () {
    const status = async () => {
      const result = await tend(jobConfigs[0]!, ['--json', 'job', 'status', jobId]);
      const view = JSON.parse(String(result.stdout)) as {
        phase: string;
        steps: { address: string; state: string; message?: string }[];
      };
      return { exitCode: result.exitCode, view };
    };
    for (let round = 0; round < 4 && (await status()).view.phase === 'active'; round++) {
      const results = await Promise.all(jobConfigs.map((config) => tick(config)));
      expect(results.map((r) => r.exitCode)).to.deep.equal([0, 0]);
    }
    const { exitCode, view } = await status();
    expect(view.phase).to.equal('done');
    const node3 = view.steps.find((s) => s.address === NODES[2]!.address)!;
    expect(node3.state).to.equal('skipped');
    expect(node3.message).to.equal(`skipped: ${NODES[2]!.address} was down at its turn`);
    expect(view.steps.filter((s) => s.address !== NODES[2]!.address).map((s) => s.state)).to.deep.equal([
      'done',
      'done',
    ]);
    expect(exitCode, 'a step skipped because its node was down makes job status exit 6').to.equal(6);
  });
});
