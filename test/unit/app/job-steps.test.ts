/**
 * The job step runner (src/app/maintenance.ts) against fakes of its ports (an in-memory job store and lease
 * backend, a runner that records when each node's operation ran): the wait of a step whose node still runs the
 * operation (a retry after a died process), and a group tick carrying out its nodes' steps turn after turn. The
 * real adapters are exercised by test/e2e/jobs.test.ts and tick-group.test.ts on the sandbox.
 */
import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { MemoryLeaseBackend } from '../../../src/lease/index.js';
import { validateConfig } from '../../../src/config/validate.js';
import { Output } from '../../../src/output/output.js';
import { MemoryStream } from '../../../src/output/memory-stream.js';
import { runGroupJobSteps, runJobStep, type StepPorts } from '../../../src/app/maintenance.js';
import {
  initialSteps,
  operationRunningOnNode,
  stepOrder,
  type MaintenanceJob,
  type MaintenanceStep,
  type NodeInfo,
  type SSTableTask,
} from '../../../src/core/index.js';
import type { MaintenanceRunner, MaintenanceTarget } from '../../../src/repair/index.js';
import { MemoryJobStore } from './fake-job-store.js';

const config = (() => {
  const result = validateConfig(
    { node: { name: 'node1' }, lease: { scope: 'node', ttl: '30s', renewEvery: '5s' } },
    { env: {} },
  );
  if (!result.config) throw new Error(result.errors.join('; '));
  return result.config;
})();

const NODES: NodeInfo[] = [1, 2, 3].map((i) => ({
  hostId: `h${i}`,
  address: `10.0.0.${i}`,
  datacenter: i === 3 ? 'dc2' : 'dc1',
  rack: 'r1',
  tokens: [String(i)],
  up: true,
}));

const JOB: MaintenanceJob = {
  id: 'job-1',
  operation: 'compact',
  keyspace: 'ks',
  concurrency: 1,
  concurrencyScope: 'cluster',
  staleAfterMs: 30_000,
  stepTimeoutMs: 3_600_000,
  maxAttempts: 2,
  createdAt: 0,
  createdBy: 'op',
};

interface Run {
  readonly address: string;
  readonly start: number;
  end?: number;
}

function harness(job: MaintenanceJob, steps: readonly MaintenanceStep[], clock: { now: number }) {
  const store = new MemoryJobStore();
  void store.create(job, steps);
  const runs: Run[] = [];
  // Leases on the real clock: their heartbeat's watchdog compares expiry with it.
  const leases = new MemoryLeaseBackend();
  const stderr = new MemoryStream(false);
  const out = new Output({ stdout: new MemoryStream(false), stderr, colorAllowed: false, verbosity: 'normal' });
  const ports = (extra: Partial<StepPorts> = {}): StepPorts => ({
    store: async () => store,
    runner: async (_warn, node): Promise<MaintenanceRunner> => ({
      async run(target: MaintenanceTarget) {
        const run: Run = { address: node.address, start: Date.now() };
        runs.push(run);
        await sleep(20);
        run.end = Date.now();
        return { status: 'done', message: `${target.operation} finished` };
      },
    }),
    leaseBackend: async () => leases,
    now: () => clock.now,
    down: async () => [],
    ...extra,
  });
  return {
    store,
    runs,
    leases,
    stderr,
    ports,
    deps: { config, out, signal: new AbortController().signal },
  };
}

const ORPHAN: SSTableTask = {
  keyspace: 'ks',
  table: 't',
  kind: 'major compaction',
  progress: 5 << 20,
  total: 20 << 20,
  unit: 'bytes',
};

describe('job steps: a retry after a died process, and group ticks', function () {
  it('a step whose process died waits while its node still runs the operation, says so, then runs again', async function () {
    const clock = { now: Date.now() };
    // h1 first in the job's order, running attempt 1, its last heartbeat 31 s ago: its process died.
    const job = { ...JOB, id: 'job-died' };
    const first = stepOrder(job.id, NODES)[0]!;
    const steps = initialSteps(job, NODES).map((s): MaintenanceStep =>
      s.hostId === first.hostId
        ? {
            ...s,
            state: 'running',
            attempt: 1,
            holder: 'node1',
            startedAt: clock.now - 40_000,
            heartbeatAt: clock.now - 31_000,
          }
        : s,
    );
    const h = harness(job, steps, clock);
    // What the step's node lists as running, through the real decision.
    const busyPorts = h.ports({
      busy: async (j, step) => operationRunningOnNode(j, step, step.hostId === first.hostId ? [ORPHAN] : []),
    });
    const local = { nodes: NODES, localHostId: first.hostId };

    const waiting = await runJobStep(h.deps, local, busyPorts);
    expect(waiting.result).to.equal('idle');
    expect(waiting.message).to.match(
      new RegExp(
        `waits: ${first.address} already runs major compaction of ks \\(attempt 1's.*\\), 25% \\(5\\.0MiB of 20\\.0MiB\\)`,
      ),
    );
    expect(h.runs, 'nothing started beside the orphan').to.deep.equal([]);
    let step = (await h.store.steps(job.id)).find((s) => s.hostId === first.hostId)!;
    expect(step).to.deep.include({ state: 'pending', attempt: 1 });
    expect(step.message).to.equal(waiting.message.replace(`job ${job.id}: `, ''));
    expect(h.store.changes).to.deep.equal([`settle ${first.hostId} pending`, `settle ${first.hostId} pending`]);
    // The waiting step keeps the turn: no other node starts meanwhile (concurrency 1).
    for (const other of NODES.filter((n) => n.hostId !== first.hostId)) {
      const report = await runJobStep(h.deps, { nodes: NODES, localHostId: other.hostId }, busyPorts);
      expect(report.result).to.equal('idle');
    }
    expect(h.runs).to.deep.equal([]);

    // The node has finished the orphan: the retry runs, as attempt 2, and the step ends done.
    clock.now += 10_000;
    const retried = await runJobStep(
      h.deps,
      local,
      h.ports({ busy: async (j, s) => operationRunningOnNode(j, s, []) }),
    );
    expect(retried.result).to.equal('ran');
    expect(h.runs.map((r) => r.address)).to.deep.equal([first.address]);
    step = (await h.store.steps(job.id)).find((s) => s.hostId === first.hostId)!;
    expect(step).to.deep.include({ state: 'done', attempt: 2 });
  });

  it('a step whose turn it is starts at once when its node runs no such operation (another keyspace, another kind)', async function () {
    const clock = { now: Date.now() };
    const job = { ...JOB, id: 'job-free' };
    const h = harness(job, initialSteps(job, NODES), clock);
    const first = stepOrder(job.id, NODES)[0]!;
    const others: SSTableTask[] = [
      { ...ORPHAN, keyspace: 'other' },
      { ...ORPHAN, kind: 'cleanup' },
    ];
    const report = await runJobStep(
      h.deps,
      { nodes: NODES, localHostId: first.hostId },
      h.ports({ busy: async (j, s) => operationRunningOnNode(j, s, others) }),
    );
    expect(report.result).to.equal('ran');
  });

  it("a group tick runs its nodes' steps one at a time in the job's order, under the instance name, each on its node", async function () {
    const clock = { now: Date.now() };
    const job = { ...JOB, id: 'job-group' };
    const h = harness(job, initialSteps(job, NODES), clock);
    const reports = await runGroupJobSteps(h.deps, NODES, NODES, h.ports({ holder: 'group-a' }), clock.now + 3_600_000);
    expect(reports.map((r) => r.result)).to.deep.equal(['ran', 'ran', 'ran']);
    expect(h.runs.map((r) => r.address)).to.deep.equal(stepOrder(job.id, NODES).map((n) => n.address));
    for (let i = 1; i < h.runs.length; i++) expect(h.runs[i]!.start).to.be.at.least(h.runs[i - 1]!.end!);
    const steps = await h.store.steps(job.id);
    expect(steps.map((s) => `${s.state} ${s.holder}`)).to.deep.equal(['done group-a', 'done group-a', 'done group-a']);
    // Each step under its own node's lease slots, held by the instance.
    const acquired = h.leases.calls.filter((c) => c.startsWith('acquire'));
    expect(acquired).to.have.length(3 * config.lease.perResource);
    for (const node of NODES) expect(acquired.join(' ')).to.include(`node/${node.address}/slot-0`);
    expect((await h.store.job(job.id))!.finishedAt).to.equal(clock.now);
  });

  it('a group tick with concurrency 2 runs two steps at once, never three; one covering part of the cluster waits for the others', async function () {
    const clock = { now: Date.now() };
    const job = { ...JOB, id: 'job-two', concurrency: 2 };
    const h = harness(job, initialSteps(job, NODES), clock);
    await runGroupJobSteps(h.deps, NODES, NODES, h.ports(), clock.now + 3_600_000);
    const overlapping = (run: Run) => h.runs.filter((r) => r.start < run.end! && run.start < r.end!).length;
    expect(Math.max(...h.runs.map(overlapping))).to.equal(2);
    expect(h.runs).to.have.length(3);

    // An instance covering only the node last in the job's order: nothing to do until the other two have run.
    const partJob = { ...JOB, id: 'job-part' };
    const p = harness(partJob, initialSteps(partJob, NODES), clock);
    const last = stepOrder(partJob.id, NODES)[2]!;
    const none = await runGroupJobSteps(p.deps, NODES, [last], p.ports({ busy: undefined }), clock.now + 60_000);
    expect(none).to.deep.equal([]);
    expect((await p.store.steps(partJob.id)).map((s) => s.state)).to.deep.equal(['pending', 'pending', 'pending']);
  });

  it('a group tick starts no step after its start deadline (schedule.maxDuration)', async function () {
    const clock = { now: Date.now() };
    const job = { ...JOB, id: 'job-deadline' };
    const h = harness(job, initialSteps(job, NODES), clock);
    const ports = h.ports();
    // Each step takes a minute of the clock; the tick may start steps for 90 s.
    const slow: StepPorts = {
      ...ports,
      runner: async (warn, node) => {
        const runner = await ports.runner(warn, node);
        return { run: async (t, o) => ((clock.now += 60_000), runner.run(t, o)) };
      },
    };
    const reports = await runGroupJobSteps(h.deps, NODES, NODES, slow, clock.now + 90_000);
    expect(reports).to.have.length(2);
    expect((await h.store.steps(job.id)).filter((s) => s.state === 'pending')).to.have.length(1);
  });
});
