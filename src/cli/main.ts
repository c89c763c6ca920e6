/**
 * The one exit path: parse argv, run the command, map any error to its documented exit code, print it on
 * stderr, flush both streams. Commands never call process.exit and never write to process.stdout directly.
 */
import { ConfigError, ExitCode, Interrupted, TendError, exitCodeOf } from '../errors.js';
import { resetActivities } from '../activity.js';
import { CONFIG_LOAD_BOUND, commandBound } from '../app/time-bound.js';
import { guardExit, Watchdog } from './watchdog.js';
import { colorAllowedByEnv, Output, type OutputStream, type Verbosity } from '../output/output.js';
import { maskSecrets, resetSecrets, type Env } from '../config/secrets.js';
import { externalMessage } from '../output/sanitize.js';
import { readSecretFile } from '../config/files.js';
import { packageInfo } from './package-info.js';
import { setLongTimeout, type LongTimer } from '../timers.js';
import { parseInvocation, registry as defaultRegistry, type Registry } from './registry.js';
import type { CommandDeps, GlobalOptions, LoadedValidConfig } from './types.js';

export interface MainIO {
  stdout: OutputStream;
  stderr: OutputStream;
  env: Env;
  cwd: string;
  readFile: (path: string) => Promise<string>;
  now?: () => Date;
  /** Where the system-wide tend.yml lives (/etc/tend); tests point it at an empty directory. */
  systemConfigDir?: string;
  /** Install SIGINT/SIGTERM handlers (only for the real process). */
  handleSignals?: boolean;
  /** How long an interrupted command may take to clean up (default INTERRUPT_GRACE_MS). */
  interruptGraceMs?: number;
  registry?: Registry;
  /**
   * Ends the process (process.exit). Only the real process has it: the watchdog's last resort and the exit guard
   * use it; in-process callers (tests) get the watchdog's abort but never an exit.
   */
  exit?: (code: number) => void;
}

function processIO(): MainIO {
  // `tend history show | head`: the reader may go away before we are done. Like other Unix tools, stop writing
  // quietly instead of crashing on EPIPE; the command itself still finishes (and releases what it holds).
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
    });
  }
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    readFile: readSecretFile,
    handleSignals: true,
    exit: (code) => process.exit(code),
  };
}

/** Before argv is parsed we still need to know how to print a usage error. */
function earlyGlobals(args: readonly string[]): GlobalOptions {
  return {
    config: undefined,
    json: args.includes('--json'),
    verbose: args.includes('-v') || args.includes('--verbose'),
    quiet: args.includes('-q') || args.includes('--quiet'),
    color: !args.includes('--no-color'),
  };
}

function makeOutput(io: MainIO, globals: GlobalOptions): Output {
  const verbosity: Verbosity = globals.verbose ? 'verbose' : globals.quiet ? 'quiet' : 'normal';
  return new Output({
    stdout: io.stdout,
    stderr: io.stderr,
    json: globals.json,
    colorAllowed: colorAllowedByEnv(io.env, globals.color),
    verbosity,
    ...(io.now ? { now: io.now } : {}),
  });
}

/** Print an error for the operator: what failed, then what to do about it. */
export function reportError(error: unknown, out: Output, verbose: boolean): void {
  const code = exitCodeOf(error);
  // On a terminal the exit code is visible to the operator anyway; in the journal it is worth a field.
  const exitField = out.humanDiagnostics ? {} : { exit: code };
  if (error instanceof ConfigError) {
    const fields = error.filepath ? { file: error.filepath } : {};
    // Problems quote values from the file, which is outside text: a secret pasted under the wrong key is masked.
    out.error(maskSecrets(error.message), out.humanDiagnostics ? {} : { ...fields, ...exitField });
    for (const problem of error.problems) out.detail('error', maskSecrets(problem), fields);
  } else if (error instanceof TendError) {
    out.error(error.message, exitField);
  } else {
    // Not one of tend's errors: its text comes from a library or a server (one line, secrets masked, no stack).
    out.error(externalMessage(error), exitField);
  }
  if (error instanceof TendError) {
    for (const hint of error.hints) out.detail('error', hint);
  }
  if (verbose && error instanceof Error) {
    if (error.cause !== undefined) out.debug(`caused by: ${externalMessage(error.cause)}`);
    if (!(error instanceof TendError) && error.stack) out.debug(maskSecrets(error.stack));
  }
}

export async function main(argv: string[], io: MainIO = processIO()): Promise<number> {
  const startedAt = Date.now();
  const args = argv.slice(2);
  const reg = io.registry ?? defaultRegistry;
  // The secret variables of this environment are known from the start; files add theirs as they are read.
  resetSecrets(io.env);
  resetActivities();
  let globals = earlyGlobals(args);
  let out = makeOutput(io, globals);
  const controller = new AbortController();
  const removeSignalHandlers = io.handleSignals ? installSignalHandlers(controller, () => out) : () => undefined;
  let watchdog: Watchdog | undefined;
  let code: number = ExitCode.Failure;
  try {
    const invocation = parseInvocation(args, packageInfo().version, reg);
    globals = invocation.globals;
    out = makeOutput(io, globals);
    if (invocation.kind === 'text') {
      out.text(invocation.text);
      return (code = 0);
    }
    // Until the configuration is read there is no bound to derive; then the command's own (time-bound.ts).
    watchdog = new Watchdog({
      command: `tend ${invocation.command.path.join(' ')}`,
      startedAt,
      controller,
      out: () => out,
      cleanupGraceMs: (io.interruptGraceMs ?? INTERRUPT_GRACE_MS) + 10_000,
      ...(io.exit ? { exit: io.exit } : {}),
    });
    watchdog.arm(CONFIG_LOAD_BOUND);
    const command = invocation.command;
    await out.prepareTerminal();
    let loaded: Promise<LoadedValidConfig> | undefined;
    const deps: CommandDeps = {
      out,
      env: io.env,
      cwd: io.cwd,
      globals,
      version: packageInfo().version,
      signal: controller.signal,
      readFile: io.readFile,
      ...(io.systemConfigDir ? { systemConfigDir: io.systemConfigDir } : {}),
      loadConfig: () => {
        loaded ??= import('../config/load.js').then(async ({ loadValidConfig }) => {
          const result = await loadValidConfig({
            explicitPath: globals.config,
            env: io.env,
            cwd: io.cwd,
            ...(io.systemConfigDir ? { systemDir: io.systemConfigDir } : {}),
          });
          out.configureLogging(result.config.log.level, result.config.log.format);
          watchdog?.arm(command.timeBound?.(result.config, invocation.options) ?? commandBound(result.config));
          // Every command that reads the configuration tells the operator about its warnings, once (here).
          for (const warning of result.warnings) out.warn(warning, result.filepath ? { file: result.filepath } : {});
          return result;
        });
        return loaded;
      },
      secret: async (name) => {
        const { config } = await deps.loadConfig();
        const { readSecret, secretOrigins } = await import('../config/secrets.js');
        return readSecret(secretOrigins(config, io.env)[name], io.env, io.readFile);
      },
    };
    const result = await untilInterrupted(
      invocation.command.run(invocation.options, deps),
      controller.signal,
      io.interruptGraceMs ?? INTERRUPT_GRACE_MS,
    );
    return (code = typeof result === 'number' ? result : 0);
  } catch (error) {
    reportError(error, out, globals.verbose);
    return (code = exitCodeOf(error));
  } finally {
    watchdog?.disarm();
    removeSignalHandlers();
    await out.flush();
    // Nothing may keep a finished tend alive (a tick that never exits blocks every later tick on its node).
    if (io.exit) guardExit(code, out, io.exit);
  }
}

/**
 * After SIGINT/SIGTERM a command gets this long to stop: cancel its repair on the server, record the task as
 * aborted and release its lease, so the next tick on any node can start at once instead of waiting for the lease
 * TTL. Well inside systemd's TimeoutStopSec (2 min in tend.service), after which systemd would SIGKILL us.
 */
export const INTERRUPT_GRACE_MS = 30_000;

/**
 * The command's own outcome, unless it was interrupted: then its error (normally Interrupted, with the command
 * to resume) once it has cleaned up, or Interrupted when it has not settled within the grace period.
 */
async function untilInterrupted<T>(running: Promise<T>, signal: AbortSignal, graceMs: number): Promise<T> {
  const interruption = () => (signal.reason instanceof Error ? signal.reason : new Interrupted());
  let timer: LongTimer | undefined;
  const graceOver = new Promise<never>((_, reject) => {
    const startGrace = () => {
      timer = setLongTimeout(() => reject(interruption()), graceMs);
    };
    if (signal.aborted) startGrace();
    else signal.addEventListener('abort', startGrace, { once: true });
  });
  try {
    const result = await Promise.race([running, graceOver]);
    // Finished normally although interrupted: still report the interruption, the operator asked to stop.
    if (signal.aborted) throw interruption();
    return result;
  } finally {
    timer?.clear();
  }
}

/**
 * First SIGINT/SIGTERM: abort, so the command can cancel its repair and release its lease in `finally`.
 * A second one: exit at once — the operator has decided not to wait for the cleanup.
 */
function installSignalHandlers(controller: AbortController, output: () => Output): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      output().error('second signal, exiting without cleanup', { signal });
      process.exit(130);
    }
    output().warn('interrupted, cleaning up (send again to exit at once)', { signal });
    controller.abort(new Interrupted(`interrupted by ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
