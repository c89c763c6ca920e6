/**
 * What Cassandra's AutoRepair does on the node tend runs on (src/core/auto-repair.ts decides what it means): the
 * node's `auto_repair.*` settings (system_views.settings, pinned to the node: settings are node-local) and each
 * table's `auto_repair` option (system_schema.tables; the column exists only where the JVM flag
 * -Dcassandra.autorepair.enable=true is set, so its absence means no AutoRepair).
 */
import type cassandra from 'cassandra-driver';
import { parseAutoRepairSettings, type AutoRepairNodeConfig } from '../core/auto-repair.js';

export interface AutoRepairState {
  /** undefined: the node has no AutoRepair (4.1, 5.0 before 5.0.7, or started without the flag). */
  readonly node: AutoRepairNodeConfig | undefined;
  /** `keyspace.table` → the table's auto_repair option (null: not set, every type enabled). */
  readonly tables: ReadonlyMap<string, Readonly<Record<string, string>> | null>;
}

export async function readAutoRepairState(
  client: cassandra.Client,
  host: cassandra.Host | undefined,
): Promise<AutoRepairState> {
  const rows = (
    await client.execute(
      "SELECT name, value FROM system_views.settings WHERE name > 'auto_repair.' AND name < 'auto_repair/' ALLOW FILTERING",
      [],
      {
        ...(host ? { host } : {}),
      },
    )
  ).rows;
  const node = parseAutoRepairSettings(
    Object.fromEntries(rows.map((r) => [String(r.get('name')), r.get('value') as string | null])),
  );
  const tables = new Map<string, Readonly<Record<string, string>> | null>();
  // Off (the settings exist on 5.0.7+ even without the flag, with enabled=false): the schema has no auto_repair column.
  if (!node?.enabled) return { node, tables };
  const schema = await client.execute('SELECT keyspace_name, table_name, auto_repair FROM system_schema.tables');
  for await (const row of schema) {
    tables.set(
      `${String(row.get('keyspace_name'))}.${String(row.get('table_name'))}`,
      (row.get('auto_repair') as Record<string, string> | null) ?? null,
    );
  }
  return { node, tables };
}
