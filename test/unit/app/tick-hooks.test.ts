/**
 * Which of the tick's events reach which hook, with which fields (a fake runner records them; the real runner is
 * test/unit/hooks/run-hook.test.ts, the real tick test/e2e/tick-hooks.test.ts). A hook's failure is a warning.
 */
import { expect } from 'chai';
import { STOPPING_HOOK_MS, tickHooks } from '../../../src/app/tick-hooks.js';
import type { TickReport } from '../../../src/app/tick.js';
import type { HooksConfig } from '../../../src/config/schema.js';
import { LeaseLost } from '../../../src/errors.js';
import type { HookEvent, HookResult } from '../../../src/hooks/run-hook.js';
import { MemoryStream } from '../../../src/output/memory-stream.js';
import { Output } from '../../../src/output/output.js';
import type { RepairOutcome } from '../../../src/repair/index.js';

const hook = (program: string) => ({ command: [program], timeout: 1000 });
const ALL = {
  onTaskFailed: hook('failed'),
  onAlarm: hook('alarm'),
  onLeaseBroken: hook('broken'),
  onTick: hook('tick'),
} as HooksConfig;

function setup(hooks: HooksConfig, status: HookResult['status'] = 'ok') {
  const ran: { program: string; event: HookEvent }[] = [];
  const stderr = new MemoryStream(false);
  const out = new Output({ stdout: new MemoryStream(false), stderr, colorAllowed: false });
  const hooksOfTick = tickHooks(hooks, out, { tickId: 't-1', node: () => 'node1' }, async (h, event) => {
    ran.push({ program: h.command[0]!, event });
    return { status, exitCode: status === 'ok' ? 0 : 22, signal: null, durationMs: 5, output: 'said no' };
  });
  return { ran, stderr, hooks: hooksOfTick };
}

const task = { id: 'shop.a#1', replicaAddresses: ['10.0.0.1', '10.0.0.2'], ranges: [{ start: '0', end: '1' }] };
const outcome = (status: RepairOutcome['status']) =>
  ({
    taskId: 'shop.a#1',
    keyspace: 'shop',
    tables: ['a'],
    status,
    message: status === 'success' ? 'ok' : 'Repair job failed',
    startedAt: 0,
    finishedAt: 1000,
    ranges: task.ranges,
    rangesRepaired: [],
    participants: task.replicaAddresses,
    commands: [],
  }) as RepairOutcome;

function report(overrides: Partial<TickReport> = {}): TickReport {
  return {
    tickId: 't-1',
    node: { name: 'node1', address: '10.0.0.1', datacenter: 'dc1' },
    result: 'ran',
    summary: '1 repair task(s) succeeded',
    plannedTasks: 1,
    rounds: 1,
    tasks: [],
    leases: {},
    startedAt: 0,
    durationMs: 10,
    skipped: [],
    alarms: [],
    ...overrides,
  };
}

describe('tick hooks: events to hooks', function () {
  it('a failed task fires onTaskFailed as it ends; a successful one fires nothing', async function () {
    const h = setup(ALL);
    h.hooks.taskEnded(task, outcome('success'));
    h.hooks.taskEnded(task, outcome('timed_out'));
    await h.hooks.tickEnded(report());
    expect(h.ran.map((r) => r.program)).to.deep.equal(['failed', 'tick']);
    expect(h.ran[0]!.event).to.deep.include({
      event: 'task_failed',
      tickId: 't-1',
      node: 'node1',
      taskId: 'shop.a#1',
      status: 'timed_out',
      message: 'Repair job failed',
      replicas: ['10.0.0.1', '10.0.0.2'],
    });
  });

  it('alarms and a lost lease fire onAlarm and onLeaseBroken at the end, then onTick', async function () {
    const h = setup(ALL);
    await h.hooks.tickEnded(
      report({
        result: 'failed',
        alarms: [
          { table: 'shop.a', level: 'warn', lastRepairedAt: 0 },
          { table: 'shop.b', level: 'error', lastRepairedAt: null },
        ],
        error: new LeaseLost('node/10.0.0.2/slot-0'),
      }),
    );
    expect(h.ran.map((r) => r.event.event)).to.deep.equal(['alarm', 'lease_broken', 'tick']);
    expect(h.ran[0]!.event).to.deep.include({ level: 'error' });
    expect(h.ran[0]!.event.tables).to.deep.equal([
      { table: 'shop.a', level: 'warn', lastRepairedAt: '1970-01-01T00:00:00.000Z' },
      { table: 'shop.b', level: 'error', lastRepairedAt: null },
    ]);
    expect(h.ran[1]!.event).to.deep.include({ resource: 'node/10.0.0.2/slot-0' });
    expect(h.ran[2]!.event).to.deep.include({ result: 'failed' });
  });

  it('only the hooks configured run; a failing hook is a warning in the log', async function () {
    const h = setup({ onTick: hook('tick') } as HooksConfig, 'failed');
    h.hooks.taskEnded(task, outcome('failed'));
    await h.hooks.tickEnded(report({ alarms: [{ table: 'shop.a', level: 'warn', lastRepairedAt: 0 }] }));
    expect(h.ran.map((r) => r.program)).to.deep.equal(['tick']);
    expect(h.stderr.text).to.match(/hook onTick \(tick\) failed \(exit 22\) after 5ms: said no/);
  });
});

describe('tick hooks while the tick is being stopped', () => {
  it(`hooks started after SIGTERM get at most ${STOPPING_HOOK_MS} ms (systemd kills at TimeoutStopSec); before, their own timeout`, async () => {
    const long = { command: ['tick'], timeout: 300_000 };
    const short = { command: ['failed'], timeout: 5_000 };
    const stop = new AbortController();
    const timeouts: [string, number][] = [];
    const out = new Output({ stdout: new MemoryStream(false), stderr: new MemoryStream(false), colorAllowed: false });
    const hooks = tickHooks(
      { onTick: long, onTaskFailed: short } as HooksConfig,
      out,
      { tickId: 't-1', node: () => 'node1', stopping: stop.signal },
      async (h) => {
        timeouts.push([h.command[0]!, h.timeout]);
        return { status: 'ok', exitCode: 0, signal: null, durationMs: 1, output: '' };
      },
    );
    hooks.taskEnded(task, outcome('failed'));
    stop.abort();
    hooks.taskEnded(task, outcome('aborted'));
    await hooks.tickEnded(report({ result: 'interrupted' }));
    expect(timeouts).to.deep.equal([
      ['failed', 5_000],
      ['failed', 5_000],
      ['tick', STOPPING_HOOK_MS],
    ]);
  });
});
