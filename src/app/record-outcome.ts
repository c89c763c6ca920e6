/**
 * How the tick and `tend repair table` write a task's outcome to tend's history: one writer, so an ad hoc repair
 * and a scheduled one are recorded the same way. The executors only report outcomes; this use case records them.
 */
import type cassandra from 'cassandra-driver';
import { tablesRepairedByCommand, type RepairTask } from '../core/index.js';
import { recordTaskOutcome } from '../history/tend-history.js';
import { readCommandSessions } from '../history/cassandra-history.js';
import type { RepairOutcome } from '../repair/index.js';
import { historyRecords } from './history-records.js';

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
