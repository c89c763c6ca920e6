/**
 * No function in src/ is longer than 100 lines (issue 13): a longer one is a list of steps waiting for names. Measured
 * on the compiler's syntax tree (test/support/source-tree.ts), from a function's first token to its last, nested
 * closures included. `npx tsx test/support/source-tree.ts 80` lists the longest ones.
 */
import { expect } from 'chai';
import { functionSpans, sourceFiles } from '../../support/source-tree.js';

const LIMIT = 100;

/**
 * Functions allowed to be longer, each with its reason. Keep it short: an entry here is a debt, and the second test
 * fails when an entry is no longer needed, so the list cannot rot.
 */
const ALLOWED: Readonly<Record<string, string>> = {};

describe('function length (src/)', function () {
  const spans = sourceFiles('src').flatMap(functionSpans);
  const key = (span: { file: string; name: string }) => `${span.file} ${span.name}`;

  it(`no function is longer than ${LIMIT} lines, except those allowed with a reason`, function () {
    const long = spans
      .filter((span) => span.lines > LIMIT && !(key(span) in ALLOWED))
      .map((span) => `${span.file}:${span.line} ${span.name}: ${span.lines} lines`);
    expect(long, 'split these into named steps').to.deep.equal([]);
  });

  it('every allowed function still needs its place on the list', function () {
    const stillLong = new Set(spans.filter((span) => span.lines > LIMIT).map(key));
    expect(Object.keys(ALLOWED).filter((name) => !stillLong.has(name))).to.deep.equal([]);
  });

  it('the measure sees nested, anonymous and class functions (a sanity check of the tool itself)', function () {
    const names = new Set(spans.map(key));
    expect(names.has('src/lease/heartbeat.ts Heartbeat.start')).to.equal(true);
    expect(names.has('src/cli/main.ts main')).to.equal(true);
    const main = spans.find((span) => key(span) === 'src/cli/main.ts main')!;
    expect(main.lines).to.be.greaterThan(20);
  });
});
