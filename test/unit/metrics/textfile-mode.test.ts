/**
 * Issue 12 item 27: tend.prom must be readable by node_exporter (another user) although tend.service runs with
 * UMask=0077, which turned the 0644 given to open() into 0600.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { writeTextfileAtomically } from '../../../src/metrics/textfile.js';
import { writeTickMetrics } from '../../../src/metrics/tick-metrics.js';
import { tempDir } from '../cli/helpers.js';

describe('the metrics textfile under umask 077', function () {
  let previous: number;
  beforeEach(() => {
    previous = process.umask(0o077);
  });
  afterEach(() => {
    process.umask(previous);
  });

  it('is written with mode 0644, first time and when replaced', async function () {
    const dir = tempDir();
    const path = join(dir, 'tend.prom');
    await writeTextfileAtomically(path, 'a 1\n');
    expect((statSync(path).mode & 0o777).toString(8)).to.equal('644');
    await writeTextfileAtomically(path, 'a 2\n');
    expect((statSync(path).mode & 0o777).toString(8)).to.equal('644');
  });

  it("a tick's metrics file too", async function () {
    const dir = tempDir();
    const path = await writeTickMetrics(dir, { startedAt: Date.now(), durationMs: 5, result: 'nothing_due' });
    expect((statSync(path).mode & 0o777).toString(8)).to.equal('644');
  });
});
