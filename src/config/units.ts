/**
 * Durations (`90s`, `30m`, `7d`, `1h30m`) and sizes (`200MiB`, `1GB`) as written in tend.yml, parsed to
 * milliseconds and bytes, and formatted back for `config show` so the output can be pasted into a config file.
 */

const DURATION_UNITS_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g;
export const DURATION_PATTERN = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+$/;

/**
 * The longest duration anything in tend may mean: 100 years. Every key and option has a much tighter bound of its
 * own; this one keeps `now - duration` a valid Date and the value finite whatever digits are typed (`999999999w`
 * once became "Invalid date", and a few hundred digits became Infinity).
 */
export const MAX_DURATION_MS = 100 * 365 * 86_400_000;

/**
 * Milliseconds for `90s`, `30m`, `7d`, `1h30m`; undefined when the text is not a duration or is longer than
 * MAX_DURATION_MS.
 */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (!DURATION_PATTERN.test(trimmed)) return undefined;
  let total = 0;
  for (const match of trimmed.matchAll(DURATION_PART)) {
    total += Number(match[1]) * (DURATION_UNITS_MS[match[2] as string] as number);
  }
  // NaN cannot come out of the pattern, but Infinity can (a few hundred digits); both fail this test.
  if (!(total <= MAX_DURATION_MS)) return undefined;
  return Math.round(total);
}

/** The range a duration key or option accepts, in milliseconds, both ends included. */
export interface DurationRange {
  readonly min: number;
  readonly max: number;
}

/** `between 1s and 7d`: how errors and the documentation state a range. */
export function describeDurationRange(range: DurationRange): string {
  return `between ${formatDuration(range.min)} and ${formatDuration(range.max)}`;
}

/**
 * Parses a duration and checks it against `range`: the milliseconds, or why not (`expected a duration between 1s
 * and 7d`) for the caller to complete with what it found.
 */
export function parseDurationIn(text: string, range: DurationRange): number | { expected: string } {
  const ms = parseDuration(text);
  if (ms === undefined || ms < range.min || ms > range.max) {
    return { expected: `a duration ${describeDurationRange(range)}` };
  }
  return ms;
}

/** The shortest exact spelling of a duration: 604800000 → `7d`, 5400000 → `1h30m`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1],
  ] as const) {
    if (rest >= size) {
      const count = Math.floor(rest / size);
      out += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return out;
}

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  tb: 1000 ** 4,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

export const SIZE_PATTERN = /^(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)$/i;

/** Bytes for `200MiB`, `1GB`, `512B`; undefined when the text is not a size or not a safe integer of bytes. */
export function parseSize(text: string): number | undefined {
  const match = SIZE_PATTERN.exec(text.trim());
  if (!match) return undefined;
  const bytes = Math.round(Number(match[1]) * (SIZE_UNITS[(match[2] as string).toLowerCase()] as number));
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** `209715200` → `200MiB`; falls back to bytes when no binary unit divides evenly. */
export function formatSize(bytes: number): string {
  for (const [unit, size] of [
    ['TiB', 1024 ** 4],
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}B`;
}
