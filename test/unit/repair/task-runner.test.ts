import { expect } from 'chai';
import { ClusterUnavailable, ExitCode, Interrupted, LeaseLost } from '../../../src/errors.js';
import type { Executor, RepairOutcome, RepairRequest, RepairStatus, RunOptions } from '../../../src/repair/executor.js';
import { runTask, taskError } from '../../../src/repair/task-runner.js';

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

describe('task runner: one task', function () {
  it('runs the task under its timeout and returns its outcome; a success is no error', async function () {
    const clock = { now: 0 };
    const executor = fakeExecutor({}, clock);
    const run = await runTask(task('a'), { executor, timeoutMs: 60_000, now: () => clock.now });
    expect(run.outcome).to.include({ taskId: 'a', status: 'success' });
    expect(executor.calls.map((c) => [c.id, c.options.timeoutMs])).to.deep.equal([['a', 60_000]]);
    expect(taskError(run, false)).to.equal(undefined);
  });

  it('a failed task: exit 6, naming the task and why', async function () {
    const run = await runTask(task('b'), { executor: fakeExecutor({ b: 'failed' }, { now: 0 }), timeoutMs: 60_000 });
    const error = taskError(run, false);
    expect(error?.exitCode).to.equal(ExitCode.RepairFailed);
    expect(error?.message).to.match(/^1 of 1 repair tasks was not successful \(first: b: failed\)/);
  });

  it('a task over its timeout is timed_out; exit 6', async function () {
    const run = await runTask(task('slow'), { executor: fakeExecutor({ slow: 'hang' }, { now: 0 }), timeoutMs: 20 });
    expect(run.outcome.status).to.equal('timed_out');
    expect(taskError(run, false)?.exitCode).to.equal(ExitCode.RepairFailed);
  });

  it('abort (lease lost) mid-task: the task is aborted, exit 1', async function () {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new LeaseLost('tend/node/10.0.0.1')), 10);
    const run = await runTask(task('a'), {
      executor: fakeExecutor({ a: 'hang' }, { now: 0 }),
      timeoutMs: 60_000,
      signal: controller.signal,
    });
    expect(run.outcome.status).to.equal('aborted');
    const error = taskError(run, controller.signal.aborted, controller.signal);
    expect(error).to.be.instanceOf(LeaseLost);
    expect(error?.exitCode).to.equal(ExitCode.Failure);
  });

  it('SIGTERM (Interrupted) gives exit 130', async function () {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Interrupted('interrupted by SIGTERM')), 5);
    const run = await runTask(task('a'), {
      executor: fakeExecutor({ a: 'hang' }, { now: 0 }),
      timeoutMs: 60_000,
      signal: controller.signal,
    });
    expect(taskError(run, controller.signal.aborted, controller.signal)?.exitCode).to.equal(ExitCode.Interrupted);
  });

  it('an unreachable node: the task is failed with the reason, and no other should start; exit 5', async function () {
    const run = await runTask(task('a'), {
      executor: fakeExecutor({ a: 'unreachable' }, { now: 0 }),
      timeoutMs: 60_000,
    });
    expect(run.outcome.status).to.equal('failed');
    expect(run.outcome.message).to.match(/ECONNREFUSED/);
    expect(run.unavailable).to.be.instanceOf(ClusterUnavailable);
    expect(taskError(run, false)?.exitCode).to.equal(ExitCode.ClusterUnavailable);
  });

  it('an unexpected executor error: a failed outcome to record, and the error to throw after', async function () {
    const executor: Executor = {
      kind: 'nodetool',
      async stopAllOnServer() {},
      async run() {
        throw new TypeError('boom');
      },
    };
    const run = await runTask(task('a'), { executor, timeoutMs: 60_000 });
    expect([run.outcome.taskId, run.outcome.status, run.outcome.message]).to.deep.equal([
      'a',
      'failed',
      'tend error: boom',
    ]);
    expect(run.crashed).to.be.instanceOf(TypeError);
  });
});
