/**
 * `tend schedule tick`: one pass of the pipeline in DESIGN.md, run by the systemd timer on every node.
 *
 *   config → connect → topology + history → core plan → policy verdicts (inside the plan) → per task:
 *   announce + lease (or keep the leases held) → run under the heartbeat → record → next task … → release →
 *   metrics → exit
 *
 * Everything that decides is the pure planner (src/core); this file only carries the decisions out, in order,
 * and turns what happened into one TickReport. The report is what the command prints, what the metrics file
 * says, and (its `error`) what decides the exit code. `--dry-run` never gets here: it prints the same plan
 * through `schedule plan`'s code path and touches nothing.
 *
 * The batch itself (which task next, keep or change the leases, run, record) is src/app/batch.ts; the decision
 * to keep the leases for the next task is src/core/lease-keeping.ts. runTick is three steps: plan the tick
 * (planTick), run the batch (runRounds: runBatch, and again after a refused lease, src/core/tick-rounds.ts), report
 * (finishTick).
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type cassandra from 'cassandra-driver';
import {
  inputAfterRepairs,
  nextRound,
  plan as computePlan,
  REPLICA_BLOCKS,
  type Plan,
  type PlanInput,
  type RepairTask,
} from '../core/index.js';
import { downAmong, type ClusterTopology } from '../cluster/topology.js';
import type { TendConfig } from '../config/schema.js';
import type { SecretSource } from '../config/secrets.js';
import { openExecutor, openLeaseBackend, openRepairedStateReader } from './adapters.js';
import { Interrupted, RepairFailed, type TendError } from '../errors.js';
import type { LeaseBackend } from '../lease/index.js';
import { type Executor, type RepairedStateReader, type RepairOutcome } from '../repair/index.js';
import { filterIncrementalTasks } from './repair-incremental.js';
import { writeTickMetrics } from '../metrics/tick-metrics.js';
import type { Output } from '../output/output.js';
import { currentPlan } from './schedule.js';
import type { PlanContext } from './plan-input.js';
import { historyStartWriter, historyWriter, type RecordOutcome, type RecordStart } from './record-outcome.js';
import { runBatch, type BatchResult } from './batch.js';
import { sleep } from '../timers.js';
import { replicaChecks, type ReplicaChecks } from './replica-checks.js';
import { tickHooks, type TickHooks } from './tick-hooks.js';
import { defaultStepPorts, runJobStep, type StepRunReport } from './maintenance.js';
import {
  configuredCoverageTtl,
  coverageRecorder,
  openCoverageStore,
  type CoverageStore,
  type TickCoverage,
} from './coverage.js';

export type TickResult =
  | 'ran'
  | 'nothing_due'
  | 'outside_window'
  | 'paused'
  | 'replicas_down'
  | 'lease_held_elsewhere'
  | 'failed'
  | 'interrupted'
  /** The node ran its step of a cluster-wide job instead of repair tasks (src/app/maintenance.ts). */
  | 'job_step';

export interface TickOptions {
  /** Overrides schedule.maxTasks. */
  readonly maxTasks?: number | undefined;
  /** Overrides schedule.maxDuration (ms). */
  readonly maxDurationMs?: number | undefined;
}

export interface TaskReport {
  readonly id: string;
  /** The covered node whose executor ran it (group ticks, `nodes:`); absent in a per-node tick. */
  readonly node?: string;
  readonly keyspace: string;
  readonly tables: readonly string[];
  readonly ranges: number;
  readonly replicas: readonly string[];
  readonly reason: string;
  /** What happened: a repair outcome, or why it did not start. */
  readonly status:
    | RepairOutcome['status']
    | 'lease_held_elsewhere'
    | 'outranked'
    | 'not_started_deadline'
    | 'not_started_aborted'
    | 'not_started_replica_down'
    | 'not_started_repair_running'
    | 'not_started_back_pressure';
  readonly message: string;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  /** Who holds the lease we could not take. */
  readonly heldBy?: readonly { holder: string; host: string; expiresAt: string }[];
}

export interface TickReport {
  readonly tickId: string;
  readonly node: { readonly name: string; readonly address: string; readonly datacenter: string };
  readonly result: TickResult;
  /** One line saying what the tick did, or why it did nothing. */
  readonly summary: string;
  /** Tasks planned by the tick's first plan. */
  readonly plannedTasks: number;
  /** Plans made: 1, more when leases held elsewhere made the tick plan again (schedule.replan). */
  readonly rounds: number;
  readonly tasks: readonly TaskReport[];
  readonly leases: Readonly<Record<string, number>>;
  readonly startedAt: number;
  readonly durationMs: number;
  /**
   * Due work held back because a replica it needs is down: by the plan's liveness gate, or during the batch
   * after a repair failed naming a dead endpoint (logged as a warning per table).
   */
  readonly skipped: readonly { table: string; reason: string }[];
  /** Jobs past their alarm thresholds after the batch (logged on every tick while crossed). */
  readonly alarms: readonly { table: string; level: 'warn' | 'error'; lastRepairedAt: number | null }[];
  /**
   * The coverage record as this tick left it (issue 18): the nodes it claimed, under which instance, until when, the
   * other instances claiming them, and every node of the ring (absent: not recorded, see the warning).
   */
  readonly coverage?: TickCoverage | undefined;
  /** The error that decides the exit code, if any (not serialised). */
  readonly error?: TendError | undefined;
}

/** The outside world a tick touches; tests pass fakes of these (gh style). */
export interface TickPorts {
  readonly plan: (client: cassandra.Client, config: TendConfig, maxTasks: number) => Promise<PlanContextAndPlan>;
  readonly leaseBackend: (client: cassandra.Client) => Promise<LeaseBackend>;
  readonly executor: () => Promise<Executor>;
  /** How much of each table the node reports repaired (incremental eligibility). */
  readonly repairedState: () => Promise<RepairedStateReader>;
  readonly record: RecordOutcome;
  /** A task's STARTED row before its repair (undefined: not recorded). */
  readonly recordStart: RecordStart | undefined;
  readonly writeMetrics: (report: TickReport, plan: Plan | undefined) => Promise<void>;
  /** Which of these replica addresses are down, looked at again now. */
  readonly liveness: (client: cassandra.Client, addresses: readonly string[]) => Promise<string[]>;
  /** Running repairs and back-pressure on a task's replicas, before it starts (undefined: not checked). */
  readonly replicaChecks:
    ((client: cassandra.Client, topology: ClusterTopology) => Pick<ReplicaChecks, 'check' | 'close'>) | undefined;
  readonly now: () => number;
  /** Waits `ms`, or less when the signal fires (the pause before planning again). */
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** The operator's hooks (hooks.*): a task that failed, and the tick's end. */
  readonly hooks: TickHooks;
  /** This node's step of a cluster-wide job, when it is its turn (undefined: jobs are not looked at). */
  readonly jobStep?: ((client: cassandra.Client, topology: ClusterTopology) => Promise<StepRunReport>) | undefined;
  /** Where the coverage record lives (undefined: the tick records no coverage). */
  readonly coverage?: ((client: cassandra.Client) => Promise<CoverageStore>) | undefined;
}

export interface PlanContextAndPlan {
  readonly plan: Plan;
  /** `input`: what the plan was computed from, to compute the state after the batch (absent: the plan's own). */
  readonly context: Pick<PlanContext, 'topology' | 'warnings'> & { readonly input?: PlanInput };
}

export interface TickDeps {
  readonly config: TendConfig;
  /** The secrets the adapters need (AppContext.secret). */
  readonly secret: SecretSource;
  readonly out: Output;
  /** SIGINT/SIGTERM from main(). */
  readonly signal: AbortSignal;
}

/** The default ports: the real adapters. */
export function defaultPorts(
  deps: TickDeps,
  coordinator: () => string,
  tickId: string,
  address: () => string | undefined = () => undefined,
): TickPorts {
  const { config, secret } = deps;
  return {
    // Up to 32 tables' history read at once: an idle tick over 100 tables is mostly these round trips.
    plan: (client, cfg, maxTasks) =>
      currentPlan(client, cfg, { persistHistory: true, basis: 'summaries', limits: { maxTasks }, concurrency: 32 }),
    leaseBackend: (client) => openLeaseBackend(config, secret, async () => client),
    executor: () => openExecutor(config, secret),
    repairedState: () => openRepairedStateReader(config, secret),
    record: historyWriter(config.cassandra.keyspace, { coordinator, address, tickId }),
    recordStart: historyStartWriter(config.cassandra.keyspace, { coordinator, tickId }),
    writeMetrics: async (report, plan) => {
      const directory = config.metrics.textfileDirectory;
      if (!directory) return;
      await writeTickMetrics(directory, {
        startedAt: report.startedAt,
        durationMs: report.durationMs,
        result: report.result,
        ...(plan ? { jobs: plan.jobs } : {}),
        ...(report.coverage ? { coverage: report.coverage.ring.recorded ? report.coverage.ring.nodes : [] } : {}),
        // Tasks that ran, by outcome, and those a replica held back (down, already repairing, overloaded).
        tasks: countBy(
          report.tasks
            .filter((t) => t.startedAt !== null || REPLICA_BLOCKS.has(t.status))
            .map((t) => (REPLICA_BLOCKS.has(t.status) ? t.status.replace(/^not_started_/, '') : t.status)),
        ),
        leases: report.leases,
        node: { name: report.node.name, datacenter: report.node.datacenter },
      });
    },
    liveness: downAmong,
    replicaChecks: (client, topology) => replicaChecks(deps, client, topology),
    now: Date.now,
    sleep,
    hooks: tickHooks(config.hooks, deps.out, { tickId, node: coordinator, stopping: deps.signal }),
    jobStep: (client, topology) =>
      runJobStep(deps, topology, defaultStepPorts(config, secret, client, deps.out, topology.nodes)),
    coverage: (client) => openCoverageStore(config, secret, client),
  };
}

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

/** Why a plan has no task: the first applicable of paused, outside window, replicas down, nothing due. */
export function idleVerdict(plan: Plan): { result: TickResult; summary: string } {
  if (plan.summary.due === 0) {
    return {
      result: 'nothing_due',
      summary: `nothing due: ${plan.jobs.length} table(s) repaired within their interval`,
    };
  }
  const blocked = plan.deferred.filter((d) => d.code === 'blocked');
  const paused = blocked.find((d) => d.reason.startsWith('paused'));
  if (paused) return { result: 'paused', summary: `${paused.reason}; ${plan.summary.due} table(s) due` };
  if (blocked.length > 0) {
    return { result: 'outside_window', summary: `${blocked[0]!.reason}; ${plan.summary.due} table(s) due` };
  }
  const down = plan.deferred.filter((d) => d.code === 'replica_down');
  if (down.length > 0) {
    return {
      result: 'replicas_down',
      summary: `${down.length} due table(s) wait for a replica that is down: ${down[0]!.reason}`,
    };
  }
  return { result: 'nothing_due', summary: `no task could be planned for ${plan.summary.due} due table(s)` };
}

/**
 * Runs one tick. Never throws for what a tick is expected to meet (nothing due, windows, leases held elsewhere,
 * failed repairs): those are in the report, and `report.error` carries the exit code they mean. It throws
 * for what stops it from deciding at all: configuration, an unreachable cluster, a schema mismatch.
 */
export async function runTick(
  deps: TickDeps,
  client: cassandra.Client,
  options: TickOptions,
  portsOverride?: Partial<TickPorts>,
): Promise<{ report: TickReport; plan: Plan }> {
  const tickId = randomUUID();
  // The lease holder and history coordinator: node.name, else the node's address once the plan has read it.
  const identity: { coordinator: string; address?: string | undefined } = {
    coordinator: deps.config.node.name ?? hostname(),
  };
  const ports: TickPorts = {
    ...defaultPorts(
      deps,
      () => identity.coordinator,
      tickId,
      () => identity.address,
    ),
    ...portsOverride,
  };
  const tick: TickIdentity = { tickId, identity, warned: new Set() };
  const first = await planTick(deps, client, ports, options, tick);
  const { plan, tasks } = first;
  // The coverage record: this node, claimed by its own timer under its own name (src/core/coverage.ts).
  const local = first.context.topology.nodes.filter((n) => n.hostId === plan.localHostId);
  const recordCoverage = ports.coverage
    ? coverageRecorder(
        () => ports.coverage!(client),
        { instance: tick.identity.coordinator, instanceHost: hostname(), kind: 'node' },
        (message) => deps.out.warn(message),
      )
    : undefined;
  const coverageAt = () => ({
    now: plan.now + (ports.now() - first.base.startedAt),
    ttlMs: configuredCoverageTtl(deps.config),
  });
  const claimed =
    local.length > 0 ? await recordCoverage?.(local, first.context.topology.nodes, coverageAt()) : undefined;
  const base = { ...first.base, ...(claimed ? { coverage: claimed } : {}) };
  // Jobs take precedence (README, Jobs): a node whose turn it is runs its job step instead of any repair task.
  const job = await ports.jobStep?.(client, first.context.topology);
  if (job?.result === 'ran') {
    const report: TickReport = {
      ...base,
      result: job.error ? 'failed' : 'job_step',
      summary: job.message,
      alarms: alarmsOf(plan),
      tasks: [],
      leases: {},
      rounds: 1,
      durationMs: ports.now() - base.startedAt,
      error: job.error,
    };
    await writeMetricsQuietly(ports, report, plan, deps.out);
    await ports.hooks.tickEnded(report);
    return { report, plan };
  }
  if (tasks.length === 0) {
    const report: TickReport = {
      ...base,
      ...first.idle!,
      alarms: alarmsOf(plan),
      tasks: [],
      leases: {},
      rounds: 1,
      durationMs: ports.now() - base.startedAt,
    };
    await writeMetricsQuietly(ports, report, plan, deps.out);
    await ports.hooks.tickEnded(report);
    return { report, plan };
  }
  const run = await runRounds(deps, client, ports, options, first, tick);
  // Refreshed at the end: a long tick must not let its own claim lapse (the TTL rule counts on it).
  const refreshed =
    local.length > 0 ? await recordCoverage?.(local, first.context.topology.nodes, coverageAt()) : undefined;
  const coverage = refreshed ?? claimed;
  const report = await finishTick(
    ports,
    { ...run, base: { ...run.base, ...(coverage ? { coverage } : {}) } },
    deps.out,
  );
  await ports.hooks.tickEnded(report);
  return { report, plan: run.last.plan };
}

/** Who the tick is, and the warnings it logged already (a tick that plans again logs each one once). */
interface TickIdentity {
  readonly tickId: string;
  readonly identity: { coordinator: string; address?: string | undefined };
  readonly warned: Set<string>;
}

/** A tick's rounds so far: the first plan's base, the last plan, and every batch's results merged. */
interface Rounds {
  readonly base: TickBase;
  last: PlannedTick;
  lastRepaired: BatchResult['repaired'];
  readonly tasks: TaskReport[];
  readonly leases: Record<string, number>;
  readonly skipped: Map<string, { table: string; reason: string }>;
  error: TendError | undefined;
  count: number;
}

/**
 * Step 2: the batch, and again after a pause while leases were refused (schedule.replan; the decision is
 * src/core/tick-rounds.ts). Each new round plans from a fresh read, so what the lease's holder repaired meanwhile is
 * not repaired twice; maxTasks and maxDuration bound the whole tick.
 */
async function runRounds(
  deps: TickDeps,
  client: cassandra.Client,
  ports: TickPorts,
  options: TickOptions,
  first: PlannedTick,
  tick: TickIdentity,
): Promise<Rounds> {
  const { config } = deps;
  const maxTasks = options.maxTasks ?? config.schedule.maxTasks;
  const startDeadline = first.base.startedAt + (options.maxDurationMs ?? config.schedule.maxDuration);
  const backend = await ports.leaseBackend(client);
  const executor = await ports.executor();
  const rounds: Rounds = {
    base: first.base,
    last: first,
    lastRepaired: [],
    tasks: [],
    leases: {},
    skipped: new Map(first.base.skipped.map((skip) => [skip.table, skip])),
    error: undefined,
    count: 0,
  };
  let planned = first;
  for (;;) {
    rounds.count += 1;
    const started = rounds.tasks.filter((t) => t.startedAt !== null).length;
    const batch = await runPlanned(deps, client, ports, planned, {
      ...tick,
      backend,
      executor,
      startDeadline,
      maxRun: maxTasks - started,
    });
    rounds.last = planned;
    rounds.lastRepaired = batch.repaired;
    rounds.tasks.push(...batch.tasks);
    for (const [outcome, count] of Object.entries(batch.leases)) {
      rounds.leases[outcome] = (rounds.leases[outcome] ?? 0) + count;
    }
    for (const skip of batch.skipped) rounds.skipped.set(skip.table, skip);
    rounds.error = batch.error;
    const startedInTick = rounds.tasks.filter((t) => t.startedAt !== null).length;
    const verdict = nextRound({
      stopped: batch.error !== undefined,
      refused: batch.tasks.filter((t) => t.status === 'lease_held_elsewhere' || t.status === 'outranked').length,
      startedInTick,
      maxTasks,
      now: ports.now(),
      startDeadline,
      pauseMs: config.schedule.replan.enabled ? config.schedule.replan.pause : undefined,
    });
    if (!verdict.again) return rounds;
    const pauseMs = verdict.at - ports.now();
    deps.out.info(`leases held elsewhere: planning again in ${Math.round(pauseMs / 1000)}s (schedule.replan)`);
    await ports.sleep(pauseMs, deps.signal);
    if (deps.signal.aborted) {
      rounds.error = new Interrupted('interrupted while waiting to plan again; no lease held, nothing running');
      return rounds;
    }
    const next = await planTick(deps, client, ports, { ...options, maxTasks: maxTasks - startedInTick }, tick);
    for (const skip of next.base.skipped) rounds.skipped.set(skip.table, skip);
    // Nothing left to run: the lease's holder repaired it meanwhile, or a window closed. The rounds so far say
    // what this tick did.
    if (next.tasks.length === 0) return rounds;
    planned = next;
  }
}

/** One round's batch: the planned tasks under leases, with the replica checks of this plan's topology. */
async function runPlanned(
  deps: TickDeps,
  client: cassandra.Client,
  ports: TickPorts,
  planned: PlannedTick,
  round: {
    tickId: string;
    identity: { coordinator: string };
    backend: LeaseBackend;
    executor: Executor;
    startDeadline: number;
    /** Tasks the tick may still start: the plan's others are candidates (schedule.candidates). */
    maxRun: number;
  },
): Promise<BatchResult> {
  const checks = ports.replicaChecks?.(client, planned.context.topology);
  return runBatch(planned.tasks, {
    config: deps.config,
    out: deps.out,
    signal: deps.signal,
    client,
    backend: round.backend,
    executor: round.executor,
    tickId: round.tickId,
    holder: { name: round.identity.coordinator, host: hostname() },
    localDatacenter: planned.plan.localDatacenter,
    startDeadline: round.startDeadline,
    maxRun: round.maxRun,
    freeFirst: true,
    now: ports.now,
    record: ports.record,
    ...(ports.recordStart ? { recordStart: ports.recordStart } : {}),
    liveness: ports.liveness,
    onTaskEnd: (task, outcome) => ports.hooks.taskEnded(task, outcome),
    ...(checks
      ? {
          replicaBusy: (task, finished) => checks.check(task, finished),
          localAddress: planned.context.topology.localAddress,
        }
      : {}),
  }).finally(() => checks?.close());
}

/** The report's fields known before the batch. */
type TickBase = Pick<TickReport, 'tickId' | 'node' | 'plannedTasks' | 'skipped' | 'startedAt' | 'coverage'>;

interface PlannedTick {
  readonly plan: Plan;
  readonly context: PlanContextAndPlan['context'];
  /** The tasks to run, in plan order (incremental ones the node reports fully repaired left out). */
  readonly tasks: readonly RepairTask[];
  readonly base: TickBase;
  /** Why the tick does nothing, when `tasks` is empty. */
  readonly idle?: { result: TickResult; summary: string };
}

/**
 * Step 1: the plan, the node's identity, the due work held back (replicas down, incremental tables already fully
 * repaired), and the verdict of an idle tick. Nothing is leased yet.
 */
async function planTick(
  deps: TickDeps,
  client: cassandra.Client,
  ports: TickPorts,
  options: TickOptions,
  tick: TickIdentity,
): Promise<PlannedTick> {
  const { config, out } = deps;
  const warn = (message: string) => {
    if (tick.warned.has(message)) return;
    tick.warned.add(message);
    out.warn(message);
  };
  const startedAt = ports.now();
  // schedule.candidates: more tasks than the tick may start, so that one whose replicas are free can stand in for
  // those another node is repairing (the batch starts at most maxTasks of them).
  const maxTasks = options.maxTasks ?? config.schedule.maxTasks;
  const { plan, context } = await ports.plan(client, config, Math.max(maxTasks, config.schedule.candidates));
  for (const warning of context.warnings) warn(warning);
  const local = context.topology.nodes.find((n) => n.hostId === plan.localHostId);
  tick.identity.address = local?.address;
  tick.identity.coordinator = config.node.name ?? local?.address ?? '?';
  const node = { name: tick.identity.coordinator, address: local?.address ?? '?', datacenter: plan.localDatacenter };

  const skipped = plan.deferred
    .filter((d) => d.code === 'replica_down')
    .map((d) => ({ table: `${d.keyspace}.${d.table}`, reason: d.reason }));
  for (const skip of skipped.slice(0, 10)) warn(`skipped ${skip.table}: ${skip.reason}`);
  if (skipped.length > 10) warn(`${skipped.length - 10} more task(s) skipped: a replica they need is down`);

  // Incremental tasks for tables Cassandra already reports fully repaired would cost a lease and an anticompaction
  // for nothing: ask the node first (only when the plan has incremental tasks at all), before any lease.
  let tasks: readonly RepairTask[] = plan.tasks;
  let fullyRepaired = 0;
  if (tasks.some((t) => t.incremental)) {
    const filtered = await filterIncrementalTasks(tasks, await ports.repairedState());
    fullyRepaired = filtered.skipped.length;
    for (const skip of filtered.skipped) {
      out.info(`skipped ${skip.keyspace}.${skip.table}: ${skip.reason}`);
      skipped.push({ table: `${skip.keyspace}.${skip.table}`, reason: skip.reason });
    }
    tasks = filtered.tasks;
  }
  const base = { tickId: tick.tickId, node, plannedTasks: plan.tasks.length, skipped, startedAt };
  if (tasks.length > 0) return { plan, context, tasks, base };
  const idle =
    plan.tasks.length === 0
      ? idleVerdict(plan)
      : {
          result: 'nothing_due' as const,
          summary: `nothing due: ${fullyRepaired} due table(s) reported fully repaired by the node (incremental)`,
        };
  return { plan, context, tasks, base, idle };
}

/**
 * Step 3: the state after the batch, from the last plan's input plus what its batch repaired (the pure planner
 * again, no reads; earlier rounds are in that plan's history already): a table repaired just now must not be logged
 * as past its alarm, "last fully repaired never". Then the report and the metrics file.
 */
async function finishTick(ports: TickPorts, rounds: Rounds, out: Output) {
  const { base, last, lastRepaired } = rounds;
  const { plan, context } = last;
  const after =
    context.input && lastRepaired.length > 0
      ? computePlan(inputAfterRepairs(context.input, lastRepaired, plan.now + (ports.now() - last.base.startedAt)))
      : plan;
  const report = finishReport(
    { ...base, skipped: [...rounds.skipped.values()], alarms: alarmsOf(after), rounds: rounds.count },
    rounds.tasks,
    rounds.leases,
    ports.now() - base.startedAt,
    rounds.error,
  );
  await writeMetricsQuietly(ports, report, after, out);
  return report;
}

/** Jobs past an alarm threshold in `plan`. */
export function alarmsOf(plan: Plan): TickReport['alarms'] {
  return plan.jobs
    .filter((job) => job.alarm !== 'none')
    .map((job) => ({
      table: `${job.keyspace}.${job.table}`,
      level: job.alarm as 'warn' | 'error',
      lastRepairedAt: job.lastRepairedAt,
    }));
}

export function finishReport(
  base: Omit<TickReport, 'result' | 'summary' | 'tasks' | 'leases' | 'durationMs'>,
  tasks: TaskReport[],
  leases: Record<string, number>,
  durationMs: number,
  error: TendError | undefined,
): TickReport {
  const ran = tasks.filter((t) => t.startedAt !== null);
  const failed = ran.filter((t) => t.status === 'failed' || t.status === 'timed_out');
  const succeeded = ran.filter((t) => t.status === 'success').length;
  let result: TickResult;
  let summary: string;
  if (error instanceof Interrupted) {
    result = 'interrupted';
    summary = `interrupted after ${ran.length} task(s); leases released, history written`;
  } else if (error) {
    result = 'failed';
    summary = `${error.message} after ${succeeded} successful task(s)`;
  } else if (failed.length > 0) {
    result = 'failed';
    summary = `${failed.length} of ${ran.length} repair task(s) failed`;
    error = new RepairFailed(`${failed.length} repair task(s) failed: ${failed.map((t) => t.id).join(', ')}`);
  } else if (ran.length === 0 && tasks.some((t) => t.status === 'lease_held_elsewhere' || t.status === 'outranked')) {
    result = 'lease_held_elsewhere';
    const first = tasks.find((t) => t.status === 'lease_held_elsewhere' || t.status === 'outranked')!;
    summary = `lease held elsewhere: ${first.message}`;
  } else if (ran.length === 0) {
    // Not a lease: the batch ran out of time before its first task (schedule.maxDuration already spent).
    result = 'nothing_due';
    summary = `no task started: ${tasks[0]?.message ?? 'nothing left to run'}`;
  } else {
    result = 'ran';
    const notStarted = tasks.length - ran.length;
    summary = `${succeeded} repair task(s) succeeded${notStarted ? `, ${notStarted} left for a later tick` : ''}`;
  }
  return { ...base, result, summary, tasks, leases, durationMs, error };
}

export async function writeMetricsQuietly(ports: TickPorts, report: TickReport, plan: Plan | undefined, out: Output) {
  // Repairs matter more than dashboards: a metrics problem is a warning, never the tick's failure.
  try {
    await ports.writeMetrics(report, plan);
  } catch (error) {
    out.warn(`metrics not written: ${(error as Error).message}`);
  }
}
