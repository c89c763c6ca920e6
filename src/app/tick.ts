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
 * (planTick), run the batch (runBatch), report (finishTick).
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type cassandra from 'cassandra-driver';
import {
  inputAfterRepairs,
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
import { historyWriter, type RecordOutcome } from './record-outcome.js';
import { runBatch, type BatchResult } from './batch.js';
import { replicaChecks, type ReplicaChecks } from './replica-checks.js';
import { defaultStepPorts, runJobStep, type StepRunReport } from './maintenance.js';

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
  readonly plannedTasks: number;
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
  readonly writeMetrics: (report: TickReport, plan: Plan | undefined) => Promise<void>;
  /** Which of these replica addresses are down, looked at again now. */
  readonly liveness: (client: cassandra.Client, addresses: readonly string[]) => Promise<string[]>;
  /** Running repairs and back-pressure on a task's replicas, before it starts (undefined: not checked). */
  readonly replicaChecks: ((client: cassandra.Client, topology: ClusterTopology) => ReplicaChecks) | undefined;
  readonly now: () => number;
  /** This node's step of a cluster-wide job, when it is its turn (undefined: jobs are not looked at). */
  readonly jobStep?: ((client: cassandra.Client, topology: ClusterTopology) => Promise<StepRunReport>) | undefined;
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
    writeMetrics: async (report, plan) => {
      const directory = config.metrics.textfileDirectory;
      if (!directory) return;
      await writeTickMetrics(directory, {
        startedAt: report.startedAt,
        durationMs: report.durationMs,
        result: report.result,
        ...(plan ? { jobs: plan.jobs } : {}),
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
    jobStep: (client, topology) => runJobStep(deps, client, topology, defaultStepPorts(config, secret, client)),
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
  const planned = await planTick(deps, client, ports, options, { tickId, identity });
  const { plan, tasks, base } = planned;
  // Jobs take precedence (README, Jobs): a node whose turn it is runs its job step instead of any repair task.
  const job = await ports.jobStep?.(client, planned.context.topology);
  if (job?.result === 'ran') {
    const report: TickReport = {
      ...base,
      result: job.error ? 'failed' : 'job_step',
      summary: job.message,
      alarms: alarmsOf(plan),
      tasks: [],
      leases: {},
      durationMs: ports.now() - base.startedAt,
      error: job.error,
    };
    await writeMetricsQuietly(ports, report, plan, deps.out);
    return { report, plan };
  }
  if (tasks.length === 0) {
    const report: TickReport = {
      ...base,
      ...planned.idle!,
      alarms: alarmsOf(plan),
      tasks: [],
      leases: {},
      durationMs: ports.now() - base.startedAt,
    };
    await writeMetricsQuietly(ports, report, plan, deps.out);
    return { report, plan };
  }
  const checks = ports.replicaChecks?.(client, planned.context.topology);
  const batch = await runBatch(tasks, {
    config: deps.config,
    out: deps.out,
    signal: deps.signal,
    client,
    backend: await ports.leaseBackend(client),
    executor: await ports.executor(),
    tickId,
    holder: { name: identity.coordinator, host: hostname() },
    localDatacenter: plan.localDatacenter,
    startDeadline: base.startedAt + (options.maxDurationMs ?? deps.config.schedule.maxDuration),
    now: ports.now,
    record: ports.record,
    liveness: ports.liveness,
    ...(checks
      ? {
          replicaBusy: (task, finished) => checks.check(task, finished),
          localAddress: planned.context.topology.localAddress,
        }
      : {}),
  }).finally(() => checks?.close());
  const report = await finishTick(ports, planned, batch, deps.out);
  return { report, plan };
}

/** The report's fields known before the batch. */
type TickBase = Pick<TickReport, 'tickId' | 'node' | 'plannedTasks' | 'skipped' | 'startedAt'>;

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
  tick: { tickId: string; identity: { coordinator: string; address?: string | undefined } },
): Promise<PlannedTick> {
  const { config, out } = deps;
  const startedAt = ports.now();
  const { plan, context } = await ports.plan(client, config, options.maxTasks ?? config.schedule.maxTasks);
  for (const warning of context.warnings) out.warn(warning);
  const local = context.topology.nodes.find((n) => n.hostId === plan.localHostId);
  tick.identity.address = local?.address;
  tick.identity.coordinator = config.node.name ?? local?.address ?? '?';
  const node = { name: tick.identity.coordinator, address: local?.address ?? '?', datacenter: plan.localDatacenter };

  const skipped = plan.deferred
    .filter((d) => d.code === 'replica_down')
    .map((d) => ({ table: `${d.keyspace}.${d.table}`, reason: d.reason }));
  for (const skip of skipped.slice(0, 10)) out.warn(`skipped ${skip.table}: ${skip.reason}`);
  if (skipped.length > 10) out.warn(`${skipped.length - 10} more task(s) skipped: a replica they need is down`);

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
 * Step 3: the state after the batch, from the plan's input plus what this batch repaired (the pure planner again,
 * no reads): a table repaired just now must not be logged as past its alarm, "last fully repaired never". Then the
 * report and the metrics file.
 */
async function finishTick(ports: TickPorts, planned: PlannedTick, batch: BatchResult, out: Output) {
  const { plan, context, base } = planned;
  const after =
    context.input && batch.repaired.length > 0
      ? computePlan(inputAfterRepairs(context.input, batch.repaired, plan.now + (ports.now() - base.startedAt)))
      : plan;
  const report = finishReport(
    { ...base, skipped: [...base.skipped, ...batch.skipped], alarms: alarmsOf(after) },
    [...batch.tasks],
    { ...batch.leases },
    ports.now() - base.startedAt,
    batch.error,
  );
  await writeMetricsQuietly(ports, report, after, out);
  return report;
}

/** Jobs past an alarm threshold in `plan`. */
function alarmsOf(plan: Plan): TickReport['alarms'] {
  return plan.jobs
    .filter((job) => job.alarm !== 'none')
    .map((job) => ({
      table: `${job.keyspace}.${job.table}`,
      level: job.alarm as 'warn' | 'error',
      lastRepairedAt: job.lastRepairedAt,
    }));
}

function finishReport(
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

async function writeMetricsQuietly(ports: TickPorts, report: TickReport, plan: Plan | undefined, out: Output) {
  // Repairs matter more than dashboards: a metrics problem is a warning, never the tick's failure.
  try {
    await ports.writeMetrics(report, plan);
  } catch (error) {
    out.warn(`metrics not written: ${(error as Error).message}`);
  }
}
