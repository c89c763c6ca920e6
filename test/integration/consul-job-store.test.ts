/**
 * The Consul job store against the sandbox's real Consul agent (issue 17): the compare-and-set on ModifyIndex does
 * what the Cassandra store's LWTs do. Concurrent claims of one step: exactly one wins; a heartbeat or finish of an
 * attempt that is not the step's is refused; abort records who; a job older than a month is deleted by the next
 * `create`.
 */
import { expect } from 'chai';
import { initialSteps, JOB_KEEP_MS, type MaintenanceJob } from '../../src/core/index.js';
import { ConsulJobStore } from '../../src/lease/consul-job-store.js';
import { consulBackend } from '../support/lease-sandbox.js';
import { consul } from '../support/sandbox-clients.js';

const PREFIX = `tend-it-jobs-${process.pid}-${Date.now().toString(36)}`;
const NODES = [
  { hostId: 'h1', address: '10.0.0.1', datacenter: 'dc1' },
  { hostId: 'h2', address: '10.0.0.2', datacenter: 'dc1' },
  { hostId: 'h3', address: '10.0.0.3', datacenter: 'dc2' },
];

function job(id: string, createdAt: number): MaintenanceJob {
  return {
    id,
    operation: 'cleanup',
    keyspace: 'ks',
    concurrency: 1,
    concurrencyScope: 'cluster',
    staleAfterMs: 30_000,
    stepTimeoutMs: 3_600_000,
    maxAttempts: 2,
    createdAt,
    createdBy: 'it',
  };
}

describe('Consul job store (integration, real Consul)', function () {
  this.timeout(60_000);
  const store = (now: () => number = Date.now) => new ConsulJobStore(consulBackend(PREFIX).kv(), now);

  after(async function () {
    await consul('DELETE', `/v1/kv/${PREFIX}/?recurse`);
  });

  it('lets exactly one of concurrent claims of a step win, and refuses changes to an attempt that is not the step', async function () {
    const now = Date.now();
    const created = job('20261203-aaaaaaaa', now);
    await store().create(created, initialSteps(created, NODES));
    const [step] = (await store().steps(created.id)).filter((s) => s.hostId === 'h1');
    const claims = await Promise.all(
      ['a', 'b', 'c', 'd', 'e'].map((holder) => store().claim(created.id, step!, holder, now)),
    );
    expect(claims.filter(Boolean)).to.have.length(1);
    const claimed = (await store().steps(created.id)).find((s) => s.hostId === 'h1')!;
    expect(claimed).to.include({ state: 'running', attempt: 1 });
    expect(['a', 'b', 'c', 'd', 'e'][claims.indexOf(true)]).to.equal(claimed.holder);
    expect(await store().heartbeat(created.id, 'h1', 1, now + 5000)).to.equal(true);
    expect(await store().heartbeat(created.id, 'h1', 2, now + 5000)).to.equal(false);
    expect(await store().finish(created.id, 'h1', 1, 'done', 'finished', now + 6000)).to.equal(true);
    expect(await store().heartbeat(created.id, 'h1', 1, now + 7000), 'no longer running').to.equal(false);
    expect(await store().abort(created.id, 'node3', now + 8000)).to.equal(true);
    expect(await store().abort('20261203-nothere0', 'node3', now + 8000)).to.equal(false);
    expect(await store().job(created.id)).to.include({ abortedBy: 'node3', abortedAt: now + 8000 });
    expect((await store().jobs()).map((j) => j.id)).to.deep.equal([created.id]);
  });

  it('deletes a job a month after its last change, at the next create', async function () {
    const now = Date.now();
    const old = job('20261001-bbbbbbbb', now - JOB_KEEP_MS - 60_000);
    await store().create(old, initialSteps(old, NODES));
    expect((await store().jobs()).map((j) => j.id)).to.not.include(old.id);
    expect((await consul('GET', `/v1/kv/${PREFIX}/jobs/${old.id}/job`)).status).to.equal(200);
    const fresh = job('20261203-cccccccc', now);
    await store().create(fresh, initialSteps(fresh, NODES));
    expect((await consul('GET', `/v1/kv/${PREFIX}/jobs/${old.id}/?keys`)).status).to.equal(404);
    expect((await store().jobs()).map((j) => j.id)).to.include(fresh.id);
  });
});
