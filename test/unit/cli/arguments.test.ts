/**
 * Issue 12 items 13, 16–21: command-line values are checked before anything connects (exit 2 even when
 * Cassandra, Consul or Jolokia is down: the configuration here points at 127.0.0.9, where nothing listens, so a
 * command that got as far as connecting would exit 5 instead).
 */
import { expect } from 'chai';
import { runTend } from './helpers.js';
import { parseInvocation } from '../../../src/cli/registry.js';
import { parseUntil, parseWindowSpec, windowFromRow } from '../../../src/app/policy-input.js';
import { UsageError } from '../../../src/errors.js';
import { wrapNotes } from '../../../src/cli/commands/repair.js';
import { parseTokenRange } from '../../../src/core/index.js';

const DOWN = [
  'cassandra: { contactPoints: [127.0.0.9], localDatacenter: dc1, connectTimeout: 1s }',
  'lease: { backend: consul, ttl: 60s, renewEvery: 10s, consul: { address: "http://127.0.0.9:8500" } }',
  'executor: { type: jolokia, jolokia: { url: "http://127.0.0.9:8778/jolokia/" } }',
  '',
].join('\n');

async function usage(args: string[]): Promise<string> {
  const result = await runTend(['-c', 'tend.yml', ...args], { files: { 'tend.yml': DOWN } });
  expect(result.code, `tend ${args.join(' ')}\n${result.stderr}`).to.equal(2);
  return result.stderr;
}

describe('positional arguments are checked before connecting (exit 2)', function () {
  for (const table of ['ks', 'ks.t.x', '', '.t', 'ks.', '"ks.t']) {
    it(`repair table '${table}'`, async function () {
      await usage(['repair', 'table', table]);
    });
  }

  for (const [command, scope] of [
    [['schedule', 'status'], 'ks.t.x'],
    [['schedule', 'status'], ''],
    [['history', 'show'], 'a.b.c'],
    [['history', 'show'], '"unterminated'],
    [['policy', 'list'], 'ks.t.x'],
    [['policy', 'add', 'block', '--start', '01:00', '--end', '02:00'], ''],
  ] as Array<[string[], string]>) {
    it(`tend ${command.join(' ')} '${scope}'`, async function () {
      await usage([...command, scope]);
    });
  }

  it('policy remove: an ID that is not one', async function () {
    await usage(['policy', 'remove', 'w1234', '../x']);
  });
});

describe('lease release takes only the resources tend generates (item 13)', function () {
  const bad = [
    '..',
    'dc/dc1/../../../x/slot-0',
    'dc/../slot-0',
    'dc/%2e%2e/slot-0',
    'dc//slot-0',
    'dc/dc1/slot-0/extra',
    'dc/dc1/slot-01',
    'dc/dc1',
    'other/dc1/slot-0',
    'node/10.0.0.1/../slot-0',
    'node/a..b/slot-0',
    '/dc/dc1/slot-0',
  ];
  for (const resource of bad) {
    it(`refuses '${resource}' before connecting`, async function () {
      const stderr = await usage(['lease', 'release', resource, '--force']);
      expect(stderr).to.include('is not a lease resource');
    });
  }

  for (const resource of ['dc/dc1/slot-0', 'dc/us-east-1/slot-12', 'node/10.0.0.7/slot-0', 'node/::1/slot-2']) {
    it(`accepts '${resource}'`, function () {
      const invocation = parseInvocation(['lease', 'release', resource], '0');
      expect(invocation.kind === 'run' && (invocation.options as { resource: string }).resource).to.equal(resource);
    });
  }
});

describe('dates, numbers and text (items 17–19)', function () {
  for (const until of ['2026-02-30', '2026-13-01', '2026-04-31T10:00Z', '2026-01-01T24:00Z', '2027-02-29']) {
    it(`--until ${until} is refused, not rolled over`, async function () {
      const stderr = await usage(['schedule', 'pause', '--until', until]);
      expect(stderr).to.include('is not a date');
    });
  }

  it('possible dates still parse (leap day, offsets, a date alone)', function () {
    expect(parseUntil('2028-02-29')).to.deep.equal({ kind: 'at', at: Date.UTC(2028, 1, 29) });
    expect(parseUntil('2026-12-31T23:59:59+01:00')).to.deep.equal({
      kind: 'at',
      at: Date.UTC(2026, 11, 31, 22, 59, 59),
    });
    expect(() => parseUntil('2026-02-30')).to.throw(UsageError, /2026-02 has 28 days, not 30/);
  });

  for (const value of ['0x10', '1e1', '+5', '16.0', '0', '1001', ' 5', '-1', '١٢']) {
    it(`--max-tasks '${value}' is refused`, async function () {
      const stderr = await usage(['schedule', 'tick', '--max-tasks', value]);
      expect(stderr).to.include('expected a whole number from 1 to 1000');
    });
  }

  it('--max-tasks 16 is 16', function () {
    const invocation = parseInvocation(['schedule', 'tick', '--max-tasks', '16'], '0');
    expect(invocation.kind === 'run' && (invocation.options as { maxTasks: number }).maxTasks).to.equal(16);
  });

  it('--reason: at most 200 characters, no control characters', async function () {
    expect(await usage(['schedule', 'pause', '--reason', 'x'.repeat(201)])).to.include('at most 200 characters');
    expect(await usage(['schedule', 'pause', '--reason', 'upgrade\u001b[2J'])).to.include('control characters');
    expect(await usage(['schedule', 'pause', '--reason', 'two\nlines'])).to.include('control characters');
    const ok = parseInvocation(['schedule', 'pause', '--reason', 'y'.repeat(200)], '0');
    expect(ok.kind === 'run' && (ok.options as { reason: string }).reason).to.have.length(200);
  });
});

describe('policy windows: start equal to end (item 20) and wrapping ranges (item 21)', function () {
  it('policy add refuses --start equal to --end, as schedule.windows does, and says how to write the whole day', async function () {
    const stderr = await usage(['policy', 'add', 'block', '--start', '08:00', '--end', '08:00']);
    expect(stderr).to.include('a window must have a length').and.include('--start 00:00 --end 24:00');
  });

  it('the whole day is 00:00-24:00', function () {
    const spec = parseWindowSpec({ action: 'block', start: '00:00', end: '24:00' });
    expect([spec.start, spec.end]).to.deep.equal(['00:00', '24:00']);
  });

  it('a window stored by an earlier tend with equal times is still read (as the whole day), not dropped', function () {
    const spec = windowFromRow({ id: 'w1', action: 'block', start_time: '08:00', end_time: '08:00' });
    expect([spec.start, spec.end]).to.deep.equal(['08:00', '08:00']);
  });

  it('--range START:END with START > END is documented as wrapping, and the run says what it covers', async function () {
    const help = parseInvocation(['repair', 'table', '--help'], '0');
    expect(help.kind === 'text' && help.text).to.match(/START > END wraps\s+around\s+the\s+ring/);
    expect(wrapNotes([parseTokenRange('5:3')])).to.deep.equal([
      '--range 5:3 wraps around the ring (START is greater than END): it repairs (5, 9223372036854775807] and (-9223372036854775808, 3]',
    ]);
    expect(
      wrapNotes([parseTokenRange('3:5'), parseTokenRange('8839064868652493482:-9223372036854775808')]),
    ).to.deep.equal([]);
    const result = await runTend(['-c', 'tend.yml', 'repair', 'table', 'ks.t', '--range', '5:3'], {
      files: { 'tend.yml': DOWN },
    });
    expect(result.stderr).to.include('--range 5:3 wraps around the ring');
  });
});
