/**
 * The task runner: runs one planned task through an Executor, under its timeout and a cancellation signal, and
 * says how it ended. Which task runs next, under which leases, and where its outcome is written are the caller's
 * (src/app/batch.ts): this file never loops and never records.
 *
 * The signal is whatever should stop the work: the tick combines SIGTERM/SIGINT with the lease heartbeat's "lost"
 * signal (`withLeases`). Abort with a TendError as the reason (`Interrupted`, `LeaseLost`): it ends up in the
 * aborted task's message, and `taskError` hands it back so the command exits with its code (130, 1).
 */
import { ClusterUnavailable, RepairFailed, TendError } from '../errors.js';
import { beginActivity } from '../activity.js';
import type { Executor, RepairOutcome, RepairProgress, RepairRequest } from './executor.js';

export interface TaskRunOptions {
  readonly executor: Executor;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  readonly now?: () => number;
  readonly onProgress?: (progress: RepairProgress) => void;
}

export interface TaskRun {
  /** What happened, to be recorded: the executor's outcome, or a failed one when it could not report one. */
  readonly outcome: RepairOutcome;
  /** Set when the node became unreachable: the task is failed, and no other task should start. */
  readonly unavailable?: ClusterUnavailable;
  /**
   * Set when the executor threw something unexpected (a defect): record `outcome` (a failed task, so history
   * keeps a trace of a task that started), then throw this.
   */
  readonly crashed?: unknown;
}

export async function runTask(task: RepairRequest, options: TaskRunOptions): Promise<TaskRun> {
  const now = options.now ?? Date.now;
  const startedAt = now();
  const end = beginActivity(`repair task ${task.id} (${options.executor.kind})`);
  try {
    const outcome = await options.executor.run(task, {
      timeoutMs: options.timeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    return { outcome };
  } catch (error) {
    if (error instanceof ClusterUnavailable) {
      return { outcome: failedOutcome(task, startedAt, now(), error.message), unavailable: error };
    }
    const message = `tend error: ${error instanceof Error ? error.message : String(error)}`;
    return { outcome: failedOutcome(task, startedAt, now(), message), crashed: error };
  } finally {
    end();
  }
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
 * The error a command should end with after a task, in order of what the operator must know first: the abort
 * reason (Interrupted → 130, LeaseLost → 1), an unreachable node (5), a failed or timed-out task (6). `undefined`
 * when the task succeeded. `aborted`: the signal the task ran under fired.
 */
export function taskError(run: TaskRun, aborted: boolean, signal?: AbortSignal): TendError | undefined {
  if (aborted) {
    const reason: unknown = signal?.reason;
    if (reason instanceof TendError) return reason;
    return new TendError(`repair aborted${reason instanceof Error ? `: ${reason.message}` : ''}`);
  }
  if (run.unavailable) return run.unavailable;
  const { outcome } = run;
  if (outcome.status === 'failed' || outcome.status === 'timed_out') {
    return new RepairFailed(`1 of 1 repair tasks was not successful (first: ${outcome.taskId}: ${outcome.message})`, 1);
  }
  return undefined;
}
