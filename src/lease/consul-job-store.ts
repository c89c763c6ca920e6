/**
 * Cluster-wide maintenance jobs in Consul's KV store, for clusters that run tend with the Consul lease backend
 * (issue 17): the same JobStore as the Cassandra tables, under lease.consul.prefix:
 *
 *   <prefix>/jobs/<id>/job              the job (JSON)
 *   <prefix>/jobs/<id>/steps/<host id>  one node's step (JSON)
 *
 * Where the Cassandra store makes each change a lightweight transaction conditioned on the step's state and
 * attempt, this one reads the step, checks the same condition (src/core changedStep) and writes with Consul's
 * compare-and-set on the ModifyIndex it read: a write between the read and ours makes ours fail, and the change is
 * read and checked again (a heartbeat that raced a settle then finds the step settled, as an LWT would). Reads are
 * consistent (`?consistent`), so a node sees the claims of the others. Consul KV has no TTL: a job is deleted
 * JOB_KEEP_MS after its last change, by the next `job start` (the Cassandra tables' TTL does the same).
 */
import {
  changedStep,
  jobLastChange,
  JOB_KEEP_MS,
  type MaintenanceJob,
  type MaintenanceStep,
  type StepChange,
  type StepState,
  type StepTransition,
} from '../core/index.js';
import type { JobStore, StoredJob } from '../cluster/job-store.js';
import { TendError } from '../errors.js';
import type { ConsulKv } from './consul.js';

/** Compare-and-set rounds before giving up: each lost round means another node wrote the same step meanwhile. */
const CAS_ROUNDS = 10;

interface Entry<T> {
  readonly value: T;
  readonly modifyIndex: number;
}

function parse<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

export class ConsulJobStore implements JobStore {
  constructor(
    private readonly kv: ConsulKv,
    private readonly now: () => number = Date.now,
  ) {}

  /** Every key of one job (`id` given) or of all jobs, sorted into jobs and steps. */
  private async read(id?: string) {
    const entries = await this.kv.list(id === undefined ? 'jobs' : `jobs/${id}`);
    const jobs = new Map<string, Entry<StoredJob>>();
    const steps = new Map<string, Map<string, Entry<MaintenanceStep>>>();
    for (const entry of entries) {
      const [, jobId, kind, hostId] = entry.key.split('/');
      if (!jobId) continue;
      if (kind === 'job') {
        const job = parse<StoredJob>(entry.value);
        if (job) jobs.set(jobId, { value: job, modifyIndex: entry.modifyIndex });
      } else if (kind === 'steps' && hostId) {
        const step = parse<MaintenanceStep>(entry.value);
        if (!step) continue;
        if (!steps.has(jobId)) steps.set(jobId, new Map());
        steps.get(jobId)!.set(hostId, { value: step, modifyIndex: entry.modifyIndex });
      }
    }
    return { jobs, steps };
  }

  async create(job: MaintenanceJob, steps: readonly MaintenanceStep[]): Promise<void> {
    const all = await this.read();
    const cutoff = this.now() - JOB_KEEP_MS;
    for (const [id, { value }] of all.jobs) {
      const jobSteps = [...(all.steps.get(id)?.values() ?? [])].map((s) => s.value);
      if (jobLastChange(value, jobSteps) < cutoff) await this.kv.deleteTree(`jobs/${id}`);
    }
    // Steps first: a job without its steps would be listed as done by every reader.
    for (const step of steps) {
      if (!(await this.kv.compareAndSet(`jobs/${job.id}/steps/${step.hostId}`, JSON.stringify(step), 0))) {
        throw new TendError(`job ${job.id} exists already in Consul`);
      }
    }
    if (!(await this.kv.compareAndSet(`jobs/${job.id}/job`, JSON.stringify(job), 0))) {
      throw new TendError(`job ${job.id} exists already in Consul`);
    }
  }

  async jobs(): Promise<StoredJob[]> {
    const cutoff = this.now() - JOB_KEEP_MS;
    const { jobs, steps } = await this.read();
    return [...jobs.values()]
      .map((e) => e.value)
      .filter(
        (job) =>
          jobLastChange(
            job,
            [...(steps.get(job.id)?.values() ?? [])].map((s) => s.value),
          ) >= cutoff,
      )
      .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1));
  }

  async job(id: string): Promise<StoredJob | undefined> {
    return (await this.read(id)).jobs.get(id)?.value;
  }

  async steps(jobId: string): Promise<MaintenanceStep[]> {
    return [...((await this.read(jobId)).steps.get(jobId)?.values() ?? [])].map((e) => e.value);
  }

  /** Read, change, compare-and-set; again while another writer got in between. */
  private async update<T>(
    id: string,
    pick: (read: Awaited<ReturnType<ConsulJobStore['read']>>) => Entry<T> | undefined,
    path: string,
    change: (value: T) => T | undefined,
  ): Promise<boolean> {
    for (let round = 0; round < CAS_ROUNDS; round++) {
      const entry = pick(await this.read(id));
      if (!entry) return false;
      const next = change(entry.value);
      if (next === undefined) return false;
      if (await this.kv.compareAndSet(path, JSON.stringify(next), entry.modifyIndex)) return true;
    }
    throw new TendError(`${path} in Consul: ${CAS_ROUNDS} compare-and-set rounds lost to other writers`);
  }

  async abort(id: string, by: string, at: number): Promise<boolean> {
    return this.update<StoredJob>(
      id,
      (r) => r.jobs.get(id),
      `jobs/${id}/job`,
      (job) => ({ ...job, abortedAt: at, abortedBy: by }),
    );
  }

  async markFinished(id: string, at: number): Promise<void> {
    await this.update<StoredJob>(
      id,
      (r) => r.jobs.get(id),
      `jobs/${id}/job`,
      (job) => ({ ...job, finishedAt: at }),
    );
  }

  private changeStep(jobId: string, hostId: string, change: StepChange): Promise<boolean> {
    return this.update<MaintenanceStep>(
      jobId,
      (r) => r.steps.get(jobId)?.get(hostId),
      `jobs/${jobId}/steps/${hostId}`,
      (step) => changedStep(step, change),
    );
  }

  apply(jobId: string, transition: StepTransition, at: number): Promise<boolean> {
    return this.changeStep(jobId, transition.hostId, { kind: 'settle', transition, at });
  }

  claim(jobId: string, step: MaintenanceStep, holder: string, at: number): Promise<boolean> {
    return this.changeStep(jobId, step.hostId, { kind: 'claim', fromAttempt: step.attempt, holder, at });
  }

  heartbeat(jobId: string, hostId: string, attempt: number, at: number): Promise<boolean> {
    return this.changeStep(jobId, hostId, { kind: 'heartbeat', attempt, at });
  }

  finish(jobId: string, hostId: string, attempt: number, to: StepState, message: string, at: number) {
    return this.changeStep(jobId, hostId, { kind: 'finish', attempt, to, message, at });
  }
}
