import { expect } from 'chai';
import { jobMetricsFileName, renderJobStepMetrics } from '../../../src/metrics/job-metrics.js';
import { parseExposition } from '../../../src/metrics/textfile.js';

describe('job step metrics (tend-jobs-ADDRESS.prom)', function () {
  it("one file per node, named after its address, so a group tick's steps do not overwrite each other", function () {
    expect(jobMetricsFileName('127.0.0.2')).to.equal('tend-jobs-127.0.0.2.prom');
    expect(jobMetricsFileName('10.0.0.7')).to.not.equal(jobMetricsFileName('10.0.0.8'));
    // IPv6: no colon (or anything else a shell or the collector's glob would trip on) in the file name.
    expect(jobMetricsFileName('fd00::1')).to.equal('tend-jobs-fd00__1.prom');
  });

  it('the last step: when it finished and how long it took, by node, operation and outcome', async function () {
    const text = await renderJobStepMetrics({
      node: '127.0.0.3',
      operation: 'cleanup',
      outcome: 'done',
      startedAt: 1_700_000_000_000,
      finishedAt: 1_700_000_042_500,
    });
    const samples = parseExposition(text);
    const labels = { node: '127.0.0.3', operation: 'cleanup', outcome: 'done' };
    expect(samples).to.deep.include({
      name: 'tend_job_step_finished_timestamp_seconds',
      labels,
      value: 1_700_000_042.5,
    });
    expect(samples).to.deep.include({ name: 'tend_job_step_duration_seconds', labels, value: 42.5 });
    expect(samples).to.have.length(2);
    expect(text).to.include('# TYPE tend_job_step_duration_seconds gauge');
  });
});
