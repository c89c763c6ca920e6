/**
 * The task runner: runs a batch of planned tasks one after the other through an Executor, each under its own
 * timeout, all under one cancellation signal, and hands every outcome to `record` as soon as the task ends.
 *
 * The signal is whatever should stop the work: the tick combines SIGTERM/SIGINT (CommandDeps.signal) with the
 * lease heartbeat's "lost" signal (`AbortSignal.any([...])`). Abort with a TendError as the reason
 * (`Interrupted`, `LeaseLost`): it ends up in the aborted task's message, and `batchError` hands it back so the
 * command exits with its code (130, 1).
 *
 * Tasks run sequentially on purpose: tend's concurrency is decided by leases across the cluster, and two repairs
 * coordinated by one node at once would double the validation load on the very replicas the lease protects.
 */
import { ClusterUnavailable, RepairFailed, TendError } from '../errors.js';
import { beginActivity } from '../activity.js';
import type { Executor, RepairOutcome, RepairProgress, RepairRequest, RepairStatus } from './executor.js';

export interface TaskRunnerOptions {
  readonly executor: Executor;
  /**
   * Stores an outcome (tend's history). Called once per task that started, in order, before the next task
   * starts. A failing record does not stop the batch; the error is collected in `recordErrors`.
   */
  readonly record: (outcome: RepairOutcome) => Promise<void> | void;
  readonly taskTimeoutMs: number;
  readonly signal?: AbortSignal;
  /** Epoch ms after which no new task starts (schedule.maxDuration); a running task is not cut short by it. */
  readonly startDeadline?: number;
  readonly now?: () => number;
  readonly onTaskStart?: (task: RepairRequest, index: number, total: number) => void;
  readonly onTaskEnd?: (outcome: RepairOutcome, index: number, total: number) => void;
  readonly onProgress?: (progress: RepairProgress) => void;
}

export type NotStartedReason = 'aborted' | 'deadline' | 'unavailable';

export interface BatchResult {
  readonly outcomes: RepairOutcome[];
  readonly notStarted: { readonly task: RepairRequest; readonly reason: NotStartedReason }[];
  readonly counts: Record<RepairStatus, number>;
  /** The signal fired during the batch. */
  readonly aborted: boolean;
  /** Set when the node became unreachable: the batch stopped there. */
  readonly unavailable?: ClusterUnavailable;
  readonly recordErrors: { readonly taskId: string; readonly error: unknown }[];
  readonly startedAt: number;
  readonly finishedAt: number;
}

export async function runTasks(tasks: readonly RepairRequest[], options: TaskRunnerOptions): Promise<BatchResult> {
  const now = options.now ?? Date.now;
  const startedAt = now();
  const outcomes: RepairOutcome[] = [];
  const notStarted: { task: RepairRequest; reason: NotStartedReason }[] = [];
  const recordErrors: { taskId: string; error: unknown }[] = [];
  const counts: Record<RepairStatus, number> = { success: 0, failed: 0, timed_out: 0, aborted: 0 };
  let unavailable: ClusterUnavailable | undefined;

  for (const [index, task] of tasks.entries()) {
    if (unavailable) {
      notStarted.push({ task, reason: 'unavailable' });
      continue;
    }
    if (options.signal?.aborted) {
      notStarted.push({ task, reason: 'aborted' });
      continue;
    }
    if (options.startDeadline !== undefined && now() >= options.startDeadline) {
      notStarted.push({ task, reason: 'deadline' });
      continue;
    }
    options.onTaskStart?.(task, index, tasks.length);
    const taskStartedAt = now();
    let outcome: RepairOutcome;
    const end = beginActivity(`repair task ${task.id} (${options.executor.kind})`);
    try {
      outcome = await options.executor.run(task, {
        timeoutMs: options.taskTimeoutMs,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      });
    } catch (error) {
      if (!(error instanceof ClusterUnavailable)) {
        // Unexpected: still leave a trace in history (a task that started and did not succeed), then fail loudly.
        const message = `tend error: ${error instanceof Error ? error.message : String(error)}`;
        await Promise.resolve(options.record(failedOutcome(task, taskStartedAt, now(), message))).catch(
          () => undefined,
        );
        throw error;
      }
      // The node cannot be reached: record this task as failed and leave the rest for the next tick.
      unavailable = error;
      outcome = failedOutcome(task, taskStartedAt, now(), error.message);
    } finally {
      end();
    }
    counts[outcome.status] += 1;
    outcomes.push(outcome);
    try {
      await options.record(outcome);
    } catch (error) {
      recordErrors.push({ taskId: task.id, error });
    }
    options.onTaskEnd?.(outcome, index, tasks.length);
  }

  return {
    outcomes,
    notStarted,
    counts,
    aborted: options.signal?.aborted ?? false,
    ...(unavailable ? { unavailable } : {}),
    recordErrors,
    startedAt,
    finishedAt: now(),
  };
}

function failedOutcome(task: RepairRequest, startedAt: number, finishedAt: number, message: string): RepairOutcome {
  return {
    taskId: task.id,
    keyspace: task.keyspace,
    tables: task.tables,
    status: 'failed',
    startedAt,
    finishedAt,
    ranges: task.ranges,
    rangesRepaired: [],
    participants: [...task.replicaAddresses],
    message,
    commands: [],
  };
}

/**
 * The error a command should end with after a batch, in order of what the operator must know first: the
 * abort reason (Interrupted → 130, LeaseLost → 1), an unreachable node (5), failed or timed-out tasks (6).
 * `undefined` when every task that ran succeeded.
 */
export function batchError(result: BatchResult, signal?: AbortSignal): TendError | undefined {
  if (result.aborted) {
    const reason: unknown = signal?.reason;
    if (reason instanceof TendError) return reason;
    return new TendError(`repair aborted${reason instanceof Error ? `: ${reason.message}` : ''}`);
  }
  if (result.unavailable) return result.unavailable;
  const failed = result.counts.failed + result.counts.timed_out;
  if (failed > 0) {
    const first = result.outcomes.find((o) => o.status === 'failed' || o.status === 'timed_out');
    return new RepairFailed(
      `${failed} of ${result.outcomes.length} repair tasks ${failed === 1 ? 'was' : 'were'} not successful${first ? ` (first: ${first.taskId}: ${first.message})` : ''}`,
      failed,
    );
  }
  return undefined;
}
