/**
 * Issue 18 end to end: one instance acting for dc1 (node1 and node2, `nodes: {datacenters: [dc1]}`) and node3's own
 * per-node timer repair a keyspace replicated to both datacenters until nothing is due, the group's repairs going
 * through each node's Jolokia agent (a URL template) or JMX port (an explicit map, nodetool).
 *
 * The keyspace keeps one replica in each datacenter (dc1: 1, dc2: 1): each range's dc1 replica is node1 or node2, so
 * the group has work on both of its nodes, and the history must show repairs coordinated by each of them. node3
 * replicates every range and competes for the same replicas. No two repairs share a replica at any time (the same
 * overlap test as tick-cluster.test.ts, on tend's history).
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type cassandra from 'cassandra-driver';
import { NODES } from '../sandbox/src/layout.js';
import { cqlClient } from '../support/sandbox-clients.js';
import {
  createSmallKeyspace,
  createTendKeyspace,
  ringRanges,
  tend,
  tick,
  writeScopedConfig,
  type TickJson,
} from '../support/tick-e2e.js';

const TABLES = ['t1', 't2'];
const MAX_ROUNDS = 12;

interface Variant {
  readonly executor: 'jolokia' | 'nodetool';
  /** The group's `nodes:` endpoints. */
  readonly endpoints: (dc1: typeof NODES) => Record<string, unknown>;
}

const VARIANTS: Variant[] = [
  { executor: 'jolokia', endpoints: () => ({ jolokiaUrl: 'http://{address}:8778/jolokia/' }) },
  {
    executor: 'nodetool',
    // The sandbox's JMX ports differ per node, all on 127.0.0.1: an explicit map.
    endpoints: (dc1) => ({
      endpoints: Object.fromEntries(dc1.map((n) => [n.address, { nodetoolHost: n.jmxHost, nodetoolPort: n.jmxPort }])),
    }),
  },
];

for (const variant of VARIANTS) {
  describe(`schedule tick for a group of nodes (dc1) beside node3's own tick: ${variant.executor} (e2e)`, function () {
    this.timeout(30 * 60_000);
    const suffix = `group_${variant.executor}_${process.pid}`;
    // A: repaired by the group alone in its first tick; B: created after it, repaired by both timers together.
    const dataKeyspace = `e2e_${suffix}`;
    const togetherKeyspace = `e2e_${suffix}_b`;
    const KEYSPACES = [dataKeyspace, togetherKeyspace];
    const tendKeyspace = `tend_e2e_${suffix}`;
    const dc1 = NODES.filter((n) => n.datacenter === 'dc1');
    const node3 = NODES.find((n) => n.datacenter === 'dc2')!;
    let dir: string;
    let client: cassandra.Client;
    let groupConfig: string;
    let node3Config: string;
    let startedAt: number;
    let first: Awaited<ReturnType<typeof tick>>;
    const rounds: { group: TickJson; node3: TickJson }[] = [];

    before(async function () {
      dir = mkdtempSync(join(tmpdir(), 'tend-group-'));
      client = cqlClient();
      await client.connect();
      await createSmallKeyspace(client, dataKeyspace, { dc1: 1, dc2: 1 }, TABLES, 20);
      await createTendKeyspace(client, tendKeyspace);
      const options = {
        tendKeyspace,
        keyspaces: KEYSPACES,
        executor: variant.executor,
        lease: { scope: 'node' },
        schedule: { maxTasks: 2 },
        // Jolokia range by range (a task per table and replica set); nodetool whole-table, one JVM per command
        // (range by range it would start one per vnode range: minutes per table here).
        ...(variant.executor === 'jolokia' ? { repair: { smallTableSize: '0B' } } : {}),
      };
      node3Config = writeScopedConfig(dir, node3, options);
      // The group's file: node1's, without `node:`, with `nodes:` for dc1.
      const raw = parse(readFileSync(writeScopedConfig(dir, dc1[0]!, options), 'utf8')) as Record<string, unknown>;
      delete raw.node;
      raw.nodes = { instance: 'dc1-agent', datacenters: ['dc1'], ...variant.endpoints(dc1) };
      groupConfig = join(dir, 'group.yml');
      writeFileSync(groupConfig, stringify(raw));
      startedAt = Date.now();
      // Round 0: the group alone, with room for the first tasks of both its nodes (up to 2 tables x 2 nodes), so the
      // repairs through node2's executor are not all taken by node3 first; then both timers together.
      first = await tick(groupConfig, ['--max-tasks', '4'], { timeout: 20 * 60_000 });
      expect(first.exitCode, `group tick\n${first.stderr}`).to.equal(0);
      await createSmallKeyspace(client, togetherKeyspace, { dc1: 1, dc2: 1 }, ['u1', 'u2', 'u3'], 20);
      for (let round = 0; round < MAX_ROUNDS; round++) {
        const [group, own] = await Promise.all([
          tick(groupConfig, [], { timeout: 20 * 60_000 }),
          tick(node3Config, [], { timeout: 20 * 60_000 }),
        ]);
        expect(group.exitCode, `group tick\n${group.stderr}`).to.equal(0);
        expect(own.exitCode, `node3 tick\n${own.stderr}`).to.equal(0);
        const parsed = {
          group: JSON.parse(String(group.stdout)) as TickJson,
          node3: JSON.parse(String(own.stdout)) as TickJson,
        };
        rounds.push(parsed);
        if (parsed.group.result === 'nothing_due' && parsed.node3.result === 'nothing_due') break;
      }
    });

    after(async function () {
      for (const ks of KEYSPACES) await client?.execute(`DROP KEYSPACE IF EXISTS ${ks}`).catch(() => undefined);
      await client?.execute(`DROP KEYSPACE IF EXISTS ${tendKeyspace}`).catch(() => undefined);
      await client?.shutdown();
      rmSync(dir, { recursive: true, force: true });
    });

    it('repairs until the group and node3 report nothing due', function () {
      const last = rounds[rounds.length - 1]!;
      const trace = JSON.stringify(rounds.map((r) => [r.group.summary, r.node3.summary]));
      expect([last.group.result, last.node3.result], trace).to.deep.equal(['nothing_due', 'nothing_due']);
      // B was repaired by the two timers together: each round, a timer either ran repairs, had nothing due, or was
      // held back by the other's work (node3's lease held, or node3 already repairing), and said so. Which of them
      // gets node3 first is a race (both start at once; the group's tick plans for two nodes): a CI run saw node3's
      // timer win every round, so neither is required to win one (the group's own repairs are checked below).
      expect(
        rounds.some((r) => r.group.result === 'ran' || r.node3.result === 'ran'),
        trace,
      ).to.equal(true);
      for (const round of rounds) {
        for (const side of [round.group, round.node3]) {
          if (side.result === 'ran' || side.result === 'nothing_due') continue;
          expect(side.summary, trace).to.match(/lease held elsewhere|already repairing/);
        }
      }
    });

    it("the group's first tick repairs through both of dc1's nodes, each task naming its node", function () {
      const report = JSON.parse(String(first.stdout)) as TickJson & { tasks: { node?: string }[] };
      expect(report.result, report.summary).to.equal('ran');
      const ran = report.tasks.filter((t) => t.status === 'success');
      expect([...new Set(ran.map((t) => t.node))].sort()).to.deep.equal(dc1.map((n) => n.address).sort());
      // Each node's tasks are ranges whose dc1 replica is that node.
      for (const task of ran) expect(task.replicas).to.include(task.node);
      // The coverage record: the instance claims both of dc1's nodes (test/e2e/coverage.test.ts has the rest).
      const coverage = (report as { coverage?: { instance: string; nodes: string[] } }).coverage;
      expect(coverage?.instance).to.equal('dc1-agent');
      expect([...(coverage?.nodes ?? [])].sort()).to.deep.equal(dc1.map((n) => n.address).sort());
    });

    it("the group and node3's timer claim disjoint nodes: no tick warns about another instance", function () {
      for (const round of rounds) {
        for (const side of [round.group, round.node3] as { coverage?: { conflicts: string[] } }[]) {
          expect(side.coverage?.conflicts).to.deep.equal([]);
        }
      }
    });

    it('every range of every table has a successful history entry from this run', async function () {
      const ring = await ringRanges();
      for (const [keyspace, table] of [
        ...TABLES.map((t) => [dataKeyspace, t]),
        ...['u1', 'u2', 'u3'].map((t) => [togetherKeyspace, t]),
      ] as const) {
        const rows = await client.execute(
          `SELECT range_start, range_end, status, started_at FROM ${tendKeyspace}.repair_history WHERE keyspace_name = ? AND table_name = ?`,
          [keyspace, table],
          { prepare: true },
        );
        const repaired = new Set(
          rows.rows
            .filter((r) => r.get('status') === 'SUCCESS' && (r.get('started_at') as Date).getTime() >= startedAt)
            .map((r) => `${r.get('range_start')}:${r.get('range_end')}`),
        );
        expect(
          ring.filter((range) => !repaired.has(range)),
          `${keyspace}.${table}: ranges without a successful repair`,
        ).to.deep.equal([]);
      }
    });

    it("Cassandra's repair history: successful sessions since the start coordinated by node1 and node2 (and node3)", async function () {
      const coordinators = new Set<string>();
      for (const [keyspace, table] of [
        ...TABLES.map((t) => [dataKeyspace, t]),
        ...['u1', 'u2', 'u3'].map((t) => [togetherKeyspace, t]),
      ] as const) {
        const rows = await client.execute(
          'SELECT coordinator, status, started_at FROM system_distributed.repair_history WHERE keyspace_name = ? AND columnfamily_name = ?',
          [keyspace, table],
          { prepare: true, fetchSize: 5000 },
        );
        for (const row of rows.rows) {
          if ((row.get('started_at') as Date).getTime() < startedAt - 5_000) continue;
          if (String(row.get('status')) === 'SUCCESS') coordinators.add(String(row.get('coordinator')));
        }
      }
      // node1 and node2 through the group's executors; node3 through its own tick when it ran repairs.
      const node3Ran = rounds.some((r) => r.node3.result === 'ran');
      for (const node of node3Ran ? NODES : dc1) {
        expect([...coordinators]).to.include(node.address);
      }
    });

    it('no two repairs overlapped on any replica', async function () {
      const rows = await client.execute(
        `SELECT task_id, tick_id, participants, started_at, finished_at FROM ${tendKeyspace}.repair_history`,
      );
      const tasks = new Map<string, { start: number; end: number; participants: string[] }>();
      for (const row of rows.rows) {
        tasks.set(`${row.get('tick_id')}/${row.get('task_id')}`, {
          start: (row.get('started_at') as Date).getTime(),
          end: (row.get('finished_at') as Date).getTime(),
          participants: (row.get('participants') as string[] | null) ?? [],
        });
      }
      const list = [...tasks.entries()];
      expect(list.length).to.be.at.least(TABLES.length);
      for (let i = 0; i < list.length; i++) {
        for (let j = i + 1; j < list.length; j++) {
          const [a, ta] = list[i]!;
          const [b, tb] = list[j]!;
          if (!ta.participants.some((p) => tb.participants.includes(p))) continue;
          const overlap = ta.start < tb.end && tb.start < ta.end;
          expect(overlap, `${a} [${ta.start}, ${ta.end}] overlaps ${b} [${tb.start}, ${tb.end}]`).to.equal(false);
        }
      }
    });

    // --node narrows the configuration the same way for both executors (src/app/node-scope.ts): checked once, with
    // the Jolokia variant (its repair through one node's agent is the cheaper one).
    if (variant.executor !== 'jolokia') return;
    it('--node: status of every covered node (NODE column, JSON per node), one node, coverage, a repair through its agent', async function () {
      const all = await tend(groupConfig, ['--json', 'schedule', 'status', dataKeyspace]);
      expect(all.exitCode, String(all.stderr)).to.equal(0);
      const reports = (JSON.parse(String(all.stdout)) as { nodes: { node: { address: string }; rows: unknown[] }[] })
        .nodes;
      expect(reports.map((r) => r.node.address).sort()).to.deep.equal(dc1.map((n) => n.address).sort());
      for (const report of reports) expect(report.rows).to.have.length(TABLES.length);

      const outside = await tend(groupConfig, ['schedule', 'status', '--node', node3.address]);
      expect(outside.exitCode).to.equal(2);
      expect(String(outside.stderr)).to.include(`--node ${node3.address}: not a node instance dc1-agent covers`);

      const noNode = await tend(groupConfig, ['repair', 'table', `${dataKeyspace}.${TABLES[0]}`]);
      expect(noNode.exitCode).to.equal(2);
      expect(String(noNode.stderr)).to.match(/name one with --node/);
      // Coverage is one node's ranges: --node; the sessions alone need none.
      const coverage = await tend(groupConfig, ['history', 'show', dataKeyspace, '--coverage']);
      expect(coverage.exitCode).to.equal(2);
      const ofNode1 = await tend(groupConfig, [
        '--json',
        'history',
        'show',
        dataKeyspace,
        '--coverage',
        '--node',
        dc1[0]!.address,
      ]);
      expect(ofNode1.exitCode, String(ofNode1.stderr)).to.equal(0);
      const shown = JSON.parse(String(ofNode1.stdout)) as { coverage: { share: number }[]; sessions: unknown[] };
      expect(shown.coverage.map((row) => row.share)).to.deep.equal(TABLES.map(() => 1));
      expect(shown.sessions.length).to.be.greaterThan(0);

      const second = dc1[1]!;
      const repaired = await tend(groupConfig, [
        '--json',
        'repair',
        'table',
        `${dataKeyspace}.${TABLES[0]}`,
        '--node',
        second.address,
      ]);
      expect(repaired.exitCode, String(repaired.stderr)).to.equal(0);
      const report = JSON.parse(String(repaired.stdout)) as { status: string; replicas: string[]; executor: string };
      expect(report).to.include({ status: 'success', executor: 'jolokia' });
      expect(report.replicas).to.include(second.address);
      // Coordinated by that node: its agent ran it, and Cassandra's history says so.
      const sessions = await client.execute(
        'SELECT coordinator, started_at FROM system_distributed.repair_history WHERE keyspace_name = ? AND columnfamily_name = ?',
        [dataKeyspace, TABLES[0]],
        { prepare: true, fetchSize: 5000 },
      );
      const latest = sessions.rows.sort(
        (a, b) => (b.get('started_at') as Date).getTime() - (a.get('started_at') as Date).getTime(),
      )[0];
      expect(String(latest?.get('coordinator'))).to.equal(second.address);
    });
  });
}
