/**
 * The accepted range of every duration and size key of tend.yml, and of the command-line options that mean the same
 * thing. Kept apart from schema.ts (zod) so that command modules can use them without slowing `tend --help`.
 */
import type { DurationRange } from './units.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * Node's timers fire at once when asked to wait longer than 2^31-1 ms (about 24.8 days): `taskTimeout: 30d` once
 * killed every repair on the spot. Every key whose value feeds a timer has a maximum well below this.
 */
export const TIMER_MAX_MS = 2 ** 31 - 1;

/**
 * The accepted range of every duration key (also per table override), by what the value means to an operator.
 * Zero and near-zero values are refused everywhere: a zero timeout hangs or fails everything, a zero renewal
 * renews in a busy loop, a zero batch never starts a task.
 */
export const DURATION_RANGES = {
  /** A TCP (and TLS) connect on a LAN takes milliseconds; past minutes the node is gone, not slow. */
  connectTimeout: { min: 100, max: 5 * MINUTE },
  /**
   * Cassandra's own request timeouts are seconds (writes 2s, reads 5s by default): a client timeout below 1s makes
   * a slow but healthy cluster look down. Also bounds each Consul HTTP request.
   */
  requestTimeout: { min: SECOND, max: 5 * MINUTE },
  /** Shorter than the timer's period means "due at every tick"; 0 would be due the instant a repair ends. */
  interval: { min: SECOND, max: 365 * DAY },
  /** Ages of the oldest repaired range; must also fit within repair.historyLookback. */
  alarm: { min: MINUTE, max: 365 * DAY },
  historyLookback: { min: HOUR, max: 365 * DAY },
  /** nodetool alone takes seconds to start; a repair task running for more than a week is stuck. */
  taskTimeout: { min: 10 * SECOND, max: 7 * DAY },
  backoff: { min: SECOND, max: 7 * DAY },
  /** Counted from the start of the tick, planning included; a tick runs from a oneshot timer, one at a time. */
  maxDuration: { min: MINUTE, max: DAY },
  /** Each pause ends in a plan, which reads the due tables' history: below 5s that is load; past 30m, the timer does it. */
  replanPause: { min: 5 * SECOND, max: 30 * MINUTE },
  /** A lease outlives a crashed holder by up to its ttl: beyond a day repairs stall; below 10s one slow LWT loses it. */
  leaseTtl: { min: 10 * SECOND, max: DAY },
  /** Each renewal is an LWT (or a Consul call): more than one a second is load for nothing. Must be < ttl. */
  renewEvery: { min: SECOND, max: DAY },
  announcementTtl: { min: 10 * SECOND, max: DAY },
  /** `history show --since`: as far back as repair.historyLookback may reach. */
  since: { min: SECOND, max: 365 * DAY },
  /**
   * A hook runs inside the tick, which waits for it (and the watchdog's bound counts it): long enough for a
   * webhook over a slow link or a pager's API, short enough that a hung hook never holds a tick for long.
   */
  hookTimeout: { min: SECOND, max: 5 * MINUTE },
  /** A claim on a node (the coverage record): below 10s a slow tick start reads as uncovered; past 7d, alarms lag. */
  coverageTtl: { min: 10 * SECOND, max: 7 * DAY },
} as const satisfies Record<string, DurationRange>;

/** A hook past its timeout gets SIGTERM, then SIGKILL this long after (src/hooks; the tick's bound counts it). */
export const HOOK_KILL_GRACE_MS = 2 * SECOND;

/**
 * repair.sizeTarget: below 1MiB a sub-range costs Cassandra more to set up (a repair session, merkle trees on every
 * replica) than the data it compares, and the plan grows with table size / target (1B on a 10GiB table ran the
 * planner out of memory); above 1TiB it never splits anything a node holds in one range.
 */
export const SIZE_TARGET_RANGE = { min: 1024 ** 2, max: 1024 ** 4 } as const;

/**
 * repair.smallTableSize: 0B turns whole-table full repairs off; 1TiB is far past any table a single command should
 * repair whole (the default is 1GiB, as ScyllaDB Manager's).
 */
export const SMALL_TABLE_SIZE_RANGE = { min: 0, max: 1024 ** 4 } as const;

/**
 * repair.backPressure.maxPendingCompactions: Reaper's default is 20; past 100,000 the check can never trip (no
 * node has that backlog and still answers).
 */
export const PENDING_COMPACTIONS_RANGE = { min: 0, max: 100_000 } as const;

/** repair.backPressure.maxSSTables: per table and replica; AutoRepair's sstable_upper_threshold is 50,000. */
export const SSTABLES_RANGE = { min: 1, max: 10_000_000 } as const;

/**
 * repair.backPressure.minFreeDisk, a share of each data directory's file system: 0% turns the check off; past 90%
 * almost every node would be "full".
 */
export const FREE_DISK_PERCENT_RANGE = { min: 0, max: 90 } as const;
