import { expect } from 'chai';
import {
  plan,
  tableKey,
  type PlanInput,
  type RepairTask,
  type TableSettings,
  type Topology,
} from '../../../src/core/planner.js';
import { buildRing, computePlacement, rangesReplicatedBy, type NodeInfo } from '../../../src/core/ring.js';
import { fromRangeText, rangeWidth, type TokenRangeText } from '../../../src/core/ranges.js';
import { foldTableHistory, type RepairEntry } from '../../../src/core/timeline.js';
import { prng, syntheticNodes, type DatacenterSpec } from './synthetic.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2026, 10, 21, 12);

function settings(keyspace: string, table: string, extra: Partial<TableSettings> = {}): TableSettings {
  return {
    keyspace,
    table,
    enabled: true,
    intervalMs: 7 * DAY,
    warnMs: 8 * DAY,
    errorMs: 10 * DAY,
    weight: 1,
    repairType: 'vnode',
    parallelism: 'parallel',
    ...extra,
  };
}

function input(nodes: NodeInfo[], keyspaces: Topology['keyspaces'], extra: Partial<PlanInput> = {}): PlanInput {
  return {
    now: NOW,
    localHostId: nodes[0]!.hostId,
    tables: Object.keys(keyspaces).map((ks) => settings(ks, 't')),
    topology: { nodes, keyspaces },
    history: {},
    limits: { maxTasks: 1_000_000 },
    ...extra,
  };
}

const rangeKey = (r: TokenRangeText): string => `${r.start}:${r.end}`;

function shuffle<T>(items: readonly T[], rand: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('core/planner', () => {
  describe('simulations over synthetic topologies', () => {
    const topologies: { name: string; dcs: DatacenterSpec[]; replication: (rf: number) => object }[] = [
      {
        name: '1 DC × 3 nodes, SimpleStrategy',
        dcs: [{ name: 'dc1', nodes: 3 }],
        replication: (rf) => ({ class: 'SimpleStrategy', replicationFactor: rf }),
      },
      {
        name: '1 DC × 5 nodes in 3 racks, NTS',
        dcs: [{ name: 'dc1', nodes: 5, racks: 3 }],
        replication: (rf) => ({ class: 'NetworkTopologyStrategy', datacenters: { dc1: rf } }),
      },
      {
        name: '2 DCs (2 + 1 nodes, like the sandbox), NTS',
        dcs: [
          { name: 'dc1', nodes: 2 },
          { name: 'dc2', nodes: 1 },
        ],
        replication: (rf) => ({ class: 'NetworkTopologyStrategy', datacenters: { dc1: Math.min(rf, 2), dc2: 1 } }),
      },
      {
        name: '2 DCs (4 + 3 nodes, 2 racks each), NTS',
        dcs: [
          { name: 'dc1', nodes: 4, racks: 2 },
          { name: 'dc2', nodes: 3, racks: 2 },
        ],
        replication: (rf) => ({ class: 'NetworkTopologyStrategy', datacenters: { dc1: rf, dc2: rf } }),
      },
    ];
    for (const topology of topologies) {
      for (const vnodes of [1, 4, 16, 256]) {
        for (const rf of [1, 2, 3]) {
          it(`${topology.name}, ${vnodes} vnode(s), RF ${rf}: every range covered once, by its replica set`, () => {
            const nodes = syntheticNodes(topology.dcs, vnodes, vnodes * 10 + rf);
            const replication = topology.replication(rf) as never;
            const ring = buildRing(nodes);
            const placement = computePlacement(ring, replication);
            const replicasOf = new Map<string, string>();
            ring.ranges.forEach((range, i) => {
              replicasOf.set(
                `${range.start}:${range.end}`,
                placement.replicaSets[placement.replicaSetOfRange[i]!]!.key,
              );
            });
            const coveredByAnyNode = new Set<string>();
            for (const local of nodes) {
              const result = plan(input(nodes, { ks: replication }, { localHostId: local.hostId }));
              const mine = rangesReplicatedBy(placement, local.hostId).map((i) => {
                const range = ring.ranges[i]!;
                return `${range.start}:${range.end}`;
              });
              if (placement.replicationFactor < 2) {
                expect(result.skipped.map((s) => s.code)).to.deep.equal(['single_replica']);
                expect(result.tasks).to.have.length(0);
                continue;
              }
              expect(result.jobs).to.have.length(1);
              expect(result.jobs[0]).to.deep.include({
                due: true,
                rangesTotal: mine.length,
                rangesBehind: mine.length,
              });
              const seen: string[] = [];
              for (const task of result.tasks) {
                expect(task.scope).to.equal('ranges');
                expect(task.replicas).to.include(local.hostId);
                for (const range of task.ranges) {
                  // No task crosses replica sets, and the replicas are the range's.
                  expect(replicasOf.get(rangeKey(range))).to.equal(task.replicas.join(','));
                  seen.push(rangeKey(range));
                }
                const dcs = new Set(task.replicas.map((h) => nodes.find((n) => n.hostId === h)!.datacenter));
                expect(task.datacenters).to.deep.equal([...dcs].sort());
              }
              // Every range the node replicates, exactly once.
              expect(seen.sort()).to.deep.equal([...mine].sort());
              seen.forEach((k) => coveredByAnyNode.add(k));
            }
            if (placement.replicationFactor >= 2) expect(coveredByAnyNode.size).to.equal(ring.ranges.length);
          });
        }
      }
    }
  });

  describe('deterministic priorities', () => {
    it('three nodes with the same inputs, shuffled, produce the same order', () => {
      const rand = prng(2026);
      const nodes = syntheticNodes([{ name: 'dc1', nodes: 3 }], 16, 77);
      const ring = buildRing(nodes);
      const tables: TableSettings[] = [];
      const history: Record<string, RepairEntry[]> = {};
      for (let k = 0; k < 60; k++) {
        const t = settings(`ks${k % 4}`, `table${k}`, { weight: 1 + (k % 3) });
        tables.push(t);
        // Ages spread so that many jobs tie on priority (same hour overdue, same weight).
        const ageHours = 7 * 24 + (k % 10);
        history[tableKey(t.keyspace, t.table)] = ring.ranges.map((range, i) => ({
          start: range.start.toString(),
          end: range.end.toString(),
          finishedAt: NOW - ageHours * HOUR + (i % 5) * 60_000,
          status: i % 7 === 0 ? 'FAILED' : 'SUCCESS',
        }));
      }
      const keyspaces = Object.fromEntries(
        [0, 1, 2, 3].map((k) => [`ks${k}`, { class: 'SimpleStrategy', replicationFactor: 3 }]),
      );
      const orders = nodes.map((local) => {
        const shuffledHistory = Object.fromEntries(
          shuffle(Object.entries(history), rand).map(([k, v]) => [k, shuffle(v, rand)]),
        );
        const result = plan({
          now: NOW,
          localHostId: local.hostId,
          tables: shuffle(tables, rand),
          topology: { nodes: shuffle(nodes, rand), keyspaces },
          history: shuffledHistory,
          limits: { maxTasks: 5 },
        });
        return result.jobs.map((j) => `${j.keyspace}.${j.table}=${j.priority}`);
      });
      expect(orders[0]).to.have.length(60);
      expect(orders[1]).to.deep.equal(orders[0]);
      expect(orders[2]).to.deep.equal(orders[0]);
      const priorities = orders[0]!.map((o) => Number(o.split('=')[1]));
      expect(new Set(priorities).size).to.be.lessThan(priorities.length); // ties were exercised
      expect([...priorities].sort((a, b) => b - a)).to.deep.equal(priorities);
    });
  });

  describe('decisions', () => {
    const nodes = syntheticNodes([{ name: 'dc1', nodes: 3 }], 4, 9);
    const ring = buildRing(nodes);
    const rf3 = { ks: { class: 'SimpleStrategy', replicationFactor: 3 } };
    const everyRange = (finishedAt: (i: number) => number): RepairEntry[] =>
      ring.ranges.map((range, i) => ({
        start: range.start.toString(),
        end: range.end.toString(),
        finishedAt: finishedAt(i),
        status: 'SUCCESS',
      }));

    it('a table repaired recently is not due and gets no task', () => {
      const result = plan(input(nodes, rf3, { history: { 'ks.t': everyRange(() => NOW - DAY) } }));
      expect(result.jobs[0]).to.deep.include({ due: false, priority: 0, state: 'ON_TIME', rangesBehind: 0 });
      expect(result.jobs[0]!.nextDueAt).to.equal(NOW + 6 * DAY);
      expect(result.tasks).to.have.length(0);
    });

    it('only the ranges past the interval are planned; the reason names them', () => {
      const result = plan(
        input(nodes, rf3, { history: { 'ks.t': everyRange((i) => (i < 3 ? NOW - 9 * DAY : NOW - DAY)) } }),
      );
      const job = result.jobs[0]!;
      expect(job).to.deep.include({ due: true, rangesBehind: 3, state: 'LATE', alarm: 'warn', overdueHours: 48 });
      expect(job.priority).to.equal(49);
      expect(result.tasks).to.have.length(1);
      expect(result.tasks[0]!.ranges).to.have.length(3);
      expect(result.tasks[0]!.reason).to.match(
        /^3 of 12 vnode range\(s\) .* last repaired 9d ago; .*past the warn alarm 8d; priority \(48h overdue \+ 1\) × weight 1 = 49$/,
      );
    });

    it('a never-repaired table is due as of the history lookback and past the error alarm', () => {
      const result = plan(input(nodes, rf3));
      expect(result.jobs[0]).to.deep.include({ lastRepairedAt: null, state: 'OVERDUE', rangesNeverRepaired: 12 });
      expect(result.jobs[0]!.nextDueAt).to.equal(NOW - 23 * DAY);
      expect(result.tasks[0]!.reason).to.match(/never repaired/);
    });

    it('splits due ranges by size target for subrange repairs', () => {
      const tables = [settings('ks', 't', { repairType: 'subrange', sizeTargetBytes: 100 })];
      const result = plan(input(nodes, rf3, { tables, sizes: { 'ks.t': { totalBytes: 12_000 } } }));
      const tasks = result.tasks;
      const ranges = tasks.flatMap((t) => t.ranges.map(fromRangeText));
      const total = ranges.reduce((s, r) => s + rangeWidth(r), 0n);
      expect(total).to.equal(2n ** 64n); // RF3 on 3 nodes: the local node covers the whole ring
      expect(ranges.length).to.be.within(120, 132); // 12,000 bytes / 100 per piece, rounded up per vnode
      expect(tasks.reduce((s, t) => s + (t.estimatedBytes ?? 0), 0)).to.be.closeTo(12_000, 2);
    });

    it('repairs only the due part of a vnode with sub-range history', () => {
      const vnode = ring.ranges[1]!;
      const mid = vnode.start + (vnode.end - vnode.start) / 2n;
      const history = everyRange(() => NOW - DAY);
      history.push({
        start: vnode.start.toString(),
        end: mid.toString(),
        finishedAt: NOW - 9 * DAY,
        status: 'SUCCESS',
      });
      // The newer whole-vnode entry wins over the older half: nothing due. Make the whole-vnode entry older instead.
      history[1] = { ...history[1]!, finishedAt: NOW - 20 * DAY };
      const tables = [settings('ks', 't', { repairType: 'subrange', sizeTargetBytes: 1e12 })];
      const result = plan(
        input(nodes, rf3, { tables, history: { 'ks.t': history }, sizes: { 'ks.t': { totalBytes: 1 } } }),
      );
      expect(result.tasks).to.have.length(1);
      expect(result.tasks[0]!.ranges).to.deep.equal([{ start: vnode.start.toString(), end: vnode.end.toString() }]);
      // Now the half repaired recently: only the other half is due.
      history.push({
        start: vnode.start.toString(),
        end: mid.toString(),
        finishedAt: NOW - 2 * DAY,
        status: 'SUCCESS',
      });
      const partial = plan(
        input(nodes, rf3, { tables, history: { 'ks.t': history }, sizes: { 'ks.t': { totalBytes: 1 } } }),
      );
      expect(partial.tasks[0]!.ranges).to.deep.equal([{ start: mid.toString(), end: vnode.end.toString() }]);
    });

    it('repairs a small table in one whole-table task, and incremental tables too', () => {
      const small = plan(
        input(nodes, rf3, { sizes: { 'ks.t': { totalBytes: 1000 } }, limits: { maxTasks: 5, smallTableBytes: 4096 } }),
      );
      expect(small.tasks).to.have.length(1);
      expect(small.tasks[0]).to.deep.include({ scope: 'table', incremental: false });
      expect(small.tasks[0]!.ranges).to.have.length(12);
      expect(small.tasks[0]!.reason).to.match(/^small table \(1000B ≤ 4.0KiB\)/);
      const tables = [settings('ks', 't', { repairType: 'incremental' })];
      const incremental = plan(input(nodes, rf3, { tables }));
      expect(incremental.tasks[0]).to.deep.include({ scope: 'table', incremental: true, repairType: 'incremental' });
    });

    it('caps the batch at maxTasks and ranges per task, deferring the rest', () => {
      const keyspaces = { a: rf3.ks, b: rf3.ks };
      const result = plan(input(nodes, keyspaces, { limits: { maxTasks: 3, maxRangesPerTask: 5 } }));
      expect(result.tasks.map((t) => t.ranges.length)).to.deep.equal([5, 5, 2]);
      expect(result.tasks.map((t) => t.id)).to.deep.equal([
        `${result.tasks[0]!.keyspace}.t#1`,
        `${result.tasks[0]!.keyspace}.t#2`,
        `${result.tasks[0]!.keyspace}.t#3`,
      ]);
      expect(result.deferred.map((d) => d.code)).to.deep.equal(['batch_full']);
    });

    it('blocks jobs by run policy and withholds tasks whose replicas are down', () => {
      const blocked = plan(input(nodes, rf3, { policies: { pauses: [{ reason: 'upgrade' }] } }));
      expect(blocked.jobs[0]!.state).to.equal('BLOCKED');
      expect(blocked.jobs[0]!.alarm).to.equal('error');
      expect(blocked.tasks).to.have.length(0);
      expect(blocked.deferred).to.deep.equal([
        { keyspace: 'ks', table: 't', code: 'blocked', reason: 'paused until resumed: upgrade' },
      ]);
      const down = nodes.map((n, i) => (i === 2 ? { ...n, up: false } : n));
      const result = plan(input(down, rf3));
      expect(result.tasks).to.have.length(0);
      expect(result.deferred[0]!.code).to.equal('replica_down');
      expect(result.deferred[0]!.reason).to.match(/replica 10\.1\.0\.3 \(h-dc1-3\) down/);
    });

    it('skips tables it must not schedule, with reasons', () => {
      const twoDcs = syntheticNodes(
        [
          { name: 'dc1', nodes: 2 },
          { name: 'dc2', nodes: 1 },
        ],
        4,
        3,
      );
      const result = plan({
        now: NOW,
        localHostId: 'h-dc1-1',
        tables: [
          settings('off', 't', { enabled: false }),
          settings('missing', 't'),
          settings('system', 'local'),
          settings('dc2only', 't'),
          settings('single', 't'),
          settings('good', 't'),
          settings('custom', 't'),
        ],
        topology: {
          nodes: twoDcs,
          keyspaces: {
            off: { class: 'SimpleStrategy', replicationFactor: 3 },
            system: { class: 'org.apache.cassandra.locator.LocalStrategy' },
            dc2only: { class: 'NetworkTopologyStrategy', datacenters: { dc2: 1 } },
            single: { class: 'NetworkTopologyStrategy', datacenters: { dc1: 1 } },
            good: { class: 'NetworkTopologyStrategy', datacenters: { dc1: 1, dc2: 1 } },
            custom: { class: 'com.example.CustomStrategy' },
          },
        },
        history: {},
        limits: { maxTasks: 10 },
      });
      expect(result.skipped.map((s) => `${s.keyspace}:${s.code}`)).to.deep.equal([
        'custom:unsupported_strategy',
        'dc2only:not_replicated_here',
        'missing:unknown_keyspace',
        'off:disabled',
        'single:single_replica',
        'system:local_strategy',
      ]);
      expect(result.jobs.map((j) => j.keyspace)).to.deep.equal(['good']);
      expect(result.summary).to.deep.include({ tables: 7, jobs: 1, skipped: 6, due: 1, overdue: 1 });
    });

    it('is plain JSON data', () => {
      const result = plan(input(nodes, rf3, { history: { 'ks.t': everyRange((i) => NOW - i * DAY) } }));
      expect(JSON.parse(JSON.stringify(result))).to.deep.equal(result);
      const task: RepairTask = result.tasks[0]!;
      expect(typeof task.ranges[0]!.start).to.equal('string');
    });

    it('refuses a local node that is not in the topology', () => {
      expect(() => plan(input(nodes, rf3, { localHostId: 'ghost' }))).to.throw(
        /local node ghost is not in the topology/,
      );
    });

    it('accepts history folded in advance on the same ring, and refuses another ring', () => {
      const history = everyRange((i) => NOW - i * DAY);
      const fromEntries = plan(input(nodes, rf3, { history: { 'ks.t': history } }));
      const folded = foldTableHistory(ring, history);
      const fromFolded = plan(input(nodes, rf3, { ring, history: { 'ks.t': folded } }));
      expect(fromFolded).to.deep.equal(fromEntries);
      expect(() => plan(input(nodes, rf3, { history: { 'ks.t': folded } }))).to.throw(/different ring/);
    });
  });
});
