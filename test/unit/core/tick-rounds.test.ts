import { expect } from 'chai';
import { nextRound, type RoundFacts } from '../../../src/core/index.js';

const facts = (overrides: Partial<RoundFacts> = {}): RoundFacts => ({
  stopped: false,
  refused: 1,
  startedInTick: 0,
  maxTasks: 10,
  now: 1_000,
  startDeadline: 1_000 + 3_600_000,
  pauseMs: 30_000,
  ...overrides,
});

describe('core/tick-rounds: plan again after a refused lease?', function () {
  it('a refused lease, time and tasks left: again, after the pause', function () {
    expect(nextRound(facts())).to.deep.equal({ again: true, at: 31_000 });
  });

  it('ends for each reason, in order: stopped, nothing refused, off, maxTasks, maxDuration', function () {
    expect(nextRound(facts({ stopped: true, pauseMs: undefined }))).to.deep.equal({ again: false, reason: 'stopped' });
    expect(nextRound(facts({ refused: 0, pauseMs: undefined }))).to.deep.equal({ again: false, reason: 'not_refused' });
    expect(nextRound(facts({ pauseMs: undefined }))).to.deep.equal({ again: false, reason: 'off' });
    expect(nextRound(facts({ startedInTick: 10 }))).to.deep.equal({ again: false, reason: 'max_tasks' });
    expect(nextRound(facts({ startedInTick: 9 })).again).to.equal(true);
  });

  it('a pause that would end at or past the deadline is not taken', function () {
    const deadline = 1_000 + 3_600_000;
    expect(nextRound(facts({ now: deadline - 30_000 }))).to.deep.equal({ again: false, reason: 'max_duration' });
    expect(nextRound(facts({ now: deadline - 30_001 }))).to.deep.equal({ again: true, at: deadline - 1 });
  });
});
