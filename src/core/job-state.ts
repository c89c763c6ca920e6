// Job state and deterministic priority. Every node computes the same numbers from the same history and the same
// "now" (Cassandra's clock), so priorities announced for a lease are comparable across the cluster.
import { fnv1a32 } from './hash.js';

export const HOUR_MS = 60 * 60 * 1000;

/**
 * - ON_TIME: last repaired less than the warn alarm ago (it may still be due: due means "interval has passed").
 * - LATE: past the warn alarm. OVERDUE: past the error alarm (by default gc_grace: deleted data may come back).
 * - BLOCKED: a run policy forbids starting it now; `alarm` still says how late it is.
 */
export type JobState = 'ON_TIME' | 'LATE' | 'OVERDUE' | 'BLOCKED';
export type Alarm = 'none' | 'warn' | 'error';

export interface JobTiming {
  /** Repair every range at least this often (ms). */
  readonly intervalMs: number;
  /** Raise a warning when the oldest range is older than this (ms). */
  readonly warnMs: number;
  /** Raise an error when the oldest range is older than this (ms). */
  readonly errorMs: number;
  /** Priority multiplier (ecChronos: LOW 1, MEDIUM 2, HIGH 3, HIGHEST 100). */
  readonly weight: number;
}

export interface JobAssessment {
  /** True when now >= nextDueAt. */
  readonly due: boolean;
  /** lastRepairedAt + interval. */
  readonly nextDueAt: number;
  /** Whole hours since the job became due (0 when not due). */
  readonly overdueHours: number;
  /** (overdueHours + 1) × weight when due, 0 otherwise. */
  readonly priority: number;
  readonly alarm: Alarm;
  readonly state: JobState;
}

/**
 * Assesses a job whose oldest range was last repaired at `lastRepairedAt` (epoch ms). Callers pass an assumed time
 * for never-repaired ranges (the planner uses now - historyLookback: "not repaired within the history we read").
 */
export function assessJob(now: number, lastRepairedAt: number, timing: JobTiming, blocked = false): JobAssessment {
  const nextDueAt = lastRepairedAt + timing.intervalMs;
  const due = now >= nextDueAt;
  const overdueHours = due ? Math.floor((now - nextDueAt) / HOUR_MS) : 0;
  const priority = due ? (overdueHours + 1) * timing.weight : 0;
  const age = now - lastRepairedAt;
  const alarm: Alarm = age >= timing.errorMs ? 'error' : age >= timing.warnMs ? 'warn' : 'none';
  const state: JobState = blocked ? 'BLOCKED' : alarm === 'error' ? 'OVERDUE' : alarm === 'warn' ? 'LATE' : 'ON_TIME';
  return { due, nextDueAt, overdueHours, priority, alarm, state };
}

/** The stable tie-breaker of a table: FNV-1a of `keyspace.table`. */
export function tieBreaker(keyspace: string, table: string): number {
  return fnv1a32(`${keyspace}.${table}`);
}

export interface RankedJob {
  readonly keyspace: string;
  readonly table: string;
  readonly priority: number;
  readonly nextDueAt: number;
  readonly tieBreaker: number;
}

/**
 * Total order of jobs: higher priority first; jobs not due (priority 0) by the time they become due; ties by the
 * lower tie-breaker hash, then by name, so even a hash collision cannot make two nodes disagree. Independent of
 * input order.
 */
export function compareJobs(a: RankedJob, b: RankedJob): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  if (a.priority === 0 && a.nextDueAt !== b.nextDueAt) return a.nextDueAt - b.nextDueAt;
  if (a.tieBreaker !== b.tieBreaker) return a.tieBreaker - b.tieBreaker;
  const ka = `${a.keyspace}.${a.table}`;
  const kb = `${b.keyspace}.${b.table}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** `3d4h`, `2h5m`, `45s` — compact durations for reasons and status lines. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return 'never';
  const sign = ms < 0 ? '-' : '';
  let s = Math.floor(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const parts = [d ? `${d}d` : '', h ? `${h}h` : '', m && !d ? `${m}m` : '', s && !d && !h ? `${s}s` : ''];
  const text = parts.join('');
  return sign + (text === '' ? '0s' : text);
}
