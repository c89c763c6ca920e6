/**
 * The Jolokia executor: StorageService.repairAsync(keyspace, options) on the node's own JVM, then
 * getParentRepairStatus(command) polled until COMPLETED or FAILED. All ranges of a task go into one call
 * (RepairOption's `ranges` takes a list), so a task is one parent repair session in Cassandra's history.
 *
 * Polling: every 5 ms for the first second, then backing off ×1.25 per poll to at most one request every 2 s.
 * Small repairs finish in well under a second, and every millisecond between Cassandra finishing and tend noticing
 * is tend's overhead on the task (bench/jolokia-poll.ts measures it against the previous schedule, 10 ms ×1.25
 * from the start). A status request is one small HTTP exchange on the node's own loopback (~3 ms); a long repair
 * costs ~200 of them in its first second, then one every 2 s. (JMX notifications would avoid polling, but the
 * Jolokia 2.5 JVM agent ships only the pull notification backend: that is polling too.)
 */
import type { TokenRangeText } from '../core/index.js';
import {
  participantsOf,
  type Executor,
  type RepairOutcome,
  type RepairRequest,
  type RepairStatus,
  type RunOptions,
} from './executor.js';
import { JolokiaRequestError, type JolokiaClient } from './jolokia-client.js';
import { abortReason } from './nodetool-executor.js';
import { sleep as sleepUnlessAborted, timeoutSignal } from '../timers.js';
import { externalMessage, sanitizeExternal } from '../output/sanitize.js';

export const STORAGE_SERVICE = 'org.apache.cassandra.db:type=StorageService';
const REPAIR_ASYNC = 'repairAsync(java.lang.String,java.util.Map)';
const PARENT_STATUS = 'getParentRepairStatus(int)';
const TERMINATE_ALL = 'forceTerminateAllRepairSessions()';

/**
 * RepairOption keys as Cassandra 5.0 parses them (every value a string). Parallelism is always sent: when the
 * key is absent Cassandra picks sequential, unlike nodetool's default of parallel.
 */
export function repairOptions(request: RepairRequest): Record<string, string> {
  const options: Record<string, string> = {
    incremental: String(request.incremental),
    parallelism: request.parallelism,
    primaryRange: String(request.primaryRange ?? false),
    columnFamilies: request.tables.join(','),
    trace: 'false',
  };
  if (request.scope === 'ranges' && request.ranges.length > 0) {
    options.ranges = request.ranges.map((range) => `${range.start}:${range.end}`).join(',');
  }
  if (request.limitToDatacenters?.length) options.dataCenters = request.limitToDatacenters.join(',');
  if (request.limitToHosts?.length) options.hosts = request.limitToHosts.join(',');
  return options;
}

type ParentStatus = readonly string[] | null;

interface PollSchedule {
  pollMinMs: number;
  pollFastForMs: number;
  pollMaxMs: number;
  pollFactor: number;
}

/** Builds the task's outcome; `finishedAt` is when it is built. */
type OutcomeOf = (
  status: RepairStatus,
  message: string,
  extra?: { repaired?: readonly TokenRangeText[]; commands?: string[]; serverStop?: RepairOutcome['serverStop'] },
) => RepairOutcome;

/** One repair command running on the node, as the poll loop sees it. */
interface RunningRepair {
  readonly request: RepairRequest;
  readonly options: RunOptions;
  readonly command: number;
  readonly startedAt: number;
  readonly outcome: OutcomeOf;
}

function outcomeOf(request: RepairRequest, startedAt: number, now: () => number): OutcomeOf {
  return (status, message, extra = {}) => ({
    taskId: request.id,
    keyspace: request.keyspace,
    tables: request.tables,
    status,
    startedAt,
    finishedAt: now(),
    ranges: request.ranges,
    rangesRepaired: extra.repaired ?? [],
    participants: participantsOf(request),
    message,
    commands: extra.commands ?? [],
    ...(extra.serverStop ? { serverStop: extra.serverStop } : {}),
  });
}

/** The outcome for a final status (COMPLETED, FAILED); undefined while the repair runs. */
function settled(repair: RunningRepair, state: ParentStatus): RepairOutcome | undefined {
  const [kind, ...raw] = state ?? [];
  // Cassandra's words enter tend here: each message on one line, secrets masked, range lists counted (a
  // session's message lists every range it covered, which would push the reason out of the message).
  const messages = raw.map((message) => sanitizeExternal(countRanges(String(message))));
  const { request, outcome } = repair;
  const commands = [`#${repair.command}`];
  if (kind === 'COMPLETED') {
    repair.options.onProgress?.({
      taskId: request.id,
      rangesDone: request.ranges.length,
      rangesTotal: request.ranges.length,
    });
    return outcome('success', messages.at(-1) ?? 'repair completed', { repaired: request.ranges, commands });
  }
  if (kind === 'FAILED') {
    const reasons = messages.filter((m) => !/^Repair command #\d+ finished with error$/.test(m));
    return outcome('failed', (reasons.length ? reasons : messages).join('; ') || 'repair failed', { commands });
  }
  return undefined;
}

export interface JolokiaExecutorOptions {
  readonly client: Pick<JolokiaClient, 'exec'>;
  readonly now?: () => number;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Poll interval at the start (default 5 ms). */
  readonly pollMinMs?: number;
  /** Poll every pollMinMs for this long after the repair started, then back off (default 1 s). */
  readonly pollFastForMs?: number;
  readonly pollMaxMs?: number;
  /** Growth of the poll interval after each poll once backing off (default 1.25). */
  readonly pollFactor?: number;
  /**
   * How long a null status is taken as "not registered yet" before the command counts as lost (the status
   * cache is in memory: a restarted node forgets it). Default 30 s.
   */
  readonly unknownStatusGraceMs?: number;
  /**
   * After a termination, how long to wait for the command to leave IN_PROGRESS (default 15 s: half of the 30 s a
   * stopped command gets after SIGTERM, INTERRUPT_GRACE_MS, which must still record the task and release leases).
   */
  readonly terminateConfirmMs?: number;
  /** While it has not, the termination is repeated this often (default 3 s). */
  readonly terminateRepeatMs?: number;
  /** And the status read this often (default 200 ms). */
  readonly terminatePollMs?: number;
}

export class JolokiaExecutor implements Executor {
  readonly kind = 'jolokia' as const;
  private readonly client: Pick<JolokiaClient, 'exec'>;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly pollMinMs: number;
  private readonly schedule: PollSchedule;
  private readonly unknownGraceMs: number;
  private readonly terminateConfirmMs: number;
  private readonly terminateRepeatMs: number;
  private readonly terminatePollMs: number;

  constructor(options: JolokiaExecutorOptions) {
    this.client = options.client;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? sleepUnlessAborted;
    this.pollMinMs = options.pollMinMs ?? 5;
    this.schedule = {
      pollMinMs: this.pollMinMs,
      pollFastForMs: options.pollFastForMs ?? 1000,
      pollMaxMs: options.pollMaxMs ?? 2000,
      pollFactor: options.pollFactor ?? 1.25,
    };
    this.unknownGraceMs = options.unknownStatusGraceMs ?? 30_000;
    this.terminateConfirmMs = options.terminateConfirmMs ?? 15_000;
    this.terminateRepeatMs = options.terminateRepeatMs ?? 3_000;
    this.terminatePollMs = options.terminatePollMs ?? 200;
  }

  /** repairAsync, then the status polled until the repair ends, the task's deadline passes or it is aborted. */
  async run(request: RepairRequest, options: RunOptions): Promise<RepairOutcome> {
    const startedAt = this.now();
    const outcome = outcomeOf(request, startedAt, this.now);
    if (options.signal?.aborted) return outcome('aborted', `aborted${abortReason(options.signal)} before it started`);
    const command = await this.startRepair(request, outcome);
    if (typeof command !== 'number') return command;
    options.onProgress?.({ taskId: request.id, rangesDone: 0, rangesTotal: request.ranges.length });
    return this.pollUntilSettled({ request, options, command, startedAt, outcome }, startedAt + options.timeoutMs);
  }

  /** The repair's command number, or the outcome when there is nothing to poll (refused, nothing to repair). */
  private async startRepair(request: RepairRequest, outcome: OutcomeOf): Promise<number | RepairOutcome> {
    let command: number;
    try {
      command = Number(
        await this.client.exec(STORAGE_SERVICE, REPAIR_ASYNC, [request.keyspace, repairOptions(request)]),
      );
    } catch (error) {
      // Cassandra validates the options in repairAsync itself (unknown table, bad range): a refusal, not an outage.
      if (error instanceof JolokiaRequestError) {
        return outcome('failed', `repairAsync refused the repair of ${request.keyspace}: ${cassandraMessage(error)}`);
      }
      throw error;
    }
    if (command === 0) {
      // StorageService returns 0 when there is nothing to repair: no ranges, or a replication factor below 2.
      return outcome('success', 'nothing to repair (replication factor below 2 or no ranges)', {
        repaired: request.ranges,
      });
    }
    return command;
  }

  /**
   * Polls getParentRepairStatus on the schedule of `nextPollWait` until a final status, the deadline or an abort.
   * This loop is the executor's overhead on every task: bench/jolokia-poll measures it.
   */
  private async pollUntilSettled(repair: RunningRepair, deadline: number): Promise<RepairOutcome> {
    const timeout = timeoutSignal(Math.max(0, deadline - this.now()));
    const stop = repair.options.signal ? AbortSignal.any([repair.options.signal, timeout]) : timeout;
    let wait = this.pollMinMs;
    let unknownSince: number | undefined;
    let lastError: string | undefined;
    for (;;) {
      await this.sleep(wait, stop);
      if (stop.aborted) return this.stopped(repair, lastError);
      wait = nextPollWait(wait, this.now() - repair.startedAt, this.schedule);
      let state: ParentStatus;
      try {
        state = await this.client.exec<ParentStatus>(STORAGE_SERVICE, PARENT_STATUS, [repair.command], stop);
        lastError = undefined;
      } catch (error) {
        // A poll that fails (agent restarting, network blip) is retried until the task's deadline.
        if (stop.aborted) continue;
        lastError = externalMessage(error);
        continue;
      }
      if (state === null || state.length === 0) {
        unknownSince ??= this.now();
        if (this.now() - unknownSince > this.unknownGraceMs) {
          return repair.outcome(
            'failed',
            `Cassandra no longer knows repair command #${repair.command} (node restarted, or its status expired); check the node's log`,
            { commands: [`#${repair.command}`] },
          );
        }
        continue;
      }
      unknownSince = undefined;
      const verdict = settled(repair, state);
      if (verdict) return verdict;
    }
  }

  /**
   * Aborted or past its deadline: reported as it ended if it ended since the last poll (nothing to stop), otherwise
   * stopped on the node, since cancelling the HTTP poll alone would leave Cassandra repairing.
   */
  private async stopped(repair: RunningRepair, lastError: string | undefined): Promise<RepairOutcome> {
    const status: RepairStatus = repair.options.signal?.aborted ? 'aborted' : 'timed_out';
    const last = await this.client
      .exec<ParentStatus>(STORAGE_SERVICE, PARENT_STATUS, [repair.command])
      .catch(() => null);
    const ended = settled(repair, last);
    if (ended) return ended;
    const serverStop = await this.terminate(repair.command);
    const what =
      status === 'aborted'
        ? `aborted${abortReason(repair.options.signal)}`
        : `timed out${lastError ? ` (last status poll failed: ${lastError})` : ''}`;
    const how = serverStop.error
      ? `stopping the repair on the node failed (${serverStop.error}); check the node's log`
      : 'repair sessions terminated on the node';
    return repair.outcome(status, `${what}; ${how}`, { commands: [`#${repair.command}`], serverStop });
  }

  async stopAllOnServer(): Promise<void> {
    await this.client.exec(STORAGE_SERVICE, TERMINATE_ALL);
  }

  /**
   * Terminates the sessions, then polls the command until it leaves IN_PROGRESS (proof it stopped). A termination
   * ends the sessions that exist when it lands; one that lands while the command is between phases (preparing,
   * cleaning up Paxos state, not yet in a session) may find none, so it is repeated every
   * `terminateRepeatMs` while the command still runs, for at most `terminateConfirmMs`.
   */
  private async terminate(command: number): Promise<NonNullable<RepairOutcome['serverStop']>> {
    const startedAt = this.now();
    const until = startedAt + this.terminateConfirmMs;
    let terminations = 0;
    let lastTermination = -Infinity;
    let lastError: string | undefined;
    while (this.now() < until) {
      if (this.now() - lastTermination >= this.terminateRepeatMs) {
        try {
          await this.stopAllOnServer();
          terminations++;
          lastTermination = this.now();
        } catch (error) {
          // The first refusal is the answer (wrong rights, agent gone); a later one is retried with the polls.
          if (terminations === 0) return { requested: true, error: externalMessage(error) };
          lastError = externalMessage(error);
        }
      }
      try {
        const state = await this.client.exec<ParentStatus>(STORAGE_SERVICE, PARENT_STATUS, [command]);
        if (!state || state[0] !== 'IN_PROGRESS') return { requested: true };
      } catch (error) {
        lastError = externalMessage(error); // keep trying until the limit
      }
      await this.sleep(this.terminatePollMs);
    }
    const seconds = Math.round((this.now() - startedAt) / 1000);
    return {
      requested: true,
      error:
        `repair command #${command} still reported IN_PROGRESS ${seconds} s after termination ` +
        `(terminated ${terminations} time${terminations === 1 ? '' : 's'}${lastError ? `; last error: ${lastError}` : ''})`,
    };
  }
}

/** "Repair session … for range [(a,b], (c,d], …] failed with error X" → "… for 48 range(s) failed with error X". */
export function countRanges(message: string): string {
  return message.replace(/for range \[((?:\(-?\d+,\s*-?\d+\](?:,\s*)?)*)\]/g, (_match, list: string) => {
    const count = (list.match(/\(/g) ?? []).length;
    return `for ${count} range${count === 1 ? '' : 's'}`;
  });
}

/** Cassandra's own words from a Jolokia error ("java.lang.IllegalArgumentException : Unknown …" → "Unknown …"). */
export function cassandraMessage(error: JolokiaRequestError): string {
  return error.message.replace(/^[\w.$]+(?:Exception|Error)\s*:\s*/, '');
}

/** The pause before the next status poll: pollMinMs during the first pollFastForMs, then growing to pollMaxMs. */
export function nextPollWait(previous: number, elapsedMs: number, schedule: PollSchedule): number {
  if (elapsedMs < schedule.pollFastForMs) return schedule.pollMinMs;
  return Math.min(schedule.pollMaxMs, Math.max(previous + 1, Math.round(previous * schedule.pollFactor)));
}
