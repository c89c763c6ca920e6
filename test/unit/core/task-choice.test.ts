import { expect } from 'chai';
import { chooseNextTask } from '../../../src/core/index.js';

// Tasks as the lease slots they need: one group per replica (scope node, perResource 1 or 2).
const task = (...replicas: string[]) => replicas.map((r) => [`node/${r}/slot-0`]);

describe('core/task-choice: which planned task a tick tries next', function () {
  it('nothing pending: no choice', function () {
    expect(chooseNextTask({ pending: [], heldElsewhere: new Set() })).to.equal(undefined);
  });

  it('nothing held: the first task in plan order', function () {
    const pending = [task('a', 'b', 'c'), task('d', 'e', 'f')];
    expect(chooseNextTask({ pending, heldElsewhere: new Set() })).to.deep.equal({ index: 0, free: true });
  });

  it('passes over tasks with a held replica, to the first whose replicas are all free', function () {
    const pending = [task('a', 'b', 'c'), task('c', 'd', 'e'), task('d', 'e', 'f'), task('g', 'h', 'i')];
    const heldElsewhere = new Set(['node/c/slot-0']);
    expect(chooseNextTask({ pending, heldElsewhere })).to.deep.equal({ index: 2, free: true });
  });

  it('keeps plan order among free tasks (the same choice on every node for the same leases)', function () {
    const pending = [task('a'), task('b'), task('c'), task('d')];
    const heldElsewhere = new Set(['node/a/slot-0']);
    expect(chooseNextTask({ pending, heldElsewhere })).to.deep.equal({ index: 1, free: true });
    expect(chooseNextTask({ pending: pending.slice(2), heldElsewhere })).to.deep.equal({ index: 0, free: true });
  });

  it('a group with a free slot is free (perResource 2: one slot of the two held)', function () {
    const pending = [[['node/a/slot-0', 'node/a/slot-1']], [['node/b/slot-0', 'node/b/slot-1']]];
    expect(chooseNextTask({ pending, heldElsewhere: new Set(['node/a/slot-0']) })).to.deep.equal({
      index: 0,
      free: true,
    });
    expect(chooseNextTask({ pending, heldElsewhere: new Set(['node/a/slot-0', 'node/a/slot-1']) })).to.deep.equal({
      index: 1,
      free: true,
    });
  });

  it('every task busy: the first in plan order, marked not free (its claim decides, as before)', function () {
    const pending = [task('a', 'b'), task('b', 'c')];
    expect(chooseNextTask({ pending, heldElsewhere: new Set(['node/b/slot-0']) })).to.deep.equal({
      index: 0,
      free: false,
    });
  });

  it('a task that needs no lease is free', function () {
    expect(chooseNextTask({ pending: [task('a'), []], heldElsewhere: new Set(['node/a/slot-0']) })).to.deep.equal({
      index: 1,
      free: true,
    });
  });
});
