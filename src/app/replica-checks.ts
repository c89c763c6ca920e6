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
import { endpointAddress, normalizeAddress, runningRepairVerdict, type OwnRepair } from '../core/running-repairs.js';
import { backPressureVerdict } from '../core/back-pressure.js';
import { readRepairActivity } from '../cluster/repair-activity.js';
import { backPressureLimits, readReplicaLoads } from '../cluster/replica-load.js';
import { clusterNow, type PinnedSessions } from '../cluster/session.js';
import { openPinnedSessions, replicaJolokia } from './adapters.js';

/** Why a replica of the task is busy, or undefined: it may start. */
export type ReplicaBusy = { readonly code: 'repair_running' | 'back_pressure'; readonly reason: string } | undefined;

export interface ReplicaChecks {
  /** Checks `task`'s replicas now. `finished`: repairs this process started and saw end. */
  check(task: RepairTask, finished: readonly OwnRepair[]): Promise<ReplicaBusy>;
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
  return {
    async check(task, finished) {
      const replicas = task.replicaAddresses;
      const reports = await readRepairActivity(client, replicas, { pinned: await sessions() });
      // The coordinators of what the replicas list, when outside them: their own list tells a running repair from
      // a participant's stale entry (runningRepairVerdict).
      const coordinators = new Set<string>();
      for (const report of reports) {
        if (!('repairs' in report)) continue;
        for (const repair of report.repairs) {
          const address = endpointAddress(repair.coordinator);
          if (address !== undefined && !replicas.some((r) => normalizeAddress(r) === address))
            coordinators.add(address);
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
      for (const { address, error } of running.unchecked) {
        out.debug(`running repairs on ${address} not checked: ${error}`, { task: task.id });
      }
      if (!running.start) return { code: running.code, reason: running.reason };
      if (!backPressure.enabled) return undefined;
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
      }
      return verdict.start ? undefined : { code: verdict.code, reason: verdict.reason };
    },
    async close() {
      if (pinned) await (await pinned.catch(() => undefined))?.close();
    },
  };
}
