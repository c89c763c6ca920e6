/**
 * The README's "When things go wrong" section stays tied to the code and the tests: every exit code it gives is a
 * documented one, every test file it names exists, and the bounds it quotes are the ones time-bound.ts computes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { EXIT_CODE_DESCRIPTIONS } from '../../src/errors.js';
import { packageInfo } from '../../src/cli/package-info.js';
import { validateConfig } from '../../src/config/validate.js';
import { commandBound, tickBound } from '../../src/app/time-bound.js';
import { formatDuration } from '../../src/config/units.js';

const root = packageInfo().root;
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const start = readme.indexOf('## When things go wrong');
const section = readme.slice(start, readme.indexOf('\n## ', start + 1));

describe('README: When things go wrong', function () {
  const rows = section.split('\n').filter((line) => /^\| (?!Fault|---)/.test(line));

  it('has a row for each fault the issue lists', function () {
    const faults = rows.map((row) => row.split('|')[1]!.trim());
    for (const fault of [
      /^Cassandra down/,
      /^Cassandra silent/,
      /^Consul down, silent/,
      /^Jolokia down or silent/,
      /^A replica down before/,
      /^A replica dies/,
      /^The lease lost/,
      /^A hung repair/,
      /^The process killed/,
      /^A bad configuration/,
    ]) {
      expect(
        faults.some((f) => fault.test(f)),
        String(fault),
      ).to.equal(true);
    }
  });

  it('every exit code it gives is documented', function () {
    const documented = new Set(EXIT_CODE_DESCRIPTIONS.map(({ code }) => String(code)));
    for (const row of rows) {
      const exit = row.split('|')[3]!.trim();
      if (exit === '—' || exit === 'its own') continue;
      expect(documented.has(exit), `${exit} in: ${row}`).to.equal(true);
    }
  });

  it('every test it names exists', function () {
    const named = [...section.matchAll(/`(test\/[^`]+)`/g)].map((m) => m[1]!);
    expect(named.length).to.be.greaterThan(10);
    for (const path of named) expect(existsSync(join(root, path)), path).to.equal(true);
  });

  it('the bounds it quotes are the ones tend computes for the default configuration', function () {
    const config = validateConfig({}, { env: {} }).config!;
    expect(section).to.include(`= ${formatDuration(tickBound(config).ms)}`);
    expect(section).to.include(`= ${formatDuration(commandBound(config).ms)}`);
    expect(section).to.include(`bound of ${formatDuration(tickBound(config).ms)}`);
  });
});
