// Figures of a simulation run, and the text the bench prints.
import { formatDuration } from '../../src/core/index.js';
import { lowerBound, type LowerBound } from './bound.js';
import type { PhaseFigures, SimulationResult } from './cluster.js';
import type { LeaseCounts } from './counting-backend.js';

export interface Spread {
  readonly count: number;
  readonly median: number;
  readonly max: number;
}

export interface SteadySummary {
  readonly windowMs: number;
  /** The largest age any table's oldest range reached in the window, and which table. */
  readonly maxAgeMs: number;
  readonly oldestTable: string;
  readonly medianMaxAgeMs: number;
  /** Tables whose oldest range got older than the interval / warn / error alarm in the window. */
  readonly overInterval: number;
  readonly overWarn: number;
  readonly overError: number;
  /** Tables whose oldest range got older than gc_grace_seconds in the window (deleted data could come back). */
  readonly overGcGrace: number;
  /** The oldest table's age at the end of the run. */
  readonly endMaxAgeMs: number;
}

export interface Summary {
  readonly firstFullRepairMs: number | null;
  readonly bound: LowerBound;
  /** bound ÷ achieved time of the first full repair (1 is perfect). */
  readonly ratio: number | null;
  /** The bound for the commands the run actually made: Σ whole-table + Σ range ÷ maxDisjoint. */
  readonly packingBoundMs: number;
  readonly packingRatio: number | null;
  /** Lease operations per table repaired once: the first full repair ÷ tables; the steady state ÷ tables ÷ intervals. */
  readonly leasePerTable: { readonly scratch: LeaseCounts; readonly steady: LeaseCounts | null };
  readonly rows: {
    readonly idle: Spread;
    readonly busy: Spread;
    readonly busyTablesRead: Spread;
    readonly planMs: Spread;
    readonly planCalls: Spread;
  };
  readonly steady: SteadySummary | null;
}

export function spread(values: readonly number[]): Spread {
  if (values.length === 0) return { count: 0, median: NaN, max: NaN };
  const sorted = [...values].sort((a, b) => a - b);
  return { count: values.length, median: sorted[Math.floor((sorted.length - 1) / 2)]!, max: sorted.at(-1)! };
}

function perTable(counts: LeaseCounts, divisor: number): LeaseCounts {
  if (divisor <= 0) divisor = NaN;
  const out = { ...counts } as Record<string, number>;
  for (const key of Object.keys(out)) out[key] = out[key]! / divisor;
  return out as unknown as LeaseCounts;
}

/** The bound of a run's shape, computed once (the cover search and the ideal scheduler take seconds at 30 nodes). */
const bounds = new WeakMap<SimulationResult['shape'], LowerBound>();

export function summarize(result: SimulationResult): Summary {
  const { shape, options } = result;
  let bound = bounds.get(shape);
  if (!bound) bounds.set(shape, (bound = lowerBound(shape, options.cost, options.limits)));
  const firstFullRepairMs = result.firstFullRepairAt === null ? null : result.firstFullRepairAt - result.start;
  const scratch = result.phases.scratch;
  const packingBoundMs = bound.wholeTableExclusive
    ? scratch.repairs.wholeTableMs + scratch.repairs.rangeMs / bound.maxDisjointRangeCommands
    : Math.max(
        scratch.repairs.wholeTableMs,
        (scratch.repairs.wholeTableMs + scratch.repairs.rangeMs) / bound.maxDisjointRangeCommands,
      );
  const tables = shape.tables.length;
  const steadyPhase = result.phases.steady;
  const intervals = steadyPhase ? (steadyPhase.toMs - steadyPhase.fromMs) / options.shape.intervalMs : 0;
  let steady: SteadySummary | null = null;
  if (result.steady) {
    const { maxAgeByTable, endAgeByTable } = result.steady;
    let oldest = 0;
    maxAgeByTable.forEach((age, i) => {
      if (age > maxAgeByTable[oldest]!) oldest = i;
    });
    const count = (limit: number) => maxAgeByTable.filter((age) => age > limit).length;
    steady = {
      windowMs: result.steady.toMs - result.steady.fromMs,
      maxAgeMs: maxAgeByTable[oldest]!,
      oldestTable: shape.tables[oldest]!.key,
      medianMaxAgeMs: spread([...maxAgeByTable]).median,
      overInterval: count(options.shape.intervalMs),
      overWarn: count(options.shape.warnMs),
      overError: count(options.shape.errorMs),
      overGcGrace: count(options.shape.gcGraceMs),
      endMaxAgeMs: Math.max(...endAgeByTable),
    };
  }
  return {
    firstFullRepairMs,
    bound,
    ratio: firstFullRepairMs === null ? null : bound.boundMs / firstFullRepairMs,
    packingBoundMs,
    packingRatio: firstFullRepairMs === null ? null : packingBoundMs / firstFullRepairMs,
    leasePerTable: {
      scratch: perTable(scratch.lease, tables),
      steady: steadyPhase && intervals > 0 ? perTable(steadyPhase.lease, tables * intervals) : null,
    },
    rows: {
      idle: spread(result.rows.idle),
      busy: spread(result.rows.busy),
      busyTablesRead: spread(result.rows.busyTablesRead),
      planMs: spread(result.rows.planMs),
      planCalls: spread(result.rows.planCalls),
    },
    steady,
  };
}

const hours = (ms: number) => `${(ms / 3_600_000).toFixed(2)} h`;
const pct = (part: number, whole: number) => `${whole > 0 ? ((100 * part) / whole).toFixed(1) : '0.0'} %`;
const fixed = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const int = (n: number) => Math.round(n).toLocaleString('en-US');

function leaseLine(counts: LeaseCounts): string {
  const total =
    counts.slotAttempts +
    counts.renewals +
    counts.releases +
    counts.announcements +
    counts.withdrawals +
    counts.announcementReads;
  return (
    `${fixed(total)} in all: ${fixed(counts.slotAttempts)} slot attempts (${fixed(counts.slotsTaken)} taken), ` +
    `${fixed(counts.releases)} releases, ${fixed(counts.renewals)} renewals, ${fixed(counts.announcements)} announcements, ` +
    `${fixed(counts.withdrawals)} withdrawals, ${fixed(counts.announcementReads)} announcement reads` +
    (counts.listings > 0 ? ` (and ${fixed(counts.listings)} lease listings, reads not counted in the total)` : '')
  );
}

function phaseLines(name: string, phase: PhaseFigures, nodes: number): string[] {
  const span = phase.toMs - phase.fromMs;
  const { ticks, repairs, time } = phase;
  const nodeTime =
    time.nodeReading +
    time.nodeCoordinating +
    time.nodePause +
    time.nodeAfterMaxTasks +
    time.nodeAfterMaxDuration +
    time.nodeAfterNothingLeft +
    time.nodeBeforeFirstTick;
  return [
    `${name} (${hours(span)})`,
    `  repairs            ${int(repairs.wholeTableCommands)} whole-table commands (${hours(repairs.wholeTableMs)}), ` +
      `${int(repairs.rangeCommands)} range commands (${hours(repairs.rangeMs)}); ` +
      `${int(repairs.tableRanges)} table-ranges repaired, ${pct(repairs.notDue, repairs.tableRanges)} of them not due`,
    `  cluster time       repairs running ${pct(time.repairing, span)} (whole-table ${pct(time.wholeTable, span)}), ` +
      `mean running ${fixed(time.repairConcurrency / Math.max(1, span), 2)}; no repair: all nodes waiting for ` +
      `their timer ${pct(time.idleNoTick, span)}, ticks starting/reading ${pct(time.idleReading, span)}, ` +
      `other ${pct(time.idleOther, span)}`,
    `  replicas           mean ${fixed(time.replicaBusy / Math.max(1, span), 1)} of ${nodes} nodes in a running repair ` +
      `(${pct(time.replicaBusy, span * nodes)} of node time)`,
    `  node time          by what each node's tend does: coordinating (taking leases, running its repairs) ` +
      `${pct(time.nodeCoordinating, nodeTime)}, reading and planning ${pct(time.nodeReading, nodeTime)}, ` +
      `replan pause ${pct(time.nodePause, nodeTime)}; no tick, the last one ended by maxTasks ` +
      `${pct(time.nodeAfterMaxTasks, nodeTime)}, by maxDuration ${pct(time.nodeAfterMaxDuration, nodeTime)}, ` +
      `with nothing left to start ${pct(time.nodeAfterNothingLeft, nodeTime)}, before the first tick ` +
      `${pct(time.nodeBeforeFirstTick, nodeTime)}`,
    `  ticks              ${int(ticks.busy)} reading, ${int(ticks.idle)} idle, ${int(ticks.skippedFirings)} firings skipped ` +
      `(tick still running)${ticks.replans > 0 ? `, ${int(ticks.replans)} plans made again within a tick (schedule.replan)` : ''}` +
      `${ticks.retries > 0 ? `, ${int(ticks.retries)} rounds of retrying refused tasks` : ''}; ` +
      `${int(ticks.tasksPlanned)} tasks planned, ${int(ticks.tasksRun)} ran ` +
      `(${int(ticks.kept)} on kept leases${ticks.keptOutOfOrder > 0 ? `, ${int(ticks.keptOutOfOrder)} of them out of plan order` : ''}${ticks.choseFree > 0 ? `, ${int(ticks.choseFree)} chosen ahead of busy ones` : ''}); refused: ${int(ticks.heldElsewhere)} held elsewhere, ` +
      `${int(ticks.outranked)} outranked; ${int(ticks.notStartedDeadline)} not started (maxDuration)`,
    `  tick endings       ${int(ticks.ranWholePlan)} ran their whole plan, ${int(ticks.allRefused)} ran nothing ` +
      `(every lease refused), ${int(ticks.hitMaxDuration)} hit maxDuration`,
  ];
}

/** The report, one line per figure. */
export function formatReport(result: SimulationResult, summary: Summary): string[] {
  const { shape, options } = result;
  const { bound } = summary;
  const o = options.shape;
  const ms = (n: number) => formatDuration(n);
  const lines: string[] = [];
  lines.push(
    `shape              ${shape.nodes.length} nodes (${o.datacenters} DC × ${o.nodesPerDatacenter}, ` +
      `${o.racksPerDatacenter} racks each), ${o.vnodes} vnodes, NetworkTopologyStrategy ${o.replicasPerDatacenter} ` +
      `per DC, ${shape.tables.length} tables in ${o.keyspaces} keyspaces, seed ${o.seed}`,
    `                   ${shape.ring.ranges.length} ranges, ${bound.replicaSets} replica sets; a node replicates ` +
      `${Math.min(...shape.simulatedNodes.map((n) => n.localRanges.length))}–` +
      `${Math.max(...shape.simulatedNodes.map((n) => n.localRanges.length))} ranges`,
    `table sizes        per copy, log-uniform: ` +
      o.sizes.map((b) => `${b.count} of ${formatBytes(b.min)}–${formatBytes(b.max)}`).join(', ') +
      `; ${bound.tables.whole} repaired whole on every node, ${bound.tables.ranges} range by range, ` +
      `${bound.tables.mixed} whole on some nodes only`,
    `config             interval ${ms(o.intervalMs)}, warn ${ms(o.warnMs)}, error ${ms(o.errorMs)}, ` +
      `smallTableSize ${formatBytes(options.limits.smallTableBytes)}, tablesPerCommand ${options.limits.tablesPerCommand}, ` +
      `maxTasks ${options.limits.maxTasks}${options.limits.freeFirst ? ' (free tasks first)' : ''}, maxDuration ${ms(options.limits.maxDurationMs)}, replan ` +
      `${options.limits.replanPauseMs === undefined ? 'off' : `after ${ms(options.limits.replanPauseMs)}`}, lease scope ` +
      `${options.lease.scope} (${options.lease.scope === 'node' ? `perResource ${options.lease.perResource}` : `${options.lease.slotsPerDatacenter} slot(s) per DC`}), ` +
      `ttl ${ms(options.lease.ttlMs)}, renewEvery ${ms(options.lease.renewEveryMs)}, type vnode`,
    `timer              every ${ms(options.timer.periodMs)} + up to ${ms(options.timer.randomizedDelayMs)} ` +
      `(OnCalendar=*:0/5, RandomizedDelaySec=90); a firing while the tick runs is skipped`,
    `cost model         command ${ms(options.cost.commandMs)} + ${options.cost.tableMs} ms per table + bytes of one ` +
      `replica ÷ ${formatBytes(options.cost.bytesPerSecond)}/s; a tick needs ${ms(options.cost.tickStartMs)} + rows ÷ ` +
      `${int(options.cost.rowsPerSecond)}/s before its first repair`,
  );
  const prototypes = Object.entries(options.prototypes ?? {}).filter(([, v]) => v !== undefined && v !== false);
  if (prototypes.length > 0) {
    lines.push(`PROTOTYPES         ${prototypes.map(([k, v]) => `${k}=${String(v)}`).join(', ')} (not what tend does)`);
  }
  lines.push('');
  lines.push(
    `lower bound        ${hours(bound.boundMs)} = ${bound.formula}`,
    `                   W_range ${hours(bound.rangeWorkMs)}: one command per replica set per range-by-range table ` +
      `(${bound.replicaSets} × ${bound.tables.ranges} tables), at most ${bound.maxDisjointRangeCommands} replica-disjoint at once`,
    `                   W_whole ${hours(bound.wholeWorkMs)}: ${bound.minCover.nodes} whole-table commands per keyspace ` +
      `(the fewest nodes whose ranges cover the ring${bound.minCover.exact ? ', exact' : ', a lower bound: the search gave up'}); ` +
      `a whole-table command touches ${bound.wholeTableReplicas.min}–${bound.wholeTableReplicas.max} of ` +
      `${shape.nodes.length} nodes${bound.wholeTableExclusive ? ' and leaves no replica set free' : ''}`,
  );
  const ideal = bound.idealRange;
  lines.push(
    `ideal scheduler    ${hours(bound.idealMs)}: not a bound, what a central greedy scheduler without timers, leases ` +
      `or planning reaches with the same commands (range commands in ${hours(ideal.makespanMs)}, ` +
      `${fixed(ideal.boundMs / Math.max(1, ideal.makespanMs), 3)} of their W_range ÷ ${bound.maxDisjointRangeCommands}: ` +
      `replica sets do not tile the nodes)`,
  );
  if (summary.firstFullRepairMs === null) {
    lines.push(`first full repair  NOT REACHED within ${ms(options.maxSimulatedMs)}`);
  } else {
    lines.push(
      `first full repair  ${hours(summary.firstFullRepairMs)} (every range of every table, from scratch)`,
      `ratio              ${fixed(summary.ratio ?? NaN, 3)} = bound ÷ achieved (target ≥ 0.8); ideal scheduler ÷ ` +
        `achieved ${fixed(bound.idealMs / summary.firstFullRepairMs, 3)}`,
      `packing ratio      ${fixed(summary.packingRatio ?? NaN, 3)}: the same bound for the commands the run made ` +
        `(${hours(summary.packingBoundMs)}), ÷ achieved`,
    );
  }
  lines.push('', ...phaseLines('first full repair', result.phases.scratch, shape.nodes.length));
  const steadyPhase = result.phases.steady && result.phases.steady.toMs > result.phases.steady.fromMs;
  if (steadyPhase) lines.push(...phaseLines('steady state', result.phases.steady!, shape.nodes.length));
  lines.push('');
  lines.push(`lease operations per table repaired (one conditional write per slot attempt, renewal and release)`);
  lines.push(`  first full repair  ${leaseLine(summary.leasePerTable.scratch)}`);
  if (summary.leasePerTable.steady) {
    lines.push(`  steady state       ${leaseLine(summary.leasePerTable.steady)} (per table per interval)`);
  }
  const commands = (phase: PhaseFigures) => phase.repairs.wholeTableCommands + phase.repairs.rangeCommands;
  lines.push(
    `  per repair command ${leaseLine(perTable(result.phases.scratch.lease, commands(result.phases.scratch)))}`,
  );
  const { idle, busy, busyTablesRead } = summary.rows;
  lines.push(
    `rows per table a tick reads (1 system_schema row + 1 summary row per table; per table read, its local ranges ` +
      `in repair_state + the node's primary ranges in size estimates)`,
    `  idle ticks         median ${fixed(idle.median, 2)}, max ${fixed(idle.max, 2)} (${int(idle.count)} ticks; ` +
      `${int(idle.max * shape.tables.length)} rows per idle tick at most, whatever the ${int(shape.ring.ranges.length)} ranges; target ≤ 3 per table)`,
    `  reading ticks      median ${fixed(busy.median, 2)}, max ${fixed(busy.max, 2)} (${int(busy.count)} ticks; ` +
      `tables read median ${fixed(busyTablesRead.median, 0)}, max ${fixed(busyTablesRead.max, 0)})`,
    `planning per reading tick  ${fixed(summary.rows.planCalls.median, 0)} plan() calls (max ` +
      `${fixed(summary.rows.planCalls.max, 0)}), median ${fixed(summary.rows.planMs.median)} ms, max ` +
      `${fixed(summary.rows.planMs.max)} ms of wall time in this process`,
  );
  if (summary.steady && summary.steady.windowMs > 0) {
    const s = summary.steady;
    lines.push(
      `steady state       ${ms(s.windowMs)} after the first full repair: oldest table ${s.oldestTable} reached ` +
        `${ms(s.maxAgeMs)} (${fixed(s.maxAgeMs / o.intervalMs, 3)} × interval, ${fixed(s.maxAgeMs / o.gcGraceMs, 3)} × ` +
        `gc_grace ${ms(o.gcGraceMs)}; median table ${ms(s.medianMaxAgeMs)}); at the end the oldest is ${ms(s.endMaxAgeMs)}`,
      `                   tables past interval ${s.overInterval} (a range is repaired once it is due, so ≥ interval ` +
        `is by design), past warn ${s.overWarn}, past error ${s.overError}, past gc_grace ${s.overGcGrace}`,
    );
  }
  lines.push(
    `overlaps           ${result.overlaps} repairs shared a replica with a running repair` +
      (result.overlapExamples.length > 0 ? `: ${result.overlapExamples.join('; ')}` : ''),
    `leases lost        ${result.lostLeases} (expired under a running repair)`,
    `idle shortcut      ${int(result.idleTicksVerified)} idle ticks planned for real as a check, all idle`,
  );
  return lines;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)}${units[unit]}`;
}
