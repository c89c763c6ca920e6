/**
 * Run-policy input as operators type it (`tend policy add`, `tend schedule pause --until`) and as it is stored in
 * tend's `run_windows` table, turned into the core's TimeWindow. Pure: no I/O, so every rule is unit-tested.
 */
import { UsageError } from '../errors.js';
import { fnv1a32, isValidTimeZone, parseClockTime, PolicyError, type TimeWindow, type Weekday } from '../core/index.js';
import { parseDuration } from '../config/units.js';
import { parseDays as parseConfigDays } from '../config/schema.js';
import type { WindowRow } from '../cluster/policy-store.js';

/** Monday first: how operators read a week, and the order `policy list` prints. */
export const WEEK: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
/**
 * `mon-fri`, `mon,wed,fri`, `fri-mon` (wraps over the weekend), `weekdays`, `weekends`, `daily`, full names:
 * the syntax of schedule.windows[].days in tend.yml (one parser for both). Returns the days in week order
 * without duplicates.
 */
export function parseDays(text: string): Weekday[] {
  const days = parseConfigDays(text);
  if (!days) {
    throw new UsageError(`--days: "${text}" is not a list of days`, {
      hints: [
        'Days are mon, tue, wed, thu, fri, sat, sun (or full names), ranges like mon-fri, weekdays, weekends, daily.',
      ],
    });
  }
  return days;
}

/** `mon-fri` style text for a set of days (for listings). */
export function formatDays(days: readonly Weekday[]): string {
  const set = new Set(days);
  if (set.size === 0 || set.size === 7) return 'daily';
  const sorted = WEEK.filter((day) => set.has(day));
  const runs: string[] = [];
  let i = 0;
  while (i < 7) {
    if (!set.has(WEEK[i] as Weekday)) {
      i++;
      continue;
    }
    let j = i;
    while (j + 1 < 7 && set.has(WEEK[j + 1] as Weekday)) j++;
    runs.push(j - i >= 2 ? `${WEEK[i]}-${WEEK[j]}` : WEEK.slice(i, j + 1).join(','));
    i = j + 1;
  }
  return runs.length ? runs.join(',') : sorted.join(',');
}

/** What a policy applies to: `KEYSPACE`, `KEYSPACE.TABLE`, `KEYSPACE.*`, or nothing / `*` for every table. */
export interface PolicyTarget {
  keyspace?: string;
  table?: string;
}

const NAME = /^[A-Za-z0-9_]+$/;

export function parseTarget(text: string | undefined): PolicyTarget {
  if (text === undefined || text === '' || text === '*' || text === '*.*') return {};
  const parts = text.split('.');
  const [keyspace, table] = parts;
  const valid = (name: string | undefined) => name !== undefined && NAME.test(name);
  if (parts.length > 2 || !valid(keyspace) || (table !== undefined && table !== '*' && !valid(table))) {
    throw new UsageError(`"${text}" is not KEYSPACE or KEYSPACE.TABLE`, {
      hints: ['Names are letters, digits and underscores; leave it out (or use *) for every table.'],
    });
  }
  return table === undefined || table === '*' ? { keyspace: keyspace! } : { keyspace: keyspace!, table };
}

export type WindowAction = 'block' | 'allow';

/** A time window as `policy add` takes it and `run_windows` stores it. */
export interface WindowSpec extends PolicyTarget {
  action: WindowAction;
  datacenter?: string;
  /** In week order; all seven for every day. */
  days: Weekday[];
  start: string;
  end: string;
  timezone: string;
}

export interface WindowSpecInput {
  action: string;
  target?: string;
  datacenter?: string;
  days?: string;
  start?: string;
  end?: string;
  timezone?: string;
}

/**
 * Validates `policy add` input; every problem is a UsageError (exit 2) naming the flag.
 *
 * A start equal to the end is refused, as in schedule.windows of tend.yml: `08:00-08:00` could mean an empty
 * window or the whole day, and an operator who typed it most likely meant neither. The whole day is
 * `--start 00:00 --end 24:00`. Rows stored by an earlier tend with equal times are still read
 * (`stored: true`) and, as then, cover the whole day: a block window must not silently stop blocking.
 */
export function parseWindowSpec(input: WindowSpecInput, options: { stored?: boolean } = {}): WindowSpec {
  if (input.action !== 'block' && input.action !== 'allow') {
    throw new UsageError(`action must be block or allow, not "${input.action}"`);
  }
  const clock = (value: string | undefined, flag: string): string => {
    if (value === undefined) throw new UsageError(`${flag} is required (HH:MM)`);
    try {
      parseClockTime(value);
    } catch (error) {
      if (error instanceof PolicyError) throw new UsageError(`${flag}: ${error.message}`);
      throw error;
    }
    return value;
  };
  const start = clock(input.start, '--start');
  const end = clock(input.end, '--end');
  if (!options.stored && parseClockTime(start) === parseClockTime(end)) {
    throw new UsageError(`--end equals --start (${start}); a window must have a length`, {
      hints: ['for the whole day use --start 00:00 --end 24:00'],
    });
  }
  const timezone = input.timezone ?? 'UTC';
  if (!isValidTimeZone(timezone)) {
    throw new UsageError(`--timezone: unknown time zone "${timezone}"`, {
      hints: ['Use an IANA name such as UTC, Europe/Berlin or America/New_York.'],
    });
  }
  if (input.datacenter !== undefined && !NAME.test(input.datacenter.replace(/-/g, '_'))) {
    throw new UsageError(`--datacenter: "${input.datacenter}" is not a datacenter name`);
  }
  return {
    action: input.action,
    ...parseTarget(input.target),
    ...(input.datacenter !== undefined ? { datacenter: input.datacenter } : {}),
    days: input.days === undefined ? [...WEEK] : parseDays(input.days),
    start,
    end,
    timezone,
  };
}

/**
 * `job start --window "[DAYS] HH:MM-HH:MM [TIMEZONE]"`, e.g. `"mon-fri 22:00-06:00 Europe/Berlin"` or `01:00-05:00`:
 * the window a job's steps may start in, in one argument, checked by the same rules as `policy add` and
 * schedule.windows (days syntax, times, time zone, no empty window).
 */
export function parseJobWindow(text: string): TimeWindow {
  const usage = `--window: expected "[DAYS] HH:MM-HH:MM [TIMEZONE]", like "mon-fri 22:00-06:00 Europe/Berlin", found "${text.slice(0, 80)}"`;
  const parts = text.trim().split(/\s+/);
  const times = parts.filter((part) => /^\d{1,2}:\d{2}-\d{1,2}:\d{2}$/.test(part));
  if (times.length !== 1 || parts.length > 3) throw new UsageError(usage);
  const [start, end] = times[0]!.split('-') as [string, string];
  const others = parts.filter((part) => part !== times[0]);
  // Days come first when given; whatever is left is the time zone.
  const days = others.length > 0 && parseConfigDays(others[0]!) ? others.shift() : undefined;
  if (others.length > 1) throw new UsageError(usage);
  let spec: WindowSpec;
  try {
    spec = parseWindowSpec({
      action: 'allow',
      start: start.padStart(5, '0'),
      end: end.padStart(5, '0'),
      ...(days !== undefined ? { days } : {}),
      ...(others[0] !== undefined ? { timezone: others[0] } : {}),
    });
  } catch (error) {
    // parseWindowSpec names policy add's flags (--start, --end, --timezone): say which argument it was.
    if (error instanceof UsageError) throw new UsageError(`--window "${text.slice(0, 80)}": ${error.message}`);
    throw error;
  }
  const { days: every, ...window } = toTimeWindow(spec, 'job start --window');
  // Every day reads "every day" in job status, not the seven names.
  return every && every.length < 7 ? { ...window, days: every } : window;
}

/**
 * The id of a window: a hash of what it says, so adding the same window twice (a re-run configuration
 * management job) finds the existing row instead of creating a duplicate.
 */
export function windowId(spec: WindowSpec): string {
  const canonical = [
    spec.action,
    spec.keyspace ?? '*',
    spec.table ?? '*',
    spec.datacenter ?? '*',
    spec.days.join(','),
    spec.start,
    spec.end,
    spec.timezone,
  ].join('|');
  return `w${fnv1a32(canonical).toString(16).padStart(8, '0')}`;
}

/** The core's view of a stored window. */
export function toTimeWindow(spec: WindowSpec, source: string): TimeWindow {
  return {
    mode: spec.action,
    days: spec.days,
    start: spec.start,
    end: spec.end,
    timezone: spec.timezone,
    ...(spec.keyspace !== undefined ? { keyspace: spec.keyspace } : {}),
    ...(spec.table !== undefined ? { table: spec.table } : {}),
    ...(spec.datacenter !== undefined ? { datacenters: [spec.datacenter] } : {}),
    source,
  };
}

const wildcard = (value: string | null | undefined) =>
  value === null || value === undefined || value === '' || value === '*' ? undefined : value;

/**
 * A stored row, validated as strictly as `policy add` validates input. Rows are normally written by tend, but a
 * DBA may edit the table by hand; a bad row is reported (not silently dropped, not fatal) by the caller.
 */
export function windowFromRow(row: WindowRow): WindowSpec {
  try {
    const keyspace = wildcard(row.keyspace_name);
    const table = wildcard(row.table_name);
    const datacenter = wildcard(row.datacenter);
    return parseWindowSpec(
      {
        action: row.action ?? '(none)',
        target: keyspace === undefined ? undefined : table === undefined ? keyspace : `${keyspace}.${table}`,
        ...(datacenter !== undefined ? { datacenter } : {}),
        ...(row.days && row.days.length > 0 ? { days: row.days.join(',') } : {}),
        ...(row.start_time != null ? { start: row.start_time } : {}),
        ...(row.end_time != null ? { end: row.end_time } : {}),
        ...(row.timezone ? { timezone: row.timezone } : {}),
      },
      { stored: true },
    );
  } catch (error) {
    throw new PolicyError(`run_windows row ${row.id}: ${(error as Error).message}`);
  }
}

/** `--until`: either a duration from now (`2h`, `1h30m`, `3d`) or an ISO-8601 time. */
export type UntilSpec = { kind: 'in'; ms: number } | { kind: 'at'; at: number };

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?$/i;
const FIELDS = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?/i;

/**
 * Why the calendar fields of an ISO-8601 text are impossible (2026-02-30, 2026-13-01, 25:00), or undefined.
 * Date.parse does not refuse them: it rolls 2026-02-30 over to 2026-03-02.
 */
function impossibleDate(text: string): string | undefined {
  const match = FIELDS.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour = 0, minute = 0, second = 0] = match.slice(1).map((field) => Number(field ?? 0));
  if (month! < 1 || month! > 12) return `there is no month ${match[2]}`;
  const days = new Date(Date.UTC(year!, month!, 0)).getUTCDate();
  if (day! < 1 || day! > days) return `${match[1]}-${match[2]} has ${days} days, not ${match[3]}`;
  if (hour > 23 || minute > 59 || second > 59)
    return `${match[4]}:${match[5]}${match[6] ? `:${match[6]}` : ''} is not a time of day`;
  return undefined;
}

/**
 * Parses `--until`. A time without an offset is UTC (servers and the cluster clock are UTC; a local-time guess
 * would differ per machine). A date alone means midnight UTC at its start.
 */
export function parseUntil(text: string): UntilSpec {
  const trimmed = text.trim();
  const duration = parseDuration(trimmed);
  if (duration !== undefined) {
    if (duration <= 0) throw new UsageError(`--until: "${text}" is not a positive duration`);
    return { kind: 'in', ms: duration };
  }
  let iso: string | undefined;
  const impossible = ISO_DATE.test(trimmed) || ISO_DATE_TIME.test(trimmed) ? impossibleDate(trimmed) : undefined;
  if (impossible) throw new UsageError(`--until: "${text}" is not a date: ${impossible}`);
  if (ISO_DATE.test(trimmed)) iso = `${trimmed}T00:00:00Z`;
  else {
    const match = ISO_DATE_TIME.exec(trimmed);
    if (match) iso = `${trimmed.replace(' ', 'T')}${match[1] ? '' : 'Z'}`;
  }
  const at = iso === undefined ? NaN : Date.parse(iso);
  if (Number.isNaN(at)) {
    throw new UsageError(`--until: "${text}" is neither a duration nor an ISO-8601 time`, {
      hints: ['Examples: --until 2h, --until 1h30m, --until 2026-12-24T06:00:00Z, --until 2026-12-27 (UTC).'],
    });
  }
  return { kind: 'at', at };
}

/** The absolute expiry of `--until`, durations counted from `now` (Cassandra's clock). */
export function resolveUntil(spec: UntilSpec, now: number): number {
  return spec.kind === 'in' ? now + spec.ms : spec.at;
}
