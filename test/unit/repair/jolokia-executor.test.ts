import { expect } from 'chai';
import { ClusterUnavailable } from '../../../src/errors.js';
import { JolokiaExecutor, nextPollWait, repairOptions } from '../../../src/repair/jolokia-executor.js';
import { JolokiaRequestError, type JolokiaClient } from '../../../src/repair/jolokia-client.js';
import type { RepairRequest } from '../../../src/repair/executor.js';

const R1 = { start: '-9223372036854775808', end: '-8839064868652493483' };
const R2 = { start: '8839064868652493482', end: '-9223372036854775808' };

const request: RepairRequest = {
  id: 'it.t1#1',
  keyspace: 'it',
  tables: ['t1', 't2'],
  scope: 'ranges',
  ranges: [R1, R2],
  replicaAddresses: ['127.0.0.1', '127.0.0.2'],
  incremental: false,
  parallelism: 'parallel',
};

type Call = { operation: string; args: readonly unknown[] };

/** A fake Jolokia: repairAsync returns `command`, each status poll takes the next scripted answer. */
function fakeJolokia(command: number | Error, statuses: Array<readonly string[] | null | Error>) {
  const calls: Call[] = [];
  const client: Pick<JolokiaClient, 'exec'> = {
    async exec<T>(_mbean: string, operation: string, args: readonly unknown[] = []): Promise<T> {
      calls.push({ operation, args });
      if (operation.startsWith('repairAsync')) {
        if (command instanceof Error) throw command;
        return command as T;
      }
      if (operation.startsWith('forceTerminateAllRepairSessions')) {
        statuses.unshift(['FAILED', 'Repair session x failed with error Terminate session is called']);
        return null as T;
      }
      const next = statuses.length > 1 ? statuses.shift() : statuses[0];
      if (next instanceof Error) throw next;
      return (next ?? null) as T;
    },
  };
  return { client, calls };
}

const fast = { pollMinMs: 1, pollMaxMs: 2, sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)) };

describe('Jolokia repair options', function () {
  it('ranges as START:END strings (no JS numbers), tables, parallelism always set', function () {
    expect(repairOptions(request)).to.deep.equal({
      incremental: 'false',
      parallelism: 'parallel',
      primaryRange: 'false',
      columnFamilies: 't1,t2',
      trace: 'false',
      ranges: '-9223372036854775808:-8839064868652493483,8839064868652493482:-9223372036854775808',
    });
  });

  it('incremental whole-table repair sends no ranges; data centers and hosts pass through', function () {
    const options = repairOptions({
      ...request,
      scope: 'table',
      incremental: true,
      parallelism: 'dc_parallel',
      limitToDatacenters: ['dc1', 'dc2'],
    });
    expect(options).to.include({ incremental: 'true', parallelism: 'dc_parallel', dataCenters: 'dc1,dc2' });
    expect(options).to.not.have.property('ranges');
    expect(repairOptions({ ...request, limitToHosts: ['127.0.0.1', '127.0.0.2'] }).hosts).to.equal(
      '127.0.0.1,127.0.0.2',
    );
    expect(repairOptions({ ...request, primaryRange: true }).primaryRange).to.equal('true');
  });
});

describe('Jolokia status poll schedule', function () {
  const schedule = { pollMinMs: 5, pollFastForMs: 1000, pollMaxMs: 2000, pollFactor: 1.25 };

  it('polls at the minimum during the first second, then backs off to the maximum', function () {
    let wait = schedule.pollMinMs;
    let elapsed = 0;
    const waits: number[] = [];
    while (elapsed < 60_000) {
      elapsed += wait;
      wait = nextPollWait(wait, elapsed, schedule);
      waits.push(wait);
    }
    const fast = waits.filter((_, i) => i < 199);
    expect(new Set(fast)).to.deep.equal(new Set([5]));
    // Growing after the first second, never above the maximum, and reaching it.
    const slow = waits.slice(200);
    for (let i = 1; i < slow.length; i++) expect(slow[i]!).to.be.at.least(slow[i - 1]!);
    expect(Math.max(...waits)).to.equal(2000);
    expect(waits.at(-1)).to.equal(2000);
    // A minute-long repair costs ~200 polls in its first second and then one every 2 s: well under 300 in all.
    expect(waits.length).to.be.below(300);
  });
});

describe('JolokiaExecutor', function () {
  it('repairAsync, then polls getParentRepairStatus until COMPLETED: success with every range', async function () {
    const jolokia = fakeJolokia(7, [null, ['IN_PROGRESS'], ['COMPLETED', 'Repair command #7 finished in 1 second']]);
    const outcome = await new JolokiaExecutor({ client: jolokia.client, ...fast }).run(request, { timeoutMs: 10_000 });
    expect(outcome.status).to.equal('success');
    expect(outcome.rangesRepaired).to.deep.equal([R1, R2]);
    expect(outcome.commands).to.deep.equal(['#7']);
    expect(outcome.message).to.equal('Repair command #7 finished in 1 second');
    expect(jolokia.calls[0]!.args[0]).to.equal('it');
    expect(jolokia.calls.slice(1).every((c) => c.operation === 'getParentRepairStatus(int)' && c.args[0] === 7)).to.be
      .true;
  });

  it('FAILED: failed with Cassandra messages, no range claimed', async function () {
    const jolokia = fakeJolokia(8, [
      ['FAILED', 'Nothing to repair for (1,2] in it - aborting', 'Repair command #8 finished with error'],
    ]);
    const outcome = await new JolokiaExecutor({ client: jolokia.client, ...fast }).run(request, { timeoutMs: 10_000 });
    expect(outcome.status).to.equal('failed');
    expect(outcome.message).to.equal('Nothing to repair for (1,2] in it - aborting');
    expect(outcome.rangesRepaired).to.deep.equal([]);
  });

  it('a replica that is down (status captured from the sandbox): failed, naming the endpoint', async function () {
    const jolokia = fakeJolokia(205, [
      ['FAILED', 'Endpoint not alive: /127.0.0.3:7000', 'Repair command #205 finished with error'],
    ]);
    const outcome = await new JolokiaExecutor({ client: jolokia.client, ...fast }).run(request, { timeoutMs: 10_000 });
    expect(outcome.status).to.equal('failed');
    expect(outcome.message).to.equal('Endpoint not alive: /127.0.0.3:7000');
  });

  it('command 0: nothing to repair, no polling', async function () {
    const jolokia = fakeJolokia(0, []);
    const outcome = await new JolokiaExecutor({ client: jolokia.client, ...fast }).run(request, { timeoutMs: 10_000 });
    expect(outcome.status).to.equal('success');
    expect(outcome.message).to.match(/nothing to repair/);
    expect(jolokia.calls).to.have.length(1);
  });

  it('repairAsync refused by Cassandra: failed with its message', async function () {
    const error = new JolokiaRequestError(
      'java.lang.IllegalArgumentException : Unknown keyspace/cf pair (it.nosuch)',
      500,
      'java.lang.IllegalArgumentException',
    );
    const outcome = await new JolokiaExecutor({ client: fakeJolokia(error, []).client, ...fast }).run(request, {
      timeoutMs: 10_000,
    });
    expect(outcome.status).to.equal('failed');
    expect(outcome.message).to.equal('repairAsync refused the repair of it: Unknown keyspace/cf pair (it.nosuch)');
  });

  it('agent unreachable: ClusterUnavailable (exit 5)', async function () {
    const client = fakeJolokia(new ClusterUnavailable('jolokia', 'connect ECONNREFUSED'), []).client;
    const error = await new JolokiaExecutor({ client, ...fast })
      .run(request, { timeoutMs: 10_000 })
      .catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ClusterUnavailable);
  });

  it('a status that stays null past the grace period: failed, command lost', async function () {
    const jolokia = fakeJolokia(9, [null]);
    const outcome = await new JolokiaExecutor({ client: jolokia.client, ...fast, unknownStatusGraceMs: 20 }).run(
      request,
      { timeoutMs: 10_000 },
    );
    expect(outcome.status).to.equal('failed');
    expect(outcome.message).to.match(/no longer knows repair command #9/);
  });

  it('poll errors are retried', async function () {
    const jolokia = fakeJolokia(10, [new Error('socket hang up'), ['COMPLETED']]);
    const outcome = await new JolokiaExecutor({ client: jolokia.client, ...fast }).run(request, { timeoutMs: 10_000 });
    expect(outcome.status).to.equal('success');
  });

  it('timeout: terminates the sessions on the node and waits for FAILED; timed_out', async function () {
    const jolokia = fakeJolokia(11, [['IN_PROGRESS']]);
    const outcome = await new JolokiaExecutor({ client: jolokia.client, ...fast }).run(request, { timeoutMs: 30 });
    expect(outcome.status).to.equal('timed_out');
    expect(outcome.serverStop).to.deep.equal({ requested: true });
    expect(jolokia.calls.map((c) => c.operation)).to.include('forceTerminateAllRepairSessions()');
    expect(outcome.rangesRepaired).to.deep.equal([]);
  });

  it('the deadline passes as the repair ends: reported as it ended (success), nothing terminated', async function () {
    const calls: string[] = [];
    const startedAt = Date.now();
    const client: Pick<JolokiaClient, 'exec'> = {
      async exec<T>(_mbean: string, operation: string): Promise<T> {
        calls.push(operation);
        if (operation.startsWith('repairAsync')) return 14 as T;
        // Still running when the task's deadline (30 ms) passes, completed by the time tend looks again.
        return (Date.now() - startedAt < 20 ? ['IN_PROGRESS'] : ['COMPLETED', 'Repair command #14 finished']) as T;
      },
    };
    // The first poll waits a second, so the deadline interrupts the wait before any poll.
    const outcome = await new JolokiaExecutor({ client, pollMinMs: 1000 }).run(request, { timeoutMs: 30 });
    expect(outcome.status).to.equal('success');
    expect(outcome.rangesRepaired).to.deep.equal([R1, R2]);
    expect(calls).to.not.include('forceTerminateAllRepairSessions()');
  });

  it('abort: the reason is reported and the node is told to stop', async function () {
    const jolokia = fakeJolokia(12, [['IN_PROGRESS']]);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('lease tend/dc/dc1 lost')), 20);
    const outcome = await new JolokiaExecutor({ client: jolokia.client, ...fast }).run(request, {
      timeoutMs: 10_000,
      signal: controller.signal,
    });
    expect(outcome.status).to.equal('aborted');
    expect(outcome.message).to.equal('aborted: lease tend/dc/dc1 lost; repair sessions terminated on the node');
  });

  it('a command still running after the termination: terminated again until it stops', async function () {
    const calls: string[] = [];
    let terminations = 0;
    const client: Pick<JolokiaClient, 'exec'> = {
      async exec<T>(_mbean: string, operation: string): Promise<T> {
        calls.push(operation);
        if (operation.startsWith('repairAsync')) return 15 as T;
        if (operation.startsWith('forceTerminateAllRepairSessions')) {
          terminations++;
          return null as T;
        }
        // The first termination lands before the command has a session: it keeps running until the second.
        return (terminations < 2 ? ['IN_PROGRESS'] : ['FAILED', 'Terminate session is called']) as T;
      },
    };
    const outcome = await new JolokiaExecutor({
      client,
      ...fast,
      terminateRepeatMs: 20,
      terminatePollMs: 2,
      terminateConfirmMs: 5_000,
    }).run(request, { timeoutMs: 30 });
    expect(outcome.status).to.equal('timed_out');
    expect(outcome.serverStop).to.deep.equal({ requested: true });
    expect(terminations).to.equal(2);
    expect(outcome.message).to.match(/; repair sessions terminated on the node$/);
  });

  it('a command that never stops: the outcome says so, with how long and how many terminations', async function () {
    const jolokia = fakeJolokia(16, [['IN_PROGRESS']]);
    const client: Pick<JolokiaClient, 'exec'> = {
      exec: <T>(mbean: string, operation: string, args?: readonly unknown[]) =>
        operation.startsWith('forceTerminateAllRepairSessions')
          ? Promise.resolve(null as T)
          : jolokia.client.exec<T>(mbean, operation, args),
    };
    const outcome = await new JolokiaExecutor({
      client,
      ...fast,
      terminateRepeatMs: 10,
      terminatePollMs: 2,
      terminateConfirmMs: 60,
    }).run(request, { timeoutMs: 20 });
    expect(outcome.status).to.equal('timed_out');
    expect(outcome.serverStop?.error, outcome.serverStop?.error).to.match(
      /^repair command #16 still reported IN_PROGRESS 0 s after termination \(terminated [2-9] times\)$/,
    );
    expect(outcome.message).to.match(/stopping the repair on the node failed \(.*\); check the node's log$/);
  });

  it('a termination the node refuses: reported at once, not retried', async function () {
    const calls: string[] = [];
    const client: Pick<JolokiaClient, 'exec'> = {
      async exec<T>(_mbean: string, operation: string): Promise<T> {
        calls.push(operation);
        if (operation.startsWith('repairAsync')) return 17 as T;
        if (operation.startsWith('forceTerminateAllRepairSessions')) {
          throw new JolokiaRequestError(
            'java.lang.SecurityException : Access denied',
            403,
            'java.lang.SecurityException',
          );
        }
        return ['IN_PROGRESS'] as T;
      },
    };
    const outcome = await new JolokiaExecutor({ client, ...fast, terminateRepeatMs: 1 }).run(request, {
      timeoutMs: 20,
    });
    expect(outcome.serverStop?.error).to.include('Access denied');
    expect(calls.filter((c) => c.startsWith('forceTerminateAllRepairSessions'))).to.have.length(1);
  });

  it('an already aborted signal starts nothing', async function () {
    const jolokia = fakeJolokia(13, []);
    const outcome = await new JolokiaExecutor({ client: jolokia.client, ...fast }).run(request, {
      timeoutMs: 10_000,
      signal: AbortSignal.abort(),
    });
    expect(outcome.status).to.equal('aborted');
    expect(jolokia.calls).to.have.length(0);
  });
});
