import { expect } from 'chai';
import { ClusterUnavailable, ExitCode, Interrupted, LeaseLost } from '../../../src/errors.js';
import type { Executor, RepairOutcome, RepairRequest, RepairStatus, RunOptions } from '../../../src/repair/executor.js';
import { batchError, runTasks } from '../../../src/repair/task-runner.js';
import { historyRecords } from '../../../src/repair/history-records.js';

const R = (n: number) => ({ start: String(n * 10), end: String(n * 10 + 10) });

function task(id: string, ranges = [R(1)]): RepairRequest {
  return {
    id,
    keyspace: 'shop',
    tables: ['orders'],
    scope: 'ranges',
    ranges,
    replicaAddresses: ['10.0.0.1', '10.0.0.2'],
    incremental: false,
    parallelism: 'parallel',
  };
}

/**
 * A fake executor: each task id maps to a behaviour. 'hang' waits for the signal or the timeout, as a real
 * executor does, and reports which one ended it.
 */
function fakeExecutor(
  behaviour: Record<string, RepairStatus | 'hang' | 'unreachable'>,
  clock: { now: number },
): Executor & { calls: { id: string; options: RunOptions }[] } {
  const calls: { id: string; options: RunOptions }[] = [];
  return {
    kind: 'jolokia',
    calls,
    async stopAllOnServer() {},
    async run(request, options) {
      calls.push({ id: request.id, options });
      const startedAt = clock.now;
      const b = behaviour[request.id] ?? 'success';
      if (b === 'unreachable') throw new ClusterUnavailable('jolokia', 'connect ECONNREFUSED 127.0.0.1:8778');
      let status: RepairStatus = b === 'hang' ? 'timed_out' : b;
      if (b === 'hang') {
        status = await new Promise<RepairStatus>((resolve) => {
          const timer = setTimeout(() => resolve('timed_out'), options.timeoutMs);
          options.signal?.addEventListener('abort', () => {
            clearTimeout(timer);
            resolve('aborted');
          });
        });
      }
      clock.now += 1000;
      const outcome: RepairOutcome = {
        taskId: request.id,
        keyspace: request.keyspace,
        tables: request.tables,
        status,
        startedAt,
        finishedAt: clock.now,
        ranges: request.ranges,
        rangesRepaired: status === 'success' ? request.ranges : [],
        participants: request.replicaAddresses,
        message: status,
        commands: ['#1'],
      };
      return outcome;
    },
  };
}

describe('task runner', function () {
  it('runs tasks in order, records each outcome before the next task starts, counts by status', async function () {
    const clock = { now: 0 };
    const executor = fakeExecutor({ b: 'failed' }, clock);
    const events: string[] = [];
    const result = await runTasks([task('a'), task('b'), task('c')], {
      executor,
      taskTimeoutMs: 60_000,
      now: () => clock.now,
      onTaskStart: (t) => events.push(`start ${t.id}`),
      record: (o) => {
        events.push(`record ${o.taskId} ${o.status}`);
      },
    });
    expect(events).to.deep.equal([
      'start a',
      'record a success',
      'start b',
      'record b failed',
      'start c',
      'record c success',
    ]);
    expect(result.counts).to.deep.equal({ success: 2, failed: 1, timed_out: 0, aborted: 0 });
    expect(executor.calls.every((c) => c.options.timeoutMs === 60_000)).to.equal(true);
    const error = batchError(result);
    expect(error?.exitCode).to.equal(ExitCode.RepairFailed);
    expect(error?.message).to.match(/^1 of 3 repair tasks was not successful \(first: b: failed\)/);
  });

  it('a task over its timeout is timed_out and the batch goes on; exit 6', async function () {
    const clock = { now: 0 };
    const result = await runTasks([task('slow'), task('next')], {
      executor: fakeExecutor({ slow: 'hang' }, clock),
      taskTimeoutMs: 20,
      record: () => undefined,
    });
    expect(result.outcomes.map((o) => o.status)).to.deep.equal(['timed_out', 'success']);
    expect(batchError(result)?.exitCode).to.equal(ExitCode.RepairFailed);
  });

  it('abort (lease lost) mid-task: the task is aborted and recorded, later tasks never start, exit 1', async function () {
    const clock = { now: 0 };
    const controller = new AbortController();
    const recorded: RepairOutcome[] = [];
    setTimeout(() => controller.abort(new LeaseLost('tend/node/10.0.0.1')), 10);
    const result = await runTasks([task('a'), task('b')], {
      executor: fakeExecutor({ a: 'hang' }, clock),
      taskTimeoutMs: 60_000,
      signal: controller.signal,
      record: (o) => {
        recorded.push(o);
      },
    });
    expect(recorded.map((o) => [o.taskId, o.status])).to.deep.equal([['a', 'aborted']]);
    expect(result.notStarted.map((n) => [n.task.id, n.reason])).to.deep.equal([['b', 'aborted']]);
    expect(result.aborted).to.equal(true);
    const error = batchError(result, controller.signal);
    expect(error).to.be.instanceOf(LeaseLost);
    expect(error?.exitCode).to.equal(ExitCode.Failure);
  });

  it('SIGTERM (Interrupted) gives exit 130', async function () {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Interrupted('interrupted by SIGTERM')), 5);
    const result = await runTasks([task('a')], {
      executor: fakeExecutor({ a: 'hang' }, { now: 0 }),
      taskTimeoutMs: 60_000,
      signal: controller.signal,
      record: () => undefined,
    });
    expect(batchError(result, controller.signal)?.exitCode).to.equal(ExitCode.Interrupted);
  });

  it('maxDuration: no task starts after the start deadline; a running one is not cut short', async function () {
    const clock = { now: 0 };
    const result = await runTasks([task('a'), task('b'), task('c')], {
      executor: fakeExecutor({}, clock),
      taskTimeoutMs: 60_000,
      startDeadline: 1500,
      now: () => clock.now,
      record: () => undefined,
    });
    expect(result.outcomes.map((o) => o.taskId)).to.deep.equal(['a', 'b']);
    expect(result.notStarted.map((n) => [n.task.id, n.reason])).to.deep.equal([['c', 'deadline']]);
    expect(batchError(result)).to.equal(undefined);
  });

  it('an unreachable node: that task is recorded failed, the rest wait for the next tick; exit 5', async function () {
    const recorded: RepairOutcome[] = [];
    const result = await runTasks([task('a'), task('b')], {
      executor: fakeExecutor({ a: 'unreachable' }, { now: 0 }),
      taskTimeoutMs: 60_000,
      record: (o) => {
        recorded.push(o);
      },
    });
    expect(recorded.map((o) => [o.taskId, o.status])).to.deep.equal([['a', 'failed']]);
    expect(recorded[0]!.message).to.match(/ECONNREFUSED/);
    expect(result.notStarted.map((n) => n.reason)).to.deep.equal(['unavailable']);
    expect(batchError(result)?.exitCode).to.equal(ExitCode.ClusterUnavailable);
  });

  it('an unexpected executor error is recorded as a failed task, then thrown', async function () {
    const recorded: RepairOutcome[] = [];
    const executor: Executor = {
      kind: 'nodetool',
      async stopAllOnServer() {},
      async run() {
        throw new TypeError('boom');
      },
    };
    const error = await runTasks([task('a'), task('b')], {
      executor,
      taskTimeoutMs: 60_000,
      record: (o) => {
        recorded.push(o);
      },
    }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(TypeError);
    expect(recorded.map((o) => [o.taskId, o.status, o.message])).to.deep.equal([['a', 'failed', 'tend error: boom']]);
  });

  it('a failing record does not stop the batch; the error is collected', async function () {
    const result = await runTasks([task('a'), task('b')], {
      executor: fakeExecutor({}, { now: 0 }),
      taskTimeoutMs: 60_000,
      record: (o) => {
        if (o.taskId === 'a') throw new Error('write timeout');
      },
    });
    expect(result.outcomes).to.have.length(2);
    expect(result.recordErrors.map((e) => e.taskId)).to.deep.equal(['a']);
  });
});

describe('history records from an outcome', function () {
  const base: RepairOutcome = {
    taskId: 'shop.orders#1',
    keyspace: 'shop',
    tables: ['orders'],
    status: 'success',
    startedAt: 1000,
    finishedAt: 2000,
    ranges: [R(1), R(2), R(3)],
    rangesRepaired: [R(1), R(2), R(3)],
    participants: ['10.0.0.1', '10.0.0.2'],
    message: '3 of 3 ranges repaired',
    commands: ['#4'],
  };
  const planned = { repairType: 'vnode' as const, parallelism: 'parallel' as const };

  it('success: one SUCCESS record with every range', function () {
    const records = historyRecords(planned, base, { coordinator: 'node1', tickId: 't1' });
    expect(records).to.have.length(1);
    expect(records[0]).to.include({ status: 'SUCCESS', coordinator: 'node1', tickId: 't1', taskId: 'shop.orders#1' });
    expect(records[0]!.ranges).to.deep.equal([R(1), R(2), R(3)]);
  });

  it('timed out after two ranges: SUCCESS for those, TIMEOUT for the rest', function () {
    const records = historyRecords(
      planned,
      { ...base, status: 'timed_out', rangesRepaired: [R(1), R(2)] },
      { coordinator: 'node1' },
    );
    expect(records.map((r) => [r.status, r.ranges])).to.deep.equal([
      ['SUCCESS', [R(1), R(2)]],
      ['TIMEOUT', [R(3)]],
    ]);
  });

  it('aborted before any range: one ABORTED record', function () {
    const records = historyRecords(planned, { ...base, status: 'aborted', rangesRepaired: [] }, { coordinator: 'n' });
    expect(records.map((r) => r.status)).to.deep.equal(['ABORTED']);
    expect(records[0]!.ranges).to.have.length(3);
  });

  it('a failed command over several tables: SUCCESS for the tables Cassandra reported repaired, FAILED for the rest', function () {
    const records = historyRecords(
      planned,
      { ...base, tables: ['a', 'b', 'c'], status: 'failed', rangesRepaired: [], tablesRepaired: ['a', 'c'] },
      { coordinator: 'n' },
    );
    expect(records.map((r) => [r.status, r.tables, r.ranges.length])).to.deep.equal([
      ['SUCCESS', ['a', 'c'], 3],
      ['FAILED', ['b'], 3],
    ]);
    const none = historyRecords(
      planned,
      { ...base, tables: ['a', 'b'], status: 'failed', rangesRepaired: [], tablesRepaired: [] },
      { coordinator: 'n' },
    );
    expect(none.map((r) => [r.status, r.tables])).to.deep.equal([['FAILED', ['a', 'b']]]);
  });
});
