// Which tables a repair command over several tables repaired, from what Cassandra recorded per table.
//
// One repair command (a parent session) runs one session per group of ranges with the same replicas, and each
// session runs one job per table: Cassandra records SUCCESS or FAILED per table and session in
// system_distributed.repair_history (a session that cannot start at all marks every table FAILED). So when a
// command over 40 small tables fails because of one of them, the other 39 are still known to be repaired.

/** One table's row of one session, as Cassandra recorded it. */
export interface CommandSessionRow {
  readonly table: string;
  readonly sessionId: string;
  readonly parentId: string | null;
  /** SUCCESS, FAILED, or STARTED (the job never finished: cancelled with its session, or still running). */
  readonly status: string;
}

/**
 * The tables of `tables` that every session of one command repaired successfully. A table counts only when it has
 * a SUCCESS row in each session its command ran (sessions are shared by all tables of a command, so a missing row
 * means "not confirmed"); never guesses in favour of a repair. Rows of other commands (another parent) are judged
 * per command: a table repaired by any complete command counts.
 */
export function tablesRepairedByCommand(tables: readonly string[], rows: readonly CommandSessionRow[]): string[] {
  const byParent = new Map<string, CommandSessionRow[]>();
  for (const row of rows) {
    if (row.parentId === null) continue;
    let list = byParent.get(row.parentId);
    if (!list) byParent.set(row.parentId, (list = []));
    list.push(row);
  }
  const repaired = new Set<string>();
  for (const list of byParent.values()) {
    const sessions = new Set(list.map((row) => row.sessionId));
    const succeeded = new Map<string, Set<string>>();
    for (const row of list) {
      if (row.status.toUpperCase() !== 'SUCCESS') continue;
      let set = succeeded.get(row.table);
      if (!set) succeeded.set(row.table, (set = new Set()));
      set.add(row.sessionId);
    }
    for (const table of tables) {
      if (sessions.size > 0 && succeeded.get(table)?.size === sessions.size) repaired.add(table);
    }
  }
  return tables.filter((table) => repaired.has(table));
}
