/**
 * `tend schedule pause|resume`: the cluster-wide pause. The `schedule` group (status, plan, tick) lives in
 * schedule.ts; the registry merges verbs of one noun from several modules, so these two stay in their own file.
 */
import { ExitCode } from '../../errors.js';
import { defineCommand, type CommandModule } from '../types.js';
import { reasonText, REASON_MAX_LENGTH } from '../arguments.js';

export interface SchedulePauseOptions {
  /** As typed; parsed (duration or ISO-8601) before anything connects. */
  until: string | undefined;
  reason: string | undefined;
}

export type ScheduleResumeOptions = Record<string, never>;

const pause = defineCommand<SchedulePauseOptions>({
  path: ['schedule', 'pause'],
  summary: 'stop new repairs from starting, cluster-wide',
  description:
    "Pauses the schedule on every node: from the next tick on, no new repair task starts anywhere in the cluster (tasks already running finish). With --until the pause ends by itself: a duration (2h, 1h30m, 3d) counted from Cassandra's clock, or an ISO-8601 time (2026-12-24T06:00:00Z; without an offset it is UTC; a date alone is midnight UTC). A time already past is accepted but has no effect. Pausing again replaces the previous pause. --reason is shown by 'tend policy list' and in every tick's log. Written at EACH_QUORUM so every datacenter sees it at once (LOCAL_QUORUM, with a warning, when one is unreachable).",
  arguments: [],
  options: [
    { flags: '--until <TIME>', description: 'End the pause by itself: a duration (2h) or an ISO-8601 time (UTC).' },
    {
      flags: '--reason <TEXT>',
      description: `Why, for the other operators (at most ${REASON_MAX_LENGTH} characters, one line).`,
    },
  ],
  examples: [
    { command: "tend schedule pause --until 4h --reason 'upgrade to 5.0.9'", description: 'Pause for an upgrade.' },
    { command: 'tend schedule pause', description: "Pause until 'tend schedule resume'." },
  ],
  exitCodes: [ExitCode.Config, ExitCode.ClusterUnavailable],
  parse: (_args, opts) => ({
    until: typeof opts.until === 'string' ? opts.until : undefined,
    reason: reasonText(opts.reason),
  }),
  async run(options, deps) {
    const { parseUntil } = await import('../../app/policy-input.js');
    const until = options.until === undefined ? undefined : parseUntil(options.until);
    const { withPolicySession } = await import('../../app/policy-session.js');
    const { pauseSchedule } = await import('../../app/policy-manage.js');
    const result = await withPolicySession(deps, (client, config) =>
      pauseSchedule(client, config.cassandra.keyspace, {
        ...(until ? { until } : {}),
        ...(options.reason ? { reason: options.reason } : {}),
      }),
    );
    const { out } = deps;
    out.data(result, () => {
      const until =
        result.pause.until === null
          ? "until 'tend schedule resume'"
          : `until ${out.time(result.pause.until, result.now)}`;
      out.text(`paused cluster-wide ${until}${result.pause.reason ? `: ${result.pause.reason}` : ''}`);
    });
    if (result.previous) {
      const previousUntil =
        result.previous.until === null ? 'until resumed' : `until ${out.time(result.previous.until, result.now)}`;
      out.info(
        `replaced the pause ${previousUntil}${result.previous.pausedBy ? ` by ${result.previous.pausedBy}` : ''}`,
      );
    }
    if (!result.active) out.warn('--until is already past: this pause has no effect');
    if (result.consistency !== 'EACH_QUORUM') {
      out.warn(
        'a datacenter was unreachable: written at LOCAL_QUORUM, other datacenters see it once replication catches up',
      );
    }
  },
});

const resume = defineCommand<ScheduleResumeOptions>({
  path: ['schedule', 'resume'],
  summary: 'lift the cluster-wide pause',
  description:
    "Removes the pause set by 'tend schedule pause'; the next tick on every node schedules repairs again. Not being paused is not an error.",
  arguments: [],
  options: [],
  examples: [{ command: 'tend schedule resume', description: 'Resume repairs everywhere.' }],
  exitCodes: [ExitCode.Config, ExitCode.ClusterUnavailable],
  parse: () => ({}),
  async run(_options, deps) {
    const { withPolicySession } = await import('../../app/policy-session.js');
    const { resumeSchedule } = await import('../../app/policy-manage.js');
    const result = await withPolicySession(deps, (client, config) => resumeSchedule(client, config.cassandra.keyspace));
    const { out } = deps;
    out.data(result, () => {
      if (!result.previous) {
        out.text('not paused');
        return;
      }
      const since = result.previous.pausedAt === null ? '' : ` since ${out.time(result.previous.pausedAt, result.now)}`;
      const by = result.previous.pausedBy ? ` by ${result.previous.pausedBy}` : '';
      out.text(`resumed (paused${since}${by})`);
    });
    if (result.consistency === 'LOCAL_QUORUM') {
      out.warn('a datacenter was unreachable: resumed at LOCAL_QUORUM');
    }
  },
});

export const schedulePauseModule: CommandModule = {
  commands: [pause, resume],
};
