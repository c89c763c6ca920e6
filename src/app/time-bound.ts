/**
 * How long a tend process may run: the bound its configuration implies (DESIGN.md, "Bounded processes"). main()
 * arms a last-resort watchdog at this bound (src/cli/watchdog.ts); systemd/tend.service's TimeoutStartSec is the
 * bound of a tick with the default configuration plus a margin. Pure: the figures are tested and documented.
 *
 * - A tick starts no task after schedule.maxDuration, and a task runs at most its repair.taskTimeout (the
 *   longest of repair.taskTimeout and every repair.tables override). After that comes cleanup: stopping the
 *   repair on the node (nodetool's stop call may take a minute), history, lease release, metrics. Before the first
 *   task comes planning. Both are a few requests each, so the grace is a fixed part plus a multiple of one
 *   connect and one request timeout.
 * - The tick's hooks (hooks.*) run at its end, each bounded by its timeout and a 2 s kill grace, all at once: the
 *   longest of them is added when any is configured (nothing otherwise).
 * - `repair table` runs one task: the same grace, plus the lease wait with --wait.
 * - Every other command is a handful of requests: connect and request timeouts plus a shorter grace.
 */
import type { TendConfig } from '../config/schema.js';
import { formatDuration } from '../config/units.js';
import { HOOK_KILL_GRACE_MS } from '../config/ranges.js';

export interface TimeBound {
  /** Milliseconds from the start of the process. */
  readonly ms: number;
  /** How it is made up, for the watchdog's message: `schedule.maxDuration 1h + repair.taskTimeout 3h + 3m8s grace`. */
  readonly explanation: string;
}

/** Fixed part of a tick's or a repair's grace: nodetool's server-side stop call alone may take 60 s. */
export const TASK_GRACE_FIXED_MS = 120_000;
/**
 * Fixed part of any other command's grace. Generous: `schedule status` reads history table by table (about 1 s per
 * 100 tables on the sandbox), and a cluster of thousands of tables must not be stopped for being large.
 */
export const COMMAND_GRACE_FIXED_MS = 300_000;
/** How many connect + request timeouts a grace allows for (planning, history, lease release, metrics). */
export const GRACE_REQUESTS = 4;

type Timeouts = Pick<TendConfig['cassandra'], 'connectTimeout' | 'requestTimeout'>;

function grace(cassandra: Timeouts, fixedMs: number): number {
  return fixedMs + GRACE_REQUESTS * (cassandra.connectTimeout + cassandra.requestTimeout);
}

function part(name: string, ms: number): string {
  return `${name} ${formatDuration(ms)}`;
}

/** The longest task timeout any table can get: repair.taskTimeout or a repair.tables override. */
export function longestTaskTimeout(repair: Pick<TendConfig['repair'], 'taskTimeout' | 'tables'>): number {
  return Math.max(repair.taskTimeout, ...repair.tables.map((entry) => entry.taskTimeout ?? 0));
}

/** The longest a tick's hooks may add at its end (0 without hooks). */
export function longestHook(hooks: TendConfig['hooks'] | undefined): number {
  const timeouts = Object.values(hooks ?? {}).flatMap((hook) => (hook ? [hook.timeout] : []));
  return timeouts.length === 0 ? 0 : Math.max(...timeouts) + HOOK_KILL_GRACE_MS;
}

/**
 * `tend schedule tick` (not --dry-run): maxDuration (or --max-duration) + the longest taskTimeout + grace, + the
 * longest hook when hooks are configured.
 */
export function tickBound(
  config: Pick<TendConfig, 'cassandra' | 'repair' | 'schedule'> & Partial<Pick<TendConfig, 'hooks'>>,
  maxDurationMs: number = config.schedule.maxDuration,
): TimeBound {
  const task = longestTaskTimeout(config.repair);
  const extra = grace(config.cassandra, TASK_GRACE_FIXED_MS);
  const hooks = longestHook(config.hooks);
  return {
    ms: maxDurationMs + task + extra + hooks,
    explanation: [
      part(maxDurationMs === config.schedule.maxDuration ? 'schedule.maxDuration' : '--max-duration', maxDurationMs),
      part('repair.taskTimeout', task),
      `${formatDuration(extra)} grace`,
      ...(hooks > 0 ? [part('hooks', hooks)] : []),
    ].join(' + '),
  };
}

/**
 * How long `repair table --wait` waits for its lease: as long as a tick elsewhere may hold it (maxDuration and
 * the longest task) plus one lease TTL for a holder that died. Past that, exit 4 like without --wait.
 */
export function leaseWaitBound(config: Pick<TendConfig, 'repair' | 'schedule' | 'lease'>): number {
  return config.schedule.maxDuration + longestTaskTimeout(config.repair) + config.lease.ttl;
}

/** `tend repair table`: one task (its table's timeout, at most the longest) + grace, + the lease wait with --wait. */
export function repairTableBound(
  config: Pick<TendConfig, 'cassandra' | 'repair' | 'schedule' | 'lease'>,
  wait: boolean,
): TimeBound {
  const task = longestTaskTimeout(config.repair);
  const extra = grace(config.cassandra, TASK_GRACE_FIXED_MS);
  const waiting = wait ? leaseWaitBound(config) : 0;
  return {
    ms: waiting + task + extra,
    explanation: [
      ...(wait ? [part('lease wait', waiting)] : []),
      part('repair.taskTimeout', task),
      `${formatDuration(extra)} grace`,
    ].join(' + '),
  };
}

/** Every other command: a connect, its requests, and a grace. */
export function commandBound(config: Pick<TendConfig, 'cassandra'>): TimeBound {
  const { connectTimeout, requestTimeout } = config.cassandra;
  const extra = grace(config.cassandra, COMMAND_GRACE_FIXED_MS);
  return {
    ms: connectTimeout + requestTimeout + extra,
    explanation: [
      part('cassandra.connectTimeout', connectTimeout),
      part('cassandra.requestTimeout', requestTimeout),
      `${formatDuration(extra)} grace`,
    ].join(' + '),
  };
}

/** Before the configuration is read there is nothing to derive a bound from: reading it may take this long. */
export const CONFIG_LOAD_BOUND: TimeBound = { ms: 60_000, explanation: 'reading the configuration: 1m' };
