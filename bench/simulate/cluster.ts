// The simulated cluster: every node's systemd timer, its ticks (the real planner, planning from its summaries and
// reading the tables tablesToRead names, as src/app/plan-input.ts does), the tick's decisions (tick-model.ts) with
// the real lease functions on one MemoryLeaseBackend whose clock is the simulated one, simulated repairs that take
// time, and one repair history per table that every node reads (a range repaired by anyone counts for every replica).
import {
  keyspaceFingerprints,
  nextRound,
  plan,
  summariesToStore,
  summaryBounds,
  tablesToRead,
  type Plan,
  type PlanInput,
  type RepairTask,
  type TableHistory,
  type TableSettings,
  type TableSize,
  type TableSummary,
} from '../../src/core/index.js';
import { MemoryLeaseBackend } from '../../src/lease/memory.js';
import type { HeldLease } from '../../src/lease/types.js';
import { prng } from '../../test/unit/core/synthetic.js';
import { commandDurationMs, type RepairCost } from './bound.js';
import { CountingLeaseBackend, type LeaseCounts } from './counting-backend.js';
import { SimulatedClock } from './events.js';
import { ReplicaOccupancy } from './occupancy.js';
import { buildShape, localSize, type Shape, type ShapeOptions, type SimulatedNode } from './shape.js';
import { carryOutTasks, type LeaseSettings, type TickModelResult } from './tick-model.js';

const MINUTE = 60_000;

export interface CostModel extends RepairCost {
  /** A tick's fixed cost before it can act: process start, connect, topology (ms). */
  readonly tickStartMs: number;
  /** Rows a tick reads per second (summaries, repair_state, size estimates). */
  readonly rowsPerSecond: number;
}

export interface SimulationOptions {
  readonly shape: ShapeOptions;
  readonly limits: {
    readonly maxTasks: number;
    readonly maxDurationMs: number;
    readonly smallTableBytes: number;
    readonly tablesPerCommand: number;
    /** schedule.replan: the pause before a tick plans again after a refused lease; undefined: off. */
    readonly replanPauseMs?: number | undefined;
    /**
     * The tick tries first the planned task whose leases nobody else holds (core chooseNextTask, one lease listing
     * before each claim) instead of plan order, as src/app/batch.ts does in a node's tick.
     */
    readonly freeFirst?: boolean;
    /**
     * Only the next task in plan order may follow on the leases held (tend before chooseFollower); default: the
     * first pending task they cover.
     */
    readonly followNextOnly?: boolean;
    /** As a task follows on a subset of the held leases, release the ones it does not need. */
    readonly narrowOnFollow?: boolean;
    /**
     * With freeFirst: when the lease listing shows no pending task free, end the round without attempts (what
     * src/app/batch.ts does; false: a prototype that attempts the first one anyway, as an earlier session measured).
     */
    readonly stopWhenNoneFree?: boolean;
    /** schedule.candidates: plan this many tasks and start at most maxTasks of them. */
    readonly candidates?: number;
  };
  readonly lease: LeaseSettings;
  /** OnCalendar period and RandomizedDelaySec of tend.timer. */
  readonly timer: { readonly periodMs: number; readonly randomizedDelayMs: number };
  readonly cost: CostModel;
  /** After the first full repair, simulate this many intervals more (the steady state). */
  readonly steadyIntervals: number;
  /** Plan every n-th idle tick for real too, and fail when it is not idle (the shortcut's check). */
  readonly verifyIdleEvery: number;
  /** Stop (and report the first full repair as not reached) after this much simulated time. */
  readonly maxSimulatedMs: number;
  readonly historyLookbackMs: number;
  /** Where the simulated clock starts (a timer boundary). */
  readonly start: number;
  /** Told every `every` ms of simulated time how far the run got (the bench prints it on stderr). */
  readonly progress?: { readonly every: number; readonly report: (progress: Progress) => void };
  /** Told the figures up to the first full repair as soon as it is reached (a long steady state follows). */
  readonly onFirstFullRepair?: (result: SimulationResult) => void;
  /** Prototypes of changes to tend, measured here; none is what tend does today. */
  readonly prototypes?: {
    readonly keepAnnouncementOnFailure?: boolean;
    /** Read at most this many of the tables tablesToRead names per pass of the plan loop. */
    readonly readPerPass?: number;
    /**
     * A tick that, when leases were refused, pauses this long (ms) and tries the refused tasks again (those still
     * due by the history then), until they ran or maxDuration passed, instead of leaving them to its next timer.
     */
    readonly retryRefusedMs?: number;
  };
}

export interface Progress {
  readonly at: number;
  /** (table, range) pairs never repaired yet. */
  readonly neverRepaired: number;
  readonly readingTicks: number;
  readonly tasksRun: number;
}

/** Figures of a stretch of simulated time. */
export interface PhaseFigures {
  readonly fromMs: number;
  readonly toMs: number;
  readonly lease: LeaseCounts;
  readonly ticks: TickCounts;
  readonly repairs: RepairCounts;
  readonly time: TimeShares;
}

export interface TickCounts {
  idle: number;
  busy: number;
  /** Timer firings while the node's previous tick still ran (systemd starts nothing then). */
  skippedFirings: number;
  /** Busy ticks whose tasks all met a lease held elsewhere (or an outranking announcement). */
  allRefused: number;
  /** Busy ticks that left tasks unstarted because maxDuration passed. */
  hitMaxDuration: number;
  /** Busy ticks that ran every task of their plan (ended by maxTasks when the plan was full). */
  ranWholePlan: number;
  /** schedule.replan: plans made again within a tick after a refused lease. */
  replans: number;
  /** Prototype retryRefusedMs: rounds of retrying refused tasks. */
  retries: number;
  tasksPlanned: number;
  tasksRun: number;
  kept: number;
  /** Tasks kept that were not the next in plan order (chooseFollower). */
  keptOutOfOrder: number;
  /** Claims of a task chosen ahead of busy ones (freeFirst). */
  choseFree: number;
  heldElsewhere: number;
  outranked: number;
  notStartedDeadline: number;
}

export interface RepairCounts {
  wholeTableCommands: number;
  rangeCommands: number;
  /** Sum of the durations of each kind (ms). */
  wholeTableMs: number;
  rangeMs: number;
  /** (table, range) pairs repaired, and of those the ones that were not due (repaired again within the interval). */
  tableRanges: number;
  notDue: number;
}

/** How simulated time was spent (ms), from the cluster's point of view. */
export interface TimeShares {
  /** ∫ running repairs dt. */
  repairConcurrency: number;
  /** Some repair runs. */
  repairing: number;
  /** A whole-table command runs. */
  wholeTable: number;
  /** No repair runs and no tick is under way: every node waits for its timer. */
  idleNoTick: number;
  /** No repair runs, and some tick is starting up or reading. */
  idleReading: number;
  /** No repair runs, a tick is under way but not reading (acquiring leases). */
  idleOther: number;
  /** ∫ nodes taking part in a running repair (as a replica) dt: the replicas' occupancy. */
  replicaBusy: number;
  /**
   * Node time (Σ over nodes, ms) by what the node's own tend does: its tick reads and plans, coordinates (takes
   * leases, runs its repairs), pauses before planning again (schedule.replan), or no tick runs, by how the last one
   * ended: maxTasks reached, maxDuration passed, nothing left that this node could start (no refused lease), or
   * before its first tick.
   */
  nodeReading: number;
  nodeCoordinating: number;
  nodePause: number;
  nodeAfterMaxTasks: number;
  nodeAfterMaxDuration: number;
  nodeAfterNothingLeft: number;
  nodeBeforeFirstTick: number;
}

type NodePhase =
  | 'nodeReading'
  | 'nodeCoordinating'
  | 'nodePause'
  | 'nodeAfterMaxTasks'
  | 'nodeAfterMaxDuration'
  | 'nodeAfterNothingLeft'
  | 'nodeBeforeFirstTick';

export interface RowsFigures {
  /** Rows per table read by each tick, idle and busy. */
  readonly idle: readonly number[];
  readonly busy: readonly number[];
  /** Tables whose ranges a busy tick read. */
  readonly busyTablesRead: readonly number[];
  /** Wall time of the plan() calls of each reading tick in this process (ms): what planning costs at this scale. */
  readonly planMs: readonly number[];
  /** plan() calls per reading tick. */
  readonly planCalls: readonly number[];
}

export interface SteadyFigures {
  readonly fromMs: number;
  readonly toMs: number;
  /** Per table, the largest age its oldest range reached in the window (ms). */
  readonly maxAgeByTable: Float64Array;
  /** Per table, the age of its oldest range at the end (ms). */
  readonly endAgeByTable: Float64Array;
}

export interface SimulationResult {
  readonly shape: Shape;
  readonly options: SimulationOptions;
  readonly start: number;
  /** When every range of every table had been repaired once; null when not reached. */
  readonly firstFullRepairAt: number | null;
  readonly phases: { readonly scratch: PhaseFigures; readonly steady: PhaseFigures | null };
  readonly rows: RowsFigures;
  readonly steady: SteadyFigures | null;
  /** Repairs that shared a replica with a repair already running (scope node must give 0). */
  readonly overlaps: number;
  readonly overlapExamples: readonly string[];
  /** Leases found expired when renewed or released while a task ran under them (must be 0). */
  readonly lostLeases: number;
  readonly idleTicksVerified: number;
  readonly events: number;
}

interface NodeState {
  readonly node: SimulatedNode;
  readonly holder: { name: string; host: string };
  readonly fingerprints: ReadonlyMap<string, string>;
  readonly stored: Map<string, TableSummary>;
  /** The earliest time a stored summary comes due (-Infinity while a table has none). */
  nextDueAt: number;
  running: boolean;
  readonly rand: () => number;
  /** What the node's tend does now, and since when (for the node-time shares). */
  phase: NodePhase;
  phaseSince: number;
}

const emptyTicks = (): TickCounts => ({
  idle: 0,
  busy: 0,
  skippedFirings: 0,
  allRefused: 0,
  hitMaxDuration: 0,
  ranWholePlan: 0,
  replans: 0,
  retries: 0,
  tasksPlanned: 0,
  tasksRun: 0,
  kept: 0,
  keptOutOfOrder: 0,
  choseFree: 0,
  heldElsewhere: 0,
  outranked: 0,
  notStartedDeadline: 0,
});
const emptyRepairs = (): RepairCounts => ({
  wholeTableCommands: 0,
  rangeCommands: 0,
  wholeTableMs: 0,
  rangeMs: 0,
  tableRanges: 0,
  notDue: 0,
});
const emptyTime = (): TimeShares => ({
  repairConcurrency: 0,
  repairing: 0,
  wholeTable: 0,
  idleNoTick: 0,
  idleReading: 0,
  idleOther: 0,
  replicaBusy: 0,
  nodeReading: 0,
  nodeCoordinating: 0,
  nodePause: 0,
  nodeAfterMaxTasks: 0,
  nodeAfterMaxDuration: 0,
  nodeAfterNothingLeft: 0,
  nodeBeforeFirstTick: 0,
});

function minus<T extends object>(a: T, b: T): T {
  const out = { ...a } as Record<string, number>;
  for (const [key, value] of Object.entries(b as Record<string, number>)) out[key] = (out[key] ?? 0) - value;
  return out as T;
}

/** Runs the simulation; deterministic for the same options. */
export async function simulate(options: SimulationOptions): Promise<SimulationResult> {
  const shape = buildShape(options.shape);
  const { ring, tables } = shape;
  const clock = new SimulatedClock(options.start);
  const memory = new MemoryLeaseBackend(clock.now);
  const backend = new CountingLeaseBackend(memory);
  const topology = { nodes: shape.nodes, keyspaces: shape.keyspaces };
  const settings: TableSettings[] = tables.map((t) => t.settings);
  const intervalMs = options.shape.intervalMs;

  // The shared history: one array per table over the ring, read by every node's planner as a folded TableHistory.
  const repairedAt = new Map<string, Float64Array>();
  const histories = new Map<string, TableHistory>();
  for (const table of tables) {
    const times = new Float64Array(ring.ranges.length).fill(-Infinity);
    repairedAt.set(table.key, times);
    histories.set(table.key, {
      ring,
      repairedAt: times,
      pieces: new Map(),
      stats: { entries: 0, used: 0, unsuccessful: 0, notContained: 0, malformed: 0 },
    });
  }
  let neverRepaired = tables.length * ring.ranges.length;
  let firstFullRepairAt: number | null = null;
  let steadyFrom: number | null = null;
  const maxAgeByTable = new Float64Array(tables.length);
  const tableIndex = new Map(tables.map((t, i) => [t.key, i]));

  // Counters; the phase figures are differences of snapshots.
  const ticks = emptyTicks();
  const repairs = emptyRepairs();
  const time = emptyTime();
  const rows = {
    idle: [] as number[],
    busy: [] as number[],
    busyTablesRead: [] as number[],
    planMs: [] as number[],
    planCalls: [] as number[],
  };
  const occupancy = new ReplicaOccupancy();
  let lostLeases = 0;
  let idleTicksVerified = 0;

  // Cluster state for the time shares.
  let runningRepairs = 0;
  let runningReplicas = 0;
  let runningWhole = 0;
  let activeTicks = 0;
  let readingTicks = 0;
  let lastMark = options.start;
  const mark = () => {
    const dt = clock.now() - lastMark;
    lastMark = clock.now();
    if (dt <= 0) return;
    time.repairConcurrency += runningRepairs * dt;
    time.replicaBusy += runningReplicas * dt;
    if (runningRepairs > 0) time.repairing += dt;
    else if (activeTicks === 0) time.idleNoTick += dt;
    else if (readingTicks > 0) time.idleReading += dt;
    else time.idleOther += dt;
    if (runningWhole > 0) time.wholeTable += dt;
  };

  const nodes: NodeState[] = shape.simulatedNodes.map((node, i) => ({
    node,
    holder: { name: node.info.address, host: `host-${node.info.address}` },
    fingerprints: keyspaceFingerprints(ring, topology, node.info.hostId),
    stored: new Map(),
    nextDueAt: -Infinity,
    running: false,
    rand: prng(options.shape.seed * 1_000_003 + i),
    phase: 'nodeBeforeFirstTick',
    phaseSince: options.start,
  }));
  const enter = (state: NodeState, phase: NodePhase) => {
    time[state.phase] += clock.now() - state.phaseSince;
    state.phase = phase;
    state.phaseSince = clock.now();
  };

  const plannedTasks = Math.max(options.limits.maxTasks, options.limits.candidates ?? 0);
  const baseInput = (state: NodeState, now: number): Omit<PlanInput, 'history'> => ({
    now,
    localHostId: state.node.info.hostId,
    tables: settings,
    topology,
    ring,
    limits: {
      maxTasks: plannedTasks,
      smallTableBytes: options.limits.smallTableBytes,
      tablesPerCommand: options.limits.tablesPerCommand,
    },
    historyLookbackMs: options.historyLookbackMs,
  });

  /**
   * The plan a tick would make, as gatherPlanInput's 'summaries' basis does: plan from the stored summaries, read
   * the tables tablesToRead names (here: hand over their shared history and their size), plan again until nothing
   * more is asked; then store the summaries the plan gives. Returns the plan and the rows the tick would read.
   */
  const planTick = (
    state: NodeState,
    now: number,
  ): { plan: Plan; rows: number; tablesRead: number; planMs: number; planCalls: number } => {
    const bounds = summaryBounds(settings, state.stored, state.fingerprints);
    const history: Record<string, TableHistory> = {};
    const sizes: Record<string, TableSize> = {};
    let tablesRead = 0;
    let rangeRows = 0;
    let planMs = 0;
    let planCalls = 0;
    let result: Plan;
    for (;;) {
      const started = performance.now();
      result = plan({ ...baseInput(state, now), history, sizes, summaries: bounds });
      planMs += performance.now() - started;
      planCalls++;
      let wanted = tablesToRead(result);
      const limit = options.prototypes?.readPerPass;
      if (limit !== undefined && limit > 0) wanted = wanted.slice(0, limit);
      if (wanted.length === 0) break;
      for (const { keyspace, table } of wanted) {
        const key = `${keyspace}.${table}`;
        if (history[key]) continue;
        history[key] = histories.get(key)!;
        sizes[key] = localSize(shape.byKey.get(key)!, state.node);
        tablesRead++;
        // repair_state: one row per local range; size estimates: one row per primary range of the node.
        rangeRows += state.node.localRanges.length + state.node.primaryRanges;
      }
    }
    // One system_schema row per table, one tend.table_summary row per stored summary.
    const rowsRead = tables.length + state.stored.size + rangeRows;
    for (const summary of summariesToStore(result, state.fingerprints, state.stored)) {
      state.stored.set(`${summary.keyspace}.${summary.table}`, summary);
    }
    state.nextDueAt = nextDue(state);
    return { plan: result, rows: rowsRead, tablesRead, planMs, planCalls };
  };

  const nextDue = (state: NodeState): number => {
    if (state.stored.size < tables.length) return -Infinity;
    let earliest = Infinity;
    for (const summary of state.stored.values()) {
      const at = summary.oldestRepairedAt === null ? -Infinity : summary.oldestRepairedAt + intervalMs;
      if (at < earliest) earliest = at;
    }
    return earliest;
  };

  const recordRepair = (task: RepairTask, finishedAt: number) => {
    const indexes = task.ranges.map((range) => {
      const index = ring.indexByStartText.get(range.start);
      if (index === undefined || ring.endTexts[index] !== range.end) {
        throw new Error(`simulated repair of ${range.start}:${range.end}, which is not a vnode range of the ring`);
      }
      return index;
    });
    for (const table of task.tables) {
      const key = `${task.keyspace}.${table}`;
      const times = repairedAt.get(key)!;
      const at = tableIndex.get(key)!;
      let maxAge = maxAgeByTable[at]!;
      for (const index of indexes) {
        const previous = times[index]!;
        repairs.tableRanges++;
        if (previous === -Infinity) neverRepaired--;
        else {
          if (previous > finishedAt - intervalMs) repairs.notDue++;
          if (steadyFrom !== null && finishedAt - previous > maxAge) maxAge = finishedAt - previous;
        }
        if (finishedAt > previous) times[index] = finishedAt;
      }
      maxAgeByTable[at] = maxAge;
    }
    if (neverRepaired === 0 && firstFullRepairAt === null) firstFullRepairAt = finishedAt;
  };

  /** Prototype retryRefusedMs: does the task still have a range that is due (what a re-read would show)? */
  const stillDue = (task: RepairTask, now: number): boolean =>
    task.tables.some((table) => {
      const times = repairedAt.get(`${task.keyspace}.${table}`)!;
      return task.ranges.some((range) => {
        const index = ring.indexByStartText.get(range.start);
        return index !== undefined && times[index]! <= now - intervalMs;
      });
    });

  /** The simulated executor: the repair occupies its replicas for its modelled duration. */
  const repair = async (task: RepairTask): Promise<void> => {
    mark();
    occupancy.start(task.replicas, () => `${new Date(clock.now()).toISOString()} ${task.id}`);
    const whole = task.scope === 'table';
    runningRepairs++;
    runningReplicas += task.replicas.length;
    if (whole) runningWhole++;
    const duration = commandDurationMs(options.cost, task.tables.length, task.estimatedBytes ?? 0);
    await clock.sleep(duration);
    mark();
    runningRepairs--;
    runningReplicas -= task.replicas.length;
    if (whole) runningWhole--;
    occupancy.end(task.replicas);
    if (whole) {
      repairs.wholeTableCommands++;
      repairs.wholeTableMs += duration;
    } else {
      repairs.rangeCommands++;
      repairs.rangeMs += duration;
    }
    recordRepair(task, clock.now());
  };

  /** The heartbeat: renews every held lease every renewEvery until stopped; a refused renewal is a lost lease. */
  const heartbeat = (leases: readonly HeldLease[]) => {
    let stopped = false;
    let pending: ReturnType<SimulatedClock['at']> | undefined;
    const beat = () => {
      pending = clock.at(
        clock.now() + options.lease.renewEveryMs,
        () => {
          if (stopped) return;
          void Promise.all(leases.map((lease) => backend.renew(lease))).then((results) => {
            lostLeases += results.filter((r) => !r.renewed).length;
            if (!stopped) beat();
          });
        },
        true,
      );
    };
    beat();
    return () => {
      stopped = true;
      if (pending) pending.cancelled = true;
    };
  };

  const failures: unknown[] = [];
  const tick = async (state: NodeState): Promise<void> => {
    mark();
    state.running = true;
    activeTicks++;
    const startedAt = clock.now();
    const deadline = startedAt + options.limits.maxDurationMs;
    // Tasks started by the whole tick: schedule.maxTasks bounds the tick, not each round (as src/app/tick.ts).
    let startedInTick = 0;
    let ending: NodePhase = 'nodeAfterNothingLeft';
    for (let round = 0; ; round++) {
      enter(state, 'nodeReading');
      readingTicks++;
      const planned = planTick(state, clock.now());
      if (round === 0) {
        ticks.busy++;
        rows.busy.push(planned.rows / tables.length);
        rows.busyTablesRead.push(planned.tablesRead);
        rows.planMs.push(planned.planMs);
        rows.planCalls.push(planned.planCalls);
      } else ticks.replans++;
      const startup = round === 0 ? options.cost.tickStartMs : 0;
      await clock.sleep(startup + (planned.rows / options.cost.rowsPerSecond) * 1000);
      mark();
      readingTicks--;
      const tasks = planned.plan.tasks;
      ticks.tasksPlanned += tasks.length;
      if (tasks.length === 0) break;
      enter(state, 'nodeCoordinating');
      let ran = 0;
      let refusedInRound = 0;
      let refusedAll = true;
      let pending: readonly RepairTask[] = tasks;
      for (;;) {
        const result: TickModelResult = await carryOutTasks(
          pending,
          { backend, now: clock.now, repair, heartbeat },
          {
            holder: state.holder,
            datacenter: state.node.info.datacenter,
            lease: options.lease,
            startedAt,
            maxDurationMs: options.limits.maxDurationMs,
            keepAnnouncementOnFailure: options.prototypes?.keepAnnouncementOnFailure ?? false,
            maxRun: options.limits.maxTasks - startedInTick - ran,
            freeFirst: options.limits.freeFirst ?? false,
            followNextOnly: options.limits.followNextOnly ?? false,
            narrowOnFollow: options.limits.narrowOnFollow ?? false,
            stopWhenNoneFree: options.limits.stopWhenNoneFree ?? false,
          },
        );
        ran += result.ran;
        refusedInRound += result.heldElsewhere + result.outranked;
        ticks.tasksRun += result.ran;
        ticks.kept += result.kept;
        ticks.keptOutOfOrder += result.keptOutOfOrder;
        ticks.choseFree += result.choseFree;
        ticks.heldElsewhere += result.heldElsewhere;
        ticks.outranked += result.outranked;
        ticks.notStartedDeadline += result.deadline;
        lostLeases += result.lost;
        if (result.ran > 0 || result.heldElsewhere + result.outranked === 0) refusedAll = false;
        const retry = options.prototypes?.retryRefusedMs;
        if (retry === undefined || result.refused.length === 0 || startedInTick + ran >= options.limits.maxTasks) {
          break;
        }
        await clock.sleep(retry);
        if (clock.now() >= deadline) break;
        pending = result.refused.filter((task) => stillDue(task, clock.now()));
        ticks.retries++;
        if (pending.length === 0) break;
      }
      if (refusedAll) ticks.allRefused++;
      if (clock.now() >= deadline) ticks.hitMaxDuration++;
      if (ran === tasks.length) ticks.ranWholePlan++;
      startedInTick += ran;
      // The tick's own decision (src/core/tick-rounds.ts): plan again after a pause when a lease was refused.
      const verdict = nextRound({
        stopped: false,
        refused: refusedInRound,
        startedInTick,
        maxTasks: options.limits.maxTasks,
        now: clock.now(),
        startDeadline: deadline,
        pauseMs: options.limits.replanPauseMs,
      });
      if (!verdict.again) {
        if (startedInTick >= options.limits.maxTasks) ending = 'nodeAfterMaxTasks';
        else if (clock.now() >= deadline || verdict.reason === 'max_duration') ending = 'nodeAfterMaxDuration';
        break;
      }
      enter(state, 'nodePause');
      await clock.sleep(verdict.at - clock.now());
    }
    mark();
    enter(state, ending);
    activeTicks--;
    state.running = false;
    // Keep the memory backend's call log (kept for tests) from growing over a month of ticks.
    memory.calls.length = 0;
  };

  /** An idle tick: every stored summary holds and none is due, so the plan has nothing to do or read. */
  const idleTick = (state: NodeState) => {
    enter(state, 'nodeAfterNothingLeft');
    ticks.idle++;
    rows.idle.push((tables.length + state.stored.size) / tables.length);
    if (options.verifyIdleEvery > 0 && ticks.idle % options.verifyIdleEvery === 0) {
      const bounds = summaryBounds(settings, state.stored, state.fingerprints);
      const check = plan({ ...baseInput(state, clock.now()), history: {}, summaries: bounds });
      if (check.tasks.length > 0 || tablesToRead(check).length > 0 || check.summary.due > 0) {
        throw new Error(`idle shortcut disagrees with the planner on ${state.holder.name} at ${clock.now()}`);
      }
      idleTicksVerified++;
    }
  };

  const { periodMs, randomizedDelayMs } = options.timer;
  const fire = (state: NodeState, boundary: number) => {
    schedule(state, boundary + periodMs);
    if (state.running) {
      ticks.skippedFirings++;
      return;
    }
    if (state.stored.size === tables.length && clock.now() < state.nextDueAt) {
      idleTick(state);
      return;
    }
    clock.start(
      clock.now(),
      () => tick(state),
      (error) => failures.push(error),
    );
  };
  const schedule = (state: NodeState, boundary: number) => {
    clock.at(boundary + Math.floor(state.rand() * randomizedDelayMs), () => fire(state, boundary));
  };
  for (const state of nodes) schedule(state, options.start);
  const progress = options.progress;
  if (progress) {
    const report = () => {
      progress.report({ at: clock.now(), neverRepaired, readingTicks: ticks.busy, tasksRun: ticks.tasksRun });
      clock.at(clock.now() + progress.every, report);
    };
    clock.at(options.start + progress.every, report);
  }

  // Phase 1: from scratch until every range of every table was repaired once.
  const limit = options.start + options.maxSimulatedMs;
  await clock.run(limit, () => firstFullRepairAt !== null || failures.length > 0);
  if (failures.length > 0) throw failures[0];
  mark();
  const scratchEnd = firstFullRepairAt ?? clock.now();
  const snapshot = () => {
    for (const state of nodes) enter(state, state.phase);
    return snapshotCounts();
  };
  const snapshotCounts = () => ({
    lease: { ...backend.counts },
    ticks: { ...ticks },
    repairs: { ...repairs },
    time: { ...time },
  });
  const atScratch = snapshot();
  const scratch: PhaseFigures = { fromMs: options.start, toMs: scratchEnd, ...atScratch };
  const scratchResult: SimulationResult = {
    shape,
    options,
    start: options.start,
    firstFullRepairAt,
    phases: { scratch, steady: null },
    rows: { ...rows, idle: [...rows.idle], busy: [...rows.busy], busyTablesRead: [...rows.busyTablesRead] },
    steady: null,
    overlaps: occupancy.overlaps,
    overlapExamples: [...occupancy.examples],
    lostLeases,
    idleTicksVerified,
    events: clock.events,
  };
  if (firstFullRepairAt === null || options.steadyIntervals === 0) return scratchResult;
  options.onFirstFullRepair?.(scratchResult);

  // Phase 2: the steady state, for steadyIntervals intervals more.
  steadyFrom = firstFullRepairAt;
  const steadyTo = firstFullRepairAt + options.steadyIntervals * intervalMs;
  await clock.run(steadyTo, () => failures.length > 0);
  if (failures.length > 0) throw failures[0];
  mark();
  const end = clock.now();
  const endAgeByTable = new Float64Array(tables.length);
  tables.forEach((table, i) => {
    const times = repairedAt.get(table.key)!;
    let oldest = Infinity;
    for (const at of times) if (at < oldest) oldest = at;
    endAgeByTable[i] = end - oldest;
    maxAgeByTable[i] = Math.max(maxAgeByTable[i]!, end - oldest);
  });
  const atEnd = snapshot();
  const steadyPhase: PhaseFigures = {
    fromMs: steadyFrom,
    toMs: end,
    lease: minus(atEnd.lease, atScratch.lease),
    ticks: minus(atEnd.ticks, atScratch.ticks),
    repairs: minus(atEnd.repairs, atScratch.repairs),
    time: minus(atEnd.time, atScratch.time),
  };
  return {
    shape,
    options,
    start: options.start,
    firstFullRepairAt,
    phases: { scratch, steady: steadyPhase },
    rows,
    steady: { fromMs: steadyFrom, toMs: end, maxAgeByTable, endAgeByTable },
    overlaps: occupancy.overlaps,
    overlapExamples: occupancy.examples,
    lostLeases,
    idleTicksVerified,
    events: clock.events,
  };
}

export const DEFAULT_TIMER = { periodMs: 5 * MINUTE, randomizedDelayMs: 90_000 };
