/** `lease status` / `lease release` use cases on the in-memory backend, and their argv parsing. */
import { expect } from 'chai';
import { MemoryLeaseBackend } from '../../../src/lease/memory.js';
import { leaseStatus, releaseLease } from '../../../src/app/lease-status.js';
import { LeaseUnavailable } from '../../../src/errors.js';
import { leaseModule } from '../../../src/cli/commands/lease.js';

const me = { name: 'node1', host: 'h1' };
const other = { name: 'node2', host: 'h2' };

describe('lease status and release (use cases)', function () {
  it('status lists leases with expiry, live announcements and forced releases', async function () {
    let now = 1_700_000_000_000;
    const backend = new MemoryLeaseBackend(() => now);
    await backend.tryAcquire('dc/dc1/slot-0', other, 60_000, { task: 'ks.t' });
    await backend.announce({ resource: 'dc/dc1', holder: 'node1', priority: 4, tieBreaker: 2 }, 30_000);
    now += 10_000;
    const report = await leaseStatus(backend, now);
    expect(report.leases).to.have.length(1);
    expect(report.leases[0]).to.include({
      resource: 'dc/dc1/slot-0',
      holder: 'node2',
      holderHost: 'h2',
      expiresInMs: 50_000,
    });
    expect(report.leases[0]!.metadata.task).to.equal('ks.t');
    expect(report.announcements[0]).to.include({
      resource: 'dc/dc1',
      holder: 'node1',
      priority: 4,
      expiresInMs: 20_000,
    });
    expect(report.broken).to.deep.equal([]);
  });

  it('release without --force frees our own lease', async function () {
    const backend = new MemoryLeaseBackend();
    await backend.tryAcquire('r', me, 60_000);
    const report = await releaseLease(backend, 'r', me, false);
    expect(report).to.include({ released: true, forced: false, previousHolder: 'node1' });
    expect(await backend.list()).to.deep.equal([]);
    expect(await backend.brokenLeases()).to.deep.equal([]);
  });

  it("release without --force refuses another node's lease (exit 4) and says whose", async function () {
    const backend = new MemoryLeaseBackend();
    await backend.tryAcquire('r', other, 60_000);
    const error = await releaseLease(backend, 'r', me, false).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(LeaseUnavailable);
    expect((error as LeaseUnavailable).exitCode).to.equal(4);
    expect((error as Error).message).to.include('node2 on h2');
    expect((error as LeaseUnavailable).hints.join(' ')).to.include('--force');
    expect(await backend.list()).to.have.length(1);
  });

  it('release --force breaks it, says whose it was and records who broke it', async function () {
    const backend = new MemoryLeaseBackend();
    await backend.tryAcquire('r', other, 60_000);
    const report = await releaseLease(backend, 'r', me, true);
    expect(report).to.include({
      released: true,
      forced: true,
      previousHolder: 'node2',
      previousHost: 'h2',
      releasedBy: 'node1',
    });
    expect((await leaseStatus(backend)).broken[0]).to.include({
      resource: 'r',
      previousHolder: 'node2',
      brokenBy: 'node1',
    });
  });

  it('releasing a lease nobody holds is not a failure', async function () {
    const report = await releaseLease(new MemoryLeaseBackend(), 'r', me, false);
    expect(report.released).to.equal(false);
  });

  it('argv → options', function () {
    const release = leaseModule.commands.find((command) => command.path[1] === 'release')!;
    expect(release.parse(['dc/dc1/slot-0'], {})).to.deep.equal({ resource: 'dc/dc1/slot-0', force: false });
    expect(release.parse(['node/10.0.0.7/slot-1'], { force: true })).to.deep.equal({
      resource: 'node/10.0.0.7/slot-1',
      force: true,
    });
    expect(() => release.parse([' '], {})).to.throw('is not a lease resource');
    expect(() => release.parse(['r'], {})).to.throw('is not a lease resource');
  });
});
