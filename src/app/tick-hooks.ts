/**
 * The tick's events, handed to the operator's hooks (`hooks.*`, src/hooks/run-hook.ts):
 * - `task_failed` (hooks.onTaskFailed): as each task ends failed, timed out or aborted, while the batch goes on,
 *   so a page for a failed repair does not wait for the rest of an hour-long batch;
 * - `alarm` (hooks.onAlarm): at the end of a tick in which tables are past their warn or error alarm, one event
 *   listing them all (on every such tick, like the log line: a hook that pages should deduplicate);
 * - `lease_broken` (hooks.onLeaseBroken): at the end of a tick whose lease was lost or broken while it repaired;
 * - `tick` (hooks.onTick): at the end of every tick, with its result and summary.
 * The tick waits for its hooks before it exits (each is bounded by its timeout), so none is cut off by the
 * process ending; a hook that fails or hangs is a warning in the log, never the tick's failure.
 *
 * A tick being stopped (SIGTERM: `systemctl stop`, a shutdown) gives each hook it starts from then on at most
 * STOPPING_HOOK_MS: systemd kills the unit TimeoutStopSec (2 min in the shipped unit) after SIGTERM, and the
 * cleanup (stopping the repair on the node, the history, releasing the leases) comes first.
 */
import type { HooksConfig } from '../config/schema.js';
import type { RepairTask } from '../core/index.js';
import { LeaseLost } from '../errors.js';
import { describeHookResult, runHook, type HookEvent, type HookResult } from '../hooks/run-hook.js';
import type { Output } from '../output/output.js';
import type { RepairOutcome } from '../repair/index.js';
import type { TickReport } from './tick.js';

export interface TickHooks {
  /** A task ended (its record may still be running): fires onTaskFailed unless it succeeded. */
  taskEnded(task: Pick<RepairTask, 'replicaAddresses' | 'ranges'>, outcome: RepairOutcome): void;
  /** The tick is reported: fires onAlarm, onLeaseBroken and onTick as they apply, and waits for every hook. */
  tickEnded(report: TickReport): Promise<void>;
}

type HookName = keyof HooksConfig;

/** The longest a hook started while the tick is being stopped may run (then SIGTERM, and SIGKILL 2 s later). */
export const STOPPING_HOOK_MS = 20_000;

export function tickHooks(
  hooks: HooksConfig,
  out: Output,
  context: {
    readonly tickId: string;
    readonly node: () => string;
    /** The tick's stop signal (SIGINT/SIGTERM): hooks started after it fired get STOPPING_HOOK_MS at most. */
    readonly stopping?: AbortSignal;
  },
  run: typeof runHook = runHook,
): TickHooks {
  const pending: Promise<void>[] = [];
  const fire = (name: HookName, event: HookEvent) => {
    const configured = hooks?.[name];
    if (!configured) return;
    const hook = context.stopping?.aborted
      ? { ...configured, timeout: Math.min(configured.timeout, STOPPING_HOOK_MS) }
      : configured;
    const done = run(hook, { ...event, tickId: context.tickId, node: context.node() }).then((result: HookResult) => {
      const line = describeHookResult(name, hook, result);
      if (result.status === 'ok') out.debug(line, { event: event.event });
      else out.warn(line, { event: event.event });
    });
    pending.push(done);
  };
  return {
    taskEnded(task, outcome) {
      if (outcome.status === 'success') return;
      fire('onTaskFailed', {
        event: 'task_failed',
        taskId: outcome.taskId,
        keyspace: outcome.keyspace,
        tables: outcome.tables,
        status: outcome.status,
        message: outcome.message,
        replicas: task.replicaAddresses,
        ranges: task.ranges.length,
        startedAt: new Date(outcome.startedAt).toISOString(),
        finishedAt: new Date(outcome.finishedAt).toISOString(),
      });
    },
    async tickEnded(report) {
      if (report.alarms.length > 0) {
        fire('onAlarm', {
          event: 'alarm',
          level: report.alarms.some((alarm) => alarm.level === 'error') ? 'error' : 'warn',
          tables: report.alarms.map((alarm) => ({
            table: alarm.table,
            level: alarm.level,
            lastRepairedAt: alarm.lastRepairedAt === null ? null : new Date(alarm.lastRepairedAt).toISOString(),
          })),
        });
      }
      if (report.error instanceof LeaseLost) {
        fire('onLeaseBroken', {
          event: 'lease_broken',
          resource: report.error.resource,
          message: report.error.message,
          taskId: report.tasks.find((task) => task.status === 'aborted')?.id ?? null,
        });
      }
      fire('onTick', {
        event: 'tick',
        result: report.result,
        summary: report.summary,
        tasks: report.tasks.map((task) => ({ id: task.id, status: task.status })),
        durationMs: report.durationMs,
      });
      await Promise.all(pending);
    },
  };
}
