// The simulation's defaults: tend's shipped configuration where it has one, and a cost model with its sources.
import { DEFAULT_HISTORY_LOOKBACK_MS } from '../../src/core/index.js';
import { DEFAULT_TIMER, type CostModel, type SimulationOptions } from './cluster.js';
import { DEFAULT_SHAPE, UNITS, type ShapeOptions } from './shape.js';

const { KIB, MIB, GIB, DAY } = UNITS;
const MINUTE = 60_000;

/**
 * What a repair and a tick cost in simulated time. The figures come from this project's own measurements where it
 * has them; they are options of the bench because a real cluster's differ.
 * - commandMs 1 s: Cassandra's own time for a one-range repair of a small table was about 0.27 s on the loopback
 *   sandbox (CHANGELOG 0.1.0: the Jolokia executor's 25 ms were 9.3 % of it); a session across 9 replicas in
 *   3 DCs adds network round trips (prepare, validation requests, sync, finalise).
 * - tableMs 0.33 s: `nodetool repair -full` of a 20-table keyspace at 256 vnodes took 6.5 s (issue 14).
 * - bytesPerSecond 50 MiB/s of each replica's data: validation reads the repaired ranges of every replica in
 *   parallel (parallelism 'parallel'), on one thread per table; public operator figures put repair at 10–100 MB/s
 *   per node. Streaming is left out: the simulated replicas agree.
 * - tickStartMs 1 s and rowsPerSecond 50,000: an idle tick over 100 tables took a median of 1,008 ms on the sandbox
 *   (CHANGELOG 0.1.0); 143,770 rows were read in 2.44–3.87 s (issue 14).
 */
export const DEFAULT_COST: CostModel = {
  commandMs: 1000,
  tableMs: 330,
  bytesPerSecond: 50 * MIB,
  tickStartMs: 1000,
  rowsPerSecond: 50_000,
};

/** tend's shipped defaults (src/config/schema.ts), with lease scope node as issue 14 asks. */
export const DEFAULT_OPTIONS: SimulationOptions = {
  shape: DEFAULT_SHAPE,
  limits: {
    maxTasks: 10,
    maxDurationMs: 60 * MINUTE,
    smallTableBytes: GIB,
    tablesPerCommand: 64,
    replanPauseMs: 30_000,
    // schedule.candidates and the tick's lease listing before each claim (src/app/batch.ts).
    candidates: 100,
    freeFirst: true,
    stopWhenNoneFree: true,
  },
  lease: {
    scope: 'node',
    slotsPerDatacenter: 1,
    perResource: 1,
    ttlMs: 10 * MINUTE,
    renewEveryMs: MINUTE,
    announcementTtlMs: 10 * MINUTE,
  },
  timer: DEFAULT_TIMER,
  cost: DEFAULT_COST,
  steadyIntervals: 1,
  verifyIdleEvery: 50,
  maxSimulatedMs: 60 * DAY,
  historyLookbackMs: DEFAULT_HISTORY_LOOKBACK_MS,
  // A Monday, 00:00 UTC: a timer boundary.
  start: Date.UTC(2027, 0, 4),
};

/**
 * A shape small enough for a unit test: 6 nodes in one DC of 3 racks, RF 3, 16 vnodes, 40 tables (two range
 * commands can run at once, as three can in the large shape).
 */
export const SMALL_SHAPE: ShapeOptions = {
  datacenters: 1,
  nodesPerDatacenter: 6,
  racksPerDatacenter: 3,
  vnodes: 16,
  replicasPerDatacenter: 3,
  keyspaces: 4,
  sizes: [
    { count: 36, min: KIB, max: 64 * MIB },
    { count: 4, min: 2 * GIB, max: 20 * GIB },
  ],
  intervalMs: 7 * DAY,
  warnMs: 8 * DAY,
  errorMs: 10 * DAY,
  gcGraceMs: 10 * DAY,
  seed: 14,
};

/**
 * The large shape's topology (30 nodes in 3 DCs of 10, 3 racks each, RF 3 per DC: three range repairs at once, a
 * whole-table command alone) at 16 vnodes and 100 tables, so that a run takes minutes of CPU instead of an hour:
 * for comparing tick decisions at 30 nodes. Its commands are fewer and longer than the large shape's (307 replica
 * sets instead of 4,792).
 */
export const MEDIUM_SHAPE: ShapeOptions = {
  ...DEFAULT_SHAPE,
  vnodes: 16,
  keyspaces: 10,
  sizes: [
    { count: 95, min: KIB, max: 256 * MIB },
    { count: 3, min: GIB, max: 64 * GIB },
    { count: 2, min: 100 * GIB, max: 500 * GIB },
  ],
};
