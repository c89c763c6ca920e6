/**
 * What a tick meets when a repair goes wrong, end to end through the built `tend schedule tick`:
 *
 * - a task that outlives repair.taskTimeout is stopped on the server (no parent session left open, no
 *   validation running, every parent session failed after the stop: `expectStoppedOnNode`) and recorded as
 *   TIMEOUT; exit 6;
 * - the lease taken away while the repair runs (the lease rows deleted in Cassandra, or the Consul session
 *   destroyed) stops the repair within one renew interval, records ABORTED, exit 1;
 * - SIGTERM (systemd stop) during a task stops the repair, releases the lease, writes history; exit 130.
 *
 * Each case repairs a table whose replicas disagree by about 10 MB with streaming throttled to 1 MiB/s on
 * every node, so the repair runs long enough to be stopped. Jolokia executor (it stops at once; nodetool's
 * stop is covered by test/integration/repair-executors.test.ts), Cassandra leases renewed every 2 s.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type cassandra from 'cassandra-driver';
import { consul, cqlClient } from '../support/sandbox-clients.js';
import {
  createTendKeyspace,
  expectStoppedOnNode,
  historyRows,
  inconsistentKeyspace,
  nodeByName,
  noRepairLeft,
  RUN,
  tend,
  throttledStreaming,
  tick,
  untilRepairRuns,
  writeScopedConfig,
  type TickJson,
} from '../support/tick-e2e.js';

const TEND_KS = `tend_e2e_tick_failures_${RUN}`;
const KS = {
  timeout: `e2e_tick_timeout_${RUN}`,
  lost: `e2e_tick_lost_${RUN}`,
  lostConsul: `e2e_tick_lost_consul_${RUN}`,
  sigterm: `e2e_tick_sigterm_${RUN}`,
};
const RENEW_MS = 2000;

describe('schedule tick: timeouts, lost leases and SIGTERM stop the repair on the server (e2e)', function () {
  this.timeout(5 * 60_000);
  let dir: string;
  let client: cassandra.Client;
  const node = nodeByName('node1');

  const configFor = (keyspace: string, taskTimeout = '10m', leaseBackend: 'cassandra' | 'consul' = 'cassandra') =>
    writeScopedConfig(dir, node, {
      tendKeyspace: TEND_KS,
      keyspaces: [keyspace],
      executor: 'jolokia',
      leaseBackend,
      repair: { taskTimeout },
      schedule: { maxTasks: 1 },
      lease: { ttl: '30s', renewEvery: `${RENEW_MS / 1000}s` },
    });

  async function leaseRows(): Promise<string[]> {
    const rows = await client.execute(`SELECT resource, holder FROM ${TEND_KS}.leases`);
    return rows.rows.map((r) => `${r.get('resource')} held by ${r.get('holder')}`);
  }

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'tend-tick-failures-'));
    client = cqlClient();
    await client.connect();
    await createTendKeyspace(client, TEND_KS);
    // repair.taskTimeout cannot be under 10 s (src/config/ranges.ts): the timed-out repair gets 40 MB to stream
    // at 1 MiB/s, so it still runs when its 10 s are up.
    await Promise.all(
      Object.values(KS).map((keyspace) => inconsistentKeyspace(client, keyspace, keyspace === KS.timeout ? 40 : 10)),
    );
  });

  after(async function () {
    for (const keyspace of [...Object.values(KS), TEND_KS]) {
      await client?.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
    }
    await client?.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a task over repair.taskTimeout is stopped on the node, recorded TIMEOUT; exit 6', async function () {
    const config = configFor(KS.timeout, '10s');
    const since = Date.now();
    const result = await throttledStreaming(() => tick(config));
    expect(result.exitCode, String(result.stderr)).to.equal(6);
    const report = JSON.parse(String(result.stdout)) as TickJson;
    expect(report.result).to.equal('failed');
    expect(report.tasks.map((t) => t.status)).to.deep.equal(['timed_out']);
    // The tick started after `since`, so its 10 s timeout cannot have fired before since + 10 s.
    expectStoppedOnNode(await noRepairLeft(client, KS.timeout, since), since + 10_000);
    const history = await historyRows(client, TEND_KS, KS.timeout, 'big');
    expect(history.length).to.be.greaterThan(0);
    expect([...new Set(history.map((r) => r.status))]).to.deep.equal(['TIMEOUT']);
    expect(await leaseRows(), 'leases released').to.deep.equal([]);
  });

  it('the lease deleted while the repair runs: stopped within one renew interval, ABORTED; exit 1', async function () {
    const config = configFor(KS.lost);
    const since = Date.now();
    let deletedAt = 0;
    const result = await throttledStreaming(async () => {
      const running = tick(config);
      await untilRepairRuns(client, KS.lost, since);
      const held = await leaseRows();
      expect(held.length, 'the tick holds its leases while the repair runs').to.be.greaterThan(0);
      // Another operator (or an expired TTL) took the lease away: the rows are gone.
      await client.execute(`TRUNCATE ${TEND_KS}.leases`);
      deletedAt = Date.now();
      return running;
    });
    expect(result.exitCode, String(result.stderr)).to.equal(1);
    const report = JSON.parse(String(result.stdout)) as TickJson;
    expect(report.result).to.equal('failed');
    expect(report.summary).to.match(/lost/);
    expect(report.tasks.map((t) => t.status)).to.deep.equal(['aborted']);
    expectStoppedOnNode(await noRepairLeft(client, KS.lost, since), deletedAt);
    const history = await historyRows(client, TEND_KS, KS.lost, 'big');
    expect([...new Set(history.map((r) => r.status))]).to.deep.equal(['ABORTED']);
    // Noticed at the next renewal (at most RENEW_MS later), then stopped on the node: the task's end is
    // within one renew interval of the deletion, plus the time to terminate the sessions.
    const finishedAt = Math.max(...history.map((r) => r.finishedAt));
    const stoppedAfter = finishedAt - deletedAt;
    expect(stoppedAfter, `stopped ${stoppedAfter} ms after the lease was deleted`).to.be.lessThan(RENEW_MS + 1500);
  });

  it('the Consul session destroyed while the repair runs: stopped within one renew interval, ABORTED; exit 1', async function () {
    const config = configFor(KS.lostConsul, '10m', 'consul');
    const prefix = `tend-${TEND_KS.replaceAll('_', '-')}`;
    const since = Date.now();
    let destroyedAt = 0;
    const result = await throttledStreaming(async () => {
      const running = tick(config);
      await untilRepairRuns(client, KS.lostConsul, since);
      const listed = await consul('GET', `/v1/kv/${prefix}/leases/?recurse`);
      expect(listed.status, 'the tick holds its leases in Consul while the repair runs').to.equal(200);
      const sessions = new Set(
        ((await listed.json()) as { Session?: string }[]).map((e) => e.Session).filter((id) => id !== undefined),
      );
      expect(sessions.size).to.be.greaterThan(0);
      for (const id of sessions) expect((await consul('PUT', `/v1/session/destroy/${id}`)).status).to.equal(200);
      destroyedAt = Date.now();
      return running;
    });
    expect(result.exitCode, String(result.stderr)).to.equal(1);
    const report = JSON.parse(String(result.stdout)) as TickJson;
    expect(report.result).to.equal('failed');
    expect(report.tasks.map((t) => t.status)).to.deep.equal(['aborted']);
    expectStoppedOnNode(await noRepairLeft(client, KS.lostConsul, since), destroyedAt);
    const history = await historyRows(client, TEND_KS, KS.lostConsul, 'big');
    expect([...new Set(history.map((r) => r.status))]).to.deep.equal(['ABORTED']);
    const stoppedAfter = Math.max(...history.map((r) => r.finishedAt)) - destroyedAt;
    expect(stoppedAfter, `stopped ${stoppedAfter} ms after the session was destroyed`).to.be.lessThan(RENEW_MS + 1500);
  });

  it('SIGTERM during a task: repair stopped, lease released, history written; exit 130', async function () {
    const config = configFor(KS.sigterm);
    const since = Date.now();
    let killedAt = 0;
    const result = await throttledStreaming(async () => {
      const running = tick(config);
      await untilRepairRuns(client, KS.sigterm, since);
      expect((await leaseRows()).length).to.be.greaterThan(0);
      killedAt = Date.now();
      running.kill('SIGTERM');
      return running;
    });
    expect(result.exitCode, String(result.stderr)).to.equal(130);
    const report = JSON.parse(String(result.stdout)) as TickJson;
    expect(report.result).to.equal('interrupted');
    expectStoppedOnNode(await noRepairLeft(client, KS.sigterm, since), killedAt);
    expect(await leaseRows(), 'leases released').to.deep.equal([]);
    const status = await tend(config, ['--json', 'lease', 'status']);
    expect(status.exitCode, String(status.stderr)).to.equal(0);
    expect((JSON.parse(String(status.stdout)) as { leases: unknown[] }).leases, 'tend lease status').to.deep.equal([]);
    const history = await historyRows(client, TEND_KS, KS.sigterm, 'big');
    expect([...new Set(history.map((r) => r.status))]).to.deep.equal(['ABORTED']);
  });
});
