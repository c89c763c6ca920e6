/**
 * One step of a cluster-wide maintenance job (issue 17) on the node tend acts for, through the configured executor.
 *
 * cleanup, upgradesstables, garbagecollect and compact are blocking calls on the node: nodetool waits for them, and
 * so does the JMX operation behind Jolokia. So the Jolokia client of a step has its request limit set to the step's
 * timeout (the configured requestTimeout would cut a cleanup of any size short), and the nodetool child gets the
 * same limit. Stopping: killing nodetool or dropping the HTTP request does not stop the compaction on the node,
 * so on abort or timeout CompactionManager.stopCompaction(TYPE) is called as well. A `repair` step is a primary-range
 * full repair of the keyspace through the repair Executor, stopped the way repairs are (terminate the sessions).
 *
 * Jolokia signatures as Cassandra 5.0.8 lists them (checked with /jolokia/list on the sandbox); 4.1 has the same.
 */
import { sanitizeExternal, externalMessage } from '../output/sanitize.js';
import { setLongTimeout, sleep } from '../timers.js';
import type { MaintenanceOperation } from '../core/index.js';
import type { Executor } from './executor.js';
import { JolokiaRequestError, type JolokiaClient } from './jolokia-client.js';
import { STORAGE_SERVICE } from './jolokia-executor.js';
import { runProcess, type RunProcess } from './nodetool-executor.js';
import { connectionArgs, errorLine, type NodetoolConnection } from './nodetool-output.js';

export interface MaintenanceTarget {
  readonly operation: MaintenanceOperation;
  readonly keyspace?: string | undefined;
  readonly table?: string | undefined;
  /** upgradesstables: every SSTable, not only those of an older format (nodetool's `-a`). */
  readonly includeAllSSTables?: boolean | undefined;
}

export interface MaintenanceOutcome {
  readonly status: 'done' | 'failed' | 'aborted' | 'timed_out';
  readonly message: string;
  /** For aborted / timed_out: whether the node was told to stop the operation, and its answer. */
  readonly serverStop?: { readonly requested: boolean; readonly error?: string };
}

export interface MaintenanceRunOptions {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
}

export interface MaintenanceRunner {
  run(target: MaintenanceTarget, options: MaintenanceRunOptions): Promise<MaintenanceOutcome>;
}

/**
 * CompactionManager's OperationType for each compaction-like operation (what stopCompaction takes). A major
 * compaction is MAJOR_COMPACTION, not COMPACTION (system_views.sstable_tasks lists it as "major compaction"):
 * stopping COMPACTION leaves it running, which the e2e test saw before this said so.
 */
export const STOP_TYPE: Readonly<Record<Exclude<MaintenanceOperation, 'repair'>, string>> = {
  cleanup: 'CLEANUP',
  upgradesstables: 'UPGRADE_SSTABLES',
  garbagecollect: 'GARBAGE_COLLECT',
  compact: 'MAJOR_COMPACTION',
};

const COMPACTION_MANAGER = 'org.apache.cassandra.db:type=CompactionManager';

/** nodetool's arguments for an operation (after the connection options). */
export function nodetoolOperationArgs(target: MaintenanceTarget): string[] {
  const names = [...(target.keyspace ? [target.keyspace] : []), ...(target.table ? [target.table] : [])];
  const options = target.operation === 'upgradesstables' && target.includeAllSSTables ? ['-a'] : [];
  // `--`: a keyspace never starts with a dash, but nodetool's parser must not take one for an option anyway.
  return [target.operation, ...options, ...(names.length > 0 ? ['--', ...names] : [])];
}

/** The repair a `repair` step runs: this node's primary ranges of the keyspace (or one table), full. */
function repairStep(executor: Executor, target: MaintenanceTarget, options: MaintenanceRunOptions) {
  return executor
    .run(
      {
        id: `job-${target.operation}-${target.keyspace}`,
        keyspace: target.keyspace!,
        tables: target.table ? [target.table] : [],
        scope: 'table',
        ranges: [],
        replicaAddresses: [],
        incremental: false,
        parallelism: 'parallel',
        primaryRange: true,
      },
      { timeoutMs: options.timeoutMs, ...(options.signal ? { signal: options.signal } : {}) },
    )
    .then((outcome): MaintenanceOutcome => ({
      status: outcome.status === 'success' ? 'done' : outcome.status,
      message: outcome.message,
      ...(outcome.serverStop ? { serverStop: outcome.serverStop } : {}),
    }));
}

export class NodetoolMaintenance implements MaintenanceRunner {
  constructor(
    private readonly connection: NodetoolConnection,
    private readonly executor: Executor,
    private readonly run_: RunProcess = runProcess,
  ) {}

  async run(target: MaintenanceTarget, options: MaintenanceRunOptions): Promise<MaintenanceOutcome> {
    if (target.operation === 'repair') return repairStep(this.executor, target, options);
    const result = await this.run_(
      this.connection.path,
      [...connectionArgs(this.connection), ...nodetoolOperationArgs(target)],
      { timeoutMs: options.timeoutMs, cancelSignal: options.signal, killGraceMs: 5000 },
    );
    if (result.isCanceled || result.timedOut) {
      const stop = await this.stop(target.operation);
      return {
        status: result.isCanceled ? 'aborted' : 'timed_out',
        message: `nodetool ${target.operation} stopped (${result.isCanceled ? 'aborted' : 'timed out'})`,
        serverStop: stop,
      };
    }
    if (result.exitCode === 0) return { status: 'done', message: `nodetool ${target.operation} finished` };
    const line = errorLine(`${result.stderr}\n${result.stdout}`) ?? `exit code ${result.exitCode}`;
    return { status: 'failed', message: `nodetool ${target.operation}: ${sanitizeExternal(line)}` };
  }

  private async stop(operation: Exclude<MaintenanceOperation, 'repair'>) {
    const result = await this.run_(
      this.connection.path,
      [...connectionArgs(this.connection), 'stop', '--', STOP_TYPE[operation]],
      { timeoutMs: 60_000, killGraceMs: 5000 },
    );
    return result.exitCode === 0
      ? { requested: true }
      : { requested: true, error: sanitizeExternal(errorLine(result.stderr) ?? `exit ${result.exitCode}`) };
  }
}

/** StorageService's operation for each compaction-like operation, with its arguments. */
export function jolokiaOperation(
  operation: Exclude<MaintenanceOperation, 'repair'>,
  keyspace: string,
  tables: readonly string[],
  options: { readonly includeAllSSTables?: boolean | undefined } = {},
): { operation: string; arguments: unknown[] } {
  // jobs = 0: as many parallel jobs as compaction threads, nodetool's default.
  switch (operation) {
    case 'cleanup':
      return {
        operation: 'forceKeyspaceCleanup(int,java.lang.String,[Ljava.lang.String;)',
        arguments: [0, keyspace, tables],
      };
    case 'upgradesstables':
      // excludeCurrentVersion: true rewrites only SSTables of an older format (nodetool's default), false every one
      // (nodetool's -a, --include-all-sstables). This signature is StorageServiceMBean's in 4.1 and 5.0 alike (a
      // default method since 4.1, calling the one with maxSSTableTimestamp Long.MAX_VALUE, as nodetool does).
      return {
        operation: 'upgradeSSTables(java.lang.String,boolean,int,[Ljava.lang.String;)',
        arguments: [keyspace, !options.includeAllSSTables, 0, tables],
      };
    case 'garbagecollect':
      // ROW: nodetool garbagecollect's default granularity.
      return {
        operation: 'garbageCollect(java.lang.String,int,java.lang.String,[Ljava.lang.String;)',
        arguments: ['ROW', 0, keyspace, tables],
      };
    case 'compact':
      return {
        operation: 'forceKeyspaceCompaction(boolean,java.lang.String,[Ljava.lang.String;)',
        arguments: [false, keyspace, tables],
      };
  }
}

/** What the int the operations return means (CompactionManager.AllSSTableOpStatus ordinal). */
const STATUS = ['successful', 'aborted', 'unable to cancel other compactions'];

/** How long the agent may take to answer a read while the blocking operation runs, before it counts as busy. */
export const AGENT_PROBE_MS = 5000;

export class JolokiaMaintenance implements MaintenanceRunner {
  /**
   * `client(timeoutMs)`: a client whose request limit is at least the step's (the calls block until done).
   * `warn`: where the finding that the agent serves one request at a time goes (the step's log).
   */
  constructor(
    private readonly client: (timeoutMs: number) => Pick<JolokiaClient, 'exec' | 'read'>,
    private readonly executor: Executor,
    private readonly warn: (message: string) => void = () => undefined,
  ) {}

  async run(target: MaintenanceTarget, options: MaintenanceRunOptions): Promise<MaintenanceOutcome> {
    if (target.operation === 'repair') return repairStep(this.executor, target, options);
    const operation = target.operation;
    const client = this.client(options.timeoutMs + 5000);
    const keyspaces = target.keyspace ? [target.keyspace] : await this.keyspaces(operation);
    const timeout = new AbortController();
    const timer = setLongTimeout(() => timeout.abort(), options.timeoutMs);
    let singleThreaded = false;
    const busy = () =>
      singleThreaded ? '; the agent serves one request at a time, so the stop waited for the operation to end' : '';
    try {
      for (const keyspace of keyspaces) {
        const call = jolokiaOperation(operation, keyspace, target.table ? [target.table] : [], target);
        // The blocking call is the handle on the server's operation: on abort it is kept open and stopCompaction
        // repeated until it returns, because a stop sent before the operation registered its compaction (it may
        // wait for a compaction thread) finds nothing to stop, and the operation would then run to its end.
        let settled = false;
        const pending = client.exec(STORAGE_SERVICE, call.operation, call.arguments, timeout.signal);
        let stop: MaintenanceOutcome['serverStop'];
        const stopping = this.stopWhileRunning(operation, options.signal, () => settled).then((s) => (stop = s));
        const probing = this.answersMeanwhile(() => settled).then((answers) => {
          if (answers === false) {
            singleThreaded = true;
            this.warn(
              `the Jolokia agent did not answer a read within ${AGENT_PROBE_MS / 1000} s while ${operation} of ${keyspace} runs: ` +
                `it serves one request at a time (the JVM agent's default, executor=single), so neither an abort nor the ` +
                `step's timeout can stop ${operation} on the node before it ends; start the agent with ` +
                `executor=fixed,threadNr=4 (README, Jolokia)`,
            );
          }
        });
        let status: unknown;
        try {
          status = await pending;
        } catch (error) {
          if (timeout.signal.aborted) {
            settled = true;
            return {
              status: 'timed_out',
              message: `${operation} of ${keyspace} timed out${busy()}`,
              serverStop: await this.stop(operation),
            };
          }
          settled = true;
          await stopping;
          if (options.signal?.aborted) {
            return {
              status: 'aborted',
              message: `${operation} of ${keyspace} stopped (aborted${busy()})`,
              ...(stop ? { serverStop: stop } : {}),
            };
          }
          if (error instanceof JolokiaRequestError) {
            return { status: 'failed', message: `${operation} of ${keyspace}: ${error.message}` };
          }
          throw error;
        } finally {
          settled = true;
          await probing;
        }
        await stopping;
        if (options.signal?.aborted) {
          return {
            status: 'aborted',
            message: `${operation} of ${keyspace} stopped (aborted; the node answered ${STATUS[Number(status)] ?? String(status)}${busy()})`,
            ...(stop ? { serverStop: stop } : {}),
          };
        }
        if (typeof status === 'number' && status !== 0) {
          return { status: 'failed', message: `${operation} of ${keyspace}: ${STATUS[status] ?? `status ${status}`}` };
        }
      }
      return { status: 'done', message: `${operation} of ${keyspaces.join(', ') || 'no keyspace'} finished` };
    } finally {
      timer.clear();
    }
  }

  /** After `signal` aborts: stopCompaction every second until `settled()` (the blocking call returned). */
  private async stopWhileRunning(
    operation: Exclude<MaintenanceOperation, 'repair'>,
    signal: AbortSignal | undefined,
    settled: () => boolean,
  ): Promise<MaintenanceOutcome['serverStop']> {
    if (!signal) return undefined;
    while (!signal.aborted && !settled()) await sleep(200);
    if (settled()) return undefined;
    let last: MaintenanceOutcome['serverStop'];
    while (!settled()) {
      last = await this.stop(operation);
      await sleep(1000);
    }
    return last;
  }

  /**
   * Whether the agent answers another request while the blocking one runs (undefined: it ended first). The JVM
   * agent's default serves requests on one thread; then this read waits behind the operation, and so would the
   * stopCompaction of an abort, which would find nothing left to stop (bench/jolokia-blocking measures both).
   */
  private async answersMeanwhile(settled: () => boolean): Promise<boolean | undefined> {
    for (let waited = 0; waited < 1000; waited += 100) {
      if (settled()) return undefined;
      await sleep(100);
    }
    if (settled()) return undefined;
    try {
      await this.client(AGENT_PROBE_MS).read('java.lang:type=Runtime', 'Uptime');
      return true;
    } catch {
      return settled() ? undefined : false;
    }
  }

  /** Every keyspace, as nodetool picks them: cleanup the non-local-strategy ones, the others the non-system ones. */
  private async keyspaces(operation: MaintenanceOperation): Promise<string[]> {
    const attribute = operation === 'cleanup' ? 'NonLocalStrategyKeyspaces' : 'NonSystemKeyspaces';
    const value = await this.client(60_000).read<string[]>(STORAGE_SERVICE, attribute);
    return [...(value ?? [])].sort();
  }

  private async stop(operation: Exclude<MaintenanceOperation, 'repair'>) {
    try {
      await this.client(60_000).exec(COMPACTION_MANAGER, 'stopCompaction', [STOP_TYPE[operation]]);
      return { requested: true };
    } catch (error) {
      return { requested: true, error: externalMessage(error) };
    }
  }
}
