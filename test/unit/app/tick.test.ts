/**
 * The tick's decisions against fakes of its ports (plan, lease backend, executor, history, metrics): which result
 * and exit code each situation gives, and that leases are taken (or kept from the task before) and always given
 * back. The real
 * adapters are exercised by test/e2e/tick-*.test.ts on the sandbox.
 */
import { expect } from 'chai';
import { MemoryLeaseBackend } from '../../../src/lease/index.js';
import { validateConfig } from '../../../src/config/validate.js';
import { Output } from '../../../src/output/output.js';
import { MemoryStream } from '../../../src/output/memory-stream.js';
import { Interrupted, JobAttention, LeaseLost, RepairFailed } from '../../../src/errors.js';
import { idleVerdict, runTick, type TickPorts, type PlanContextAndPlan } from '../../../src/app/tick.js';
import type { Plan, RepairTask } from '../../../src/core/index.js';
import { task } from './fake-task.js';
import type {
  Executor,
  RepairedStateReader,
  RepairOutcome,
  RepairRequest,
  RunOptions,
} from '../../../src/repair/index.js';
import type cassandra from 'cassandra-driver';

const config = (() => {
  const result = validateConfig(
    {
      node: { name: 'node1' },
      lease: { scope: 'node', ttl: '30s', renewEvery: '5s' },
      // One round per tick here; planning again after a refused lease has its own tests (replanConfig).
      schedule: { maxTasks: 5, maxDuration: '1h', replan: { enabled: false } },
    },
    { env: {} },
  );
  if (!result.config) throw new Error(result.errors.join('; '));
  return result.config;
})();

const replanConfig = { ...config, schedule: { ...config.schedule, replan: { enabled: true, pause: 30_000 } } };
function plan(overrides: Partial<Plan> = {}): Plan {
  return {
    formatVersion: 1,
    now: 1_000_000,
    localHostId: 'h1',
    localDatacenter: 'dc1',
    jobs: [],
    tasks: [],
    skipped: [],
    deferred: [],
    summary: { tables: 1, jobs: 1, due: 0, late: 0, overdue: 0 } as Plan['summary'],
    ...overrides,
  };
}

class FakeExecutor implements Executor {
  readonly kind = 'jolokia' as const;
  readonly runs: string[] = [];
  constructor(
    private readonly behave: (request: RepairRequest, options: RunOptions) => Promise<RepairOutcome['status']>,
  ) {}
  async run(request: RepairRequest, options: RunOptions): Promise<RepairOutcome> {
    this.runs.push(request.id);
    const status = await this.behave(request, options);
    return {
      taskId: request.id,
      keyspace: request.keyspace,
      tables: request.tables,
      status,
      startedAt: 1,
      finishedAt: 2,
      ranges: request.ranges,
      rangesRepaired: status === 'success' ? request.ranges : [],
      participants: request.replicaAddresses,
      message: status,
      commands: [],
    };
  }
  async stopAllOnServer(): Promise<void> {}
}

/** What the node reports per table (percent repaired), for incremental eligibility. */
function repairedState(percent: Record<string, number>): RepairedStateReader {
  return {
    read: async (keyspace, tables) =>
      tables.map((table) => ({
        keyspace,
        table,
        percentRepaired: percent[table] ?? 0,
        maxRepairedAt: percent[table] ? 1_000 : 0,
      })),
  };
}

function harness(
  thePlan: Plan,
  executor: Executor,
  backend = new MemoryLeaseBackend(),
  tickConfig = config,
  percentRepaired: Record<string, number> = {},
  extra: Partial<TickPorts> = {},
) {
  const recorded: RepairOutcome[] = [];
  const opened: string[] = [];
  const metrics: string[] = [];
  const stderr = new MemoryStream(false);
  const out = new Output({
    stdout: new MemoryStream(false),
    stderr,
    json: false,
    colorAllowed: false,
    verbosity: 'normal',
  });
  const ports: Partial<TickPorts> = {
    plan: async (): Promise<PlanContextAndPlan> => ({
      plan: thePlan,
      context: { topology: { nodes: [{ hostId: 'h1', address: '127.0.0.1' }] } as never, warnings: [] },
    }),
    leaseBackend: async () => {
      opened.push('lease backend');
      return backend;
    },
    executor: async () => {
      opened.push('executor');
      return executor;
    },
    repairedState: async () => repairedState(percentRepaired),
    record: async (_client, outcome) => {
      recorded.push(outcome);
    },
    recordStart: async (_client, started) => `id-of-${started.id}`,
    writeMetrics: async (report) => {
      metrics.push(report.result);
    },
    // No replica to ask here: the checks' own tests are test/unit/core/running-repairs, back-pressure and
    // test/unit/app/tick.test.ts's "replica busy" case, which passes its own.
    replicaChecks: undefined,
    // Jobs are looked at in their own tests (test/unit/app/tick-jobs.test.ts).
    jobStep: undefined,
    ...extra,
  };
  const controller = new AbortController();
  const run = () =>
    runTick(
      { config: tickConfig, secret: async () => undefined, out, signal: controller.signal },
      {} as cassandra.Client,
      {},
      ports,
    );
  return { run, recorded, metrics, stderr, backend, controller, opened };
}

describe('tick (against fakes of its ports)', function () {
  it('idle verdicts: nothing due, paused, outside a window, replicas down', function () {
    expect(idleVerdict(plan()).result).to.equal('nothing_due');
    const due = { summary: { tables: 1, jobs: 1, due: 1, late: 0, overdue: 1 } as Plan['summary'] };
    expect(
      idleVerdict(
        plan({ ...due, deferred: [{ keyspace: 's', table: 't', code: 'blocked', reason: 'paused until resumed' }] }),
      ).result,
    ).to.equal('paused');
    expect(
      idleVerdict(
        plan({ ...due, deferred: [{ keyspace: 's', table: 't', code: 'blocked', reason: 'inside block window' }] }),
      ).result,
    ).to.equal('outside_window');
    expect(
      idleVerdict(plan({ ...due, deferred: [{ keyspace: 's', table: 't', code: 'replica_down', reason: 'down' }] }))
        .result,
    ).to.equal('replicas_down');
  });

  it('nothing due: no lease is taken, no executor is made, metrics still written, exit 0', async function () {
    const executor = new FakeExecutor(async () => 'success');
    const h = harness(plan(), executor);
    const { report } = await h.run();
    expect(report.result).to.equal('nothing_due');
    expect(report.error).to.equal(undefined);
    expect(executor.runs).to.deep.equal([]);
    expect(h.metrics).to.deep.equal(['nothing_due']);
  });

  it('a job step whose turn it is runs instead of the repair tasks (jobs take precedence)', async function () {
    const executor = new FakeExecutor(async () => 'success');
    const h = harness(
      plan({ tasks: [task('shop.a#1')] }),
      executor,
      undefined,
      config,
      {},
      {
        jobStep: async () => ({
          result: 'ran',
          jobId: 'j1',
          outcome: 'done',
          message: 'job j1: cleanup on 127.0.0.1 done',
        }),
      },
    );
    const { report } = await h.run();
    expect(report.result).to.equal('job_step');
    expect(report.summary).to.equal('job j1: cleanup on 127.0.0.1 done');
    expect(executor.runs, 'no repair task while the job step ran').to.deep.equal([]);
    expect(h.metrics).to.deep.equal(['job_step']);
  });

  it('a failed job step fails the tick (exit 6); no job step for this node lets the repairs run', async function () {
    const failed = harness(
      plan({ tasks: [task('shop.a#1')] }),
      new FakeExecutor(async () => 'success'),
      undefined,
      config,
      {},
      {
        jobStep: async () => ({
          result: 'ran',
          outcome: 'failed',
          message: 'job j1: failed',
          error: new JobAttention('job j1: step failed'),
        }),
      },
    );
    const { report } = await failed.run();
    expect(report.result).to.equal('failed');
    expect(report.error?.exitCode).to.equal(6);
    const executor = new FakeExecutor(async () => 'success');
    const idle = harness(
      plan({ tasks: [task('shop.a#1')] }),
      executor,
      undefined,
      config,
      {},
      {
        jobStep: async () => ({ result: 'idle', message: "not this node's turn" }),
      },
    );
    expect((await idle.run()).report.result).to.equal('ran');
    expect(executor.runs).to.deep.equal(['shop.a#1']);
  });

  it('keeps the leases for a next task that needs the same ones; records each; releases once, at the end', async function () {
    const backend = new MemoryLeaseBackend();
    const heldDuring: string[][] = [];
    const executor = new FakeExecutor(async () => {
      heldDuring.push((await backend.list()).map((lease) => `${lease.resource} ${lease.holder}`));
      return 'success';
    });
    const h = harness(plan({ tasks: [task('shop.a#1'), task('shop.b#1')] }), executor, backend);
    const { report } = await h.run();
    expect(report.result).to.equal('ran');
    expect(executor.runs).to.deep.equal(['shop.a#1', 'shop.b#1']);
    expect(h.recorded.map((o) => o.status)).to.deep.equal(['success', 'success']);
    expect(report.leases).to.deep.equal({ acquired: 1, kept: 1 });
    const log = h.stderr.text.split('\n').filter((line) => /repair(ing|ed) /.test(line));
    expect(
      log.map((line) => /msg="(\w+ [\w.]+)"/.exec(line)?.[1]),
      'each outcome logged as its task ends',
    ).to.deep.equal(['repairing shop.a', 'repaired shop.a', 'repairing shop.b', 'repaired shop.b']);
    const held = ['node/127.0.0.1/slot-0 node1', 'node/127.0.0.2/slot-0 node1', 'node/127.0.0.3/slot-0 node1'];
    expect(heldDuring).to.deep.equal([held, held]);
    const calls = backend.calls.filter((call) => /^(acquire|release) /.test(call));
    // Acquired in order; released all at once, so their order is not part of the contract.
    expect(calls.slice(0, 3), 'one acquisition per replica, in order').to.deep.equal([
      'acquire node/127.0.0.1/slot-0',
      'acquire node/127.0.0.2/slot-0',
      'acquire node/127.0.0.3/slot-0',
    ]);
    expect([...calls.slice(3)].sort(), 'one release per replica, at the end').to.deep.equal([
      'release node/127.0.0.1/slot-0',
      'release node/127.0.0.2/slot-0',
      'release node/127.0.0.3/slot-0',
    ]);
    expect(await backend.list()).to.deep.equal([]);
  });

  it("records each task's start before its repair runs, and its outcome under the start's id", async function () {
    const order: string[] = [];
    const executor = new FakeExecutor(async (request) => {
      order.push(`repair ${request.id}`);
      return 'success';
    });
    const h = harness(
      plan({ tasks: [task('shop.a#1'), task('shop.b#1')] }),
      executor,
      undefined,
      config,
      {},
      {
        recordStart: async (_client, started) => {
          order.push(`started ${started.id}`);
          return `id-of-${started.id}`;
        },
        record: async (_client, outcome, _task, startId) => {
          order.push(`outcome ${outcome.taskId} ${startId ?? 'without a start id'}`);
        },
      },
    );
    await h.run();
    // Each start is recorded before its repair; a's outcome is recorded while b's repair runs.
    expect(order.filter((e) => !e.startsWith('outcome'))).to.deep.equal([
      'started shop.a#1',
      'repair shop.a#1',
      'started shop.b#1',
      'repair shop.b#1',
    ]);
    expect(order.filter((e) => e.startsWith('outcome'))).to.deep.equal([
      'outcome shop.a#1 id-of-shop.a#1',
      'outcome shop.b#1 id-of-shop.b#1',
    ]);
  });

  it('a start that cannot be recorded is logged; the repair still runs and its outcome is recorded', async function () {
    const executor = new FakeExecutor(async () => 'success');
    const h = harness(
      plan({ tasks: [task('shop.a#1')] }),
      executor,
      undefined,
      config,
      {},
      {
        recordStart: async () => {
          throw new Error('Cassandra timeout during write query');
        },
      },
    );
    const { report } = await h.run();
    expect(executor.runs).to.deep.equal(['shop.a#1']);
    expect(h.recorded.map((o) => o.status)).to.deep.equal(['success']);
    expect(report.error).to.equal(undefined);
    expect(h.stderr.text).to.include("could not record the start of task shop.a#1 in tend's history");
  });

  it('a task on other replicas: the leases are released after the task before and its own are taken', async function () {
    const backend = new MemoryLeaseBackend();
    const heldDuring: string[][] = [];
    const executor = new FakeExecutor(async () => {
      heldDuring.push((await backend.list()).map((lease) => lease.resource));
      return 'success';
    });
    const tasks = [task('shop.a#1', ['127.0.0.1', '127.0.0.2']), task('shop.b#1', ['127.0.0.2', '127.0.0.3'])];
    const h = harness(plan({ tasks }), executor, backend);
    const { report } = await h.run();
    expect(report.leases).to.deep.equal({ acquired: 2 });
    expect(heldDuring).to.deep.equal([
      ['node/127.0.0.1/slot-0', 'node/127.0.0.2/slot-0'],
      ['node/127.0.0.2/slot-0', 'node/127.0.0.3/slot-0'],
    ]);
    expect(await backend.list()).to.deep.equal([]);
  });

  it('the first pending task on a subset of the held replicas follows on them, past one on other replicas; reports in plan order', async function () {
    const backend = new MemoryLeaseBackend();
    const heldDuring: string[][] = [];
    const executor = new FakeExecutor(async () => {
      heldDuring.push((await backend.list()).map((lease) => lease.resource));
      return 'success';
    });
    const tasks = [
      task('shop.a#1'),
      task('shop.b#1', ['127.0.0.1', '127.0.0.4']),
      task('shop.c#1', ['127.0.0.1', '127.0.0.2']),
      task('shop.d#1', ['127.0.0.3']),
    ];
    const h = harness(plan({ tasks }), executor, backend);
    const { report } = await h.run();
    // c and d need only replicas a holds: they run on a's leases, ahead of b, which takes its own afterwards.
    expect(executor.runs).to.deep.equal(['shop.a#1', 'shop.c#1', 'shop.d#1', 'shop.b#1']);
    expect(report.leases).to.deep.equal({ acquired: 2, kept: 2 });
    const all = ['node/127.0.0.1/slot-0', 'node/127.0.0.2/slot-0', 'node/127.0.0.3/slot-0'];
    expect(heldDuring).to.deep.equal([all, all, all, ['node/127.0.0.1/slot-0', 'node/127.0.0.4/slot-0']]);
    expect(report.tasks.map((t) => t.id)).to.deep.equal(['shop.a#1', 'shop.b#1', 'shop.c#1', 'shop.d#1']);
    expect(h.recorded.map((o) => o.taskId)).to.deep.equal(['shop.a#1', 'shop.c#1', 'shop.d#1', 'shop.b#1']);
    expect(await backend.list()).to.deep.equal([]);
  });

  it('a higher priority announced on a held replica the follower does not need still releases the leases', async function () {
    const backend = new MemoryLeaseBackend();
    const executor = new FakeExecutor(async (request) => {
      if (request.id === 'shop.a#1') {
        await backend.announce({ resource: 'node/127.0.0.3', holder: 'node2', priority: 1e9, tieBreaker: 1 }, 60_000);
      }
      return 'success';
    });
    const tasks = [task('shop.a#1'), task('shop.c#1', ['127.0.0.1', '127.0.0.2']), task('shop.d#1', ['127.0.0.1'])];
    const h = harness(plan({ tasks }), executor, backend);
    const { report } = await h.run();
    // Announced during a, seen as c starts (c runs on a's leases); node2 waits for 127.0.0.3, which neither c nor d
    // needs: the leases go after c, and d takes its own (node2 announced nothing on 127.0.0.1).
    expect(executor.runs).to.deep.equal(['shop.a#1', 'shop.c#1', 'shop.d#1']);
    expect(report.leases).to.deep.equal({ acquired: 2, kept: 1 });
    expect(await backend.list()).to.deep.equal([]);
  });

  it('a higher priority announced by another node ends the run: seen as a task starts, the leases go after it', async function () {
    const backend = new MemoryLeaseBackend();
    const executor = new FakeExecutor(async (request) => {
      if (request.id === 'shop.a#1') {
        await backend.announce({ resource: 'node/127.0.0.2', holder: 'node2', priority: 1e9, tieBreaker: 1 }, 60_000);
      }
      return 'success';
    });
    const h = harness(plan({ tasks: [task('shop.a#1'), task('shop.b#1'), task('shop.c#1')] }), executor, backend);
    const { report } = await h.run();
    // The next task is chosen as the one before starts (so that repairs follow without a gap): announced during
    // a, seen as b starts; b runs on the kept leases, which are released after it; c steps back for node2.
    expect(executor.runs).to.deep.equal(['shop.a#1', 'shop.b#1']);
    expect(report.leases).to.deep.equal({ acquired: 1, kept: 1, held_elsewhere: 1 });
    expect(report.tasks.map((t) => t.status)).to.deep.equal(['success', 'success', 'outranked']);
    expect(report.tasks[2]!.message).to.match(/node\/127\.0\.0\.2: node2 announced a higher priority/);
    expect(report.result).to.equal('ran');
    expect(await backend.list(), 'released for node2').to.deep.equal([]);
  });

  it('records run while the next repair runs, in order, and all end before the leases are released', async function () {
    const backend = new MemoryLeaseBackend();
    const events: string[] = [];
    const executor = new FakeExecutor(async (request) => {
      events.push(`repair ${request.id}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
      return 'success';
    });
    const h = harness(plan({ tasks: [task('shop.a#1'), task('shop.b#1')] }), executor, backend);
    const released: string[] = [];
    const release = backend.release.bind(backend);
    backend.release = async (lease) => {
      released.push(lease.resource);
      events.push(`release (recorded so far: ${h.recorded.length})`);
      return release(lease);
    };
    const slowRecord = async (outcome: RepairOutcome) => {
      events.push(`record ${outcome.taskId} begins`);
      await new Promise((resolve) => setTimeout(resolve, 20));
      h.recorded.push(outcome);
      events.push(`record ${outcome.taskId} ends`);
    };
    const { report } = await runTick(
      {
        config,
        secret: async () => undefined,
        out: new Output({
          stdout: new MemoryStream(false),
          stderr: new MemoryStream(false),
          json: false,
          colorAllowed: false,
          verbosity: 'normal',
        }),
        signal: new AbortController().signal,
      },
      {} as cassandra.Client,
      {},
      {
        plan: async () => ({
          plan: plan({ tasks: [task('shop.a#1'), task('shop.b#1')] }),
          context: { topology: { nodes: [{ hostId: 'h1', address: '127.0.0.1' }] } as never, warnings: [] },
        }),
        leaseBackend: async () => backend,
        executor: async () => executor,
        record: async (_client, outcome) => slowRecord(outcome),
        writeMetrics: async () => undefined,
        replicaChecks: undefined,
        jobStep: undefined,
      },
    );
    expect(report.result).to.equal('ran');
    expect(events.slice(0, 5)).to.deep.equal([
      'repair shop.a#1',
      'record shop.a#1 begins',
      'repair shop.b#1',
      'record shop.a#1 ends',
      'record shop.b#1 begins',
    ]);
    expect(
      events.filter((e) => e.startsWith('release')).every((e) => e.endsWith('2)')),
      'released after both records',
    ).to.equal(true);
    expect(released).to.have.length(3);
  });

  it('a lease lost during a task run on kept leases: that task is aborted and recorded, exit 1', async function () {
    const backend = new MemoryLeaseBackend();
    const executor = new FakeExecutor(async (request, options) => {
      if (request.id === 'shop.a#1') return 'success';
      for (const lease of await backend.list()) await backend.forceRelease(lease.resource, { name: 'op', host: 'x' });
      await new Promise<void>((resolve) => options.signal!.addEventListener('abort', () => resolve(), { once: true }));
      return 'aborted';
    });
    const fastConfig = { ...config, lease: { ...config.lease, renewEvery: 20 } };
    const tasks = [task('shop.a#1'), task('shop.b#1'), task('shop.c#1')];
    const h = harness(plan({ tasks }), executor, backend, fastConfig);
    const { report } = await h.run();
    expect(report.error).to.be.instanceOf(LeaseLost);
    expect(report.error!.exitCode).to.equal(1);
    expect(executor.runs).to.deep.equal(['shop.a#1', 'shop.b#1']);
    expect(h.recorded.map((o) => o.status)).to.deep.equal(['success', 'aborted']);
    expect(report.tasks.map((t) => t.status)).to.deep.equal(['success', 'aborted']);
    expect(report.leases).to.deep.equal({ acquired: 1, kept: 1, lost: 1 });
    expect(h.stderr.text).to.match(/shop\.b#1/);
  });

  it('a history write that fails is logged and does not stop the batch (the repair itself is done)', async function () {
    const executor = new FakeExecutor(async () => 'success');
    const written: string[] = [];
    const h = harness(
      plan({ tasks: [task('shop.a#1'), task('shop.b#1')] }),
      executor,
      undefined,
      config,
      {},
      {
        record: async (_client, outcome) => {
          if (outcome.taskId === 'shop.a#1') throw new Error('write timeout');
          written.push(outcome.taskId);
        },
      },
    );
    const { report } = await h.run();
    expect(executor.runs).to.deep.equal(['shop.a#1', 'shop.b#1']);
    expect(written).to.deep.equal(['shop.b#1']);
    expect(report.result).to.equal('ran');
    expect(h.stderr.text).to.match(/could not record task shop\.a#1 in tend's history: write timeout/);
    expect(await h.backend.list()).to.deep.equal([]);
  });

  it('an executor defect: the task is recorded as failed, then the error is thrown, and the leases are released', async function () {
    const executor = new FakeExecutor(async () => {
      throw new TypeError('boom');
    });
    const h = harness(plan({ tasks: [task('shop.a#1'), task('shop.b#1')] }), executor);
    const error = await h.run().catch((e: unknown) => e);
    expect(error).to.be.instanceOf(TypeError);
    expect(executor.runs).to.deep.equal(['shop.a#1']);
    expect(h.recorded.map((o) => [o.taskId, o.status, o.message])).to.deep.equal([
      ['shop.a#1', 'failed', 'tend error: boom'],
    ]);
    expect(await h.backend.list()).to.deep.equal([]);
  });

  it('a lease held by another node is exit 0 with who holds it, and nothing runs', async function () {
    const backend = new MemoryLeaseBackend();
    await backend.tryAcquire('node/127.0.0.2/slot-0', { name: 'node2', host: 'host2' }, 60_000);
    const executor = new FakeExecutor(async () => 'success');
    const h = harness(plan({ tasks: [task('shop.a#1')] }), executor, backend);
    const { report } = await h.run();
    expect(report.result).to.equal('lease_held_elsewhere');
    expect(report.error).to.equal(undefined);
    expect(report.tasks[0]!.heldBy?.[0]?.holder).to.equal('node2');
    expect(executor.runs).to.deep.equal([]);
  });

  it('replica busy: a task whose replica already repairs or is overloaded is held back before any lease; the rest run', async function () {
    const asked: string[] = [];
    const busy: Record<string, { code: 'repair_running' | 'back_pressure'; reason: string }> = {
      'shop.a#1': { code: 'repair_running', reason: 'replica 127.0.0.2 is already repairing: repair r1 of shop.a' },
      // Same replicas as a, so it would follow a's leases: the check also runs before a task on kept leases.
      'shop.c#1': { code: 'back_pressure', reason: 'replica 127.0.0.3: 40 pending compactions > 20' },
    };
    const backend = new MemoryLeaseBackend();
    const executor = new FakeExecutor(async () => 'success');
    const h = harness(
      plan({ tasks: [task('shop.a#1'), task('shop.b#1'), task('shop.c#1')] }),
      executor,
      backend,
      config,
      {},
      {
        replicaChecks: () => ({
          check: async (request) => {
            asked.push(request.id);
            return busy[request.id];
          },
          close: async () => undefined,
        }),
      },
    );
    const { report } = await h.run();
    // c is asked twice: as the task that would follow b on its leases (no), then before claiming its own.
    expect(asked).to.deep.equal(['shop.a#1', 'shop.b#1', 'shop.c#1', 'shop.c#1']);
    expect(executor.runs).to.deep.equal(['shop.b#1']);
    expect(report.tasks.map((t) => t.status)).to.deep.equal([
      'not_started_repair_running',
      'success',
      'not_started_back_pressure',
    ]);
    expect(report.skipped).to.deep.equal([
      { table: 'shop.a', reason: busy['shop.a#1']!.reason },
      { table: 'shop.c', reason: busy['shop.c#1']!.reason },
    ]);
    expect(report.leases).to.deep.equal({ acquired: 1 });
    expect(report.result).to.equal('ran');
    expect(await backend.list()).to.deep.equal([]);
  });

  it('a failed repair makes the tick fail with RepairFailed (exit 6) after the other tasks ran', async function () {
    const executor = new FakeExecutor(async (request) => (request.id === 'shop.a#1' ? 'failed' : 'success'));
    const h = harness(plan({ tasks: [task('shop.a#1'), task('shop.b#1')] }), executor);
    const { report } = await h.run();
    expect(report.result).to.equal('failed');
    expect(report.error).to.be.instanceOf(RepairFailed);
    expect(report.error!.exitCode).to.equal(6);
    expect(executor.runs).to.have.length(2);
  });

  it('a lease lost mid-repair: the repair is aborted and recorded, the tick stops with LeaseLost (exit 1)', async function () {
    const backend = new MemoryLeaseBackend();
    const executor = new FakeExecutor(async (_request, options) => {
      // Someone breaks our lease while the repair runs; the heartbeat notices at its next renewal.
      for (const lease of await backend.list()) await backend.forceRelease(lease.resource, { name: 'op', host: 'x' });
      await new Promise<void>((resolve) => options.signal!.addEventListener('abort', () => resolve(), { once: true }));
      return 'aborted';
    });
    const fastConfig = { ...config, lease: { ...config.lease, renewEvery: 20 } };
    const h = harness(plan({ tasks: [task('shop.a#1'), task('shop.b#1')] }), executor, backend, fastConfig);
    const { report } = await h.run();
    expect(report.error).to.be.instanceOf(LeaseLost);
    expect(report.error!.exitCode).to.equal(1);
    expect(h.recorded.map((o) => o.status)).to.deep.equal(['aborted']);
    expect(executor.runs, 'no task starts after a lost lease').to.deep.equal(['shop.a#1']);
    expect(report.tasks.map((t) => t.status)).to.deep.equal(['aborted']);
  });

  it('SIGTERM during a task: aborted, recorded, later tasks not started, Interrupted (exit 130)', async function () {
    const executor = new FakeExecutor(async (_request, options) => {
      h.controller.abort(new Interrupted('interrupted by SIGTERM'));
      if (!options.signal!.aborted) {
        await new Promise<void>((resolve) =>
          options.signal!.addEventListener('abort', () => resolve(), { once: true }),
        );
      }
      return 'aborted';
    });
    const h = harness(plan({ tasks: [task('shop.a#1'), task('shop.b#1')] }), executor);
    const { report } = await h.run();
    expect(report.result).to.equal('interrupted');
    expect(report.error!.exitCode).to.equal(130);
    expect(h.recorded.map((o) => o.status)).to.deep.equal(['aborted']);
    expect(report.tasks.map((t) => t.status)).to.deep.equal(['aborted', 'not_started_aborted']);
    expect(await h.backend.list(), 'leases released').to.deep.equal([]);
  });

  it('interrupted before the first task: nothing runs, Interrupted (exit 130), not "lease held elsewhere"', async function () {
    const executor = new FakeExecutor(async () => 'success');
    const h = harness(plan({ tasks: [task('shop.a#1')] }), executor);
    h.controller.abort(new Interrupted('interrupted by SIGTERM'));
    const { report } = await h.run();
    expect(report.result).to.equal('interrupted');
    expect(report.error!.exitCode).to.equal(130);
    expect(executor.runs).to.deep.equal([]);
  });

  it('schedule.maxDuration spent before the first task: nothing runs, exit 0, and it says so', async function () {
    const executor = new FakeExecutor(async () => 'success');
    const spent = { ...config, schedule: { ...config.schedule, maxDuration: 0 } };
    const h = harness(plan({ tasks: [task('shop.a#1')] }), executor, new MemoryLeaseBackend(), spent);
    const { report } = await h.run();
    expect(report.result).to.equal('nothing_due');
    expect(report.summary).to.match(/no task started: schedule\.maxDuration reached/);
    expect(report.error).to.equal(undefined);
    expect(executor.runs).to.deep.equal([]);
  });
});

describe('tick: planning again after a refused lease (schedule.replan, against fakes of its ports)', function () {
  /** A clock that only the fake sleep moves; `plans` records each plan's maxTasks, `onPause` runs at each pause. */
  function rounds(plans: () => Plan, onPause: (pause: number) => Promise<void> | void = () => undefined) {
    const clock = { now: 1_000_000, pauses: [] as number[], maxTasks: [] as number[] };
    const extra: Partial<TickPorts> = {
      now: () => clock.now,
      sleep: async (ms) => {
        clock.pauses.push(ms);
        clock.now += ms;
        await onPause(ms);
      },
      plan: async (_client, _config, maxTasks): Promise<PlanContextAndPlan> => {
        clock.maxTasks.push(maxTasks);
        return {
          plan: plans(),
          context: {
            topology: { nodes: [{ hostId: 'h1', address: '127.0.0.1' }] } as never,
            warnings: ['repair.tables[0] (shop.gone) matches no table'],
          },
        };
      },
    };
    return { clock, extra };
  }
  const holder = { name: 'node2', host: 'host2' };
  /** Another node's lease on `resource`, to release when the test says. */
  async function heldBy(backend: MemoryLeaseBackend, resource: string) {
    const result = await backend.tryAcquire(resource, holder, 3_600_000);
    if (!result.acquired) throw new Error(`${resource} not taken`);
    return result.lease;
  }

  it('the lease is freed during the pause: the tick plans again and runs the task; rounds 2, exit 0', async function () {
    const backend = new MemoryLeaseBackend();
    const held = await heldBy(backend, 'node/127.0.0.2/slot-0');
    const executor = new FakeExecutor(async () => 'success');
    const { clock, extra } = rounds(
      () => plan({ tasks: [task('shop.a#1')] }),
      async () => {
        await backend.release(held);
      },
    );
    const h = harness(plan(), executor, backend, replanConfig, {}, extra);
    const { report } = await h.run();
    expect(clock.pauses).to.deep.equal([30_000]);
    expect(report.rounds).to.equal(2);
    expect(report.tasks.map((t) => t.status)).to.deep.equal(['lease_held_elsewhere', 'success']);
    expect(report.result).to.equal('ran');
    expect(report.error).to.equal(undefined);
    expect(executor.runs).to.deep.equal(['shop.a#1']);
    expect(await backend.list()).to.deep.equal([]);
  });

  it('a lease held all along: plans again every pause until maxDuration, then lease_held_elsewhere, exit 0', async function () {
    const backend = new MemoryLeaseBackend();
    await backend.tryAcquire('node/127.0.0.2/slot-0', holder, 24 * 3_600_000);
    const executor = new FakeExecutor(async () => 'success');
    const { clock, extra } = rounds(() => plan({ tasks: [task('shop.a#1')] }));
    const h = harness(plan(), executor, backend, replanConfig, {}, extra);
    const { report } = await h.run();
    // maxDuration 1h, pause 30s: a pause that would end at the deadline is not taken (119 pauses, 120 plans).
    expect(clock.pauses.length).to.equal(119);
    expect(report.rounds).to.equal(120);
    expect(clock.now - 1_000_000).to.be.below(3_600_000);
    expect(report.result).to.equal('lease_held_elsewhere');
    expect(report.error).to.equal(undefined);
    expect(executor.runs).to.deep.equal([]);
    // 120 plans, each with the same warning: logged once.
    expect(h.stderr.text.split('shop.gone').length - 1).to.equal(1);
  });

  it('maxTasks bounds the whole tick: the next plan asks for what is left', async function () {
    const backend = new MemoryLeaseBackend();
    const held = await heldBy(backend, 'node/127.0.0.9/slot-0');
    const executor = new FakeExecutor(async () => 'success');
    const other = ['127.0.0.1', '127.0.0.9', '127.0.0.3'];
    let plans = 0;
    const { clock, extra } = rounds(
      () =>
        ++plans === 1
          ? plan({ tasks: [task('shop.a#1'), task('shop.b#1', other), task('shop.c#1')] })
          : plan({ tasks: [task('shop.b#1', other)] }),
      async () => {
        await backend.release(held);
      },
    );
    // candidates 1: the plan asks for the tasks the tick may still start, no more.
    const limited = { ...replanConfig, schedule: { ...replanConfig.schedule, maxTasks: 3, candidates: 1 } };
    const h = harness(plan(), executor, backend, limited, {}, extra);
    const { report } = await h.run();
    expect(clock.maxTasks).to.deep.equal([3, 1]);
    expect(executor.runs).to.deep.equal(['shop.a#1', 'shop.c#1', 'shop.b#1']);
    expect(report.rounds).to.equal(2);
    expect(report.result).to.equal('ran');
  });

  it('plans schedule.candidates tasks, starts at most maxTasks: the first whose leases are free, ahead of busy ones', async function () {
    const backend = new MemoryLeaseBackend();
    await heldBy(backend, 'node/127.0.0.9/slot-0');
    const setup = backend.calls.length;
    const executor = new FakeExecutor(async () => 'success');
    const busy = ['127.0.0.1', '127.0.0.9'];
    const { clock, extra } = rounds(() =>
      plan({ tasks: [task('shop.a#1', busy), task('shop.b#1'), task('shop.c#1'), task('shop.d#1')] }),
    );
    const config2 = { ...config, schedule: { ...config.schedule, maxTasks: 2, candidates: 5 } };
    const h = harness(plan(), executor, backend, config2, {}, extra);
    const { report } = await h.run();
    expect(clock.maxTasks, 'the plan asked for').to.deep.equal([5]);
    // a waits for node2's lease: b starts, c follows on b's leases; maxTasks 2 reached: d, on the same leases
    // too, does not follow and stays a candidate.
    expect(executor.runs).to.deep.equal(['shop.b#1', 'shop.c#1']);
    expect(report.leases).to.deep.equal({ acquired: 1, kept: 1 });
    expect(report.tasks.map((t) => `${t.id} ${t.status}`)).to.deep.equal(['shop.b#1 success', 'shop.c#1 success']);
    expect(
      backend.calls.slice(setup).filter((call) => call.startsWith('acquire node/127.0.0.9')),
      'never attempted',
    ).to.deep.equal([]);
  });

  it('every candidate held elsewhere by the listing: none is attempted, each reported held; the tick plans again', async function () {
    const backend = new MemoryLeaseBackend();
    const held = await heldBy(backend, 'node/127.0.0.9/slot-0');
    const setup = backend.calls.length;
    const executor = new FakeExecutor(async () => 'success');
    let plans = 0;
    const { clock, extra } = rounds(
      () =>
        ++plans === 1
          ? plan({ tasks: [task('shop.a#1', ['127.0.0.1', '127.0.0.9']), task('shop.e#1', ['127.0.0.9'])] })
          : plan({ tasks: [task('shop.e#1', ['127.0.0.9'])] }),
      async () => {
        await backend.release(held);
      },
    );
    const h = harness(plan(), executor, backend, replanConfig, {}, extra);
    const { report } = await h.run();
    expect(report.tasks.slice(0, 2).map((t) => `${t.id} ${t.status}`)).to.deep.equal([
      'shop.a#1 lease_held_elsewhere',
      'shop.e#1 lease_held_elsewhere',
    ]);
    expect(report.tasks[0]!.message).to.match(/held by node2 until .*not attempted/);
    expect(clock.pauses).to.deep.equal([30_000]);
    expect(executor.runs).to.deep.equal(['shop.e#1']);
    // One acquisition in all (e, in the second round): no slot was attempted while the listing showed it held.
    expect(backend.calls.slice(setup).filter((call) => call.startsWith('acquire '))).to.deep.equal([
      'acquire node/127.0.0.9/slot-0',
    ]);
    expect(report.leases).to.deep.equal({ acquired: 1 });
  });

  it('every candidate held: only as many are reported as maxTasks leaves room for', async function () {
    const backend = new MemoryLeaseBackend();
    await heldBy(backend, 'node/127.0.0.9/slot-0');
    const busy = ['127.0.0.1', '127.0.0.9'];
    const { extra } = rounds(() =>
      plan({ tasks: ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((t) => task(`shop.${t}#1`, busy)) }),
    );
    const config3 = { ...config, schedule: { ...config.schedule, maxTasks: 3, candidates: 7 } };
    const h = harness(plan(), new FakeExecutor(async () => 'success'), backend, config3, {}, extra);
    const { report } = await h.run();
    expect(report.tasks.map((t) => `${t.id} ${t.status}`)).to.deep.equal([
      'shop.a#1 lease_held_elsewhere',
      'shop.b#1 lease_held_elsewhere',
      'shop.c#1 lease_held_elsewhere',
    ]);
  });

  it('nothing left to run after the pause (the holder repaired it): the tick ends with what it did', async function () {
    const backend = new MemoryLeaseBackend();
    await backend.tryAcquire('node/127.0.0.2/slot-0', holder, 3_600_000);
    const executor = new FakeExecutor(async () => 'success');
    let plans = 0;
    const { clock, extra } = rounds(() => (++plans === 1 ? plan({ tasks: [task('shop.a#1')] }) : plan()));
    const h = harness(plan(), executor, backend, replanConfig, {}, extra);
    const { report } = await h.run();
    expect(clock.pauses).to.deep.equal([30_000]);
    expect(report.rounds).to.equal(1);
    expect(report.result).to.equal('lease_held_elsewhere');
    expect(executor.runs).to.deep.equal([]);
  });

  it('SIGTERM during the pause: interrupted (exit 130), no second plan, nothing held', async function () {
    const backend = new MemoryLeaseBackend();
    await backend.tryAcquire('node/127.0.0.2/slot-0', holder, 3_600_000);
    const executor = new FakeExecutor(async () => 'success');
    const signal: { controller?: AbortController } = {};
    const { clock, extra } = rounds(
      () => plan({ tasks: [task('shop.a#1')] }),
      () => signal.controller!.abort(),
    );
    const h = harness(plan(), executor, backend, replanConfig, {}, extra);
    signal.controller = h.controller;
    const { report } = await h.run();
    expect(clock.maxTasks).to.have.length(1);
    expect(report.result).to.equal('interrupted');
    expect(report.error).to.be.instanceOf(Interrupted);
    expect((await backend.list()).map((lease) => lease.holder)).to.deep.equal(['node2']);
  });

  it('schedule.replan.enabled false: one plan, lease_held_elsewhere at once', async function () {
    const backend = new MemoryLeaseBackend();
    await backend.tryAcquire('node/127.0.0.2/slot-0', holder, 3_600_000);
    const { clock, extra } = rounds(() => plan({ tasks: [task('shop.a#1')] }));
    const h = harness(plan(), new FakeExecutor(async () => 'success'), backend, config, {}, extra);
    const { report } = await h.run();
    expect(clock.pauses).to.deep.equal([]);
    expect(report.rounds).to.equal(1);
    expect(report.result).to.equal('lease_held_elsewhere');
  });
});

describe('tick: incremental tasks (against fakes of its ports)', function () {
  const incremental = (id: string): RepairTask => ({ ...task(id), incremental: true, repairType: 'incremental' });

  it('every due table reported fully repaired: nothing due, no lease or executor opened, the tables listed', async function () {
    const executor = new FakeExecutor(async () => 'success');
    const h = harness(
      plan({
        tasks: [incremental('shop.a#1'), incremental('shop.b#1')],
        deferred: [{ keyspace: 'shop', table: 'c', code: 'replica_down', reason: '127.0.0.3 is down' }],
      }),
      executor,
      new MemoryLeaseBackend(),
      config,
      { a: 100, b: 100 },
    );
    const { report } = await h.run();
    expect(report.result).to.equal('nothing_due');
    expect(report.summary).to.match(/: 2 due table\(s\) reported fully repaired/);
    expect(report.error).to.equal(undefined);
    expect(report.skipped.map((s) => s.table)).to.deep.equal(['shop.c', 'shop.a', 'shop.b']);
    expect(report.skipped[1]!.reason).to.match(/^fully repaired/);
    expect(h.opened).to.deep.equal([]);
    expect(executor.runs).to.deep.equal([]);
    expect(h.metrics).to.deep.equal(['nothing_due']);
  });

  it('only the tables not fully repaired are repaired; full-repair tasks pass untouched', async function () {
    const executor = new FakeExecutor(async () => 'success');
    const h = harness(
      plan({ tasks: [incremental('shop.a#1'), incremental('shop.b#1'), task('shop.c#1')] }),
      executor,
      new MemoryLeaseBackend(),
      config,
      { a: 100, b: 40 },
    );
    const { report } = await h.run();
    expect(report.result).to.equal('ran');
    expect(executor.runs).to.deep.equal(['shop.b#1', 'shop.c#1']);
    expect(report.skipped.map((s) => s.table)).to.deep.equal(['shop.a']);
  });
});
