/**
 * Incremental repair eligibility. Incremental repair only looks at data not yet marked repaired, so a table whose
 * data on this node is all marked repaired has nothing to do, and running it would only cost a round of
 * anticompaction bookkeeping on every replica. The node tells us how much is repaired:
 *
 * - percentRepaired: the Table metric `PercentRepaired` (`nodetool tablestats`: "Percent repaired"), the share of
 *   the table's on-disk bytes in repaired sstables;
 * - maxRepairedAt: the newest repairedAt of its repaired sstables (RepairService.getRepairStats;
 *   `nodetool repair_admin summarize-repaired`), i.e. when its last incremental repair finished.
 *
 * The decision is a pure function; the readers below fetch the two numbers through Jolokia or nodetool, whichever
 * is the executor. The view is this node's: data still in a memtable is not counted until it is flushed
 * (incremental repair flushes first), and other replicas are not asked — they received the same writes.
 */
import { sanitizeExternal } from '../output/sanitize.js';
import { ClusterUnavailable } from '../errors.js';
import type { JolokiaClient, JolokiaRequest } from './jolokia-client.js';
import { connectionArgs, parseSummarizeRepaired, parseTablestatsPercentRepaired } from './nodetool-output.js';
import type { NodetoolConnection } from './nodetool-output.js';
import { runProcess, type RunProcess } from './nodetool-executor.js';

export interface TableRepairedState {
  readonly keyspace: string;
  readonly table: string;
  /** 0–100; null when the node did not report it. */
  readonly percentRepaired: number | null;
  /** Epoch ms; 0 when nothing was ever marked repaired; null when not reported. */
  readonly maxRepairedAt: number | null;
}

export interface IncrementalDecision {
  readonly keyspace: string;
  readonly table: string;
  /** true: schedule an incremental repair; false: skip, the table is fully repaired. */
  readonly eligible: boolean;
  readonly reason: string;
  /** When the table's data was last marked repaired (maxRepairedAt), null when never or unknown. */
  readonly lastRepairedAt: number | null;
}

/**
 * A table is skipped only when the node reports every byte repaired and some data marked repaired. Anything less —
 * an unknown share, or 100% of no SSTables at all — is repaired: skipping on a guess is how deleted data comes back.
 */
export function incrementalDecision(state: TableRepairedState): IncrementalDecision {
  const lastRepairedAt = state.maxRepairedAt !== null && state.maxRepairedAt > 0 ? state.maxRepairedAt : null;
  const base = { keyspace: state.keyspace, table: state.table, lastRepairedAt };
  const last = lastRepairedAt === null ? 'never marked repaired' : `last at ${new Date(lastRepairedAt).toISOString()}`;
  if (state.percentRepaired === null || !Number.isFinite(state.percentRepaired)) {
    return { ...base, eligible: true, reason: 'repaired share unknown; repairing' };
  }
  if (state.percentRepaired >= 100 && lastRepairedAt === null) {
    // Cassandra 5.0 reports 100% for a table without SSTables (never flushed, or empty): its data may still be in
    // memtables, never repaired. Incremental repair flushes first, so repairing it is right and cheap.
    return {
      ...base,
      eligible: true,
      reason: '100% reported but nothing ever marked repaired (no SSTables yet: data may be in memtables); repairing',
    };
  }
  if (state.percentRepaired >= 100) {
    return { ...base, eligible: false, reason: `fully repaired (100% of data marked repaired, ${last})` };
  }
  return {
    ...base,
    eligible: true,
    reason: `${formatPercent(state.percentRepaired)}% of data marked repaired (${last})`,
  };
}

function formatPercent(value: number): string {
  return value >= 99.95 ? value.toFixed(2) : value.toFixed(1).replace(/\.0$/, '');
}

export interface RepairedStateReader {
  /** The repaired state of `tables` of one keyspace on the node tend acts for. */
  read(keyspace: string, tables: readonly string[]): Promise<TableRepairedState[]>;
}

const REPAIR_SERVICE = 'org.apache.cassandra.db:type=RepairService';

export class JolokiaRepairedState implements RepairedStateReader {
  constructor(private readonly client: Pick<JolokiaClient, 'bulk'>) {}

  async read(keyspace: string, tables: readonly string[]): Promise<TableRepairedState[]> {
    if (tables.length === 0) return [];
    const requests: JolokiaRequest[] = [
      ...tables.map((table): JolokiaRequest => ({
        type: 'read',
        mbean: `org.apache.cassandra.metrics:type=Table,keyspace=${keyspace},scope=${table},name=PercentRepaired`,
        attribute: 'Value',
      })),
      // Same arguments as `nodetool repair_admin summarize-repaired KEYSPACE TABLE…`; null range = all.
      { type: 'exec', mbean: REPAIR_SERVICE, operation: 'getRepairStats', arguments: [[keyspace, ...tables], null] },
    ];
    const replies = await this.client.bulk(requests);
    const stats = replies.at(-1);
    const maxByTable = new Map<string, number>();
    if (Array.isArray(stats)) {
      for (const row of stats as Array<{ table?: string; maxRepaired?: string | number }>) {
        // serializeLong=string: maxRepaired arrives as a string; it is a time in ms, well inside 2^53.
        if (row.table !== undefined && row.maxRepaired !== undefined)
          maxByTable.set(row.table, Number(row.maxRepaired));
      }
    }
    return tables.map((table, i) => {
      const percent = replies[i];
      return {
        keyspace,
        table,
        percentRepaired: typeof percent === 'number' || typeof percent === 'string' ? Number(percent) : null,
        maxRepairedAt: maxByTable.get(table) ?? null,
      };
    });
  }
}

export class NodetoolRepairedState implements RepairedStateReader {
  private readonly run: RunProcess;
  private readonly timeoutMs: number;

  constructor(
    private readonly connection: NodetoolConnection,
    options: { runProcess?: RunProcess; timeoutMs?: number } = {},
  ) {
    this.run = options.runProcess ?? runProcess;
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  async read(keyspace: string, tables: readonly string[]): Promise<TableRepairedState[]> {
    if (tables.length === 0) return [];
    const base = connectionArgs(this.connection);
    const call = async (args: string[]) => {
      const result = await this.run(this.connection.path, [...base, ...args], {
        timeoutMs: this.timeoutMs,
        killGraceMs: 5000,
      });
      if (result.exitCode !== 0) {
        const reason = result.timedOut ? 'timed out' : sanitizeExternal(lastLine(result.stdout + '\n' + result.stderr));
        throw new ClusterUnavailable('nodetool', `nodetool ${args[0]} failed: ${reason}`);
      }
      return result.stdout;
    };
    const percent = parseTablestatsPercentRepaired(
      await call(['tablestats', ...tables.map((t) => `${keyspace}.${t}`)]),
    );
    const max = parseSummarizeRepaired(await call(['repair_admin', 'summarize-repaired', keyspace, ...tables]));
    return tables.map((table) => ({
      keyspace,
      table,
      percentRepaired: percent.get(`${keyspace}.${table}`) ?? null,
      maxRepairedAt: max.get(`${keyspace}.${table}`) ?? null,
    }));
  }
}

function lastLine(text: string): string {
  return (
    text
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('at '))
      .find((line) => /^(error|nodetool):/.test(line)) ?? 'non-zero exit'
  );
}
