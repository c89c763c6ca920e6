/** `tend policy list|add|remove`: run windows stored in tend's keyspace, shared by every node. */
import { ExitCode, UsageError } from '../../errors.js';
import { defineCommand, type CommandDeps, type CommandModule } from '../types.js';
import { scopeArgument } from '../arguments.js';
import { escapeControl } from '../../output/sanitize.js';
import type { WindowSpec, WindowSpecInput } from '../../app/policy-input.js';
import type { PolicyListing, PolicyView } from '../../app/policy-manage.js';

export interface PolicyListOptions {
  target: string | undefined;
}

export type PolicyAddOptions = WindowSpecInput & { action: 'block' | 'allow' };

export interface PolicyRemoveOptions {
  ids: string[];
}

const optionalString = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

function describe(spec: WindowSpec, days: (d: WindowSpec['days']) => string): string {
  const scope = `${spec.keyspace ?? '*'}.${spec.table ?? '*'}`;
  const dc = spec.datacenter ? ` in ${spec.datacenter}` : ' in every datacenter';
  return `${spec.action} ${days(spec.days)} ${spec.start}-${spec.end} ${spec.timezone} for ${scope}${dc}`;
}

/** What the window means right now, in the operator's words. */
function nowColumn(view: PolicyView): string {
  if (view.action === 'block') return view.openNow ? 'blocking' : '-';
  return view.openNow ? 'open' : 'closed';
}

function renderListing(listing: PolicyListing, deps: CommandDeps, formatDays: (days: string[]) => string): void {
  const { out } = deps;
  for (const problem of listing.problems) out.warn(`ignored: ${problem}`);
  if (listing.pause) {
    const pause = listing.pause;
    const until = pause.until === null ? 'until resumed' : `until ${out.time(pause.until, listing.now)}`;
    const by = pause.pausedBy ? ` by ${pause.pausedBy}` : '';
    const reason = pause.reason ? `: ${pause.reason}` : '';
    if (pause.active) out.warn(`the schedule is paused ${until}${by}${reason} ('tend schedule resume' lifts it)`);
    else out.info(`a pause${by} expired ${out.time(pause.until!, listing.now)}; it has no effect`);
  }
  if (listing.windows.length === 0) {
    out.info('no run windows: repairs may start at any time');
    return;
  }
  out.table<PolicyView>(
    [
      { header: 'ID', value: (v) => v.id },
      { header: 'ACTION', value: (v) => v.action },
      { header: 'SCOPE', value: (v) => `${v.keyspace}.${v.table}` },
      { header: 'DATACENTER', value: (v) => v.datacenter },
      { header: 'DAYS', value: (v) => formatDays(v.days) },
      { header: 'TIME', value: (v) => `${v.start}-${v.end}` },
      { header: 'TIMEZONE', value: (v) => v.timezone },
      { header: 'NOW', value: nowColumn },
      { header: 'CREATED BY', value: (v) => (v.source === 'config' ? 'tend.yml' : v.createdBy) },
    ],
    listing.windows,
  );
}

const list = defineCommand<PolicyListOptions>({
  path: ['policy', 'list'],
  summary: 'list run windows (stored and configured) and the pause',
  description:
    "Lists the time windows that decide when repairs may start: those stored in tend's keyspace (added with 'tend policy add', shared by every node) and schedule.windows from the configuration (allow windows, shown as config:N). NOW says what each window means at this moment by Cassandra's clock: a block window is 'blocking' while it is open; an allow window is 'open' or 'closed'. With KEYSPACE[.TABLE], only the windows that apply to it. A cluster-wide pause ('tend schedule pause') is reported on stderr.",
  arguments: [
    {
      name: 'KEYSPACE[.TABLE]',
      description: 'Show only windows that apply to this keyspace or table.',
      required: false,
    },
  ],
  options: [],
  examples: [
    { command: 'tend policy list', description: 'Every window and whether it applies now.' },
    { command: 'tend policy list shop.orders --json', description: 'Windows that apply to one table, as JSON.' },
  ],
  exitCodes: [ExitCode.Config, ExitCode.ClusterUnavailable],
  parse: (args) => ({ target: scopeArgument(args[0]) }),
  async run(options, deps) {
    const { parseTarget, formatDays } = await import('../../app/policy-input.js');
    const filter = parseTarget(options.target);
    const { withPolicySession } = await import('../../app/policy-session.js');
    const { listPolicies } = await import('../../app/policy-manage.js');
    const listing = await withPolicySession(deps, (client, config) =>
      listPolicies(client, config.cassandra.keyspace, config.schedule.windows, filter),
    );
    deps.out.data(listing, () => renderListing(listing, deps, (days) => formatDays(days as WindowSpec['days'])));
  },
});

const add = defineCommand<PolicyAddOptions>({
  path: ['policy', 'add'],
  summary: 'add a time window in which repairs are blocked or allowed',
  description:
    "Stores a weekly time window in tend's keyspace; every node's next tick applies it. A block window keeps new repair tasks from starting while it is open (business hours, batch jobs). When allow windows apply to a table, tasks for it start only while one of them is open. Tasks already running are not stopped. The window applies to every table, a keyspace (KEYSPACE) or one table (KEYSPACE.TABLE), in every datacenter or one (--datacenter); the keyspace, table and datacenter must exist. --start and --end are HH:MM in --timezone (an IANA name, default UTC); an end before the start runs past midnight; an end equal to the start is refused (the whole day is --start 00:00 --end 24:00). --days takes mon…sun, ranges (mon-fri), weekdays, weekends or daily (the default). Adding the same window again changes nothing; the id is derived from the window. Written at EACH_QUORUM so every datacenter sees it at once (LOCAL_QUORUM, with a warning, when one is unreachable).",
  arguments: [
    { name: 'ACTION', description: 'block or allow.', required: true, choices: ['block', 'allow'] },
    {
      name: 'KEYSPACE[.TABLE]',
      description: 'What the window applies to (default: every table).',
      required: false,
    },
  ],
  options: [
    { flags: '--start <HH:MM>', description: 'Opening time of the window (required).' },
    {
      flags: '--end <HH:MM>',
      description: 'Closing time; earlier than --start runs past midnight; 24:00 is the end of the day (required).',
    },
    { flags: '--days <DAYS>', description: 'mon,tue,… or ranges (mon-fri), weekdays, weekends, daily (default).' },
    { flags: '--timezone <TZ>', description: 'IANA time zone of --start and --end (default UTC).' },
    { flags: '--datacenter <DC>', description: 'Apply only to nodes of this datacenter (default: every one).' },
  ],
  examples: [
    {
      command: 'tend policy add block --days mon-fri --start 08:00 --end 18:00 --timezone Europe/Berlin',
      description: 'No new repairs during business hours, cluster-wide.',
    },
    {
      command: 'tend policy add allow shop.orders --start 01:00 --end 05:00 --datacenter dc2',
      description: 'Repair shop.orders in dc2 only at night.',
    },
  ],
  exitCodes: [ExitCode.Config, ExitCode.ClusterUnavailable],
  parse: (args, opts) => {
    const action = args[0];
    if (action !== 'block' && action !== 'allow') throw new UsageError(`ACTION must be block or allow`);
    const input: PolicyAddOptions = { action };
    const target = args[1] === '*' ? '*' : scopeArgument(args[1]);
    if (target !== undefined) input.target = target;
    for (const key of ['start', 'end', 'days', 'timezone', 'datacenter'] as const) {
      const value = optionalString(opts[key]);
      if (value !== undefined) input[key] = value;
    }
    if (input.start === undefined) throw new UsageError('--start is required (HH:MM)');
    if (input.end === undefined) throw new UsageError('--end is required (HH:MM)');
    return input;
  },
  async run(options, deps) {
    const { parseWindowSpec, formatDays } = await import('../../app/policy-input.js');
    const spec = parseWindowSpec(options);
    const { withPolicySession } = await import('../../app/policy-session.js');
    const { addPolicy } = await import('../../app/policy-manage.js');
    const result = await withPolicySession(deps, (client, config) =>
      addPolicy(client, config.cassandra.keyspace, spec),
    );
    const text = describe(spec, formatDays);
    deps.out.data(result, () => {
      deps.out.text(
        result.created ? `added ${result.window.id}: ${text}` : `${result.window.id} already exists: ${text}`,
      );
    });
    if (result.consistency !== 'EACH_QUORUM') {
      deps.out.warn(
        'a datacenter was unreachable: written at LOCAL_QUORUM, other datacenters see it once replication catches up',
      );
    }
  },
});

const remove = defineCommand<PolicyRemoveOptions>({
  path: ['policy', 'remove'],
  summary: 'remove stored run windows by id',
  description:
    "Deletes run windows from tend's keyspace by the id 'tend policy list' shows. An unknown id is a usage error and nothing is removed. Windows from schedule.windows (config:N) are changed in the configuration file instead.",
  arguments: [{ name: 'ID', description: 'Window id from tend policy list.', required: true, variadic: true }],
  options: [],
  examples: [{ command: 'tend policy remove w1a2b3c4d', description: 'Remove one window.' }],
  exitCodes: [ExitCode.Config, ExitCode.ClusterUnavailable],
  parse: (args) => {
    const ids = Array.isArray(args[0]) ? (args[0] as unknown[]).map(String) : [];
    if (ids.length === 0) throw new UsageError('give at least one window ID');
    for (const id of ids) {
      if (!/^[\w:.-]{1,64}$/.test(id)) {
        throw new UsageError(`"${escapeControl(id)}" is not a window ID`, {
          hints: ["window IDs are what 'tend policy list' shows, e.g. w1a2b3c4d"],
        });
      }
    }
    return { ids };
  },
  async run(options, deps) {
    const { withPolicySession } = await import('../../app/policy-session.js');
    const { removePolicies } = await import('../../app/policy-manage.js');
    const result = await withPolicySession(deps, (client, config) =>
      removePolicies(client, config.cassandra.keyspace, options.ids),
    );
    deps.out.data(result, () => {
      for (const window of result.removed) deps.out.text(`removed ${window.id}`);
    });
    if (result.consistency === 'LOCAL_QUORUM') {
      deps.out.warn('a datacenter was unreachable: removed at LOCAL_QUORUM');
    }
  },
});

export const policyModule: CommandModule = {
  group: { name: 'policy', summary: 'run windows: when repairs may start' },
  commands: [list, add, remove],
};
