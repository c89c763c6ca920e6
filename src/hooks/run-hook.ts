/**
 * Event hooks (`hooks.*` in tend.yml): an operator's command run on an event, with the event as JSON on stdin and
 * as TEND_EVENT_* environment variables. The command is an argument list run directly (never through a shell, so
 * nothing in an event is ever interpreted), in its own process group, stopped at its timeout (SIGTERM to the group,
 * SIGKILL after a grace period) so a hung hook, or a child it left behind, never holds a tick. A hook's failure is
 * returned as data for the log; runHook never throws, and a hook never fails the tick.
 *
 * The child's environment is tend's own minus the secret variables (TEND_CASSANDRA_PASSWORD, …): a hook that
 * dumps its environment into a ticket or a chat must not publish them. Events carry no secrets either.
 */
import { spawn } from 'node:child_process';
import type { HookConfig } from '../config/schema.js';
import { SECRET_ENV, type Env } from '../config/secrets.js';
import { HOOK_KILL_GRACE_MS } from '../config/ranges.js';
import { setLongTimeout, type LongTimer } from '../timers.js';

export type HookEventName = 'task_failed' | 'alarm' | 'lease_broken' | 'tick';

/** An event: its name, and plain JSON fields (strings, numbers, booleans, lists, objects). */
export interface HookEvent {
  readonly event: HookEventName;
  readonly [field: string]: unknown;
}

export interface HookResult {
  /** ok: exit 0; failed: another exit code or a signal; timeout: stopped at its timeout; error: could not start. */
  readonly status: 'ok' | 'failed' | 'timeout' | 'error';
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly durationMs: number;
  /** The end of what it wrote on stdout and stderr (at most 4KiB), for the log. */
  readonly output: string;
  readonly error?: string;
}

const OUTPUT_LIMIT = 4096;
const SECRET_VARIABLES = new Set<string>(Object.values(SECRET_ENV));

/** TEND_EVENT_<FIELD> for each top-level field (camelCase to UPPER_SNAKE); lists and objects as JSON. */
export function eventEnvironment(event: HookEvent): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const [key, value] of Object.entries(event)) {
    if (value === undefined) continue;
    const name = `TEND_EVENT_${key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}`;
    vars[name] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return vars;
}

/** tend's environment without its secrets, plus the event's variables. */
export function hookEnvironment(env: Env, event: HookEvent): Record<string, string> {
  const base: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && !SECRET_VARIABLES.has(key) && !key.startsWith('TEND_EVENT_')) base[key] = value;
  }
  return { ...base, ...eventEnvironment(event) };
}

export async function runHook(
  hook: Pick<HookConfig, 'command' | 'timeout'>,
  event: HookEvent,
  options: { env?: Env; killGraceMs?: number } = {},
): Promise<HookResult> {
  const started = Date.now();
  const [program, ...args] = hook.command;
  const json = `${JSON.stringify(event)}\n`;
  return new Promise<HookResult>((resolve) => {
    let output = '';
    let timedOut = false;
    let settled = false;
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
    };
    const child = spawn(program!, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: hookEnvironment(options.env ?? process.env, event),
      // Its own process group: the timeout stops what the hook started too (a shell script's children).
      detached: true,
    });
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch {
        // Already gone.
      }
    };
    let killTimer: LongTimer | undefined;
    const timer = setLongTimeout(() => {
      timedOut = true;
      signalGroup('SIGTERM');
      killTimer = setLongTimeout(() => signalGroup('SIGKILL'), options.killGraceMs ?? HOOK_KILL_GRACE_MS);
    }, hook.timeout);
    const finish = (result: Omit<HookResult, 'durationMs' | 'output'>) => {
      if (settled) return;
      settled = true;
      timer.clear();
      killTimer?.clear();
      resolve({ ...result, durationMs: Date.now() - started, output: output.trim() });
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (error) =>
      finish({ status: 'error', exitCode: null, signal: null, error: `${program}: ${error.message}` }),
    );
    child.on('exit', (code, signal) => {
      // The group may outlive its leader: whatever it left behind is stopped now that the hook is done.
      if (timedOut) signalGroup('SIGKILL');
      finish({
        status: timedOut ? 'timeout' : code === 0 ? 'ok' : 'failed',
        exitCode: code,
        signal,
      });
    });
    // A hook that does not read stdin closes it early: EPIPE is its business, not an error of the hook run.
    child.stdin.on('error', () => undefined);
    child.stdin.end(json);
  });
}

/** One line for the log: what ran, how it ended. Never includes the event's content beyond its name. */
export function describeHookResult(name: string, hook: Pick<HookConfig, 'command'>, result: HookResult): string {
  const what = `hook ${name} (${hook.command[0]})`;
  const took = `${result.durationMs}ms`;
  switch (result.status) {
    case 'ok':
      return `${what} ran in ${took}`;
    case 'timeout':
      return `${what} stopped at its timeout after ${took}${result.output ? `: ${result.output}` : ''}`;
    case 'error':
      return `${what} could not start: ${result.error ?? 'unknown error'}`;
    default:
      return `${what} failed (${result.signal ? `signal ${result.signal}` : `exit ${result.exitCode}`}) after ${took}${result.output ? `: ${result.output}` : ''}`;
  }
}
