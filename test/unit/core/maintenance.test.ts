/** Cluster-wide maintenance jobs (issue 17): the turn every node computes alike, and the steps' transitions. */
import { expect } from 'chai';
import {
  changedStep,
  formatStepProgress,
  groupTurnDecision,
  initialSteps,
  operationRunningOnNode,
  jobStepHistory,
  jobLastChange,
  jobPhase,
  stepOrder,
  stepProgress,
  stepsNeedingAttention,
  turnDecision,
  type MaintenanceJob,
  type MaintenanceStep,
  type SSTableTask,
  type StepNode,
} from '../../../src/core/index.js';

const NODES: StepNode[] = [
  { hostId: 'h1', address: '10.0.0.1', datacenter: 'dc1' },
  { hostId: 'h2', address: '10.0.0.2', datacenter: 'dc1' },
  { hostId: 'h3', address: '10.0.0.3', datacenter: 'dc2' },
  { hostId: 'h4', address: '10.0.0.4', datacenter: 'dc2' },
];

const JOB: MaintenanceJob = {
  id: 'job-1',
  operation: 'cleanup',
  concurrency: 1,
  concurrencyScope: 'cluster',
  staleAfterMs: 60_000,
  stepTimeoutMs: 3_600_000,
  maxAttempts: 2,
  createdAt: 0,
  createdBy: 'op',
};
const NONE = new Set<string>();

/** Runs the cluster forward: at each round every node decides on the same rows; the runners finish. */
function simulate(job: MaintenanceJob, down = NONE) {
  let steps = initialSteps(job, NODES);
  const overlaps: number[] = [];
  for (let round = 0; round < 20 && jobPhase(job, steps) === 'active'; round++) {
    const starting: string[] = [];
    for (const node of NODES.filter((n) => !down.has(n.address))) {
      const decision = turnDecision(job, steps, node.hostId, down, 1000 * round);
      for (const t of decision.transitions)
        steps = steps.map((s) => (s.hostId === t.hostId && s.state === t.from ? { ...s, state: t.to } : s));
      if (decision.run) starting.push(node.hostId);
    }
    steps = steps.map((s) => (starting.includes(s.hostId) ? { ...s, state: 'running' as const } : s));
    overlaps.push(steps.filter((s) => s.state === 'running').length);
    steps = steps.map((s) => (s.state === 'running' ? { ...s, state: 'done' as const } : s));
  }
  return { steps, overlaps };
}

describe('maintenance jobs: the turn', function () {
  it('orders the nodes the same way whatever order they are read in', function () {
    const a = stepOrder('job-1', NODES).map((n) => n.hostId);
    const b = stepOrder('job-1', [...NODES].reverse()).map((n) => n.hostId);
    expect(a).to.deep.equal(b);
    expect([...a].sort()).to.deep.equal(['h1', 'h2', 'h3', 'h4']);
  });

  it('with concurrency 1 per cluster, exactly one node runs at a time, and every node once', function () {
    const { steps, overlaps } = simulate(JOB);
    expect(overlaps).to.deep.equal([1, 1, 1, 1]);
    expect(steps.map((s) => s.state)).to.deep.equal(['done', 'done', 'done', 'done']);
  });

  it('with concurrency 1 per datacenter, one node of each datacenter runs at a time', function () {
    const { overlaps } = simulate({ ...JOB, concurrencyScope: 'datacenter' });
    expect(overlaps).to.deep.equal([2, 2]);
  });

  it('with concurrency 3 per cluster, three run at once', function () {
    expect(simulate({ ...JOB, concurrency: 3 }).overlaps).to.deep.equal([3, 1]);
  });

  it('only the first pending node in order has the turn', function () {
    const steps = initialSteps(JOB, NODES);
    const first = steps[0]!.hostId;
    const runs = NODES.filter((n) => turnDecision(JOB, steps, n.hostId, NONE, 0).run).map((n) => n.hostId);
    expect(runs).to.deep.equal([first]);
  });

  it('a node down at its turn is skipped with the reason, and the turn passes to the next', function () {
    const steps = initialSteps(JOB, NODES);
    const [first, second] = steps;
    const decision = turnDecision(JOB, steps, second!.hostId, new Set([first!.address]), 0);
    expect(decision.run).to.equal(true);
    expect(decision.transitions).to.deep.equal([
      {
        hostId: first!.hostId,
        from: 'pending',
        fromAttempt: 0,
        to: 'skipped',
        message: `skipped: ${first!.address} was down at its turn`,
      },
    ]);
    const { steps: after } = simulate(JOB, new Set([first!.address]));
    expect(after.find((s) => s.hostId === first!.hostId)!.state).to.equal('skipped');
    expect(stepsNeedingAttention(after).map((s) => s.hostId)).to.deep.equal([first!.hostId]);
  });

  it('an aborted job starts nothing', function () {
    const steps = initialSteps(JOB, NODES);
    const decision = turnDecision({ ...JOB, abortedAt: 5, abortedBy: 'op' }, steps, steps[0]!.hostId, NONE, 0);
    expect(decision).to.deep.include({ run: false, reason: 'job job-1 was aborted' });
    expect(jobPhase({ abortedAt: 5 }, steps)).to.equal('aborted');
  });

  it('a running step holds the slot; nobody else starts while its heartbeat is fresh', function () {
    const steps = initialSteps(JOB, NODES);
    const running = steps.map((s, i): MaintenanceStep =>
      i === 0 ? { ...s, state: 'running', attempt: 1, startedAt: 0, heartbeatAt: 50_000 } : s,
    );
    for (const node of NODES) expect(turnDecision(JOB, running, node.hostId, NONE, 100_000).run).to.equal(false);
  });

  it('a step whose process died is retried, then failed after maxAttempts; one past its timeout fails', function () {
    const steps = initialSteps(JOB, NODES);
    const at = (attempt: number, startedAt: number, heartbeatAt: number) =>
      steps.map((s, i): MaintenanceStep => (i === 0 ? { ...s, state: 'running', attempt, startedAt, heartbeatAt } : s));
    const first = steps[0]!.hostId;
    const retry = turnDecision(JOB, at(1, 0, 0), first, NONE, 61_000);
    expect(retry.run).to.equal(true);
    expect(retry.transitions[0]).to.deep.include({ hostId: first, to: 'pending', fromAttempt: 1 });
    const failed = turnDecision(JOB, at(2, 0, 0), first, NONE, 61_000);
    expect(failed.transitions[0]).to.deep.include({ to: 'failed' });
    expect(failed.run).to.equal(false);
    const timedOut = turnDecision(JOB, at(1, 0, 3_600_500), first, NONE, 3_600_501);
    expect(timedOut.transitions[0]).to.deep.include({ to: 'failed', message: 'timed out after 3600 s' });
  });

  it('--window: outside the window no step starts and nobody is skipped; inside, the turn is as without one', function () {
    // 22:00-06:00 UTC every day; 2026-12-04 is a Friday.
    const job = { ...JOB, window: { mode: 'allow' as const, start: '22:00', end: '06:00', timezone: 'UTC' } };
    const steps = initialSteps(job, NODES);
    const first = stepOrder(job.id, NODES)[0]!;
    const noon = Date.parse('2026-12-04T12:00:00Z');
    const night = Date.parse('2026-12-04T23:30:00Z');
    const early = Date.parse('2026-12-05T05:59:00Z');
    const closed = turnDecision(job, steps, first.hostId, new Set([first.address]), noon);
    expect(closed).to.deep.include({ run: false, transitions: [] });
    expect((closed as { reason: string }).reason).to.match(/^outside the job's allow window every day 22:00-06:00 UTC/);
    expect(turnDecision(job, steps, first.hostId, NONE, night).run).to.equal(true);
    expect(turnDecision(job, steps, first.hostId, NONE, early).run).to.equal(true);
    // A step whose process died is still settled outside the window (retried later, inside it).
    const died = steps.map((s) =>
      s.hostId === first.hostId
        ? { ...s, state: 'running' as const, attempt: 1, startedAt: noon - 120_000, heartbeatAt: noon - 120_000 }
        : s,
    );
    expect(turnDecision(job, died, first.hostId, NONE, noon).transitions.map((t) => t.to)).to.deep.equal(['pending']);
  });

  it('--datacenter excludes the other datacenters (skipped, not needing attention)', function () {
    const steps = initialSteps({ id: 'job-1', datacenter: 'dc2' }, NODES);
    expect(steps.filter((s) => s.state === 'pending').map((s) => s.datacenter)).to.deep.equal(['dc2', 'dc2']);
    expect(stepsNeedingAttention(steps)).to.deep.equal([]);
  });
});

describe('maintenance jobs: a group tick (one instance acting for several nodes)', function () {
  /** Rounds in which a group instance covering `covered` and the other nodes' own ticks decide on the same rows. */
  function mixed(job: MaintenanceJob, covered: readonly string[]) {
    let steps = initialSteps(job, NODES);
    const overlaps: number[] = [];
    const startedBy: string[] = [];
    for (let round = 0; round < 20 && jobPhase(job, steps) === 'active'; round++) {
      const starting: string[] = [];
      const group = groupTurnDecision(job, steps, covered, NONE, round);
      starting.push(...group.run.map((s) => s.hostId));
      startedBy.push(...group.run.map((s) => `group ${s.hostId}`));
      for (const node of NODES.filter((n) => !covered.includes(n.hostId))) {
        const decision = turnDecision(job, steps, node.hostId, NONE, round);
        if (decision.run) {
          starting.push(node.hostId);
          startedBy.push(`own ${node.hostId}`);
        }
      }
      steps = steps.map((s) => (starting.includes(s.hostId) ? { ...s, state: 'running' as const } : s));
      overlaps.push(steps.filter((s) => s.state === 'running').length);
      steps = steps.map((s) => (s.state === 'running' ? { ...s, state: 'done' as const } : s));
    }
    return { steps, overlaps, startedBy };
  }

  it('covering every node, it has the turns the nodes would have had: one at a time, in the job order', function () {
    const { steps, overlaps, startedBy } = mixed(JOB, ['h1', 'h2', 'h3', 'h4']);
    expect(steps.map((s) => s.state)).to.deep.equal(['done', 'done', 'done', 'done']);
    expect(Math.max(...overlaps)).to.equal(1);
    expect(startedBy).to.deep.equal(stepOrder(JOB.id, NODES).map((n) => `group ${n.hostId}`));
  });

  it('beside per-node ticks, the concurrency holds between them, per cluster and per datacenter', function () {
    for (const job of [
      { ...JOB, concurrency: 2 },
      { ...JOB, concurrency: 1, concurrencyScope: 'datacenter' as const },
    ]) {
      const { steps, overlaps, startedBy } = mixed(job, ['h1', 'h3']);
      expect(steps.map((s) => s.state)).to.deep.equal(['done', 'done', 'done', 'done']);
      expect(Math.max(...overlaps)).to.equal(2);
      expect(startedBy.filter((s) => s.startsWith('group')).sort()).to.deep.equal(['group h1', 'group h3']);
    }
  });

  it('settles once what several of its nodes would each settle, and says why none of its nodes runs', function () {
    const first = stepOrder(JOB.id, NODES)[0]!;
    const died = initialSteps(JOB, NODES).map((s) =>
      s.hostId === first.hostId ? { ...s, state: 'running' as const, attempt: 2, startedAt: 0, heartbeatAt: 0 } : s,
    );
    const decision = groupTurnDecision(JOB, died, ['h1', 'h2', 'h3', 'h4'], NONE, 61_000);
    expect(decision.transitions.map((t) => `${t.hostId} ${t.to}`)).to.deep.equal([`${first.hostId} failed`]);
    // With the failed step settled, the next in order runs.
    expect(decision.run.map((s) => s.hostId)).to.deep.equal([stepOrder(JOB.id, NODES)[1]!.hostId]);
    const aborted = groupTurnDecision({ ...JOB, abortedAt: 1 }, died, ['h1', 'h2'], NONE, 61_000);
    expect(aborted).to.deep.include({ run: [], reason: 'job job-1 was aborted' });
    expect(groupTurnDecision(JOB, died, ['h9'], NONE, 0).reason).to.equal('this node is not part of job job-1');
  });
});

describe("maintenance jobs: a step whose node already runs the job's operation waits", function () {
  const task = (overrides: Partial<SSTableTask> = {}): SSTableTask => ({
    keyspace: 'ks',
    table: 't',
    kind: 'cleanup',
    progress: 1 << 20,
    total: 4 << 20,
    unit: 'bytes',
    ...overrides,
  });
  const job = { operation: 'cleanup' as const, keyspace: 'ks' };
  const step = { address: '10.0.0.1', attempt: 0 };

  it("waits for the same operation on the same keyspace (table), anyone's, naming an earlier attempt", function () {
    expect(operationRunningOnNode(job, step, [task()])).to.equal(
      '10.0.0.1 already runs cleanup of ks, 25% (1.0MiB of 4.0MiB); the step starts when it has ended',
    );
    expect(operationRunningOnNode(job, { ...step, attempt: 1 }, [task()])).to.match(
      /^10\.0\.0\.1 already runs cleanup of ks \(attempt 1's, left running when its process died\?\), 25%/,
    );
    expect(operationRunningOnNode({ ...job, table: 't' }, step, [task()])).to.match(/runs cleanup of ks\.t,/);
    expect(operationRunningOnNode({ operation: 'compact' }, step, [task({ kind: 'major compaction' })])).to.match(
      /runs major compaction of a keyspace,/,
    );
  });

  it('a major compaction as Cassandra 4.1 lists it ("compaction") counts, when no "major compaction" is listed', function () {
    const compact = { operation: 'compact' as const, keyspace: 'ks' };
    const background = task({ kind: 'compaction', progress: 2 << 20 });
    expect(operationRunningOnNode(compact, step, [background])).to.match(/already runs major compaction of ks, 50%/);
    // 5.0 names the major one: a background compaction beside it is not added in.
    expect(stepProgress(compact, [background, task({ kind: 'major compaction' })])).to.deep.include({
      completed: 1 << 20,
      tasks: 1,
    });
    expect(operationRunningOnNode(job, step, [background]), 'cleanup has no fallback').to.equal(undefined);
  });

  it('starts beside other operations, other keyspaces and tables, and for repair (checked from the repair tables)', function () {
    expect(operationRunningOnNode(job, step, [])).to.equal(undefined);
    expect(operationRunningOnNode(job, step, [task({ kind: 'compaction' }), task({ keyspace: 'other' })])).to.equal(
      undefined,
    );
    expect(operationRunningOnNode({ ...job, table: 'u' }, step, [task()])).to.equal(undefined);
    expect(operationRunningOnNode({ operation: 'repair', keyspace: 'ks' }, step, [task()])).to.equal(undefined);
  });
});

describe('maintenance jobs: conditional step changes (what a store without LWTs checks before its compare-and-set)', function () {
  const pending: MaintenanceStep = { ...NODES[0]!, state: 'pending', attempt: 0 };
  const running: MaintenanceStep = {
    ...NODES[0]!,
    state: 'running',
    attempt: 1,
    holder: 'node1',
    startedAt: 100,
    heartbeatAt: 100,
  };

  it('claims a pending step at the attempt read, and nothing else', function () {
    expect(changedStep(pending, { kind: 'claim', fromAttempt: 0, holder: 'node1', at: 100 })).to.deep.equal(running);
    expect(changedStep(pending, { kind: 'claim', fromAttempt: 1, holder: 'node1', at: 100 })).to.equal(undefined);
    expect(changedStep(running, { kind: 'claim', fromAttempt: 1, holder: 'node2', at: 200 })).to.equal(undefined);
  });

  it('renews and finishes only our running attempt; finishing to pending hands the attempt back', function () {
    expect(changedStep(running, { kind: 'heartbeat', attempt: 1, at: 150 })?.heartbeatAt).to.equal(150);
    expect(changedStep(running, { kind: 'heartbeat', attempt: 2, at: 150 })).to.equal(undefined);
    const done = changedStep(running, { kind: 'finish', attempt: 1, to: 'done', message: 'ok', at: 300 });
    expect(done).to.include({ state: 'done', attempt: 1, message: 'ok', finishedAt: 300 });
    expect(changedStep(done!, { kind: 'heartbeat', attempt: 1, at: 310 }), 'settled: no longer ours').to.equal(
      undefined,
    );
    const back = changedStep(running, { kind: 'finish', attempt: 1, to: 'pending', message: 'lease held', at: 300 });
    expect(back).to.include({ state: 'pending', attempt: 0, finishedAt: undefined });
  });

  it('settles only the state and attempt the transition was computed from', function () {
    const transition = { hostId: 'h1', from: 'running' as const, fromAttempt: 1, to: 'failed' as const, message: 'x' };
    expect(changedStep(running, { kind: 'settle', transition, at: 400 })).to.include({
      state: 'failed',
      finishedAt: 400,
    });
    expect(changedStep({ ...running, attempt: 2 }, { kind: 'settle', transition, at: 400 })).to.equal(undefined);
    const retried = { ...transition, to: 'pending' as const };
    expect(changedStep(running, { kind: 'settle', transition: retried, at: 400 })).to.include({
      state: 'pending',
      finishedAt: undefined,
    });
  });

  it("a job's last change is the newest of its creation, abort, end and its steps' times", function () {
    expect(jobLastChange({ createdAt: 10 }, [])).to.equal(10);
    expect(jobLastChange({ createdAt: 10, abortedAt: 20 }, [{ heartbeatAt: 30 }, { finishedAt: 25 }])).to.equal(30);
  });
});

describe('maintenance jobs: progress of a running step (what its node lists in system_views.sstable_tasks)', function () {
  const task = (over: Partial<SSTableTask>): SSTableTask => ({
    keyspace: 'shop',
    table: 'orders',
    kind: 'cleanup',
    progress: 0,
    total: 0,
    unit: 'bytes',
    ...over,
  });

  it("sums the node's tasks of the job's operation and keyspace, and nothing else", function () {
    const tasks = [
      task({ progress: 10 * 1024 * 1024, total: 30 * 1024 * 1024 }),
      task({ table: 'carts', progress: 1024 * 1024, total: 2 * 1024 * 1024 }),
      task({ kind: 'compaction', progress: 5, total: 500 }),
      task({ keyspace: 'other', progress: 7, total: 700 }),
    ];
    expect(stepProgress({ ...JOB, keyspace: 'shop' }, tasks)).to.deep.equal({
      completed: 11 * 1024 * 1024,
      total: 32 * 1024 * 1024,
      unit: 'bytes',
      tasks: 2,
    });
    expect(stepProgress({ ...JOB, keyspace: 'shop', table: 'carts' }, tasks)?.total).to.equal(2 * 1024 * 1024);
    // A job over every keyspace counts the operation's tasks wherever they run.
    expect(stepProgress({ ...JOB, keyspace: undefined }, tasks)?.tasks).to.equal(3);
  });

  it("knows each operation's kind as Cassandra prints it, and has none for a repair or an idle node", function () {
    const kinds: [MaintenanceJob['operation'], string][] = [
      ['compact', 'major compaction'],
      ['upgradesstables', 'upgrade sstables'],
      ['garbagecollect', 'remove deleted data'],
    ];
    for (const [operation, kind] of kinds) {
      expect(stepProgress({ ...JOB, operation }, [task({ kind, total: 1 })]), operation).to.not.equal(undefined);
      expect(stepProgress({ ...JOB, operation }, [task({ kind: 'cleanup', total: 1 })]), operation).to.equal(undefined);
    }
    expect(stepProgress({ ...JOB, operation: 'repair' }, [task({ kind: 'validation', total: 1 })])).to.equal(undefined);
    expect(stepProgress(JOB, [])).to.equal(undefined);
  });

  it('does not add bytes to keys: the tasks of the first unit by name count', function () {
    const tasks = [task({ unit: 'keys', progress: 5, total: 10 }), task({ progress: 100, total: 1000 })];
    expect(stepProgress(JOB, tasks)).to.deep.include({ unit: 'bytes', completed: 100, total: 1000, tasks: 1 });
  });

  it('prints a share of the total, in binary units for bytes', function () {
    const mib = 1024 * 1024;
    expect(formatStepProgress({ completed: 12.3 * mib, total: 30 * mib, unit: 'bytes', tasks: 1 })).to.equal(
      '41% (12.3MiB of 30.0MiB)',
    );
    expect(formatStepProgress({ completed: 1200, total: 2900, unit: 'keys', tasks: 2 })).to.equal(
      '41% (1200 of 2900 keys, 2 tasks)',
    );
    // A total Cassandra has not estimated yet is 0 %, not a division by zero.
    expect(formatStepProgress({ completed: 0, total: 0, unit: 'bytes', tasks: 1 })).to.equal('0% (0B of 0B)');
  });
});

describe('maintenance jobs: steps as history (history show --jobs)', function () {
  const job = (over: Partial<MaintenanceJob>): MaintenanceJob => ({ ...JOB, ...over });
  const step = (node: StepNode, over: Partial<MaintenanceStep>): MaintenanceStep => ({
    ...node,
    state: 'pending',
    attempt: 0,
    ...over,
  });
  const [n1, n2, n3] = NODES as [StepNode, StepNode, StepNode];
  const jobs = [
    {
      job: job({ id: 'a', operation: 'cleanup', keyspace: 'shop' }),
      steps: [
        step(n1, { state: 'done', attempt: 1, startedAt: 100, finishedAt: 160, message: 'done: cleanup finished' }),
        step(n2, { state: 'failed', attempt: 1, startedAt: 200, finishedAt: 230, message: 'aborted: stopped' }),
        step(n3, { state: 'pending' }),
      ],
    },
    {
      job: job({ id: 'b', operation: 'compact', keyspace: undefined }),
      steps: [
        step(n1, { state: 'running', attempt: 1, startedAt: 300, heartbeatAt: 310 }),
        step(n2, { state: 'skipped', finishedAt: 250, message: 'skipped: 10.0.0.2 was down at its turn' }),
        step(n3, { state: 'skipped', message: 'excluded: not in datacenter dc1' }),
      ],
    },
    {
      job: job({ id: 'c', operation: 'garbagecollect', keyspace: 'other', table: 't' }),
      steps: [step(n1, { state: 'done', attempt: 1, startedAt: 400, finishedAt: 450 })],
    },
  ];

  it('lists the steps that ran or were skipped, newest first, with their outcome; pending and excluded ones are not history', function () {
    const rows = jobStepHistory(jobs, 0);
    expect(rows.map((r) => `${r.jobId} ${r.address} ${r.outcome} ${r.durationMs}`)).to.deep.equal([
      'c 10.0.0.1 done 50',
      'b 10.0.0.1 running null',
      'b 10.0.0.2 skipped null',
      'a 10.0.0.2 aborted 30',
      'a 10.0.0.1 done 60',
    ]);
    expect(rows[0]).to.deep.include({ operation: 'garbagecollect', target: 'other.t', finishedAt: 450 });
    expect(rows[1]).to.deep.include({ target: '*', finishedAt: null });
  });

  it('keeps what started since the bound, and what is in scope (a job over every keyspace is in any)', function () {
    expect(jobStepHistory(jobs, 200).map((r) => `${r.jobId} ${r.address}`)).to.deep.equal([
      'c 10.0.0.1',
      'b 10.0.0.1',
      'b 10.0.0.2',
      'a 10.0.0.2',
    ]);
    expect(jobStepHistory(jobs, 0, { keyspace: 'shop', table: 'orders' }).map((r) => r.jobId)).to.deep.equal([
      'b',
      'b',
      'a',
      'a',
    ]);
    expect(jobStepHistory(jobs, 0, { keyspace: 'other', table: 'u' }).map((r) => r.jobId)).to.deep.equal(['b', 'b']);
    expect(jobStepHistory(jobs, 0, { keyspace: 'other' }).map((r) => r.jobId)).to.deep.equal(['c', 'b', 'b']);
  });
});
