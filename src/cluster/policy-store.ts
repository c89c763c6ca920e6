/**
 * Run policies kept in Cassandra: time windows (`run_windows`) and the cluster-wide pause (`pauses`), both a handful
 * of rows read whole on every tick. This adapter holds their CQL and consistency levels and reports rows as stored;
 * what a row means (validation, the core's TimeWindow) is decided by the use cases (src/app/policies.ts).
 *
 * Consistency: every tick reads at LOCAL_QUORUM, so writes go out at EACH_QUORUM: a pause or a new block window
 * must be seen by the next tick in every datacenter, not eventually. When a datacenter is unreachable the write
 * falls back to LOCAL_QUORUM and says so; refusing to pause during an incident would be worse.
 */
import cassandra from 'cassandra-driver';
import { TendError } from '../errors.js';
import { allRows, asClusterError, clusterNow, driverErrorOf } from './session.js';
import { quoteIdentifier } from './tend-schema.js';

/** The part of cassandra.Client the store uses (a fake-able seam; production passes the client). */
export type CqlClient = Pick<cassandra.Client, 'execute'>;

const { consistencies } = cassandra.types;
const UNAVAILABLE_CODES = new Set([
  cassandra.types.responseErrorCodes.unavailableException,
  cassandra.types.responseErrorCodes.writeTimeout,
]);

export interface WriteResult {
  /** The consistency the write achieved: 'EACH_QUORUM', or 'LOCAL_QUORUM' when a DC could not be reached. */
  consistency: 'EACH_QUORUM' | 'LOCAL_QUORUM';
}

/** A `run_windows` row as stored ('*' or empty: every keyspace, table or datacenter). */
export interface WindowRow {
  id: string;
  keyspace_name?: string | null;
  table_name?: string | null;
  datacenter?: string | null;
  days?: readonly string[] | null;
  start_time?: string | null;
  end_time?: string | null;
  timezone?: string | null;
  action?: string | null;
  created_at?: Date | null;
  created_by?: string | null;
}

/** A row to insert (created_at is Cassandra's clock at the write). */
export type NewWindowRow = Required<Omit<WindowRow, 'created_at'>> & { created_by: string };

export interface StoredPause {
  scope: string;
  reason: string | null;
  pausedAt: number | null;
  pausedBy: string | null;
  /** Epoch ms; null: until resumed. */
  until: number | null;
}

/** The port the policy use cases reach Cassandra through; CassandraPolicyStore is the adapter. */
export interface PolicyStore {
  /** Cassandra's clock (epoch ms): pauses and windows are judged by it. */
  now(): Promise<number>;
  windowRows(): Promise<WindowRow[]>;
  /** One window by id (the lookup before an insert: adding the same window again changes nothing). */
  windowRow(id: string): Promise<WindowRow | undefined>;
  insertWindow(row: NewWindowRow): Promise<WriteResult>;
  deleteWindow(id: string): Promise<WriteResult>;
  pauses(): Promise<StoredPause[]>;
  writePause(pause: Omit<StoredPause, 'pausedAt'> & { pausedBy: string }): Promise<WriteResult>;
  deletePause(scope: string): Promise<WriteResult>;
  /** What exists, so that a window for a misspelt name is refused. */
  keyspaces(): Promise<string[]>;
  tables(keyspace: string): Promise<string[]>;
  datacenters(): Promise<string[]>;
}

/** Turns "unconfigured table" and "keyspace does not exist" into the action the operator has to take. */
export function asStoreError(error: unknown, keyspace: string, doing: string): never {
  const message = error instanceof Error ? error.message : String(error);
  if (/unconfigured table|does not exist|Keyspace .* not/i.test(message)) {
    throw new TendError(`${doing}: tend's tables are missing in keyspace ${keyspace} (${message})`, {
      cause: error,
      hints: [`Create them with 'tend schema print | cqlsh' (or 'tend schema apply').`],
    });
  }
  asClusterError(error, doing);
}

/** A write every datacenter's next tick must see (see the header). */
export async function writeEverywhere(client: CqlClient, query: string, params: unknown[]): Promise<WriteResult> {
  try {
    await client.execute(query, params, { prepare: true, consistency: consistencies.eachQuorum });
    return { consistency: 'EACH_QUORUM' };
  } catch (error) {
    const code = (driverErrorOf(error) ?? (error as { code?: number })).code;
    if (code === undefined || !UNAVAILABLE_CODES.has(code)) throw error;
    await client.execute(query, params, { prepare: true, consistency: consistencies.localQuorum });
    return { consistency: 'LOCAL_QUORUM' };
  }
}

const WINDOW_COLUMNS =
  'id, keyspace_name, table_name, datacenter, days, start_time, end_time, timezone, action, created_at, created_by';

function windowRow(row: cassandra.types.Row): WindowRow {
  const value = <T>(column: string) => (row.get(column) as T | null | undefined) ?? null;
  return {
    id: row.get('id') as string,
    keyspace_name: value<string>('keyspace_name'),
    table_name: value<string>('table_name'),
    datacenter: value<string>('datacenter'),
    days: value<string[]>('days'),
    start_time: value<string>('start_time'),
    end_time: value<string>('end_time'),
    timezone: value<string>('timezone'),
    action: value<string>('action'),
    created_at: value<Date>('created_at'),
    created_by: value<string>('created_by'),
  };
}

async function names(client: CqlClient, query: string, params: unknown[], column: string): Promise<string[]> {
  return (await allRows(client, query, params, { prepare: true })).map((row) => String(row.get(column)));
}

export class CassandraPolicyStore implements PolicyStore {
  private readonly windows: string;
  private readonly pausesTable: string;

  constructor(
    private readonly client: CqlClient,
    private readonly keyspace: string,
  ) {
    this.windows = `${quoteIdentifier(keyspace)}.run_windows`;
    this.pausesTable = `${quoteIdentifier(keyspace)}.pauses`;
  }

  now(): Promise<number> {
    return clusterNow(this.client as cassandra.Client);
  }

  async windowRows(): Promise<WindowRow[]> {
    try {
      return (await allRows(this.client, `SELECT ${WINDOW_COLUMNS} FROM ${this.windows}`, [], { prepare: true })).map(
        windowRow,
      );
    } catch (error) {
      asStoreError(error, this.keyspace, 'reading run windows');
    }
  }

  async windowRow(id: string): Promise<WindowRow | undefined> {
    try {
      const row = (
        await this.client.execute(`SELECT ${WINDOW_COLUMNS} FROM ${this.windows} WHERE id = ?`, [id], { prepare: true })
      ).first();
      return row ? windowRow(row) : undefined;
    } catch (error) {
      asStoreError(error, this.keyspace, 'adding a run window');
    }
  }

  async insertWindow(row: NewWindowRow): Promise<WriteResult> {
    try {
      return await writeEverywhere(
        this.client,
        `INSERT INTO ${this.windows} (id, keyspace_name, table_name, datacenter, days, start_time, end_time, timezone, action, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, toTimestamp(now()), ?)`,
        [
          row.id,
          row.keyspace_name,
          row.table_name,
          row.datacenter,
          row.days,
          row.start_time,
          row.end_time,
          row.timezone,
          row.action,
          row.created_by,
        ],
      );
    } catch (error) {
      asStoreError(error, this.keyspace, 'adding a run window');
    }
  }

  async deleteWindow(id: string): Promise<WriteResult> {
    try {
      return await writeEverywhere(this.client, `DELETE FROM ${this.windows} WHERE id = ?`, [id]);
    } catch (error) {
      asStoreError(error, this.keyspace, 'removing a run window');
    }
  }

  async pauses(): Promise<StoredPause[]> {
    try {
      const rows = await allRows(
        this.client,
        `SELECT scope, reason, paused_at, paused_by, until FROM ${this.pausesTable}`,
        [],
        { prepare: true },
      );
      return rows.map((row) => ({
        scope: row.get('scope') as string,
        reason: (row.get('reason') as string | null) ?? null,
        pausedAt: (row.get('paused_at') as Date | null)?.getTime() ?? null,
        pausedBy: (row.get('paused_by') as string | null) ?? null,
        until: (row.get('until') as Date | null)?.getTime() ?? null,
      }));
    } catch (error) {
      asStoreError(error, this.keyspace, 'reading pauses');
    }
  }

  async writePause(pause: Omit<StoredPause, 'pausedAt'> & { pausedBy: string }): Promise<WriteResult> {
    try {
      return await writeEverywhere(
        this.client,
        `INSERT INTO ${this.pausesTable} (scope, reason, paused_at, paused_by, until) VALUES (?, ?, toTimestamp(now()), ?, ?)`,
        [pause.scope, pause.reason, pause.pausedBy, pause.until === null ? null : new Date(pause.until)],
      );
    } catch (error) {
      asStoreError(error, this.keyspace, 'pausing the schedule');
    }
  }

  async deletePause(scope: string): Promise<WriteResult> {
    try {
      return await writeEverywhere(this.client, `DELETE FROM ${this.pausesTable} WHERE scope = ?`, [scope]);
    } catch (error) {
      asStoreError(error, this.keyspace, 'resuming the schedule');
    }
  }

  keyspaces(): Promise<string[]> {
    return names(this.client, 'SELECT keyspace_name FROM system_schema.keyspaces', [], 'keyspace_name');
  }

  tables(keyspace: string): Promise<string[]> {
    return names(
      this.client,
      'SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?',
      [keyspace],
      'table_name',
    );
  }

  async datacenters(): Promise<string[]> {
    const local = await names(this.client, 'SELECT data_center FROM system.local', [], 'data_center');
    const peers = await names(this.client, 'SELECT data_center FROM system.peers_v2', [], 'data_center');
    return [...new Set([...local, ...peers])].sort();
  }
}
