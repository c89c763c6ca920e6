/**
 * Incremental eligibility applied to planned tasks: before a tick runs incremental tasks, ask the node how much of
 * each table is marked repaired and drop the tables (and tasks) that have nothing to repair. Full-repair tasks
 * pass through untouched. The tick calls this between plan and lease, so a skipped table never takes a lease.
 */
import { narrowTask, type RepairTask } from '../core/index.js';
import { incrementalDecision, type IncrementalDecision, type RepairedStateReader } from '../repair/index.js';

export interface IncrementalFilterResult<
  T extends Pick<RepairTask, 'id' | 'keyspace' | 'tables' | 'incremental' | 'reason'>,
> {
  /** Tasks to run: full ones as planned, incremental ones narrowed to their eligible tables. */
  readonly tasks: T[];
  /** Tables left out because they are fully repaired, with the decision that says so. */
  readonly skipped: IncrementalDecision[];
  /** Every decision taken (for `--verbose` and the plan's explanation). */
  readonly decisions: IncrementalDecision[];
}

export async function filterIncrementalTasks<
  T extends Pick<RepairTask, 'id' | 'keyspace' | 'tables' | 'incremental' | 'reason'>,
>(tasks: readonly T[], reader: RepairedStateReader): Promise<IncrementalFilterResult<T>> {
  // One read per keyspace, for every incremental table of it.
  const wanted = new Map<string, Set<string>>();
  for (const task of tasks) {
    if (!task.incremental) continue;
    const set = wanted.get(task.keyspace) ?? new Set<string>();
    for (const table of task.tables) set.add(table);
    wanted.set(task.keyspace, set);
  }
  const decisions = new Map<string, IncrementalDecision>();
  for (const [keyspace, tables] of wanted) {
    for (const state of await reader.read(keyspace, [...tables].sort())) {
      decisions.set(`${state.keyspace}.${state.table}`, incrementalDecision(state));
    }
  }
  const decide = (keyspace: string, table: string): IncrementalDecision =>
    decisions.get(`${keyspace}.${table}`) ??
    incrementalDecision({ keyspace, table, percentRepaired: null, maxRepairedAt: null });

  const kept: T[] = [];
  const skipped: IncrementalDecision[] = [];
  for (const task of tasks) {
    if (!task.incremental) {
      kept.push(task);
      continue;
    }
    const eligible = task.tables.filter((table) => decide(task.keyspace, table).eligible);
    skipped.push(...task.tables.filter((t) => !eligible.includes(t)).map((t) => decide(task.keyspace, t)));
    if (eligible.length === task.tables.length) kept.push(task);
    else if (eligible.length > 0) kept.push(narrowTask(task, eligible));
  }
  return { tasks: kept, skipped, decisions: [...decisions.values()] };
}
