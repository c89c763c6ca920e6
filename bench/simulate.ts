// bench/simulate: a simulated 30-node cluster repaired by tend's real planner, the tick's decisions and the real
// lease functions, on a simulated clock (issue 14, item 4).
//
//   npm run bench:simulate [-- --seed 14 --steady-intervals 3 --max-tasks 10 ...]   (--help lists the options)
//
// One run, deterministic from its seed. It prints the time until every range of every table was repaired once
// from scratch against a lower bound (bench/simulate/bound.ts says how it is computed), the lease operations per
// table repaired, the rows a tick reads, the oldest table's age at steady state, and the repairs that shared a
// replica (which must be none: the bench exits 1 otherwise, and when a lease expired under a running repair).
//
// The npm script preloads bench/simulate/placement-cache-register.mjs, which gives src/core a cached
// computePlacement (see placement-cache.ts); without it the run is the same, only much slower.
import { parseArgs } from 'node:util';
import { computePlacement, type KeyspaceReplication } from '../src/core/index.js';
import { computePlacement as computePlacementUncached } from '../src/core/ring.js';
import { parseDuration, parseSize } from '../src/config/units.js';
import { simulate, type SimulationOptions } from './simulate/cluster.js';
import { DEFAULT_OPTIONS, MEDIUM_SHAPE, SMALL_SHAPE } from './simulate/options.js';
import type { PlacementCacheStats } from './simulate/placement-cache.js';
import { formatReport, summarize } from './simulate/report.js';
import { buildShape } from './simulate/shape.js';

const HELP = `bench/simulate: a simulated cluster repaired by tend's planner, tick decisions and leases

  --shape large|medium|small large: 30 nodes × 256 vnodes, 1,000 tables (default); medium: the same 30 nodes at
                             16 vnodes, 100 tables (minutes of CPU); small: the unit test's shape
  --seed N                   tokens, sizes and timer delays (default ${DEFAULT_OPTIONS.shape.seed})
  --vnodes N                 num_tokens of every node instead of the shape's (large: 256); fewer runs faster
  --steady-intervals N       intervals simulated after the first full repair (default ${DEFAULT_OPTIONS.steadyIntervals})
  --max-tasks N              schedule.maxTasks (default ${DEFAULT_OPTIONS.limits.maxTasks})
  --max-duration DUR         schedule.maxDuration (default 1h)
  --replan-pause DUR|off     schedule.replan.pause (default 30s; off: schedule.replan.enabled false)
  --small-table-size SIZE    repair.smallTableSize (default 1GiB; 0B: every table range by range)
  --tables-per-command N     repair.tablesPerCommand (default ${DEFAULT_OPTIONS.limits.tablesPerCommand})
  --candidates N             schedule.candidates: plan N tasks, start at most maxTasks of them (default
                             ${DEFAULT_OPTIONS.limits.candidates}; 10 or less: the plan holds maxTasks tasks)
  --plan-order               no lease listing: every planned task attempted in plan order (tend before
                             schedule.candidates; with --candidates 10, exactly as before)
  --scope node|datacenter    lease.scope (default node)
  --per-resource N           lease.perResource (default 1)
  --slots N                  lease.slotsPerDatacenter (default 1)
  --ttl DUR, --renew-every DUR   lease.ttl (10m), lease.renewEvery (1m)
  --command-time DUR         fixed cost of a repair command (default 1s)
  --table-time DUR           cost per table in a command (default 330ms)
  --throughput SIZE          bytes of one replica validated per second (default 50MiB)
  --max-simulated DUR        give up on the first full repair after this much simulated time (default 60d)
  --verify-idle-every N      plan every n-th idle tick for real as a check (default ${DEFAULT_OPTIONS.verifyIdleEvery}; 0: never)
  prototypes of changes to tend (not what it does today):
  --keep-announcements       a node that could not take its leases leaves its announcement until announcementTtl
  --read-per-pass N          read at most N of the tables tablesToRead names per pass of the plan loop
  --follow-next-only         only the next planned task may follow on the leases held (tend before
                             chooseFollower, which takes the first pending task they cover)
  --narrow                   as a task follows on a subset of the held leases, release the ones it does not need
  --attempt-when-none-free   when the lease listing shows no planned task free, attempt the first anyway (an
                             earlier prototype of the listing: the same schedule, far more lease operations)
  --retry-refused DUR        a tick pauses DUR after a pass over its plan and tries its refused tasks again
                             (those still due), until they ran or maxDuration passed`;

const { values } = parseArgs({
  options: {
    help: { type: 'boolean' },
    shape: { type: 'string' },
    seed: { type: 'string' },
    vnodes: { type: 'string' },
    'steady-intervals': { type: 'string' },
    'max-tasks': { type: 'string' },
    'max-duration': { type: 'string' },
    'small-table-size': { type: 'string' },
    'tables-per-command': { type: 'string' },
    scope: { type: 'string' },
    'per-resource': { type: 'string' },
    slots: { type: 'string' },
    ttl: { type: 'string' },
    'renew-every': { type: 'string' },
    'command-time': { type: 'string' },
    'table-time': { type: 'string' },
    throughput: { type: 'string' },
    'verify-idle-every': { type: 'string' },
    'max-simulated': { type: 'string' },
    'keep-announcements': { type: 'boolean' },
    'plan-order': { type: 'boolean' },
    'follow-next-only': { type: 'boolean' },
    narrow: { type: 'boolean' },
    'attempt-when-none-free': { type: 'boolean' },
    'read-per-pass': { type: 'string' },
    candidates: { type: 'string' },
    'replan-pause': { type: 'string' },
    'retry-refused': { type: 'string' },
  },
});
if (values.help) {
  console.log(HELP);
  process.exit(0);
}

function count(name: string, text: string | undefined, fallback: number, min = 1): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new Error(`--${name} needs a whole number ≥ ${min}`);
  return value;
}
function duration(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = parseDuration(text);
  if (value === undefined) throw new Error(`--${name} needs a duration like 90s, 30m or 7d`);
  return value;
}
function size(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = parseSize(text);
  if (value === undefined) throw new Error(`--${name} needs a size like 200MiB or 1GiB`);
  return value;
}

const d = DEFAULT_OPTIONS;
if (values.shape !== undefined && !['large', 'medium', 'small'].includes(values.shape)) {
  throw new Error('--shape is large, medium or small');
}
if (values.scope !== undefined && values.scope !== 'node' && values.scope !== 'datacenter') {
  throw new Error('--scope is node or datacenter');
}
const shape = values.shape === 'small' ? SMALL_SHAPE : values.shape === 'medium' ? MEDIUM_SHAPE : d.shape;
const options: SimulationOptions = {
  ...d,
  shape: {
    ...shape,
    seed: count('seed', values.seed, shape.seed, 0),
    vnodes: count('vnodes', values.vnodes, shape.vnodes),
  },
  steadyIntervals: count('steady-intervals', values['steady-intervals'], d.steadyIntervals, 0),
  verifyIdleEvery: count('verify-idle-every', values['verify-idle-every'], d.verifyIdleEvery, 0),
  maxSimulatedMs: duration('max-simulated', values['max-simulated'], d.maxSimulatedMs),
  limits: {
    maxTasks: count('max-tasks', values['max-tasks'], d.limits.maxTasks),
    maxDurationMs: duration('max-duration', values['max-duration'], d.limits.maxDurationMs),
    smallTableBytes: size('small-table-size', values['small-table-size'], d.limits.smallTableBytes),
    tablesPerCommand: count('tables-per-command', values['tables-per-command'], d.limits.tablesPerCommand),
    freeFirst: !values['plan-order'],
    candidates: count('candidates', values.candidates, d.limits.candidates ?? 0, 0),
    followNextOnly: values['follow-next-only'] ?? false,
    narrowOnFollow: values.narrow ?? false,
    stopWhenNoneFree: !values['plan-order'] && !values['attempt-when-none-free'],
    replanPauseMs:
      values['replan-pause'] === 'off'
        ? undefined
        : duration('replan-pause', values['replan-pause'], d.limits.replanPauseMs ?? 0),
  },
  lease: {
    ...d.lease,
    scope: (values.scope as 'node' | 'datacenter' | undefined) ?? d.lease.scope,
    perResource: count('per-resource', values['per-resource'], d.lease.perResource),
    slotsPerDatacenter: count('slots', values.slots, d.lease.slotsPerDatacenter),
    ttlMs: duration('ttl', values.ttl, d.lease.ttlMs),
    renewEveryMs: duration('renew-every', values['renew-every'], d.lease.renewEveryMs),
  },
  cost: {
    ...d.cost,
    commandMs: duration('command-time', values['command-time'], d.cost.commandMs),
    tableMs: duration('table-time', values['table-time'], d.cost.tableMs),
    bytesPerSecond: size('throughput', values.throughput, d.cost.bytesPerSecond),
  },
  prototypes: {
    keepAnnouncementOnFailure: values['keep-announcements'] ?? false,
    ...(values['read-per-pass'] !== undefined
      ? { readPerPass: count('read-per-pass', values['read-per-pass'], 0) }
      : {}),
    ...(values['retry-refused'] !== undefined
      ? { retryRefusedMs: duration('retry-refused', values['retry-refused'], 0) }
      : {}),
  },
};

// The cache must give exactly what the computation gives: compare once on this run's ring.
// (Not imported: importing placement-cache.ts would load it even without the hook.)
const cache = (globalThis as Record<symbol, PlacementCacheStats | undefined>)[
  Symbol.for('tend.simulate.placementCache')
];
if (cache) {
  const { ring, nodes, keyspaces } = buildShape(options.shape);
  const replication: KeyspaceReplication = Object.values(keyspaces)[0]!;
  const cached = computePlacement(ring, replication, nodes[0]!.hostId);
  const fresh = computePlacementUncached(ring, replication, nodes[0]!.hostId);
  if (JSON.stringify(cached) !== JSON.stringify(fresh) || computePlacement(ring, replication) !== cached) {
    throw new Error('the placement cache does not return what computePlacement computes');
  }
}

const startedAt = performance.now();
const cpuBefore = process.cpuUsage();
const result = await simulate({
  ...options,
  progress: {
    every: 6 * 3_600_000,
    report: (p) => {
      const cpu = process.cpuUsage(cpuBefore);
      process.stderr.write(
        `  … ${((p.at - options.start) / 3_600_000).toFixed(0)} h simulated, ${p.neverRepaired.toLocaleString('en-US')} ` +
          `table-ranges never repaired, ${p.readingTicks.toLocaleString('en-US')} reading ticks, ` +
          `${p.tasksRun.toLocaleString('en-US')} tasks; ${((performance.now() - startedAt) / 1000).toFixed(0)} s wall, ` +
          `${((cpu.user + cpu.system) / 1e6).toFixed(0)} s CPU\n`,
      );
    },
  },
  // The steady state takes as long again per interval: print the first full repair as soon as it is reached.
  onFirstFullRepair: (scratch) => {
    console.log('tend bench/simulate: the first full repair (the steady state follows)');
    for (const line of formatReport(scratch, summarize(scratch))) console.log(line ? `  ${line}` : '');
    console.log(`  so far             ${((performance.now() - startedAt) / 1000).toFixed(1)} s wall\n`);
  },
});
const wallMs = performance.now() - startedAt;
const cpu = process.cpuUsage(cpuBefore);
const summary = summarize(result);

console.log('tend bench/simulate');
for (const line of formatReport(result, summary)) console.log(line ? `  ${line}` : '');
console.log('');
console.log(
  `  run time           ${(wallMs / 1000).toFixed(1)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU, ` +
    `${result.events.toLocaleString('en-US')} events, peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB, ` +
    `node ${process.version}` +
    (cache
      ? `; placement cache ${cache.hits.toLocaleString('en-US')} hits, ${cache.misses} misses ` +
        `(${(cache.computeMs / cache.misses || 0).toFixed(0)} ms per computation)`
      : '; no placement cache (run through npm run bench:simulate for it)'),
);

const failures: string[] = [];
if (options.lease.scope === 'node' && result.overlaps > 0) failures.push(`${result.overlaps} overlapping repairs`);
if (result.lostLeases > 0) failures.push(`${result.lostLeases} leases lost under a running repair`);
if (result.firstFullRepairAt === null) failures.push('the first full repair was not reached');
if (failures.length > 0) {
  console.log(`  FAILED             ${failures.join('; ')}`);
  process.exit(1);
}
