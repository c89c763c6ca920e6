// Simulated weeks of ticks: every hour each node plans, the node announcing the highest priority takes the lease
// and "runs" its tasks (they succeed at once and are recorded in the shared history). This checks the properties
// the schedule exists for: every range keeps being repaired within its interval, and shared history keeps the
// cluster from repairing a range twice.
import { expect } from 'chai';
import { plan, tableKey, type Plan, type TableSettings, type Topology } from '../../../src/core/planner.js';
import type { RepairEntry } from '../../../src/core/timeline.js';
import { syntheticNodes, type DatacenterSpec } from './synthetic.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const START = Date.UTC(2026, 10, 2);

interface Scenario {
  readonly name: string;
  readonly dcs: DatacenterSpec[];
  readonly vnodes: number;
  readonly replication: Topology['keyspaces'][string];
  readonly tables: number;
  readonly maxTasks: number;
}

const scenarios: Scenario[] = [
  {
    name: '1 DC, 3 nodes × 16 vnodes, RF 3',
    dcs: [{ name: 'dc1', nodes: 3 }],
    vnodes: 16,
    replication: { class: 'SimpleStrategy', replicationFactor: 3 },
    tables: 20,
    maxTasks: 2,
  },
  {
    name: '2 DCs, 3 + 2 nodes × 8 vnodes, RF dc1:2 dc2:1',
    dcs: [
      { name: 'dc1', nodes: 3, racks: 3 },
      { name: 'dc2', nodes: 2 },
    ],
    vnodes: 8,
    replication: { class: 'NetworkTopologyStrategy', datacenters: { dc1: 2, dc2: 1 } },
    tables: 8,
    maxTasks: 40,
  },
];

describe('core/planner simulation: ticks over two weeks', () => {
  for (const scenario of scenarios) {
    it(`${scenario.name}: ranges stay within interval, none is repaired twice per interval`, () => {
      const nodes = syntheticNodes(scenario.dcs, scenario.vnodes, 31);
      const tables: TableSettings[] = [];
      for (let i = 0; i < scenario.tables; i++) {
        tables.push({
          keyspace: 'ks',
          table: `t${i}`,
          enabled: true,
          intervalMs: DAY,
          warnMs: 1.5 * DAY,
          errorMs: 2 * DAY,
          weight: 1 + (i % 2),
          repairType: 'vnode',
          parallelism: 'parallel',
        });
      }
      const topology: Topology = { nodes, keyspaces: { ks: scenario.replication } };
      const history: Record<string, RepairEntry[]> = {};
      const repairsOf = new Map<string, number[]>();
      let lateAfterWarmUp = 0;
      for (let now = START; now < START + 14 * DAY; now += HOUR) {
        const plans: Plan[] = nodes.map((node) =>
          plan({
            now,
            localHostId: node.hostId,
            tables,
            topology,
            history,
            limits: { maxTasks: scenario.maxTasks },
            historyLookbackMs: 7 * DAY,
          }),
        );
        if (now >= START + 3 * DAY) {
          lateAfterWarmUp += plans.flatMap((p) => p.jobs).filter((j) => j.alarm !== 'none').length;
        }
        // The lease goes to the highest announced priority; ties to the lowest host id (stand-in for the LWT race).
        const winner = plans
          .filter((p) => p.tasks.length > 0)
          .sort((a, b) => b.tasks[0]!.priority - a.tasks[0]!.priority || (a.localHostId < b.localHostId ? -1 : 1))[0];
        for (const task of winner?.tasks ?? []) {
          for (const table of task.tables) {
            const key = tableKey(task.keyspace, table);
            for (const range of task.ranges) {
              (history[key] ??= []).push({ start: range.start, end: range.end, finishedAt: now, status: 'SUCCESS' });
              const id = `${key} ${range.start}`;
              repairsOf.set(id, [...(repairsOf.get(id) ?? []), now]);
            }
          }
        }
      }
      expect(lateAfterWarmUp, 'job-ticks past the warn alarm after day 3').to.equal(0);
      let repairs = 0;
      for (const [id, times] of repairsOf) {
        repairs += times.length;
        for (let i = 1; i < times.length; i++) {
          expect(times[i]! - times[i - 1]!, `${id} repaired again too soon`).to.be.at.least(DAY);
        }
      }
      // Each range about once per interval: at most 14 repairs in 14 days, and all ranges repaired.
      const rangeCount = nodes.length * scenario.vnodes * scenario.tables;
      expect(repairsOf.size).to.equal(rangeCount);
      expect(repairs).to.be.at.most(rangeCount * 14);
    });
  }
});
