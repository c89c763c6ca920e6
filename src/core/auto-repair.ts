// Cassandra's own scheduled repair, AutoRepair (CEP-37; 6.0, and 5.0.7+ behind -Dcassandra.autorepair.enable=true).
// When it repairs a table, tend must not repair the same table too: two schedulers double the load and each
// repair's validation competes with the other's. Whether it does is known on the node itself, from two places
// (both read over CQL by src/cluster/auto-repair.ts):
// - the node's configuration, live in system_views.settings (`auto_repair.*`; `nodetool setautorepairconfig`
//   changes it at run time and the table shows the change): the scheduler on or off, and per repair type
//   (full, incremental, preview_repaired) whether it runs and which datacenters it ignores;
// - the table's `auto_repair` option in system_schema.tables (full_enabled, incremental_enabled,
//   preview_repaired_enabled, priority): null on a table created before AutoRepair was on, meaning all enabled.
// preview_repaired only compares repaired data and repairs nothing, so it does not count.

export type AutoRepairType = 'full' | 'incremental' | 'preview_repaired';
const REPAIRING_TYPES = ['full', 'incremental'] as const;

export interface AutoRepairTypeConfig {
  readonly enabled: boolean;
  /** Datacenters whose nodes do not run this repair type. */
  readonly ignoreDcs: readonly string[];
}

/** AutoRepair as one node is configured; see `parseAutoRepairSettings`. */
export interface AutoRepairNodeConfig {
  /** auto_repair.enabled, and the scheduler started (the JVM flag). */
  readonly enabled: boolean;
  readonly types: Readonly<Record<AutoRepairType, AutoRepairTypeConfig>>;
}

/** Which repair types AutoRepair runs on this node for one table, and in what words. */
export interface AutoRepairCoverage {
  readonly types: readonly ('full' | 'incremental')[];
  readonly reason: string;
}

/**
 * The body of each `TYPE=Options{…}` in auto_repair.repair_type_overrides, as Cassandra prints it (Java's
 * toString: `{incremental=Options{enabled=null, …, ignore_dcs=[dc3, dc2], …}, full=Options{…}}`). Options may
 * nest braces (a token_range_splitter's parameters), so the body runs to the matching brace.
 */
export function parseOverrides(text: string): Map<string, string> {
  const bodies = new Map<string, string>();
  const opener = /(\w+)=Options\{/g;
  for (let match = opener.exec(text); match; match = opener.exec(text)) {
    let depth = 1;
    let index = opener.lastIndex;
    while (index < text.length && depth > 0) {
      if (text[index] === '{') depth++;
      else if (text[index] === '}') depth--;
      index++;
    }
    bodies.set(match[1]!, text.slice(opener.lastIndex, index - 1));
    opener.lastIndex = index;
  }
  return bodies;
}

function optionOf(body: string | undefined, name: string): string | undefined {
  if (body === undefined) return undefined;
  const match = new RegExp(`(?:^|, )${name}=(\\[[^\\]]*\\]|[^,]*)`).exec(body);
  const value = match?.[1]?.trim();
  return value === undefined || value === 'null' ? undefined : value;
}

/** `[dc1, dc2]` (or `dc1,dc2`) as a list. */
function listOf(text: string | undefined): string[] {
  if (text === undefined) return [];
  return text
    .replace(/^\[|\]$/g, '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/**
 * AutoRepair's configuration from a node's system_views.settings rows (name → value). Undefined when the node has
 * no AutoRepair at all (Cassandra 4.1, 5.0 before 5.0.7): no `auto_repair.enabled` setting.
 */
export function parseAutoRepairSettings(
  settings: Readonly<Record<string, string | null | undefined>>,
): AutoRepairNodeConfig | undefined {
  const enabled = settings['auto_repair.enabled'];
  if (enabled === undefined) return undefined;
  const scheduling = settings['auto_repair.auto_repair_scheduling_enabled'];
  const overrides = parseOverrides(settings['auto_repair.repair_type_overrides'] ?? '');
  const globalEnabled = settings['auto_repair.global_settings.enabled'] === 'true';
  const globalIgnore = listOf(settings['auto_repair.global_settings.ignore_dcs'] ?? undefined);
  const typeConfig = (type: AutoRepairType): AutoRepairTypeConfig => {
    const body = overrides.get(type);
    const own = optionOf(body, 'enabled');
    const ignore = optionOf(body, 'ignore_dcs');
    return {
      enabled: own === undefined ? globalEnabled : own === 'true',
      ignoreDcs: ignore === undefined ? globalIgnore : listOf(ignore),
    };
  };
  return {
    enabled: enabled === 'true' && scheduling !== 'false',
    types: {
      full: typeConfig('full'),
      incremental: typeConfig('incremental'),
      preview_repaired: typeConfig('preview_repaired'),
    },
  };
}

/**
 * The repair types AutoRepair runs for a table on a node of `datacenter`: the scheduler on, the type enabled and
 * the datacenter not ignored for it, and the table's own option (`auto_repair = {'full_enabled': …}`; null: every
 * type enabled) not turning it off. Undefined when AutoRepair does not repair the table there.
 */
export function autoRepairCoverage(
  node: AutoRepairNodeConfig | undefined,
  datacenter: string,
  tableOption: Readonly<Record<string, string>> | null | undefined,
): AutoRepairCoverage | undefined {
  if (!node?.enabled) return undefined;
  const types = REPAIRING_TYPES.filter((type) => {
    const config = node.types[type];
    if (!config.enabled || config.ignoreDcs.includes(datacenter)) return false;
    return tableOption?.[`${type}_enabled`] !== 'false';
  });
  if (types.length === 0) return undefined;
  return {
    types,
    reason:
      `Cassandra's AutoRepair runs ${types.join(' and ')} repairs of this table on this node ` +
      `(auto_repair.enabled, ${types.map((t) => `${t} enabled`).join(', ')}${tableOption ? `, table option auto_repair ${types.map((t) => `${t}_enabled=${tableOption[`${t}_enabled`] ?? 'true'}`).join(', ')}` : ', table option auto_repair not set: enabled'}); ` +
      `tend leaves it to AutoRepair and counts its repairs as history (turn it off for the table with ALTER TABLE … WITH auto_repair = {'full_enabled': 'false', 'incremental_enabled': 'false'})`,
  };
}

/**
 * The tables tend leaves to AutoRepair: each one it covers on this node's datacenter gets the skip `auto_repair`
 * with the reason (`schedule plan --explain`, `schedule status` and the tick's skipped list show it). A table
 * already skipped for another reason keeps that reason. `options`: `keyspace.table` → the table's auto_repair
 * option (absent or null: every type enabled).
 */
export function withAutoRepairSkips<
  T extends { readonly keyspace: string; readonly table: string; readonly skip?: unknown },
>(
  tables: readonly T[],
  node: AutoRepairNodeConfig | undefined,
  datacenter: string,
  options: ReadonlyMap<string, Readonly<Record<string, string>> | null>,
): T[] {
  if (!node?.enabled) return [...tables];
  return tables.map((table) => {
    if (table.skip !== undefined) return table;
    const coverage = autoRepairCoverage(node, datacenter, options.get(`${table.keyspace}.${table.table}`));
    return coverage ? { ...table, skip: { code: 'auto_repair' as const, reason: coverage.reason } } : table;
  });
}
