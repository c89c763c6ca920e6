/**
 * Issue 12 items 24 and 25, the tick against fakes of its ports:
 * - a replica dies mid-batch: after a repair fails naming a dead endpoint, the tick looks at the replicas again
 *   and leaves the remaining tasks that need the dead one for a later tick, with the reason in the report, the
 *   log and the metrics (instead of starting each of them to fail at once with "Endpoint not alive");
 * - alarms and metrics describe the tables after the batch: a table the tick has just repaired is not "past its
 *   error alarm: last fully repaired never".
 */
import { expect } from 'chai';
import type cassandra from 'cassandra-driver';
import { MemoryLeaseBackend } from '../../../src/lease/index.js';
import { validateConfig } from '../../../src/config/validate.js';
import { Output } from '../../../src/output/output.js';
import { MemoryStream } from '../../../src/output/memory-stream.js';
import { runTick, type TickPorts, type TickReport } from '../../../src/app/tick.js';
import { plan as computePlan, type Plan, type PlanInput } from '../../../src/core/index.js';
import { task } from './fake-task.js';
import type { Executor, RepairOutcome, RepairRequest } from '../../../src/repair/index.js';
import { syntheticNodes } from '../core/synthetic.js';

const config = (() => {
  const result = validateConfig(
    {
      node: { name: 'node1' },
      lease: { scope: 'node', ttl: '30s', renewEvery: '5s' },
      schedule: { maxTasks: 10, maxDuration: '1h' },
    },
    { env: {} },
  );
  if (!result.config) throw new Error(result.errors.join('; '));
  return result.config;
})();

/** An executor whose outcomes end at `now()` and whose verdict `behave` decides. */
class ScriptedExecutor implements Executor {
  readonly kind = 'jolokia' as const;
  readonly runs: string[] = [];
  constructor(
    private readonly behave: (request: RepairRequest) => { status: RepairOutcome['status']; message: string },
    private readonly now: () => number,
  ) {}
  async run(request: RepairRequest): Promise<RepairOutcome> {
    this.runs.push(request.id);
    const { status, message } = this.behave(request);
    const at = this.now();
    return {
      taskId: request.id,
      keyspace: request.keyspace,
      tables: request.tables,
      status,
      startedAt: at,
      finishedAt: at,
      ranges: request.ranges,
      rangesRepaired: status === 'success' ? request.ranges : [],
      participants: request.replicaAddresses,
      message,
      commands: [],
    };
  }
  async stopAllOnServer(): Promise<void> {}
}

function harness(thePlan: Plan, executor: Executor, extra: Partial<TickPorts> & { input?: PlanInput } = {}) {
  const stderr = new MemoryStream(false);
  const out = new Output({ stdout: new MemoryStream(false), stderr, colorAllowed: false });
  const metrics: Array<{ report: TickReport; plan: Plan | undefined }> = [];
  const { input, ...overrides } = extra;
  const ports: Partial<TickPorts> = {
    plan: async () => ({
      plan: thePlan,
      context: {
        topology: { nodes: [{ hostId: thePlan.localHostId, address: '127.0.0.1' }] } as never,
        warnings: [],
        ...(input ? { input } : {}),
      },
    }),
    leaseBackend: async () => new MemoryLeaseBackend(),
    executor: async () => executor,
    record: async () => undefined,
    recordStart: async () => 'start-id',
    writeMetrics: async (report, plan) => {
      metrics.push({ report, plan });
    },
    // No replica to ask here: the checks' own tests are test/unit/core/running-repairs, back-pressure and
    // test/unit/app/tick.test.ts's "replica busy" case, which passes its own.
    replicaChecks: undefined,
    // Jobs are looked at in their own tests (test/unit/app/tick-jobs.test.ts).
    jobStep: undefined,
    ...overrides,
  };
  const run = () =>
    runTick(
      { config, secret: async () => undefined, out, signal: new AbortController().signal },
      {} as cassandra.Client,
      {},
      ports,
    );
  return { run, stderr, metrics };
}

describe('tick: a replica that dies mid-batch (item 24)', function () {
  const ALL = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];
  const DC1 = ['127.0.0.1', '127.0.0.2'];
  const thePlan: Plan = {
    formatVersion: 1,
    now: 1_000_000,
    localHostId: 'h1',
    localDatacenter: 'dc1',
    jobs: [],
    tasks: [task('shop.a#1', ALL), task('shop.b#1', ALL), task('shop.c#1', DC1), task('shop.d#1', ALL)],
    skipped: [],
    deferred: [],
    summary: { tables: 4, jobs: 4, due: 4, late: 0, overdue: 0 } as Plan['summary'],
  };
  const endpointDead = (request: RepairRequest) =>
    request.replicaAddresses.includes('127.0.0.3')
      ? { status: 'failed' as const, message: 'Endpoint not alive: /127.0.0.3:7000' }
      : { status: 'success' as const, message: 'ok' };

  it('after "Endpoint not alive", the tasks that need the dead replica are not started, with the reason', async function () {
    const executor = new ScriptedExecutor(endpointDead, () => 1_000_100);
    const checked: string[][] = [];
    const h = harness(thePlan, executor, {
      liveness: async (_client, addresses) => {
        checked.push([...addresses]);
        return addresses.filter((address) => address === '127.0.0.3');
      },
    });
    const { report } = await h.run();
    expect(executor.runs, 'the repairs started').to.deep.equal(['shop.a#1', 'shop.c#1']);
    expect(checked).to.deep.equal([ALL]);
    expect(report.tasks.map((t) => `${t.id} ${t.status}`)).to.deep.equal([
      'shop.a#1 failed',
      'shop.b#1 not_started_replica_down',
      'shop.c#1 success',
      'shop.d#1 not_started_replica_down',
    ]);
    const held = report.tasks.filter((t) => t.status === 'not_started_replica_down');
    for (const t of held)
      expect(t.message).to.match(
        /replica 127\.0\.0\.3 went down during this tick \(task shop\.a#1: Endpoint not alive/,
      );
    expect(report.skipped.map((s) => s.table)).to.deep.equal(['shop.b', 'shop.d']);
    expect(report.result).to.equal('failed');
    expect(report.error?.exitCode).to.equal(6);
    expect(h.stderr.text).to.match(/level=warn msg="replica 127\.0\.0\.3 is down: the remaining tasks that need it/);
    expect(h.stderr.text).to.match(/level=warn msg="skipped shop\.b: replica 127\.0\.0\.3 went down/);
    expect(h.metrics[0]!.report.tasks.filter((t) => t.status === 'not_started_replica_down')).to.have.length(2);
  });

  it('a failure that names no dead endpoint does not stop the others (each may succeed)', async function () {
    const executor = new ScriptedExecutor(
      (request) =>
        request.id === 'shop.a#1'
          ? { status: 'failed', message: 'Validation failed in /127.0.0.2' }
          : { status: 'success', message: 'ok' },
      () => 1_000_100,
    );
    const h = harness(thePlan, executor, {
      liveness: async () => {
        throw new Error('must not be asked');
      },
    });
    const { report } = await h.run();
    expect(executor.runs).to.deep.equal(['shop.a#1', 'shop.b#1', 'shop.c#1', 'shop.d#1']);
    expect(report.skipped).to.deep.equal([]);
  });

  it('the dead endpoint looked at again and found up: the batch goes on', async function () {
    let first = true;
    const executor = new ScriptedExecutor(
      (request) => {
        if (first) {
          first = false;
          return endpointDead(request);
        }
        return { status: 'success', message: 'ok' };
      },
      () => 1_000_100,
    );
    const h = harness(thePlan, executor, { liveness: async () => [] });
    const { report } = await h.run();
    expect(executor.runs).to.deep.equal(['shop.a#1', 'shop.b#1', 'shop.c#1', 'shop.d#1']);
    expect(report.tasks.map((t) => t.status)).to.deep.equal(['failed', 'success', 'success', 'success']);
  });
});

describe('tick: alarms and metrics after the batch (item 25)', function () {
  const now = Date.UTC(2026, 11, 1);
  const nodes = syntheticNodes([{ name: 'dc1', nodes: 3 }], 4, 7);
  const tables = ['a', 'b', 'c'].map((table) => ({
    keyspace: 'shop',
    table,
    enabled: true,
    repairType: 'vnode' as const,
    parallelism: 'parallel' as const,
    intervalMs: 7 * 86_400_000,
    warnMs: 8 * 86_400_000,
    errorMs: 10 * 86_400_000,
    weight: 1,
  }));
  const input: PlanInput = {
    now,
    localHostId: nodes[0]!.hostId,
    tables,
    topology: {
      nodes,
      keyspaces: { shop: { class: 'NetworkTopologyStrategy', datacenters: { dc1: 3 } } },
    },
    history: {},
    limits: { maxTasks: 10 },
  };
  const before = computePlan(input);

  it('the plan before the batch has every table past its error alarm (never repaired)', function () {
    expect(before.jobs.map((job) => job.alarm)).to.deep.equal(['error', 'error', 'error']);
    expect(before.tasks.length).to.be.greaterThan(0);
  });

  it('a tick that repaired them reports no alarm for them, in the report (log) and in the metrics', async function () {
    const executor = new ScriptedExecutor(
      () => ({ status: 'success', message: 'ok' }),
      () => now + 1000,
    );
    const h = harness(before, executor, { input, now: () => now });
    const { report } = await h.run();
    expect(report.result).to.equal('ran');
    expect(report.alarms, JSON.stringify(report.alarms)).to.deep.equal([]);
    const jobs = h.metrics[0]!.plan!.jobs;
    expect(jobs.map((job) => [job.table, job.alarm, job.state, job.rangesBehind]).sort()).to.deep.equal([
      ['a', 'none', 'ON_TIME', 0],
      ['b', 'none', 'ON_TIME', 0],
      ['c', 'none', 'ON_TIME', 0],
    ]);
    expect(jobs.every((job) => job.lastRepairedAt === now + 1000)).to.equal(true);
  });

  it('a table whose repair failed is still reported past its alarm', async function () {
    const executor = new ScriptedExecutor(
      (request) =>
        request.tables.includes('b') ? { status: 'failed', message: 'boom' } : { status: 'success', message: 'ok' },
      () => now + 1000,
    );
    const h = harness(before, executor, { input, now: () => now });
    const { report } = await h.run();
    expect(report.alarms.map((alarm) => `${alarm.table} ${alarm.level}`)).to.deep.equal(['shop.b error']);
  });
});
