/**
 * Run policies against the real sandbox: windows added, listed and removed; the cluster-wide pause set and
 * lifted; what a tick reads (loadPolicies) decided by the core at Cassandra's clock.
 */
import { expect } from 'chai';
import type cassandra from 'cassandra-driver';
import { clusterNow } from '../../src/cluster/session.js';
import { schemaStatements } from '../../src/cluster/tend-schema.js';
import { evaluatePolicies } from '../../src/core/index.js';
import { UsageError } from '../../src/errors.js';
import { parseUntil, parseWindowSpec } from '../../src/app/policy-input.js';
import { loadPolicies } from '../../src/app/policies.js';
import { CassandraPolicyStore } from '../../src/cluster/policy-store.js';
import { addPolicy, listPolicies, pauseSchedule, removePolicies, resumeSchedule } from '../../src/app/policy-manage.js';
import { sandboxTendConfig, openTestSession } from '../support/sandbox-config.js';

const KS = 'tend_it_policy';
const HOUR = 3_600_000;

/** HH:MM in UTC, `offsetMs` from `now`. */
function clock(now: number, offsetMs: number): string {
  return new Date(now + offsetMs).toISOString().slice(11, 16);
}

/** The adapter on `client`, in the test keyspace. */
const store = (client: cassandra.Client) => new CassandraPolicyStore(client, KS);

async function clear(client: cassandra.Client): Promise<void> {
  for (const row of (await client.execute(`SELECT id FROM ${KS}.run_windows`)).rows) {
    await client.execute(`DELETE FROM ${KS}.run_windows WHERE id = ?`, [row.get('id')], { prepare: true });
  }
  for (const row of (await client.execute(`SELECT scope FROM ${KS}.pauses`)).rows) {
    await client.execute(`DELETE FROM ${KS}.pauses WHERE scope = ?`, [row.get('scope')], { prepare: true });
  }
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected a rejection'),
    (error: unknown) => error,
  );
}

describe('run policies in Cassandra (real sandbox)', function () {
  let client: cassandra.Client;
  let dc2: cassandra.Client;

  before(async function () {
    client = await openTestSession(sandboxTendConfig(1));
    dc2 = await openTestSession(sandboxTendConfig(3));
    for (const statement of schemaStatements(KS, { class: 'NetworkTopologyStrategy', dc1: 2, dc2: 1 })) {
      await client.execute(statement);
    }
  });
  beforeEach(() => clear(client));
  after(async () => {
    await client?.shutdown();
    await dc2?.shutdown();
  });

  it('policy add → list → remove round trip; adding the same window twice is idempotent', async () => {
    const spec = parseWindowSpec({
      action: 'block',
      target: `${KS}.pauses`,
      datacenter: 'dc2',
      days: 'mon-fri',
      start: '08:00',
      end: '18:00',
      timezone: 'Europe/Berlin',
    });
    const added = await addPolicy(store(client), spec);
    expect(added.created).to.equal(true);
    expect(added.consistency).to.equal('EACH_QUORUM');
    const again = await addPolicy(store(client), spec);
    expect(again.created).to.equal(false);
    expect(again.window.id).to.equal(added.window.id);

    // Written at EACH_QUORUM: a node in the other datacenter reads it at LOCAL_QUORUM at once.
    const listing = await listPolicies(store(dc2), [{ days: ['sat'], start: '01:00', end: '05:00', timezone: 'UTC' }]);
    expect(listing.windows.map((w) => [w.id, w.source])).to.deep.equal([
      ['config:1', 'config'],
      [added.window.id, 'cassandra'],
    ]);
    const stored = listing.windows[1]!;
    expect(stored).to.include({
      action: 'block',
      keyspace: KS,
      table: 'pauses',
      datacenter: 'dc2',
      start: '08:00',
      end: '18:00',
      timezone: 'Europe/Berlin',
    });
    expect(stored.days).to.deep.equal(['mon', 'tue', 'wed', 'thu', 'fri']);
    expect(stored.createdBy).to.match(/@/);
    expect(Math.abs(stored.createdAt! - listing.now)).to.be.lessThan(60_000);
    expect(listing.pause).to.equal(null);

    const filtered = await listPolicies(store(client), [], { keyspace: 'other_keyspace' });
    expect(filtered.windows).to.deep.equal([]);

    const removed = await removePolicies(store(client), [added.window.id]);
    expect(removed.removed.map((w) => w.id)).to.deep.equal([added.window.id]);
    expect((await listPolicies(store(client), [])).windows).to.deep.equal([]);
  });

  it('refuses unknown keyspaces, tables, datacenters and ids with exit 2 and the closest name', async () => {
    const base = { action: 'block', start: '08:00', end: '09:00' };
    const ks = await rejection(addPolicy(store(client), parseWindowSpec({ ...base, target: 'tend_it_polcy' })));
    expect(ks).to.be.instanceOf(UsageError);
    expect((ks as UsageError).message).to.equal('unknown keyspace "tend_it_polcy"');
    expect((ks as UsageError).hints).to.deep.equal([`Did you mean ${KS}?`]);

    const table = await rejection(addPolicy(store(client), parseWindowSpec({ ...base, target: `${KS}.pause` })));
    expect((table as UsageError).message).to.equal(`unknown table in ${KS} "pause"`);
    expect((table as UsageError).hints).to.deep.equal(['Did you mean pauses?']);

    const dc = await rejection(addPolicy(store(client), parseWindowSpec({ ...base, datacenter: 'dc3' })));
    expect((dc as UsageError).message).to.equal('unknown datacenter "dc3"');
    expect((dc as UsageError).hints[0]).to.match(/dc1|dc2/);

    const id = await rejection(removePolicies(store(client), ['w00000000']));
    expect(id).to.be.instanceOf(UsageError);
    expect((await listPolicies(store(client), [])).windows).to.deep.equal([]);
  });

  it('a block window around now stops the tick for its scope and DC only; an allow window elsewhere too', async () => {
    const now = await clusterNow(client);
    const block = await addPolicy(
      store(client),
      parseWindowSpec({
        action: 'block',
        target: KS,
        datacenter: 'dc1',
        start: clock(now, -HOUR),
        end: clock(now, HOUR),
      }),
    );
    const policies = await loadPolicies(store(client));
    const subject = { now, keyspace: KS, table: 'pauses', datacenter: 'dc1' };
    const decision = evaluatePolicies(policies, subject);
    expect(decision.allowed).to.equal(false);
    expect(decision.reasons[0]).to.include(`tend policy ${block.window.id}`);
    expect(evaluatePolicies(policies, { ...subject, datacenter: 'dc2' }).allowed).to.equal(true);
    expect(evaluatePolicies(policies, { ...subject, keyspace: 'shop' }).allowed).to.equal(true);

    // A configured allow window that is closed now blocks every table.
    const closed = [
      {
        days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'],
        start: clock(now, 2 * HOUR),
        end: clock(now, 3 * HOUR),
        timezone: 'UTC',
      },
    ];
    const withConfig = await loadPolicies(store(client), closed);
    const other = evaluatePolicies(withConfig, { ...subject, keyspace: 'shop', datacenter: 'dc2' });
    expect(other.allowed).to.equal(false);
    expect(other.reasons[0]).to.match(/^outside every allow window/);
  });

  it('a hand-edited row that makes no sense is reported, not applied and not fatal', async () => {
    await client.execute(
      `INSERT INTO ${KS}.run_windows (id, action, start_time, end_time) VALUES ('manual1', 'sometimes', '08:00', '09:00')`,
    );
    const policies = await loadPolicies(store(client));
    expect(policies.windows).to.deep.equal([]);
    expect(policies.problems).to.deep.equal([
      'run_windows row manual1: action must be block or allow, not "sometimes"',
    ]);
    const listing = await listPolicies(store(client), []);
    expect(listing.problems).to.have.length(1);
  });

  it('schedule pause --until 2h blocks every table in every DC; resume lifts it', async () => {
    const paused = await pauseSchedule(store(client), { until: parseUntil('2h'), reason: 'upgrade to 5.0.9' });
    expect(paused.active).to.equal(true);
    expect(paused.pause.until! - paused.now).to.equal(2 * HOUR);
    expect(paused.previous).to.equal(null);

    const now = await clusterNow(dc2);
    const policies = await loadPolicies(store(dc2));
    expect(policies.pauses).to.deep.equal([{ until: paused.pause.until, reason: 'upgrade to 5.0.9' }]);
    const decision = evaluatePolicies(policies, { now, keyspace: 'any', table: 'thing', datacenter: 'dc2' });
    expect(decision.allowed).to.equal(false);
    expect(decision.reasons[0]).to.match(/^paused until .*: upgrade to 5\.0\.9$/);

    const listing = await listPolicies(store(client), []);
    expect(listing.pause).to.include({ active: true, reason: 'upgrade to 5.0.9', scope: '*' });

    // Pausing again replaces the pause and reports the one it replaced.
    const again = await pauseSchedule(store(client), {});
    expect(again.previous?.reason).to.equal('upgrade to 5.0.9');
    expect(again.pause.until).to.equal(null);

    const resumed = await resumeSchedule(store(client));
    expect(resumed.previous?.until).to.equal(null);
    const after = await loadPolicies(store(dc2));
    expect(after.pauses).to.deep.equal([]);
    expect(evaluatePolicies(after, { now, keyspace: 'any', table: 'thing', datacenter: 'dc2' }).allowed).to.equal(true);

    const notPaused = await resumeSchedule(store(client));
    expect(notPaused.previous).to.equal(null);
  });

  it('a pause with --until in the past is stored but has no effect', async () => {
    const paused = await pauseSchedule(store(client), { until: parseUntil('2020-01-01T00:00:00Z') });
    expect(paused.active).to.equal(false);
    const now = await clusterNow(client);
    const policies = await loadPolicies(store(client));
    expect(policies.pauses).to.have.length(1);
    expect(evaluatePolicies(policies, { now, keyspace: KS, table: 'pauses', datacenter: 'dc1' })).to.deep.equal({
      allowed: true,
      reasons: [],
    });
    expect((await listPolicies(store(client), [])).pause?.active).to.equal(false);
  });

  it("says how to create tend's tables when they are missing", async () => {
    const error = await rejection(loadPolicies(new CassandraPolicyStore(client, 'tend_it_policy_missing')));
    expect((error as Error).message).to.match(/tend's tables are missing in keyspace tend_it_policy_missing/);
  });
});
