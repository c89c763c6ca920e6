/** schedule status / plan output from a fixed report: stdout and stderr separately, on a terminal and piped. */
import { expect } from 'chai';
import { presentGroupStatus, presentPlan, presentStatus } from '../../../src/cli/commands/schedule.js';
import { Output } from '../../../src/output/output.js';
import { MemoryStream } from '../../../src/output/memory-stream.js';
import { AlarmCrossed } from '../../../src/errors.js';
import type { PlanReport, StatusReport, StatusRow } from '../../../src/app/schedule.js';
import type { Plan } from '../../../src/core/index.js';

const NOW = Date.UTC(2026, 10, 21, 12);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ROWS_READ = {
  topology: 10,
  summaries: 0,
  state: 96,
  sessions: 3,
  parents: 1,
  estimates: 32,
  policies: 0,
  total: 142,
};

function row(table: string, overrides: Partial<StatusRow>): StatusRow {
  return {
    keyspace: 'shop',
    table,
    state: 'ON_TIME',
    alarm: 'none',
    due: false,
    lastRepairedAt: NOW - 2 * HOUR,
    nextDueAt: NOW - 2 * HOUR + 7 * DAY,
    priority: 0,
    rangesBehind: 0,
    rangesTotal: 48,
    repairType: 'vnode',
    matchedBy: null,
    reason: null,
    schedule: null,
    ...overrides,
  };
}

const REPORT: StatusReport = {
  now: NOW,
  node: { hostId: 'h1', address: '10.0.0.1', datacenter: 'dc1' },
  rows: [
    row('orders', {
      state: 'OVERDUE',
      alarm: 'error',
      due: true,
      lastRepairedAt: null,
      nextDueAt: NOW - 23 * DAY,
      priority: 553,
      rangesBehind: 48,
    }),
    row('customers', {}),
    row('audit', {
      state: 'SKIPPED',
      lastRepairedAt: null,
      nextDueAt: null,
      rangesBehind: null,
      rangesTotal: null,
      reason: 'single_replica: one replica',
    }),
  ],
  summary: { tables: 3, jobs: 2, due: 1, late: 0, overdue: 1, blocked: 0, skipped: 1, tasks: 1, historyEntries: 10 },
  pastErrorAlarm: ['shop.orders'],
  rowsRead: ROWS_READ,
  warnings: ['size estimates unavailable: node down'],
};

function output(tty: boolean, json = false) {
  const stdout = new MemoryStream(tty);
  const stderr = new MemoryStream(tty);
  const out = new Output({ stdout, stderr, json, colorAllowed: false, now: () => new Date(NOW) });
  return { out, stdout, stderr };
}

describe('schedule status output', () => {
  it('on a terminal: an aligned table with relative times; warnings on stderr', () => {
    const { out, stdout, stderr } = output(true);
    presentStatus(REPORT, { scope: undefined, check: false }, { out });
    const lines = stdout.text.trimEnd().split('\n');
    expect(lines[0]).to.match(/^TABLE\s+STATE\s+LAST REPAIRED\s+NEXT DUE\s+PRIORITY\s+BEHIND\s+NOTE/);
    expect(lines[1]).to.match(/^shop\.orders\s+OVERDUE\s+never\s+23d ago\s+553\s+48\/48/);
    expect(lines[2]).to.match(/^shop\.customers\s+ON_TIME\s+2h ago\s+in 6d\s+0\s+0\/48/);
    expect(lines[3]).to.match(/^shop\.audit\s+SKIPPED\s+-\s+-\s+-\s+-\s+single_replica: one replica/);
    expect(stderr.text).to.include('size estimates unavailable');
    expect(stdout.text).to.not.include('size estimates');
  });

  it('a group (nodes:): every covered node in one table, NODE first; JSON per node; --check names the node', () => {
    const node2: StatusReport = {
      ...REPORT,
      node: { hostId: 'h2', address: '10.0.0.2', datacenter: 'dc1' },
      rows: [row('orders', {})],
      pastErrorAlarm: [],
    };
    const { out, stdout, stderr } = output(true);
    let caught: unknown;
    try {
      presentGroupStatus([REPORT, node2], { scope: undefined, check: true }, { out });
    } catch (error) {
      caught = error;
    }
    const lines = stdout.text.trimEnd().split('\n');
    expect(lines[0]).to.match(/^NODE\s+TABLE\s+STATE/);
    expect(lines.slice(1).map((line) => line.split(/\s+/).slice(0, 3))).to.deep.equal([
      ['10.0.0.1', 'shop.orders', 'OVERDUE'],
      ['10.0.0.1', 'shop.customers', 'ON_TIME'],
      ['10.0.0.1', 'shop.audit', 'SKIPPED'],
      ['10.0.0.2', 'shop.orders', 'ON_TIME'],
    ]);
    // The same warning from both nodes once.
    expect(stderr.text.match(/size estimates unavailable/g)).to.have.length(1);
    expect(caught).to.be.instanceOf(AlarmCrossed);
    expect((caught as Error).message).to.include('shop.orders on 10.0.0.1');

    const json = output(false, true);
    presentGroupStatus([REPORT, node2], { scope: undefined, check: false }, { out: json.out });
    const parsed = JSON.parse(json.stdout.text) as { nodes: StatusReport[] };
    expect(parsed.nodes.map((n) => [n.node.address, n.rows.length])).to.deep.equal([
      ['10.0.0.1', 3],
      ['10.0.0.2', 1],
    ]);
  });

  it("each table's interval and alarms, with where they came from (issue 15: schedule provenance)", () => {
    const { out, stdout } = output(false);
    const schedule = {
      intervalMs: 7 * DAY,
      warnMs: 8 * DAY,
      errorMs: 10 * DAY,
      gcGraceMs: 10 * DAY,
      sources: {
        interval: { from: 'gc_grace' as const, text: '70% of gc_grace_seconds' },
        warn: { from: 'gc_grace' as const, text: '80% of gc_grace_seconds' },
        error: { from: 'gc_grace' as const, text: 'gc_grace_seconds' },
      },
    };
    const configured = {
      ...schedule,
      intervalMs: DAY,
      warnMs: 2 * DAY,
      errorMs: 3 * DAY,
      sources: {
        interval: { from: 'config' as const, key: 'repair.interval', text: 'repair.interval' },
        warn: { from: 'config' as const, key: 'repair.interval', text: 'repair.interval' },
        error: { from: 'config' as const, key: 'repair.interval', text: 'repair.interval' },
      },
    };
    presentStatus(
      { ...REPORT, rows: [row('a', { schedule }), row('b', { schedule: configured }), row('c', {})] },
      { scope: undefined, check: false },
      { out },
    );
    const columns = stdout.text
      .trimEnd()
      .split('\n')
      .map((line) => line.split('\t').slice(-2));
    expect(columns).to.deep.equal([
      ['7d/8d/10d', '70% of gc_grace_seconds / 80% of gc_grace_seconds / gc_grace_seconds'],
      ['1d/2d/3d', 'repair.interval'],
      ['-', '-'],
    ]);
  });

  it('piped: tab-separated rows without a header, ISO-8601 UTC times', () => {
    const { out, stdout } = output(false);
    presentStatus(REPORT, { scope: undefined, check: false }, { out });
    const lines = stdout.text.trimEnd().split('\n');
    expect(lines).to.have.length(3);
    expect(lines[1]!.split('\t').slice(0, 4)).to.deep.equal([
      'shop.customers',
      'ON_TIME',
      '2026-11-21T10:00:00Z',
      '2026-11-28T10:00:00Z',
    ]);
  });

  it('--json: the report as one document', () => {
    const { out, stdout } = output(false, true);
    presentStatus(REPORT, { scope: undefined, check: false }, { out });
    const document = JSON.parse(stdout.text) as StatusReport;
    expect(document.rows.map((r) => r.state)).to.deep.equal(['OVERDUE', 'ON_TIME', 'SKIPPED']);
    expect(document.pastErrorAlarm).to.deep.equal(['shop.orders']);
  });

  it('--check: the data is printed, then AlarmCrossed (exit 7) names the overdue jobs', () => {
    const { out, stdout } = output(false, true);
    let error: unknown;
    try {
      presentStatus(REPORT, { scope: undefined, check: true }, { out });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(AlarmCrossed);
    expect((error as AlarmCrossed).exitCode).to.equal(7);
    expect((error as Error).message).to.include('shop.orders');
    expect(() => JSON.parse(stdout.text) as unknown).to.not.throw();
  });

  it('--check passes when nothing is past its error alarm', () => {
    const { out } = output(false);
    expect(() =>
      presentStatus({ ...REPORT, pastErrorAlarm: [] }, { scope: undefined, check: true }, { out }),
    ).to.not.throw();
  });
});

const PLAN: Plan = {
  formatVersion: 1,
  now: NOW,
  localHostId: 'h1',
  localDatacenter: 'dc1',
  jobs: [],
  tasks: [
    {
      id: 'shop.orders#1',
      keyspace: 'shop',
      tables: ['orders'],
      scope: 'ranges',
      ranges: [
        { start: '0', end: '100' },
        { start: '100', end: '200' },
      ],
      replicas: ['h1', 'h2'],
      replicaAddresses: ['10.0.0.1', '10.0.0.2'],
      datacenters: ['dc1'],
      repairType: 'vnode',
      incremental: false,
      parallelism: 'parallel',
      priority: 553,
      estimatedBytes: null,
      oldestRepairedAt: null,
      reason: '2 of 48 vnode range(s) on replicas 2×[dc1], never repaired',
    },
  ],
  skipped: [{ keyspace: 'logs', table: 'raw', code: 'single_replica', reason: 'one replica' }],
  deferred: [{ keyspace: 'shop', table: 'customers', code: 'batch_full', reason: 'batch full' }],
  summary: { tables: 3, jobs: 2, due: 2, late: 0, overdue: 1, blocked: 0, skipped: 1, tasks: 1, historyEntries: 0 },
};
const PLAN_REPORT: PlanReport = { plan: PLAN, rowsRead: ROWS_READ, sizes: 'table_estimates', warnings: [] };

describe('schedule plan output', () => {
  it('lists the tasks in order; --explain adds why, deferrals, skips and rows read', () => {
    const plain = output(true);
    presentPlan(PLAN_REPORT, { explain: false }, { out: plain.out });
    expect(plain.stdout.text).to.match(/1\. shop\.orders\s+2 range\(s\)\s+vnode\s+priority 553/);
    expect(plain.stdout.text).to.not.include('why:');

    const explained = output(true);
    presentPlan(PLAN_REPORT, { explain: true }, { out: explained.out });
    const text = explained.stdout.text;
    expect(text).to.include('why: 2 of 48 vnode range(s)');
    expect(text).to.include('range (0, 100]');
    expect(text).to.include('shop.customers  batch_full: batch full');
    expect(text).to.include('logs.raw  single_replica: one replica');
    expect(text).to.include('read 142 row(s): topology 10, summaries 0, repair_state 96');
  });

  it('--json: the Plan itself plus the rows read', () => {
    const { out, stdout } = output(false, true);
    presentPlan(PLAN_REPORT, { explain: true }, { out });
    const document = JSON.parse(stdout.text) as Plan & { rowsRead: typeof ROWS_READ };
    expect(document.formatVersion).to.equal(1);
    expect(document.tasks[0]!.id).to.equal('shop.orders#1');
    expect(document.rowsRead.total).to.equal(142);
  });

  it('says so when there is nothing to run', () => {
    const { out, stdout } = output(false);
    presentPlan({ ...PLAN_REPORT, plan: { ...PLAN, tasks: [] } }, { explain: false }, { out });
    expect(stdout.text).to.include('nothing to run');
  });

  describe('--explain: whether each task could start now', () => {
    const since = NOW - 90_000;
    const reason =
      'replica 10.0.0.2 is already repairing: repair 0a1b of shop.orders, coordinated by 10.0.0.3 since 2026-11-21T11:58:30.000Z (1m30s ago) (and 1 more running repair(s) on its replicas)';
    const running: PlanReport = {
      ...PLAN_REPORT,
      startChecks: [
        {
          task: 'shop.orders#1',
          start: false,
          code: 'repair_running',
          reason,
          repairs: [
            { replica: '10.0.0.2', id: '0a1b', coordinator: '10.0.0.3', keyspace: 'shop', tables: ['orders'], since },
            { replica: '10.0.0.1', id: '2c3d', coordinator: '10.0.0.1', keyspace: 'shop', tables: [], since: null },
          ],
          overloads: [],
          unread: ['10.0.0.9: back-pressure not measured: Jolokia unreachable'],
          backPressureChecked: false,
        },
      ],
      startChecksMs: 37,
    };

    it("prints the tick's reason word for word, each running repair, what was not read, and the cost", () => {
      const { out, stdout } = output(false);
      presentPlan(running, { explain: true }, { out });
      const text = stdout.text;
      expect(text).to.include(`now: would not start (repair_running): ${reason}`);
      expect(text).to.include('repair 0a1b on 10.0.0.2, coordinated by 10.0.0.3 since 2026-11-21T11:58:30.000Z');
      expect(text).to.include('repair 2c3d on 10.0.0.1, coordinated by 10.0.0.1\n');
      expect(text).to.include('not read: 10.0.0.9: back-pressure not measured: Jolokia unreachable');
      expect(text).to.include('checked the replicas of 1 task(s)');
      expect(text).to.include('in 37 ms');
    });

    it('a task that may start says so, and which checks ran; back-pressure lists every limit past', () => {
      const free = output(false);
      presentPlan(
        {
          ...running,
          startChecks: [
            {
              ...running.startChecks![0]!,
              start: true,
              code: null,
              reason: null,
              repairs: [],
              unread: [],
              backPressureChecked: true,
            },
          ],
        },
        { explain: true },
        { out: free.out },
      );
      expect(free.stdout.text).to.include(
        'now: would start (no repair running on its replicas, none past a back-pressure limit)',
      );
      const pressed = output(false);
      const overloads = [
        {
          replica: '10.0.0.1',
          what: 'sstables',
          text: 'shop.orders has 9 SSTables > repair.backPressure.maxSSTables 1',
        },
        {
          replica: '10.0.0.2',
          what: 'pending_compactions',
          text: '30 pending compactions > repair.backPressure.maxPendingCompactions 20',
        },
      ];
      presentPlan(
        {
          ...running,
          startChecks: [
            {
              ...running.startChecks![0]!,
              code: 'back_pressure',
              reason: `replica 10.0.0.1 is under back-pressure: ${overloads[0]!.text} (and 1 more)`,
              repairs: [],
              overloads,
              unread: [],
              backPressureChecked: true,
            },
          ],
        },
        { explain: true },
        { out: pressed.out },
      );
      expect(pressed.stdout.text).to.include(
        'now: would not start (back_pressure): replica 10.0.0.1 is under back-pressure',
      );
      expect(pressed.stdout.text).to.include(`10.0.0.2: ${overloads[1]!.text}`);
    });

    it('--json carries the checks; without --explain there are none', () => {
      const { out, stdout } = output(false, true);
      presentPlan(running, { explain: true }, { out });
      const document = JSON.parse(stdout.text) as { startChecks: PlanReport['startChecks']; startChecksMs: number };
      expect(document.startChecks![0]!.code).to.equal('repair_running');
      expect(document.startChecks![0]!.reason).to.equal(reason);
      expect(document.startChecks![0]!.repairs.map((r) => r.since)).to.deep.equal([since, null]);
      expect(document.startChecksMs).to.equal(37);
      const plain = output(false, true);
      presentPlan(PLAN_REPORT, { explain: false }, { out: plain.out });
      expect(JSON.parse(plain.stdout.text)).to.not.have.property('startChecks');
    });
  });
});
