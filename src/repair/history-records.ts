/**
 * An executor outcome as rows for tend's history (src/history's TaskOutcome). A task that repaired some of its
 * ranges before it failed, timed out or was aborted (the nodetool executor runs one range at a time) becomes two
 * records: SUCCESS for the ranges Cassandra confirmed, and the task's status for the rest. History therefore
 * never loses finished work, and never claims a range that was not confirmed. A command over several tables that
 * failed, but whose tables Cassandra partly reported repaired (`tablesRepaired`), becomes a SUCCESS record for
 * those tables and the command's status for the others.
 */
import type { RepairTask } from '../core/index.js';
import type { TaskOutcome } from '../history/tend-history.js';
import type { RepairOutcome, RepairStatus } from './executor.js';

const HISTORY_STATUS: Record<RepairStatus, TaskOutcome['status']> = {
  success: 'SUCCESS',
  failed: 'FAILED',
  timed_out: 'TIMEOUT',
  aborted: 'ABORTED',
};

export function historyRecords(
  task: Pick<RepairTask, 'repairType' | 'parallelism'>,
  outcome: RepairOutcome,
  context: { readonly coordinator: string; readonly tickId?: string },
): TaskOutcome[] {
  const base = {
    keyspace: outcome.keyspace,
    tables: outcome.tables,
    startedAt: outcome.startedAt,
    finishedAt: outcome.finishedAt,
    coordinator: context.coordinator,
    participants: outcome.participants,
    repairType: task.repairType,
    parallelism: task.parallelism,
    message: outcome.message,
    tickId: context.tickId,
    taskId: outcome.taskId,
  };
  if (outcome.status === 'success') return [{ ...base, ranges: outcome.ranges, status: 'SUCCESS' }];
  const whole = outcome.tablesRepaired ?? [];
  if (whole.length > 0) {
    const rest = outcome.tables.filter((table) => !whole.includes(table));
    return [
      { ...base, tables: whole, ranges: outcome.ranges, status: 'SUCCESS' },
      ...(rest.length > 0 ? historyRecords(task, { ...outcome, tables: rest, tablesRepaired: [] }, context) : []),
    ];
  }
  const repaired = new Set(outcome.rangesRepaired.map((r) => `${r.start}:${r.end}`));
  const rest = outcome.ranges.filter((r) => !repaired.has(`${r.start}:${r.end}`));
  const records: TaskOutcome[] = [];
  if (outcome.rangesRepaired.length > 0) records.push({ ...base, ranges: outcome.rangesRepaired, status: 'SUCCESS' });
  if (rest.length > 0 || records.length === 0) {
    records.push({ ...base, ranges: rest, status: HISTORY_STATUS[outcome.status] });
  }
  return records;
}
