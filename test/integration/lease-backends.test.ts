/**
 * Both lease backends against the real sandbox: the port's contract, the heartbeat outliving the TTL, and the
 * lost signal when the row is deleted (Cassandra) or the session destroyed (Consul).
 */
import { expect } from 'chai';
import type cassandra from 'cassandra-driver';
import type { LeaseBackend, HeldLease } from '../../src/lease/types.js';
import { Heartbeat } from '../../src/lease/heartbeat.js';
import { LeaseLost } from '../../src/errors.js';
import {
  LEASE_KEYSPACE,
  cassandraBackend,
  consulBackend,
  ensureLeaseKeyspace,
  leaseClient,
  uniqueResource,
} from '../support/lease-sandbox.js';
import { consul } from '../support/sandbox-clients.js';

const alice = { name: 'alice', host: 'host-a' };
const bob = { name: 'bob', host: 'host-b' };

interface Subject {
  backend: LeaseBackend;
  /** Take the lease away behind the holder's back, the way an operator or a crash would. */
  destroy(lease: HeldLease): Promise<void>;
}

function held(result: Awaited<ReturnType<LeaseBackend['tryAcquire']>>): HeldLease {
  if (!result.acquired) throw new Error(`expected to acquire, got ${JSON.stringify(result)}`);
  return result.lease;
}

const subjects: Array<[string, () => Promise<Subject & { close(): Promise<void> }>]> = [
  [
    'cassandra',
    async () => {
      await ensureLeaseKeyspace();
      const client: cassandra.Client = leaseClient(1);
      await client.connect();
      return {
        backend: cassandraBackend(client),
        destroy: async (lease) => {
          await client.execute(`DELETE FROM ${LEASE_KEYSPACE}.leases WHERE resource = ? IF EXISTS`, [lease.resource], {
            prepare: true,
          });
        },
        close: () => client.shutdown(),
      };
    },
  ],
  [
    'consul',
    async () => ({
      backend: consulBackend(`tend-it-${Date.now().toString(36)}`),
      destroy: async (lease) => {
        await consul('PUT', `/v1/session/destroy/${lease.leaseId}`);
      },
      close: async () => undefined,
    }),
  ],
];

for (const [name, make] of subjects) {
  describe(`lease backend ${name} (real sandbox)`, function () {
    this.timeout(60_000);
    let subject: Subject & { close(): Promise<void> };
    before(async function () {
      subject = await make();
    });
    after(async function () {
      await subject.backend.close();
      await subject.close();
    });

    it('acquires, reports who holds a busy lease and until when, renews and releases', async function () {
      const { backend } = subject;
      const resource = uniqueResource('basic');
      const lease = held(await backend.tryAcquire(resource, alice, 20_000, { task: 'ks.t' }));
      const busy = await backend.tryAcquire(resource, bob, 20_000);
      expect(busy.acquired).to.equal(false);
      if (busy.acquired) return;
      expect(busy.heldBy?.holder).to.equal('alice');
      expect(busy.heldBy?.holderHost).to.equal('host-a');
      const expiresIn = busy.heldBy!.expiresAt.getTime() - Date.now();
      expect(expiresIn).to.be.within(10_000, 21_000);

      const listed = (await backend.list()).find((record) => record.resource === resource);
      expect(listed?.holder).to.equal('alice');
      expect(listed?.metadata.task).to.equal('ks.t');

      const renewed = await backend.renew(lease);
      expect(renewed.renewed).to.equal(true);

      expect(await backend.release(lease)).to.equal(true);
      expect(await backend.release(lease)).to.equal(false);
      const again = held(await backend.tryAcquire(resource, bob, 20_000));
      // Alice's old acquisition can neither renew nor release Bob's.
      expect((await backend.renew(lease)).renewed).to.equal(false);
      expect(await backend.release(lease)).to.equal(false);
      expect(await backend.release(again)).to.equal(true);
    });

    it('a lease that is not renewed frees itself after its TTL', async function () {
      const { backend } = subject;
      const resource = uniqueResource('ttl');
      held(await backend.tryAcquire(resource, alice, 2000));
      const started = Date.now();
      let acquiredAt = 0;
      // started is measured after the acquire returned, so the lease was written a little before it.
      while (Date.now() - started < 10_000) {
        const result = await backend.tryAcquire(resource, bob, 2000);
        if (result.acquired) {
          acquiredAt = Date.now();
          await backend.release(result.lease);
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(acquiredAt, 'someone acquired').to.be.greaterThan(0);
      // Never before the TTL; Consul may take a little longer (it checks its session timers coarsely).
      expect(acquiredAt - started).to.be.within(2000, 3500);
    });

    it('force release breaks the holder, says whose it was and records who broke it', async function () {
      const { backend } = subject;
      const resource = uniqueResource('force');
      const lease = held(await backend.tryAcquire(resource, alice, 20_000));
      const broken = await backend.forceRelease(resource, bob);
      expect(broken).to.include({ resource, previousHolder: 'alice', previousHost: 'host-a', brokenBy: 'bob' });
      expect((await backend.renew(lease)).renewed).to.equal(false);
      const records = await backend.brokenLeases();
      expect(records.find((record) => record.resource === resource)?.brokenBy).to.equal('bob');
      expect(await backend.forceRelease(resource, bob)).to.equal(undefined);
    });

    it('announcements are visible until withdrawn or expired', async function () {
      const { backend } = subject;
      const resource = uniqueResource('announce');
      await backend.announce({ resource, holder: 'alice', priority: 12.5, tieBreaker: 7 }, 20_000);
      await backend.announce({ resource, holder: 'bob', priority: 3, tieBreaker: 1 }, 2000);
      const notes = await backend.announcements(resource);
      expect(notes.map((note) => [note.holder, note.priority, note.tieBreaker]).sort()).to.deep.equal([
        ['alice', 12.5, 7],
        ['bob', 3, 1],
      ]);
      await backend.withdraw(resource, 'alice');
      await new Promise((resolve) => setTimeout(resolve, 3200));
      expect(await backend.announcements(resource)).to.deep.equal([]);
    });

    it('the heartbeat keeps a lease alive for several TTLs', async function () {
      const { backend } = subject;
      const resource = uniqueResource('heartbeat');
      const lease = held(await backend.tryAcquire(resource, alice, 2000));
      const heartbeat = new Heartbeat(backend, [lease], { renewEveryMs: 400 }).start();
      try {
        await new Promise((resolve) => setTimeout(resolve, 8000));
        expect(heartbeat.signal.aborted, String(heartbeat.signal.reason)).to.equal(false);
        expect((await backend.tryAcquire(resource, bob, 2000)).acquired).to.equal(false);
      } finally {
        await heartbeat.stop();
        await backend.release(lease);
      }
    });

    it('fires the lost signal within one renew interval when the lease is taken away', async function () {
      const { backend, destroy } = subject;
      const resource = uniqueResource('lost');
      const lease = held(await backend.tryAcquire(resource, alice, 10_000));
      const renewEveryMs = 1000;
      const heartbeat = new Heartbeat(backend, [lease], { renewEveryMs }).start();
      try {
        await new Promise((resolve) => setTimeout(resolve, 1500));
        await destroy(lease);
        const destroyedAt = Date.now();
        await new Promise<void>((resolve) => heartbeat.signal.addEventListener('abort', () => resolve()));
        const after = Date.now() - destroyedAt;
        expect(heartbeat.signal.reason).to.be.instanceOf(LeaseLost);
        // One renew interval plus the renewal's own round trip.
        expect(after).to.be.lessThan(renewEveryMs + 500);
      } finally {
        await heartbeat.stop();
      }
    });
  });
}
