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
 * Leases are kept from one task to the next only while the next task needs the same ones (the same replicas in
 * scope `node`, the same DC in scope `datacenter`) and no other node has announced a job that outranks it;
 * otherwise they are released after the task. The announcements are read as each task starts, alongside its
 * repair, so consecutive repairs follow without a gap: a node that announces a higher priority gets the leases
 * after the task running when it was seen, at most one task later than a check between tasks would give them.
 * A batch never holds a replica it is not repairing, and a run of tasks on the same replicas costs one
 * acquisition and one release, not one per task.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type cassandra from 'cassandra-driver';
import {
  fnv1a32,
  inputAfterRepairs,
  plan as computePlan,
  type Plan,
  type PlanInput,
  type RepairedTable,
  type RepairTask,
} from '../core/index.js';
import { downAmong } from '../cluster/topology.js';
import type { TendConfig } from '../config/schema.js';
import type { Env } from '../config/secrets.js';
import { Interrupted, RepairFailed, TendError } from '../errors.js';
import { tableSettings } from '../config/tables.js';
import {
  acquireLeases,
  higherAnnouncement,
  leaseGroups,
  openLeaseBackend,
  type LeaseBackend,
  type LeaseGroup,
  type LeaseRecord,
} from '../lease/index.js';
import {
  createExecutor,
  createRepairedStateReader,
  type Executor,
  type RepairedStateReader,
  type RepairOutcome,
} from '../repair/index.js';
import { filterIncrementalTasks } from './repair-incremental.js';
import { writeTickMetrics } from '../metrics/tick-metrics.js';
import type { Output } from '../output/output.js';
import { currentPlan } from './schedule.js';
import type { PlanContext } from './plan-input.js';
import { historyWriter, runLeasedTasks, type RecordOutcome } from './leased-run.js';

export type TickResult =
  | 'ran'
  | 'nothing_due'
  | 'outside_window'
  | 'paused'
  | 'replicas_down'
  | 'lease_held_elsewhere'
  | 'failed'
  | 'interrupted';

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
    | 'not_started_replica_down';
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
  readonly now: () => number;
}

export interface PlanContextAndPlan {
  readonly plan: Plan;
  /** `input`: what the plan was computed from, to compute the state after the batch (absent: the plan's own). */
  readonly context: Pick<PlanContext, 'topology' | 'warnings'> & { readonly input?: PlanInput };
}

export interface TickDeps {
  readonly config: TendConfig;
  readonly env: Env;
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
  const { config, env } = deps;
  return {
    // Up to 32 tables' history read at once: an idle tick over 100 tables is mostly these round trips.
    plan: (client, cfg, maxTasks) =>
      currentPlan(client, cfg, { persistHistory: true, basis: 'summaries', limits: { maxTasks }, concurrency: 32 }),
    leaseBackend: (client) => openLeaseBackend(config, env, async () => client),
    executor: () => createExecutor(config, env),
    repairedState: () => createRepairedStateReader(config, env),
    record: historyWriter(config.cassandra.keyspace, { coordinator, address, tickId }),
    writeMetrics: async (report, plan) => {
      const directory = config.metrics.textfileDirectory;
      if (!directory) return;
      await writeTickMetrics(directory, {
        startedAt: report.startedAt,
        durationMs: report.durationMs,
        result: report.result,
        ...(plan ? { jobs: plan.jobs } : {}),
        // Tasks that ran, by outcome, and those held back during the batch because a replica went down.
        tasks: countBy(
          report.tasks
            .filter((t) => t.startedAt !== null || t.status === 'not_started_replica_down')
            .map((t) => (t.status === 'not_started_replica_down' ? 'replica_down' : t.status)),
        ),
        leases: report.leases,
        node: { name: report.node.name, datacenter: report.node.datacenter },
      });
    },
    liveness: downAmong,
    now: Date.now,
  };
}

/**
 * A repair that failed because a participant is not alive, in Cassandra's words ("Endpoint not alive: /10.0.0.3",
 * "… is dead"): the replicas of the tasks after it are looked at again before they start.
 */
export const DEAD_ENDPOINT = /endpoint(?:s)? not alive|is dead|endpoint .*died|not alive/i;

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

/** Lease groups compare by name: same names, same slots. */
function groupKey(groups: readonly LeaseGroup[]): string {
  return groups.map((group) => group.name).join(' ');
}

function describeHolders(heldBy: readonly LeaseRecord[]): { holder: string; host: string; expiresAt: string }[] {
  return heldBy.map((lease) => ({
    holder: lease.holder,
    host: lease.holderHost,
    expiresAt: lease.expiresAt.toISOString(),
  }));
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
  const { config, out } = deps;
  const tickId = randomUUID();
  let coordinator = config.node.name ?? hostname();
  let localAddress: string | undefined = undefined;
  const ports: TickPorts = {
    ...defaultPorts(
      deps,
      () => coordinator,
      tickId,
      () => localAddress,
    ),
    ...portsOverride,
  };
  const startedAt = ports.now();
  const maxTasks = options.maxTasks ?? config.schedule.maxTasks;
  const maxDurationMs = options.maxDurationMs ?? config.schedule.maxDuration;

  const { plan, context } = await ports.plan(client, config, maxTasks);
  for (const warning of context.warnings) out.warn(warning);
  const local = context.topology.nodes.find((n) => n.hostId === plan.localHostId);
  const address = local?.address ?? '?';
  localAddress = local?.address;
  // The lease holder and history coordinator: node.name, else the node's address (unique in the cluster).
  coordinator = config.node.name ?? address;
  const node = { name: coordinator, address, datacenter: plan.localDatacenter };

  const skipped = plan.deferred
    .filter((d) => d.code === 'replica_down')
    .map((d) => ({ table: `${d.keyspace}.${d.table}`, reason: d.reason }));
  for (const skip of skipped.slice(0, 10)) out.warn(`skipped ${skip.table}: ${skip.reason}`);
  if (skipped.length > 10) out.warn(`${skipped.length - 10} more task(s) skipped: a replica they need is down`);

  // Incremental tasks for tables Cassandra already reports fully repaired would cost a lease and an anticompaction
  // for nothing: ask the node first (only when the plan has incremental tasks at all), before any lease.
  let planned: readonly RepairTask[] = plan.tasks;
  let fullyRepaired = 0;
  if (planned.some((t) => t.incremental)) {
    const filtered = await filterIncrementalTasks(planned, await ports.repairedState());
    fullyRepaired = filtered.skipped.length;
    for (const skip of filtered.skipped) {
      out.info(`skipped ${skip.keyspace}.${skip.table}: ${skip.reason}`);
      skipped.push({ table: `${skip.keyspace}.${skip.table}`, reason: skip.reason });
    }
    planned = filtered.tasks;
  }
  const base = { tickId, node, plannedTasks: plan.tasks.length, skipped, startedAt };

  if (planned.length === 0) {
    const verdict =
      plan.tasks.length === 0
        ? idleVerdict(plan)
        : {
            result: 'nothing_due' as const,
            summary: `nothing due: ${fullyRepaired} due table(s) reported fully repaired by the node (incremental)`,
          };
    const report: TickReport = {
      ...base,
      ...verdict,
      alarms: alarmsOf(plan),
      tasks: [],
      leases: {},
      durationMs: ports.now() - startedAt,
    };
    await writeMetricsQuietly(ports, report, plan, out);
    return { report, plan };
  }

  const backend = await ports.leaseBackend(client);
  const executor = await ports.executor();
  const leaseCounts: Record<string, number> = {};
  const tasks: TaskReport[] = [];
  const startDeadline = startedAt + maxDurationMs;
  let error: TendError | undefined;
  const holder = { name: coordinator, host: hostname() };

  const describe = (task: RepairTask) => ({
    id: task.id,
    keyspace: task.keyspace,
    tables: task.tables,
    ranges: task.ranges.length,
    replicas: task.replicaAddresses,
    reason: task.reason,
  });
  const groupsOf = (task: RepairTask) =>
    leaseGroups(config.lease, { datacenter: plan.localDatacenter, replicas: task.replicaAddresses });
  // Every node computes the same priority for the same job; the holder's hash only breaks exact ties.
  const priorityOf = (task: RepairTask) => ({
    priority: Math.round(task.priority * 1000),
    tieBreaker: fnv1a32(holder.name),
  });
  // Replicas found down during the batch (after a repair failed naming a dead endpoint), and why.
  const downNow = new Map<string, string>();
  let recheck: Promise<void> = Promise.resolve();
  const repaired: RepairedTable[] = [];
  const noteOutcome = (request: RepairTask, outcome: RepairOutcome) => {
    if (outcome.rangesRepaired.length > 0) {
      for (const table of outcome.tables) {
        repaired.push({
          keyspace: outcome.keyspace,
          table,
          ranges: outcome.rangesRepaired,
          finishedAt: outcome.finishedAt,
        });
      }
    }
    if (outcome.status !== 'failed' || !DEAD_ENDPOINT.test(outcome.message)) return;
    // Look again before the next task starts: every later task on a replica that is down would fail the same way.
    recheck = recheck.then(async () => {
      const down = await ports.liveness(client, request.replicaAddresses).catch(() => [] as string[]);
      for (const address of down) {
        if (downNow.has(address)) continue;
        downNow.set(address, `replica ${address} went down during this tick (task ${request.id}: ${outcome.message})`);
        out.warn(`replica ${address} is down: the remaining tasks that need it are left for a later tick`, {
          task: request.id,
        });
      }
    });
  };
  /** Why `task` may not start because a replica it needs went down during the batch, if so. */
  const replicaDown = (task: RepairTask): string | undefined => {
    const down = task.replicaAddresses.find((address) => downNow.has(address));
    return down === undefined ? undefined : downNow.get(down);
  };
  /** Why no further task may start now, if none may. */
  const cannotStart = (): Pick<TaskReport, 'status' | 'message'> | undefined => {
    if (deps.signal.aborted || error instanceof Interrupted)
      return { status: 'not_started_aborted', message: 'interrupted' };
    if (ports.now() >= startDeadline)
      return { status: 'not_started_deadline', message: 'schedule.maxDuration reached' };
    return undefined;
  };

  try {
    let index = 0;
    while (index < planned.length) {
      const task = planned[index]!;
      index += 1;
      const stop = cannotStart();
      if (stop) {
        tasks.push({ ...describe(task), ...stop, startedAt: null, finishedAt: null });
        continue;
      }
      await recheck;
      const down = replicaDown(task);
      if (down) {
        const table = `${task.keyspace}.${task.tables.join(',')}`;
        out.warn(`skipped ${table}: ${down}`, { task: task.id });
        skipped.push({ table, reason: down });
        tasks.push({
          ...describe(task),
          status: 'not_started_replica_down',
          message: down,
          startedAt: null,
          finishedAt: null,
        });
        continue;
      }
      const groups = groupsOf(task);
      const claim = await acquireLeases(backend, groups, {
        holder,
        ttlMs: config.lease.ttl,
        announcementTtlMs: config.lease.announcementTtl,
        priority: priorityOf(task),
        metadata: { task: task.id, tick: tickId },
        signal: deps.signal,
      });
      if (!claim.acquired) {
        leaseCounts.held_elsewhere = (leaseCounts.held_elsewhere ?? 0) + 1;
        const heldBy = describeHolders(claim.heldBy);
        const message =
          claim.reason === 'outranked'
            ? `${claim.group}: ${claim.outrankedBy?.holder ?? 'another node'} announced a higher priority`
            : `${claim.group} held by ${heldBy.map((h) => `${h.holder} until ${h.expiresAt}`).join(', ') || 'another node'}`;
        out.info(`lease not available: ${message}`, { task: task.id });
        tasks.push({
          ...describe(task),
          status: claim.reason === 'outranked' ? 'outranked' : 'lease_held_elsewhere',
          message,
          startedAt: null,
          finishedAt: null,
          heldBy,
        });
        // With one lease per datacenter every later task needs the same lease: stop asking.
        if (config.lease.scope === 'datacenter') break;
        continue;
      }
      leaseCounts.acquired = (leaseCounts.acquired ?? 0) + 1;
      const heldKey = groupKey(groups);
      const { results, lost } = await runLeasedTasks(backend, claim.leases, task, {
        executor,
        renewEveryMs: config.lease.renewEvery,
        taskTimeoutMs: config.repair.taskTimeout,
        taskTimeoutFor: (request) =>
          tableSettings(config.repair, request.keyspace, request.tables[0] ?? '').taskTimeout,
        signal: deps.signal,
        out,
        now: ports.now,
        record: (outcome, request) => ports.record(client, outcome, request),
        onTaskStart: (request) => {
          if (request !== task) {
            // A task run on the leases of the one before it.
            index += 1;
            leaseCounts.kept = (leaseCounts.kept ?? 0) + 1;
          }
          out.info(`repairing ${request.keyspace}.${request.tables.join(',')}`, {
            task: request.id,
            ranges: request.ranges.length,
            replicas: request.replicaAddresses.join(','),
          });
        },
        onTaskEnd: (request, outcome) => {
          logOutcome(outcome, out);
          noteOutcome(request, outcome);
        },
        // Keep the leases for the next task when it needs the same ones and no other node has announced a job
        // that outranks it: a release and a new acquisition would cost Paxos rounds (or Consul writes) for
        // leases we would take straight back. Anything else ends the run and releases them.
        next: {
          propose: async () => {
            const candidate = planned[index];
            if (!candidate || groupKey(groupsOf(candidate)) !== heldKey) return undefined;
            const higher = await higherAnnouncement(backend, groups, holder.name, priorityOf(candidate));
            return higher ? undefined : candidate;
          },
          mayStart: async (proposed) => {
            await recheck;
            return !cannotStart() && !replicaDown(proposed);
          },
        },
      });
      for (const { request, batch } of results) {
        for (const outcome of batch.outcomes) tasks.push(taskReport(describe(request), outcome));
        // A one-task batch has no deadline of its own and cannot meet an unreachable node before its task: only
        // an interrupt that came first leaves its task unstarted.
        for (const { task: notRun } of batch.notStarted) {
          tasks.push({
            ...describe(notRun as RepairTask),
            status: 'not_started_aborted',
            message: 'interrupted',
            startedAt: null,
            finishedAt: null,
          });
        }
      }
      const last = results[results.length - 1]?.batch;
      if (lost) {
        leaseCounts.lost = (leaseCounts.lost ?? 0) + 1;
        const stopped = results[results.length - 1]?.request ?? task;
        out.error(`${lost.message}: the repair was stopped and recorded as aborted`, { task: stopped.id });
        error = lost;
        break;
      }
      if (last?.unavailable) {
        error = last.unavailable;
        break;
      }
      if (last?.aborted && deps.signal.aborted) {
        error = deps.signal.reason instanceof TendError ? deps.signal.reason : new Interrupted();
      }
    }
  } finally {
    await backend.close().catch(() => undefined);
  }
  // Interrupted before a task started (between tasks, or before the first): still an interruption, exit 130.
  if (!error && deps.signal.aborted) {
    error = deps.signal.reason instanceof TendError ? deps.signal.reason : new Interrupted();
  }

  // The state after the batch, from the plan's input plus what this batch repaired (the pure planner again, no
  // reads): a table repaired just now must not be logged as past its alarm, "last fully repaired never".
  const after =
    context.input && repaired.length > 0
      ? computePlan(inputAfterRepairs(context.input, repaired, plan.now + (ports.now() - startedAt)))
      : plan;
  const report = finishReport({ ...base, alarms: alarmsOf(after) }, tasks, leaseCounts, ports.now() - startedAt, error);
  await writeMetricsQuietly(ports, report, after, out);
  return { report, plan };
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

/** One line per task as it ends, so the log follows the batch rather than summing it up at the end. */
function logOutcome(outcome: RepairOutcome, out: Output): void {
  const fields = {
    task: outcome.taskId,
    status: outcome.status,
    seconds: Math.round((outcome.finishedAt - outcome.startedAt) / 1000),
  };
  if (outcome.status === 'success') out.info(`repaired ${outcome.keyspace}.${outcome.tables.join(',')}`, fields);
  else out.error(`repair ${outcome.status}: ${outcome.message}`, fields);
}

function taskReport(
  describe: Omit<TaskReport, 'status' | 'message' | 'startedAt' | 'finishedAt'>,
  outcome: RepairOutcome,
): TaskReport {
  return {
    ...describe,
    status: outcome.status,
    message: outcome.message,
    startedAt: outcome.startedAt,
    finishedAt: outcome.finishedAt,
  };
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
