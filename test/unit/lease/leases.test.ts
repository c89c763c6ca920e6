import { expect } from 'chai';
import sinon from 'sinon';
import { MemoryLeaseBackend } from '../../../src/lease/memory.js';
import { acquireLeases, leaseGroups, withLeases } from '../../../src/lease/leases.js';
import { Heartbeat } from '../../../src/lease/heartbeat.js';
import { outranks, type HeldLease } from '../../../src/lease/types.js';
import { Interrupted, LeaseLost } from '../../../src/errors.js';

const me = { name: 'node1', host: 'h1' };
const other = { name: 'node2', host: 'h2' };
const base = { holder: me, ttlMs: 60_000, announcementTtlMs: 60_000 };

function held(result: Awaited<ReturnType<typeof acquireLeases>>): HeldLease[] {
  if (!result.acquired) throw new Error(`not acquired: ${JSON.stringify(result)}`);
  return result.leases;
}

describe('lease groups by scope', function () {
  it('datacenter: one group of N slots in the local DC', function () {
    expect(
      leaseGroups({ scope: 'datacenter', slotsPerDatacenter: 2, perResource: 1 }, { datacenter: 'dc1', replicas: [] }),
    ).to.deep.equal([{ name: 'dc/dc1', slots: ['dc/dc1/slot-0', 'dc/dc1/slot-1'] }]);
  });
  it('node: one group per replica, sorted and de-duplicated', function () {
    const groups = leaseGroups(
      { scope: 'node', slotsPerDatacenter: 1, perResource: 1 },
      { datacenter: 'dc1', replicas: ['10.0.0.3', '10.0.0.1', '10.0.0.3'] },
    );
    expect(groups.map((group) => group.name)).to.deep.equal(['node/10.0.0.1', 'node/10.0.0.3']);
  });
});

describe('announcement order', function () {
  const note = (priority: number, tieBreaker: number, holder: string) => ({
    resource: 'r',
    holder,
    priority,
    tieBreaker,
    announcedAt: new Date(0),
    expiresAt: new Date(1),
  });
  const cases: Array<[string, ReturnType<typeof note>, ReturnType<typeof note>, boolean]> = [
    ['higher priority first', note(5, 9, 'b'), note(4, 0, 'a'), true],
    ['lower priority second', note(4, 0, 'a'), note(5, 9, 'b'), false],
    ['tie: lower tie breaker first', note(5, 1, 'b'), note(5, 2, 'a'), true],
    ['full tie: holder name decides', note(5, 1, 'a'), note(5, 1, 'b'), true],
    ['never outranks itself', note(5, 1, 'a'), note(5, 1, 'a'), false],
  ];
  for (const [name, a, b, expected] of cases) it(name, () => expect(outranks(a, b)).to.equal(expected));
});

describe('acquireLeases (in-memory backend)', function () {
  it('takes one slot of every group in sorted order', async function () {
    const backend = new MemoryLeaseBackend();
    const groups = leaseGroups(
      { scope: 'node', slotsPerDatacenter: 1, perResource: 1 },
      { datacenter: 'dc1', replicas: ['b', 'a'] },
    );
    const leases = held(await acquireLeases(backend, groups, base));
    expect(leases.map((lease) => lease.resource)).to.deep.equal(['node/a/slot-0', 'node/b/slot-0']);
  });

  it('takes a free slot when another is held (datacenter scope, 2 slots)', async function () {
    const backend = new MemoryLeaseBackend();
    const groups = leaseGroups(
      { scope: 'datacenter', slotsPerDatacenter: 2, perResource: 1 },
      { datacenter: 'dc1', replicas: [] },
    );
    await backend.tryAcquire('dc/dc1/slot-0', other, 60_000);
    expect(held(await acquireLeases(backend, groups, base))[0]!.resource).to.equal('dc/dc1/slot-1');
    const third = await acquireLeases(backend, groups, { ...base, holder: { name: 'node3', host: 'h3' } });
    expect(third).to.deep.include({ acquired: false, reason: 'held', group: 'dc/dc1' });
    if (!third.acquired) expect(third.heldBy.map((record) => record.holder)).to.deep.equal(['node2', 'node1']);
  });

  it('all or nothing: releases what it took when a later replica is busy', async function () {
    const backend = new MemoryLeaseBackend();
    await backend.tryAcquire('node/c/slot-0', other, 60_000);
    const groups = leaseGroups(
      { scope: 'node', slotsPerDatacenter: 1, perResource: 1 },
      { datacenter: 'dc1', replicas: ['a', 'b', 'c'] },
    );
    const result = await acquireLeases(backend, groups, base);
    expect(result).to.deep.include({ acquired: false, group: 'node/c' });
    expect((await backend.list()).map((record) => record.resource)).to.deep.equal(['node/c/slot-0']);
    expect(backend.calls.filter((call) => call.startsWith('release')).sort()).to.deep.equal([
      'release node/a/slot-0',
      'release node/b/slot-0',
    ]);
  });

  it('releases what it took when the backend fails half way, and rethrows', async function () {
    const backend = new MemoryLeaseBackend();
    const groups = leaseGroups(
      { scope: 'node', slotsPerDatacenter: 1, perResource: 1 },
      { datacenter: 'dc1', replicas: ['a', 'b'] },
    );
    const original = backend.tryAcquire.bind(backend);
    sinon.stub(backend, 'tryAcquire').callsFake(async (resource, ...rest) => {
      if (resource.startsWith('node/b')) throw new Error('boom');
      return original(resource, ...rest);
    });
    await acquireLeases(backend, groups, base).then(
      () => expect.fail('should throw'),
      (error: Error) => expect(error.message).to.equal('boom'),
    );
    expect(await backend.list()).to.deep.equal([]);
  });

  it('steps back for a higher live announcement and withdraws its own', async function () {
    let now = 1_000_000;
    const backend = new MemoryLeaseBackend(() => now);
    await backend.announce({ resource: 'dc/dc1', holder: 'node2', priority: 10, tieBreaker: 0 }, 5000);
    const groups = [{ name: 'dc/dc1', slots: ['dc/dc1/slot-0'] }];
    const options = { ...base, priority: { priority: 3, tieBreaker: 0 } };
    const result = await acquireLeases(backend, groups, options);
    expect(result).to.deep.include({ acquired: false, reason: 'outranked' });
    expect((await backend.announcements('dc/dc1')).map((note) => note.holder)).to.deep.equal(['node2']);
    now += 5001;
    expect(held(await acquireLeases(backend, groups, options))).to.have.length(1);
    expect(await backend.announcements('dc/dc1')).to.deep.equal([]);
  });

  it('a lower announcement does not hold us back', async function () {
    const backend = new MemoryLeaseBackend();
    await backend.announce({ resource: 'dc/dc1', holder: 'node2', priority: 1, tieBreaker: 0 }, 5000);
    const result = await acquireLeases(backend, [{ name: 'dc/dc1', slots: ['dc/dc1/slot-0'] }], {
      ...base,
      priority: { priority: 3, tieBreaker: 0 },
    });
    expect(result.acquired).to.equal(true);
  });

  it('waits until the deadline, retrying', async function () {
    const backend = new MemoryLeaseBackend();
    const busy = await backend.tryAcquire('x/slot-0', other, 60_000);
    setTimeout(() => void (busy.acquired && backend.release(busy.lease)), 50);
    const result = await acquireLeases(backend, [{ name: 'x', slots: ['x/slot-0'] }], {
      ...base,
      waitUntil: Date.now() + 2000,
      retryEveryMs: 20,
    });
    expect(result.acquired).to.equal(true);
  });

  it('stops waiting when interrupted', async function () {
    const backend = new MemoryLeaseBackend();
    await backend.tryAcquire('x/slot-0', other, 60_000);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Interrupted('interrupted by SIGINT')), 30);
    await acquireLeases(backend, [{ name: 'x', slots: ['x/slot-0'] }], {
      ...base,
      waitUntil: Date.now() + 5000,
      retryEveryMs: 1000,
      signal: controller.signal,
    }).then(
      () => expect.fail('should throw'),
      (error: unknown) => expect(error).to.be.instanceOf(Interrupted),
    );
  });
});

describe('heartbeat and withLeases (fake clock)', function () {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: 1_000_000, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => clock.restore());

  async function setup(ttlMs = 10_000) {
    const backend = new MemoryLeaseBackend(() => Date.now());
    const result = await backend.tryAcquire('r', me, ttlMs);
    if (!result.acquired) throw new Error('setup');
    return { backend, lease: result.lease };
  }

  it('renews every interval and outlives the TTL many times', async function () {
    const { backend, lease } = await setup();
    const heartbeat = new Heartbeat(backend, [lease], { renewEveryMs: 2000 }).start();
    await clock.tickAsync(60_000);
    expect(heartbeat.signal.aborted).to.equal(false);
    expect(backend.calls.filter((call) => call === 'renew r')).to.have.length(30);
    await heartbeat.stop();
  });

  it('fires lost within one interval when the lease is deleted', async function () {
    const { backend, lease } = await setup();
    const heartbeat = new Heartbeat(backend, [lease], { renewEveryMs: 2000 }).start();
    await clock.tickAsync(2500);
    backend.delete('r');
    await clock.tickAsync(2000);
    expect(heartbeat.signal.aborted).to.equal(true);
    expect(heartbeat.signal.reason).to.be.instanceOf(LeaseLost);
    await heartbeat.stop();
  });

  it('keeps trying through failures, then fires lost before the lease may expire', async function () {
    const { backend, lease } = await setup(10_000);
    const errors: unknown[] = [];
    const heartbeat = new Heartbeat(backend, [lease], {
      renewEveryMs: 2000,
      onRenewError: (_lease, error) => errors.push(error),
    }).start();
    backend.failures.renew = new Error('cassandra unavailable');
    await clock.tickAsync(6100);
    expect(heartbeat.signal.aborted).to.equal(false);
    await clock.tickAsync(2000);
    expect(heartbeat.signal.aborted).to.equal(true);
    expect(Date.now() - 1_000_000).to.be.lessThan(10_000);
    expect(errors.length).to.be.greaterThan(1);
    await heartbeat.stop();
  });

  it('fires lost when a renewal hangs past the point of no return (watchdog)', async function () {
    const { backend, lease } = await setup(10_000);
    sinon.stub(backend, 'renew').returns(new Promise(() => undefined));
    const heartbeat = new Heartbeat(backend, [lease], { renewEveryMs: 2000 }).start();
    await clock.tickAsync(9000);
    expect(heartbeat.signal.aborted).to.equal(true);
    void heartbeat.stop();
  });

  it('withLeases releases in finally after success, failure and loss', async function () {
    const { backend, lease } = await setup();
    expect(await withLeases(backend, [lease], { renewEveryMs: 2000 }, async () => 42)).to.equal(42);
    expect(backend.calls).to.include('release r');

    const second = await backend.tryAcquire('s', me, 10_000);
    if (!second.acquired) throw new Error('setup');
    await withLeases(backend, [second.lease], { renewEveryMs: 2000 }, async () => {
      throw new Error('task failed');
    }).catch((error: Error) => expect(error.message).to.equal('task failed'));
    expect(backend.calls).to.include('release s');

    const third = await backend.tryAcquire('t', me, 10_000);
    if (!third.acquired) throw new Error('setup');
    const run = withLeases(backend, [third.lease], { renewEveryMs: 2000 }, async (signal) => {
      backend.delete('t');
      await new Promise((resolve) => signal.addEventListener('abort', resolve));
      return 'stopped';
    });
    // The handler is attached before the clock moves: `run` rejects during tickAsync.
    const settled = run.then(
      () => expect.fail('a lost lease must surface'),
      (error: unknown) => expect(error).to.be.instanceOf(LeaseLost),
    );
    await clock.tickAsync(2100);
    await settled;
  });

  it('withLeases passes an outside interrupt to the work and still releases', async function () {
    const { backend, lease } = await setup();
    const controller = new AbortController();
    const run = withLeases(backend, [lease], { renewEveryMs: 2000, signal: controller.signal }, async (signal) => {
      await new Promise((resolve) => signal.addEventListener('abort', resolve));
      throw signal.reason;
    });
    controller.abort(new Interrupted('interrupted by SIGTERM'));
    await run.catch((error: unknown) => expect(error).to.be.instanceOf(Interrupted));
    expect(await backend.list()).to.deep.equal([]);
  });
});

describe('announcements when the backend cannot be reached', function () {
  it('an announcement that failed is not withdrawn (that would only wait for a second timeout); written ones are', async function () {
    const backend = new MemoryLeaseBackend();
    const announce = backend.announce.bind(backend);
    backend.announce = async (note, ttl) => {
      if (note.resource === 'node/b') throw new Error('consul unavailable: no answer within 2000 ms');
      return announce(note, ttl);
    };
    const withdrawn: string[] = [];
    const withdraw = backend.withdraw.bind(backend);
    backend.withdraw = async (resource, holder) => {
      withdrawn.push(resource);
      return withdraw(resource, holder);
    };
    const groups = [
      { name: 'node/a', slots: ['node/a/slot-0'] },
      { name: 'node/b', slots: ['node/b/slot-0'] },
    ];
    const error = await acquireLeases(backend, groups, {
      holder: me,
      ttlMs: 10_000,
      announcementTtlMs: 10_000,
      priority: { priority: 1, tieBreaker: 1 },
    }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).to.include('consul unavailable');
    expect(withdrawn).to.deep.equal(['node/a']);
  });
});
