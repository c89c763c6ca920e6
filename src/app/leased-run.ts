/**
 * What the tick and `tend repair table` share once a lease is held: run one task under the heartbeat (leases
 * released in `finally`), and write its outcome to tend's history. One place, so an ad hoc repair and a scheduled
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
  const { out } = options;
  // Kept outside withLeases: on a lost lease it throws after the work ended, and the outcome must survive.
  let batch: BatchResult | undefined;
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
        batch = await runTasks([request], {
          executor: options.executor,
          taskTimeoutMs: options.taskTimeoutMs,
          signal,
          record: options.record,
          ...(options.now ? { now: options.now } : {}),
          ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        });
      },
    );
  } catch (error) {
    if (!(error instanceof LeaseLost) || !batch) throw error;
    lost = error;
  }
  const result = batch as BatchResult | undefined;
  if (!result) throw new Error('internal: the leased task ended without a result');
  for (const failure of result.recordErrors) {
    out.error(`could not record task ${failure.taskId} in tend's history: ${(failure.error as Error).message}`);
  }
  return lost ? { batch: result, lost } : { batch: result };
}
