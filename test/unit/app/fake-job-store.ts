/**
 * A JobStore in memory: the fake of the job store port for the step runner's tests. Each change is applied under
 * the condition the real stores check (core changedStep: the Cassandra store's LWT IF clause, the Consul store's
 * check before its compare-and-set), so a test sees the same refusals.
 */
import { changedStep, type MaintenanceJob, type MaintenanceStep, type StepChange } from '../../../src/core/index.js';
import type { JobStore, StoredJob } from '../../../src/cluster/job-store.js';

export class MemoryJobStore implements JobStore {
  readonly jobsById = new Map<string, StoredJob>();
  readonly stepsByJob = new Map<string, MaintenanceStep[]>();
  /** Every applied change, as `kind host to`, for tests that check what was written. */
  readonly changes: string[] = [];

  async create(job: MaintenanceJob, steps: readonly MaintenanceStep[]): Promise<void> {
    this.jobsById.set(job.id, job);
    this.stepsByJob.set(job.id, [...steps]);
  }

  async jobs(): Promise<StoredJob[]> {
    return [...this.jobsById.values()].sort((a, b) => b.createdAt - a.createdAt);
  }

  async job(id: string): Promise<StoredJob | undefined> {
    return this.jobsById.get(id);
  }

  async steps(jobId: string): Promise<MaintenanceStep[]> {
    return [...(this.stepsByJob.get(jobId) ?? [])];
  }

  async abort(id: string, by: string, at: number): Promise<boolean> {
    const job = this.jobsById.get(id);
    if (!job) return false;
    this.jobsById.set(id, { ...job, abortedAt: at, abortedBy: by });
    return true;
  }

  async markFinished(id: string, at: number): Promise<void> {
    const job = this.jobsById.get(id);
    if (job) this.jobsById.set(id, { ...job, finishedAt: at });
  }

  private change(jobId: string, hostId: string, change: StepChange, label: string): boolean {
    const steps = this.stepsByJob.get(jobId) ?? [];
    const index = steps.findIndex((s) => s.hostId === hostId);
    if (index < 0) return false;
    const next = changedStep(steps[index]!, change);
    if (!next) return false;
    steps[index] = next;
    this.changes.push(`${label} ${hostId} ${next.state}`);
    return true;
  }

  async apply(jobId: string, t: Parameters<JobStore['apply']>[1], at: number): Promise<boolean> {
    return this.change(jobId, t.hostId, { kind: 'settle', transition: t, at }, 'settle');
  }

  async claim(jobId: string, step: MaintenanceStep, holder: string, at: number): Promise<boolean> {
    return this.change(jobId, step.hostId, { kind: 'claim', fromAttempt: step.attempt, holder, at }, 'claim');
  }

  async heartbeat(jobId: string, hostId: string, attempt: number, at: number): Promise<boolean> {
    return this.change(jobId, hostId, { kind: 'heartbeat', attempt, at }, 'heartbeat');
  }

  async finish(
    jobId: string,
    hostId: string,
    attempt: number,
    to: Parameters<JobStore['finish']>[3],
    message: string,
    at: number,
  ): Promise<boolean> {
    return this.change(jobId, hostId, { kind: 'finish', attempt, to, message, at }, 'finish');
  }
}
