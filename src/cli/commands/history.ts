/** `tend history show`: repair sessions (anyone's and tend's), and with --coverage how well each table is covered. */
import { ExitCode, UsageError } from '../../errors.js';
import { parseDurationIn } from '../../config/units.js';
import { DURATION_RANGES } from '../../config/ranges.js';
import { DEFAULT_INTERVAL_MS } from '../../config/schedule-defaults.js';
import { defineCommand, type CommandDeps, type CommandModule } from '../types.js';
import { scopeArgument } from '../arguments.js';
import type { HistoryReport } from '../../app/history-show.js';

export interface HistoryShowOptions {
  scope: string | undefined;
  /** undefined: the repair interval of the configuration. */
  sinceMs: number | undefined;
  coverage: boolean;
}

function iso(at: number | null): string {
  return at === null ? '-' : new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function shortDuration(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 1000) return `${ms}ms`;
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s}s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.round(m / 60);
  return h < 48 ? `${h}h` : `${Math.round(h / 24)}d`;
}

function render(report: HistoryReport, deps: Pick<CommandDeps, 'out'>): void {
  const { out } = deps;
  const time = (at: number | null) => (at === null ? '-' : out.time(at, report.now));
  if (report.sessions.length === 0) out.info(`no repair sessions since ${iso(report.since)}`);
  else
    out.table(
      [
        { header: 'STARTED', value: (s) => time(s.startedAt) },
        { header: 'TABLE', value: (s) => `${s.keyspace}.${s.table}` },
        { header: 'SOURCE', value: (s) => s.source },
        { header: 'COORDINATOR', value: (s) => s.coordinator },
        { header: 'RANGES', value: (s) => s.ranges },
        { header: 'STATUS', value: (s) => s.status },
        { header: 'DURATION', value: (s) => shortDuration(s.durationMs) },
        { header: 'PARTICIPANTS', value: (s) => s.participants.join(',') },
      ],
      report.sessions,
    );
  if (report.coverage) {
    if (out.stdoutIsTTY) out.text('');
    out.table(
      [
        { header: 'TABLE', value: (c) => `${c.keyspace}.${c.table}` },
        { header: 'COVERED', value: (c) => `${(c.share * 100).toFixed(1)}%` },
        { header: 'RANGES', value: (c) => `${c.rangesWithinInterval}/${c.rangesTotal}` },
        { header: 'OLDEST RANGE AGE', value: (c) => (c.oldestAgeMs === null ? 'never' : shortDuration(c.oldestAgeMs)) },
        { header: 'INTERVAL', value: (c) => shortDuration(c.intervalMs) },
        { header: 'STATE', value: (c) => c.state },
      ],
      report.coverage,
    );
  }
}

/** Prints the sessions (and coverage) as tables, or the report as one JSON document. */
export function presentHistory(report: HistoryReport, deps: Pick<CommandDeps, 'out'>): void {
  deps.out.data(report, () => render(report, deps));
}

const show = defineCommand<HistoryShowOptions>({
  path: ['history', 'show'],
  summary: 'repair sessions, and with --coverage how much of each table is repaired',
  description:
    "Lists repair sessions of the tables in scope, newest first: from Cassandra's system_distributed tables (every repair, whoever ran it: tend, nodetool, Reaper) and from tend's own history (every task tend ran, including failed and aborted ones). One line per repair command and table: start, coordinator, number of ranges, status, duration and participants. --since limits how far back (default: repair.interval, else 7d). With --coverage, adds per table the share of the local node's ranges repaired within the interval and the age of the oldest range — the figures `schedule status` bases its state on.",
  arguments: [{ name: 'KEYSPACE[.TABLE]', description: 'only this keyspace or table', required: false }],
  options: [
    { flags: '--since <DUR>', description: 'how far back, e.g. 24h or 7d (default: repair.interval, else 7d)' },
    { flags: '--coverage', description: 'per table: share of ranges repaired within the interval, oldest range age' },
  ],
  examples: [
    { command: 'tend history show --since 24h', description: 'What was repaired in the last day.' },
    { command: 'tend history show \'"Shop"."Orders"\' --coverage', description: 'A mixed-case table, with coverage.' },
  ],
  exitCodes: [ExitCode.Config, ExitCode.ClusterUnavailable],
  parse(args, opts) {
    let sinceMs: number | undefined;
    if (opts.since !== undefined) {
      // Bounded like repair.historyLookback: `--since 999999999w` once became "Invalid date" (exit 1).
      const parsed = parseDurationIn(String(opts.since), DURATION_RANGES.since);
      if (typeof parsed !== 'number') {
        throw new UsageError(`--since ${String(opts.since)}: expected ${parsed.expected}, like 90m, 24h or 7d`);
      }
      sinceMs = parsed;
    }
    return {
      scope: scopeArgument(args[0]),
      sinceMs,
      coverage: opts.coverage === true,
    };
  },
  async run(options, deps) {
    const { withCluster } = await import('../../app/cluster-session.js');
    const { historyShow } = await import('../../app/history-show.js');
    const report = await withCluster(deps, (client, config) =>
      historyShow(client, config, {
        scope: options.scope,
        sinceMs: options.sinceMs ?? config.repair.interval ?? DEFAULT_INTERVAL_MS,
        coverage: options.coverage,
      }),
    );
    presentHistory(report, deps);
  },
});

export const historyModule: CommandModule = {
  group: { name: 'history', summary: 'what was repaired when' },
  commands: [show],
};
