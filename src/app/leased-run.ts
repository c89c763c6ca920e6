/**
 * What the tick and `tend repair table` share once a lease is held: run tasks under the heartbeat (leases
 * released in `finally`), and write their outcomes to tend's history. One place, so an ad hoc repair and a scheduled
 * one are stopped, renewed and recorded the same way.
 */
import type cassandra from 'cassandra-driver';
import { tablesRepairedByCommand, type RepairTask } from '../core/index.js';
import { LeaseLost } from '../errors.js';
import { recordTaskOutcome } from '../history/tend-history.js';
import { readCommandSessions } from '../history/cassandra-history.js';
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

/**
 * Writes an outcome as tend history rows (SUCCESS for confirmed ranges, the task's status for the rest). A command
 * over several tables that did not succeed is first matched against what Cassandra recorded per table (when the
 * node's address is known), so the tables it did repair are recorded as repaired.
 */
export function historyWriter(
  tendKeyspace: string,
  context: { coordinator: () => string; address?: () => string | undefined; tickId?: string },
): RecordOutcome {
  return async (client, outcome, task) => {
    const rows = historyRecords(task, await attributeTables(client, outcome, context.address?.()), {
      coordinator: context.coordinator(),
      ...(context.tickId ? { tickId: context.tickId } : {}),
    });
    for (const row of rows) await recordTaskOutcome(client, tendKeyspace, row);
  };
}

/** A failed command over several tables, with the tables Cassandra reported repaired in every session. */
async function attributeTables(
  client: cassandra.Client,
  outcome: RepairOutcome,
  coordinator: string | undefined,
): Promise<RepairOutcome> {
  if (outcome.status === 'success' || outcome.tables.length < 2 || coordinator === undefined) return outcome;
  try {
    const rows = await readCommandSessions(client, outcome.keyspace, outcome.tables, {
      fromMs: outcome.startedAt,
      toMs: outcome.finishedAt,
      coordinator,
    });
    return { ...outcome, tablesRepaired: tablesRepairedByCommand(outcome.tables, rows) };
  } catch {
    // Advisory: without Cassandra's answer every table keeps the command's status and is repaired again.
    return outcome;
  }
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
  /** Stores an outcome. Runs while the next task's repair runs; every record ends before the leases are released. */
  readonly record: (outcome: RepairOutcome, request: T) => Promise<void>;
  /** Which task may follow under the same leases; without it, the first task is the only one. */
  readonly next?: {
    /**
     * Asked as each task starts, while its repair runs: the task to run next under the same leases (same lease
     * groups, nobody announced a higher priority), or undefined to release them after this one.
     */
    readonly propose: (current: T) => Promise<T | undefined>;
    /** Asked when the task has ended: may the proposed task still start now (time left, its replicas up)? */
    readonly mayStart: (proposed: T) => boolean | Promise<boolean>;
  };
  /** Called before each task starts, and as it ends (its record may still be running). */
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
 * Runs `first`, then each task `next` proposes, under one heartbeat: the leases are taken once for a run of
 * tasks that need the same ones and released in `finally`, after the last, a lost lease or an interrupt. A
 * task that fails does not end the run (the next may succeed); a lost lease, an interrupt or an unreachable
 * node does. Between two repairs there is no round trip: the next task is chosen while the repair before it
 * runs, and each outcome is recorded while the next repair runs.
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
        // Records are chained in order and run alongside the next repair; each failure is logged (the repair
        // itself is done). All of them end before the leases are released, so whoever takes the leases next
        // reads a history that has our ranges.
        let recording: Promise<void> = Promise.resolve();
        const recordInOrder = (outcome: RepairOutcome, request: T) => {
          recording = recording
            .then(() => options.record(outcome, request))
            .catch((error: unknown) => {
              out.error(`could not record task ${outcome.taskId} in tend's history: ${(error as Error).message}`);
            });
        };
        try {
          for (let request: T | undefined = first; request;) {
            options.onTaskStart?.(request);
            const current: T = request;
            // Decided while the repair runs, so that consecutive repairs follow each other without a gap. A
            // failing look (the announcements unreadable) only means the leases are released after this task.
            const proposed =
              options.next && !signal.aborted
                ? options.next.propose(current).catch(() => undefined)
                : Promise.resolve(undefined);
            const batch = await runTasks([current], {
              executor: options.executor,
              taskTimeoutMs: options.taskTimeoutFor?.(current) ?? options.taskTimeoutMs,
              signal,
              record: (outcome) => recordInOrder(outcome, current),
              ...(options.now ? { now: options.now } : {}),
              ...(options.onProgress ? { onProgress: options.onProgress } : {}),
            });
            results.push({ request: current, batch });
            for (const outcome of batch.outcomes) options.onTaskEnd?.(current, outcome);
            const following = await proposed;
            if (signal.aborted || batch.unavailable || !following || !(await options.next?.mayStart(following))) break;
            request = following;
          }
        } finally {
          await recording;
        }
      },
    );
  } catch (error) {
    if (!(error instanceof LeaseLost) || results.length === 0) throw error;
    lost = error;
  }
  return lost ? { results, lost } : { results };
}
