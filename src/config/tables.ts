/**
 * Effective repair settings for one table: the `repair` section overlaid with the matching entry of
 * `repair.tables`, and, for what neither sets, the table's own schema.
 *
 * Precedence (documented in tend.yml(5)): an entry whose `match` is exactly `keyspace.table` beats every regex
 * entry; among regex entries (`/…/`, tested against `keyspace.table`, unanchored unless you anchor it) the first
 * one in file order wins. Only one entry applies — entries are not merged with each other — so reading the file
 * top to bottom tells an operator what a table gets. Keys the entry leaves out come from the `repair` section.
 *
 * The schedule (interval, warn and error alarm) resolves value by value: the entry's, else the `repair` section's,
 * else from the table: error = gc_grace_seconds (at most repair.historyLookback, the furthest back tend reads),
 * warn = 80% and interval = 70% of the error alarm, whatever set it (schedule-defaults.ts). Each value says where
 * it came from, for `schedule status`.
 *
 * Pure, so the planner may use it.
 */
import type { RepairConfig, TableOverride } from './schema.js';
import { ALARM_WARN_SHARE, DEFAULT_GC_GRACE_MS, INTERVAL_SHARE } from './schedule-defaults.js';

/**
 * Where one schedule value came from: a configuration key (`repair.interval`, `repair.tables[2].alarm.error`), the
 * table's gc_grace_seconds, or tend's built-in default; `share` when it is a share of the error alarm.
 */
export interface ValueSource {
  readonly from: 'config' | 'gc_grace' | 'default';
  /** The configuration key (from: config). */
  readonly key?: string;
  /** A share of the value named by the rest (0.7 of gc_grace_seconds, 0.8 of repair.alarm.error). */
  readonly share?: number;
  /** gc_grace_seconds was longer than repair.historyLookback, which capped the value. */
  readonly capped?: boolean;
  /** Human text: `repair.interval`, `70% of gc_grace_seconds`, `default (gc_grace_seconds is 0)`. */
  readonly text: string;
}

export interface TableSettings {
  enabled: boolean;
  interval: number;
  alarm: { warn: number; error: number };
  /** Where interval, warn and error came from (`schedule status`). */
  sources: { interval: ValueSource; warn: ValueSource; error: ValueSource };
  /** The table's gc_grace_seconds in ms, when known. */
  gcGraceMs: number | undefined;
  skipGcGraceZero: boolean;
  skipTwcs: boolean;
  type: RepairConfig['type'];
  parallelism: RepairConfig['parallelism'];
  sizeTarget: number;
  taskTimeout: number;
  weight: number;
  /** The `match` of the entry that applied, if any (for `schedule plan --explain`). */
  matchedBy: string | undefined;
}

/** What the schema says about a table that its schedule follows. */
export interface TableSchemaInfo {
  /** gc_grace_seconds in ms. */
  readonly gcGraceMs?: number | undefined;
  /** The compaction strategy class (system_schema.tables.compaction['class']). */
  readonly compactionClass?: string | undefined;
}

/** TimeWindowCompactionStrategy, by its full or short class name . */
export function isTwcs(compactionClass: string | undefined): boolean {
  return compactionClass !== undefined && /(^|\.)TimeWindowCompactionStrategy$/.test(compactionClass);
}

/**
 * Why the table's schema keeps it off the schedule, or undefined: gc_grace_seconds = 0 (repair.skipGcGraceZero) or
 * TWCS (repair.skipTwcs). A table turned off in configuration is the planner's `disabled`, not this.
 */
export function schemaSkip(
  settings: Pick<TableSettings, 'gcGraceMs' | 'skipGcGraceZero' | 'skipTwcs' | 'matchedBy'>,
  schema: TableSchemaInfo | undefined,
): { code: 'gc_grace_zero' | 'twcs'; reason: string } | undefined {
  if (settings.gcGraceMs === 0 && settings.skipGcGraceZero) {
    return {
      code: 'gc_grace_zero',
      reason:
        'gc_grace_seconds is 0: tombstones are purged at the first compaction, so repair cannot keep deleted data ' +
        `from coming back (skipGcGraceZero: false${settings.matchedBy ? ` in the repair.tables entry ${settings.matchedBy}` : ' in repair'} repairs it anyway)`,
    };
  }
  if (settings.skipTwcs && isTwcs(schema?.compactionClass)) {
    return {
      code: 'twcs',
      reason: `TimeWindowCompactionStrategy, and skipTwcs is true${settings.matchedBy ? ` (repair.tables entry ${settings.matchedBy})` : ' (repair.skipTwcs)'}`,
    };
  }
  return undefined;
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

function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

/** The error alarm, warn alarm and interval of a table, each with its source. */
function resolveSchedule(
  repair: RepairConfig,
  entry: TableOverride | undefined,
  entryKey: string | undefined,
  schema: TableSchemaInfo | undefined,
): { interval: number; warn: number; error: number; sources: TableSettings['sources'] } {
  const configured = (value: number | undefined, key: string): { value: number; source: ValueSource } | undefined =>
    value === undefined ? undefined : { value, source: { from: 'config', key, text: key } };
  const error =
    configured(entry?.alarm?.error, `${entryKey}.alarm.error`) ??
    configured(repair.alarm.error, 'repair.alarm.error') ??
    fromSchema(schema, repair.historyLookback);
  const share = (fraction: number): { value: number; source: ValueSource } => ({
    value: Math.round(error.value * fraction),
    source: {
      ...error.source,
      share: fraction,
      text: `${percent(fraction)} of ${error.source.from === 'config' ? error.source.key : error.source.text}`,
    },
  });
  const warn =
    configured(entry?.alarm?.warn, `${entryKey}.alarm.warn`) ??
    configured(repair.alarm.warn, 'repair.alarm.warn') ??
    share(ALARM_WARN_SHARE);
  const interval =
    configured(entry?.interval, `${entryKey}.interval`) ??
    configured(repair.interval, 'repair.interval') ??
    share(INTERVAL_SHARE);
  return {
    interval: interval.value,
    warn: warn.value,
    error: error.value,
    sources: { interval: interval.source, warn: warn.source, error: error.source },
  };
}

/** The error alarm the schema gives: gc_grace_seconds, at most the history lookback; the default when unknown or 0. */
function fromSchema(schema: TableSchemaInfo | undefined, lookbackMs: number): { value: number; source: ValueSource } {
  const grace = schema?.gcGraceMs;
  if (grace === undefined || grace <= 0) {
    const why = grace === undefined ? 'gc_grace_seconds unknown' : 'gc_grace_seconds is 0';
    return {
      value: Math.min(DEFAULT_GC_GRACE_MS, lookbackMs),
      source: { from: 'default', text: `default 10d (${why})` },
    };
  }
  if (grace > lookbackMs) {
    return {
      value: lookbackMs,
      source: { from: 'gc_grace', capped: true, text: 'gc_grace_seconds, capped at repair.historyLookback' },
    };
  }
  return { value: grace, source: { from: 'gc_grace', text: 'gc_grace_seconds' } };
}

export function tableSettings(
  repair: RepairConfig,
  keyspace: string,
  table: string,
  schema?: TableSchemaInfo,
): TableSettings {
  const entry = findTableOverride(repair.tables, keyspace, table);
  const entryKey = entry ? `repair.tables[${repair.tables.indexOf(entry)}]` : undefined;
  const schedule = resolveSchedule(repair, entry, entryKey, schema);
  return {
    enabled: entry?.enabled ?? true,
    interval: schedule.interval,
    alarm: { warn: schedule.warn, error: schedule.error },
    sources: schedule.sources,
    gcGraceMs: schema?.gcGraceMs,
    skipGcGraceZero: entry?.skipGcGraceZero ?? repair.skipGcGraceZero,
    skipTwcs: entry?.skipTwcs ?? repair.skipTwcs,
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
