/**
 * A holder that dies or is stopped, and priority announcements, on both backends (real sandbox):
 * - SIGKILL: nobody acquires before the TTL has passed since the holder's last renewal; someone does within
 *   TTL + one renew interval of the kill.
 * - SIGTERM: the holder releases in `finally`, so the next node gets the lease at once, not after the TTL.
 * - A lower-priority node does not take the lease while a higher announcement is live, and takes it once that
 *   announcement expires.
 */
import { expect } from 'chai';
import type cassandra from 'cassandra-driver';
import { acquireLeases } from '../../src/lease/leases.js';
import type { LeaseBackend } from '../../src/lease/types.js';
import {
  cassandraBackend,
  consulBackend,
  ensureLeaseKeyspace,
  leaseClient,
  uniqueResource,
} from '../support/lease-sandbox.js';
import { startContender, type Contender } from '../support/lease-processes.js';

const TTL_MS = 4000;
const RENEW_MS = 1500;
const probe = { name: 'prober', host: 'test' };

async function firstAcquisition(backend: LeaseBackend, resource: string, limitMs: number): Promise<number> {
  const until = Date.now() + limitMs;
  while (Date.now() < until) {
    const result = await backend.tryAcquire(resource, probe, TTL_MS);
    if (result.acquired) {
      const at = Date.now();
      await backend.release(result.lease);
      return at;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nobody acquired ${resource} within ${limitMs} ms`);
}

for (const kind of ['cassandra', 'consul'] as const) {
  describe(`lease failover on ${kind} (real sandbox)`, function () {
    this.timeout(120_000);
    let client: cassandra.Client | undefined;
    let backend: LeaseBackend;
    let holder: Contender | undefined;
    const prefix = `tend-it-failover-${Date.now().toString(36)}`;

    before(async function () {
      if (kind === 'cassandra') {
        await ensureLeaseKeyspace();
        client = leaseClient(3);
        await client.connect();
        backend = cassandraBackend(client, 'node');
      } else {
        backend = consulBackend(prefix);
      }
    });
    afterEach(function () {
      holder?.process.kill('SIGKILL');
      holder = undefined;
    });
    after(async function () {
      await client?.shutdown();
    });

    it('a holder killed with SIGKILL: nobody before the TTL, someone within TTL + one renew interval', async function () {
      const resource = uniqueResource(`kill-${kind}`);
      holder = startContender(['hold', kind, resource, String(TTL_MS), String(RENEW_MS), '1', 'k', prefix]);
      await holder.waitFor((line) => typeof line.acquired === 'number');
      await holder.waitFor((line) => typeof line.renewed === 'number', 10_000);
      holder.process.kill('SIGKILL');
      const killedAt = Date.now();
      await holder.exited;
      const renewals = holder.lines.filter((line) => typeof line.renewed === 'number').map((l) => l.renewed as number);
      const lastRenewal = Math.max(...renewals);
      const acquiredAt = await firstAcquisition(backend, resource, TTL_MS * 3);
      console.log(
        `      ${kind}: acquired ${acquiredAt - lastRenewal} ms after the last renewal, ${acquiredAt - killedAt} ms after the kill (ttl ${TTL_MS}, renew ${RENEW_MS})`,
      );
      expect(acquiredAt - lastRenewal, 'not before the TTL').to.be.at.least(TTL_MS);
      expect(acquiredAt - killedAt, 'within TTL + one renew interval').to.be.at.most(TTL_MS + RENEW_MS);
    });

    it('a holder stopped with SIGTERM releases in finally: the next node acquires at once', async function () {
      const resource = uniqueResource(`term-${kind}`);
      holder = startContender(['hold', kind, resource, String(TTL_MS), String(RENEW_MS), '2', 't', prefix]);
      await holder.waitFor((line) => typeof line.acquired === 'number');
      expect((await backend.tryAcquire(resource, probe, TTL_MS)).acquired).to.equal(false);
      holder.process.kill('SIGTERM');
      const stoppedAt = Date.now();
      await holder.waitFor((line) => typeof line.released === 'number', 10_000);
      const acquiredAt = await firstAcquisition(backend, resource, TTL_MS * 3);
      expect(await holder.exited).to.equal(0);
      expect(acquiredAt - stoppedAt).to.be.lessThan(TTL_MS / 2);
    });

    it('a lower priority waits while a higher announcement is live and takes the lease once it expires', async function () {
      const resource = uniqueResource(`announce-${kind}`);
      const group = { name: resource, slots: [`${resource}/slot-0`] };
      const announcementTtlMs = 3000;
      await backend.announce({ resource, holder: 'important', priority: 50, tieBreaker: 9 }, announcementTtlMs);
      const announcedAt = Date.now();
      const options = {
        holder: { name: 'modest', host: 'test' },
        ttlMs: TTL_MS,
        announcementTtlMs: 10_000,
        priority: { priority: 5, tieBreaker: 1 },
        retryEveryMs: 200,
      };
      const once = await acquireLeases(backend, [group], options);
      expect(once).to.deep.include({ acquired: false, reason: 'outranked' });
      if (!once.acquired) expect(once.outrankedBy?.holder).to.equal('important');
      // Our announcement is gone after giving up.
      expect((await backend.announcements(resource)).map((note) => note.holder)).to.deep.equal(['important']);

      const waited = await acquireLeases(backend, [group], { ...options, waitUntil: Date.now() + 10_000 });
      const acquiredAt = Date.now();
      expect(waited.acquired).to.equal(true);
      expect(acquiredAt - announcedAt, 'only after the announcement expired').to.be.at.least(announcementTtlMs);
      expect(acquiredAt - announcedAt).to.be.at.most(announcementTtlMs + 2000);
      expect(await backend.announcements(resource)).to.deep.equal([]);
      if (waited.acquired) for (const lease of waited.leases) await backend.release(lease);
    });

    it('equal priorities: the lower tie breaker goes first, deterministically', async function () {
      const resource = uniqueResource(`tie-${kind}`);
      const group = { name: resource, slots: [`${resource}/slot-0`] };
      await backend.announce({ resource, holder: 'first', priority: 7, tieBreaker: 1 }, 10_000);
      const base = { ttlMs: TTL_MS, announcementTtlMs: 10_000 };
      const second = await acquireLeases(backend, [group], {
        ...base,
        holder: { name: 'second', host: 'test' },
        priority: { priority: 7, tieBreaker: 2 },
      });
      expect(second).to.deep.include({ acquired: false, reason: 'outranked' });
      const first = await acquireLeases(backend, [group], {
        ...base,
        holder: { name: 'first', host: 'test' },
        priority: { priority: 7, tieBreaker: 1 },
      });
      expect(first.acquired).to.equal(true);
      if (first.acquired) for (const lease of first.leases) await backend.release(lease);
    });
  });
}
