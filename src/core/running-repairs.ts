// Repairs already running on a task's replicas, and whether the task may start beside them. Cassandra 4.1 and 5.0
// keep node-local virtual tables of repair state (system_views.repairs on the coordinator, repair_participates on
// every replica, the coordinator included); src/cluster/repair-activity.ts reads them on each replica and this file
// decides. Any repair counts, whoever started it: an orphan of a killed tick, an operator's `nodetool repair`,
// Reaper, Cassandra's AutoRepair. Two repairs on one replica double its validation compactions and streaming, and
// a second tend repair of the same ranges repeats work the first one is still doing.
import { formatDuration } from './job-state.js';
import type { NodeInfo } from './ring.js';

/** A repair that a replica reports as not completed. */
export interface ReplicaRepair {
  /** The parent repair id (the same on the coordinator and on every participant). */
  readonly id: string;
  /**
   * The coordinator's endpoint as the node wrote it: `/10.0.0.1:7000`, `host/10.0.0.1:7000`, or (a row of
   * system_views.repairs, which lives on the coordinator) the replica's own address.
   */
  readonly coordinator: string;
  readonly keyspace: string | null;
  /** `keyspace.table` or bare table names, as the node lists them. */
  readonly tables: readonly string[];
  /** When the node first saw it (state_init_timestamp), epoch ms. */
  readonly since: number | null;
  /** The coordinator's phase (system_views.repairs.status) when this replica coordinates it. */
  readonly status: string | null;
}

/** What one replica said, or why it could not be asked. */
export type ReplicaRepairReport =
  | { readonly address: string; readonly repairs: readonly ReplicaRepair[] }
  | { readonly address: string; readonly error: string };

/** A running repair on a replica of the task, with the node it resolved to as coordinator. */
export interface RepairOnReplica {
  readonly replica: string;
  readonly repair: ReplicaRepair;
  /** The coordinator's address as tend knows the node (its native address), or the text Cassandra wrote. */
  readonly coordinator: string;
}

export type RunningRepairVerdict =
  | {
      readonly start: true;
      /** Replicas that could not be asked: the task starts, but an operator should know. */
      readonly unchecked: readonly { readonly address: string; readonly error: string }[];
      /** Incomplete entries that cannot be running (their coordinator is down or gone), and why they were let pass. */
      readonly ignored: readonly (RepairOnReplica & { readonly why: string })[];
    }
  | {
      readonly start: false;
      readonly code: 'repair_running';
      /** One line naming the replica, the repair id, its coordinator and since when. */
      readonly reason: string;
      readonly repairs: readonly RepairOnReplica[];
      readonly unchecked: readonly { readonly address: string; readonly error: string }[];
    };

/**
 * The address in an endpoint as Cassandra writes it in its repair tables (InetAddressAndPort.toString()):
 * `/10.0.0.1:7000`, `cass1.example.com/10.0.0.1:7000`, `/[2001:db8::1]:7000` or `/2001:db8:0:0:0:0:0:1:7000`,
 * or a bare address. IPv6 comes back in its compressed form (`2001:db8::1`). Undefined when there is none.
 */
export function endpointAddress(endpoint: string): string | undefined {
  let text = endpoint.trim();
  const slash = text.lastIndexOf('/');
  if (slash >= 0) text = text.slice(slash + 1);
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(text);
  if (bracketed) return normalizeAddress(bracketed[1]!);
  const colons = (text.match(/:/g) ?? []).length;
  if (colons === 1) text = text.slice(0, text.indexOf(':'));
  else if (colons === 8) text = text.slice(0, text.lastIndexOf(':'));
  return text === '' ? undefined : normalizeAddress(text);
}

/** IPv4 as is; IPv6 in RFC 5952 form (lower case, longest zero run compressed), so both spellings compare equal. */
export function normalizeAddress(address: string): string {
  if (!address.includes(':')) return address;
  const [head = '', tail] = address.toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? left.length !== 8 : missing < 1) return address.toLowerCase();
  const groups = [...left, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...right].map((g) =>
    g.replace(/^0+(?=.)/, ''),
  );
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < 8; start++) {
    let length = 0;
    while (start + length < 8 && groups[start + length] === '0') length++;
    if (length > bestLength) [bestStart, bestLength] = [start, length];
  }
  if (bestStart < 0) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLength).join(':')}`;
}

/** The node an endpoint text names: by its address, or by any of its other addresses (broadcast, listen). */
export function nodeOfEndpoint(endpoint: string, nodes: readonly NodeInfo[]): NodeInfo | undefined {
  const address = endpointAddress(endpoint);
  if (address === undefined) return undefined;
  return nodes.find(
    (node) =>
      normalizeAddress(node.address) === address ||
      (node.aliases ?? []).some((alias) => normalizeAddress(alias) === address),
  );
}

/** A repair this process started (coordinated by its node) and saw end. */
export interface OwnRepair {
  readonly coordinator: string;
  readonly keyspace: string;
  readonly tables: readonly string[];
  readonly startedAt: number;
}

/**
 * Whether a running entry is one of this process's own repairs that already ended: coordinated by its node, of the
 * same keyspace and tables, first seen no earlier than a second before that repair started. A tick runs one repair
 * at a time and starts the next only after the executor saw the last one end, but participants mark a repair
 * completed a moment after the coordinator reports it, so the next task of the batch would otherwise find its
 * predecessor still "running" on the replicas they share.
 */
export function isOwnFinished(entry: RepairOnReplica, finished: readonly OwnRepair[]): boolean {
  const { repair } = entry;
  const bare = (table: string) => table.slice(table.indexOf('.') + 1);
  return finished.some(
    (own) =>
      normalizeAddress(own.coordinator) === normalizeAddress(entry.coordinator) &&
      (repair.keyspace === null || repair.keyspace === own.keyspace) &&
      repair.tables.every((table) => own.tables.includes(bare(table))) &&
      (repair.since === null || repair.since >= own.startedAt - 1000),
  );
}

function describeRepair(entry: RepairOnReplica, now: number): string {
  const { repair } = entry;
  const since =
    repair.since === null
      ? ''
      : ` since ${new Date(repair.since).toISOString()} (${formatDuration(Math.max(0, now - repair.since))} ago)`;
  const what =
    repair.tables.length > 0
      ? ` of ${repair.tables.slice(0, 3).join(', ')}${repair.tables.length > 3 ? ', …' : ''}`
      : repair.keyspace
        ? ` of keyspace ${repair.keyspace}`
        : '';
  return `replica ${entry.replica} is already repairing: repair ${repair.id}${what}, coordinated by ${entry.coordinator}${since}`;
}

/**
 * Whether a task may start on `replicas` given what each reported. Skip when any replica has a repair in progress
 * (one entry per repair id, however many replicas list it), naming the first such replica, the repair id, its
 * coordinator and since when. A replica that could not be asked does not stop the task (the liveness gate and the
 * executor deal with unreachable nodes); it is listed under `unchecked`. An entry whose coordinator is a node that
 * is down, or no longer in the ring, is let pass (`ignored`): Cassandra fails such repairs, and a participant's
 * entry can outlive them until the node forgets it (repair_state_expires, 3 days by default).
 */
export function runningRepairVerdict(input: {
  readonly replicas: readonly string[];
  /** What the task's replicas said, and any coordinator of theirs outside them (read to tell stale entries). */
  readonly reports: readonly ReplicaRepairReport[];
  /** The ring's nodes: who each coordinator is, and whether it is up. */
  readonly nodes: readonly NodeInfo[];
  readonly now: number;
  /** Repairs this process started and saw end (see `isOwnFinished`): let pass, as Cassandra's books lag. */
  readonly finished?: readonly OwnRepair[];
}): RunningRepairVerdict {
  const wanted = new Set(input.replicas.map(normalizeAddress));
  const unchecked: { address: string; error: string }[] = [];
  const running: RepairOnReplica[] = [];
  const ignored: (RepairOnReplica & { why: string })[] = [];
  const seen = new Set<string>();
  for (const report of input.reports) {
    if (!wanted.has(normalizeAddress(report.address))) continue;
    if ('error' in report) {
      unchecked.push({ address: report.address, error: report.error });
      continue;
    }
    for (const repair of report.repairs) {
      if (seen.has(repair.id)) continue;
      seen.add(repair.id);
      const node = nodeOfEndpoint(repair.coordinator, input.nodes);
      const entry: RepairOnReplica = {
        replica: report.address,
        repair,
        coordinator: node?.address ?? endpointAddress(repair.coordinator) ?? repair.coordinator,
      };
      if (endpointAddress(repair.coordinator) !== undefined && node === undefined) {
        ignored.push({ ...entry, why: `its coordinator ${entry.coordinator} is not in the ring` });
        continue;
      }
      if (node && !node.up) {
        ignored.push({ ...entry, why: `its coordinator ${entry.coordinator} is down` });
        continue;
      }
      // Participants keep a terminated repair as not completed (seen on 4.1.10 minutes after the terminate; entries
      // live until repair_state_expires); its coordinator, which lists it from the moment it accepts it, knows better.
      const coordinatorReport = input.reports.find(
        (other) => normalizeAddress(other.address) === normalizeAddress(entry.coordinator),
      );
      if (coordinatorReport && 'repairs' in coordinatorReport) {
        if (!coordinatorReport.repairs.some((other) => other.id === repair.id)) {
          ignored.push({ ...entry, why: `its coordinator ${entry.coordinator} no longer runs it` });
          continue;
        }
      }
      if (isOwnFinished(entry, input.finished ?? [])) {
        ignored.push({ ...entry, why: 'a repair this tick started and saw end' });
        continue;
      }
      running.push(entry);
    }
  }
  // Stable: the same reports give the same reason, whatever order the replicas answered in.
  running.sort((a, b) => (a.repair.since ?? 0) - (b.repair.since ?? 0) || a.repair.id.localeCompare(b.repair.id));
  if (running.length === 0) return { start: true, unchecked, ignored };
  const more = running.length > 1 ? ` (and ${running.length - 1} more running repair(s) on its replicas)` : '';
  return {
    start: false,
    code: 'repair_running',
    reason: `${describeRepair(running[0]!, input.now)}${more}`,
    repairs: running,
    unchecked,
  };
}
