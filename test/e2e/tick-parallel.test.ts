/**
 * Issue 18, `schedule.parallelTasks`: a group tick runs tasks whose replica sets are disjoint at the same time, never
 * two on one replica. Both facts are read from Cassandra's own repair history (system_distributed:
 * parent_repair_history for each repair command's start and end, repair_history for its sessions' participants).
 *
 * - Three nodes (every sandbox): the group covers dc1 (node1, node2), a keyspace with one replica in each datacenter,
 *   so every task includes node3 and none may run beside another. Lease scope datacenter with two slots: the leases
 *   would let two of dc1's tasks run at once, so only the tick's own choice (core tasksToStart) keeps them apart.
 * - Four nodes (TEND_SANDBOX_NODES=4: dc1 = node1, node2, node4; skipped with its reason on three): the group covers
 *   every node, lease scope node. Keyspace A is replicated twice in dc1 ({1,2}, {1,4}, {2,4}), keyspace B once in each
 *   datacenter ({1,3}, {2,3}, {4,3}): {1,2} and {4,3}, {1,4} and {2,3}, {2,4} and {1,3} are disjoint, so two repairs
 *   overlap in time, and none that overlap share a replica.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import cassandra from 'cassandra-driver';
import { NODES } from '../sandbox/src/layout.js';
import { cqlClient } from '../support/sandbox-clients.js';
import {
  createSmallKeyspace,
  createTendKeyspace,
  parentRepairs,
  RUN,
  tick,
  writeScopedConfig,
  type TickJson,
} from '../support/tick-e2e.js';

const ALL = cassandra.types.consistencies.all;

/** One repair command as Cassandra recorded it: when it ran, and every node that took part. */
interface CassandraRepair {
  readonly parentId: string;
  readonly keyspace: string;
  readonly start: number;
  readonly end: number;
  readonly participants: readonly string[];
}

/** The repair commands of `keyspaces` since `since`, with their sessions' participants and coordinator. */
async function cassandraRepairs(
  client: cassandra.Client,
  tables: readonly (readonly [string, string])[],
  since: number,
): Promise<CassandraRepair[]> {
  const participants = new Map<string, Set<string>>();
  for (const [keyspace, table] of tables) {
    const result = await client.execute(
      'SELECT parent_id, coordinator, participants FROM system_distributed.repair_history WHERE keyspace_name = ? AND columnfamily_name = ? AND id >= minTimeuuid(?)',
      [keyspace, table, new Date(since - 5_000)],
      { prepare: true, consistency: ALL, fetchSize: 1000 },
    );
    for await (const row of result) {
      const id = String(row.get('parent_id'));
      const set = participants.get(id) ?? new Set<string>();
      set.add(String(row.get('coordinator')));
      for (const p of (row.get('participants') as unknown[] | null) ?? []) set.add(String(p));
      participants.set(id, set);
    }
  }
  const repairs: CassandraRepair[] = [];
  for (const keyspace of new Set(tables.map(([k]) => k))) {
    for (const parent of await parentRepairs(client, keyspace, since - 5_000)) {
      expect(parent.finishedAt, `repair ${parent.parentId} of ${keyspace} has no end`).not.to.equal(null);
      repairs.push({
        parentId: parent.parentId,
        keyspace,
        start: parent.startedAt,
        end: parent.finishedAt!,
        participants: [...(participants.get(parent.parentId) ?? [])].sort(),
      });
    }
  }
  return repairs;
}

/** Pairs of repairs that ran at the same time (the same test as tick-cluster's, on Cassandra's history). */
function overlapping(repairs: readonly CassandraRepair[]): [CassandraRepair, CassandraRepair][] {
  const pairs: [CassandraRepair, CassandraRepair][] = [];
  for (let i = 0; i < repairs.length; i++) {
    for (let j = i + 1; j < repairs.length; j++) {
      const a = repairs[i]!;
      const b = repairs[j]!;
      if (a.start < b.end && b.start < a.end) pairs.push([a, b]);
    }
  }
  return pairs;
}

const describePair = ([a, b]: [CassandraRepair, CassandraRepair]) =>
  `${a.keyspace} [${a.start}, ${a.end}] on ${a.participants.join(',')} and ${b.keyspace} [${b.start}, ${b.end}] on ${b.participants.join(',')}`;

/** A group configuration: node1's file for the sandbox, without `node:`, with `nodes:` for `datacenters`. */
function groupConfig(
  dir: string,
  options: Parameters<typeof writeScopedConfig>[2],
  datacenters: string[],
  instance: string,
): string {
  const raw = parse(readFileSync(writeScopedConfig(dir, NODES[0]!, options), 'utf8')) as Record<string, unknown>;
  delete raw.node;
  raw.nodes = { instance, datacenters, jolokiaUrl: 'http://{address}:8778/jolokia/' };
  const file = join(dir, `${instance}.yml`);
  writeFileSync(file, stringify(raw));
  return file;
}

describe('schedule tick for a group with parallelTasks 2: every task shares node3, so none run together (e2e)', function () {
  this.timeout(10 * 60_000);
  const keyspace = `e2e_par3_${RUN}`;
  const tendKeyspace = `tend_e2e_par3_${RUN}`;
  const TABLES = ['t1', 't2'];
  let dir: string;
  let client: cassandra.Client;
  let report: TickJson;
  let startedAt: number;
  let stderr: string;

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'tend-par3-'));
    client = cqlClient();
    await client.connect();
    await createSmallKeyspace(client, keyspace, { dc1: 1, dc2: 1 }, TABLES, 10);
    await createTendKeyspace(client, tendKeyspace);
    const config = groupConfig(
      dir,
      {
        tendKeyspace,
        keyspaces: [keyspace],
        executor: 'jolokia',
        // Two slots in dc1: the leases would let node1's and node2's tasks run at once (both need node3).
        lease: { scope: 'datacenter', slotsPerDatacenter: 2 },
        schedule: { maxTasks: 4, parallelTasks: 2 },
        // A task per table and replica set ({node1, node3}, {node2, node3}).
        repair: { smallTableSize: '0B' },
      },
      ['dc1'],
      'dc1-par',
    );
    startedAt = Date.now();
    const run = await tick(config, [], { timeout: 8 * 60_000 });
    console.log(`      the tick took ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
    stderr = String(run.stderr);
    expect(run.exitCode, stderr).to.equal(0);
    report = JSON.parse(String(run.stdout)) as TickJson;
  });

  after(async function () {
    await client?.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
    await client?.execute(`DROP KEYSPACE IF EXISTS ${tendKeyspace}`).catch(() => undefined);
    await client?.shutdown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs every planned task, each through its node, each with its own history record', async function () {
    expect(report.result, report.summary).to.equal('ran');
    expect(report.tasks.map((t) => t.status)).to.deep.equal(report.tasks.map(() => 'success'));
    expect(report.tasks.length).to.be.at.least(2);
    for (const task of report.tasks) expect(task.replicas).to.include(task.node);
    // Task ids are per node's plan: a task is its coordinator and its id.
    const rows = await client.execute(`SELECT coordinator, task_id, status FROM ${tendKeyspace}.repair_history`);
    const recorded = new Set(
      rows.rows
        .filter((r) => r.get('status') === 'SUCCESS')
        .map((r) => `${String(r.get('coordinator'))} ${String(r.get('task_id'))}`),
    );
    expect([...recorded].sort()).to.deep.equal(report.tasks.map((t) => `${t.node} ${t.id}`).sort());
  });

  it("no two repairs overlapped in time on a replica (Cassandra's repair history)", async function () {
    const repairs = await cassandraRepairs(
      client,
      TABLES.map((t) => [keyspace, t] as const),
      startedAt,
    );
    expect(repairs.length).to.be.at.least(report.tasks.length);
    const sharing = overlapping(repairs).filter(([a, b]) => a.participants.some((p) => b.participants.includes(p)));
    expect(sharing.map(describePair)).to.deep.equal([]);
  });
});

describe('schedule tick for a group with parallelTasks 2 on four nodes: disjoint repairs run at once (e2e)', function () {
  this.timeout(20 * 60_000);
  const keyspaceA = `e2e_par4a_${RUN}`;
  const keyspaceB = `e2e_par4b_${RUN}`;
  const tendKeyspace = `tend_e2e_par4_${RUN}`;
  const TABLES = ['t1', 't2'];
  let dir: string | undefined;
  let client: cassandra.Client | undefined;
  let report: TickJson;
  let startedAt: number;
  let took: number;

  before(async function () {
    client = cqlClient();
    await client.connect();
    const peers = (await client.execute('SELECT peer FROM system.peers')).rowLength;
    if (peers + 1 < 4) {
      // Skipped on three nodes, as in CI: any two RF >= 2 replica sets of three nodes meet, so no two repairs can
      // be disjoint there; the proof needs a fourth node, and a fourth JVM does not fit CI's 2 cores and 45 minutes
      // beside three sandboxes (run by hand, issue 18's note). The three-node case above runs everywhere. Printed, so
      // a run on the usual sandbox says why the proof did not run.
      console.log(
        `      skipped: the sandbox has ${peers + 1} nodes; start it with TEND_SANDBOX_NODES=4 (dc1 = node1, node2, node4) for disjoint replica sets`,
      );
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'tend-par4-'));
    await createSmallKeyspace(client, keyspaceA, { dc1: 2 }, TABLES, 10);
    await createSmallKeyspace(client, keyspaceB, { dc1: 1, dc2: 1 }, TABLES, 10);
    await createTendKeyspace(client, tendKeyspace);
    const config = groupConfig(
      dir,
      {
        tendKeyspace,
        keyspaces: [keyspaceA, keyspaceB],
        executor: 'jolokia',
        lease: { scope: 'node' },
        schedule: { maxTasks: 12, parallelTasks: 2 },
        repair: { smallTableSize: '0B' },
      },
      ['dc1', 'dc2'],
      'all-par',
    );
    startedAt = Date.now();
    const run = await tick(config, [], { timeout: 15 * 60_000 });
    took = Date.now() - startedAt;
    expect(run.exitCode, String(run.stderr)).to.equal(0);
    report = JSON.parse(String(run.stdout)) as TickJson;
    console.log(`      the tick took ${(took / 1000).toFixed(1)} s for ${report.tasks.length} task(s)`);
  });

  after(async function () {
    for (const ks of [keyspaceA, keyspaceB, tendKeyspace]) {
      await client?.execute(`DROP KEYSPACE IF EXISTS ${ks}`).catch(() => undefined);
    }
    await client?.shutdown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs every planned task: none refused its lease (the tick never asks for one it holds)', function () {
    expect(report.result, report.summary).to.equal('ran');
    expect(report.tasks.length).to.be.at.least(6);
    expect(report.tasks.map((t) => `${t.id} ${t.status} ${t.message}`)).to.deep.equal(
      report.tasks.map((t) => `${t.id} success ${t.message}`),
    );
  });

  it("two repairs overlapped in time, and no two that overlapped shared a replica (Cassandra's repair history)", async function () {
    const repairs = await cassandraRepairs(
      client!,
      [keyspaceA, keyspaceB].flatMap((ks) => TABLES.map((t) => [ks, t] as const)),
      startedAt,
    );
    expect(repairs.length).to.be.at.least(report.tasks.length);
    const pairs = overlapping(repairs);
    console.log(`      ${repairs.length} repairs, ${pairs.length} overlapping pair(s)`);
    expect(pairs.length, 'repairs that ran at the same time').to.be.at.least(1);
    const sharing = pairs.filter(([a, b]) => a.participants.some((p) => b.participants.includes(p)));
    expect(sharing.map(describePair)).to.deep.equal([]);
  });
});
