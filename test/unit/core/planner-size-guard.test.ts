/**
 * Issue 12, item 4: the planner holds one item per sub-range, so a tiny sizeTarget on a large table ran it out of
 * memory (1B on 10GiB). The configuration refuses targets below 1MiB, but a table can still be large enough for any
 * target; the planner caps the pieces per table (MAX_SUBRANGES_PER_TABLE) and makes them larger instead.
 */
import { expect } from 'chai';
import { MAX_SUBRANGES_PER_TABLE, plan, type PlanInput, type TableSettings } from '../../../src/core/planner.js';
import { fromRangeText, rangeWidth } from '../../../src/core/ranges.js';
import { syntheticNodes } from './synthetic.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 21, 12);
const MiB = 1024 ** 2;

function input(totalBytes: number, sizeTargetBytes: number): PlanInput {
  const nodes = syntheticNodes([{ name: 'dc1', nodes: 3 }], 16, 7);
  const table: TableSettings = {
    keyspace: 'ks',
    table: 't',
    enabled: true,
    intervalMs: 7 * DAY,
    warnMs: 8 * DAY,
    errorMs: 10 * DAY,
    weight: 1,
    repairType: 'subrange',
    parallelism: 'parallel',
    sizeTargetBytes,
  };
  return {
    now: NOW,
    localHostId: nodes[0]!.hostId,
    tables: [table],
    topology: { nodes, keyspaces: { ks: { class: 'NetworkTopologyStrategy', datacenters: { dc1: 3 } } } },
    history: {},
    sizes: { 'ks.t': { totalBytes } },
    limits: { maxTasks: 10 },
  };
}

function rangesOf(result: ReturnType<typeof plan>) {
  return result.tasks.flatMap((task) => task.ranges.map(fromRangeText));
}

describe('core/planner: sub-ranges per table are bounded', () => {
  it('splits a 256MiB table at 1KiB into at most MAX_SUBRANGES_PER_TABLE (+1 per vnode) pieces, covering it all', () => {
    const ranges = rangesOf(plan(input(256 * MiB, 1024)));
    // 48 local vnode ranges (3 nodes x 16, RF 3): each may round up by one piece.
    expect(ranges.length).to.be.within(MAX_SUBRANGES_PER_TABLE, MAX_SUBRANGES_PER_TABLE + 48);
    expect(ranges.reduce((sum, range) => sum + rangeWidth(range), 0n)).to.equal(2n ** 64n);
  });

  it('leaves a target below the bound alone (10GiB at 200MiB: about 52 pieces, one or two per vnode)', () => {
    const ranges = rangesOf(plan(input(10 * 1024 * MiB, 200 * MiB)));
    expect(ranges.length).to.be.within(52, 52 + 48);
  });
});
