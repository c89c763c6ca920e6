// Mocha's spec reporter plus, at the end, the slowest test files (wall time of each file's top-level suites, hooks
// included: an e2e file's work is mostly in its before hooks) and one closing line in the plain form CI tools read:
//   tests: N passed, N failed, N skipped
// test/setup/test-all.sh repeats the slowest files of each phase at the end of its output (CI keeps only the tail).
// With TEND_TEST_FILE_TIMES=PATH it also writes every file's time there (seconds, slowest first), one per line:
// test-all.sh keeps it in its log directory, to choose what a phase runs.
// (CommonJS because mocha loads reporters with require.)
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const Mocha = require('mocha');

const { EVENT_RUN_END, EVENT_SUITE_BEGIN, EVENT_SUITE_END } = Mocha.Runner.constants;
const SLOWEST = 12;

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const files = new Map(); // file -> { ms, started }
    runner.on(EVENT_SUITE_BEGIN, (suite) => {
      if (!suite.file || !suite.parent || !suite.parent.root) return;
      const entry = files.get(suite.file) ?? { ms: 0, started: 0 };
      entry.started = Date.now();
      files.set(suite.file, entry);
    });
    runner.on(EVENT_SUITE_END, (suite) => {
      const entry = suite.file && suite.parent && suite.parent.root ? files.get(suite.file) : undefined;
      if (entry) entry.ms += Date.now() - entry.started;
    });
    runner.once(EVENT_RUN_END, () => {
      const slowest = [...files].sort((a, b) => b[1].ms - a[1].ms).slice(0, SLOWEST);
      if (files.size > 1 && slowest.length > 0) {
        process.stdout.write(`\nslowest files (of ${files.size}):\n`);
        for (const [file, { ms }] of slowest) {
          process.stdout.write(`  ${(ms / 1000).toFixed(1).padStart(7)} s  ${path.relative(process.cwd(), file)}\n`);
        }
      }
      const timesFile = process.env.TEND_TEST_FILE_TIMES;
      if (timesFile) {
        const lines = [...files]
          .sort((a, b) => b[1].ms - a[1].ms)
          .map(([file, { ms }]) => `${(ms / 1000).toFixed(1)}\t${path.relative(process.cwd(), file)}\n`);
        fs.writeFileSync(timesFile, lines.join(''));
      }
      const { passes, failures, pending } = this.stats;
      process.stdout.write(`\ntests: ${passes} passed, ${failures} failed, ${pending} skipped\n`);
    });
  }
}

module.exports = SummaryReporter;
