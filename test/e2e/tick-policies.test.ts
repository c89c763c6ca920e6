/**
 * Run policies end to end, through the built `tend schedule tick` on the sandbox: a time window that forbids
 * now (from the configuration, and one stored with `tend policy add`) and an active pause make the tick do
 * nothing, exit 0, with one line saying why; a pause that already ended has no effect; and a table repaired
 * beforehand with a plain `nodetool repair` is not repaired again (shared history).
 *
 * Jolokia executor throughout (the executor does not matter here, and nodetool starts a JVM per range).
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type cassandra from 'cassandra-driver';
import { cqlClient, nodetool } from '../support/sandbox-clients.js';
import {
  createSmallKeyspace,
  createTendKeyspace,
  historyRows,
  nodeByName,
  RUN,
  tend,
  tick,
  writeScopedConfig,
  type TickJson,
} from '../support/tick-e2e.js';

const KS = `e2e_tick_policies_${RUN}`;
const TEND_KS = `tend_e2e_tick_policies_${RUN}`;

/** HH:MM (UTC) of now + `minutes`. */
function hhmm(minutes: number): string {
  const date = new Date(Date.now() + minutes * 60_000);
  return `${String(date.getUTCHours()).padStart(2, '0')}:${String(date.getUTCMinutes()).padStart(2, '0')}`;
}

describe('schedule tick: run policies and shared history (e2e)', function () {
  this.timeout(5 * 60_000);
  let dir: string;
  let client: cassandra.Client;
  let config: string;
  const node = nodeByName('node1');

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'tend-tick-policies-'));
    client = cqlClient();
    await client.connect();
    await createTendKeyspace(client, TEND_KS);
    await createSmallKeyspace(client, KS, { dc1: 2, dc2: 1 }, ['due', 'pre']);
    config = writeScopedConfig(dir, node, { tendKeyspace: TEND_KS, keyspaces: [KS] });
  });

  after(async function () {
    await client?.execute(`DROP KEYSPACE IF EXISTS ${KS}`).catch(() => undefined);
    await client?.execute(`DROP KEYSPACE IF EXISTS ${TEND_KS}`).catch(() => undefined);
    await client?.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  async function expectNoHistory(): Promise<void> {
    for (const table of ['due', 'pre']) {
      expect(await historyRows(client, TEND_KS, KS, table), `${table}: tend history`).to.deep.equal([]);
    }
  }

  it('a configured window that forbids now: nothing runs, exit 0, one line says outside_window', async function () {
    // Opens in two hours, for one hour: closed now, whatever the time of day.
    const windowed = writeScopedConfig(dir, node, {
      tendKeyspace: TEND_KS,
      keyspaces: [KS],
      schedule: { windows: [{ start: hhmm(120), end: hhmm(180) }] },
    });
    const text = await tick(windowed);
    // The text form (no --json): exactly one line on stdout.
    const plain = await tend(windowed, ['schedule', 'tick']);
    expect(plain.exitCode, String(plain.stderr)).to.equal(0);
    const lines = String(plain.stdout).trim().split('\n');
    expect(lines, String(plain.stdout)).to.have.length(1);
    expect(lines[0]).to.match(/^outside_window: .*window/);
    expect(text.exitCode, String(text.stderr)).to.equal(0);
    const report = JSON.parse(String(text.stdout)) as TickJson;
    expect(report.result).to.equal('outside_window');
    expect(report.tasks).to.deep.equal([]);
    await expectNoHistory();
    // Put the plain config back for the next tests (same file name).
    config = writeScopedConfig(dir, node, { tendKeyspace: TEND_KS, keyspaces: [KS] });
  });

  it('a stored block window (tend policy add) that covers now: outside_window, exit 0', async function () {
    const added = await tend(config, ['policy', 'add', 'block', KS, '--start', hhmm(-60), '--end', hhmm(60)]);
    expect(added.exitCode, String(added.stderr)).to.equal(0);
    try {
      const result = await tick(config);
      expect(result.exitCode, String(result.stderr)).to.equal(0);
      const report = JSON.parse(String(result.stdout)) as TickJson;
      expect(report.result, report.summary).to.equal('outside_window');
      expect(report.summary).to.match(/window/);
      await expectNoHistory();
    } finally {
      await client.execute(`TRUNCATE ${TEND_KS}.run_windows`);
    }
  });

  it('an active pause: result paused, exit 0, nothing runs', async function () {
    const paused = await tend(config, ['schedule', 'pause', '--until', '2h', '--reason', 'e2e maintenance']);
    expect(paused.exitCode, String(paused.stderr)).to.equal(0);
    const result = await tend(config, ['schedule', 'tick']);
    expect(result.exitCode, String(result.stderr)).to.equal(0);
    const lines = String(result.stdout).trim().split('\n');
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(/^paused: .*e2e maintenance/);
    await expectNoHistory();
  });

  it('a table repaired beforehand with plain nodetool repair is not planned nor repaired again', async function () {
    // node3 is dc2's only replica, so it holds every range: one full repair there covers the whole table.
    const repaired = await nodetool(3, ['repair', '-full', KS, 'pre']);
    expect(repaired.exitCode, String(repaired.stdout) + String(repaired.stderr)).to.equal(0);
    const dry = await tick(config, ['--dry-run']);
    expect(dry.exitCode, String(dry.stderr)).to.equal(0);
    const plan = JSON.parse(String(dry.stdout)) as {
      plan?: { tasks: { tables: string[] }[] };
      tasks?: { tables: string[] }[];
    };
    const tasks = plan.plan?.tasks ?? plan.tasks ?? [];
    // The pause is still active, so the plan has no tasks at all here; the check that matters is after it ends.
    expect(tasks.flatMap((t) => t.tables)).to.not.include('pre');
  });

  it('a pause whose --until is already past has no effect: the tick repairs what is due', async function () {
    const past = new Date(Date.now() - 3600_000).toISOString();
    const paused = await tend(config, ['schedule', 'pause', '--until', past]);
    expect(paused.exitCode, String(paused.stderr)).to.equal(0);
    const dry = await tick(config, ['--dry-run']);
    const plan = JSON.parse(String(dry.stdout)) as {
      plan?: { tasks: { tables: string[] }[] };
      tasks?: { tables: string[] }[];
    };
    const planned = (plan.plan?.tasks ?? plan.tasks ?? []).flatMap((t) => t.tables);
    expect(planned, String(dry.stdout)).to.include('due');
    expect(planned, 'repaired by nodetool beforehand').to.not.include('pre');

    let report: TickJson | undefined;
    for (let round = 0; round < 6; round++) {
      const result = await tick(config);
      expect(result.exitCode, String(result.stderr)).to.equal(0);
      report = JSON.parse(String(result.stdout)) as TickJson;
      expect(report.result, report.summary).to.be.oneOf(['ran', 'nothing_due']);
      expect(report.tasks.flatMap((t) => t.tables)).to.not.include('pre');
      if (report.result === 'nothing_due') break;
    }
    expect(report?.result).to.equal('nothing_due');
    const due = await historyRows(client, TEND_KS, KS, 'due');
    expect(due.length).to.be.greaterThan(0);
    expect(due.every((r) => r.status === 'SUCCESS')).to.equal(true);
    expect(await historyRows(client, TEND_KS, KS, 'pre'), 'pre: tend history').to.deep.equal([]);
  });
});
