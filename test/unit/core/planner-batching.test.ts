import { expect } from 'chai';
import {
  narrowTask,
  plan,
  tablesToRead,
  wholeTableReason,
  type PlanInput,
  type TableSettings,
  type Topology,
} from '../../../src/core/planner.js';
import { buildRing, type NodeInfo } from '../../../src/core/ring.js';
import type { RepairEntry } from '../../../src/core/timeline.js';
import { syntheticNodes } from './synthetic.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2026, 11, 3, 12);
const GIB = 1024 ** 3;

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

const nodes: NodeInfo[] = syntheticNodes([{ name: 'dc1', nodes: 3 }], 4, 9);
const ring = buildRing(nodes);
const keyspaces: Topology['keyspaces'] = {
  ks: { class: 'SimpleStrategy', replicationFactor: 3 },
  other: { class: 'SimpleStrategy', replicationFactor: 3 },
};

function input(tables: TableSettings[], extra: Partial<PlanInput> = {}): PlanInput {
  return {
    now: NOW,
    localHostId: nodes[0]!.hostId,
    tables,
    topology: { nodes, keyspaces },
    ring,
    history: {},
    limits: { maxTasks: 10, smallTableBytes: GIB, tablesPerCommand: 64 },
    ...extra,
  };
}

/** Every range of the ring repaired at `at`. */
const repairedAt = (at: number): RepairEntry[] =>
  ring.ranges.map((range) => ({ start: `${range.start}`, end: `${range.end}`, finishedAt: at, status: 'SUCCESS' }));

describe('core/planner: small tables in few commands', () => {
  it('puts the due small tables of a keyspace into one whole-table command, in priority order', () => {
    const tables = Array.from({ length: 40 }, (_, i) => settings('ks', `t${i}`));
    const result = plan(
      input(tables, { sizes: Object.fromEntries(tables.map((t) => [`ks.${t.table}`, { totalBytes: 1000 }])) }),
    );
    expect(result.tasks).to.have.length(1);
    const task = result.tasks[0]!;
    expect(task.scope).to.equal('table');
    expect(task.tables).to.have.length(40);
    expect([...task.tables].sort()).to.deep.equal(tables.map((t) => t.table).sort());
    // The order of the jobs decides the lead table and the order inside the command.
    expect(task.tables).to.deep.equal(result.jobs.map((j) => j.table));
    expect(task.id).to.equal(`ks.${task.tables[0]}+39#1`);
    expect(task.ranges).to.have.length(12);
    expect(task.estimatedBytes).to.equal(40_000);
    expect(task.reason).to.match(/^40 tables of ks in one command \(.*\); small table \(1000B ≤ 1.0GiB\)/);
    expect(result.deferred).to.deep.equal([]);
  });

  it('a command narrowed to some of its tables is named and explained by what it still repairs', () => {
    const tables = ['a', 'b', 'c'].map((t) => settings('ks', t));
    const [task] = plan(input(tables)).tasks;
    const [first, second, third] = task!.tables;
    expect(task!.reason).to.match(/^3 tables of ks in one command/);
    const two = narrowTask(task!, [third!, first!]);
    expect(two.tables).to.deep.equal([first, third]);
    expect(two.id).to.equal(`ks.${first}+1#1`);
    expect(two.reason).to.equal(
      task!.reason.replace(
        /^3 tables of ks in one command \([^)]*\)/,
        `2 tables of ks in one command (${first}, ${third})`,
      ),
    );
    const one = narrowTask(task!, [second!]);
    expect(one).to.include({ id: `ks.${second}#1` });
    expect(one.tables).to.deep.equal([second]);
    expect(one.reason).to.not.match(/in one command \(/);
    expect(narrowTask(task!, task!.tables)).to.equal(task);
    expect(() => narrowTask(task!, [])).to.throw(/no table/);
  });

  it('caps a command at tablesPerCommand tables; each command counts as one task against maxTasks', () => {
    const tables = Array.from({ length: 10 }, (_, i) => settings('ks', `t${i}`));
    const result = plan(input(tables, { limits: { maxTasks: 2, smallTableBytes: GIB, tablesPerCommand: 4 } }));
    expect(result.tasks.map((t) => t.tables.length)).to.deep.equal([4, 4]);
    expect(result.deferred.map((d) => d.code)).to.deep.equal(['batch_full', 'batch_full']);
    const inTasks = new Set(result.tasks.flatMap((t) => t.tables));
    expect(result.deferred.every((d) => !inTasks.has(d.table))).to.equal(true);
  });

  it('never mixes keyspaces, repair options or large tables in one command', () => {
    const tables = [
      settings('ks', 'a'),
      settings('ks', 'b', { parallelism: 'sequential' }),
      settings('ks', 'c', { repairType: 'incremental' }),
      settings('ks', 'd', { repairType: 'incremental' }),
      settings('other', 'e'),
      settings('ks', 'big'),
      settings('ks', 'f'),
    ];
    const sizes = { 'ks.big': { totalBytes: 2 * GIB } };
    const result = plan(
      input(tables, { sizes, limits: { maxTasks: 100, smallTableBytes: GIB, tablesPerCommand: 64 } }),
    );
    const commands = result.tasks
      .filter((t) => t.scope === 'table')
      .map((t) => `${t.keyspace}:${[...t.tables].sort().join(',')}`);
    expect(commands.sort()).to.deep.equal(['ks:a,f', 'ks:b', 'ks:c,d', 'other:e']);
    const big = result.tasks.filter((t) => t.tables[0] === 'big');
    expect(big.length).to.be.greaterThan(0);
    expect(big.every((t) => t.scope === 'ranges')).to.equal(true);
  });

  it('takes only due tables into a command', () => {
    const tables = [settings('ks', 'due'), settings('ks', 'fresh')];
    const result = plan(input(tables, { history: { 'ks.fresh': repairedAt(NOW - DAY) } }));
    expect(result.tasks.map((t) => t.tables)).to.deep.equal([['due']]);
  });

  it('withholds the whole command when a replica is down, naming every table', () => {
    const down = nodes.map((n, i) => (i === 2 ? { ...n, up: false } : n));
    const tables = [settings('ks', 'a'), settings('ks', 'b')];
    const result = plan(input(tables, { topology: { nodes: down, keyspaces }, ring: buildRing(down) }));
    expect(result.tasks).to.deep.equal([]);
    expect(result.deferred.map((d) => `${d.table}:${d.code}`).sort()).to.deep.equal([
      'a:replica_down',
      'b:replica_down',
    ]);
  });

  it('repairs whole a table without a size estimate; only smallTableBytes 0 or unset turns that off', () => {
    expect(wholeTableReason({ repairType: 'vnode' }, undefined, { smallTableBytes: GIB })).to.match(/no size estimate/);
    expect(wholeTableReason({ repairType: 'vnode' }, { totalBytes: GIB + 1 }, { smallTableBytes: GIB })).to.equal(
      undefined,
    );
    expect(wholeTableReason({ repairType: 'vnode' }, undefined, { smallTableBytes: 0 })).to.equal(undefined);
    expect(wholeTableReason({ repairType: 'vnode' }, { totalBytes: 1 }, {})).to.equal(undefined);
    expect(wholeTableReason({ repairType: 'incremental' }, { totalBytes: 10 * GIB }, {})).to.match(/incremental/);
    const perRange = plan(input([settings('ks', 't')], { limits: { maxTasks: 10, smallTableBytes: 0 } }));
    expect(perRange.tasks.every((t) => t.scope === 'ranges')).to.equal(true);
  });
});

describe('core/planner: jobs known by their summary', () => {
  const tables = [settings('ks', 'a'), settings('ks', 'b'), settings('ks', 'c')];

  it('a summary that is not due gives the same job as the ranges would, except an older lastRepairedAt', () => {
    const fromRanges = plan(input(tables, { history: { 'ks.a': repairedAt(NOW - 2 * DAY) } })).jobs.find(
      (j) => j.table === 'a',
    )!;
    const fromSummary = plan(input(tables, { summaries: { 'ks.a': { oldestRepairedAt: NOW - 3 * DAY } } })).jobs.find(
      (j) => j.table === 'a',
    )!;
    expect(fromSummary.basis).to.equal('summary');
    expect(fromRanges.basis).to.equal('ranges');
    for (const key of [
      'due',
      'state',
      'alarm',
      'priority',
      'rangesTotal',
      'rangesBehind',
      'rangesNeverRepaired',
    ] as const) {
      expect(fromSummary[key], key).to.deep.equal(fromRanges[key]);
    }
    expect(fromSummary.lastRepairedAt).to.equal(NOW - 3 * DAY);
  });

  it('a due summary gets no task: it is listed to be read, and a plan with its history read plans it', () => {
    const summaries = {
      'ks.a': { oldestRepairedAt: NOW - 9 * DAY },
      'ks.b': { oldestRepairedAt: NOW - DAY },
      'ks.c': { oldestRepairedAt: null },
    };
    const first = plan(input(tables, { summaries }));
    expect(first.tasks).to.deep.equal([]);
    expect(tablesToRead(first).map((t) => t.table)).to.deep.equal(['c', 'a']);
    // Read: a was in fact repaired yesterday by someone else, c never was.
    const second = plan(input(tables, { summaries, history: { 'ks.a': repairedAt(NOW - DAY), 'ks.c': [] } }));
    expect(tablesToRead(second)).to.deep.equal([]);
    expect(second.tasks.map((t) => t.tables)).to.deep.equal([['c']]);
    expect(second.jobs.find((j) => j.table === 'a')).to.deep.include({ basis: 'ranges', due: false });
  });

  it('past a full batch, reads only the unread jobs that can join a command of their keyspace', () => {
    const many = [settings('ks', 'x'), settings('ks', 'y'), settings('other', 'z')];
    const summaries = { 'ks.y': { oldestRepairedAt: NOW - 9 * DAY }, 'other.z': { oldestRepairedAt: NOW - 9 * DAY } };
    const result = plan(
      input(many, {
        summaries,
        history: { 'ks.x': [] },
        limits: { maxTasks: 1, smallTableBytes: GIB, tablesPerCommand: 64 },
      }),
    );
    expect(result.tasks.map((t) => t.tables)).to.deep.equal([['x']]);
    expect(tablesToRead(result).map((t) => `${t.keyspace}.${t.table}`)).to.deep.equal(['ks.y']);
    expect(result.deferred.find((d) => d.table === 'z')!.code).to.equal('batch_full');
  });

  it('reading the tables tablesToRead names, again and again, reaches the plan of a full read', () => {
    // 30 tables with assorted histories; summaries are lower bounds of those histories (some stale).
    const all = Array.from({ length: 30 }, (_, i) =>
      settings(i % 3 === 0 ? 'other' : 'ks', `t${i}`, { weight: 1 + (i % 4) }),
    );
    const truth: Record<string, RepairEntry[]> = {};
    const summaries: Record<string, { oldestRepairedAt: number | null }> = {};
    all.forEach((t, i) => {
      const at = NOW - ((i * 7) % 12) * DAY;
      truth[`${t.keyspace}.${t.table}`] = repairedAt(at);
      summaries[`${t.keyspace}.${t.table}`] = { oldestRepairedAt: i % 5 === 0 ? null : at - (i % 2) * 2 * DAY };
    });
    const limits = { maxTasks: 4, smallTableBytes: GIB, tablesPerCommand: 3 };
    const full = plan(input(all, { history: truth, limits }));
    const read: Record<string, RepairEntry[]> = {};
    let rounds = 0;
    for (;;) {
      const partial = plan(input(all, { history: read, summaries, limits }));
      const more = tablesToRead(partial);
      if (more.length === 0) {
        expect(partial.tasks).to.deep.equal(full.tasks);
        break;
      }
      for (const t of more) read[`${t.keyspace}.${t.table}`] = truth[`${t.keyspace}.${t.table}`]!;
      rounds++;
      expect(rounds).to.be.lessThan(30);
    }
    expect(Object.keys(read).length).to.be.lessThan(all.length);
  });
});
