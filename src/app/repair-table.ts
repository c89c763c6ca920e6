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
  buildRing,
  computePlacement,
  formatTokenRange,
  intersectRanges,
  rangesReplicatedBy,
  rangeWidth,
  toRangeText,
  type Placement,
  type RepairParallelism,
  type RepairType,
  type Ring,
  type TokenRange,
} from '../core/index.js';
import type { TendConfig } from '../config/schema.js';
import type { Env } from '../config/secrets.js';
import { tableSettings } from '../config/tables.js';
import { LeaseUnavailable, UsageError, type TendError } from '../errors.js';
import { readTopology } from '../cluster/topology.js';
import { acquireLeases, leaseGroups, openLeaseBackend, type LeaseBackend } from '../lease/index.js';
import {
  batchError,
  createExecutor,
  type Executor,
  type RepairOutcome,
  type RepairProgress,
  type RepairRequest,
} from '../repair/index.js';
import type { Output } from '../output/output.js';
import { parseScopeArgument, resolveScope } from './scope.js';
import { historyWriter, runLeasedTask } from './leased-run.js';
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

export type TableRepairRequest = RepairRequest & { readonly repairType: RepairType };

/**
 * The one task an ad hoc repair runs: pure, from the ring, the keyspace's placement and the requested ranges.
 * Throws UsageError for a requested range (or part of one) the local node does not replicate.
 */
export function tableRepairRequest(input: {
  readonly keyspace: string;
  readonly table: string;
  readonly ring: Ring;
  readonly placement: Placement;
  readonly localHostId: string;
  readonly requested: readonly TokenRange[];
  readonly incremental: boolean;
  readonly parallelism: RepairParallelism;
}): TableRepairRequest {
  const { ring, placement } = input;
  const local = rangesReplicatedBy(placement, input.localHostId);
  if (local.length === 0) {
    throw new UsageError(`this node does not replicate ${input.keyspace}: nothing to repair here`);
  }
  const pieces: { range: TokenRange; replicaSet: number }[] = [];
  for (const wanted of input.requested) {
    let covered = 0n;
    for (const index of local) {
      for (const piece of intersectRanges(ring.ranges[index]!, wanted)) {
        pieces.push({ range: piece, replicaSet: placement.replicaSetOfRange[index]! });
        covered += rangeWidth(piece);
      }
    }
    if (covered < rangeWidth(wanted)) {
      throw new UsageError(
        `range ${formatTokenRange(wanted)} is not (entirely) replicated by this node; Cassandra would refuse it`,
        { hints: ['run it on a replica of that range (nodetool describering KEYSPACE lists them)'] },
      );
    }
  }
  const whole = input.requested.length === 0;
  const selected = whole
    ? local.map((index) => ({ range: ring.ranges[index]!, replicaSet: placement.replicaSetOfRange[index]! }))
    : pieces;
  const hostIds = new Set(selected.flatMap((piece) => placement.replicaSets[piece.replicaSet]!.hostIds));
  const replicaAddresses = [...hostIds].map((id) => ring.nodes.get(id)?.address ?? id).sort();
  return {
    id: `${input.keyspace}.${input.table}#adhoc`,
    keyspace: input.keyspace,
    tables: [input.table],
    scope: whole ? 'table' : 'ranges',
    ranges: selected.map((piece) => toRangeText(piece.range)),
    replicaAddresses,
    incremental: input.incremental,
    parallelism: input.parallelism,
    repairType: input.incremental ? 'incremental' : whole ? 'vnode' : 'subrange',
  };
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
  readonly record: (client: cassandra.Client, outcome: RepairOutcome, task: TableRepairRequest) => Promise<void>;
}

export interface RepairTableDeps {
  readonly config: TendConfig;
  readonly env: Env;
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
  const { config, env, out } = deps;
  const topology = await readTopology(client, {
    tendKeyspace: config.cassandra.keyspace,
    localNode: {
      hostId: config.node.hostId,
      address: config.node.address,
      contactPoint: config.cassandra.contactPoints[0],
    },
  });
  const tables = Object.fromEntries(Object.values(topology.keyspaceInfo).map((ks) => [ks.name, ks.tables]));
  const scope = resolveScope(parseScopeArgument(options.table), tables, topology.excludedKeyspaces);
  if (scope.table === undefined) throw new UsageError(`expected KEYSPACE.TABLE, found '${options.table}'`);
  const keyspace = scope.keyspace;
  const table = scope.table;
  const settings = tableSettings(config.repair, keyspace, table);
  const ring = buildRing(topology.nodes);
  const placement = computePlacement(ring, topology.keyspaceInfo[keyspace]!.replication, topology.localHostId);
  const request = tableRepairRequest({
    keyspace,
    table,
    ring,
    placement,
    localHostId: topology.localHostId,
    requested: options.ranges,
    incremental: options.incremental ?? settings.type === 'incremental',
    parallelism: options.parallelism ?? settings.parallelism,
  });

  const local = topology.nodes.find((node) => node.hostId === topology.localHostId);
  const coordinator = config.node.name ?? local?.address ?? hostname();
  const ports: RepairTablePorts = {
    leaseBackend: (c) => openLeaseBackend(config, env, async () => c),
    executor: () => createExecutor(config, env),
    record: historyWriter(config.cassandra.keyspace, { coordinator: () => coordinator }),
    ...portsOverride,
  };

  const backend = await ports.leaseBackend(client);
  try {
    const groups = leaseGroups(config.lease, {
      datacenter: topology.localDatacenter,
      replicas: request.replicaAddresses,
    });
    if (options.wait) out.info(`waiting for lease ${groups.map((g) => g.name).join(', ')}`);
    const claim = await acquireLeases(backend, groups, {
      holder: { name: coordinator, host: hostname() },
      ttlMs: config.lease.ttl,
      announcementTtlMs: config.lease.announcementTtl,
      metadata: { task: request.id, command: 'repair table' },
      signal: deps.signal,
      // --wait waits as long as a tick elsewhere may hold the lease, plus a TTL for a holder that died: no longer,
      // so an ad hoc repair can never wait forever (it announces no priority, so busy ticks may keep it out).
      ...(options.wait ? { waitUntil: Date.now() + leaseWaitBound(config), retryEveryMs: 2000 } : {}),
    });
    if (!claim.acquired) {
      const holder = claim.heldBy[0];
      throw new LeaseUnavailable(
        claim.group,
        holder ? `${holder.holder} until ${holder.expiresAt.toISOString()}` : undefined,
        {
          hints: options.wait
            ? [`still held after waiting ${formatDuration(leaseWaitBound(config))}; see tend lease status`]
            : ['add --wait to wait for it, or see tend lease status'],
        },
      );
    }
    const executor = await ports.executor();
    const started = Date.now();
    const { batch, lost } = await runLeasedTask(backend, claim.leases, request, {
      executor,
      renewEveryMs: config.lease.renewEvery,
      taskTimeoutMs: settings.taskTimeout,
      signal: deps.signal,
      out,
      record: (outcome) => ports.record(client, outcome, request),
      onProgress: (progress) => deps.onProgress?.(progress, Date.now() - started),
    });
    const outcome = batch.outcomes[0]!;
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
      leases: claim.leases.map((lease) => lease.resource),
      commands: outcome.commands,
      startedAt: outcome.startedAt,
      finishedAt: outcome.finishedAt,
      error: lost ?? batchError(batch, deps.signal),
    };
  } finally {
    await backend.close().catch(() => undefined);
  }
}
