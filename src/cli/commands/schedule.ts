/** `tend schedule status|plan`: every table job's state, and what the next tick would run and why. */
import { AlarmCrossed, ExitCode } from '../../errors.js';
import { defineCommand, type CommandDeps, type CommandModule } from '../types.js';
import { NODE_OPTION, nodeArgument, scopeArgument } from '../arguments.js';
import type { StatusReport, StatusRow, PlanReport, StartCheck } from '../../app/schedule.js';
import { formatDuration } from '../../config/units.js';
import type { NodeResult } from '../../app/cluster-session.js';

export interface ScheduleStatusOptions {
  scope: string | undefined;
  check: boolean;
  node?: string | undefined;
}

export interface SchedulePlanOptions {
  explain: boolean;
  node?: string | undefined;
}

/** A time on stdout: relative to Cassandra's clock on a terminal, ISO-8601 UTC when piped. */
function when(deps: Pick<CommandDeps, 'out'>, at: number | null, now: number, never = 'never'): string {
  return at === null ? never : deps.out.time(at, now);
}

function renderStatus(report: StatusReport, deps: Pick<CommandDeps, 'out'>, nodeOf?: (row: StatusRow) => string): void {
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
  else renderRows(report, deps, paint, nodeOf);
  renderCoverage(report, deps);
}

function renderRows(
  report: StatusReport,
  deps: Pick<CommandDeps, 'out'>,
  paint: (state: string) => string,
  nodeOf: ((row: StatusRow) => string) | undefined,
): void {
  deps.out.table(
    [
      ...(nodeOf ? [{ header: 'NODE', value: (r: StatusRow) => nodeOf(r) }] : []),
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
  warnUncovered(report, deps);
  checkAlarms(report.pastErrorAlarm, report.coverage?.uncovered ?? [], options);
}

/**
 * Every covered node's status (a group configuration without --node): one table with a NODE column first, or
 * `{"nodes": [report, …]}` as JSON (each node's report as `--node` prints it); --check counts every node's jobs.
 * The coverage record is the cluster's, the same in every report: shown once.
 */
export function presentGroupStatus(
  reports: readonly StatusReport[],
  options: ScheduleStatusOptions,
  deps: Pick<CommandDeps, 'out'>,
): void {
  for (const warning of new Set(reports.flatMap((r) => r.warnings))) deps.out.warn(warning);
  const rowNode = new Map<StatusRow, string>();
  for (const report of reports) for (const row of report.rows) rowNode.set(row, report.node.address);
  const merged: StatusReport = { ...reports[0]!, rows: reports.flatMap((r) => r.rows) };
  deps.out.data({ nodes: reports }, () => renderStatus(merged, deps, (row) => rowNode.get(row) ?? '?'));
  warnUncovered(merged, deps);
  checkAlarms(
    reports.flatMap((r) => r.pastErrorAlarm.map((name) => `${name} on ${r.node.address}`)),
    merged.coverage?.uncovered ?? [],
    options,
  );
}

function warnUncovered(report: StatusReport, deps: Pick<CommandDeps, 'out'>): void {
  for (const node of report.coverage?.nodes ?? []) {
    if (node.state !== 'uncovered') continue;
    const last = node.lastCoveredBy;
    deps.out.warn(
      `node ${node.address} (${node.datacenter}): no live tend instance covers it${last ? ` since ${new Date(last.expiresAt).toISOString()} (last: ${last.instance} on ${last.instanceHost})` : ''}`,
    );
  }
}

/** --check: exit 7 (AlarmCrossed) when a job is past its error alarm or a node is uncovered. */
function checkAlarms(
  names: readonly string[],
  uncovered: readonly string[],
  options: Pick<ScheduleStatusOptions, 'check'>,
): void {
  if (!options.check || (names.length === 0 && uncovered.length === 0)) return;
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

/**
 * One report as a per-node configuration or `--node` prints it, or every covered node's (a group configuration
 * without `--node`, even a group of one, so its output keeps one shape).
 */
function presentActing<T>(
  results: readonly NodeResult<T>[],
  node: string | undefined,
  one: (result: T) => void,
  each: (results: T[]) => void,
): void {
  const [first] = results;
  if (results.length === 1 && first && (first.node === undefined || node !== undefined)) one(first.result);
  else each(results.map((r) => r.result));
}

const status = defineCommand<ScheduleStatusOptions>({
  path: ['schedule', 'status'],
  summary: 'every table job: last repaired, next due, state, priority',
  description:
    'Shows one row per table as seen from the node tend acts for: when its oldest local range was last repaired (by anyone: tend, nodetool, Reaper), when it is next due, its state (ON_TIME, LATE past the warn alarm, OVERDUE past the error alarm, BLOCKED by a run policy), its priority and how many of its local ranges are behind the interval. Tables tend does not schedule are listed as SKIPPED with the reason (disabled in config, keyspace not replicated to this node, a single replica). Jobs are listed in the order the next tick would take them. Names follow CQL: quote mixed-case names, e.g. \'"MyKeyspace"."MyTable"\'. After the tables, which tend instance covers each node (the coverage record every tick writes: a node\'s own timer, or a group instance, `nodes:`), until when, and the nodes no live instance covers. With --check, exits 7 when any job is past its error alarm or a node is uncovered (for monitoring and CI). Cost: status reads every table\'s range-level history (its repair_state rows, one per local range, plus repairs newer than the last tick) so every figure is exact; for a large cluster that is tables × local ranges rows (200 tables at 256 vnodes: about 150,000), where a tick or `schedule plan` reads two rows per table that is not due. With a group configuration (nodes:), every covered node\'s jobs in one table with a NODE column first (JSON: {"nodes": [report, …]}), or one node\'s with --node.',
  arguments: [{ name: 'KEYSPACE[.TABLE]', description: 'only this keyspace or table', required: false }],
  options: [
    { flags: '--check', description: 'exit 7 when a job is past its error alarm or a node is uncovered' },
    NODE_OPTION,
  ],
  examples: [
    { command: 'tend schedule status', description: 'Every table job.' },
    { command: 'tend schedule status shop.orders --json', description: 'One table, as JSON.' },
    { command: 'tend schedule status --check -q', description: 'For monitoring: exit 7 when a table is overdue.' },
  ],
  exitCodes: [ExitCode.Config, ExitCode.ClusterUnavailable, ExitCode.AlarmCrossed],
  parse: (args, opts) => ({
    scope: scopeArgument(args[0]),
    check: opts.check === true,
    node: nodeArgument(opts.node),
  }),
  async run(options, deps) {
    const { withActingNodes } = await import('../../app/cluster-session.js');
    const { scheduleStatus } = await import('../../app/schedule.js');
    const results = await withActingNodes(deps, { node: options.node, without: 'all' }, (client, config) =>
      scheduleStatus(client, config, { scope: options.scope, secret: deps.secret }),
    );
    presentActing(
      results,
      options.node,
      (report) => presentStatus(report, options, deps),
      (reports) => presentGroupStatus(reports, options, deps),
    );
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
      const check = report.startChecks?.find((c) => c.task === task.id);
      if (check) lines.push(...startLines(check));
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
    if (report.startChecks) {
      lines.push(
        `checked the replicas of ${report.startChecks.length} task(s) as the tick does before each task (repairs running, back-pressure) in ${report.startChecksMs ?? 0} ms`,
      );
    }
  }
  out.text(lines.join('\n'));
}

/**
 * Whether the task could start now, in the tick's words: the same reason the tick logs when it skips the task
 * (`skipped KEYSPACE.TABLE: …`), then every running repair or limit behind it when there are several.
 */
function startLines(check: StartCheck): string[] {
  const pad = '       ';
  const lines: string[] = [];
  if (check.start) {
    const what = check.backPressureChecked
      ? 'no repair running on its replicas, none past a back-pressure limit'
      : 'no repair running on its replicas';
    lines.push(`${pad}now: would start (${what})`);
  } else {
    lines.push(`${pad}now: would not start (${check.code ?? ''}): ${check.reason ?? ''}`);
    if (check.repairs.length > 1) {
      for (const repair of check.repairs) {
        const since = repair.since === null ? '' : ` since ${new Date(repair.since).toISOString()}`;
        lines.push(`${pad}  repair ${repair.id} on ${repair.replica}, coordinated by ${repair.coordinator}${since}`);
      }
    }
    if (check.overloads.length > 1) {
      for (const overload of check.overloads) lines.push(`${pad}  ${overload.replica}: ${overload.text}`);
    }
  }
  for (const unread of check.unread) lines.push(`${pad}not read: ${unread}`);
  return lines;
}

/** Prints a plan report: tasks in order (with --explain: why, deferrals, skips, rows read), or the Plan as JSON. */
export function presentPlan(report: PlanReport, options: SchedulePlanOptions, deps: Pick<CommandDeps, 'out'>): void {
  for (const warning of report.warnings) deps.out.warn(warning);
  deps.out.data(planJson(report), () => renderPlan(report, options.explain, deps));
}

/** The Plan object with the row counts, and with --explain the start checks. */
function planJson(report: PlanReport): object {
  const checks = report.startChecks ? { startChecks: report.startChecks, startChecksMs: report.startChecksMs } : {};
  return { ...report.plan, rowsRead: report.rowsRead, sizes: report.sizes, ...checks };
}

/**
 * Every covered node's own plan (a group configuration without --node), one after the other, or
 * `{"nodes": [plan, …]}` as JSON. A group tick merges them in priority order up to schedule.maxTasks.
 */
export function presentGroupPlans(
  reports: readonly PlanReport[],
  options: SchedulePlanOptions,
  deps: Pick<CommandDeps, 'out'>,
): void {
  for (const warning of new Set(reports.flatMap((r) => r.warnings))) deps.out.warn(warning);
  deps.out.data({ nodes: reports.map(planJson) }, () =>
    reports.forEach((report, index) => {
      if (index > 0) deps.out.text('');
      renderPlan(report, options.explain, deps);
    }),
  );
}

const planCommand = defineCommand<SchedulePlanOptions>({
  path: ['schedule', 'plan'],
  summary: 'what the next tick would run, in order, and why',
  description:
    "Computes the plan the next `tend schedule tick` would compute — from the same topology, history, size estimates and run policies, with the same pure planner — and prints its repair tasks in execution order. Nothing is run and nothing is written. With --explain, each task says why it is due (which ranges, how old, which rule and priority) and whether it could start now: the tick's own checks before a task, run on its replicas, say whether one of them is already repairing (which repair, its coordinator, since when) or past a repair.backPressure limit (which figure, which limit), in the words the tick logs when it skips the task. They take no lease and start nothing, and read per task each replica's system_views repair tables (plus its coordinator's when another node coordinates) and, with back-pressure on, its load (JMX through Jolokia, or system_views.thread_pools): a few node-local queries per replica, so --explain costs one round of them per task. After the tasks come the due jobs, the jobs deferred (blocked by a policy, batch full, replica down), the tables not scheduled and how many rows were read from Cassandra. It plans as the tick does: from each table's summary (one row; tend.table_summary), reading a table's ranges only when it could get a task. --json prints the Plan object itself (formatVersion 1) with the row counts, and with --explain `startChecks` (per task: start, code, reason, repairs, overloads, unread). With a group configuration (nodes:), each covered node's own plan in turn (JSON: {\"nodes\": [plan, …]}; a group tick merges them in priority order up to schedule.maxTasks), or one node's with --node.",
  arguments: [],
  options: [
    {
      flags: '--explain',
      description: 'say why each task is due, whether its replicas would let it start now, what is deferred or skipped',
    },
    NODE_OPTION,
  ],
  examples: [
    { command: 'tend schedule plan', description: 'The tasks of the next tick.' },
    { command: 'tend schedule plan --explain', description: 'With reasons, deferrals and skips.' },
    { command: 'tend schedule plan --json | jq .tasks[0]', description: 'The first task as JSON.' },
  ],
  exitCodes: [ExitCode.Config, ExitCode.ClusterUnavailable],
  parse: (_args, opts) => ({ explain: opts.explain === true, node: nodeArgument(opts.node) }),
  async run(options, deps) {
    const { withActingNodes } = await import('../../app/cluster-session.js');
    const { schedulePlan } = await import('../../app/schedule.js');
    const results = await withActingNodes(deps, { node: options.node, without: 'all' }, (client, config) =>
      schedulePlan(
        client,
        config,
        options.explain ? { explain: { secret: deps.secret, out: deps.out, now: Date.now } } : {},
      ),
    );
    presentActing(
      results,
      options.node,
      (report) => presentPlan(report, options, deps),
      (reports) => presentGroupPlans(reports, options, deps),
    );
  },
});

export const scheduleModule: CommandModule = {
  group: { name: 'schedule', summary: 'the repair schedule: status, plan, tick' },
  commands: [status, planCommand],
};
