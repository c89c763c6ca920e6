/** `tend schedule status|plan`: every table job's state, and what the next tick would run and why. */
import { AlarmCrossed, ExitCode } from '../../errors.js';
import { defineCommand, type CommandDeps, type CommandModule } from '../types.js';
import { scopeArgument } from '../arguments.js';
import type { StatusReport, StatusRow, PlanReport } from '../../app/schedule.js';
import { formatDuration } from '../../config/units.js';

export interface ScheduleStatusOptions {
  scope: string | undefined;
  check: boolean;
}

export interface SchedulePlanOptions {
  explain: boolean;
}

/** A time on stdout: relative to Cassandra's clock on a terminal, ISO-8601 UTC when piped. */
function when(deps: Pick<CommandDeps, 'out'>, at: number | null, now: number, never = 'never'): string {
  return at === null ? never : deps.out.time(at, now);
}

function renderStatus(report: StatusReport, deps: Pick<CommandDeps, 'out'>): void {
  const { out } = deps;
  const color = out.colors;
  const paint = (state: string) =>
    state === 'OVERDUE'
      ? color.red(state)
      : state === 'LATE'
        ? color.yellow(state)
        : state === 'BLOCKED' || state === 'SKIPPED'
          ? color.dim(state)
          : color.green(state);
  if (report.rows.length === 0) out.info('no tables in scope');
  else renderRows(report, deps, paint);
  renderCoverage(report, deps);
}

function renderRows(report: StatusReport, deps: Pick<CommandDeps, 'out'>, paint: (state: string) => string): void {
  deps.out.table(
    [
      { header: 'TABLE', value: (r) => `${r.keyspace}.${r.table}` },
      { header: 'STATE', value: (r) => r.state, style: (text) => paint(text) },
      {
        header: 'LAST REPAIRED',
        value: (r) => (r.state === 'SKIPPED' ? '-' : when(deps, r.lastRepairedAt, report.now)),
      },
      { header: 'NEXT DUE', value: (r) => (r.nextDueAt === null ? '-' : when(deps, r.nextDueAt, report.now)) },
      { header: 'PRIORITY', value: (r) => (r.state === 'SKIPPED' ? '-' : r.priority) },
      {
        header: 'BEHIND',
        value: (r) => (r.rangesTotal === null ? '-' : `${r.rangesBehind ?? 0}/${r.rangesTotal}`),
      },
      { header: 'NOTE', value: (r) => r.reason ?? (r.matchedBy ? `override ${r.matchedBy}` : '') },
      // Last, so the piped columns before them keep their places for scripts.
      { header: 'INTERVAL/WARN/ERROR', value: (r) => scheduleText(r.schedule) },
      { header: 'FROM', value: (r) => sourcesText(r.schedule) },
    ],
    report.rows,
  );
}

/**
 * Which instance covers each node (the coverage record), after the tables: a node no live instance covers is what
 * --check also exits 7 for. Nothing recorded yet (no tick of a tend with schema v4): one line on a terminal.
 */
function renderCoverage(report: StatusReport, deps: Pick<CommandDeps, 'out'>): void {
  const { out } = deps;
  const coverage = report.coverage;
  if (!coverage) return;
  if (!coverage.recorded) {
    if (out.stdoutIsTTY) out.text('\nNo coverage recorded yet: every tick records which instance covers its node(s).');
    return;
  }
  const color = out.colors;
  out.text(out.stdoutIsTTY ? '\nCoverage (which tend instance covers each node):' : '');
  out.table(
    [
      { header: 'NODE', value: (n) => n.address },
      { header: 'DC', value: (n) => n.datacenter },
      {
        header: 'COVERAGE',
        value: (n) => n.state.toUpperCase(),
        style: (text) =>
          text === 'COVERED' ? color.green(text) : text === 'UNCOVERED' ? color.red(text) : color.yellow(text),
      },
      {
        header: 'INSTANCE',
        value: (n) =>
          n.coveredBy.length > 0
            ? n.coveredBy.map((c) => `${c.instance} (${c.instanceHost})`).join(', ')
            : n.lastCoveredBy
              ? `last: ${n.lastCoveredBy.instance} (${n.lastCoveredBy.instanceHost})`
              : '-',
      },
      {
        header: 'UNTIL',
        value: (n) => {
          const until =
            n.coveredBy.length > 0 ? Math.min(...n.coveredBy.map((c) => c.expiresAt)) : n.lastCoveredBy?.expiresAt;
          return until === undefined ? '-' : when(deps, until, report.now);
        },
      },
    ],
    coverage.nodes,
  );
}

/** `7d/8d/10d`: the table's interval, warn and error alarms. */
function scheduleText(schedule: StatusRow['schedule']): string {
  if (!schedule) return '-';
  return [schedule.intervalMs, schedule.warnMs, schedule.errorMs].map(formatDuration).join('/');
}

/** Where each of the three came from (`repair.interval`, `70% of gc_grace_seconds`, …); once when all agree. */
function sourcesText(schedule: StatusRow['schedule']): string {
  if (!schedule) return '-';
  const texts = [schedule.sources.interval.text, schedule.sources.warn.text, schedule.sources.error.text];
  return new Set(texts).size === 1 ? texts[0]! : texts.join(' / ');
}

/** Prints a status report (table or JSON), then applies --check: AlarmCrossed (exit 7) after the data is out. */
export function presentStatus(
  report: StatusReport,
  options: ScheduleStatusOptions,
  deps: Pick<CommandDeps, 'out'>,
): void {
  for (const warning of report.warnings) deps.out.warn(warning);
  deps.out.data(report, () => renderStatus(report, deps));
  deps.out.debug('rows read', { ...report.rowsRead });
  const uncovered = report.coverage?.uncovered ?? [];
  for (const node of report.coverage?.nodes ?? []) {
    if (node.state !== 'uncovered') continue;
    const last = node.lastCoveredBy;
    deps.out.warn(
      `node ${node.address} (${node.datacenter}): no live tend instance covers it${last ? ` since ${new Date(last.expiresAt).toISOString()} (last: ${last.instance} on ${last.instanceHost})` : ''}`,
    );
  }
  if (options.check && (report.pastErrorAlarm.length > 0 || uncovered.length > 0)) {
    const names = report.pastErrorAlarm;
    const problems = [
      ...(names.length > 0
        ? [
            `${names.length} table job(s) past the error alarm: ${names.slice(0, 10).join(', ')}${names.length > 10 ? ', …' : ''}`,
          ]
        : []),
      ...(uncovered.length > 0
        ? [`${uncovered.length} node(s) no live tend instance covers: ${uncovered.join(', ')}`]
        : []),
    ];
    throw new AlarmCrossed(problems.join('; '), {
      hints: [
        ...(names.length > 0 ? ["run 'tend schedule plan --explain' to see what the next tick will repair"] : []),
        ...(uncovered.length > 0
          ? [
              "start the node's tend timer or the group instance that covers it (systemctl status tend.timer / tend-group@INSTANCE.timer)",
            ]
          : []),
      ],
    });
  }
}

const status = defineCommand<ScheduleStatusOptions>({
  path: ['schedule', 'status'],
  summary: 'every table job: last repaired, next due, state, priority',
  description:
    'Shows one row per table as seen from the node tend acts for: when its oldest local range was last repaired (by anyone: tend, nodetool, Reaper), when it is next due, its state (ON_TIME, LATE past the warn alarm, OVERDUE past the error alarm, BLOCKED by a run policy), its priority and how many of its local ranges are behind the interval. Tables tend does not schedule are listed as SKIPPED with the reason (disabled in config, keyspace not replicated to this node, a single replica). Jobs are listed in the order the next tick would take them. Names follow CQL: quote mixed-case names, e.g. \'"MyKeyspace"."MyTable"\'. After the tables, which tend instance covers each node (the coverage record every tick writes: a node\'s own timer, or a group instance, `nodes:`), until when, and the nodes no live instance covers. With --check, exits 7 when any job is past its error alarm or a node is uncovered (for monitoring and CI). Cost: status reads every table\'s range-level history (its repair_state rows, one per local range, plus repairs newer than the last tick) so every figure is exact; for a large cluster that is tables × local ranges rows (200 tables at 256 vnodes: about 150,000), where a tick or `schedule plan` reads two rows per table that is not due.',
  arguments: [{ name: 'KEYSPACE[.TABLE]', description: 'only this keyspace or table', required: false }],
  options: [{ flags: '--check', description: 'exit 7 when a job is past its error alarm or a node is uncovered' }],
  examples: [
    { command: 'tend schedule status', description: 'Every table job.' },
    { command: 'tend schedule status shop.orders --json', description: 'One table, as JSON.' },
    { command: 'tend schedule status --check -q', description: 'For monitoring: exit 7 when a table is overdue.' },
  ],
  exitCodes: [ExitCode.Config, ExitCode.ClusterUnavailable, ExitCode.AlarmCrossed],
  parse: (args, opts) => ({
    scope: scopeArgument(args[0]),
    check: opts.check === true,
  }),
  async run(options, deps) {
    const { withCluster } = await import('../../app/cluster-session.js');
    const { scheduleStatus } = await import('../../app/schedule.js');
    const report = await withCluster(deps, (client, config) =>
      scheduleStatus(client, config, { scope: options.scope, secret: deps.secret }),
    );
    presentStatus(report, options, deps);
  },
});

function renderPlan(report: PlanReport, explain: boolean, deps: Pick<CommandDeps, 'out'>): void {
  const { out } = deps;
  const { plan } = report;
  const lines: string[] = [];
  const s = plan.summary;
  lines.push(
    `node ${plan.localHostId} (${plan.localDatacenter}): ${s.jobs} table job(s), ${s.due} due, ${s.late} late, ${s.overdue} overdue, ${s.blocked} blocked, ${s.skipped} skipped`,
  );
  if (plan.tasks.length === 0) lines.push('nothing to run: no due, unblocked job');
  else lines.push(`next tick would run ${plan.tasks.length} task(s), in this order:`);
  plan.tasks.forEach((task, index) => {
    const scope = task.scope === 'table' ? 'whole table' : `${task.ranges.length} range(s)`;
    lines.push(
      `${String(index + 1).padStart(3)}. ${task.keyspace}.${task.tables.join(',')}  ${scope}  ${task.repairType}  priority ${task.priority}  replicas ${task.replicaAddresses.join(',')}`,
    );
    if (explain) {
      lines.push(`       why: ${task.reason}`);
      for (const range of task.ranges.slice(0, 8)) lines.push(`       range (${range.start}, ${range.end}]`);
      if (task.ranges.length > 8) lines.push(`       … ${task.ranges.length - 8} more range(s)`);
    }
  });
  if (explain) {
    if (plan.deferred.length > 0) {
      lines.push('', 'deferred (due, but not in this tick):');
      for (const d of plan.deferred) lines.push(`  ${d.keyspace}.${d.table}  ${d.code}: ${d.reason}`);
    }
    const due = plan.jobs.filter((j) => j.due);
    if (due.length > 0) {
      lines.push('', 'due jobs by priority:');
      for (const job of due) {
        lines.push(
          `  ${job.keyspace}.${job.table}  ${job.state}  priority ${job.priority}  ${job.rangesBehind}/${job.rangesTotal} range(s) behind, ${job.rangesNeverRepaired} never repaired in the history read`,
        );
      }
    }
    if (plan.skipped.length > 0) {
      lines.push('', 'not scheduled:');
      for (const skip of plan.skipped) lines.push(`  ${skip.keyspace}.${skip.table}  ${skip.code}: ${skip.reason}`);
    }
    const r = report.rowsRead;
    lines.push(
      '',
      `read ${r.total} row(s): topology ${r.topology}, summaries ${r.summaries}, repair_state ${r.state}, system_distributed sessions ${r.sessions} + parents ${r.parents}, size estimates ${r.estimates} (${report.sizes}), policies ${r.policies}`,
    );
  }
  out.text(lines.join('\n'));
}

/** Prints a plan report: tasks in order (with --explain: why, deferrals, skips, rows read), or the Plan as JSON. */
export function presentPlan(report: PlanReport, options: SchedulePlanOptions, deps: Pick<CommandDeps, 'out'>): void {
  for (const warning of report.warnings) deps.out.warn(warning);
  deps.out.data({ ...report.plan, rowsRead: report.rowsRead, sizes: report.sizes }, () =>
    renderPlan(report, options.explain, deps),
  );
}

const planCommand = defineCommand<SchedulePlanOptions>({
  path: ['schedule', 'plan'],
  summary: 'what the next tick would run, in order, and why',
  description:
    "Computes the plan the next `tend schedule tick` would compute — from the same topology, history, size estimates and run policies, with the same pure planner — and prints its repair tasks in execution order. Nothing is run and nothing is written. With --explain, each task says why it is due (which ranges, how old, which rule and priority), followed by the due jobs, the jobs deferred (blocked by a policy, batch full, replica down), the tables not scheduled and how many rows were read from Cassandra. It plans as the tick does: from each table's summary (one row; tend.table_summary), reading a table's ranges only when it could get a task. --json prints the Plan object itself (formatVersion 1) with the row counts.",
  arguments: [],
  options: [{ flags: '--explain', description: 'say why each task is due, and what is deferred or skipped' }],
  examples: [
    { command: 'tend schedule plan', description: 'The tasks of the next tick.' },
    { command: 'tend schedule plan --explain', description: 'With reasons, deferrals and skips.' },
    { command: 'tend schedule plan --json | jq .tasks[0]', description: 'The first task as JSON.' },
  ],
  exitCodes: [ExitCode.Config, ExitCode.ClusterUnavailable],
  parse: (_args, opts) => ({ explain: opts.explain === true }),
  async run(options, deps) {
    const { withCluster } = await import('../../app/cluster-session.js');
    const { schedulePlan } = await import('../../app/schedule.js');
    const report = await withCluster(deps, (client, config) => schedulePlan(client, config));
    presentPlan(report, options, deps);
  },
});

export const scheduleModule: CommandModule = {
  group: { name: 'schedule', summary: 'the repair schedule: status, plan, tick' },
  commands: [status, planCommand],
};
