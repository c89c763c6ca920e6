/**
 * Effective repair settings for one table: the `repair` section overlaid with the matching entry of
 * `repair.tables`.
 *
 * Precedence (documented in tend.yml(5)): an entry whose `match` is exactly `keyspace.table` beats every regex
 * entry; among regex entries (`/…/`, tested against `keyspace.table`, unanchored unless you anchor it) the first
 * one in file order wins. Only one entry applies — entries are not merged with each other — so reading the file
 * top to bottom tells an operator what a table gets. Keys the entry leaves out come from the `repair` section.
 *
 * Pure, so the planner may use it.
 */
import type { RepairConfig, TableOverride } from './schema.js';

export interface TableSettings {
  enabled: boolean;
  interval: number;
  alarm: { warn: number; error: number };
  type: RepairConfig['type'];
  parallelism: RepairConfig['parallelism'];
  sizeTarget: number;
  taskTimeout: number;
  weight: number;
  /** The `match` of the entry that applied, if any (for `schedule plan --explain`). */
  matchedBy: string | undefined;
}

function isRegex(match: string): boolean {
  return match.length > 2 && match.startsWith('/') && match.endsWith('/');
}

export function findTableOverride(
  tables: readonly TableOverride[],
  keyspace: string,
  table: string,
): TableOverride | undefined {
  const name = `${keyspace}.${table}`;
  const exact = tables.find((entry) => !isRegex(entry.match) && entry.match === name);
  if (exact) return exact;
  return tables.find((entry) => isRegex(entry.match) && new RegExp(entry.match.slice(1, -1)).test(name));
}

export function tableSettings(repair: RepairConfig, keyspace: string, table: string): TableSettings {
  const entry = findTableOverride(repair.tables, keyspace, table);
  return {
    enabled: entry?.enabled ?? true,
    interval: entry?.interval ?? repair.interval,
    alarm: {
      warn: entry?.alarm?.warn ?? repair.alarm.warn,
      error: entry?.alarm?.error ?? repair.alarm.error,
    },
    type: entry?.type ?? repair.type,
    parallelism: entry?.parallelism ?? repair.parallelism,
    sizeTarget: entry?.sizeTarget ?? repair.sizeTarget,
    taskTimeout: entry?.taskTimeout ?? repair.taskTimeout,
    weight: entry?.weight ?? repair.weight,
    matchedBy: entry?.match,
  };
}

/** Whether `entry` applies to `keyspace.table` by its own match (ignoring precedence between entries). */
export function overrideMatches(entry: Pick<TableOverride, 'match'>, keyspace: string, table: string): boolean {
  const name = `${keyspace}.${table}`;
  return isRegex(entry.match) ? new RegExp(entry.match.slice(1, -1)).test(name) : entry.match === name;
}

/**
 * The entries of `repair.tables` that match none of `tables` (every table tend sees, whatever the command's scope):
 * most likely a typo or a table that was dropped, and silently ignored otherwise. With the index and the match, and
 * for an exact match that differs only in case, the name it probably meant (exact matches are case-sensitive, as
 * quoted CQL names are).
 */
export function unmatchedOverrides(
  entries: ReadonlyArray<Pick<TableOverride, 'match'>>,
  tables: ReadonlyArray<{ keyspace: string; table: string }>,
): Array<{ index: number; match: string; didYouMean?: string }> {
  const unmatched: Array<{ index: number; match: string; didYouMean?: string }> = [];
  entries.forEach((entry, index) => {
    if (tables.some(({ keyspace, table }) => overrideMatches(entry, keyspace, table))) return;
    const folded = isRegex(entry.match)
      ? undefined
      : tables.find(({ keyspace, table }) => `${keyspace}.${table}`.toLowerCase() === entry.match.toLowerCase());
    unmatched.push({
      index,
      match: entry.match,
      ...(folded ? { didYouMean: `${folded.keyspace}.${folded.table}` } : {}),
    });
  });
  return unmatched;
}
