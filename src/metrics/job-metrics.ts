/**
 * The job step textfile: the last step of a maintenance job (issue 17) each node ran, next to the tick's tend.prom.
 * One file per node (`tend-jobs-ADDRESS.prom`), so that a group tick (`nodes:`), which runs the steps of several
 * nodes, some at once, keeps each node's last step instead of overwriting one file; node_exporter's textfile
 * collector reads every `*.prom` file of the directory.
 */
import { Gauge, Registry } from 'prom-client';

export interface JobStepMetrics {
  /** The step's node, by address (the `node` label). */
  readonly node: string;
  readonly operation: string;
  /** The step's outcome: done, failed, aborted, timeout… */
  readonly outcome: string;
  /** Epoch ms. */
  readonly startedAt: number;
  readonly finishedAt: number;
}

/** The file name for `node`'s last step: its address with anything but letters, digits, `.`, `-` and `_` as `_`. */
export function jobMetricsFileName(node: string): string {
  return `tend-jobs-${node.replace(/[^A-Za-z0-9._-]/g, '_')}.prom`;
}

/** The textfile for one node's last job step, in Prometheus text format. */
export async function renderJobStepMetrics(step: JobStepMetrics): Promise<string> {
  const registry = new Registry();
  const registers = [registry];
  const labels = { node: step.node, operation: step.operation, outcome: step.outcome };
  const labelNames = Object.keys(labels);
  new Gauge({
    name: 'tend_job_step_finished_timestamp_seconds',
    help: 'When the last job step this node ran finished.',
    labelNames,
    registers,
  }).set(labels, step.finishedAt / 1000);
  new Gauge({
    name: 'tend_job_step_duration_seconds',
    help: 'How long the last job step this node ran took.',
    labelNames,
    registers,
  }).set(labels, (step.finishedAt - step.startedAt) / 1000);
  return registry.metrics();
}
