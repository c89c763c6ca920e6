/** `tend repair table`: an ad hoc repair of one table, under the tick's lease, recorded in tend's history. */
import {
  MAX_TOKEN,
  MIN_TOKEN,
  parseTokenRange,
  TokenFormatError,
  type RepairParallelism,
  type TokenRange,
} from '../../core/index.js';
import { ExitCode, UsageError } from '../../errors.js';
import { defineCommand, type CommandDeps, type CommandModule } from '../types.js';
import { repairTableBound } from '../../app/time-bound.js';
import { NODE_OPTION, nodeArgument, tableArgument } from '../arguments.js';
import type { RepairTableReport } from '../../app/repair-table.js';

export interface RepairTableCommandOptions {
  table: string;
  ranges: TokenRange[];
  incremental: boolean | undefined;
  parallelism: RepairParallelism | undefined;
  wait: boolean;
  node: string | undefined;
}

const PARALLELISM = ['sequential', 'parallel', 'dc_parallel'] as const;

/**
 * Ranges whose START is greater than their END wrap around the ring, as Cassandra reads them: say what that
 * covers, since `--range 5:3` looks like a small range and is almost the whole ring. A range ending at the
 * smallest token (the last vnode range) reaches the end of the ring without wrapping past it.
 */
export function wrapNotes(ranges: readonly TokenRange[]): string[] {
  return ranges
    .filter((range) => range.start > range.end && range.end !== MIN_TOKEN)
    .map(
      (range) =>
        `--range ${range.start}:${range.end} wraps around the ring (START is greater than END): it repairs (${range.start}, ${MAX_TOKEN}] and (${MIN_TOKEN}, ${range.end}]`,
    );
}

function seconds(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 120 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** "3/16 ranges, 42s elapsed, about 3m40s left" — the estimate assumes the remaining ranges take as long. */
export function progressText(table: string, done: number, total: number, elapsedMs: number): string {
  const estimate = done > 0 && done < total ? `, about ${seconds((elapsedMs / done) * (total - done))} left` : '';
  return `repairing ${table}: ${done}/${total} ranges, ${seconds(elapsedMs)} elapsed${estimate}`;
}

function present(report: RepairTableReport, deps: Pick<CommandDeps, 'out'>): void {
  const { error, ...printable } = report;
  void error;
  deps.out.data(printable, () =>
    deps.out.table(
      [
        { header: 'TABLE', value: (r: RepairTableReport) => `${r.keyspace}.${r.table}` },
        { header: 'STATUS', value: (r) => r.status },
        { header: 'TYPE', value: (r) => (r.incremental ? 'incremental' : 'full') },
        { header: 'PARALLELISM', value: (r) => r.parallelism },
        { header: 'RANGES', value: (r) => `${r.rangesRepaired}/${r.ranges}` },
        { header: 'DURATION', value: (r) => seconds(r.finishedAt - r.startedAt) },
        { header: 'EXECUTOR', value: (r) => r.executor },
        { header: 'MESSAGE', value: (r) => r.message },
      ],
      [report],
    ),
  );
}

const table = defineCommand<RepairTableCommandOptions>({
  path: ['repair', 'table'],
  summary: 'repair one table now, under the same lease as the schedule',
  description:
    "Repairs KEYSPACE.TABLE from the node tend acts for, through the configured executor (nodetool or Jolokia), and records the outcome in tend's history like a scheduled task. Without --range every range the node replicates is repaired in one call; each --range START:END (repeatable) is the token range (START, END] as Cassandra writes it, cut at vnode boundaries, and must be replicated by this node; a START greater than END wraps around the ring, as in Cassandra: 5:3 is (5, 9223372036854775807] plus (-9223372036854775808, 3], almost the whole ring (a note on stderr says so). Full repair unless --incremental (or the table's repair.type is incremental). The lease is the one `schedule tick` takes (lease.scope): when another node holds it the command exits 4, or waits for it with --wait. On a terminal a spinner shows ranges done of total, time elapsed and an estimate. The repair is stopped on the node too after repair.taskTimeout, on SIGINT/SIGTERM (exit 130) and when the lease is lost (exit 1). With a group configuration (nodes:), --node names the covered node to repair from, through its own executor endpoint (exit 2 without it, or for a node the group does not cover).",
  arguments: [{ name: 'KEYSPACE.TABLE', description: 'the table to repair', required: true }],
  options: [
    {
      flags: '--range <START:END>',
      description:
        'repair only the token range (START, END] (repeatable), e.g. --range=-9223372036854775808:0; START > END wraps around the ring',
      repeatable: true,
    },
    { flags: '--full', description: 'full repair (the default unless repair.type is incremental)' },
    { flags: '--incremental', description: 'incremental repair: only data not yet marked repaired' },
    {
      flags: '--parallelism <P>',
      description: 'validation parallelism (default: repair.parallelism)',
      choices: PARALLELISM,
    },
    {
      flags: '--wait',
      description:
        'wait for the lease instead of exiting 4 when another node holds it (at most schedule.maxDuration + repair.taskTimeout + lease.ttl)',
    },
    NODE_OPTION,
  ],
  examples: [
    { command: 'tend repair table shop.orders', description: 'Full repair of every range this node replicates.' },
    {
      command: 'tend repair table shop.orders --range=-9223372036854775808:-4611686018427387904 --wait',
      description: 'One token range, waiting for the lease if the schedule holds it.',
    },
    { command: 'tend repair table shop.events --incremental --json', description: 'Incremental, summary as JSON.' },
    {
      command: 'tend repair table shop.orders --node 10.0.1.12',
      description: "From a management host (nodes:), through node 10.0.1.12's agent.",
    },
  ],
  exitCodes: [
    ExitCode.Failure,
    ExitCode.Config,
    ExitCode.LeaseUnavailable,
    ExitCode.ClusterUnavailable,
    ExitCode.RepairFailed,
    ExitCode.Interrupted,
  ],
  parse(args, opts) {
    // Checked before anything connects: `ks`, `ks.t.x` and '' are usage errors even when Cassandra is down.
    const name = tableArgument(args[0]).text;
    if (opts.full === true && opts.incremental === true) {
      throw new UsageError('--full and --incremental exclude each other');
    }
    const raw = opts.range === undefined ? [] : Array.isArray(opts.range) ? opts.range : [opts.range];
    const ranges = raw.map((text) => {
      try {
        return parseTokenRange(String(text));
      } catch (error) {
        if (error instanceof TokenFormatError) throw new UsageError(`--range: ${error.message}`);
        throw error;
      }
    });
    for (const range of ranges) {
      if (range.start === range.end) {
        throw new UsageError(`--range: start and end are equal (${range.start}); Cassandra refuses such a range`);
      }
    }
    return {
      table: name,
      ranges,
      incremental: opts.incremental === true ? true : opts.full === true ? false : undefined,
      parallelism: opts.parallelism as RepairParallelism | undefined,
      wait: opts.wait === true,
      node: nodeArgument(opts.node),
    };
  },
  timeBound: (config, options) => repairTableBound(config, options.wait),
  async run(options, deps) {
    for (const note of wrapNotes(options.ranges)) deps.out.info(note);
    const { withActingNodes } = await import('../../app/cluster-session.js');
    const { repairTable } = await import('../../app/repair-table.js');
    const spinner = deps.out.spinner(`repairing ${options.table}`);
    let report: RepairTableReport;
    try {
      // One node: the configured one, or with nodes: the one --node names (without it, a usage error).
      const [done] = await withActingNodes(deps, { node: options.node, without: 'refuse' }, (client, config) =>
        repairTable(
          {
            config,
            secret: deps.secret,
            out: deps.out,
            signal: deps.signal,
            onProgress: (progress, elapsedMs) =>
              spinner.update(progressText(options.table, progress.rangesDone, progress.rangesTotal, elapsedMs)),
          },
          client,
          options,
        ),
      );
      report = done!.result;
    } catch (error) {
      spinner.fail(`repair of ${options.table} did not run: ${(error as Error).message}`);
      throw error;
    }
    const line = `${report.keyspace}.${report.table}: ${report.status}, ${report.rangesRepaired}/${report.ranges} ranges in ${seconds(report.finishedAt - report.startedAt)}`;
    if (report.status === 'success') spinner.succeed(line);
    else spinner.fail(`${line}: ${report.message}`);
    present(report, deps);
    if (report.error) throw report.error;
  },
});

export const repairModule: CommandModule = {
  group: { name: 'repair', summary: 'ad hoc repairs' },
  commands: [table],
};
