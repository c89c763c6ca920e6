// Cluster-wide maintenance jobs (issue 17): a cleanup, upgradesstables, garbagecollect, compact or a keyspace's
// primary-range repair, started once and carried out node by node by every node's tick.
//
// Named "maintenance" because "job" already means a table job in this core (job-state.ts). Everything here is a
// pure function of the job, its steps, which nodes are up and "now": every node reads the same rows and so
// computes the same turn, which is what keeps at most N steps running without a coordinator.
import { formatBytes } from './back-pressure.js';
import { fnv1a32 } from './hash.js';
import { describeWindow, windowContains, type TimeWindow } from './policy.js';

export const MAINTENANCE_OPERATIONS = ['cleanup', 'upgradesstables', 'garbagecollect', 'compact', 'repair'] as const;
export type MaintenanceOperation = (typeof MAINTENANCE_OPERATIONS)[number];

/** pending → running → done | failed; pending → skipped (down at its turn, or outside --datacenter). */
export type StepState = 'pending' | 'running' | 'done' | 'failed' | 'skipped';

export interface MaintenanceJob {
  readonly id: string;
  readonly operation: MaintenanceOperation;
  /** Absent: every keyspace the operation applies to (not allowed for repair). */
  readonly keyspace?: string | undefined;
  readonly table?: string | undefined;
  /**
   * upgradesstables only (`job start --include-all-sstables`, nodetool's `upgradesstables -a`): rewrite every SSTable,
   * those already in the current format too; without it only SSTables of an older format are rewritten.
   */
  readonly includeAllSSTables?: boolean | undefined;
  /** Only nodes of this datacenter take part; the others' steps are skipped (excluded). */
  readonly datacenter?: string | undefined;
  /** At most this many steps running at once, per `concurrencyScope`. */
  readonly concurrency: number;
  readonly concurrencyScope: 'datacenter' | 'cluster';
  /** A running step whose heartbeat is older than this is taken for dead (its process died). */
  readonly staleAfterMs: number;
  /** A running step older than this is failed (timed out) by whoever looks next. */
  readonly stepTimeoutMs: number;
  /** Attempts of one step before it is failed (a step whose process died is retried). */
  readonly maxAttempts: number;
  /**
   * `job start --window`: steps start only inside it (an allow window of the schedule's kind); a step running when
   * it closes runs to its end. Absent: any time.
   */
  readonly window?: TimeWindow | undefined;
  readonly createdAt: number;
  readonly createdBy: string;
  readonly abortedAt?: number | undefined;
  readonly abortedBy?: string | undefined;
}

export interface MaintenanceStep extends StepNode {
  readonly state: StepState;
  readonly attempt: number;
  readonly holder?: string | undefined;
  readonly startedAt?: number | undefined;
  readonly heartbeatAt?: number | undefined;
  readonly finishedAt?: number | undefined;
  /** Why it failed or was skipped, or the operation's summary when done. */
  readonly message?: string | undefined;
}

export interface StepNode {
  readonly hostId: string;
  readonly address: string;
  readonly datacenter: string;
}

/**
 * The order every node computes alike: by a hash of the job id and the host id (so successive jobs do not always
 * start on the same node), then the host id. Datacenters interleave; concurrency is counted per group anyway.
 */
export function stepOrder<T extends Pick<StepNode, 'hostId'>>(jobId: string, nodes: readonly T[]): T[] {
  const key = (n: T) => fnv1a32(`${jobId}/${n.hostId}`);
  return [...nodes].sort((a, b) => key(a) - key(b) || (a.hostId < b.hostId ? -1 : a.hostId > b.hostId ? 1 : 0));
}

/** The steps a new job starts with: pending, or skipped (excluded) outside its datacenter. */
export function initialSteps(job: Pick<MaintenanceJob, 'id' | 'datacenter'>, nodes: readonly StepNode[]) {
  return stepOrder(job.id, nodes).map((node): MaintenanceStep => ({
    ...node,
    attempt: 0,
    ...(job.datacenter !== undefined && node.datacenter !== job.datacenter
      ? { state: 'skipped' as const, message: `excluded: not in datacenter ${job.datacenter}` }
      : { state: 'pending' as const }),
  }));
}

/** A change to one step, applied by the store only if the step is still in `from` (LWT). */
export interface StepTransition {
  readonly hostId: string;
  readonly from: StepState;
  /** For a running step: the attempt it was in, so a retry of a newer attempt is never overwritten. */
  readonly fromAttempt: number;
  readonly to: StepState;
  readonly message: string;
}

export type TurnDecision =
  | {
      readonly run: true;
      /** Transitions to apply first (stale steps, down nodes ahead of us). */
      readonly transitions: readonly StepTransition[];
      readonly step: MaintenanceStep;
    }
  | { readonly run: false; readonly transitions: readonly StepTransition[]; readonly reason: string };

export type JobPhase = 'active' | 'aborted' | 'done';

/** Active while a step is pending or running and nobody aborted it; done when every step has ended. */
export function jobPhase(job: Pick<MaintenanceJob, 'abortedAt'>, steps: readonly Pick<MaintenanceStep, 'state'>[]) {
  if (job.abortedAt !== undefined) return 'aborted' as const;
  return steps.every((s) => s.state !== 'pending' && s.state !== 'running') ? ('done' as const) : ('active' as const);
}

/** Steps whose outcome makes `job status` exit non-zero: failed, or skipped because the node was down. */
export function stepsNeedingAttention(steps: readonly MaintenanceStep[]): MaintenanceStep[] {
  return steps.filter((s) => s.state === 'failed' || (s.state === 'skipped' && !s.message?.startsWith('excluded')));
}

/**
 * Running steps that are over: timed out (older than stepTimeoutMs), or whose process died (no heartbeat within
 * staleAfterMs): retried while attempts remain, else failed.
 */
export function expiredRunningSteps(job: MaintenanceJob, steps: readonly MaintenanceStep[], now: number) {
  const out: StepTransition[] = [];
  for (const step of steps) {
    if (step.state !== 'running') continue;
    const started = step.startedAt ?? 0;
    const beat = step.heartbeatAt ?? started;
    if (now - started > job.stepTimeoutMs) {
      out.push({ ...ref(step), to: 'failed', message: `timed out after ${Math.round(job.stepTimeoutMs / 1000)} s` });
    } else if (now - beat > job.staleAfterMs) {
      const died = `no heartbeat from ${step.holder ?? '?'} for ${Math.round((now - beat) / 1000)} s (its process died)`;
      out.push(
        step.attempt < job.maxAttempts
          ? { ...ref(step), to: 'pending', message: `${died}; retried` }
          : { ...ref(step), to: 'failed', message: `${died}; ${step.attempt} attempt(s)` },
      );
    }
  }
  return out;
}

function ref(step: MaintenanceStep) {
  return { hostId: step.hostId, from: step.state, fromAttempt: step.attempt };
}

/**
 * Whether `localHostId` runs its step now. In each concurrency group (the job's datacenter of a node, or the whole
 * cluster) the first `concurrency − running` pending steps in job order have their turn; a node among them that is
 * down is skipped (and the turn passes on in the same decision), the local node among them runs. Aborted jobs
 * start nothing; expired running steps are settled first, as every node would.
 */
export function turnDecision(
  job: MaintenanceJob,
  steps: readonly MaintenanceStep[],
  localHostId: string,
  down: ReadonlySet<string>,
  now: number,
): TurnDecision {
  if (job.abortedAt !== undefined) return { run: false, transitions: [], reason: `job ${job.id} was aborted` };
  const transitions = [...expiredRunningSteps(job, steps, now)];
  // Outside the window no step starts, and nobody is skipped for being down: the turn has not come yet.
  if (job.window !== undefined && !windowContains(job.window, now)) {
    return { run: false, transitions, reason: `outside the job's ${describeWindow(job.window)}` };
  }
  const settled = new Map(transitions.map((t) => [t.hostId, t.to]));
  const current = stepOrder(job.id, steps).map((s) => ({ ...s, state: settled.get(s.hostId) ?? s.state }));
  const local = current.find((s) => s.hostId === localHostId);
  if (!local) return { run: false, transitions, reason: `this node is not part of job ${job.id}` };
  const groupOf = (s: StepNode) => (job.concurrencyScope === 'datacenter' ? s.datacenter : '*');
  const group = current.filter((s) => groupOf(s) === groupOf(local));
  let slots = job.concurrency - group.filter((s) => s.state === 'running').length;
  for (const step of group) {
    if (slots <= 0) break;
    if (step.state !== 'pending') continue;
    if (down.has(step.address)) {
      transitions.push({ ...ref(step), to: 'skipped', message: `skipped: ${step.address} was down at its turn` });
      continue;
    }
    if (step.hostId === localHostId) return { run: true, transitions, step };
    slots--;
  }
  const reason =
    local.state === 'pending'
      ? `not this node's turn (${group.filter((s) => s.state === 'running').length} of ${job.concurrency} running)`
      : `this node's step is ${local.state}`;
  return { run: false, transitions, reason };
}

/**
 * What a tick acting for several nodes (a group tick, `nodes:`) does about one job: the steps of its nodes whose
 * turn it is, and the settling every node would do. The same turn as each node's own tick computes (turnDecision
 * for each of them, on the same rows), so a group tick and per-node ticks of the same cluster agree on whose turn
 * it is and never run more than `concurrency` steps at once between them.
 */
export function groupTurnDecision(
  job: MaintenanceJob,
  steps: readonly MaintenanceStep[],
  hostIds: readonly string[],
  down: ReadonlySet<string>,
  now: number,
): {
  readonly transitions: readonly StepTransition[];
  readonly run: readonly MaintenanceStep[];
  readonly reason: string;
} {
  const transitions = new Map<string, StepTransition>();
  const run: MaintenanceStep[] = [];
  const reasons: string[] = [];
  const order = new Map(stepOrder(job.id, steps).map((s, i) => [s.hostId, i]));
  const covered = [...new Set(hostIds)].sort((a, b) => (order.get(a) ?? Infinity) - (order.get(b) ?? Infinity));
  for (const hostId of covered) {
    const decision = turnDecision(job, steps, hostId, down, now);
    for (const t of decision.transitions) transitions.set(`${t.hostId}/${t.to}`, t);
    if (decision.run) run.push(decision.step);
    else reasons.push(decision.reason);
  }
  const reason =
    run.length > 0 ? '' : [...new Set(reasons)].join('; ') || `no node of this instance is part of job ${job.id}`;
  return { transitions: [...transitions.values()], run, reason };
}

/**
 * Why a step whose turn it is waits instead of starting: its node already runs the job's operation on the job's
 * keyspace (table), as the node lists its tasks (`tasks`, its system_views.sstable_tasks). Typically the operation
 * of an earlier attempt whose process died: killing tend (or nodetool, or its HTTP request to Jolokia) does not stop
 * a cleanup or compaction on the server, so a retry started at once would run a second one beside it, over the same
 * SSTables (on 5.0.8 a second major compaction failed at once, Cassandra unable to cancel the first: the retry, the
 * step's last attempt, failed with it; test/e2e/jobs.test.ts without this check). Anyone's operation counts.
 * The step keeps its turn, and with it its concurrency slot (the operation on the node is the job's running step in
 * all but name), and starts once the node has finished: the retry then runs the operation again, which for cleanup
 * and upgradesstables rewrites only what is left to do.
 */
export function operationRunningOnNode(
  job: Pick<MaintenanceJob, 'operation' | 'keyspace' | 'table'>,
  step: Pick<MaintenanceStep, 'address' | 'attempt'>,
  tasks: readonly SSTableTask[],
): string | undefined {
  const progress = stepProgress(job, tasks);
  if (!progress || job.operation === 'repair') return undefined;
  const target = job.keyspace === undefined ? 'a keyspace' : `${job.keyspace}${job.table ? `.${job.table}` : ''}`;
  const earlier = step.attempt > 0 ? ` (attempt ${step.attempt}'s, left running when its process died?)` : '';
  return (
    `${step.address} already runs ${SSTABLE_TASK_KIND[job.operation]} of ${target}${earlier}, ` +
    `${formatStepProgress(progress)}; the step starts when it has ended`
  );
}

/**
 * A write to one step, with the condition it is made under: what the Cassandra store puts in its LWT's IF clause,
 * and what a store without conditional updates (Consul KV) checks on the step it read before a compare-and-set.
 */
export type StepChange =
  | { readonly kind: 'settle'; readonly transition: StepTransition; readonly at: number }
  | { readonly kind: 'claim'; readonly fromAttempt: number; readonly holder: string; readonly at: number }
  | { readonly kind: 'heartbeat'; readonly attempt: number; readonly at: number }
  | {
      readonly kind: 'finish';
      readonly attempt: number;
      readonly to: StepState;
      readonly message: string;
      readonly at: number;
    };

/**
 * The step after `change`, or undefined when its condition does not hold (someone changed the step first):
 * settle applies only to the state and attempt it was computed from; claim only to a pending step still at the
 * attempt read; heartbeat and finish only to our running attempt. finish to `pending` hands the step back (the
 * attempt is undone, as if never claimed).
 */
export function changedStep(step: MaintenanceStep, change: StepChange): MaintenanceStep | undefined {
  const {
    holder: _holder,
    startedAt: _started,
    heartbeatAt: _beat,
    finishedAt: _finished,
    message: _message,
    ...node
  } = step;
  switch (change.kind) {
    case 'settle': {
      const t = change.transition;
      if (step.state !== t.from || step.attempt !== t.fromAttempt) return undefined;
      const ended = t.to === 'failed' || t.to === 'skipped';
      return { ...step, state: t.to, message: t.message, finishedAt: ended ? change.at : undefined };
    }
    case 'claim':
      if (step.state !== 'pending' || step.attempt !== change.fromAttempt) return undefined;
      return {
        ...node,
        state: 'running',
        attempt: change.fromAttempt + 1,
        holder: change.holder,
        startedAt: change.at,
        heartbeatAt: change.at,
      };
    case 'heartbeat':
      if (step.state !== 'running' || step.attempt !== change.attempt) return undefined;
      return { ...step, heartbeatAt: change.at };
    case 'finish': {
      if (step.state !== 'running' || step.attempt !== change.attempt) return undefined;
      const back = change.to === 'pending';
      return {
        ...step,
        state: change.to,
        attempt: back ? change.attempt - 1 : change.attempt,
        message: change.message,
        finishedAt: back ? undefined : change.at,
      };
    }
  }
}

/** How long a job is kept after its last change (the Cassandra tables' TTL; the Consul store deletes it then). */
export const JOB_KEEP_MS = 30 * 86_400_000;

/** When a job last changed: its creation, abort or end (a step's change also counts, where the store sees it). */
export function jobLastChange(
  job: Pick<MaintenanceJob, 'createdAt' | 'abortedAt'> & { readonly finishedAt?: number | undefined },
  steps: readonly Pick<MaintenanceStep, 'startedAt' | 'heartbeatAt' | 'finishedAt'>[],
): number {
  return Math.max(
    job.createdAt,
    job.abortedAt ?? 0,
    job.finishedAt ?? 0,
    ...steps.map((s) => Math.max(s.startedAt ?? 0, s.heartbeatAt ?? 0, s.finishedAt ?? 0)),
  );
}

/**
 * A running SSTable operation as the node lists it (system_views.sstable_tasks, CompactionManager's Compactions):
 * `kind` is the operation type in lower case, `unit` what progress and total count ("bytes" for every
 * operation a job runs; "keys" or "ranges" for others, e.g. index builds).
 */
export interface SSTableTask {
  readonly keyspace: string;
  readonly table: string;
  readonly kind: string;
  readonly progress: number;
  readonly total: number;
  readonly unit: string;
}

/** How far a running step is, summed over the node's tasks of the job's operation and keyspace (table). */
export interface StepProgress {
  readonly completed: number;
  readonly total: number;
  readonly unit: string;
  /** Tasks summed: one per table and SSTable batch Cassandra runs at once. */
  readonly tasks: number;
}

/**
 * The kind sstable_tasks gives each operation (OperationType's name in lower case, as Cassandra 5.0 prints it; 4.1
 * lists a major compaction as "compaction": SSTABLE_TASK_FALLBACK_KIND). A repair step has none: its progress is in
 * the repair's sessions, not here.
 */
export const SSTABLE_TASK_KIND: Readonly<Record<Exclude<MaintenanceOperation, 'repair'>, string>> = {
  cleanup: 'cleanup',
  upgradesstables: 'upgrade sstables',
  garbagecollect: 'remove deleted data',
  compact: 'major compaction',
};

/**
 * The kind a node lists an operation under when it lists none of SSTABLE_TASK_KIND's: Cassandra 4.1.10 lists a
 * major compaction as plain "compaction" (seen on the sandbox: `nodetool compact` under 1 MiB/s), like a background
 * one. So on 4.1 a background compaction of the job's keyspace also counts as the step's operation: its progress
 * shows, and a step waits for it (briefly; a background compaction is not held back by anything of tend's).
 */
export const SSTABLE_TASK_FALLBACK_KIND: Readonly<Partial<Record<MaintenanceOperation, string>>> = {
  compact: 'compaction',
};

/**
 * The progress of a step from its node's running tasks, or undefined when the node runs none of the job's
 * operation on the job's keyspace (or table): before the operation registered, between two tables, after it
 * ended, or for a repair step. Tasks counted in another unit than the first (by name) are left out, since
 * bytes and keys do not add up.
 */
export function stepProgress(
  job: Pick<MaintenanceJob, 'operation' | 'keyspace' | 'table'>,
  tasks: readonly SSTableTask[],
): StepProgress | undefined {
  if (job.operation === 'repair') return undefined;
  const ofKind = (kind: string | undefined) =>
    tasks.filter(
      (t) =>
        t.kind === kind &&
        (job.keyspace === undefined || t.keyspace === job.keyspace) &&
        (job.table === undefined || t.table === job.table),
    );
  const primary = ofKind(SSTABLE_TASK_KIND[job.operation]);
  const mine = primary.length > 0 ? primary : ofKind(SSTABLE_TASK_FALLBACK_KIND[job.operation]);
  if (mine.length === 0) return undefined;
  const unit = [...new Set(mine.map((t) => t.unit))].sort()[0]!;
  const counted = mine.filter((t) => t.unit === unit);
  return {
    completed: counted.reduce((sum, t) => sum + t.progress, 0),
    total: counted.reduce((sum, t) => sum + t.total, 0),
    unit,
    tasks: counted.length,
  };
}

/** `41% (12.3MiB of 30.0MiB)`, `41% (1200 of 2900 keys, 2 tasks)`: what `job status` prints for a running step. */
export function formatStepProgress(progress: StepProgress): string {
  const share = progress.total > 0 ? Math.min(100, Math.floor((progress.completed / progress.total) * 100)) : 0;
  const amounts =
    progress.unit === 'bytes'
      ? `${formatBytes(progress.completed)} of ${formatBytes(progress.total)}`
      : `${progress.completed} of ${progress.total} ${progress.unit}`;
  return `${share}% (${amounts}${progress.tasks > 1 ? `, ${progress.tasks} tasks` : ''})`;
}

/** One line of `history show --jobs`: a step that ran or ended, with its job's operation and target. */
export interface JobStepHistoryRow {
  readonly jobId: string;
  readonly operation: MaintenanceOperation;
  /** `KEYSPACE`, `KEYSPACE.TABLE` or `*` (every keyspace). */
  readonly target: string;
  readonly address: string;
  readonly datacenter: string;
  /** done, failed, aborted (failed because the job was aborted), skipped, or running. */
  readonly outcome: 'done' | 'failed' | 'aborted' | 'skipped' | 'running';
  readonly attempt: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  readonly durationMs: number | null;
  readonly message: string | null;
}

/**
 * The steps of `jobs` worth a history line since `since`: every step that started, or ended (a skip), at or after
 * it; pending steps are not history yet. A job over every keyspace is in any scope; a keyspace's job is in the
 * scope of the keyspace and of each of its tables. Newest first, like the repair sessions.
 */
export function jobStepHistory(
  jobs: readonly { readonly job: MaintenanceJob; readonly steps: readonly MaintenanceStep[] }[],
  since: number,
  scope?: { readonly keyspace: string; readonly table?: string | undefined },
): JobStepHistoryRow[] {
  const rows: JobStepHistoryRow[] = [];
  for (const { job, steps } of jobs) {
    if (scope && job.keyspace !== undefined) {
      if (job.keyspace !== scope.keyspace) continue;
      if (scope.table !== undefined && job.table !== undefined && job.table !== scope.table) continue;
    }
    const target = job.keyspace === undefined ? '*' : `${job.keyspace}${job.table ? `.${job.table}` : ''}`;
    for (const step of steps) {
      if (step.state === 'pending') continue;
      const at = step.startedAt ?? step.finishedAt;
      if (at === undefined || at < since) continue;
      const outcome =
        step.state === 'failed' && step.message?.startsWith('aborted') ? ('aborted' as const) : step.state;
      const startedAt = step.startedAt ?? null;
      const finishedAt = step.state === 'running' ? null : (step.finishedAt ?? null);
      rows.push({
        jobId: job.id,
        operation: job.operation,
        target,
        address: step.address,
        datacenter: step.datacenter,
        outcome,
        attempt: step.attempt,
        startedAt,
        finishedAt,
        durationMs: startedAt !== null && finishedAt !== null ? finishedAt - startedAt : null,
        message: step.message ?? null,
      });
    }
  }
  const key = (r: JobStepHistoryRow) => r.startedAt ?? r.finishedAt ?? 0;
  return rows.sort((a, b) => key(b) - key(a) || a.jobId.localeCompare(b.jobId) || a.address.localeCompare(b.address));
}
