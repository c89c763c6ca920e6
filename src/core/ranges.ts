// Token ranges (start, end] on the Murmur3 ring, exactly as Cassandra defines them: the start is excluded, the end
// included, a range whose start is at or after its end wraps past MAX_TOKEN, and start == end is the whole ring.
import { TokenFormatError, advanceToken, formatToken, parseToken, RING_SIZE, tokenDistance } from './tokens.js';

/** A range of tokens (start, end]. Wraps when start >= end; start == end means the full ring. */
export interface TokenRange {
  readonly start: bigint;
  readonly end: bigint;
}

/** The JSON form of a range: tokens as decimal strings (JSON has no bigint). */
export interface TokenRangeText {
  readonly start: string;
  readonly end: string;
}

/** Number of tokens in the range, in [1, 2^64]. */
export function rangeWidth(range: TokenRange): bigint {
  return range.start === range.end ? RING_SIZE : tokenDistance(range.start, range.end);
}

export function rangeContainsToken(range: TokenRange, token: bigint): boolean {
  if (range.start === range.end) return true;
  const offset = tokenDistance(range.start, token);
  return offset > 0n && offset <= tokenDistance(range.start, range.end);
}

/** True when every token of `inner` is in `outer` (a range contains itself). */
export function rangeContainsRange(outer: TokenRange, inner: TokenRange): boolean {
  if (outer.start === outer.end) return true;
  if (inner.start === inner.end) return false;
  const offset = tokenDistance(outer.start, inner.start);
  return offset + tokenDistance(inner.start, inner.end) <= tokenDistance(outer.start, outer.end);
}

/**
 * The tokens in both ranges, as 0, 1 or 2 ranges (two when each range wraps into the other's far end, e.g.
 * (0, 100] and (90, 10]). Pieces are returned in ring order starting from `a.start`.
 */
export function intersectRanges(a: TokenRange, b: TokenRange): TokenRange[] {
  if (a.start === a.end) return [b];
  if (b.start === b.end) return [a];
  // Work in offsets from a.start, where `a` is the linear interval (0, wa]. `b` is (ob, ob + wb], possibly reaching
  // past the end of the ring; its copy shifted one ring back, (ob - 2^64, ob + wb - 2^64], covers the wrapped part.
  const wa = tokenDistance(a.start, a.end);
  const ob = tokenDistance(a.start, b.start);
  const wb = tokenDistance(b.start, b.end);
  const pieces: TokenRange[] = [];
  for (const shift of [-RING_SIZE, 0n]) {
    const lo = ob + shift > 0n ? ob + shift : 0n;
    const hi = ob + wb + shift < wa ? ob + wb + shift : wa;
    if (lo < hi) pieces.push({ start: advanceToken(a.start, lo), end: advanceToken(a.start, hi) });
  }
  return pieces;
}

/**
 * Splits a range into `pieces` consecutive ranges of (nearly) equal width that cover it exactly: the first starts at
 * `range.start`, each starts where the previous ends, the last ends at `range.end`. Fewer pieces are returned when the
 * range has fewer tokens than asked for.
 */
export function splitRange(range: TokenRange, pieces: number): TokenRange[] {
  if (!Number.isInteger(pieces) || pieces < 1) throw new RangeError(`cannot split a range into ${pieces} pieces`);
  const width = rangeWidth(range);
  const n = BigInt(pieces) > width ? width : BigInt(pieces);
  if (n === 1n) return [range];
  const out: TokenRange[] = [];
  let previous = range.start;
  for (let i = 1n; i <= n; i++) {
    const end = i === n ? range.end : advanceToken(range.start, (width * i) / n);
    out.push({ start: previous, end });
    previous = end;
  }
  return out;
}

/**
 * How many pieces a range of `estimatedBytes` needs so that each holds about `targetBytes`, assuming data is spread
 * evenly over the range's tokens (the same assumption ecChronos makes for `size_target`). At least 1.
 */
export function piecesForSize(estimatedBytes: number, targetBytes: number): number {
  if (!(targetBytes > 0)) throw new RangeError(`size target must be positive, got ${targetBytes}`);
  if (!(estimatedBytes > 0)) return 1;
  return Math.max(1, Math.ceil(estimatedBytes / targetBytes));
}

/** Splits a range holding `estimatedBytes` into pieces of about `targetBytes` each. */
export function splitRangeBySize(range: TokenRange, estimatedBytes: number, targetBytes: number): TokenRange[] {
  return splitRange(range, piecesForSize(estimatedBytes, targetBytes));
}

/**
 * Parses `START:END` (the `--range` syntax; both tokens decimal, either may be negative, e.g. `-100:-50`).
 * Throws TokenFormatError naming what was wrong.
 */
export function parseTokenRange(text: string): TokenRange {
  const parts = text.trim().split(':');
  if (parts.length !== 2 || parts[0] === undefined || parts[1] === undefined) {
    throw new TokenFormatError(`"${text}" is not a range: expected START:END, e.g. -9223372036854775808:0`);
  }
  if (parts[0].trim() === '' || parts[1].trim() === '') {
    throw new TokenFormatError(`"${text}" is not a range: both START and END are required`);
  }
  return { start: parseToken(parts[0]), end: parseToken(parts[1]) };
}

const NOTATION = /^\(\s*([+-]?\d+)\s*,\s*([+-]?\d+)\s*\]$/;

/**
 * Parses Cassandra's own text form of a range, `(START,END]` (Range.toString(), as stored in
 * system_distributed.parent_repair_history.successful_ranges). Throws TokenFormatError when malformed.
 */
export function parseRangeNotation(text: string): TokenRange {
  const match = NOTATION.exec(text.trim());
  if (!match || match[1] === undefined || match[2] === undefined) {
    throw new TokenFormatError(`"${text}" is not a range: expected (START,END]`);
  }
  return { start: parseToken(match[1]), end: parseToken(match[2]) };
}

/** `START:END`, the inverse of parseTokenRange. */
export function formatTokenRange(range: TokenRange): string {
  return `${formatToken(range.start)}:${formatToken(range.end)}`;
}

/** `(START, END]`, the mathematical notation used in reasons and logs. */
export function describeRange(range: TokenRange | TokenRangeText): string {
  return `(${range.start}, ${range.end}]`;
}

export function toRangeText(range: TokenRange): TokenRangeText {
  return { start: formatToken(range.start), end: formatToken(range.end) };
}

export function fromRangeText(range: TokenRangeText): TokenRange {
  return { start: parseToken(range.start), end: parseToken(range.end) };
}
