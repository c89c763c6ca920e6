/**
 * The `KEYSPACE[.TABLE]` argument of `schedule status` and `history show`, resolved against the schema.
 *
 * Names follow CQL: `"MyKeyspace"."MyTable"` (double quotes, `""` for a quote inside) is matched exactly; an
 * unquoted name is matched exactly first and then case-insensitively the way CQL folds unquoted identifiers to
 * lower case, so `shop.orders`, `Shop.Orders` and `"Shop"."Orders"` all do what the operator meant when the schema
 * is unambiguous. An unknown name is a UsageError (exit 2) naming the closest existing names.
 */
import { UsageError } from '../errors.js';
import { closest, editDistance } from '../config/suggest.js';

export interface NamePart {
  readonly name: string;
  readonly quoted: boolean;
}

export interface ScopeArgument {
  readonly keyspace: NamePart;
  readonly table?: NamePart;
}

/** A resolved scope: a keyspace, optionally one table of it. */
export interface TableScope {
  readonly keyspace: string;
  readonly table?: string;
}

/** Splits `KEYSPACE[.TABLE]` honouring double-quoted parts; throws UsageError when malformed. */
export function parseScopeArgument(text: string): ScopeArgument {
  const parts: NamePart[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw new UsageError(`"${text}" is not KEYSPACE or KEYSPACE.TABLE: ${why}`, {
      hints: ['quote mixed-case names as CQL does, inside shell quotes: \'"MyKeyspace"."MyTable"\''],
    });
  };
  while (i <= text.length) {
    if (text[i] === '"') {
      let name = '';
      i++;
      for (;;) {
        if (i >= text.length) fail('unterminated quote');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            name += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        name += text[i];
        i++;
      }
      if (name === '') fail('empty quoted name');
      parts.push({ name, quoted: true });
    } else {
      let name = '';
      while (i < text.length && text[i] !== '.') {
        name += text[i];
        i++;
      }
      if (name === '') fail('empty name');
      if (name.includes('"')) fail('a quote in the middle of a name');
      parts.push({ name, quoted: false });
    }
    if (i >= text.length) break;
    if (text[i] !== '.') fail(`unexpected "${text[i]}"`);
    i++;
    if (i >= text.length) fail('nothing after the dot');
  }
  if (parts.length === 0 || parts.length > 2) fail(parts.length === 0 ? 'empty' : 'more than one dot');
  const [keyspace, table] = parts as [NamePart, NamePart | undefined];
  return table ? { keyspace, table } : { keyspace };
}

/** CQL's rendering of a name: bare when it is a lower-case identifier, double-quoted otherwise. */
export function cqlName(name: string): string {
  return /^[a-z][a-z0-9_]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

export function displayTable(keyspace: string, table: string): string {
  return `${cqlName(keyspace)}.${cqlName(table)}`;
}

function match(part: NamePart, candidates: readonly string[]): string | undefined {
  if (candidates.includes(part.name)) return part.name;
  if (part.quoted) return undefined;
  const folded = candidates.filter((candidate) => candidate.toLowerCase() === part.name.toLowerCase());
  return folded.length === 1 ? folded[0] : candidates.find((candidate) => candidate === part.name.toLowerCase());
}

/** Names close to `word`: every one within the edit distance `closest` allows, nearest first, then names containing it. */
function suggestions(word: string, candidates: readonly string[], render: (name: string) => string): string[] {
  const normalize = (value: string) => value.toLowerCase().replace(/[-_]/g, '');
  const target = normalize(word);
  const allowed = Math.max(2, Math.floor(word.length / 3));
  const near = candidates
    .map((candidate) => ({ candidate, distance: editDistance(target, normalize(candidate)) }))
    .filter(({ candidate, distance }) => distance <= allowed || normalize(candidate).includes(target))
    .sort((a, b) => a.distance - b.distance || (a.candidate < b.candidate ? -1 : 1))
    .map(({ candidate }) => candidate);
  const best = closest(word, candidates);
  return [...new Set([...(best ? [best] : []), ...near])].slice(0, 5).map(render);
}

/**
 * Resolves a parsed scope against the keyspaces tend sees (name → tables). Keyspaces tend never schedules
 * (system ones, its own) are reported as such rather than as unknown.
 */
export function resolveScope(
  argument: ScopeArgument,
  keyspaces: Readonly<Record<string, readonly string[]>>,
  excluded: readonly { name: string; reason: string }[] = [],
): TableScope {
  const names = Object.keys(keyspaces).sort();
  const keyspace = match(argument.keyspace, names);
  if (keyspace === undefined) {
    const exclusion = excluded.find((e) => e.name === argument.keyspace.name);
    if (exclusion)
      throw new UsageError(`keyspace ${cqlName(exclusion.name)} is not scheduled by tend: ${exclusion.reason}`);
    const near = suggestions(argument.keyspace.name, names, cqlName);
    throw new UsageError(`unknown keyspace ${cqlName(argument.keyspace.name)}`, {
      hints:
        near.length > 0
          ? [`did you mean: ${near.join(', ')}?`]
          : [`keyspaces: ${names.map(cqlName).join(', ') || 'none'}`],
    });
  }
  if (!argument.table) return { keyspace };
  const tables = [...(keyspaces[keyspace] ?? [])].sort();
  const table = match(argument.table, tables);
  if (table === undefined) {
    const near = suggestions(argument.table.name, tables, (t) => displayTable(keyspace, t));
    throw new UsageError(`unknown table ${displayTable(keyspace, argument.table.name)}`, {
      hints:
        near.length > 0
          ? [`did you mean: ${near.join(', ')}?`]
          : [`tables of ${cqlName(keyspace)}: ${tables.map(cqlName).join(', ') || 'none'}`],
    });
  }
  return { keyspace, table };
}

export function inScope(scope: TableScope | undefined, keyspace: string, table: string): boolean {
  return !scope || (scope.keyspace === keyspace && (scope.table === undefined || scope.table === table));
}
