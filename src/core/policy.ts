// Run policies: rules that forbid starting a repair now. Evaluated purely from their data and "now" (Cassandra's
// clock); time zones use Intl, which ships its own tz database, so no I/O is needed.

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
export const WEEKDAYS: readonly Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/**
 * A weekly time window.
 * - mode 'block': repairs must not start inside the window (e.g. business hours).
 * - mode 'allow': when at least one allow window applies to a table, repairs may start only inside one of them.
 * `start`/`end` are local `HH:MM` (end may be 24:00) in `timezone` (IANA, default UTC); `end` before `start` crosses midnight and
 * then belongs to the day it starts on; `start` == `end` means the whole day. `days` empty or absent: every day.
 * Scope: `keyspace`/`table` absent or '*' match everything; `datacenters` absent or empty match every datacenter
 * (matched against the local node's datacenter).
 */
export interface TimeWindow {
  readonly mode: 'block' | 'allow';
  readonly days?: readonly Weekday[];
  readonly start: string;
  readonly end: string;
  readonly timezone?: string;
  readonly keyspace?: string;
  readonly table?: string;
  readonly datacenters?: readonly string[];
  /** Where the window came from (e.g. 'config', 'tend.run_windows'), echoed in reasons. */
  readonly source?: string;
}

/** A pause (`tend schedule pause`): blocks everything in scope until `until` (epoch ms), or until resumed. */
export interface Pause {
  readonly until?: number | null;
  readonly reason?: string;
  readonly keyspace?: string;
  readonly table?: string;
}

export interface RunPolicies {
  readonly windows?: readonly TimeWindow[];
  readonly pauses?: readonly Pause[];
}

export interface PolicySubject {
  readonly now: number;
  readonly keyspace: string;
  readonly table: string;
  readonly datacenter: string;
}

export interface PolicyDecision {
  readonly allowed: boolean;
  /** Human-readable reasons when not allowed, one per rule that forbids. */
  readonly reasons: readonly string[];
}

/** A policy cannot be evaluated (malformed time, unknown time zone). */
export class PolicyError extends Error {
  override readonly name = 'PolicyError';
}

const HH_MM = /^(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))$/;

/** Minutes after midnight of an `HH:MM` string; throws PolicyError when malformed. */
export function parseClockTime(text: string): number {
  const match = HH_MM.exec(text);
  if (!match) throw new PolicyError(`"${text}" is not a time of day: expected HH:MM (00:00–24:00)`);
  return Number(match[1] ?? match[3]) * 60 + Number(match[2] ?? match[4]);
}

export function isValidTimeZone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

// Formatter construction is costly; windows usually share a few time zones.
const formatters = new Map<string, Intl.DateTimeFormat>();

/** Weekday (0 = Sunday) and minutes after midnight of `now` in `timezone`. */
export function localClock(now: number, timezone = 'UTC'): { weekday: number; minutes: number } {
  let format = formatters.get(timezone);
  if (!format) {
    try {
      format = new Intl.DateTimeFormat('en-US', {
        timeZone: timezone,
        weekday: 'short',
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      });
    } catch {
      throw new PolicyError(`unknown time zone "${timezone}"`);
    }
    formatters.set(timezone, format);
  }
  let weekday = 0;
  let hour = 0;
  let minute = 0;
  for (const part of format.formatToParts(new Date(now))) {
    if (part.type === 'weekday') weekday = WEEKDAYS.indexOf(part.value.toLowerCase().slice(0, 3) as Weekday);
    else if (part.type === 'hour') hour = Number(part.value) % 24;
    else if (part.type === 'minute') minute = Number(part.value);
  }
  return { weekday, minutes: hour * 60 + minute };
}

function matchesName(pattern: string | undefined, name: string): boolean {
  return pattern === undefined || pattern === '*' || pattern === name;
}

function appliesTo(window: TimeWindow | Pause, subject: PolicySubject): boolean {
  if (!matchesName(window.keyspace, subject.keyspace) || !matchesName(window.table, subject.table)) return false;
  const dcs = 'datacenters' in window ? window.datacenters : undefined;
  return !dcs || dcs.length === 0 || dcs.includes(subject.datacenter);
}

/** True when `now` falls inside the window (ignoring its scope). */
export function windowContains(window: TimeWindow, now: number): boolean {
  const start = parseClockTime(window.start);
  const end = parseClockTime(window.end);
  const { weekday, minutes } = localClock(now, window.timezone ?? 'UTC');
  const onDay = (day: number): boolean =>
    !window.days || window.days.length === 0 || window.days.includes(WEEKDAYS[(day + 7) % 7] ?? 'sun');
  if (start === end || (start === 0 && end === 24 * 60)) return onDay(weekday);
  if (start < end) return onDay(weekday) && minutes >= start && minutes < end;
  return (onDay(weekday) && minutes >= start) || (onDay(weekday - 1) && minutes < end);
}

export function describeWindow(window: TimeWindow): string {
  const days = window.days && window.days.length > 0 ? window.days.join(',') : 'every day';
  const scope = `${window.keyspace ?? '*'}.${window.table ?? '*'}`;
  const from = window.source ? ` from ${window.source}` : '';
  return `${window.mode} window ${days} ${window.start}-${window.end} ${window.timezone ?? 'UTC'} (${scope})${from}`;
}

/** Decides whether a repair of `subject` may start now. */
export function evaluatePolicies(policies: RunPolicies | undefined, subject: PolicySubject): PolicyDecision {
  const reasons: string[] = [];
  for (const pause of policies?.pauses ?? []) {
    if (!appliesTo(pause, subject)) continue;
    if (pause.until !== undefined && pause.until !== null && pause.until <= subject.now) continue;
    const until = pause.until ? ` until ${new Date(pause.until).toISOString()}` : ' until resumed';
    reasons.push(`paused${until}${pause.reason ? `: ${pause.reason}` : ''}`);
  }
  const allowWindows: TimeWindow[] = [];
  for (const window of policies?.windows ?? []) {
    if (!appliesTo(window, subject)) continue;
    if (window.mode === 'allow') allowWindows.push(window);
    else if (windowContains(window, subject.now)) reasons.push(`inside ${describeWindow(window)}`);
  }
  if (allowWindows.length > 0 && !allowWindows.some((w) => windowContains(w, subject.now))) {
    reasons.push(`outside every allow window (${allowWindows.map(describeWindow).join('; ')})`);
  }
  return { allowed: reasons.length === 0, reasons };
}
