/**
 * The one place that owns the sequence of a batch: choose the next task, keep or change the leases, run it, record
 * it. The tick's batch (`runBatch`) and `tend repair table` (`runLeased` with one task) go through here, so an ad
 * hoc repair and a scheduled one are claimed, renewed, stopped and recorded the same way.
 *
 *   for each planned task not yet taken on, in plan order:
 *     may it start?          startBlock (src/core): interrupted, schedule.maxDuration, a replica went down
 *     claim                  announce + acquire its lease groups (acquireLeases), or report who holds them
 *     run under the leases   runLeased: the heartbeat renews them; the task's start is recorded (STARTED), then
 *                            runTask runs it; its outcome is recorded
 *                            while the next repair runs; chooseFollower (src/core) proposes the first pending task
 *                            the held leases cover (the same replicas or a subset), keepLeases decides whether it
 *                            runs on them; released in `finally`
 *     report                 one TaskReport per task, lease counts, the error that decides the exit code
 *
 * The announcements are read as each task starts, alongside its repair, so consecutive repairs follow without a
 * gap: a node that announces a higher priority gets the leases after the task running when it was seen, at most
 * one task later than a check between tasks would give them. A batch holds a replica it is not repairing only
 * while a task on a subset of the held replicas runs, and no other node has announced a higher priority on them.
 */
import type cassandra from 'cassandra-driver';
import {
  chooseFollower,
  chooseNextTask,
  fnv1a32,
  keepLeases,
  REPLICA_BLOCKS,
  startBlock,
  type RepairedTable,
  type RepairTask,
  type StartBlock,
} from '../core/index.js';
import type { TendConfig } from '../config/schema.js';
import { tableSettings } from '../config/tables.js';
import { Interrupted, LeaseLost, TendError } from '../errors.js';
import {
  acquireLeases,
  higherAnnouncement,
  leaseGroups,
  withLeases,
  type HeldLease,
  type LeaseBackend,
  type LeaseGroup,
  type LeaseRecord,
} from '../lease/index.js';
import {
  runTask,
  type Executor,
  type RepairOutcome,
  type RepairProgress,
  type RepairRequest,
  type TaskRun,
} from '../repair/index.js';
import type { Output } from '../output/output.js';
import type { TaskReport } from './tick.js';
import type { OwnRepair } from '../core/running-repairs.js';
import type { ReplicaBusy } from './replica-checks.js';

// ─── runLeased: one run of tasks under one set of leases ────────────────────────────────────────────────────────

export interface LeasedRunOptions<T extends RepairRequest> {
  readonly executor: Executor;
  readonly renewEveryMs: number;
  /** Each task's own timeout (per-table settings). */
  readonly timeoutFor: (request: T) => number;
  /** SIGINT/SIGTERM from main(). */
  readonly signal: AbortSignal;
  readonly out: Output;
  /**
   * Stores an outcome (with the id recordStart returned for it). Runs while the next task's repair runs; every
   * record ends before the leases are released.
   */
  readonly record: (outcome: RepairOutcome, request: T, startId?: string) => Promise<void>;
  /**
   * Records that the task starts, before its repair is sent: a task whose process dies mid-repair then shows as
   * STARTED in `history show`. A failure is logged and the repair still runs (its outcome gets rows of its own).
   */
  readonly recordStart?: (request: T) => Promise<string>;
  readonly now?: () => number;
  readonly onProgress?: (progress: RepairProgress) => void;
  /** Called before each task starts, and as it ends (its record may still be running). */
  readonly onTaskStart?: (request: T) => void;
  readonly onTaskEnd?: (request: T, outcome: RepairOutcome) => void;
  /** Which task may follow on the same leases; without it, the first task is the only one. */
  readonly follow?: Follow<T>;
}

/** What runLeased asks about the task after the current one, to decide with keepLeases whether it follows. */
export interface Follow<T> {
  /** The lease groups held, by name. */
  readonly held: readonly string[];
  /**
   * Started as `current` starts, alongside its repair: the task proposed to follow it, the lease groups it needs,
   * and whether another node's announcement outranks it (read only when the held leases cover it).
   */
  readonly look: (current: T) => Promise<{ task: T; groups: readonly string[]; outranked: boolean } | undefined>;
  /** After `current` ended: why the next task may not start now, if so. */
  readonly blocked: (next: T) => Promise<StartBlock | undefined>;
}

export interface LeasedRun<T extends RepairRequest> {
  /** One per task that was taken on, in order; `run` is absent for a task the interrupt kept from starting. */
  readonly results: ReadonlyArray<{ readonly request: T; readonly run?: TaskRun }>;
  /** The signal the tasks ran under fired (lease lost or interrupted). */
  readonly aborted: boolean;
  /** Set when a lease was lost: the task running then was stopped and recorded as aborted, and none followed. */
  readonly lost?: LeaseLost;
}

/**
 * Runs `first`, then each task `follow` lets follow, under one heartbeat: the leases are released in `finally`,
 * after the last task, a lost lease or an interrupt. A task that fails does not end the run (the next may
 * succeed); a lost lease, an interrupt or an unreachable node does. A lost lease is returned, not thrown, so the
 * caller still reports the aborted outcome that was recorded.
 */
export async function runLeased<T extends RepairRequest>(
  backend: LeaseBackend,
  leases: HeldLease[],
  first: T,
  options: LeasedRunOptions<T>,
): Promise<LeasedRun<T>> {
  const { out } = options;
  // Kept outside withLeases: on a lost lease it throws after the work ended, and the outcomes must survive.
  const results: Array<{ request: T; run?: TaskRun }> = [];
  let aborted = false;
  try {
    await withLeases(
      backend,
      leases,
      {
        renewEveryMs: options.renewEveryMs,
        signal: options.signal,
        onRenewError: (lease, error) =>
          out.warn(`lease renewal failed: ${(error as Error).message}`, { resource: lease.resource }),
      },
      async (signal) => {
        const records = new RecordsInOrder<T>(options.record, out);
        try {
          for (let request: T | undefined = first; request;) {
            request = await runOne(request, signal, options, records, results);
          }
        } finally {
          aborted = signal.aborted;
          await records.settled();
        }
      },
    );
  } catch (error) {
    if (!(error instanceof LeaseLost) || results.length === 0) throw error;
    return { results, aborted: true, lost: error };
  }
  return { results, aborted };
}

/** Runs `request` (unless the signal already fired) and returns the task that follows on the same leases, if any. */
async function runOne<T extends RepairRequest>(
  request: T,
  signal: AbortSignal,
  options: LeasedRunOptions<T>,
  records: RecordsInOrder<T>,
  results: Array<{ request: T; run?: TaskRun }>,
): Promise<T | undefined> {
  options.onTaskStart?.(request);
  if (signal.aborted) {
    results.push({ request });
    return undefined;
  }
  const { follow } = options;
  // Looked at while the repair runs, so that consecutive repairs follow each other without a gap.
  const look = follow ? follow.look(request) : Promise.resolve(undefined);
  const startId = await options.recordStart?.(request).catch((error: unknown) => {
    options.out.warn(`could not record the start of task ${request.id} in tend's history: ${(error as Error).message}`);
    return undefined;
  });
  const run = await runTask(request, {
    executor: options.executor,
    timeoutMs: options.timeoutFor(request),
    signal,
    ...(options.now ? { now: options.now } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  records.add(run.outcome, request, startId);
  results.push({ request, run });
  // A defect in an executor: its failed outcome is recorded (the caller's finally waits for it), then it is thrown.
  if (run.crashed !== undefined) throw run.crashed;
  options.onTaskEnd?.(request, run.outcome);
  const next = await look;
  if (!follow) return undefined;
  const stopped = signal.aborted || run.unavailable !== undefined;
  const blocked = next && !stopped ? await follow.blocked(next.task) : undefined;
  const verdict = keepLeases({
    held: follow.held,
    stopped,
    ...(next ? { next: { groups: next.groups, outranked: next.outranked, blocked } } : {}),
  });
  return verdict.keep ? next?.task : undefined;
}

/**
 * Records chained in order, each alongside the next repair; each failure is logged (the repair itself is done).
 * All of them end before the leases are released, so whoever takes the leases next reads a history with our ranges.
 */
class RecordsInOrder<T> {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly record: (outcome: RepairOutcome, request: T, startId?: string) => Promise<void>,
    private readonly out: Output,
  ) {}

  add(outcome: RepairOutcome, request: T, startId: string | undefined): void {
    this.chain = this.chain
      .then(() => this.record(outcome, request, startId))
      .catch((error: unknown) => {
        this.out.error(`could not record task ${outcome.taskId} in tend's history: ${(error as Error).message}`);
      });
  }

  settled(): Promise<void> {
    return this.chain;
  }
}

// ─── runBatch: the tick's batch ─────────────────────────────────────────────────────────────────────────────────

export interface BatchContext {
  readonly config: TendConfig;
  readonly out: Output;
  /** SIGINT/SIGTERM from main(). */
  readonly signal: AbortSignal;
  readonly client: cassandra.Client;
  readonly backend: LeaseBackend;
  readonly executor: Executor;
  readonly tickId: string;
  /** The lease holder: node.name or the node's address, and the host name. */
  readonly holder: { readonly name: string; readonly host: string };
  readonly localDatacenter: string;
  /** Epoch ms after which no task starts (tick start + schedule.maxDuration). */
  readonly startDeadline: number;
  readonly now: () => number;
  readonly record: (
    client: cassandra.Client,
    outcome: RepairOutcome,
    task: RepairTask,
    startId?: string,
  ) => Promise<void>;
  /** Records a task's start before its repair (absent: only outcomes are recorded). */
  readonly recordStart?: (client: cassandra.Client, task: RepairTask, startedAt: number) => Promise<string>;
  /** Which of these replica addresses are down, looked at again now. */
  readonly liveness: (client: cassandra.Client, addresses: readonly string[]) => Promise<string[]>;
  /**
   * Whether a replica of the task is busy (already repairing, or past a back-pressure limit), asked just before
   * the task would start; `finished` are the repairs this batch ran to their end. Absent: not checked.
   */
  readonly replicaBusy?: (task: RepairTask, finished: readonly OwnRepair[]) => Promise<ReplicaBusy>;
  /** Told as each task ends (the operator's onTaskFailed hook), while the batch goes on. */
  readonly onTaskEnd?: (task: RepairTask, outcome: RepairOutcome) => void;
  /** This node's address, the coordinator of the batch's repairs (to know them among the running ones). */
  readonly localAddress?: string;
  /** Kept with each lease besides task and tick: a group tick's instance and the node it runs the task for. */
  readonly leaseMetadata?: Readonly<Record<string, string>>;
  /**
   * Start at most this many tasks (schedule.maxTasks less what the tick started already); the plan's other tasks
   * are candidates for the ones whose leases are held (schedule.candidates). Absent: every planned task may start.
   */
  readonly maxRun?: number;
  /**
   * Before each claim, list the leases once and try the first pending task (in plan order) whose leases nobody else
   * holds (core chooseNextTask); when none is free, end the batch, each pending task reported as held elsewhere
   * without an attempt. Absent or false: plan order, every task attempted.
   */
  readonly freeFirst?: boolean;
  /**
   * What batches running side by side in one tick share (a group tick's parallel tasks, sharedBatchState): the
   * replicas seen going down and the repairs seen ending. Absent: the batch keeps its own.
   */
  readonly shared?: SharedBatchState;
}

/** Replicas found down and repairs seen ending, shared by the batches of one tick that run at the same time. */
export interface SharedBatchState {
  readonly replicas: ReplicaWatch;
  readonly finished: OwnRepair[];
}

export function sharedBatchState(ctx: Pick<BatchContext, 'client' | 'liveness' | 'out'>): SharedBatchState {
  return { replicas: new ReplicaWatch(ctx), finished: [] };
}

export interface BatchResult {
  /** One per planned task, in plan order (a `datacenter` lease held elsewhere ends the list early). */
  readonly tasks: readonly TaskReport[];
  readonly leases: Readonly<Record<string, number>>;
  /** What the batch repaired, for the state after it (alarms, metrics). */
  readonly repaired: readonly RepairedTable[];
  /** Tasks held back because a replica they need went down during the batch. */
  readonly skipped: readonly { table: string; reason: string }[];
  /** The error that ends the batch early (lease lost, node unreachable, interrupted), if any. */
  readonly error?: TendError;
}

/**
 * A repair that failed because a participant is not alive, in Cassandra's words ("Endpoint not alive: /10.0.0.3",
 * "… is dead"): the replicas of the tasks after it are looked at again before they start.
 */
export const DEAD_ENDPOINT = /endpoint(?:s)? not alive|is dead|endpoint .*died|not alive/i;

/** Runs the planned tasks in order: may it start, claim, run under the leases (with those that follow), report. */
export async function runBatch(planned: readonly RepairTask[], ctx: BatchContext): Promise<BatchResult> {
  const batch = new BatchState(ctx, planned);
  try {
    for (let task = await batch.nextToTry(); task; task = await batch.nextToTry()) {
      const block = await batch.blockedBeforeClaim(task);
      if (block) {
        batch.notStarted(task, block);
        continue;
      }
      const claimed = await batch.claim(task);
      if (!claimed) {
        // With one lease per datacenter every later task needs the same lease: stop asking.
        if (ctx.config.lease.scope === 'datacenter') break;
        continue;
      }
      const run = await batch.runClaimed(task, claimed);
      if (batch.report(run)) break;
    }
  } finally {
    await ctx.backend.close().catch(() => undefined);
  }
  return batch.result();
}

/** The batch's running state, and its steps; runBatch says in which order they happen. */
class BatchState {
  private readonly tasks: TaskReport[] = [];
  private readonly leaseCounts: Record<string, number> = {};
  private readonly repaired: RepairedTable[] = [];
  private readonly skipped: { table: string; reason: string }[] = [];
  private readonly replicas: ReplicaWatch;
  /** The repairs this batch saw end: they are not "already running" on the replicas of the next task. */
  private readonly finished: OwnRepair[];
  private error: TendError | undefined;
  /** The planned tasks not yet taken on (tried, run or reported), in plan order. */
  private pending: RepairTask[];

  constructor(
    private readonly ctx: BatchContext,
    private readonly planned: readonly RepairTask[],
  ) {
    this.replicas = ctx.shared?.replicas ?? new ReplicaWatch(ctx);
    this.finished = ctx.shared?.finished ?? [];
    this.pending = [...planned];
  }

  /** Tasks taken on so far (run, or kept from starting by an interrupt): what maxRun bounds. */
  private started = 0;

  /**
   * Takes the task to try next off the pending list: the first in plan order or, with freeFirst, the first whose
   * leases a listing shows free. `undefined`: none left, maxRun reached, or (freeFirst) none free, in which case
   * the first pending tasks, as many as maxRun leaves room for, are reported as held elsewhere (the next round,
   * after schedule.replan.pause, tries again).
   */
  async nextToTry(): Promise<RepairTask | undefined> {
    if (this.pending.length === 0 || this.started >= (this.ctx.maxRun ?? Infinity)) return undefined;
    if (!this.ctx.freeFirst) return this.pending.shift();
    const listed = await this.ctx.backend.list();
    const now = this.ctx.now();
    const live = listed.filter((lease) => lease.holder !== this.ctx.holder.name && lease.expiresAt.getTime() > now);
    const slotsOf = (task: RepairTask) => this.groupsOf(task).map((group) => group.slots);
    const choice = chooseNextTask({
      pending: this.pending.map(slotsOf),
      heldElsewhere: new Set(live.map((lease) => lease.resource)),
    });
    if (!choice) return undefined;
    if (choice.free) {
      const [task] = this.pending.splice(choice.index, 1);
      return task;
    }
    // Reported: as many as the batch could still start (what it would have tried before schedule.candidates); the
    // other candidates stay unreported, as a plan's tasks past maxTasks were, so a tick that plans again every
    // pause for an hour does not report thousands of them.
    const room = (this.ctx.maxRun ?? Infinity) - this.started;
    for (const task of this.pending.slice(0, room)) this.heldByListing(task, live);
    this.pending = [];
    return undefined;
  }

  /** A pending task the lease listing shows held elsewhere: reported like a refused claim, without an attempt. */
  private heldByListing(task: RepairTask, live: readonly LeaseRecord[]): void {
    const slots = new Set(this.groupsOf(task).flatMap((group) => group.slots));
    const heldBy = describeHolders(live.filter((lease) => slots.has(lease.resource)));
    this.tasks.push({
      ...describeTask(task),
      status: 'lease_held_elsewhere',
      message: `held by ${heldBy.map((h) => `${h.holder} until ${h.expiresAt}`).join(', ') || 'another node'} (lease listing; not attempted)`,
      startedAt: null,
      finishedAt: null,
      heldBy,
    });
  }

  private take(task: RepairTask): void {
    this.pending = this.pending.filter((pending) => pending !== task);
  }

  /**
   * Why `task` may not start (interrupted, out of time, a replica it needs went down, a replica busy), before any
   * lease. The replicas' state is read only when nothing else stops the task.
   */
  async blockedBeforeClaim(task: RepairTask): Promise<StartBlock | undefined> {
    const early = this.startFacts();
    if (startBlock(early)) return startBlock(early);
    return this.blockedOnReplicas(task);
  }

  /** The same, for the task that would follow on the leases held (checked before it runs on them). */
  async blockedAfterTask(task: RepairTask): Promise<StartBlock | undefined> {
    return this.blockedOnReplicas(task);
  }

  private async blockedOnReplicas(task: RepairTask): Promise<StartBlock | undefined> {
    await this.replicas.settled();
    const facts = { ...this.startFacts(), replicaDown: this.replicas.downFor(task) };
    const block = startBlock(facts);
    if (block || !this.ctx.replicaBusy) return block;
    return startBlock({ ...facts, replicaBusy: await this.ctx.replicaBusy(task, this.finished) });
  }

  notStarted(task: RepairTask, block: StartBlock): void {
    if (REPLICA_BLOCKS.has(block.status)) {
      const table = `${task.keyspace}.${task.tables.join(',')}`;
      this.ctx.out.warn(`skipped ${table}: ${block.message}`, { task: task.id });
      this.skipped.push({ table, reason: block.message });
    }
    this.tasks.push({ ...describeTask(task), ...block, startedAt: null, finishedAt: null });
  }

  /** Announces and acquires `task`'s lease groups; reports the task when another node holds or outranks them. */
  async claim(task: RepairTask): Promise<HeldLease[] | undefined> {
    const { config, backend, holder, tickId, signal, out } = this.ctx;
    const claim = await acquireLeases(backend, this.groupsOf(task), {
      holder,
      ttlMs: config.lease.ttl,
      announcementTtlMs: config.lease.announcementTtl,
      priority: this.priorityOf(task),
      metadata: { ...this.ctx.leaseMetadata, task: task.id, tick: tickId },
      signal,
    });
    if (claim.acquired) {
      this.count('acquired');
      return claim.leases;
    }
    this.count('held_elsewhere');
    const heldBy = describeHolders(claim.heldBy);
    const message =
      claim.reason === 'outranked'
        ? `${claim.group}: ${claim.outrankedBy?.holder ?? 'another node'} announced a higher priority`
        : `${claim.group} held by ${heldBy.map((h) => `${h.holder} until ${h.expiresAt}`).join(', ') || 'another node'}`;
    out.info(`lease not available: ${message}`, { task: task.id });
    this.tasks.push({
      ...describeTask(task),
      status: claim.reason === 'outranked' ? 'outranked' : 'lease_held_elsewhere',
      message,
      startedAt: null,
      finishedAt: null,
      heldBy,
    });
    return undefined;
  }

  /**
   * Runs `first` on `leases`, and after it, for as long as keepLeases keeps them, the first pending task they cover
   * (chooseFollower: the same replicas or a subset, in plan order, wherever it stands in the plan).
   */
  runClaimed(first: RepairTask, leases: HeldLease[]): Promise<LeasedRun<RepairTask>> {
    const { config, out, client } = this.ctx;
    const heldGroups = this.groupsOf(first);
    const held = heldGroups.map((group) => group.name);
    return runLeased(this.ctx.backend, leases, first, {
      executor: this.ctx.executor,
      renewEveryMs: config.lease.renewEvery,
      timeoutFor: (request) => tableSettings(config.repair, request.keyspace, request.tables[0] ?? '').taskTimeout,
      signal: this.ctx.signal,
      out,
      now: this.ctx.now,
      record: (outcome, request, startId) => this.ctx.record(client, outcome, request, startId),
      ...(this.ctx.recordStart
        ? { recordStart: (request: RepairTask) => this.ctx.recordStart!(client, request, this.ctx.now()) }
        : {}),
      onTaskStart: (request) => {
        this.started += 1;
        if (request !== first) {
          this.count('kept');
          this.take(request);
        }
        out.info(`repairing ${request.keyspace}.${request.tables.join(',')}`, {
          task: request.id,
          ranges: request.ranges.length,
          replicas: request.replicaAddresses.join(','),
        });
      },
      onTaskEnd: (request, outcome) => {
        logOutcome(outcome, out);
        this.noteOutcome(request, outcome);
        this.ctx.onTaskEnd?.(request, outcome);
      },
      follow: {
        held,
        look: async () => {
          // maxRun reached with the task starting now: nothing follows (keepLeases: 'last').
          if (this.started >= (this.ctx.maxRun ?? Infinity)) return undefined;
          const names = this.pending.map((task) => this.groupsOf(task).map((group) => group.name));
          const at = chooseFollower(held, names);
          if (at === undefined) {
            // Nothing pending runs on these leases; keepLeases releases them ('last' or 'other_leases').
            const next = this.pending[0];
            return next ? { task: next, groups: names[0]!, outranked: false } : undefined;
          }
          const next = this.pending[at]!;
          return { task: next, groups: names[at]!, outranked: await this.outranked(heldGroups, next) };
        },
        blocked: (next) => this.blockedAfterTask(next),
      },
    });
  }

  /** Adds what a run did to the reports; true when the batch must stop (lease lost, node unreachable). */
  report(run: LeasedRun<RepairTask>): boolean {
    for (const { request, run: ran } of run.results) {
      // Only an interrupt that came first leaves a task taken on unstarted.
      this.tasks.push(
        ran
          ? taskReport(describeTask(request), ran.outcome)
          : {
              ...describeTask(request),
              status: 'not_started_aborted',
              message: 'interrupted',
              startedAt: null,
              finishedAt: null,
            },
      );
    }
    const last = run.results[run.results.length - 1];
    if (run.lost) {
      this.count('lost');
      this.ctx.out.error(`${run.lost.message}: the repair was stopped and recorded as aborted`, {
        task: last?.request.id,
      });
      this.error = run.lost;
      return true;
    }
    if (last?.run?.unavailable) {
      this.error = last.run.unavailable;
      return true;
    }
    if (run.aborted && this.ctx.signal.aborted) this.error = interruption(this.ctx.signal);
    return false;
  }

  result(): BatchResult {
    // Interrupted before a task started (between tasks, or before the first): still an interruption, exit 130.
    const error = this.error ?? (this.ctx.signal.aborted ? interruption(this.ctx.signal) : undefined);
    // In plan order, as planned: a task that followed on held leases may have run before tasks planned ahead of it.
    const order = new Map(this.planned.map((task, index) => [task.id, index]));
    const tasks = [...this.tasks].sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
    return {
      tasks,
      leases: this.leaseCounts,
      repaired: this.repaired,
      skipped: this.skipped,
      ...(error ? { error } : {}),
    };
  }

  private startFacts() {
    return {
      interrupted: this.ctx.signal.aborted || this.error instanceof Interrupted,
      now: this.ctx.now(),
      startDeadline: this.ctx.startDeadline,
    };
  }

  private groupsOf(task: RepairTask) {
    return leaseGroups(this.ctx.config.lease, {
      datacenter: this.ctx.localDatacenter,
      replicas: task.replicaAddresses,
    });
  }

  /** Every node computes the same priority for the same job; the holder's hash only breaks exact ties. */
  private priorityOf(task: RepairTask) {
    return { priority: Math.round(task.priority * 1000), tieBreaker: fnv1a32(this.ctx.holder.name) };
  }

  /**
   * Another node announced, on one of the `held` leases, a job that outranks `task`: all of them, not only the ones
   * `task` needs, since a node waiting for a held replica `task` does not touch waits as long. Unreadable
   * announcements count as yes.
   */
  private async outranked(held: readonly LeaseGroup[], task: RepairTask): Promise<boolean> {
    if (this.ctx.signal.aborted) return true;
    const higher = await higherAnnouncement(this.ctx.backend, held, this.ctx.holder.name, this.priorityOf(task)).catch(
      () => 'unreadable' as const,
    );
    return higher !== undefined;
  }

  private noteOutcome(request: RepairTask, outcome: RepairOutcome): void {
    if (this.ctx.localAddress !== undefined) {
      this.finished.push({
        coordinator: this.ctx.localAddress,
        keyspace: request.keyspace,
        tables: request.tables,
        startedAt: outcome.startedAt,
      });
    }
    if (outcome.rangesRepaired.length > 0) {
      for (const table of outcome.tables) {
        this.repaired.push({
          keyspace: outcome.keyspace,
          table,
          ranges: outcome.rangesRepaired,
          finishedAt: outcome.finishedAt,
        });
      }
    }
    if (outcome.status === 'failed' && DEAD_ENDPOINT.test(outcome.message)) this.replicas.recheck(request, outcome);
  }

  private count(what: 'acquired' | 'held_elsewhere' | 'kept' | 'lost'): void {
    this.leaseCounts[what] = (this.leaseCounts[what] ?? 0) + 1;
  }
}

/** Replicas found down during the batch (after a repair failed naming a dead endpoint), and why. */
export class ReplicaWatch {
  private readonly down = new Map<string, string>();
  private pending: Promise<void> = Promise.resolve();

  constructor(private readonly ctx: Pick<BatchContext, 'client' | 'liveness' | 'out'>) {}

  /** Looks again before the next task starts: every later task on a replica that is down would fail the same way. */
  recheck(request: RepairTask, outcome: RepairOutcome): void {
    this.pending = this.pending.then(async () => {
      const down = await this.ctx.liveness(this.ctx.client, request.replicaAddresses).catch(() => [] as string[]);
      for (const address of down) {
        if (this.down.has(address)) continue;
        this.down.set(
          address,
          `replica ${address} went down during this tick (task ${request.id}: ${outcome.message})`,
        );
        this.ctx.out.warn(`replica ${address} is down: the remaining tasks that need it are left for a later tick`, {
          task: request.id,
        });
      }
    });
  }

  settled(): Promise<void> {
    return this.pending;
  }

  /** Why `task` may not start because a replica it needs went down during the batch, if so. */
  downFor(task: RepairTask): string | undefined {
    const address = task.replicaAddresses.find((replica) => this.down.has(replica));
    return address === undefined ? undefined : this.down.get(address);
  }
}

function interruption(signal: AbortSignal): TendError {
  return signal.reason instanceof TendError ? signal.reason : new Interrupted();
}

function describeTask(task: RepairTask): Omit<TaskReport, 'status' | 'message' | 'startedAt' | 'finishedAt'> {
  return {
    id: task.id,
    keyspace: task.keyspace,
    tables: task.tables,
    ranges: task.ranges.length,
    replicas: task.replicaAddresses,
    reason: task.reason,
  };
}

function describeHolders(heldBy: readonly LeaseRecord[]): { holder: string; host: string; expiresAt: string }[] {
  return heldBy.map((lease) => ({
    holder: lease.holder,
    host: lease.holderHost,
    expiresAt: lease.expiresAt.toISOString(),
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
