/**
 * What the tick and `tend repair table` share once a lease is held: run tasks under the heartbeat (leases
 * released in `finally`), and write their outcomes to tend's history. One place, so an ad hoc repair and a scheduled
 * one are stopped, renewed and recorded the same way.
 */
import type cassandra from 'cassandra-driver';
import type { RepairTask } from '../core/index.js';
import { LeaseLost } from '../errors.js';
import { recordTaskOutcome } from '../history/tend-history.js';
import { withLeases, type HeldLease, type LeaseBackend } from '../lease/index.js';
import {
  historyRecords,
  runTasks,
  type BatchResult,
  type Executor,
  type RepairOutcome,
  type RepairProgress,
  type RepairRequest,
} from '../repair/index.js';
import type { Output } from '../output/output.js';

export type RecordOutcome = (
  client: cassandra.Client,
  outcome: RepairOutcome,
  task: Pick<RepairTask, 'repairType' | 'parallelism'>,
) => Promise<void>;

/** Writes an outcome as tend history rows (SUCCESS for confirmed ranges, the task's status for the rest). */
export function historyWriter(
  tendKeyspace: string,
  context: { coordinator: () => string; tickId?: string },
): RecordOutcome {
  return async (client, outcome, task) => {
    const rows = historyRecords(task, outcome, {
      coordinator: context.coordinator(),
      ...(context.tickId ? { tickId: context.tickId } : {}),
    });
    for (const row of rows) await recordTaskOutcome(client, tendKeyspace, row);
  };
}

export interface LeasedTaskOptions {
  readonly executor: Executor;
  readonly renewEveryMs: number;
  readonly taskTimeoutMs: number;
  /** SIGINT/SIGTERM from main(). */
  readonly signal: AbortSignal;
  readonly out: Output;
  readonly record: (outcome: RepairOutcome) => Promise<void>;
  readonly now?: () => number;
  readonly onProgress?: (progress: RepairProgress) => void;
}

export interface LeasedTaskResult {
  readonly batch: BatchResult;
  /** Set when a lease was lost during the task: the repair was stopped and recorded as aborted (exit 1). */
  readonly lost?: LeaseLost;
}

/**
 * Runs `request` while `leases` are renewed; the repair is cancelled (on the server too) when a lease is lost or
 * the process is interrupted, and the leases are released either way. A lost lease is returned, not thrown, so
 * the caller still reports the aborted outcome the runner recorded.
 */
export async function runLeasedTask(
  backend: LeaseBackend,
  leases: HeldLease[],
  request: RepairRequest,
  options: LeasedTaskOptions,
): Promise<LeasedTaskResult> {
  const { results, lost } = await runLeasedTasks(backend, leases, request, {
    ...options,
    record: (outcome) => options.record(outcome),
  });
  const only = results[0];
  if (!only) throw new Error('internal: the leased task ended without a result');
  return lost ? { batch: only.batch, lost } : { batch: only.batch };
}

export interface LeasedTasksOptions<T extends RepairRequest> extends Omit<LeasedTaskOptions, 'record'> {
  readonly record: (outcome: RepairOutcome, request: T) => Promise<void>;
  /**
   * Asked after each task that ended without losing a lease or being interrupted: the next task to run under the
   * same leases, or undefined to release them. The caller decides (same lease groups, nobody outranking it,
   * time left); the heartbeat keeps renewing while it does.
   */
  readonly next?: () => Promise<T | undefined>;
  /** Called before each task starts, and when it has ended and been recorded. */
  readonly onTaskStart?: (request: T) => void;
  readonly onTaskEnd?: (request: T, outcome: RepairOutcome) => void;
  /** Each task's own timeout (per-table settings); taskTimeoutMs when absent. */
  readonly taskTimeoutFor?: (request: T) => number;
}

export interface LeasedTasksResult<T extends RepairRequest> {
  /** One per task that started, in order. */
  readonly results: ReadonlyArray<{ readonly request: T; readonly batch: BatchResult }>;
  /** Set when a lease was lost: the task running then was stopped and recorded as aborted, and none followed. */
  readonly lost?: LeaseLost;
}

/**
 * Runs `first`, then each task `next` hands over, under one heartbeat: the leases are taken once for a run of
 * tasks that need the same ones and released in `finally`, after the last, a lost lease or an interrupt. A
 * task that fails does not end the run (the next may succeed); a lost lease, an interrupt or an unreachable
 * node does.
 */
export async function runLeasedTasks<T extends RepairRequest>(
  backend: LeaseBackend,
  leases: HeldLease[],
  first: T,
  options: LeasedTasksOptions<T>,
): Promise<LeasedTasksResult<T>> {
  const { out } = options;
  // Kept outside withLeases: on a lost lease it throws after the work ended, and the outcomes must survive.
  const results: Array<{ request: T; batch: BatchResult }> = [];
  let lost: LeaseLost | undefined;
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
        for (let request: T | undefined = first; request;) {
          options.onTaskStart?.(request);
          const current: T = request;
          const batch = await runTasks([current], {
            executor: options.executor,
            taskTimeoutMs: options.taskTimeoutFor?.(current) ?? options.taskTimeoutMs,
            signal,
            record: (outcome) => options.record(outcome, current),
            ...(options.now ? { now: options.now } : {}),
            ...(options.onProgress ? { onProgress: options.onProgress } : {}),
          });
          results.push({ request: current, batch });
          for (const outcome of batch.outcomes) options.onTaskEnd?.(current, outcome);
          for (const failure of batch.recordErrors) {
            out.error(`could not record task ${failure.taskId} in tend's history: ${(failure.error as Error).message}`);
          }
          if (signal.aborted || batch.unavailable || !options.next) break;
          request = await options.next();
        }
      },
    );
  } catch (error) {
    if (!(error instanceof LeaseLost) || results.length === 0) throw error;
    lost = error;
  }
  return lost ? { results, lost } : { results };
}
