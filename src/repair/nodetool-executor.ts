/**
 * The nodetool executor: one `nodetool repair` child process per range (nodetool takes a single -st/-et pair),
 * argument arrays only (no shell), the JMX password by file (-pwf).
 *
 * Stopping: killing nodetool does not stop the repair, which runs on the node; the client only listens for
 * notifications. So on timeout or cancel the client is killed (SIGTERM, then SIGKILL after a grace period)
 * and then the node is told to terminate its repair sessions through nodetool's own JMX connection
 * (`nodetool sjk mx … forceTerminateAllRepairSessions`), which needs no extra port or agent.
 */
import { ClusterUnavailable } from '../errors.js';
import { SECRET_ENV } from '../config/secrets.js';
import { timeoutSignal } from '../timers.js';
import { beginActivity } from '../activity.js';
import { externalMessage, sanitizeExternal } from '../output/sanitize.js';
import type { TokenRangeText } from '../core/index.js';
import {
  participantsOf,
  type Executor,
  type RepairOutcome,
  type RepairRequest,
  type RepairStatus,
  type RunOptions,
} from './executor.js';
import {
  connectionArgs,
  parseRangeList,
  parseRepairOutput,
  repairArgs,
  TERMINATE_REPAIRS_ARGS,
  type NodetoolConnection,
} from './nodetool-output.js';

export interface ProcessResult {
  readonly exitCode: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
  /** Killed because `cancelSignal` fired. */
  readonly isCanceled: boolean;
  /** Killed because `timeoutMs` passed. */
  readonly timedOut: boolean;
}

/** Runs a program with an argument array; never rejects for a non-zero exit. Replaceable in unit tests. */
export type RunProcess = (
  file: string,
  args: readonly string[],
  options: {
    timeoutMs: number;
    cancelSignal?: AbortSignal | undefined;
    killGraceMs: number;
    /** Each line of stdout as it arrives (nodetool relays repair progress while it runs). */
    onStdoutLine?: ((line: string) => void) | undefined;
  },
) => Promise<ProcessResult>;

/**
 * The environment a child runs with: tend's own without the variables that carry tend's secrets
 * (TEND_CASSANDRA_PASSWORD, …). nodetool takes its password from -pwf and needs none of them, and a child's
 * environment is readable in /proc/PID/environ for as long as it runs (and by whatever it starts in turn).
 */
export function childEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const variable of Object.values(SECRET_ENV)) delete out[variable];
  return out;
}

export const runProcess: RunProcess = async (file, args, options) => {
  // Loaded on first use: execa and its dependencies cost ~0.1 s of start-up that a Jolokia tick never needs.
  const { execa } = await import('execa');
  // Our own timeout rather than execa's: execa's is a plain Node timer, and a repair.taskTimeout above 24.8 days
  // would overflow it and kill nodetool at once (then terminate every repair session on the node).
  const timeout = timeoutSignal(options.timeoutMs);
  const subprocess = execa(file, args, {
    env: childEnvironment(process.env),
    extendEnv: false,
    reject: false,
    cancelSignal: options.cancelSignal ? AbortSignal.any([options.cancelSignal, timeout]) : timeout,
    // A JVM usually exits on SIGTERM within a second; the grace period covers a JVM stuck in GC or shutdown hooks.
    forceKillAfterDelay: options.killGraceMs,
    stdin: 'ignore',
    stripFinalNewline: true,
  });
  if (options.onStdoutLine && subprocess.stdout) {
    let pending = '';
    subprocess.stdout.on('data', (chunk: Buffer) => {
      const lines = (pending + chunk.toString('utf8')).split(/\r?\n/);
      pending = lines.pop() ?? '';
      for (const line of lines) options.onStdoutLine?.(line);
    });
  }
  const end = beginActivity(`nodetool ${subcommandOf(args)}${subprocess.pid ? ` (pid ${subprocess.pid})` : ''}`);
  const result = await subprocess.finally(end);
  return {
    exitCode: result.exitCode,
    stdout: typeof result.stdout === 'string' ? result.stdout : '',
    stderr: typeof result.stderr === 'string' ? result.stderr : '',
    // Cancelled by the caller wins over the timeout when both fired: the caller's reason is what happened.
    isCanceled: result.isCanceled && options.cancelSignal?.aborted === true,
    timedOut: result.isCanceled && options.cancelSignal?.aborted !== true && timeout.aborted,
  };
};

/** The nodetool command in an argument list that starts with connection options (`-h H -p P …`). */
function subcommandOf(args: readonly string[]): string {
  for (let i = 0; i < args.length; i++) {
    if (args[i]!.startsWith('-')) i++;
    else return args[i]!;
  }
  return '';
}

export interface NodetoolExecutorOptions {
  readonly connection: NodetoolConnection;
  readonly runProcess?: RunProcess;
  readonly now?: () => number;
  /** SIGTERM → SIGKILL grace for the nodetool JVM (default 5 s). */
  readonly killGraceMs?: number;
  /** Limit for the server-side stop call (default 60 s). */
  readonly stopTimeoutMs?: number;
}

export class NodetoolExecutor implements Executor {
  readonly kind = 'nodetool' as const;
  private readonly connection: NodetoolConnection;
  private readonly run_: RunProcess;
  private readonly now: () => number;
  private readonly killGraceMs: number;
  private readonly stopTimeoutMs: number;

  constructor(options: NodetoolExecutorOptions) {
    this.connection = options.connection;
    this.run_ = options.runProcess ?? runProcess;
    this.now = options.now ?? Date.now;
    this.killGraceMs = options.killGraceMs ?? 5000;
    this.stopTimeoutMs = options.stopTimeoutMs ?? 60_000;
  }

  async run(request: RepairRequest, options: RunOptions): Promise<RepairOutcome> {
    const startedAt = this.now();
    const deadline = startedAt + options.timeoutMs;
    // Whole-table tasks (and a range-less request) are one call; ranged tasks are one call per range.
    const calls: Array<TokenRangeText | undefined> =
      request.scope === 'table' || request.ranges.length === 0 ? [undefined] : [...request.ranges];
    const rangesRepaired: TokenRangeText[] = [];
    const commands: string[] = [];
    const failures: string[] = [];
    let stopped: RepairStatus | undefined;
    // Only a call killed mid-run can leave a repair behind on the node; between calls nothing is running.
    let killedMidCall = false;
    let done = 0;

    for (const range of calls) {
      if (options.signal?.aborted) {
        stopped = 'aborted';
        break;
      }
      const remaining = deadline - this.now();
      if (remaining <= 0) {
        stopped = 'timed_out';
        break;
      }
      const result = await this.run_(
        this.connection.path,
        [...connectionArgs(this.connection), ...repairArgs(request, range)],
        {
          timeoutMs: remaining,
          cancelSignal: options.signal,
          killGraceMs: this.killGraceMs,
          // A whole-table call covers many ranges in several sessions: report each finished session as it comes.
          onStdoutLine: range ? undefined : liveProgress(request, options),
        },
      );
      if (result.isCanceled || result.timedOut) {
        stopped = result.isCanceled ? 'aborted' : 'timed_out';
        killedMidCall = true;
        break;
      }
      const output = parseRepairOutput(result.stdout, result.stderr, result.exitCode);
      // nodetool's words enter tend here: one line, secrets masked, no stack trace.
      const parsed = { ...output, message: sanitizeExternal(output.message) };
      commands.push(...parsed.commands);
      if (parsed.verdict === 'unreachable' || parsed.verdict === 'refused_credentials') {
        if (done === 0 && rangesRepaired.length === 0 && failures.length === 0) throw this.unavailable(parsed);
        failures.push(parsed.message);
        break; // the node went away mid-task: the remaining ranges would fail the same way
      }
      done += 1;
      if (parsed.verdict === 'success' || parsed.verdict === 'nothing_to_repair') {
        rangesRepaired.push(...(range ? [range] : request.ranges));
      } else {
        failures.push(range ? `(${range.start},${range.end}]: ${parsed.message}` : parsed.message);
      }
      options.onProgress?.({
        taskId: request.id,
        rangesDone: range ? done : request.ranges.length,
        rangesTotal: request.ranges.length,
        message: parsed.message,
      });
    }

    let serverStop: RepairOutcome['serverStop'];
    if (killedMidCall) serverStop = await this.stopAfterKill();
    const status: RepairStatus = stopped ?? (failures.length > 0 ? 'failed' : 'success');
    return {
      taskId: request.id,
      keyspace: request.keyspace,
      tables: request.tables,
      status,
      startedAt,
      finishedAt: this.now(),
      ranges: request.ranges,
      rangesRepaired,
      participants: participantsOf(request),
      message: summarize(status, failures, rangesRepaired.length, request.ranges.length, options.signal, serverStop),
      commands: [...new Set(commands)],
      ...(serverStop ? { serverStop } : {}),
    };
  }

  /** Exit 5 naming JMX and what to check: the port, or (refused credentials) the user and password file. */
  private unavailable(parsed: { verdict: string; message: string }): ClusterUnavailable {
    const where = `${this.connection.host}:${this.connection.port}`;
    if (parsed.verdict === 'refused_credentials') {
      return new ClusterUnavailable('nodetool', `JMX on ${where} refused the credentials: ${parsed.message}`, {
        hints: [
          'check executor.nodetool.user and executor.nodetool.passwordFile (a line "USER PASSWORD", as nodetool -pwf reads it)',
        ],
      });
    }
    return new ClusterUnavailable('nodetool', parsed.message, { hints: [`check that JMX listens on ${where}`] });
  }

  async stopAllOnServer(): Promise<void> {
    const result = await this.run_(
      this.connection.path,
      [...connectionArgs(this.connection), ...TERMINATE_REPAIRS_ARGS],
      {
        timeoutMs: this.stopTimeoutMs,
        killGraceMs: this.killGraceMs,
      },
    );
    if (result.exitCode !== 0 || result.timedOut) {
      const reason = result.timedOut
        ? 'timed out'
        : sanitizeExternal(lastLine(result.stderr)) || `exit code ${result.exitCode}`;
      throw new ClusterUnavailable('nodetool', `could not terminate repair sessions: ${reason}`);
    }
  }

  private async stopAfterKill(): Promise<NonNullable<RepairOutcome['serverStop']>> {
    try {
      await this.stopAllOnServer();
      return { requested: true };
    } catch (error) {
      return { requested: true, error: externalMessage(error) };
    }
  }
}

/** Progress from "Repair session … for range [(a,b], …] finished" lines while a whole-table call runs. */
function liveProgress(request: RepairRequest, options: RunOptions): ((line: string) => void) | undefined {
  if (!options.onProgress) return undefined;
  const seen = new Set<string>();
  return (line) => {
    const session = /Repair session [0-9a-f-]{36} for range \[(.*)\] finished/.exec(line);
    if (!session) return;
    for (const range of parseRangeList(session[1]!)) seen.add(`${range.start}:${range.end}`);
    options.onProgress?.({
      taskId: request.id,
      rangesDone: Math.min(seen.size, request.ranges.length),
      rangesTotal: request.ranges.length,
      message: line.replace(/^\[[^\]]*\]\s*/, ''),
    });
  };
}

function lastLine(text: string): string {
  return (
    text
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('at '))
      .at(-1) ?? ''
  );
}

export function summarize(
  status: RepairStatus,
  failures: readonly string[],
  repaired: number,
  total: number,
  signal: AbortSignal | undefined,
  serverStop?: RepairOutcome['serverStop'],
): string {
  const progress = `${repaired} of ${total} ranges repaired`;
  const stop = !serverStop
    ? 'nothing was running'
    : serverStop.error
      ? `stopping the repair on the node failed (${serverStop.error}); check with nodetool repair_admin / the node's log`
      : 'repair sessions terminated on the node';
  switch (status) {
    case 'success':
      return progress;
    case 'failed':
      return `${failures.join('; ')} (${progress})`;
    case 'timed_out':
      return `timed out; ${stop} (${progress})`;
    case 'aborted':
      return `aborted${abortReason(signal)}; ${stop} (${progress})`;
  }
}

/** ": lease lost" from an AbortSignal's reason, when it carries one. */
export function abortReason(signal: AbortSignal | undefined): string {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error && reason.name !== 'AbortError') return `: ${reason.message}`;
  if (typeof reason === 'string') return `: ${reason}`;
  return '';
}
