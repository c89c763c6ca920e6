/**
 * A bench's `--name value` options, through node:util parseArgs: an unknown or misspelt option stops the bench
 * instead of running it silently with the defaults. `numbers` and `strings` name the options with their defaults;
 * a number must be positive.
 */
import { parseArgs } from 'node:util';

export function benchArgs<
  N extends Record<string, number>,
  S extends Record<string, string | undefined> = Record<never, never>,
>(numbers: N, strings: S = {} as S): { [K in keyof N]: number } & S {
  const names = [...Object.keys(numbers), ...Object.keys(strings)];
  const { values } = parseArgs({
    options: Object.fromEntries(names.map((name) => [name, { type: 'string' as const }])),
  });
  const parsed: Record<string, number | string | undefined> = { ...strings };
  for (const [name, fallback] of Object.entries(numbers)) {
    const given = values[name];
    const value = given === undefined ? fallback : Number(given);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} needs a positive number, not "${given}"`);
    parsed[name] = value;
  }
  for (const name of Object.keys(strings)) if (values[name] !== undefined) parsed[name] = values[name];
  return parsed as { [K in keyof N]: number } & S;
}
