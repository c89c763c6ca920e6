/** `tend history show`: repair sessions (anyone's and tend's), and with --coverage how well each table is covered. */
import { ExitCode, UsageError } from '../../errors.js';
import { parseDurationIn } from '../../config/units.js';
import { DURATION_RANGES } from '../../config/ranges.js';
import { DEFAULT_INTERVAL_MS } from '../../config/schedule-defaults.js';
import { defineCommand, type CommandDeps, type CommandModule } from '../types.js';
import { NODE_OPTION, nodeArgument, scopeArgument } from '../arguments.js';
import type { HistoryReport } from '../../app/history-show.js';
import { AGE_BANDS, fromRangeText, ringCells, type CellBand } from '../../core/index.js';

export interface HistoryShowOptions {
  scope: string | undefined;
  /** undefined: the repair interval of the configuration. */
  sinceMs: number | undefined;
  coverage: boolean;
  ring: boolean;
  jobs: boolean;
  node?: string | undefined;
}

/** Cells of the ring picture: 64, a power of two, so every cell holds exactly 2^58 tokens. */
const RING_CELLS = 64;

/**
 * One character per band, so the picture reads without colour (piped, NO_COLOR, a colour-blind reader); colour on
 * a terminal only repeats it.
 */
const BAND_GLYPHS: Record<CellBand, string> = {
  ok: '#',
  due: '+',
  warn: 'w',
  error: 'E',
  never: '?',
  elsewhere: '.',
};

function bandLegend(band: CellBand): string {
  switch (band) {
    case 'ok':
      return 'repaired within the interval';
    case 'due':
      return 'past the interval (due)';
    case 'warn':
      return 'past the warn alarm';
    case 'error':
      return 'past the error alarm (by default gc_grace_seconds)';
    case 'never':
      return 'no successful repair in the history read';
    case 'elsewhere':
      return "no range of this node's (other nodes repair it)";
  }
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
  if (report.jobSteps) {
    if (out.stdoutIsTTY) out.text('');
    if (report.jobSteps.length === 0) out.info(`no job steps since ${iso(report.since)}`);
    else
      out.table(
        [
          { header: 'STARTED', value: (s) => time(s.startedAt) },
          { header: 'JOB', value: (s) => s.jobId },
          { header: 'OPERATION', value: (s) => s.operation },
          { header: 'TARGET', value: (s) => s.target },
          { header: 'NODE', value: (s) => s.address },
          { header: 'OUTCOME', value: (s) => s.outcome },
          { header: 'FINISHED', value: (s) => time(s.finishedAt) },
          { header: 'DURATION', value: (s) => shortDuration(s.durationMs) },
          { header: 'MESSAGE', value: (s) => s.message ?? '' },
        ],
        report.jobSteps,
      );
  }
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
    renderRing(report, out);
  }
}

/**
 * Each table's ring as a strip of RING_CELLS cells from the lowest token (left) to the highest (right), each cell
 * the worst band of the local ranges in it (src/core/ring-picture.ts), then a legend.
 */
function renderRing(report: HistoryReport, out: CommandDeps['out']): void {
  const rows = (report.coverage ?? []).filter((row) => row.ring);
  if (rows.length === 0) return;
  const color = out.colors;
  const paint: Record<CellBand, (text: string) => string> = {
    ok: color.green,
    due: color.cyan,
    warn: color.yellow,
    error: color.red,
    never: color.magenta,
    elsewhere: color.dim,
  };
  const pieces: (string | readonly [string, (text: string) => string])[] = [
    `\ntoken ring of each table in ${RING_CELLS} cells, from token -2^63 (left) to 2^63-1 (right); each cell shows the oldest repair among the ranges it overlaps:\n`,
  ];
  const width = Math.max(...rows.map((row) => `${row.keyspace}.${row.table}`.length));
  for (const row of rows) {
    const ring = row.ring!;
    const limits = { intervalMs: row.intervalMs, warnMs: ring.warnMs, errorMs: ring.errorMs };
    const ranges = ring.ranges.map((r) => ({ range: fromRangeText(r), repairedAt: r.repairedAt, local: true }));
    const cells = ringCells(ranges, report.now, limits, RING_CELLS);
    pieces.push(`${`${row.keyspace}.${row.table}`.padEnd(width)}  |`);
    // One colour sequence per run of equal cells, not per cell: a strip stays a short line for the terminal.
    for (let start = 0; start < cells.length;) {
      const band = cells[start]!.band;
      let end = start;
      while (end < cells.length && cells[end]!.band === band) end++;
      pieces.push([BAND_GLYPHS[band].repeat(end - start), paint[band]]);
      start = end;
    }
    const counts = AGE_BANDS.filter((band) => ring.bands[band] > 0)
      .map((band) => `${ring.bands[band]} ${band}`)
      .join(', ');
    const alarms = [row.intervalMs, ring.warnMs, ring.errorMs].map(shortDuration).join('/');
    pieces.push(`|  ${ring.ranges.length} range(s): ${counts || 'none'}; interval/warn/error ${alarms}\n`);
  }
  pieces.push('\nlegend:\n');
  for (const band of Object.keys(BAND_GLYPHS) as CellBand[]) {
    pieces.push('  ', [BAND_GLYPHS[band], paint[band]], ` ${bandLegend(band)}\n`);
  }
  out.paintedText(pieces);
}

/** Prints the sessions (and coverage) as tables, or the report as one JSON document. */
export function presentHistory(report: HistoryReport, deps: Pick<CommandDeps, 'out'>): void {
  deps.out.data(report, () => render(report, deps));
}

const show = defineCommand<HistoryShowOptions>({
  path: ['history', 'show'],
  summary: 'repair sessions, and with --coverage how much of each table is repaired',
  description:
    "Lists repair sessions of the tables in scope, newest first: from Cassandra's system_distributed tables (every repair, whoever ran it: tend, nodetool, Reaper) and from tend's own history (every task tend ran, including failed and aborted ones). One line per repair command and table: start, coordinator, number of ranges, status, duration and participants. --since limits how far back (default: repair.interval, else 7d). With --coverage, adds per table the share of the local node's ranges repaired within the interval and the age of the oldest range — the figures `schedule status` bases its state on. With --ring (which implies --coverage), draws each table's token ring as a strip of 64 cells from the lowest token to the highest: each cell shows the oldest last successful repair of the local ranges in it (vnode ranges are uneven, so a cell shows the worst of those it overlaps), as a character by age band against the table's interval and alarms — # within the interval, + past the interval, w past the warn alarm, E past the error alarm (by default gc_grace_seconds), ? no successful repair in the history read, . no range of this node's — coloured on a terminal, with a legend. --json gives the data, not the drawing: per table `ring` with the warn and error alarms, the ranges per band, and every local range (start, end, repairedAt, band). With --jobs, adds the steps of cluster-wide jobs (`tend job`) that started in the period, newest first, as a second table: job, operation, target, node, outcome (done, failed, aborted, skipped because the node was down, or running), start, finish, duration and message; a job over every keyspace shows in any scope, a keyspace's job in the scope of its tables; --json gives them as `jobSteps`. Job steps are not repair sessions, so they are a table of their own rather than rows among the sessions, and are read only when asked (from the job store: tend's keyspace, or Consul's KV store with the Consul lease backend). With a group configuration (nodes:), sessions need no node; --coverage and --ring are one node's ranges and need --node (exit 2 without it).",
  arguments: [{ name: 'KEYSPACE[.TABLE]', description: 'only this keyspace or table', required: false }],
  options: [
    { flags: '--since <DUR>', description: 'how far back, e.g. 24h or 7d (default: repair.interval, else 7d)' },
    { flags: '--coverage', description: 'per table: share of ranges repaired within the interval, oldest range age' },
    {
      flags: '--ring',
      description: "with --coverage: draw each table's token ring, each part by the age of its last repair",
    },
    { flags: '--jobs', description: 'add the steps of cluster-wide jobs (tend job) that ran in the period' },
    NODE_OPTION,
  ],
  examples: [
    { command: 'tend history show --since 24h', description: 'What was repaired in the last day.' },
    { command: 'tend history show shop --jobs', description: "Repairs of shop's tables and the jobs' steps on it." },
    { command: 'tend history show \'"Shop"."Orders"\' --coverage', description: 'A mixed-case table, with coverage.' },
    { command: 'tend history show shop --coverage --ring', description: "Which ranges of shop's tables are how old." },
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
      coverage: opts.coverage === true || opts.ring === true,
      ring: opts.ring === true,
      jobs: opts.jobs === true,
      node: nodeArgument(opts.node),
    };
  },
  async run(options, deps) {
    const { withActingNodes } = await import('../../app/cluster-session.js');
    const { historyShow } = await import('../../app/history-show.js');
    const { jobHistory, openJobStore } = await import('../../app/maintenance.js');
    // Sessions are the cluster's; coverage is one node's ranges: with nodes:, --coverage needs --node (exit 2).
    const [shown] = await withActingNodes(
      deps,
      { node: options.node, without: options.coverage ? 'refuse' : 'any' },
      (client, config) =>
        historyShow(client, config, {
          scope: options.scope,
          sinceMs: options.sinceMs ?? config.repair.interval ?? DEFAULT_INTERVAL_MS,
          coverage: options.coverage,
          ring: options.ring,
          ...(options.jobs
            ? {
                jobSteps: async (since, scope) =>
                  jobHistory(await openJobStore(config, deps.secret, client), since, scope),
              }
            : {}),
        }),
    );
    presentHistory(shown!.result, deps);
  },
});

export const historyModule: CommandModule = {
  group: { name: 'history', summary: 'what was repaired when' },
  commands: [show],
};
