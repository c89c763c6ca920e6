/**
 * The liveness gate end to end: with node3 stopped, the built `tend schedule tick` on node1 skips the tasks
 * that need node3 (every range of a keyspace replicated to dc2), says why, and still repairs a keyspace that
 * lives in dc1 only. Ticks exit 0 throughout.
 *
 * Stops a sandbox node, so it runs last (zz-) and always starts it again in after(). Jolokia executor.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
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
});
