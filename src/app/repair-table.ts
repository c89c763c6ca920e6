/**
 * `tend repair table KEYSPACE.TABLE`: an ad hoc repair of one table by the node tend acts for, under the same
 * lease as the tick (so it never piles onto a replica the schedule is repairing), recorded in tend's history like
 * any scheduled task.
 *
 * Without --range it repairs every range the node replicates in one whole-table call. With --range it repairs
 * exactly those tokens: each range is cut at vnode boundaries (Cassandra refuses a range that spans two local
 * ranges) and a range the node does not replicate is a usage error before anything is leased.
 */
import { hostname } from 'node:os';
import type cassandra from 'cassandra-driver';
import {
  adHocRepairTask,
  buildRing,
  computePlacement,
  formatTokenRange,
  type AdHocRefusal,
  type AdHocTask,
  type RepairParallelism,
  type TokenRange,
} from '../core/index.js';
import type { TendConfig } from '../config/schema.js';
import type { SecretSource } from '../config/secrets.js';
import { openExecutor, openLeaseBackend } from './adapters.js';
import { tableSettings } from '../config/tables.js';
import { Interrupted, LeaseUnavailable, TendError, UsageError } from '../errors.js';
import { acquireLeases, leaseGroups, type HeldLease, type LeaseBackend, type LeaseGroup } from '../lease/index.js';
import { taskError, type Executor, type RepairOutcome, type RepairProgress } from '../repair/index.js';
import type { Output } from '../output/output.js';
import { readLocalTopology, resolveScopeIn } from './plan-input.js';
import { historyStartWriter, historyWriter, type RecordStart } from './record-outcome.js';
import { runLeased } from './batch.js';
import { leaseWaitBound } from './time-bound.js';
import { formatDuration } from '../config/units.js';

export interface RepairTableOptions {
  /** `KEYSPACE.TABLE` as typed (CQL quoting allowed). */
  readonly table: string;
  readonly ranges: readonly TokenRange[];
  /** undefined: incremental when the table's repair.type is incremental, else full. */
  readonly incremental: boolean | undefined;
  readonly parallelism: RepairParallelism | undefined;
  /** Wait for the lease instead of failing with exit 4. */
  readonly wait: boolean;
}

export type TableRepairRequest = AdHocTask;

/** A task the node cannot carry out, as the usage error it is (exit 2, before anything is leased). */
export function refusalError(keyspace: string, refusal: AdHocRefusal): UsageError {
  if (refusal.refused === 'keyspace_not_replicated') {
    return new UsageError(`this node does not replicate ${keyspace}: nothing to repair here`);
  }
  return new UsageError(
    `range ${formatTokenRange(refusal.range)} is not (entirely) replicated by this node; Cassandra would refuse it`,
    { hints: ['run it on a replica of that range (nodetool describering KEYSPACE lists them)'] },
  );
}

export interface RepairTableReport {
  readonly keyspace: string;
  readonly table: string;
  readonly executor: Executor['kind'];
  readonly incremental: boolean;
  readonly parallelism: RepairParallelism;
  readonly status: RepairOutcome['status'];
  readonly message: string;
  readonly ranges: number;
  readonly rangesRepaired: number;
  readonly replicas: readonly string[];
  readonly leases: readonly string[];
  readonly commands: readonly string[];
  readonly startedAt: number;
  readonly finishedAt: number;
  /** Decides the exit code (not serialised). */
  readonly error?: TendError | undefined;
}

export interface RepairTablePorts {
  readonly leaseBackend: (client: cassandra.Client) => Promise<LeaseBackend>;
  readonly executor: () => Promise<Executor>;
  readonly record: (
    client: cassandra.Client,
    outcome: RepairOutcome,
    task: TableRepairRequest,
    startId?: string,
  ) => Promise<void>;
  /** The task's STARTED row before the repair (undefined: not recorded). */
  readonly recordStart: RecordStart | undefined;
}

export interface RepairTableDeps {
  readonly config: TendConfig;
  /** The secrets the adapters need (AppContext.secret). */
  readonly secret: SecretSource;
  readonly out: Output;
  readonly signal: AbortSignal;
  /** Progress (ranges done of total, elapsed, estimate) for the command's spinner. */
  readonly onProgress?: (progress: RepairProgress, elapsedMs: number) => void;
}

export async function repairTable(
  deps: RepairTableDeps,
  client: cassandra.Client,
  options: RepairTableOptions,
  portsOverride: Partial<RepairTablePorts> = {},
): Promise<RepairTableReport> {
  const { config, secret, out } = deps;
  const topology = await readLocalTopology(client, config);
  const scope = resolveScopeIn(topology, options.table);
  if (scope.table === undefined) throw new UsageError(`expected KEYSPACE.TABLE, found '${options.table}'`);
  const keyspace = scope.keyspace;
  const table = scope.table;
  const settings = tableSettings(config.repair, keyspace, table);
  const ring = buildRing(topology.nodes);
  const placement = computePlacement(ring, topology.keyspaceInfo[keyspace]!.replication, topology.localHostId);
  const task = adHocRepairTask({
    keyspace,
    table,
    ring,
    placement,
    localHostId: topology.localHostId,
    requested: options.ranges,
    incremental: options.incremental ?? settings.type === 'incremental',
    parallelism: options.parallelism ?? settings.parallelism,
  });
  if ('refused' in task) throw refusalError(keyspace, task);
  const request: TableRepairRequest = task;

  const local = topology.nodes.find((node) => node.hostId === topology.localHostId);
  const coordinator = config.node.name ?? local?.address ?? hostname();
  const ports: RepairTablePorts = {
    leaseBackend: (c) => openLeaseBackend(config, secret, async () => c),
    executor: () => openExecutor(config, secret),
    record: historyWriter(config.cassandra.keyspace, { coordinator: () => coordinator }),
    recordStart: historyStartWriter(config.cassandra.keyspace, { coordinator: () => coordinator }),
    ...portsOverride,
  };

  const backend = await ports.leaseBackend(client);
  try {
    const groups = leaseGroups(config.lease, {
      datacenter: topology.localDatacenter,
      replicas: request.replicaAddresses,
    });
    const leases = await claimTableLeases(deps, backend, groups, { coordinator, request, wait: options.wait });
    const executor = await ports.executor();
    const started = Date.now();
    const { results, aborted, lost } = await runLeased(backend, leases, request, {
      executor,
      renewEveryMs: config.lease.renewEvery,
      timeoutFor: () => settings.taskTimeout,
      signal: deps.signal,
      out,
      record: (outcome, _request, startId) => ports.record(client, outcome, request, startId),
      ...(ports.recordStart ? { recordStart: () => ports.recordStart!(client, request, Date.now()) } : {}),
      onProgress: (progress) => deps.onProgress?.(progress, Date.now() - started),
    });
    const run = results[0]?.run;
    // Interrupted between the lease and the repair: nothing ran, nothing to report but the interruption.
    if (!run) throw lost ?? (deps.signal.reason instanceof TendError ? deps.signal.reason : new Interrupted());
    const { outcome } = run;
    return {
      keyspace,
      table,
      executor: executor.kind,
      incremental: request.incremental,
      parallelism: request.parallelism,
      status: outcome.status,
      message: outcome.message,
      ranges: request.ranges.length,
      rangesRepaired: outcome.rangesRepaired.length,
      replicas: request.replicaAddresses,
      leases: leases.map((lease) => lease.resource),
      commands: outcome.commands,
      startedAt: outcome.startedAt,
      finishedAt: outcome.finishedAt,
      error: lost ?? taskError(run, aborted, deps.signal),
    };
  } finally {
    await backend.close().catch(() => undefined);
  }
}

/** Acquires the table's lease groups (waiting with --wait, within a bound), or says who holds them (exit 4). */
async function claimTableLeases(
  deps: RepairTableDeps,
  backend: LeaseBackend,
  groups: LeaseGroup[],
  claimOf: { coordinator: string; request: TableRepairRequest; wait: boolean },
): Promise<HeldLease[]> {
  const { config, out } = deps;
  if (claimOf.wait) out.info(`waiting for lease ${groups.map((g) => g.name).join(', ')}`);
  const claim = await acquireLeases(backend, groups, {
    holder: { name: claimOf.coordinator, host: hostname() },
    ttlMs: config.lease.ttl,
    announcementTtlMs: config.lease.announcementTtl,
    metadata: { task: claimOf.request.id, command: 'repair table' },
    signal: deps.signal,
    // --wait waits as long as a tick elsewhere may hold the lease, plus a TTL for a holder that died: no longer,
    // so an ad hoc repair can never wait forever (it announces no priority, so busy ticks may keep it out).
    ...(claimOf.wait ? { waitUntil: Date.now() + leaseWaitBound(config), retryEveryMs: 2000 } : {}),
  });
  if (claim.acquired) return claim.leases;
  const holder = claim.heldBy[0];
  throw new LeaseUnavailable(
    claim.group,
    holder ? `${holder.holder} until ${holder.expiresAt.toISOString()}` : undefined,
    {
      hints: claimOf.wait
        ? [`still held after waiting ${formatDuration(leaseWaitBound(config))}; see tend lease status`]
        : ['add --wait to wait for it, or see tend lease status'],
    },
  );
}
