/** `tend job start|status|list|abort|run`: cluster-wide maintenance, node by node (issue 17). */
import { ExitCode, UsageError } from '../../errors.js';
import { defineCommand, type CommandDeps, type CommandModule } from '../types.js';
import { scopeArgument, wholeNumber } from '../arguments.js';
import { parseScopeArgument } from '../../app/scope.js';
import { parseDuration } from '../../config/units.js';
import { tickBound } from '../../app/time-bound.js';
import { formatStepProgress, MAINTENANCE_OPERATIONS, type MaintenanceOperation } from '../../core/maintenance.js';
import type { JobView, StepRunReport, StepView } from '../../app/maintenance.js';
import { parseJobWindow } from '../../app/policy-input.js';
import { describeWindow, type TimeWindow } from '../../core/policy.js';

export interface JobStartOptions {
  operation: MaintenanceOperation;
  keyspace: string | undefined;
  table: string | undefined;
  datacenter: string | undefined;
  concurrency: number;
  concurrencyScope: 'datacenter' | 'cluster';
  stepTimeoutMs: number | undefined;
  window?: TimeWindow | undefined;
  includeAllSSTables?: boolean | undefined;
}

/** `upgradesstables (every SSTable)` for a job started with --include-all-sstables; else the operation. */
function operationText(job: JobView['job']): string {
  return job.includeAllSSTables ? `${job.operation} (every SSTable)` : job.operation;
}

function renderSteps(view: JobView, deps: Pick<CommandDeps, 'out'>): void {
  const { out } = deps;
  const { job } = view;
  const target = job.keyspace ? `${job.keyspace}${job.table ? `.${job.table}` : ''}` : 'every keyspace';
  out.text(
    `job ${job.id}: ${operationText(job)} of ${target}, ${view.phase}` +
      `${job.abortedAt !== undefined ? ` (aborted by ${job.abortedBy ?? '?'} at ${out.time(job.abortedAt)})` : ''}` +
      `; at most ${job.concurrency} node(s) at once per ${job.concurrencyScope}` +
      `${job.window ? `; steps start only inside the ${describeWindow(job.window)}` : ''}; started by ${job.createdBy}`,
  );
  out.table(
    [
      { header: 'NODE', value: (s) => s.address },
      { header: 'DC', value: (s) => s.datacenter },
      { header: 'STATE', value: (s) => s.state },
      { header: 'ATTEMPT', value: (s) => s.attempt },
      { header: 'STARTED', value: (s) => (s.startedAt === undefined ? '-' : new Date(s.startedAt)) },
      { header: 'FINISHED', value: (s) => (s.finishedAt === undefined ? '-' : new Date(s.finishedAt)) },
      { header: 'PROGRESS', value: progressText },
      { header: 'MESSAGE', value: (s) => s.message ?? '' },
    ],
    view.steps,
  );
}

/** A running step's progress as its node reports it; `?` when the node did not answer, `-` otherwise. */
function progressText(step: StepView): string {
  if (step.progress) return formatStepProgress(step.progress);
  if (step.progressUnknown !== undefined) return `? (${step.progressUnknown})`;
  return '-';
}

const start = defineCommand<JobStartOptions>({
  path: ['job', 'start'],
  summary: 'record a cluster-wide job that every node carries out in turn',
  description:
    "Records a job in tend's store (tend's keyspace; Consul's KV store, under lease.consul.prefix, with the Consul lease backend) and prints its id. Nothing runs now: each node's `tend schedule tick` (or `tend job run`) runs its own step when its turn comes, at most --concurrency nodes at once per datacenter or per cluster (--per), in an order every node computes alike from the job id. A node down at its turn is skipped, and the job says so. OPERATION is cleanup, upgradesstables, garbagecollect or compact (nodetool's operations of those names, or the StorageService operations behind them through Jolokia) over KEYSPACE[.TABLE] or every keyspace, or repair: a full repair of the node's primary ranges of KEYSPACE, so that the job as a whole repairs every range once. upgradesstables rewrites only SSTables of an older format (nodetool's default) unless --include-all-sstables (nodetool's -a) asks for every SSTable, as after changing a table's compression. A node's step runs instead of its scheduled repairs (see the README, Jobs). With --window, a step starts only while the window is open (an allow window, checked by each node's tick on its own clock; days, times and time zone as in schedule.windows); a step that is running when it closes runs to its end, bounded by --step-timeout.",
  arguments: [
    { name: 'OPERATION', description: 'what each node runs', required: true, choices: MAINTENANCE_OPERATIONS },
    { name: 'KEYSPACE[.TABLE]', description: 'limit to one keyspace or table (required for repair)', required: false },
  ],
  options: [
    { flags: '--datacenter <DC>', description: 'only the nodes of this datacenter take part' },
    { flags: '--concurrency <N>', description: 'steps running at once (default 1)' },
    {
      flags: '--per <SCOPE>',
      description: 'count --concurrency per datacenter or per cluster (default cluster)',
      choices: ['datacenter', 'cluster'],
    },
    {
      flags: '--step-timeout <DURATION>',
      description: "one node's step limit (default and at most repair.taskTimeout)",
    },
    {
      flags: '--window <WINDOW>',
      description:
        'steps start only inside "[DAYS] HH:MM-HH:MM [TIMEZONE]" (days and times as in schedule.windows; default every day, UTC)',
    },
    {
      flags: '--include-all-sstables',
      description:
        'upgradesstables: rewrite every SSTable, those in the current format too (nodetool upgradesstables -a)',
    },
  ],
  examples: [
    { command: 'tend job start cleanup shop', description: 'Cleanup of keyspace shop on every node, one at a time.' },
    { command: 'tend job start upgradesstables --per datacenter', description: 'One node per datacenter at a time.' },
    {
      command: 'tend job start upgradesstables shop --include-all-sstables',
      description: "Rewrite every SSTable of shop (after changing a table's compression, for example).",
    },
    { command: 'tend job start repair shop --json | jq -r .job.id', description: "The new job's id, for scripts." },
    {
      command: "tend job start cleanup shop --window 'mon-fri 22:00-06:00 Europe/Berlin'",
      description: 'Steps start on weekday nights only.',
    },
  ],
  exitCodes: [ExitCode.Config, ExitCode.ClusterUnavailable],
  parse(args, opts) {
    const operation = String(args[0]) as MaintenanceOperation;
    if (!MAINTENANCE_OPERATIONS.includes(operation)) throw new UsageError(`unknown operation '${operation}'`);
    const scope = scopeArgument(args[1]);
    const parsed = scope === undefined ? undefined : parseScopeArgument(scope);
    if (operation === 'repair' && parsed === undefined) throw new UsageError('a repair job needs KEYSPACE[.TABLE]');
    const includeAllSSTables = opts.includeAllSstables === true;
    if (includeAllSSTables && operation !== 'upgradesstables') {
      throw new UsageError(`--include-all-sstables applies to upgradesstables only, not to ${operation}`);
    }
    let stepTimeoutMs: number | undefined;
    if (opts.stepTimeout !== undefined) {
      stepTimeoutMs = parseDuration(String(opts.stepTimeout));
      if (stepTimeoutMs === undefined || stepTimeoutMs <= 0)
        throw new UsageError(
          `--step-timeout: expected a duration such as 30m or 2h, found '${String(opts.stepTimeout)}'`,
        );
    }
    return {
      operation,
      keyspace: cqlName(parsed?.keyspace),
      table: cqlName(parsed?.table),
      datacenter: typeof opts.datacenter === 'string' ? opts.datacenter : undefined,
      concurrency: opts.concurrency === undefined ? 1 : wholeNumber(opts.concurrency, '--concurrency', 1, 1000),
      concurrencyScope: opts.per === 'datacenter' ? 'datacenter' : 'cluster',
      stepTimeoutMs,
      ...(opts.window !== undefined ? { window: parseJobWindow(String(opts.window)) } : {}),
      ...(includeAllSSTables ? { includeAllSSTables } : {}),
    };
  },
  async run(options, deps) {
    const { withCluster } = await import('../../app/cluster-session.js');
    const { openJobStore, startJob } = await import('../../app/maintenance.js');
    const view = await withCluster(deps, async (client, config) =>
      startJob(client, config, await openJobStore(config, deps.secret, client), options),
    );
    deps.out.data(view, () => {
      deps.out.text(view.job.id);
      deps.out.info(
        `job ${view.job.id} recorded: ${view.steps.filter((s) => s.state === 'pending').length} node(s) will run ${view.job.operation} in turn at their next tick`,
      );
    });
  },
});

const status = defineCommand<{ id: string | undefined }>({
  path: ['job', 'status'],
  summary: "each node's step of a job (the newest without ID)",
  description:
    "Shows the job's state (active, aborted, done) and each node's step: pending, running (since when, by which process), done, failed (with the reason) or skipped (down at its turn, or outside --datacenter). A running cleanup, upgradesstables, garbagecollect or compact shows its progress as its node reports it now (system_views.sstable_tasks, what `nodetool compactionstats` prints: bytes done of the total, summed over the node's tasks of the job's operation and keyspace); `-` while the node runs none of them (waiting for a compaction thread, between tables) and for repair steps. --json gives each running step's `progress` (completed, total, unit, tasks). Exits 6 while a step has failed or was skipped because its node was down, so a script can tell a job that did not reach every node.",
  arguments: [{ name: 'ID', description: 'the job (as `job start` printed it); default the newest', required: false }],
  options: [],
  examples: [
    { command: 'tend job status', description: 'The newest job.' },
    { command: 'tend job status 20261203-1a2b3c4d --json', description: 'One job, for scripts.' },
  ],
  exitCodes: [ExitCode.Config, ExitCode.ClusterUnavailable, ExitCode.RepairFailed],
  parse: (args) => ({ id: args[0] === undefined ? undefined : jobId(args[0]) }),
  async run(options, deps) {
    const { withCluster } = await import('../../app/cluster-session.js');
    const { jobStatusWithProgress, attentionOf } = await import('../../app/maintenance.js');
    const view = await withCluster(deps, async (client, config) =>
      jobStatusWithProgress(config, deps.secret, client, options.id),
    );
    deps.out.data(view, () => renderSteps(view, deps));
    const attention = attentionOf(view);
    if (attention) throw attention;
  },
});

const list = defineCommand<Record<string, never>>({
  path: ['job', 'list'],
  summary: 'the jobs of the last 30 days, newest first',
  description: 'Lists every job kept (30 days after its last change): id, operation, target, state and step counts.',
  arguments: [],
  options: [],
  examples: [{ command: 'tend job list', description: 'What ran, and what is still going.' }],
  exitCodes: [ExitCode.Config, ExitCode.ClusterUnavailable],
  parse: () => ({}),
  async run(_options, deps) {
    const { withCluster } = await import('../../app/cluster-session.js');
    const { listJobs, openJobStore } = await import('../../app/maintenance.js');
    const views = await withCluster(deps, async (client, config) =>
      listJobs(await openJobStore(config, deps.secret, client)),
    );
    const count = (v: JobView, state: string) => v.steps.filter((s) => s.state === state).length;
    deps.out.data({ jobs: views }, () => {
      if (views.length === 0) deps.out.info('no jobs');
      else
        deps.out.table(
          [
            { header: 'ID', value: (v) => v.job.id },
            { header: 'OPERATION', value: (v) => operationText(v.job) },
            { header: 'TARGET', value: (v) => `${v.job.keyspace ?? '*'}${v.job.table ? `.${v.job.table}` : ''}` },
            { header: 'STATE', value: (v) => v.phase },
            { header: 'CREATED', value: (v) => new Date(v.job.createdAt) },
            {
              header: 'STEPS',
              value: (v) =>
                ['done', 'running', 'pending', 'failed', 'skipped'].map((s) => `${count(v, s)} ${s}`).join(', '),
            },
          ],
          views,
        );
    });
  },
});

const abort = defineCommand<{ id: string }>({
  path: ['job', 'abort'],
  summary: 'stop a job: no new step starts, the running ones are stopped',
  description:
    'Marks the job aborted, recording who aborted it (node.name or the host name). No node starts a step of it again; a running step sees the abort within about 5 seconds and stops its operation on the server (CompactionManager.stopCompaction for cleanup, upgradesstables, garbagecollect and compact; the repair sessions for repair) and records the step as failed (aborted).',
  arguments: [{ name: 'ID', description: 'the job to abort', required: true }],
  options: [],
  examples: [{ command: 'tend job abort 20261203-1a2b3c4d', description: 'Stop a job started by mistake.' }],
  exitCodes: [ExitCode.Config, ExitCode.ClusterUnavailable],
  parse: (args) => ({ id: jobId(args[0]) }),
  async run(options, deps) {
    const { withCluster } = await import('../../app/cluster-session.js');
    const { abortJob, openJobStore } = await import('../../app/maintenance.js');
    const view = await withCluster(deps, async (client, config) =>
      abortJob(await openJobStore(config, deps.secret, client), config, options.id),
    );
    deps.out.data(view, () => {
      const running = view.steps.filter((s) => s.state === 'running').map((s) => s.address);
      deps.out.info(
        `job ${view.job.id} aborted by ${view.abortedBy}${running.length ? `; stopping the step on ${running.join(', ')}` : ''}`,
      );
    });
  },
});

const run = defineCommand<Record<string, never>>({
  path: ['job', 'run'],
  summary: "run this node's step of an active job now, if it is its turn",
  description:
    "Does what the next `tend schedule tick` would do about jobs, now: settles steps whose process died or whose node is down at its turn, and runs this node's step when it is its turn, under the node's repair leases, unless the node already runs the job's operation (a step whose process died may have left it running on the server): then the step waits, and the message says so. With a group configuration (nodes:), the covered nodes' steps whose turn it is, each through its own node's executor (one turn: a group tick goes on to the next). Exits 6 when the step failed; 0 with a message when no step is due here.",
  arguments: [],
  options: [],
  examples: [{ command: 'tend job run', description: "This node's cleanup now, instead of at the next tick." }],
  exitCodes: [ExitCode.Config, ExitCode.ClusterUnavailable, ExitCode.RepairFailed, ExitCode.Interrupted],
  parse: () => ({}),
  timeBound: (config) => tickBound(config, 0),
  async run(_options, deps) {
    const { withCluster } = await import('../../app/cluster-session.js');
    const { runJobStepNow } = await import('../../app/maintenance.js');
    const { runGroupJobStepsNow } = await import('../../app/group-tick.js');
    const report: StepRunReport = await withCluster(deps, (client, config) =>
      (config.nodes ? runGroupJobStepsNow : runJobStepNow)(
        { config, secret: deps.secret, out: deps.out, signal: deps.signal },
        client,
      ),
    );
    const { error, ...printable } = report;
    deps.out.data(printable, () => deps.out.text(`${report.result}: ${report.message}`));
    if (error) throw error;
  },
});

/** A name as CQL reads it: unquoted names fold to lower case. */
function cqlName(part: { name: string; quoted: boolean } | undefined): string | undefined {
  return part === undefined ? undefined : part.quoted ? part.name : part.name.toLowerCase();
}

function jobId(text: unknown): string {
  const value = String(text ?? '');
  if (!/^[0-9A-Za-z-]{1,64}$/.test(value)) throw new UsageError(`"${value.slice(0, 80)}" is not a job id`);
  return value;
}

export const jobModule: CommandModule = {
  group: { name: 'job', summary: 'cluster-wide maintenance, node by node (cleanup, upgradesstables, …)' },
  commands: [abort, list, run, start, status],
};
