/** Small formatters shared by the output layer: times for humans or machines, logfmt values. */
import { escapeControl, hasControl } from './sanitize.js';

const UNITS: ReadonlyArray<[string, number]> = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
];

/** `3h ago`, `in 2d`, `just now` — for a terminal, where the reader's "now" is the screen's now. */
export function relativeTime(date: Date, now: Date): string {
  const delta = date.getTime() - now.getTime();
  const magnitude = Math.abs(delta);
  if (magnitude < 1000) return 'just now';
  for (const [unit, size] of UNITS) {
    if (magnitude >= size) {
      const count = Math.floor(magnitude / size);
      return delta < 0 ? `${count}${unit} ago` : `in ${count}${unit}`;
    }
  }
  return 'just now';
}

/** ISO-8601 UTC to the second: what scripts, journald readers and other time zones agree on. */
export function isoTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A logfmt value: bare when safe, otherwise double-quoted with escapes. */
export function logfmtValue(value: unknown): string {
  let text: string;
  if (value instanceof Date) text = isoTime(value);
  else if (typeof value === 'string') text = value;
  else if (value === undefined) text = '';
  else if (typeof value === 'object' && value !== null) text = JSON.stringify(value);
  else text = String(value);
  if (text !== '' && /^[^\s"=\\]+$/.test(text) && !hasControl(text)) return text;
  // Quoted, with every control character escaped: one journal entry per line, nothing for a terminal to obey.
  return `"${escapeControl(text.replace(/\\/g, '\\\\').replace(/"/g, '\\"'))}"`;
}

export type Fields = Readonly<Record<string, unknown>>;

export function logfmt(fields: Fields): string {
  return Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${logfmtValue(value)}`)
    .join(' ');
}
