/** Between two tasks of a batch: may the next start, and on the same leases (issue 13, item 1)? */
import { expect } from 'chai';
import {
  chooseFollower,
  keepLeases,
  leasesCover,
  sameLeases,
  startBlock,
  type KeepLeasesFacts,
} from '../../../src/core/index.js';

describe('startBlock: may a task start now', function () {
  const free = { interrupted: false, now: 1000, startDeadline: 2000 };

  it('starts when not interrupted, before the deadline, with its replicas up', function () {
    expect(startBlock(free)).to.equal(undefined);
  });

  it('interrupted wins over the deadline, the deadline over a replica down', function () {
    const all = { interrupted: true, now: 2000, startDeadline: 2000, replicaDown: 'replica 10.0.0.2 went down' };
    expect(startBlock(all)).to.deep.equal({ status: 'not_started_aborted', message: 'interrupted' });
    expect(startBlock({ ...all, interrupted: false })).to.deep.equal({
      status: 'not_started_deadline',
      message: 'schedule.maxDuration reached',
    });
    expect(startBlock({ ...free, replicaDown: 'replica 10.0.0.2 went down' })).to.deep.equal({
      status: 'not_started_replica_down',
      message: 'replica 10.0.0.2 went down',
    });
  });

  it('the deadline is the first instant no task starts (a task at deadline - 1 starts)', function () {
    expect(startBlock({ ...free, now: 1999 })).to.equal(undefined);
    expect(startBlock({ ...free, now: 2000 })?.status).to.equal('not_started_deadline');
  });
});

describe('keepLeases: the next task on the leases held now', function () {
  const held = ['node/10.0.0.1', 'node/10.0.0.2', 'node/10.0.0.3'];
  const next = { groups: [...held], outranked: false };
  const facts = (over: Partial<KeepLeasesFacts> = {}): KeepLeasesFacts => ({ held, stopped: false, next, ...over });

  it('keeps them for a next task on the same lease groups, not outranked, free to start', function () {
    expect(keepLeases(facts())).to.deep.equal({ keep: true });
  });

  it('releases them after the last task', function () {
    expect(keepLeases({ held, stopped: false })).to.deep.equal({ keep: false, reason: 'last' });
  });

  it('releases them when the run stopped (lease lost, interrupted, node unreachable), whatever follows', function () {
    expect(keepLeases(facts({ stopped: true }))).to.deep.equal({ keep: false, reason: 'stopped' });
  });

  it('keeps them for a task on a subset of the replicas held (its groups are all held)', function () {
    for (const groups of [held.slice(0, 2), held.slice(1), [held[1]!]]) {
      expect(keepLeases(facts({ next: { groups, outranked: false } }))).to.deep.equal({ keep: true });
    }
  });

  it('releases them for a task that needs a replica not held (one more, or other ones)', function () {
    for (const groups of [[...held, 'node/10.0.0.4'], ['node/10.0.0.4', ...held.slice(1)], ['node/10.0.0.4'], []]) {
      expect(keepLeases(facts({ next: { groups, outranked: false } }))).to.deep.equal({
        keep: false,
        reason: 'other_leases',
      });
    }
  });

  it('releases them when another node announced a higher priority (or the announcements could not be read)', function () {
    expect(keepLeases(facts({ next: { ...next, outranked: true } }))).to.deep.equal({
      keep: false,
      reason: 'outranked',
    });
  });

  it('releases them when the next task may not start (deadline, interrupt, a replica down)', function () {
    const blocked = { status: 'not_started_deadline', message: 'schedule.maxDuration reached' } as const;
    expect(keepLeases(facts({ next: { ...next, blocked } }))).to.deep.equal({ keep: false, reason: 'blocked' });
  });

  it('datacenter scope: every task of the DC needs the same lease, so it is kept across tables', function () {
    expect(
      keepLeases({ held: ['dc/dc1'], stopped: false, next: { groups: ['dc/dc1'], outranked: false } }),
    ).to.deep.equal({
      keep: true,
    });
  });

  it('sameLeases compares names in order (leaseGroups sorts them)', function () {
    expect(sameLeases(['a', 'b'], ['a', 'b'])).to.equal(true);
    expect(sameLeases(['a', 'b'], ['a'])).to.equal(false);
    expect(sameLeases(['a'], ['a', 'b'])).to.equal(false);
    expect(sameLeases(['a', 'b'], ['a', 'c'])).to.equal(false);
  });

  it('leasesCover: every needed group is held, in any order; nothing needed is not covered', function () {
    expect(leasesCover(['a', 'b', 'c'], ['c', 'a'])).to.equal(true);
    expect(leasesCover(['a', 'b'], ['a', 'b'])).to.equal(true);
    expect(leasesCover(['a', 'b'], ['a', 'd'])).to.equal(false);
    expect(leasesCover(['a'], ['a', 'b'])).to.equal(false);
    expect(leasesCover(['a'], [])).to.equal(false);
  });
});

describe('chooseFollower: which pending task runs next on the leases held', function () {
  const held = ['node/a', 'node/b', 'node/c'];

  it('the first pending task in plan order whose groups the held ones cover, past tasks on other replicas', function () {
    const pending = [['node/a', 'node/d'], ['node/b', 'node/c'], held, ['node/a']];
    expect(chooseFollower(held, pending)).to.equal(1);
    expect(chooseFollower(held, pending.slice(2))).to.equal(0);
  });

  it('the next task when it needs the same groups (what tend did before)', function () {
    expect(chooseFollower(held, [held, ['node/a']])).to.equal(0);
  });

  it('none when no pending task is covered, or none is pending', function () {
    expect(chooseFollower(held, [['node/d'], ['node/a', 'node/b', 'node/c', 'node/d']])).to.equal(undefined);
    expect(chooseFollower(held, [])).to.equal(undefined);
  });

  it('the same choice from the same plan and held leases (every node decides alike)', function () {
    const pending = [['node/d'], ['node/c'], ['node/b']];
    expect(
      chooseFollower(
        [...held],
        pending.map((g) => [...g]),
      ),
    ).to.equal(chooseFollower(held, pending));
  });
});
