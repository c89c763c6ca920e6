/**
 * `tend schedule tick` with `nodes:` (issue 18): one tick acting for a group of nodes from one host.
 *
 *   topology (read once) → the covered nodes (core coveredNodes) → a plan per node (the per-node tick's planner and
 *   inputs, the range-level history read once for all of them) → one batch (core mergeNodePlans: priority order,
 *   each node's own order kept, a range two covered nodes share repaired once) → runs of consecutive tasks of one
 *   node, each through that node's executor (its Jolokia agent or JMX port) under the same leases, liveness gate and
 *   checks as a per-node tick (src/app/batch.ts) → one report and metrics file.
 *
 * `schedule.maxTasks` and `schedule.maxDuration` bound the whole tick, not each node. Tasks run one at a time, or
 * with `schedule.parallelTasks` above 1 up to that many at once when their replica sets are disjoint (core
 * tasksToStart), each a batch of its own with its own leases. The lease holder is the instance name (nodes.instance);
 * each repair's history names its node as coordinator, as that node's own tick would, so per-node and group ticks
 * read each other's history.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type cassandra from 'cassandra-driver';
import {
  buildRing,
  coveredNodes,
  endpointFor,
  inputAfterRepairs,
  mergeNodePlans,
  tasksToStart,
  plan as computePlan,
  tableKey,
  type NodeEndpoint,
  type NodeInfo,
  type NodeTask,
  type Plan,
  type RepairTask,
  type TableHistory,
  type TableJob,
} from '../core/index.js';
import { readTopology, seenFrom, type ClusterTopology } from '../cluster/topology.js';
import type { NodesConfig, TendConfig } from '../config/schema.js';
import { ConfigError, type TendError } from '../errors.js';
import { openExecutor, openRepairedStateReader } from './adapters.js';
import { filterIncrementalTasks } from './repair-incremental.js';
import { currentPlan } from './schedule.js';
import { historyStartWriter, historyWriter } from './record-outcome.js';
import { runBatch, sharedBatchState, type BatchContext, type BatchResult, type SharedBatchState } from './batch.js';
import type { ReplicaChecks } from './replica-checks.js';
import { configuredCoverageTtl, coverageRecorder, type TickCoverage } from './coverage.js';
import {
  alarmsOf,
  defaultPorts,
  finishReport,
  idleVerdict,
  writeMetricsQuietly,
  type TaskReport,
  type TickDeps,
  type TickOptions,
  type TickPorts,
  type TickReport,
} from './tick.js';
import type { Executor, RepairedStateReader } from '../repair/index.js';
import {
  defaultStepPorts,
  maintenanceRunner,
  runGroupJobSteps,
  runTurnSteps,
  type StepPorts,
  type StepRunReport,
} from './maintenance.js';

/** The configuration one covered node's executor is opened with: executor.* pointed at that node's endpoint. */
export function configForNode(config: TendConfig, endpoint: NodeEndpoint): TendConfig {
  return {
    ...config,
    executor: {
      ...config.executor,
      jolokia: { ...config.executor.jolokia, url: endpoint.jolokiaUrl },
      nodetool: { ...config.executor.nodetool, host: endpoint.nodetoolHost, port: endpoint.nodetoolPort },
    },
  };
}

/** Where each covered node's executor answers. */
export function nodeEndpoint(config: TendConfig, nodes: NodesConfig, node: NodeInfo): NodeEndpoint {
  return endpointFor(node, nodes, {
    jolokiaUrl: config.executor.jolokia.url,
    nodetoolPort: config.executor.nodetool.port,
  });
}

/** What a group tick reaches per node; tests may pass others. */
export interface GroupPorts {
  readonly executor: (node: NodeInfo) => Promise<Executor>;
  readonly repairedState: (node: NodeInfo) => Promise<RepairedStateReader>;
  /**
   * The covered nodes' steps of cluster-wide jobs, turn after turn until none is due or `startDeadline` passed
   * (src/app/maintenance.ts runGroupJobSteps); undefined: jobs are not looked at.
   */
  readonly jobSteps:
    | ((
        client: cassandra.Client,
        topology: ClusterTopology,
        covered: readonly NodeInfo[],
        startDeadline: number,
      ) => Promise<StepRunReport[]>)
    | undefined;
}

/**
 * The step ports of a group tick: steps claimed and leases held under the instance name, each step run through its
 * own node's executor (executor.* pointed at the node, as its repairs are).
 */
export function groupStepPorts(
  deps: TickDeps,
  client: cassandra.Client,
  nodes: NodesConfig,
  topology: ClusterTopology,
): StepPorts {
  const { config, secret, out } = deps;
  return {
    ...defaultStepPorts(config, secret, client, out, topology.nodes),
    holder: nodes.instance,
    runner: (warn, step) => {
      const node = topology.nodes.find((n) => n.hostId === step.hostId);
      if (!node) throw new Error(`job step of ${step.address}: no such node in the ring`);
      return maintenanceRunner(configForNode(config, nodeEndpoint(config, nodes, node)), secret, warn);
    },
  };
}

interface NodePlan {
  readonly node: NodeInfo;
  readonly topology: ClusterTopology;
  readonly plan: Plan;
  readonly input: Parameters<typeof computePlan>[0] | undefined;
  /** Its tasks to run (incremental ones the node reports fully repaired left out). */
  readonly tasks: readonly RepairTask[];
}

/** The covered nodes of `topology`; ConfigError (exit 3) when the scope matches none. */
export function resolveGroup(topology: ClusterTopology, nodes: NodesConfig, warn: (message: string) => void) {
  const covered = coveredNodes(topology.nodes, nodes);
  for (const entry of covered.unmatched) warn(`nodes: ${entry} matches no node of the cluster`);
  for (const entry of covered.listedTwice) warn(`nodes.hosts: ${entry} names a node already listed`);
  if (covered.nodes.length === 0) {
    throw new ConfigError(`nodes: matches no node of the cluster (instance ${nodes.instance})`, {
      problems: [
        `the cluster's nodes: ${topology.nodes.map((n) => `${n.address} (${n.datacenter}:${n.rack}, ${n.hostId})`).join('; ')}`,
      ],
    });
  }
  return covered.nodes;
}

/** Reads the topology once, for any node (each plan re-centres it on its node). */
export function readGroupTopology(client: cassandra.Client, config: TendConfig): Promise<ClusterTopology> {
  return readTopology(client, { tendKeyspace: config.cassandra.keyspace, localNode: { any: true } });
}

/** The job of each table at its worst covered node (highest alarm, then least recently repaired): for the metrics. */
export function worstJobs(plans: readonly Plan[]): TableJob[] {
  const rank = { none: 0, warn: 1, error: 2 } as const;
  const worst = new Map<string, TableJob>();
  for (const plan of plans) {
    for (const job of plan.jobs) {
      const key = tableKey(job.keyspace, job.table);
      const seen = worst.get(key);
      const older = (a: number | null, b: number | null) => (a ?? -Infinity) < (b ?? -Infinity);
      if (
        !seen ||
        rank[job.alarm] > rank[seen.alarm] ||
        (rank[job.alarm] === rank[seen.alarm] && older(job.lastRepairedAt, seen.lastRepairedAt))
      ) {
        worst.set(key, job);
      }
    }
  }
  return [...worst.values()];
}

/** Runs one tick for every node `config.nodes` covers. Same contract as runTick (src/app/tick.ts). */
export async function runGroupTick(
  deps: TickDeps,
  client: cassandra.Client,
  options: TickOptions,
  portsOverride: Partial<TickPorts> & Partial<GroupPorts> = {},
): Promise<{ report: TickReport; plan: Plan }> {
  const { config, out } = deps;
  const nodes = config.nodes!;
  const tickId = randomUUID();
  const ports: TickPorts = { ...defaultPorts(deps, () => nodes.instance, tickId), ...portsOverride };
  const group = groupPorts(deps, nodes, portsOverride);
  const startedAt = ports.now();
  const maxTasks = options.maxTasks ?? config.schedule.maxTasks;
  const topology = await readGroupTopology(client, config);
  const covered = resolveGroup(topology, nodes, (m) => out.warn(m));

  const { planned, skipped } = await planNodes(deps, client, group, topology, covered, maxTasks);

  const merged = mergeNodePlans(
    planned.map((p) => ({ hostId: p.node.hostId, tasks: p.tasks })),
    maxTasks,
  );
  const base: Omit<TickReport, 'result' | 'summary' | 'tasks' | 'leases' | 'durationMs' | 'alarms'> & {
    coverage?: TickReport['coverage'];
  } = {
    tickId,
    node: {
      name: nodes.instance,
      address: covered.map((n) => n.address).join(','),
      datacenter: [...new Set(covered.map((n) => n.datacenter))].join(','),
    },
    plannedTasks: merged.length,
    // One plan per covered node, once: a group tick does not plan again after refused leases (schedule.replan).
    rounds: 1,
    skipped,
    startedAt,
  };
  const firstPlan = planned[0]!.plan;
  // The coverage record: every covered node, claimed under the instance name (src/core/coverage.ts); other instances
  // claiming one of them are warned about.
  const recordCoverage = groupCoverage(
    deps,
    client,
    ports,
    covered,
    topology,
    () => firstPlan.now + (ports.now() - startedAt),
  );
  const claimed = await recordCoverage();
  base.coverage = claimed;
  // Jobs take precedence, as in a node's own tick (README, Jobs): a tick that ran job steps runs no repair task.
  const startDeadline = startedAt + (options.maxDurationMs ?? config.schedule.maxDuration);
  const steps = (await group.jobSteps?.(client, topology, covered, startDeadline)) ?? [];
  const ran = steps.filter((s) => s.result === 'ran');
  const alarms = () => alarmsOfAll(planned.map((p) => p.plan));
  if (ran.length > 0) {
    const error = ran.find((s) => s.error)?.error;
    const summary = ran.map((s) => s.message).join('; ');
    const result = error ? ('failed' as const) : ('job_step' as const);
    const report = { ...base, result, summary, alarms: alarms(), tasks: [], leases: {}, error };
    return endWithoutBatch(ports, out, planned, { ...report, durationMs: ports.now() - startedAt });
  }
  if (merged.length === 0) {
    const idle = planned.map((p) => idleVerdict(p.plan)).find((v) => v.result !== 'nothing_due') ?? {
      result: 'nothing_due' as const,
      summary: `nothing due on ${covered.length} node(s): ${firstPlan.jobs.length} table(s) repaired within their interval`,
    };
    const report = { ...base, ...idle, alarms: alarms(), tasks: [], leases: {} };
    return endWithoutBatch(ports, out, planned, { ...report, durationMs: ports.now() - startedAt });
  }

  const run = config.schedule.parallelTasks > 1 ? runParallel : runRuns;
  const batch = await run(deps, client, ports, group, planned, merged, {
    tickId,
    holder: { name: nodes.instance, host: hostname() },
    startDeadline,
  });
  // Refreshed at the end: a long tick must not let its own claims lapse (the TTL rule counts on it).
  const refreshed = await recordCoverage();
  base.coverage = refreshed ?? claimed;
  // The state after the batch, per node (the pure planner again, no reads).
  const after = planned.map((p) =>
    p.input && batch.repaired.length > 0
      ? computePlan(inputAfterRepairs(p.input, batch.repaired, p.plan.now + (ports.now() - startedAt)))
      : p.plan,
  );
  const report = finishReport(
    { ...base, skipped: [...skipped, ...batch.skipped], alarms: alarmsOfAll(after) },
    batch.tasks,
    batch.leases,
    ports.now() - startedAt,
    batch.error,
  );
  await writeMetricsQuietly(ports, report, { ...after[0]!, jobs: worstJobs(after) }, out);
  await ports.hooks.tickEnded(report);
  return { report, plan: firstPlan };
}

/**
 * `tend job run` with `nodes:`: the covered nodes' steps whose turn it is now, one turn (several steps at once with
 * a job's --concurrency above 1), as a node's own `job run` runs its one step; a group tick goes on to the next turns.
 */
export async function runGroupJobStepsNow(deps: TickDeps, client: cassandra.Client): Promise<StepRunReport> {
  const nodes = deps.config.nodes!;
  const topology = await readGroupTopology(client, deps.config);
  const covered = resolveGroup(topology, nodes, (m) => deps.out.warn(m));
  const ports = groupStepPorts(deps, client, nodes, topology);
  const { ran, idle } = await runTurnSteps(
    deps,
    topology.nodes,
    covered.map((n) => n.hostId),
    ports,
  );
  if (ran.length <= 1) return ran[0] ?? idle;
  const first = ran.find((r) => r.result === 'ran') ?? ran[0]!;
  return {
    ...first,
    message: ran.map((r) => r.message).join('; '),
    error: ran.find((r) => r.error)?.error,
  };
}

/** The per-node ports of a group tick: each covered node's executor, repaired state and job steps. */
function groupPorts(deps: TickDeps, nodes: NodesConfig, override: Partial<GroupPorts>): GroupPorts {
  const { config } = deps;
  return {
    executor: (node) => openExecutor(configForNode(config, nodeEndpoint(config, nodes, node)), deps.secret),
    repairedState: (node) =>
      openRepairedStateReader(configForNode(config, nodeEndpoint(config, nodes, node)), deps.secret),
    jobSteps: (session, topology, covered, startDeadline) =>
      runGroupJobSteps(deps, topology.nodes, covered, groupStepPorts(deps, session, nodes, topology), startDeadline),
    ...pick(override),
  };
}

/** A tick that ran no repair batch (idle, or job steps): its metrics and tickEnded hook, then its result. */
async function endWithoutBatch(
  ports: TickPorts,
  out: TickDeps['out'],
  planned: readonly NodePlan[],
  report: TickReport,
): Promise<{ report: TickReport; plan: Plan }> {
  const firstPlan = planned[0]!.plan;
  await writeMetricsQuietly(ports, report, { ...firstPlan, jobs: worstJobs(planned.map((p) => p.plan)) }, out);
  await ports.hooks.tickEnded(report);
  return { report, plan: firstPlan };
}

/** Claims the covered nodes under the instance name, at `now()` (Cassandra's clock); a no-op without the port. */
function groupCoverage(
  deps: TickDeps,
  client: cassandra.Client,
  ports: TickPorts,
  covered: readonly NodeInfo[],
  topology: ClusterTopology,
  now: () => number,
): () => Promise<TickCoverage | undefined> {
  const { config, out } = deps;
  const open = ports.coverage;
  if (!open) return async () => undefined;
  const record = coverageRecorder(
    () => open(client),
    { instance: config.nodes!.instance, instanceHost: hostname(), kind: 'group' },
    (message) => out.warn(message),
  );
  return () => record(covered, topology.nodes, { now: now(), ttlMs: configuredCoverageTtl(config) });
}

/** A plan per covered node over one topology and one history read; each node's summaries are its own. */
async function planNodes(
  deps: TickDeps,
  client: cassandra.Client,
  group: GroupPorts,
  topology: ClusterTopology,
  covered: readonly NodeInfo[],
  maxTasks: number,
): Promise<{ planned: NodePlan[]; skipped: { table: string; reason: string }[] }> {
  const { config, out } = deps;
  const history: Record<string, TableHistory> = {};
  const ring = buildRing(topology.nodes);
  const warnings = new Set<string>();
  const planned: NodePlan[] = [];
  const skipped: { table: string; reason: string }[] = [];
  for (const node of covered) {
    const view = seenFrom(topology, node);
    const { plan, context } = await currentPlan(client, config, {
      persistHistory: true,
      basis: 'summaries',
      limits: { maxTasks },
      concurrency: 32,
      topology: view,
      history,
      ring,
    });
    for (const warning of context.warnings) warnings.add(warning);
    for (const d of plan.deferred.filter((d) => d.code === 'replica_down')) {
      skipped.push({ table: `${d.keyspace}.${d.table}`, reason: `${node.address}: ${d.reason}` });
    }
    let tasks: readonly RepairTask[] = plan.tasks;
    if (tasks.some((t) => t.incremental)) {
      const filtered = await filterIncrementalTasks(tasks, await group.repairedState(node));
      for (const skip of filtered.skipped) {
        out.info(`skipped ${skip.keyspace}.${skip.table} on ${node.address}: ${skip.reason}`);
        skipped.push({ table: `${skip.keyspace}.${skip.table}`, reason: `${node.address}: ${skip.reason}` });
      }
      tasks = filtered.tasks;
    }
    planned.push({ node, topology: view, plan, input: context.input, tasks });
  }
  for (const warning of warnings) out.warn(warning);
  for (const skip of skipped.slice(0, 10)) out.warn(`skipped ${skip.table}: ${skip.reason}`);

  return { planned, skipped };
}

function pick(override: Partial<GroupPorts>): Partial<GroupPorts> {
  return {
    ...('jobSteps' in override ? { jobSteps: override.jobSteps } : {}),
    ...(override.executor ? { executor: override.executor } : {}),
    ...(override.repairedState ? { repairedState: override.repairedState } : {}),
  };
}

/** A table past its alarm on any covered node, once, at its worst node. */
function alarmsOfAll(plans: readonly Plan[]): TickReport['alarms'] {
  return alarmsOf({ ...plans[0]!, jobs: worstJobs(plans) });
}

/**
 * The merged batch, as runs of consecutive tasks of one node: each run is a per-node batch (src/app/batch.ts) with
 * that node's executor, coordinator and datacenter, under the tick's one deadline. A run that ends the batch (lease
 * lost, interrupted, a node unreachable) ends the tick.
 */
async function runRuns(
  deps: TickDeps,
  client: cassandra.Client,
  ports: TickPorts,
  group: GroupPorts,
  planned: readonly NodePlan[],
  merged: readonly NodeTask[],
  tick: { tickId: string; holder: { name: string; host: string }; startDeadline: number },
): Promise<{
  tasks: TaskReport[];
  leases: Record<string, number>;
  repaired: BatchResult['repaired'][number][];
  skipped: { table: string; reason: string }[];
  error?: TendError;
}> {
  const byHost = new Map(planned.map((p) => [p.node.hostId, p]));
  const result = {
    tasks: [] as TaskReport[],
    leases: {} as Record<string, number>,
    repaired: [] as BatchResult['repaired'][number][],
    skipped: [] as { table: string; reason: string }[],
    error: undefined as TendError | undefined,
  };
  for (let from = 0; from < merged.length;) {
    let to = from + 1;
    while (to < merged.length && merged[to]!.hostId === merged[from]!.hostId) to += 1;
    const { node, topology } = byHost.get(merged[from]!.hostId)!;
    const tasks = merged.slice(from, to).map((m) => m.task);
    from = to;
    // No covered node is this machine: its data directories cannot be statfs'd from here (the free-disk figure is
    // Cassandra's gossiped disk state only), so no address is local to the back-pressure checks.
    const checks = ports.replicaChecks?.(client, { ...topology, localAddress: '' });
    let batch: BatchResult;
    try {
      batch = await runBatch(
        tasks,
        await laneContext(deps, client, ports, node, tick, { executor: group.executor(node), checks }),
      );
    } finally {
      await checks?.close();
    }
    result.tasks.push(...batch.tasks.map((t) => ({ ...t, node: node.address })));
    addBatch(result, batch);
    if (batch.error) break;
  }
  return result;
}

type RunsResult = Awaited<ReturnType<typeof runRuns>>;

/** A batch's context for one covered node (a run of runRuns, a task of runParallel): its executor, coordinator, datacenter. */
async function laneContext(
  deps: TickDeps,
  client: cassandra.Client,
  ports: TickPorts,
  node: NodeInfo,
  tick: { tickId: string; holder: { name: string; host: string }; startDeadline: number },
  lane: { executor: Promise<Executor>; shared?: SharedBatchState; checks: Pick<ReplicaChecks, 'check'> | undefined },
): Promise<BatchContext> {
  const { config } = deps;
  const { checks } = lane;
  return {
    config,
    out: deps.out,
    signal: deps.signal,
    client,
    backend: await ports.leaseBackend(client),
    executor: await lane.executor,
    tickId: tick.tickId,
    holder: tick.holder,
    // `lease status` shows the instance, and the node it holds the lease for, beside the host.
    leaseMetadata: { instance: tick.holder.name, node: node.address },
    localDatacenter: node.datacenter,
    startDeadline: tick.startDeadline,
    now: ports.now,
    record: historyWriter(config.cassandra.keyspace, {
      coordinator: () => node.address,
      address: () => node.address,
      tickId: tick.tickId,
    }),
    // The task's start before its repair, and the operator's task_failed hook, as a per-node tick has them.
    recordStart: historyStartWriter(config.cassandra.keyspace, {
      coordinator: () => node.address,
      tickId: tick.tickId,
    }),
    onTaskEnd: (ended, outcome) => ports.hooks.taskEnded(ended, outcome),
    liveness: ports.liveness,
    ...(lane.shared ? { shared: lane.shared } : {}),
    ...(checks ? { replicaBusy: (t, finished) => checks.check(t, finished), localAddress: node.address } : {}),
  };
}

/**
 * schedule.parallelTasks > 1: the merged batch with up to that many tasks at once. Each time a task ends, the core
 * (tasksToStart) picks which waiting tasks start: never two on one replica, at most lease.slotsPerDatacenter per
 * datacenter in scope datacenter. Each task is a batch of its own (src/app/batch.ts): it claims its own leases and
 * releases them when it ends (no lease kept from one task to the next), runs through its node's executor, passes the
 * same start checks (maxDuration, interrupt, a replica down, a replica busy) and gets its own history record. The
 * batches share the replicas seen down and the repairs seen ending. An error that ends a batch (lease lost,
 * interrupted, a node unreachable) lets the running tasks end and starts no more; the report lists the tasks in the
 * merged order.
 */
async function runParallel(
  deps: TickDeps,
  client: cassandra.Client,
  ports: TickPorts,
  group: GroupPorts,
  planned: readonly NodePlan[],
  merged: readonly NodeTask[],
  tick: { tickId: string; holder: { name: string; host: string }; startDeadline: number },
): Promise<RunsResult> {
  const { config, out } = deps;
  const byHost = new Map(planned.map((p) => [p.node.hostId, p]));
  const executors = new Map<string, Promise<Executor>>();
  const executorOf = (node: NodeInfo) => {
    let executor = executors.get(node.hostId);
    if (!executor) executors.set(node.hostId, (executor = group.executor(node)));
    return executor;
  };
  // One set of checks for the tick (their sessions and agents opened once); no covered node is this machine.
  const checks = ports.replicaChecks?.(client, { ...planned[0]!.topology, localAddress: '' });
  const shared = sharedBatchState({ client, liveness: ports.liveness, out });
  const limits = {
    parallelTasks: config.schedule.parallelTasks,
    ...(config.lease.scope === 'datacenter' ? { slotsPerDatacenter: config.lease.slotsPerDatacenter } : {}),
  };
  const candidate = (order: number) => {
    const { hostId, task } = merged[order]!;
    return { replicas: task.replicaAddresses, datacenter: byHost.get(hostId)!.node.datacenter };
  };
  const result = {
    tasks: [] as TaskReport[],
    leases: {} as Record<string, number>,
    repaired: [] as BatchResult['repaired'][number][],
    skipped: [] as { table: string; reason: string }[],
    error: undefined as TendError | undefined,
  };
  const reports = new Map<number, TaskReport[]>();
  let waiting = merged.map((_, order) => order);
  // A lane that throws (its lease backend unreachable, a defect) is caught here, so that the others end before the
  // tick throws it.
  type Lane = { order: number; batch: BatchResult } | { order: number; thrown: unknown };
  const running = new Map<number, Promise<Lane>>();
  let thrown: { error: unknown } | undefined;
  const start = (order: number) => {
    const { node } = byHost.get(merged[order]!.hostId)!;
    running.set(
      order,
      laneContext(deps, client, ports, node, tick, { executor: executorOf(node), shared, checks })
        .then((ctx) => runBatch([merged[order]!.task], ctx))
        .then(
          (batch): Lane => ({ order, batch }),
          (error: unknown): Lane => ({ order, thrown: error }),
        ),
    );
  };
  try {
    let stopped = false;
    for (;;) {
      if (!stopped) {
        const starts = tasksToStart(waiting.map(candidate), [...running.keys()].map(candidate), limits).map(
          (index) => waiting[index]!,
        );
        waiting = waiting.filter((order) => !starts.includes(order));
        for (const order of starts) start(order);
      }
      if (running.size === 0) break;
      const lane = await Promise.race(running.values());
      running.delete(lane.order);
      if ('thrown' in lane) {
        thrown ??= { error: lane.thrown };
        stopped = true;
        continue;
      }
      const { order, batch } = lane;
      const { node } = byHost.get(merged[order]!.hostId)!;
      reports.set(
        order,
        batch.tasks.map((t) => ({ ...t, node: node.address })),
      );
      addBatch(result, batch);
      stopped ||= batch.error !== undefined;
      // Scope datacenter: a slot held elsewhere means every slot of that datacenter is (ours are counted by
      // tasksToStart); its waiting tasks would all be refused too. A per-node batch stops asking the same way.
      const refused = batch.tasks.some((t) => t.status === 'lease_held_elsewhere' || t.status === 'outranked');
      if (config.lease.scope === 'datacenter' && refused) {
        waiting = waiting.filter((o) => candidate(o).datacenter !== node.datacenter);
      }
    }
  } finally {
    await checks?.close();
  }
  if (thrown) throw thrown.error;
  for (const order of [...reports.keys()].sort((a, b) => a - b)) result.tasks.push(...reports.get(order)!);
  return result;
}

/** A parallel task's lease counts, repairs and skips into the tick's; its error, the first one, ends the tick. */
function addBatch(result: RunsResult, batch: BatchResult): void {
  for (const [key, count] of Object.entries(batch.leases)) result.leases[key] = (result.leases[key] ?? 0) + count;
  result.repaired.push(...batch.repaired);
  result.skipped.push(...batch.skipped);
  if (batch.error) result.error ??= batch.error;
}
