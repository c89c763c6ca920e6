/**
 * Before a task of the batch starts: is any of its replicas already repairing (an orphan of a killed tick, an
 * operator's nodetool repair, Reaper, AutoRepair), or past a back-pressure limit? Reads each replica's node-local
 * state (src/cluster/repair-activity.ts, replica-load.ts), and lets the core decide (running-repairs.ts,
 * back-pressure.ts). Figures that cannot be read never stop a task: they are logged at debug level.
 */
import type cassandra from 'cassandra-driver';
import type { TendConfig } from '../config/schema.js';
import type { SecretSource } from '../config/secrets.js';
import type { Output } from '../output/output.js';
import type { NodeInfo, RepairTask } from '../core/index.js';
import {
  endpointAddress,
  normalizeAddress,
  runningRepairVerdict,
  type OwnRepair,
  type RepairOnReplica,
} from '../core/running-repairs.js';
import { backPressureVerdict, type Overload } from '../core/back-pressure.js';
import { readRepairActivity } from '../cluster/repair-activity.js';
import { backPressureLimits, readReplicaLoads } from '../cluster/replica-load.js';
import { clusterNow, type PinnedSessions } from '../cluster/session.js';
import { openPinnedSessions, replicaJolokia } from './adapters.js';

/** Why a replica of the task is busy, or undefined: it may start. */
export type ReplicaBusy = { readonly code: 'repair_running' | 'back_pressure'; readonly reason: string } | undefined;

/**
 * Everything one check found, for `schedule plan --explain`: the verdict the tick acts on (`busy`), what made it
 * (the running repairs, the limits a replica is past), and what could not be read (which never stops a task).
 */
export interface ReplicaInspection {
  readonly busy: ReplicaBusy;
  /** Repairs in progress on the task's replicas (when `busy.code` is repair_running). */
  readonly repairs: readonly RepairOnReplica[];
  /** Limits a replica is past (when `busy.code` is back_pressure). */
  readonly overloads: readonly Overload[];
  /** Replicas or figures that could not be read, as `address: why`. */
  readonly unread: readonly string[];
  /** Whether back-pressure was measured: not when a running repair decided first, or repair.backPressure is off. */
  readonly backPressureChecked: boolean;
}

export interface ReplicaChecks {
  /** Checks `task`'s replicas now. `finished`: repairs this process started and saw end. */
  check(task: RepairTask, finished: readonly OwnRepair[]): Promise<ReplicaBusy>;
  /** The same check, with what it found (the tick calls `check`, which is this and nothing else). */
  inspect(task: RepairTask, finished: readonly OwnRepair[]): Promise<ReplicaInspection>;
  close(): Promise<void>;
}

/** The checks for one batch: sessions to single nodes and Jolokia clients are opened on first use, kept, closed. */
export function replicaChecks(
  deps: { readonly config: TendConfig; readonly secret: SecretSource; readonly out: Output },
  client: cassandra.Client,
  topology: { readonly nodes: readonly NodeInfo[]; readonly localAddress: string },
): ReplicaChecks {
  const { config, secret, out } = deps;
  let pinned: Promise<PinnedSessions> | undefined;
  const sessions = () => (pinned ??= openPinnedSessions(config, secret));
  const backPressure = config.repair.backPressure;
  // Pending compactions and SSTable counts come from JMX through each replica's agent; without one (the nodetool
  // executor and no repair.backPressure.jolokiaUrl), pending compactions come from system_views.thread_pools.
  const useJolokia = config.executor.type === 'jolokia' || backPressure.jolokiaUrl !== undefined;
  const jolokia = useJolokia ? replicaJolokia(config, secret) : undefined;
  const inspect = async (task: RepairTask, finished: readonly OwnRepair[]): Promise<ReplicaInspection> => {
    const replicas = task.replicaAddresses;
    const reports = await readRepairActivity(client, replicas, { pinned: await sessions() });
    // The coordinators of what the replicas list, when outside them: their own list tells a running repair from
    // a participant's stale entry (runningRepairVerdict).
    const coordinators = new Set<string>();
    for (const report of reports) {
      if (!('repairs' in report)) continue;
      for (const repair of report.repairs) {
        const address = endpointAddress(repair.coordinator);
        if (address !== undefined && !replicas.some((r) => normalizeAddress(r) === address)) coordinators.add(address);
      }
    }
    if (coordinators.size > 0) {
      reports.push(...(await readRepairActivity(client, [...coordinators], { pinned: await sessions() })));
    }
    const running = runningRepairVerdict({
      replicas,
      reports,
      nodes: topology.nodes,
      now: await clusterNow(client),
      finished,
    });
    const unread = running.unchecked.map(({ address, error }) => `${address}: running repairs not checked: ${error}`);
    for (const { address, error } of running.unchecked) {
      out.debug(`running repairs on ${address} not checked: ${error}`, { task: task.id });
    }
    const none = { repairs: [], overloads: [], unread };
    if (!running.start) {
      return {
        ...none,
        busy: { code: running.code, reason: running.reason },
        repairs: running.repairs,
        backPressureChecked: false,
      };
    }
    if (!backPressure.enabled) return { ...none, busy: undefined, backPressureChecked: false };
    const loads = await readReplicaLoads(
      client,
      replicas,
      task.tables.map((table) => ({ keyspace: task.keyspace, table })),
      { ...(jolokia ? { jolokia } : {}), pinned: await sessions(), localAddress: topology.localAddress },
    );
    const verdict = backPressureVerdict({
      replicas,
      tables: task.tables.map((table) => `${task.keyspace}.${table}`),
      loads,
      limits: backPressureLimits(backPressure),
    });
    for (const { replica, problem } of verdict.unknown) {
      out.debug(`back-pressure on ${replica} not measured: ${problem}`, { task: task.id });
      unread.push(`${replica}: back-pressure not measured: ${problem}`);
    }
    if (verdict.start) return { ...none, busy: undefined, backPressureChecked: true };
    return {
      ...none,
      busy: { code: verdict.code, reason: verdict.reason },
      overloads: verdict.overloads,
      backPressureChecked: true,
    };
  };
  return {
    async check(task, finished) {
      return (await inspect(task, finished)).busy;
    },
    inspect,
    async close() {
      if (pinned) await (await pinned.catch(() => undefined))?.close();
    },
  };
}
