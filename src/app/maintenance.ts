/**
 * Cluster-wide maintenance jobs (issue 17): `tend job start|status|list|abort|run`, and the step a tick runs.
 *
 * A job is a row in tend's keyspace with one step per node (src/cluster/job-store.ts); nothing runs anywhere until
 * a node's tick (or `tend job run`) finds that it is its turn (src/core/maintenance.ts turnDecision), claims its
 * step with an LWT, takes every repair lease slot of its own node (so no repair of tend's that involves the node
 * starts meanwhile, under lease.scope node), and runs the operation through the configured executor. While it
 * runs, the step's heartbeat is renewed and the job's row re-read every few seconds: an abort from any node stops
 * the operation on the server within that time.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type cassandra from 'cassandra-driver';
import {
  groupTurnDecision,
  initialSteps,
  jobPhase,
  operationRunningOnNode,
  jobStepHistory,
  stepProgress,
  stepsNeedingAttention,
  type MaintenanceJob,
  type NodeInfo,
  type StepNode,
  type MaintenanceOperation,
  type MaintenanceStep,
  type JobStepHistoryRow,
  type SSTableTask,
  type StepProgress,
} from '../core/index.js';
import { CassandraJobStore, type JobStore, type StoredJob } from '../cluster/job-store.js';
import { ConsulJobStore } from '../lease/consul-job-store.js';
import { ConsulLeaseBackend } from '../lease/consul.js';
import { downAmong, type ClusterTopology } from '../cluster/topology.js';
import { readLocalTopology } from './plan-input.js';
import type { TendConfig } from '../config/schema.js';
import type { SecretSource } from '../config/secrets.js';
import { JobAttention, type TendError, UsageError } from '../errors.js';
import { acquireLeases, withLeases, type LeaseBackend } from '../lease/index.js';
import {
  JolokiaClient,
  JolokiaMaintenance,
  NodetoolMaintenance,
  type MaintenanceOutcome,
  type MaintenanceRunner,
} from '../repair/index.js';
import { writeTextfileAtomically } from '../metrics/textfile.js';
import { jobMetricsFileName, renderJobStepMetrics } from '../metrics/job-metrics.js';
import {
  consulSettings,
  jolokiaSettings,
  nodetoolSettings,
  openExecutor,
  openLeaseBackend,
  openPinnedSessions,
} from './adapters.js';
import { readSSTableTasks } from '../cluster/sstable-tasks.js';
import { readRepairActivity } from '../cluster/repair-activity.js';
import { runningRepairVerdict } from '../core/running-repairs.js';
import { clusterNow } from '../cluster/session.js';
import { setLongTimeout } from '../timers.js';
import type { Output } from '../output/output.js';

/** What `tend job start` decides of a job; the rest (id, staleness, attempts, creator) is filled in here. */
export type StartJobOptions = Pick<
  MaintenanceJob,
  | 'operation'
  | 'keyspace'
  | 'table'
  | 'datacenter'
  | 'concurrency'
  | 'concurrencyScope'
  | 'window'
  | 'includeAllSSTables'
> & { readonly stepTimeoutMs?: number | undefined };

export interface JobView {
  readonly job: StoredJob;
  readonly phase: 'active' | 'aborted' | 'done';
  readonly steps: readonly StepView[];
}

/**
 * A step as `job status` shows it: a running step of a compaction-like operation with its progress as its node
 * reports it now, or why that could not be read (the node did not answer).
 */
export type StepView = MaintenanceStep & {
  readonly progress?: StepProgress | undefined;
  readonly progressUnknown?: string | undefined;
};

/** Who an operator's action is recorded as: node.name, else this host's name. */
export function actor(config: TendConfig): string {
  return config.node.name ?? hostname();
}

/**
 * Where jobs live: in Consul's KV store (under lease.consul.prefix) with the Consul lease backend, so a cluster that
 * keeps its coordination in Consul keeps jobs there too; else in tend's keyspace.
 */
export async function openJobStore(
  config: TendConfig,
  secret: SecretSource,
  client: cassandra.Client,
): Promise<JobStore> {
  if (config.lease.backend === 'consul') {
    return new ConsulJobStore(new ConsulLeaseBackend(await consulSettings(config, secret)).kv());
  }
  return new CassandraJobStore(client, config.cassandra.keyspace);
}

async function topologyOf(client: cassandra.Client, config: TendConfig): Promise<ClusterTopology> {
  return readLocalTopology(client, config);
}

export async function startJob(
  client: cassandra.Client,
  config: TendConfig,
  store: JobStore,
  options: StartJobOptions,
  now = Date.now(),
): Promise<JobView> {
  const topology = await topologyOf(client, config);
  if (options.keyspace !== undefined) {
    const info = topology.keyspaceInfo[options.keyspace];
    if (!info)
      throw new UsageError(`keyspace ${options.keyspace} does not exist (or is a system keyspace or tend's own)`);
    if (options.table !== undefined && !info.tables.includes(options.table)) {
      throw new UsageError(`table ${options.keyspace}.${options.table} does not exist`);
    }
  } else if (options.operation === 'repair') {
    throw new UsageError('a repair job needs a KEYSPACE (a primary-range repair of every keyspace is not offered)');
  }
  if (options.datacenter !== undefined && !topology.nodes.some((n) => n.datacenter === options.datacenter)) {
    throw new UsageError(
      `--datacenter ${options.datacenter}: no such datacenter (the cluster has ${[...new Set(topology.nodes.map((n) => n.datacenter))].sort().join(', ')})`,
    );
  }
  // The step runs inside a tick, whose watchdog allows repair.taskTimeout for one task: a step gets no more.
  const stepTimeoutMs = Math.min(options.stepTimeoutMs ?? config.repair.taskTimeout, config.repair.taskTimeout);
  const job: MaintenanceJob = {
    id: `${new Date(now).toISOString().slice(0, 10).replaceAll('-', '')}-${randomUUID().slice(0, 8)}`,
    operation: options.operation,
    keyspace: options.keyspace,
    table: options.table,
    datacenter: options.datacenter,
    concurrency: options.concurrency,
    concurrencyScope: options.concurrencyScope,
    // Three missed heartbeats of a step (renewed every JOB_HEARTBEAT_MS) mean its process is gone.
    staleAfterMs: 3 * JOB_HEARTBEAT_MS + 15_000,
    stepTimeoutMs,
    maxAttempts: 2,
    createdAt: now,
    createdBy: actor(config),
    ...(options.window !== undefined ? { window: options.window } : {}),
    ...(options.includeAllSSTables ? { includeAllSSTables: true } : {}),
  };
  const steps = initialSteps(job, topology.nodes);
  await store.create(job, steps);
  return { job, phase: 'active', steps };
}

/** How often a running step renews its heartbeat and looks for an abort. */
export const JOB_HEARTBEAT_MS = 5000;

export async function listJobs(store: JobStore): Promise<JobView[]> {
  const jobs = await store.jobs();
  return Promise.all(
    jobs.map(async (job) => {
      const steps = await store.steps(job.id);
      return { job, phase: jobPhase(job, steps), steps };
    }),
  );
}

/** One job (by id, else the newest); JobAttention (exit 6) is for the command to throw after printing. */
export async function jobStatus(store: JobStore, id?: string): Promise<JobView> {
  const job = id ? await store.job(id) : (await store.jobs())[0];
  if (!job) throw new UsageError(id ? `no job ${id}` : 'no job has been started (within the last 30 days)');
  const steps = await store.steps(job.id);
  return { job, phase: jobPhase(job, steps), steps };
}

/**
 * `view` with the progress of each running step, read from the step's own node (its system_views.sstable_tasks)
 * at once for all of them. A step whose node runs nothing of the job's operation right now has no progress (the
 * operation waits for a compaction thread, is between tables, or is a repair); a node that does not answer leaves
 * the reason instead, and the status is still shown.
 */
export async function withStepProgress(
  view: JobView,
  tasksOf: (address: string) => Promise<SSTableTask[]>,
): Promise<JobView> {
  if (view.job.operation === 'repair') return view;
  const steps = await Promise.all(
    view.steps.map(async (step): Promise<StepView> => {
      if (step.state !== 'running') return step;
      try {
        const progress = stepProgress(view.job, await tasksOf(step.address));
        return progress ? { ...step, progress } : step;
      } catch (error) {
        return { ...step, progressUnknown: (error as Error).message };
      }
    }),
  );
  return { ...view, steps };
}

/** `tend job status`: the job, with the progress of its running steps read from their nodes. */
export async function jobStatusWithProgress(
  config: TendConfig,
  secret: SecretSource,
  client: cassandra.Client,
  id?: string,
): Promise<JobView> {
  const view = await jobStatus(await openJobStore(config, secret, client), id);
  if (!view.steps.some((s) => s.state === 'running')) return view;
  // Each running step's node is asked itself: sstable_tasks is node-local, and the node may be in another DC.
  const pinned = await openPinnedSessions(config, secret);
  try {
    return await withStepProgress(view, async (address) => readSSTableTasks(await pinned.clientFor(address)));
  } finally {
    await pinned.close();
  }
}

/**
 * The job steps for `history show --jobs`: every job kept (a month), its steps that started (or were skipped)
 * since `since`, in `scope`.
 */
export async function jobHistory(
  store: JobStore,
  since: number,
  scope?: { keyspace: string; table?: string | undefined },
): Promise<JobStepHistoryRow[]> {
  const jobs = await store.jobs();
  const withSteps = await Promise.all(jobs.map(async (job) => ({ job, steps: await store.steps(job.id) })));
  return jobStepHistory(withSteps, since, scope);
}

/** The exit a status means: steps failed or skipped because a node was down. */
export function attentionOf(view: JobView): JobAttention | undefined {
  const bad = stepsNeedingAttention([...view.steps]);
  if (bad.length === 0) return undefined;
  return new JobAttention(
    `job ${view.job.id}: ${bad.map((s) => `${s.address} ${s.state} (${s.message ?? 'no reason recorded'})`).join('; ')}`,
  );
}

export async function abortJob(store: JobStore, config: TendConfig, id: string, now = Date.now()) {
  if (!(await store.abort(id, actor(config), now))) throw new UsageError(`no job ${id}`);
  const view = await jobStatus(store, id);
  return { ...view, abortedBy: actor(config) };
}

export interface StepRunReport {
  /** ran: this node ran its step; idle: no job has a step for this node now (see reason). */
  readonly result: 'ran' | 'idle' | 'lease_held_elsewhere';
  readonly jobId?: string;
  readonly operation?: MaintenanceOperation;
  readonly outcome?: MaintenanceOutcome['status'];
  readonly message: string;
  readonly startedAt?: number;
  readonly finishedAt?: number;
  readonly error?: TendError | undefined;
}

export interface StepPorts {
  readonly store: () => Promise<JobStore>;
  /** `warn`: the step's warnings (the tick's log); `node`: the step's node, whose executor runs it. */
  readonly runner: (warn: (message: string) => void, node: StepNode) => Promise<MaintenanceRunner>;
  readonly leaseBackend: () => Promise<LeaseBackend>;
  readonly now: () => number;
  /** Which of these addresses are down now (the driver's view, then a connect to the native port). */
  readonly down: (addresses: readonly string[]) => Promise<string[]>;
  /**
   * Why `step`'s node must not start it now: it already runs the job's operation (core operationRunningOnNode), or
   * a repair for a repair step. Undefined: it may start (also when the node could not be asked; absent: not asked).
   */
  readonly busy?: ((job: MaintenanceJob, step: MaintenanceStep) => Promise<string | undefined>) | undefined;
  /** Who claims steps and holds the nodes' leases: node.name (else the host name), or a group's nodes.instance. */
  readonly holder?: string | undefined;
}

export function defaultStepPorts(
  config: TendConfig,
  secret: SecretSource,
  client: cassandra.Client,
  out?: Pick<Output, 'warn'>,
  nodes?: readonly NodeInfo[],
): StepPorts {
  return {
    store: () => openJobStore(config, secret, client),
    runner: (warn) => maintenanceRunner(config, secret, warn),
    leaseBackend: () => openLeaseBackend(config, secret, async () => client),
    now: Date.now,
    down: (addresses) => downAmong(client, addresses),
    ...(out && nodes ? { busy: nodeBusy(config, secret, client, out, nodes) } : {}),
  };
}

/** The configured executor's runner of job operations (executor.* says which node it reaches). */
export async function maintenanceRunner(
  config: TendConfig,
  secret: SecretSource,
  warn: (message: string) => void,
): Promise<MaintenanceRunner> {
  const executor = await openExecutor(config, secret);
  if (config.executor.type === 'jolokia') {
    const settings = await jolokiaSettings(config, secret);
    return new JolokiaMaintenance(
      (timeoutMs) => new JolokiaClient({ ...settings, requestTimeoutMs: timeoutMs }),
      executor,
      warn,
    );
  }
  return new NodetoolMaintenance(await nodetoolSettings(config), executor);
}

/**
 * The check before a step starts: what its node runs now, read through a session pinned to it (sstable_tasks and
 * the repair tables are node-local). A node that does not answer does not hold the step back: the operation's own
 * call will meet the same node, and a job must not wait forever on a virtual table.
 */
export function nodeBusy(
  config: TendConfig,
  secret: SecretSource,
  client: cassandra.Client,
  out: Pick<Output, 'warn'>,
  nodes: readonly NodeInfo[],
): (job: MaintenanceJob, step: MaintenanceStep) => Promise<string | undefined> {
  return async (job, step) => {
    const pinned = await openPinnedSessions(config, secret);
    try {
      if (job.operation === 'repair') {
        const reports = await readRepairActivity(client, [step.address], { pinned });
        const verdict = runningRepairVerdict({
          replicas: [step.address],
          reports,
          nodes,
          now: await clusterNow(client),
        });
        for (const { address, error } of verdict.unchecked) {
          out.warn(`job ${job.id}: running repairs on ${address} not checked before its step: ${error}`);
        }
        return verdict.start ? undefined : verdict.reason;
      }
      return operationRunningOnNode(job, step, await readSSTableTasks(await pinned.clientFor(step.address)));
    } catch (error) {
      out.warn(`job ${job.id}: what ${step.address} runs was not read before its step: ${(error as Error).message}`);
      return undefined;
    } finally {
      await pinned.close().catch(() => undefined);
    }
  };
}

/**
 * This node's step of the oldest active job whose turn it is, run to its end (the tick and `job run`). Settles
 * what every node would settle on the way (stale steps, nodes down at their turn). Never throws for the step's own
 * failure: that is in the report (its `error` is RepairFailed-like, exit 6).
 */
export async function runJobStep(
  deps: { config: TendConfig; out: Output; signal: AbortSignal },
  topology: Pick<ClusterTopology, 'nodes' | 'localHostId'>,
  ports: StepPorts,
): Promise<StepRunReport> {
  const { ran, idle } = await runTurnSteps(deps, topology.nodes, [topology.localHostId], ports);
  return ran[0] ?? idle;
}

/**
 * Steps of `hostIds`' nodes whose turn it is, in the oldest active job where any of them has its turn (core
 * groupTurnDecision; one node: its own tick's turnDecision), all run at once to their ends, each through its own
 * node's runner and under its own node's leases. A step whose node already runs the operation waits (core
 * operationRunningOnNode) and keeps its turn: later jobs are not looked at meanwhile. `idle` says why nothing ran.
 */
export async function runTurnSteps(
  deps: { config: TendConfig; out: Output; signal: AbortSignal },
  nodes: readonly NodeInfo[],
  hostIds: readonly string[],
  ports: StepPorts,
): Promise<{ ran: StepRunReport[]; idle: StepRunReport }> {
  const { out } = deps;
  const store = await ports.store();
  const active = (await store.jobs()).filter((j) => j.abortedAt === undefined && j.finishedAt === undefined).reverse();
  if (active.length === 0) return { ran: [], idle: { result: 'idle', message: 'no active job' } };
  const down = new Set(await ports.down(nodes.map((n) => n.address)));
  const reasons: string[] = [];
  for (const job of active) {
    const steps = await store.steps(job.id);
    if (jobPhase(job, steps) === 'done') {
      await store.markFinished(job.id, ports.now());
      continue;
    }
    const decision = groupTurnDecision(job, steps, hostIds, down, ports.now());
    for (const t of decision.transitions) {
      if (await store.apply(job.id, t, ports.now())) out.warn(`job ${job.id}: ${t.hostId} ${t.to}: ${t.message}`);
    }
    if (decision.run.length === 0) {
      reasons.push(`job ${job.id}: ${decision.reason}`);
      continue;
    }
    const waiting: string[] = [];
    const starting: MaintenanceStep[] = [];
    for (const step of decision.run) {
      const busy = await ports.busy?.(job, step);
      if (busy === undefined) {
        starting.push(step);
        continue;
      }
      const message = `waits: ${busy}`;
      // Said on the step, so that `job status` shows why it has not started; the LWT applies only to the step as read.
      await store.apply(
        job.id,
        { hostId: step.hostId, from: 'pending', fromAttempt: step.attempt, to: 'pending', message },
        ports.now(),
      );
      out.info(`job ${job.id}: ${message}`);
      waiting.push(`job ${job.id}: ${message}`);
    }
    const settled = await Promise.allSettled(starting.map((step) => runClaimedStep(deps, store, job, step, ports)));
    const thrown = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (thrown) throw thrown.reason;
    const ran = settled.map((r) => (r as PromiseFulfilledResult<StepRunReport>).value);
    return { ran, idle: { result: 'idle', jobId: job.id, message: waiting.join('; ') } };
  }
  return { ran: [], idle: { result: 'idle', message: reasons.join('; ') || 'no active job' } };
}

/**
 * A group tick's job steps (`nodes:`): the covered nodes' steps whose turn it is, then, when they have ended, the
 * next turn, until no covered node has one or `startDeadline` (schedule.maxDuration) has passed. A group covering a
 * whole cluster thus carries a cleanup through every node, one at a time, in one tick, where per-node timers take a
 * timer period per node; each step still runs under its own node's leases and within its step timeout, so the tick
 * ends within the bound of a repair batch (maxDuration, then at most repair.taskTimeout).
 */
export async function runGroupJobSteps(
  deps: { config: TendConfig; out: Output; signal: AbortSignal },
  nodes: readonly NodeInfo[],
  covered: readonly Pick<NodeInfo, 'hostId'>[],
  ports: StepPorts,
  startDeadline: number,
): Promise<StepRunReport[]> {
  const reports: StepRunReport[] = [];
  while (!deps.signal.aborted && ports.now() < startDeadline) {
    const { ran } = await runTurnSteps(
      deps,
      nodes,
      covered.map((n) => n.hostId),
      ports,
    );
    reports.push(...ran);
    if (!ran.some((r) => r.result === 'ran')) break;
  }
  return reports;
}

async function runClaimedStep(
  deps: { config: TendConfig; out: Output; signal: AbortSignal },
  store: JobStore,
  job: StoredJob,
  step: MaintenanceStep,
  ports: StepPorts,
): Promise<StepRunReport> {
  const { config, out } = deps;
  const holder = { name: ports.holder ?? actor(config), host: hostname() };
  const startedAt = ports.now();
  if (!(await store.claim(job.id, step, holder.name, startedAt))) {
    return { result: 'idle', jobId: job.id, message: `job ${job.id}: another process claimed this step first` };
  }
  const attempt = step.attempt + 1;
  const backend = await ports.leaseBackend();
  try {
    // Every repair slot of this node: no tend repair that involves it (lease.scope node) starts during the step.
    const slots = Array.from({ length: config.lease.perResource }, (_, i) => `node/${step.address}/slot-${i}`);
    const claim = await acquireLeases(backend, [{ name: `node/${step.address}`, slots }], {
      holder,
      ttlMs: config.lease.ttl,
      announcementTtlMs: config.lease.ttl,
      metadata: { job: job.id, operation: job.operation },
    });
    let leases = claim.acquired ? claim.leases : [];
    for (let i = 1; claim.acquired && i < slots.length; i++) {
      const more = await acquireLeases(backend, [{ name: `node/${step.address}`, slots: slots.slice(i) }], {
        holder,
        ttlMs: config.lease.ttl,
        announcementTtlMs: config.lease.ttl,
        metadata: { job: job.id, operation: job.operation },
      });
      if (more.acquired) leases = [...leases, ...more.leases];
    }
    if (!claim.acquired || leases.length < slots.length) {
      await Promise.all(leases.map((l) => backend.release(l).catch(() => undefined)));
      await store.finish(
        job.id,
        step.hostId,
        attempt,
        'pending',
        'lease held elsewhere; retried next tick',
        ports.now(),
      );
      return {
        result: 'lease_held_elsewhere',
        jobId: job.id,
        message: `job ${job.id}: a repair lease of ${step.address} is held; the step waits for the next tick`,
      };
    }
    out.info(`job ${job.id}: ${job.operation} on ${step.address} started (attempt ${attempt})`);
    const runner = await ports.runner((message) => out.warn(`job ${job.id}: ${message}`), step);
    const outcome = await withLeases(
      backend,
      leases,
      { renewEveryMs: config.lease.renewEvery, signal: deps.signal },
      (leaseSignal) => watchedRun(store, job, step.hostId, attempt, runner, leaseSignal, ports),
    );
    const finishedAt = ports.now();
    const state = outcome.status === 'done' ? 'done' : 'failed';
    const stopped = outcome.serverStop
      ? ` (server stop ${outcome.serverStop.error ? `failed: ${outcome.serverStop.error}` : 'requested'})`
      : '';
    const message = `${outcome.status}: ${outcome.message}${stopped}`;
    await store.finish(job.id, step.hostId, attempt, state, message, finishedAt);
    await writeJobMetrics(config, job, step, { status: outcome.status, startedAt, finishedAt }, out);
    const steps = await store.steps(job.id);
    if (jobPhase(job, steps) === 'done') await store.markFinished(job.id, finishedAt);
    (state === 'done' ? out.info.bind(out) : out.warn.bind(out))(
      `job ${job.id}: ${job.operation} on ${step.address} ${message}`,
    );
    return {
      result: 'ran',
      jobId: job.id,
      operation: job.operation,
      outcome: outcome.status,
      message: `job ${job.id}: ${job.operation} on ${step.address} ${message}`,
      startedAt,
      finishedAt,
      ...(state === 'failed' ? { error: new JobAttention(`job ${job.id}: step on ${step.address} ${message}`) } : {}),
    };
  } catch (error) {
    // The step is ours: hand it back as failed with the reason, so it does not wait for staleness.
    await store
      .finish(job.id, step.hostId, attempt, 'failed', `error: ${(error as Error).message}`, ports.now())
      .catch(() => undefined);
    throw error;
  } finally {
    await backend.close().catch(() => undefined);
  }
}

/** Runs the operation while renewing the step's heartbeat and watching for an abort of the job. */
async function watchedRun(
  store: JobStore,
  job: StoredJob,
  hostId: string,
  attempt: number,
  runner: MaintenanceRunner,
  signal: AbortSignal,
  ports: StepPorts,
): Promise<MaintenanceOutcome> {
  const stop = new AbortController();
  const onSignal = () => stop.abort(signal.reason);
  signal.addEventListener('abort', onSignal, { once: true });
  let timer: { clear(): void } | undefined;
  let stopped = false;
  const beat = async () => {
    try {
      const mine = await store.heartbeat(job.id, hostId, attempt, ports.now());
      const current = await store.job(job.id);
      if (!mine) stop.abort(new Error('the step was settled by another node'));
      else if (current?.abortedAt !== undefined) stop.abort(new Error(`aborted by ${current.abortedBy ?? '?'}`));
    } catch {
      // A missed heartbeat is survivable: three in a row make the step stale for the others.
    }
    if (!stopped && !stop.signal.aborted) timer = setLongTimeout(() => void beat(), JOB_HEARTBEAT_MS);
  };
  timer = setLongTimeout(() => void beat(), JOB_HEARTBEAT_MS);
  try {
    return await runner.run(
      {
        operation: job.operation,
        keyspace: job.keyspace,
        table: job.table,
        includeAllSSTables: job.includeAllSSTables,
      },
      { timeoutMs: job.stepTimeoutMs, signal: stop.signal },
    );
  } finally {
    stopped = true;
    timer?.clear();
    signal.removeEventListener('abort', onSignal);
  }
}

/** tend-jobs-ADDRESS.prom next to the tick's file: the last step the node ran, by operation and outcome. */
async function writeJobMetrics(
  config: TendConfig,
  job: MaintenanceJob,
  step: Pick<MaintenanceStep, 'address'>,
  outcome: { status: string; startedAt: number; finishedAt: number },
  out: Output,
) {
  const directory = config.metrics.textfileDirectory;
  if (!directory) return;
  const text = await renderJobStepMetrics({
    node: step.address,
    operation: job.operation,
    outcome: outcome.status,
    startedAt: outcome.startedAt,
    finishedAt: outcome.finishedAt,
  });
  await writeTextfileAtomically(join(directory, jobMetricsFileName(step.address)), text).catch((error: unknown) =>
    out.warn(`job metrics not written: ${(error as Error).message}`),
  );
}

/** `tend job run`: this node's step now, outside the timer. */
export async function runJobStepNow(
  deps: { config: TendConfig; secret: SecretSource; out: Output; signal: AbortSignal },
  client: cassandra.Client,
): Promise<StepRunReport> {
  const topology = await topologyOf(client, deps.config);
  return runJobStep(deps, topology, defaultStepPorts(deps.config, deps.secret, client, deps.out, topology.nodes));
}
