/**
 * `tend schedule tick`: the main job, run by systemd's timer on every node (systemd/tend.service). The pipeline
 * lives in src/app/tick.ts; this file is the command's metadata, its options and how the report is printed.
 */
import { parseDuration } from '../../config/units.js';
import { ExitCode, UsageError } from '../../errors.js';
import { defineCommand, type CommandModule } from '../types.js';
import { commandBound, tickBound } from '../../app/time-bound.js';
import { MAX_TASKS_LIMIT, wholeNumber } from '../arguments.js';

export interface ScheduleTickOptions {
  dryRun: boolean;
  maxTasks: number | undefined;
  maxDurationMs: number | undefined;
}

const tick = defineCommand<ScheduleTickOptions>({
  path: ['schedule', 'tick'],
  summary: 'plan, take a lease and run a bounded batch of repairs, then exit',
  description:
    "One pass of the schedule for the node tend acts for (or, with nodes:, for every node of the group: a plan per node, one batch in priority order, each repair through its node's executor, --max-tasks and --max-duration bounding the whole tick; with schedule.parallelTasks above 1, tasks whose replica sets are disjoint run at once, each under its own leases): read the configuration, learn the topology, read repair history, compute the plan (the same as 'tend schedule plan'), and, before each claim, list the leases and take the first planned task whose replicas nobody else holds (the plan holds schedule.candidates tasks, 100, of which at most --max-tasks start; when none is free, none is attempted): announce its priority, take the lease (one bounded attempt), run the repair with the lease renewed in the background, and record the outcome in tend's history. The lease is kept for the first pending task it covers (the same replicas or a subset, wherever it stands in the plan) when no other node has announced a higher priority on it; otherwise it is released. When leases were held by other nodes, the tick waits schedule.replan.pause (30s), plans again and tries again (schedule.replan; a group tick with nodes: does not). At most --max-tasks tasks start in the whole tick, and none after --max-duration; each task is stopped (on the server too) after repair.taskTimeout. 'Nothing due', 'outside the window', 'paused', 'replicas down' and 'lease held by another node' are not failures: exit 0 with one line saying which. A failed or timed-out repair gives exit 6; a lease lost mid-repair stops the repair, records it as aborted and gives exit 1; SIGTERM or SIGINT stops the repair, releases the lease, writes history and gives exit 130. Warn and error alarms are logged on every tick while a table is past them. With metrics.textfileDirectory set, tend.prom is rewritten atomically at the end. --dry-run prints the plan and touches nothing.",
  arguments: [],
  options: [
    { flags: '--dry-run', description: 'print the plan and exit: no lease, no repair, no history, no metrics' },
    { flags: '--max-tasks <N>', description: 'start at most N repair tasks (default: schedule.maxTasks)' },
    { flags: '--max-duration <DUR>', description: 'start no task after DUR, e.g. 30m (default: schedule.maxDuration)' },
  ],
  examples: [
    { command: 'tend schedule tick', description: 'What the systemd timer runs.' },
    { command: 'tend schedule tick --dry-run', description: 'What this tick would do, without doing it.' },
    { command: 'tend schedule tick --max-tasks 1 --max-duration 20m', description: 'A small batch by hand.' },
  ],
  exitCodes: [
    ExitCode.Failure,
    ExitCode.Config,
    ExitCode.ClusterUnavailable,
    ExitCode.RepairFailed,
    ExitCode.Interrupted,
  ],
  parse(_args, opts) {
    const maxTasks =
      opts.maxTasks === undefined ? undefined : wholeNumber(opts.maxTasks, '--max-tasks', 1, MAX_TASKS_LIMIT);
    let maxDurationMs: number | undefined;
    if (opts.maxDuration !== undefined) {
      maxDurationMs = parseDuration(String(opts.maxDuration));
      if (maxDurationMs === undefined || maxDurationMs <= 0) {
        throw new UsageError(
          `--max-duration: expected a duration such as 90s, 30m or 2h, found '${String(opts.maxDuration)}'`,
        );
      }
    }
    return { dryRun: opts.dryRun === true, maxTasks, maxDurationMs };
  },
  timeBound: (config, options) => (options.dryRun ? commandBound(config) : tickBound(config, options.maxDurationMs)),
  async run(options, deps) {
    const { withCluster } = await import('../../app/cluster-session.js');
    if (options.dryRun) {
      const { schedulePlan } = await import('../../app/schedule.js');
      const { presentPlan } = await import('./schedule.js');
      const report = await withCluster(deps, (client, config) =>
        schedulePlan(client, config, { limits: { maxTasks: options.maxTasks ?? config.schedule.maxTasks } }),
      );
      presentPlan(report, { explain: true }, deps);
      deps.out.info('dry run: nothing was leased, repaired or recorded');
      return;
    }
    const { runTick } = await import('../../app/tick.js');
    const { runGroupTick } = await import('../../app/group-tick.js');
    // nodes: one tick for a group of nodes (datacenters, racks or hosts), each through its own executor.
    const { report } = await withCluster(deps, (client, config) =>
      (config.nodes ? runGroupTick : runTick)(
        { config, secret: deps.secret, out: deps.out, signal: deps.signal },
        client,
        options,
      ),
    );
    const { out } = deps;
    // Logged on every tick while crossed, so the journal shows it until someone acts; capped so a cluster that
    // is late everywhere (a first run) does not bury the tick's own lines.
    const ALARM_LINES = 10;
    for (const alarm of report.alarms.slice(0, ALARM_LINES)) {
      const last = alarm.lastRepairedAt === null ? 'never within the history read' : out.time(alarm.lastRepairedAt);
      const message = `${alarm.table} is past its ${alarm.level} alarm: last fully repaired ${last}`;
      if (alarm.level === 'error') out.error(message);
      else out.warn(message);
    }
    if (report.alarms.length > ALARM_LINES) {
      out.warn(`${report.alarms.length - ALARM_LINES} more table(s) past an alarm: see tend schedule status`);
    }
    const { error, ...printable } = report;
    out.data(printable, () => out.text(`${report.result}: ${report.summary}`));
    if (error) throw error;
  },
});

export const scheduleTickModule: CommandModule = { commands: [tick] };
