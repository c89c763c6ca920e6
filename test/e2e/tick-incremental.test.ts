/**
 * Incremental repair end to end, through the built `tend schedule tick` on the sandbox: before running incremental
 * tasks the tick asks node1 how much of each table is marked repaired (percentRepaired and maxRepairedAt, through
 * Jolokia or through nodetool, whichever is the executor) and leaves out the tables that are fully repaired.
 *
 * Keyspace KS (dc1: 2, dc2: 1, so every node holds every range) with two small tables, flushed on every node:
 * - `done` is repaired incrementally beforehand with a plain `nodetool repair KS done` on node1 (no --full is
 *   incremental on Cassandra 5.0), and the test waits until every node reports PercentRepaired 100 for it
 *   (anticompaction ends asynchronously; on the sandbox it was already done when nodetool returned);
 * - `todo` is never repaired beforehand: PercentRepaired 0 after the flush.
 *
 * Shared history counts that plain repair of `done` (DESIGN.md: a range repaired by anyone counts), so with the
 * default 7d interval `done` would not even be due and the filter would never be asked. The configuration sets
 * `repair.interval: 1s`, so both tables are due at every tick: the case the filter exists for (an incremental table
 * due again whose data has not changed since its last repair). Before each tick the test waits until
 * `tend schedule plan` lists both (a table repaired less than a second ago is not due yet). `plannedTasks` (counted
 * before the filter) proves both were planned; what is left out is in the report's `skipped` (and an info line on
 * stderr: `skipped KS.done: fully repaired (…, last at <node1's maxRepaired>)`). Without the filter every case here
 * fails (checked: the tick then repairs `done` too).
 *
 * Why the flush: PercentRepaired counts on-disk sstables only. Measured on the sandbox (Cassandra 5.0): a table
 * whose rows are all still in memtables — or that has no data at all — reports PercentRepaired 100 with
 * maxRepaired 0 on every node; after `nodetool flush` the same table reports 0. tend takes "100% but nothing ever
 * marked repaired" as unknown and repairs (the last case; an earlier build skipped such a table as fully repaired).
 *
 * Jolokia executor for the first two cases and the last, nodetool (one JVM per call) for the third.
 */
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type cassandra from 'cassandra-driver';
import { parentRepairs, type ParentRepair } from '../support/cassandra-repairs.js';
import { cqlClient, jolokia, nodetool } from '../support/sandbox-clients.js';
import {
  createSmallKeyspace,
  createTendKeyspace,
  nodeByName,
  RUN,
  tend,
  tick,
  writeScopedConfig,
  type TickJson,
} from '../support/tick-e2e.js';
import { NODES as SANDBOX_NODES } from '../sandbox/src/layout.js';

const KS = `e2e_tick_incremental_${RUN}`;
const TEND_KS = `tend_e2e_tick_incremental_${RUN}`;
/** Every sandbox node, by 1-based index. */
const NODES = SANDBOX_NODES.map((node) => node.index);

/** PercentRepaired of KS.table on node `index`, read through its Jolokia agent (the Table metric). */
async function percentRepaired(index: number, table: string): Promise<number> {
  const reply = await jolokia<number>(index, {
    type: 'read',
    mbean: `org.apache.cassandra.metrics:type=Table,keyspace=${KS},scope=${table},name=PercentRepaired`,
    attribute: 'Value',
  });
  if (reply.status !== 200) throw new Error(`PercentRepaired of ${KS}.${table} on node${index}: ${reply.error}`);
  return Number(reply.value);
}

/** maxRepaired of KS.table on node `index` (RepairService.getRepairStats, as `repair_admin summarize-repaired`). */
async function maxRepairedAt(index: number, table: string): Promise<number> {
  const reply = await jolokia<{ table: string; maxRepaired: number }[]>(index, {
    type: 'exec',
    mbean: 'org.apache.cassandra.db:type=RepairService',
    operation: 'getRepairStats',
    arguments: [[KS, table], null],
  });
  const row = reply.value?.find((r) => r.table === table);
  if (reply.status !== 200 || !row) throw new Error(`repair stats of ${KS}.${table} on node${index}: ${reply.error}`);
  return Number(row.maxRepaired);
}

/** Waits until every node in `nodes` reports `expected` percent repaired for KS.table; returns what they report. */
async function untilPercentRepaired(table: string, expected: number, nodes = NODES): Promise<number[]> {
  const deadline = Date.now() + 60_000;
  let last: number[] = [];
  while (Date.now() < deadline) {
    last = await Promise.all(nodes.map((index) => percentRepaired(index, table)));
    if (last.every((value) => value === expected)) return last;
    await sleep(250);
  }
  throw new Error(`${KS}.${table}: PercentRepaired on nodes ${nodes.join(',')} is ${last.join(', ')}, not ${expected}`);
}

/**
 * The tick's log line for a table it left out: named fully repaired, with when node1 last marked it repaired (its
 * maxRepaired, which the tick read through Jolokia or `repair_admin summarize-repaired`).
 */
async function expectSkipped(stderr: string, table: string): Promise<void> {
  const last = new Date(await maxRepairedAt(1, table)).toISOString();
  expect(stderr).to.include(`skipped ${KS}.${table}: fully repaired (100% of data marked repaired, last at ${last})`);
}

async function flush(): Promise<void> {
  for (const index of NODES) {
    const flushed = await nodetool(index, ['flush', KS]);
    expect(flushed.exitCode, `flush on node${index}: ${String(flushed.stderr)}`).to.equal(0);
  }
}

/** Every parent repair session of KS (all pages, at ALL). */
const parents = (client: cassandra.Client): Promise<ParentRepair[]> => parentRepairs(client, KS);

/**
 * What every tick that repairs only `todo` shows: it ran, both tables were planned, `todo` alone was repaired (one
 * incremental parent session, without an exception), and `done` was left out as fully repaired.
 */
async function expectOnlyTodoRepaired(tick: {
  report: TickJson;
  stderr: string;
  started: ParentRepair[];
}): Promise<void> {
  const { report, stderr, started } = tick;
  expect(report.result, report.summary).to.equal('ran');
  // Both tables were due and planned into one command (small tables of a keyspace share one); the filter left
  // `done` out of it before any lease, and the command is named and explained by `todo` alone.
  expect(report.plannedTasks, JSON.stringify(report)).to.equal(1);
  expect(report.tasks.map((t) => [t.keyspace, t.tables, t.status])).to.deep.equal([[KS, ['todo'], 'success']]);
  expect(report.tasks[0]!.id).to.equal(`${KS}.todo#1`);
  expect(report.tasks[0]!.reason).to.match(/^incremental repair of the whole table; /);
  await expectSkipped(stderr, 'done');
  expect(stderr).to.not.include(`skipped ${KS}.todo`);
  expect(started.map((p) => p.tables)).to.deep.equal([['todo']]);
  expect(started[0]!.options.incremental).to.equal('true');
  expect(started[0]!.exception).to.equal(null);
}

/** tend's history rows of KS.table: status and the repair type tend recorded. */
async function tendHistory(client: cassandra.Client, table: string): Promise<{ status: string; type: string }[]> {
  const rows = await client.execute(
    `SELECT status, repair_type FROM ${TEND_KS}.repair_history WHERE keyspace_name = ? AND table_name = ?`,
    [KS, table],
    { prepare: true },
  );
  return rows.rows.map((r) => ({ status: String(r.get('status')), type: String(r.get('repair_type')) }));
}

describe('schedule tick: incremental repair skips fully repaired tables (e2e)', function () {
  this.timeout(4 * 60_000);
  let dir: string;
  let client: cassandra.Client;
  const node = nodeByName('node1');

  const configFor = (executor: 'jolokia' | 'nodetool') => {
    const sub = join(dir, executor);
    mkdirSync(sub, { recursive: true });
    return writeScopedConfig(sub, node, {
      tendKeyspace: TEND_KS,
      keyspaces: [KS],
      executor,
      // 1s: every table is due at every tick, whatever the shared history says (see the top of the file).
      repair: { type: 'incremental', interval: '1s' },
    });
  };

  /**
   * Waits until `tend schedule plan` (the plan the tick computes first) has a task for each of `tables`: with
   * interval 1s a table repaired less than a second ago (by Cassandra's clock) is not due yet.
   */
  async function untilDue(config: string, tables: string[]): Promise<void> {
    const deadline = Date.now() + 30_000;
    let planned: string[] = [];
    while (Date.now() < deadline) {
      const result = await tend(config, ['--json', 'schedule', 'plan']);
      expect(result.exitCode, String(result.stderr)).to.equal(0);
      const plan = JSON.parse(String(result.stdout)) as { tasks: { tables: string[] }[] };
      planned = plan.tasks.flatMap((t) => t.tables).sort();
      if (tables.every((table) => planned.includes(table))) return;
      await sleep(250);
    }
    throw new Error(`${KS}: the plan has tasks for ${planned.join(', ') || 'no table'}, not for ${tables.join(', ')}`);
  }

  /** Runs a tick once `tables` are due, with the parent sessions of KS it started (earlier ones left out). */
  async function tickWithParents(config: string, tables = ['done', 'todo']) {
    await untilDue(config, tables);
    const before = new Set((await parents(client)).map((p) => p.parentId));
    const result = await tick(config);
    const started = (await parents(client)).filter((p) => !before.has(p.parentId));
    const stdout = String(result.stdout);
    const stderr = String(result.stderr);
    expect(result.exitCode, `${stdout}\n${stderr}`).to.equal(0);
    return { report: JSON.parse(stdout) as TickJson, stderr, started };
  }

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'tend-tick-incremental-'));
    client = cqlClient();
    await client.connect();
    await createTendKeyspace(client, TEND_KS);
    await createSmallKeyspace(client, KS, { dc1: 2, dc2: 1 }, ['done', 'todo']);
    await flush();
    expect(await untilPercentRepaired('done', 0)).to.deep.equal([0, 0, 0]);
    expect(await untilPercentRepaired('todo', 0)).to.deep.equal([0, 0, 0]);
    // node1 replicates every range of KS, so one incremental repair there covers the whole table on all replicas.
    const repaired = await nodetool(1, ['repair', KS, 'done']);
    expect(repaired.exitCode, String(repaired.stdout) + String(repaired.stderr)).to.equal(0);
    expect(await untilPercentRepaired('done', 100)).to.deep.equal([100, 100, 100]);
  });

  after(async function () {
    await client?.execute(`DROP KEYSPACE IF EXISTS ${KS}`).catch(() => undefined);
    await client?.execute(`DROP KEYSPACE IF EXISTS ${TEND_KS}`).catch(() => undefined);
    await client?.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('Jolokia: the fully repaired table is skipped, the other one is repaired incrementally', async function () {
    const tick = await tickWithParents(configFor('jolokia'));
    await expectOnlyTodoRepaired(tick);
    const { report, started } = tick;
    expect(report.skipped.map((s) => s.table)).to.deep.equal([`${KS}.done`]);
    expect(report.skipped[0]!.reason).to.match(/^fully repaired \(100% of data marked repaired, last at /);
    // Cassandra's one repair, of `todo`, finished.
    expect(started[0]!.finishedAt).to.not.equal(null);
    // tend recorded the incremental repair of `todo`, and nothing for `done`.
    const todo = await tendHistory(client, 'todo');
    expect(todo.length).to.be.greaterThan(0);
    expect(
      todo.every((r) => r.status === 'SUCCESS' && r.type === 'incremental'),
      JSON.stringify(todo),
    ).to.equal(true);
    expect(await tendHistory(client, 'done')).to.deep.equal([]);
  });

  it('Jolokia, next tick: both tables now fully repaired, nothing runs: nothing_due, exit 0', async function () {
    // The tick's repair marked `todo` repaired on node1 once its anticompaction finished.
    await untilPercentRepaired('todo', 100, [1]);
    const before = await tendHistory(client, 'todo');
    const { report, stderr, started } = await tickWithParents(configFor('jolokia'));
    expect(report.plannedTasks, JSON.stringify(report)).to.equal(1);
    expect(report.tasks).to.deep.equal([]);
    await expectSkipped(stderr, 'done');
    await expectSkipped(stderr, 'todo');
    expect(report.skipped.map((s) => s.table).sort()).to.deep.equal([`${KS}.done`, `${KS}.todo`]);
    expect(started).to.deep.equal([]);
    expect(await tendHistory(client, 'todo')).to.have.length(before.length);
    expect(await tendHistory(client, 'done')).to.deep.equal([]);
    // Every planned task was left out as fully repaired: nothing was due to run, and no lease was ever asked for.
    expect(report.result, report.summary).to.equal('nothing_due');
    expect(report.summary).to.equal('nothing due: 2 due table(s) reported fully repaired by the node (incremental)');
  });

  it('nodetool executor: new unrepaired data in `todo` is repaired, `done` is still skipped', async function () {
    for (let i = 100; i < 105; i++) {
      await client.execute(`INSERT INTO ${KS}.todo (id, v) VALUES (?, ?)`, [i, `w${i}`], { prepare: true });
    }
    await flush();
    const share = await percentRepaired(1, 'todo');
    expect(share, 'node1: todo has a new unrepaired sstable').to.be.below(100);
    const before = await tendHistory(client, 'todo');

    await expectOnlyTodoRepaired(await tickWithParents(configFor('nodetool')));
    const after = await tendHistory(client, 'todo');
    expect(after.length).to.be.greaterThan(before.length);
    expect(after.every((r) => r.status === 'SUCCESS' && r.type === 'incremental')).to.equal(true);
    expect(await tendHistory(client, 'done')).to.deep.equal([]);
  });

  it('Jolokia: a table whose data is only in memtables (100% of no SSTables) is repaired, not skipped', async function () {
    await client.execute(`CREATE TABLE ${KS}.fresh (id int PRIMARY KEY, v text)`);
    for (let i = 0; i < 5; i++) {
      await client.execute(`INSERT INTO ${KS}.fresh (id, v) VALUES (?, ?)`, [i, `f${i}`], { prepare: true });
    }
    // What Cassandra 5.0 reports for it: every byte "repaired", never marked repaired.
    expect(await percentRepaired(1, 'fresh')).to.equal(100);
    expect(await maxRepairedAt(1, 'fresh')).to.equal(0);

    const { report, stderr, started } = await tickWithParents(configFor('jolokia'), ['done', 'fresh']);
    expect(report.result, report.summary).to.equal('ran');
    const ran = report.tasks.filter((t) => t.status === 'success').flatMap((t) => t.tables);
    expect(ran).to.include('fresh');
    expect(ran).to.not.include('done');
    expect(report.skipped.map((s) => s.table)).to.not.include(`${KS}.fresh`);
    expect(stderr).to.not.include(`skipped ${KS}.fresh`);
    expect(started.flatMap((p) => p.tables)).to.include('fresh');
    expect((await tendHistory(client, 'fresh')).every((r) => r.status === 'SUCCESS')).to.equal(true);
    expect(await tendHistory(client, 'fresh')).to.not.deep.equal([]);
  });
});
