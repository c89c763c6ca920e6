/**
 * How the tick and `tend repair table` write a task's outcome to tend's history: one writer, so an ad hoc repair
 * and a scheduled one are recorded the same way. The executors only report outcomes; this use case records them.
 */
import type cassandra from 'cassandra-driver';
import { tablesRepairedByCommand, type RepairTask } from '../core/index.js';
import { recordTaskOutcome, recordTaskStarted, type TaskOutcome } from '../history/tend-history.js';
import { readCommandSessions } from '../history/cassandra-history.js';
import type { RepairOutcome } from '../repair/index.js';
import { historyRecords } from './history-records.js';

export type RecordOutcome = (
  client: cassandra.Client,
  outcome: RepairOutcome,
  task: Pick<RepairTask, 'repairType' | 'parallelism'>,
  /** What RecordStart returned for this task: the outcome replaces the STARTED rows. */
  startId?: string,
) => Promise<void>;

/** Records that a task is about to start (a STARTED row per table); returns the id its outcome must carry. */
export type RecordStart = (
  client: cassandra.Client,
  task: Pick<RepairTask, 'id' | 'keyspace' | 'tables' | 'ranges' | 'replicaAddresses' | 'repairType' | 'parallelism'>,
  startedAt: number,
) => Promise<string>;

/** The STARTED writer that goes with historyWriter (same coordinator and tick). */
export function historyStartWriter(
  tendKeyspace: string,
  context: { coordinator: () => string; tickId?: string },
): RecordStart {
  return (client, task, startedAt) =>
    recordTaskStarted(client, tendKeyspace, {
      keyspace: task.keyspace,
      tables: task.tables,
      ranges: task.ranges,
      startedAt,
      coordinator: context.coordinator(),
      participants: task.replicaAddresses,
      repairType: task.repairType,
      parallelism: task.parallelism,
      ...(context.tickId ? { tickId: context.tickId } : {}),
      taskId: task.id,
    });
}

/**
 * Writes an outcome as tend history rows (SUCCESS for confirmed ranges, the task's status for the rest). A command
 * over several tables that did not succeed is first matched against what Cassandra recorded per table (when the
 * node's address is known), so the tables it did repair are recorded as repaired.
 */
export function historyWriter(
  tendKeyspace: string,
  context: { coordinator: () => string; address?: () => string | undefined; tickId?: string },
): RecordOutcome {
  return async (client, outcome, task, startId) => {
    const rows = historyRecords(task, await attributeTables(client, outcome, context.address?.()), {
      coordinator: context.coordinator(),
      ...(context.tickId ? { tickId: context.tickId } : {}),
    });
    for (const row of startId === undefined ? rows : replacingStart(rows, startId)) {
      await recordTaskOutcome(client, tendKeyspace, row);
    }
  };
}

/**
 * The records of one outcome under the STARTED rows' id: each table's first record starts at that id (replacing
 * its STARTED row), and a later record of the same table (SUCCESS, then FAILED for the rest) continues after the
 * rows of the earlier ones instead of overwriting them. Records either share their tables or have none in common
 * (historyRecords), so one offset per record is each of its tables' offset.
 */
export function replacingStart(rows: readonly TaskOutcome[], startId: string): TaskOutcome[] {
  const used = new Map<string, number>();
  return rows.map((row) => {
    const firstIndex = Math.max(0, ...row.tables.map((table) => used.get(table) ?? 0));
    for (const table of row.tables) used.set(table, firstIndex + row.ranges.length);
    return { ...row, id: startId, firstIndex };
  });
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
