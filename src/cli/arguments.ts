/**
 * Checks of command-line values that commander cannot make itself, shared by every command's `parse`. They run
 * before anything connects, so a malformed argument is exit 2 even when Cassandra is down, and they accept exactly
 * what tend documents: decimal whole numbers in a range (not `0x10`, `1e3` or `+5`), names in CQL's syntax, lease
 * resources in the grammar tend generates, bounded free text without control characters.
 */
import { UsageError } from '../errors.js';
import { parseScopeArgument, type ScopeArgument } from '../app/scope.js';
import { escapeControl, hasControl } from '../output/sanitize.js';

/** `text` as a decimal whole number in [min, max], or a UsageError naming `flag` and the range. */
export function wholeNumber(text: unknown, flag: string, min: number, max: number): number {
  const value = String(text);
  const expected = `expected a whole number from ${min} to ${max}`;
  if (!/^\d{1,15}$/.test(value)) throw new UsageError(`${flag}: ${expected}, found '${value}'`);
  const number = Number(value);
  if (number < min || number > max) throw new UsageError(`${flag}: ${expected}, found ${value}`);
  return number;
}

/** The largest --max-tasks: a tick is a bounded batch, and a thousand tasks is far past any sensible one. */
export const MAX_TASKS_LIMIT = 1000;

/**
 * `KEYSPACE[.TABLE]` (CQL quoting allowed): the syntax is checked here, whether the names exist once connected.
 * An empty argument counts as absent only where the argument is optional.
 */
export function scopeArgument(text: unknown): string | undefined {
  if (text === undefined || text === null) return undefined;
  const value = String(text);
  // An empty argument (an unset shell variable) is not "every table": that must be asked for by leaving it out.
  if (value === '') throw new UsageError('KEYSPACE[.TABLE] is empty; leave it out for every table');
  checkName(value, 'KEYSPACE[.TABLE]');
  parseScopeArgument(value);
  return value;
}

/** `KEYSPACE.TABLE` (CQL quoting allowed), required: `ks`, `ks.t.x` and `''` are usage errors. */
export function tableArgument(text: unknown): { text: string; parsed: ScopeArgument } {
  const value = String(text ?? '');
  checkName(value, 'KEYSPACE.TABLE');
  const parsed = parseScopeArgument(value);
  if (!parsed.table) {
    throw new UsageError(`"${value}" is not KEYSPACE.TABLE: the table is missing`, {
      hints: ['name one table, e.g. shop.orders (quote mixed-case names: \'"Shop"."Orders"\')'],
    });
  }
  return { text: value, parsed };
}

function checkName(value: string, what: string): void {
  if (hasControl(value)) throw new UsageError(`"${escapeControl(value)}" is not ${what}: control characters`);
}

/**
 * Lease resources exactly as tend generates them (src/lease/leases.ts): `dc/DC/slot-N` (scope datacenter) and
 * `node/ADDRESS/slot-N` (scope node). Nothing else is accepted, so a name can never step out of tend's key
 * prefix in Consul (`..`, `%2e`, an extra `/`, an empty segment) or name a row tend never writes.
 */
const RESOURCE = /^(dc|node)\/([A-Za-z0-9_.:[\]-]{1,255})\/slot-(0|[1-9]\d{0,3})$/;

export function leaseResource(text: unknown): string {
  const value = String(text ?? '').trim();
  const match = RESOURCE.exec(value);
  const name = match?.[2] ?? '';
  if (!match || name.includes('..') || name === '.' || name.startsWith('.') || name.endsWith('.')) {
    throw new UsageError(`"${escapeControl(value)}" is not a lease resource`, {
      hints: [
        'resources are dc/DATACENTER/slot-N or node/ADDRESS/slot-N, as `tend lease status` lists them',
        'e.g. dc/dc1/slot-0 or node/10.0.0.7/slot-0',
      ],
    });
  }
  return value;
}

/** Longest --reason: one or two sentences for the other operators, not a document. */
export const REASON_MAX_LENGTH = 200;

/** Free text for other operators (`--reason`): trimmed, at most REASON_MAX_LENGTH characters, no control characters. */
export function reasonText(text: unknown, flag = '--reason'): string | undefined {
  if (typeof text !== 'string') return undefined;
  const value = text.trim();
  if (value === '') return undefined;
  if (hasControl(value)) {
    throw new UsageError(`${flag}: control characters are not allowed (found "${escapeControl(value)}")`);
  }
  if ([...value].length > REASON_MAX_LENGTH) {
    throw new UsageError(`${flag}: at most ${REASON_MAX_LENGTH} characters, found ${[...value].length}`);
  }
  return value;
}

/** `--node NODE` (issue 18): with a group configuration (`nodes:`), the covered node to act for. */
export const NODE_OPTION = {
  flags: '--node <NODE>',
  description: 'with a nodes: configuration, act for this covered node (broadcast address or host id)',
} as const;

/** `--node`'s value: an address or host id, checked against the group only once the topology is read. */
export function nodeArgument(text: unknown): string | undefined {
  if (text === undefined) return undefined;
  const value = String(text).trim();
  if (value === '' || value.length > 200 || hasControl(value) || /\s/.test(value)) {
    throw new UsageError(`--node: expected a node address or host id, found '${escapeControl(value)}'`);
  }
  return value;
}
