/**
 * Cluster-wide maintenance jobs in tend's keyspace (tables jobs and job_steps, schema v3; the job's window since v5, its operation's options since v6).
 *
 * Every change of a step's state is a lightweight transaction conditioned on the state (and attempt) it was read
 * in, so two nodes that compute the same turn from the same rows cannot both claim or settle a step: the second
 * write is refused and its node goes on with what it read next time. Reads and writes are at QUORUM (Paxos at
 * SERIAL), so a node reads the claims of the others. Times are the writing node's clock: heartbeats are compared
 * with staleness limits of tens of seconds, far above the skew NTP allows.
 */
import type cassandra from 'cassandra-driver';
import { types } from 'cassandra-driver';
import { quoteIdentifier } from './tend-schema.js';
import type {
  TimeWindow,
  MaintenanceJob,
  MaintenanceOperation,
  MaintenanceStep,
  StepState,
  StepTransition,
} from '../core/index.js';

const QUORUM = { prepare: true, consistency: types.consistencies.quorum };
const LWT = { ...QUORUM, serialConsistency: types.consistencies.serial };

function date(value: unknown): number | undefined {
  return value instanceof Date ? value.getTime() : undefined;
}

function optional(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function jobOf(row: cassandra.types.Row): MaintenanceJob & { finishedAt?: number | undefined } {
  return {
    id: String(row.get('id')),
    operation: String(row.get('operation')) as MaintenanceOperation,
    keyspace: optional(row.get('keyspace_name')),
    table: optional(row.get('table_name')),
    datacenter: optional(row.get('datacenter')),
    concurrency: Number(row.get('concurrency') ?? 1),
    concurrencyScope: row.get('concurrency_scope') === 'datacenter' ? 'datacenter' : 'cluster',
    staleAfterMs: Number(row.get('stale_after_ms') ?? 0),
    stepTimeoutMs: Number(row.get('step_timeout_ms') ?? 0),
    maxAttempts: Number(row.get('max_attempts') ?? 1),
    createdAt: date(row.get('created_at')) ?? 0,
    createdBy: String(row.get('created_by') ?? ''),
    abortedAt: date(row.get('aborted_at')),
    abortedBy: optional(row.get('aborted_by')),
    finishedAt: date(row.get('finished_at')),
    window: windowOf(row.get('run_window')),
    ...optionsOf(row.get('operation_options')),
  };
}

/** The operation's options as stored (JSON, schema v6): only the keys this tend knows are taken. */
function optionsOf(value: unknown): Pick<MaintenanceJob, 'includeAllSSTables'> {
  if (typeof value !== 'string' || value === '') return {};
  const stored = JSON.parse(value) as { includeAllSSTables?: unknown };
  return stored.includeAllSSTables === true ? { includeAllSSTables: true } : {};
}

function optionsText(job: MaintenanceJob): string | null {
  return job.includeAllSSTables ? JSON.stringify({ includeAllSSTables: true }) : null;
}

/** The job's window as stored: JSON of days, start, end and time zone (an allow window), or none. */
function windowOf(value: unknown): TimeWindow | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const stored = JSON.parse(value) as Pick<TimeWindow, 'days' | 'start' | 'end' | 'timezone'>;
  return { mode: 'allow', ...stored, source: 'job start --window' };
}

function windowText(window: TimeWindow | undefined): string | null {
  if (window === undefined) return null;
  const { days, start, end, timezone } = window;
  return JSON.stringify({ days, start, end, timezone });
}

function stepOf(row: cassandra.types.Row): MaintenanceStep {
  return {
    hostId: String(row.get('host_id')),
    address: String(row.get('address')),
    datacenter: String(row.get('datacenter')),
    state: String(row.get('state')) as StepState,
    attempt: Number(row.get('attempt') ?? 0),
    holder: optional(row.get('holder')),
    startedAt: date(row.get('started_at')),
    heartbeatAt: date(row.get('heartbeat_at')),
    finishedAt: date(row.get('finished_at')),
    message: optional(row.get('message')),
  };
}

export type StoredJob = MaintenanceJob & { readonly finishedAt?: number | undefined };

/**
 * Where jobs live: tend's keyspace (this file), or Consul's KV store with the Consul lease backend
 * (src/lease/consul-job-store.ts). Every change of a step is conditional (src/core changedStep says on what) and
 * answers whether it was applied; a refused change means another node changed the step first.
 */
export interface JobStore {
  create(job: MaintenanceJob, steps: readonly MaintenanceStep[]): Promise<void>;
  /** Every job kept (a month after its last change), newest first. */
  jobs(): Promise<StoredJob[]>;
  job(id: string): Promise<StoredJob | undefined>;
  steps(jobId: string): Promise<MaintenanceStep[]>;
  /** Records who aborted; false when there is no such job. */
  abort(id: string, by: string, at: number): Promise<boolean>;
  markFinished(id: string, at: number): Promise<void>;
  /** A settling transition (stale, timed out, down); applied only if the step is still as it was read. */
  apply(jobId: string, t: StepTransition, at: number): Promise<boolean>;
  /** Claims a pending step for `holder` as attempt `attempt + 1`; false when someone else changed it first. */
  claim(jobId: string, step: MaintenanceStep, holder: string, at: number): Promise<boolean>;
  /** Renews a running step's heartbeat; false when it is no longer ours (settled by another node). */
  heartbeat(jobId: string, hostId: string, attempt: number, at: number): Promise<boolean>;
  /** Ends our running step (`pending` hands it back, e.g. when the node's lease was held). */
  finish(jobId: string, hostId: string, attempt: number, to: StepState, message: string, at: number): Promise<boolean>;
}

export class CassandraJobStore implements JobStore {
  private readonly ks: string;
  constructor(
    private readonly client: cassandra.Client,
    keyspace: string,
  ) {
    this.ks = quoteIdentifier(keyspace);
  }

  async create(job: MaintenanceJob, steps: readonly MaintenanceStep[]): Promise<void> {
    // Steps first: a job row without its steps would be listed as done by every reader.
    await Promise.all(
      steps.map((s) =>
        this.client.execute(
          `INSERT INTO ${this.ks}.job_steps (job_id, host_id, address, datacenter, state, attempt, message) VALUES (?, ?, ?, ?, ?, 0, ?)`,
          [job.id, s.hostId, s.address, s.datacenter, s.state, s.message ?? null],
          QUORUM,
        ),
      ),
    );
    await this.client.execute(
      `INSERT INTO ${this.ks}.jobs (id, operation, keyspace_name, table_name, datacenter, concurrency, concurrency_scope,
        stale_after_ms, step_timeout_ms, max_attempts, created_at, created_by, run_window, operation_options)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        job.id,
        job.operation,
        job.keyspace ?? null,
        job.table ?? null,
        job.datacenter ?? null,
        job.concurrency,
        job.concurrencyScope,
        types.Long.fromNumber(job.staleAfterMs),
        types.Long.fromNumber(job.stepTimeoutMs),
        job.maxAttempts,
        new Date(job.createdAt),
        job.createdBy,
        windowText(job.window),
        optionsText(job),
      ],
      QUORUM,
    );
  }

  /** Every job, newest first (the table holds a month of jobs: a few rows). */
  async jobs(): Promise<StoredJob[]> {
    const result = await this.client.execute(`SELECT * FROM ${this.ks}.jobs`, [], { ...QUORUM, fetchSize: 1000 });
    return result.rows.map(jobOf).sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1));
  }

  async job(id: string): Promise<StoredJob | undefined> {
    const row = (await this.client.execute(`SELECT * FROM ${this.ks}.jobs WHERE id = ?`, [id], QUORUM)).first();
    return row ? jobOf(row) : undefined;
  }

  async steps(jobId: string): Promise<MaintenanceStep[]> {
    const result = await this.client.execute(`SELECT * FROM ${this.ks}.job_steps WHERE job_id = ?`, [jobId], QUORUM);
    return result.rows.map(stepOf);
  }

  /** Records who aborted; false when there is no such job. */
  async abort(id: string, by: string, at: number): Promise<boolean> {
    const result = await this.client.execute(
      `UPDATE ${this.ks}.jobs SET aborted_at = ?, aborted_by = ? WHERE id = ? IF EXISTS`,
      [new Date(at), by, id],
      LWT,
    );
    return result.wasApplied();
  }

  async markFinished(id: string, at: number): Promise<void> {
    await this.client.execute(`UPDATE ${this.ks}.jobs SET finished_at = ? WHERE id = ?`, [new Date(at), id], QUORUM);
  }

  /** A settling transition (stale, timed out, down); applied only if the step is still as it was read. */
  async apply(jobId: string, t: StepTransition, at: number): Promise<boolean> {
    const ended = t.to === 'failed' || t.to === 'skipped';
    const result = await this.client.execute(
      `UPDATE ${this.ks}.job_steps SET state = ?, message = ?, finished_at = ? WHERE job_id = ? AND host_id = ?
        IF state = ? AND attempt = ?`,
      [t.to, t.message, ended ? new Date(at) : null, jobId, t.hostId, t.from, t.fromAttempt],
      LWT,
    );
    return result.wasApplied();
  }

  /** Claims a pending step for `holder` as attempt `attempt`; false when someone else changed it first. */
  async claim(jobId: string, step: MaintenanceStep, holder: string, at: number): Promise<boolean> {
    const result = await this.client.execute(
      `UPDATE ${this.ks}.job_steps SET state = 'running', attempt = ?, holder = ?, started_at = ?, heartbeat_at = ?,
        finished_at = null, message = null WHERE job_id = ? AND host_id = ? IF state = 'pending' AND attempt = ?`,
      [step.attempt + 1, holder, new Date(at), new Date(at), jobId, step.hostId, step.attempt],
      LWT,
    );
    return result.wasApplied();
  }

  /** Renews a running step's heartbeat; false when it is no longer ours (settled by another node). */
  async heartbeat(jobId: string, hostId: string, attempt: number, at: number): Promise<boolean> {
    const result = await this.client.execute(
      `UPDATE ${this.ks}.job_steps SET heartbeat_at = ? WHERE job_id = ? AND host_id = ? IF state = 'running' AND attempt = ?`,
      [new Date(at), jobId, hostId, attempt],
      LWT,
    );
    return result.wasApplied();
  }

  /** Ends our running step (`pending` hands it back, e.g. when the node's lease was held). */
  async finish(
    jobId: string,
    hostId: string,
    attempt: number,
    to: StepState,
    message: string,
    at: number,
  ): Promise<boolean> {
    const back = to === 'pending';
    const result = await this.client.execute(
      `UPDATE ${this.ks}.job_steps SET state = ?, attempt = ?, message = ?, finished_at = ? WHERE job_id = ? AND host_id = ?
        IF state = 'running' AND attempt = ?`,
      [to, back ? attempt - 1 : attempt, message, back ? null : new Date(at), jobId, hostId, attempt],
      LWT,
    );
    return result.wasApplied();
  }
}
