import { expect } from 'chai';
import {
  formatDuration,
  formatSize,
  MAX_DURATION_MS,
  parseDuration,
  parseDurationIn,
  parseSize,
} from '../../../src/config/units.js';
import { parseDays } from '../../../src/config/schema.js';
import { validateConfig } from '../../../src/config/validate.js';

describe('config/units', () => {
  const durations: Array<[string, number | undefined]> = [
    ['90s', 90_000],
    ['30m', 1_800_000],
    ['7d', 604_800_000],
    ['1h30m', 5_400_000],
    ['2w', 1_209_600_000],
    ['250ms', 250],
    ['1.5h', 5_400_000],
    ['7 days', undefined],
    ['7', undefined],
    ['', undefined],
    ['-5m', undefined],
    ['5M', undefined],
  ];
  for (const [text, ms] of durations) {
    it(`parses duration ${JSON.stringify(text)} → ${ms}`, () => expect(parseDuration(text)).to.equal(ms));
  }

  const sizes: Array<[string, number | undefined]> = [
    ['200MiB', 200 * 1024 ** 2],
    ['1GB', 1e9],
    ['512B', 512],
    ['1.5KiB', 1536],
    ['200M', undefined],
    ['lots', undefined],
  ];
  for (const [text, bytes] of sizes) {
    it(`parses size ${JSON.stringify(text)} → ${bytes}`, () => expect(parseSize(text)).to.equal(bytes));
  }

  it('formats back to the shortest exact spelling', () => {
    expect(formatDuration(604_800_000)).to.equal('7d');
    expect(formatDuration(5_400_000)).to.equal('1h30m');
    expect(formatDuration(0)).to.equal('0s');
    expect(formatDuration(1500)).to.equal('1s500ms');
    expect(formatSize(200 * 1024 ** 2)).to.equal('200MiB');
    expect(formatSize(1e9)).to.equal('1000000000B');
  });

  // Issue 12, item 5: `999999999w` became "Invalid date" and a few hundred digits Infinity (`config show` printed
  // `Infinityd`). No duration is ever Infinity or too long for `now - duration` to be a Date.
  const unbounded = ['999999999w', `${'9'.repeat(400)}d`, `${'9'.repeat(320)}ms`, '36501d', '5300w'];
  for (const text of unbounded) {
    it(`refuses ${text.length > 20 ? `${text.slice(0, 20)}…` : text} (beyond 100 years)`, () => {
      expect(parseDuration(text)).to.equal(undefined);
    });
  }

  it('accepts up to 100 years, and every accepted duration keeps a Date valid', () => {
    expect(parseDuration('36500d')).to.equal(MAX_DURATION_MS);
    expect(new Date(Date.now() - MAX_DURATION_MS).getTime()).to.not.be.NaN;
    expect(new Date(Date.now() + MAX_DURATION_MS).getTime()).to.not.be.NaN;
  });

  it('checks a duration against a range, saying which', () => {
    const range = { min: 1000, max: 7 * 86_400_000 };
    expect(parseDurationIn('3h', range)).to.equal(10_800_000);
    expect(parseDurationIn('1s', range)).to.equal(1000);
    expect(parseDurationIn('7d', range)).to.equal(604_800_000);
    for (const text of ['999ms', '0s', '7d1ms', '999999999w', 'soon']) {
      expect(parseDurationIn(text, range), text).to.deep.equal({ expected: 'a duration between 1s and 7d' });
    }
  });

  it('refuses a size that is not a safe integer of bytes', () => {
    expect(parseSize(`${'9'.repeat(400)}TiB`)).to.equal(undefined);
    expect(parseSize('9000000TiB')).to.equal(undefined);
    expect(parseSize('8000TiB')).to.equal(8000 * 1024 ** 4);
  });

  it('round-trips every duration it formats', () => {
    for (const ms of [1, 999, 1000, 61_000, 3_600_000, 90_061_001]) {
      expect(parseDuration(formatDuration(ms))).to.equal(ms);
    }
  });
});

describe('config: window days', () => {
  const cases: Array<[string | string[], string[] | undefined]> = [
    [
      ['mon', 'wed'],
      ['mon', 'wed'],
    ],
    ['mon-fri', ['mon', 'tue', 'wed', 'thu', 'fri']],
    ['fri-mon', ['mon', 'fri', 'sat', 'sun']],
    ['weekends', ['sat', 'sun']],
    ['daily', ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']],
    [
      ['Monday', 'sat-sun'],
      ['mon', 'sat', 'sun'],
    ],
    ['mon,wed,wed', ['mon', 'wed']],
    ['mon-xyz', undefined],
    [['monday', 'funday'], undefined],
    [[], undefined],
  ];
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input)} → ${expected ? expected.join(',') : 'invalid'}`, () => {
      expect(parseDays(input)).to.deep.equal(expected);
    });
  }

  it('validation turns them into a list of days and defaults to every day', () => {
    const result = validateConfig({
      schedule: {
        windows: [
          { days: 'weekdays', start: '20:00', end: '06:00' },
          { start: '00:00', end: '24:00' },
        ],
      },
    });
    expect(result.errors).to.deep.equal([]);
    expect(result.config?.schedule.windows.map((window) => window.days)).to.deep.equal([
      ['mon', 'tue', 'wed', 'thu', 'fri'],
      ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'],
    ]);
  });
});
