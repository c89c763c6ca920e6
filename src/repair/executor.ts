/**
 * The Executor port: how one repair task is carried out on the node tend acts for. Two adapters implement it
 * (nodetool, Jolokia); the task runner, `tend repair table` and the tick only see this interface.
 *
 * An executor never throws for a repair that Cassandra refused or failed: that is an outcome (`failed`) with
 * Cassandra's own message, so the caller can record it and carry on with the next task. It throws
 * ClusterUnavailable only when it cannot reach the node at all before anything started.
 */
import type { RepairTask, TokenRangeText } from '../core/index.js';

/** What an executor needs from a planned task (a core RepairTask fits; `repair table` builds one by hand). */
export type RepairRequest = Pick<
  RepairTask,
  'id' | 'keyspace' | 'tables' | 'scope' | 'ranges' | 'replicaAddresses' | 'incremental' | 'parallelism'
> & {
  /**
   * Repair only with replicas in these datacenters (Cassandra's `dataCenters`; nodetool `-dc`). Not RepairTask's
   * `datacenters`, which lists where the replicas are.
   */
  readonly limitToDatacenters?: readonly string[];
  /** Repair only with these hosts (Cassandra's `hosts`; nodetool `-hosts`; not combinable with datacenters). */
  readonly limitToHosts?: readonly string[];
  /** Only the node's primary ranges (`-pr`); only meaningful with scope 'table'. */
  readonly primaryRange?: boolean;
};

export type RepairStatus = 'success' | 'failed' | 'timed_out' | 'aborted';

export interface RepairOutcome {
  readonly taskId: string;
  readonly keyspace: string;
  readonly tables: readonly string[];
  readonly status: RepairStatus;
  /** Epoch milliseconds (local clock) when the executor started and when it gave its verdict. */
  readonly startedAt: number;
  readonly finishedAt: number;
  /** Every range the task asked for. */
  readonly ranges: readonly TokenRangeText[];
  /**
   * Ranges Cassandra reported repaired. Conservative: a range is listed only when the call that covered it
   * succeeded, so history never claims a repair that may not have happened.
   */
  readonly rangesRepaired: readonly TokenRangeText[];
  /** Replica addresses that took part (the task's replicas, narrowed by datacenters/hosts when given). */
  readonly participants: readonly string[];
  /**
   * For a command over several tables that did not succeed: the tables Cassandra nevertheless recorded as repaired
   * in every session of the command (filled in by the caller from system_distributed; see
   * core/command-sessions.ts). Their ranges count as repaired; the other tables get the command's status.
   */
  readonly tablesRepaired?: readonly string[];
  /** Cassandra's message for a failure, or a short summary on success. */
  readonly message: string;
  /** Cassandra's repair command numbers (`#12`) and parent session ids, for finding the run in its logs. */
  readonly commands: readonly string[];
  /**
   * For timed_out / aborted: whether tend told Cassandra to terminate the repair sessions, and the answer.
   * `undefined` when nothing needed stopping.
   */
  readonly serverStop?: { readonly requested: boolean; readonly error?: string };
}

export interface RepairProgress {
  readonly taskId: string;
  readonly rangesDone: number;
  readonly rangesTotal: number;
  /** The latest line Cassandra sent (session finished, …), when there is one. */
  readonly message?: string;
}

export interface RunOptions {
  /** Cancels the repair (lease lost, SIGTERM/SIGINT): the client stops and the server sessions are terminated. */
  readonly signal?: AbortSignal;
  /** Wall-clock limit for the whole task; exceeding it stops the repair the same way and reports timed_out. */
  readonly timeoutMs: number;
  readonly onProgress?: (progress: RepairProgress) => void;
}

export interface Executor {
  /** `nodetool` or `jolokia`, for logs and history. */
  readonly kind: 'nodetool' | 'jolokia';
  run(request: RepairRequest, options: RunOptions): Promise<RepairOutcome>;
  /**
   * Terminates every repair session the node coordinates (StorageService.forceTerminateAllRepairSessions).
   * Cassandra 5.0 has no per-command stop for full repairs, so this also stops a repair an operator started by
   * hand on this node; the lease is what keeps tend's own repairs from being the other victim.
   */
  stopAllOnServer(): Promise<void>;
}

/** Participants of a request: its replicas, narrowed by `limitToHosts` when given. */
export function participantsOf(request: RepairRequest): string[] {
  const hosts = request.limitToHosts ?? [];
  const replicas = [...request.replicaAddresses];
  return hosts.length > 0 ? replicas.filter((replica) => hosts.includes(replica)) : replicas;
}
