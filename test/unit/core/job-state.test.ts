import { expect } from 'chai';
import { fnv1a32 } from '../../../src/core/hash.js';
import { assessJob, compareJobs, formatDuration, tieBreaker, type RankedJob } from '../../../src/core/job-state.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const timing = { intervalMs: 7 * DAY, warnMs: 8 * DAY, errorMs: 10 * DAY, weight: 2 };
const NOW = Date.UTC(2026, 10, 21, 12);

describe('core/job-state', () => {
  const cases: { name: string; age: number; blocked?: boolean; expected: object }[] = [
    { name: 'fresh', age: 1 * DAY, expected: { due: false, priority: 0, state: 'ON_TIME', alarm: 'none' } },
    { name: 'just due', age: 7 * DAY, expected: { due: true, overdueHours: 0, priority: 2, state: 'ON_TIME' } },
    { name: 'due 5.5 h', age: 7 * DAY + 5.5 * HOUR, expected: { overdueHours: 5, priority: 12, state: 'ON_TIME' } },
    { name: 'past warn', age: 8 * DAY, expected: { overdueHours: 24, priority: 50, state: 'LATE', alarm: 'warn' } },
    { name: 'past error', age: 11 * DAY, expected: { overdueHours: 96, priority: 194, state: 'OVERDUE' } },
    { name: 'blocked', age: 11 * DAY, blocked: true, expected: { state: 'BLOCKED', alarm: 'error', due: true } },
  ];
  for (const c of cases) {
    it(`assesses a job repaired ${c.name}`, () => {
      const assessment = assessJob(NOW, NOW - c.age, timing, c.blocked);
      expect(assessment).to.deep.include(c.expected);
      expect(assessment.nextDueAt).to.equal(NOW - c.age + timing.intervalMs);
    });
  }

  it('FNV-1a matches the published test vectors', () => {
    expect(fnv1a32('')).to.equal(0x811c9dc5);
    expect(fnv1a32('a')).to.equal(0xe40c292c);
    expect(fnv1a32('foobar')).to.equal(0xbf9cf968);
    expect(tieBreaker('ks', 't')).to.equal(fnv1a32('ks.t'));
  });

  it('orders by priority, then hash; jobs not due by due time', () => {
    const job = (table: string, priority: number, nextDueAt = 0): RankedJob => ({
      keyspace: 'ks',
      table,
      priority,
      nextDueAt,
      tieBreaker: tieBreaker('ks', table),
    });
    const jobs = [job('a', 0, 5), job('b', 3), job('c', 3), job('d', 0, 1), job('e', 10)];
    const sorted = [...jobs].sort(compareJobs).map((j) => j.table);
    const [first, second] = tieBreaker('ks', 'b') < tieBreaker('ks', 'c') ? ['b', 'c'] : ['c', 'b'];
    expect(sorted).to.deep.equal(['e', first, second, 'd', 'a']);
  });

  it('formats durations compactly', () => {
    expect(formatDuration(0)).to.equal('0s');
    expect(formatDuration(45_000)).to.equal('45s');
    expect(formatDuration(2 * HOUR + 5 * 60_000)).to.equal('2h5m');
    expect(formatDuration(3 * DAY + 4 * HOUR + 59_000)).to.equal('3d4h');
    expect(formatDuration(-HOUR)).to.equal('-1h');
    expect(formatDuration(Infinity)).to.equal('never');
  });
});
