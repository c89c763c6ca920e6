// Murmur3Partitioner token arithmetic. Tokens are signed 64-bit integers held as BigInt because a JavaScript number
// cannot represent them exactly; every function here is exact. On the wire (JSON, CQL text columns, nodetool
// arguments) tokens are decimal strings, e.g. "-9223372036854775808".

/** Smallest Murmur3 token (-2^63). Cassandra never assigns it to a partition; it marks the start of the ring. */
export const MIN_TOKEN = -(2n ** 63n);
/** Largest Murmur3 token (2^63 - 1). */
export const MAX_TOKEN = 2n ** 63n - 1n;
/** Number of distinct tokens on the ring (2^64): the width of the full ring. */
export const RING_SIZE = 2n ** 64n;

/** A token given as a decimal string did not parse, or lies outside the Murmur3 range. */
export class TokenFormatError extends Error {
  override readonly name = 'TokenFormatError';
}

const DECIMAL = /^[+-]?\d+$/;

/** Parses a decimal token. Throws TokenFormatError with the offending text when it is not a Murmur3 token. */
export function parseToken(text: string): bigint {
  const trimmed = text.trim();
  if (!DECIMAL.test(trimmed)) {
    throw new TokenFormatError(`"${text}" is not a token: expected a decimal integer`);
  }
  const token = BigInt(trimmed);
  if (token < MIN_TOKEN || token > MAX_TOKEN) {
    throw new TokenFormatError(`token ${trimmed} is outside the Murmur3 range [${MIN_TOKEN}, ${MAX_TOKEN}]`);
  }
  return token;
}

/** Canonical decimal form, the one Cassandra writes to system_distributed.repair_history. */
export function formatToken(token: bigint): string {
  return token.toString();
}

/**
 * Clockwise distance from `from` to `to`, in [0, 2^64). Moving `from` forward by the result lands on `to`.
 * All wrap-around logic reduces to this: positions measured from a range's start are linear.
 */
export function tokenDistance(from: bigint, to: bigint): bigint {
  const d = to - from;
  return d < 0n ? d + RING_SIZE : d;
}

/** `token + delta` on the ring, wrapping past MAX_TOKEN back to MIN_TOKEN. `delta` may be any non-negative amount. */
export function advanceToken(token: bigint, delta: bigint): bigint {
  let t = token + (delta % RING_SIZE);
  if (t > MAX_TOKEN) t -= RING_SIZE;
  return t;
}

/** Sort comparator for bigint tokens (Array.prototype.sort cannot subtract bigints into a number). */
export function compareTokens(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
