/**
 * Issue 15 item 2: back-pressure figures read from the real sandbox (Jolokia's PendingTasks and LiveSSTableCount,
 * thread_pools without Jolokia, statfs of the local node's data directories), and the verdict on them: a table held
 * in more SSTables than the limit, or a limit lowered below the real backlog, postpones the task with the reason.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type cassandra from 'cassandra-driver';
import type { PinnedSessions } from '../../src/cluster/session.js';
import { openPinnedSessions, replicaJolokia } from '../../src/app/adapters.js';
import { secretSource } from '../../src/config/secrets.js';
import { backPressureLimits, readReplicaLoads } from '../../src/cluster/replica-load.js';
import { backPressureVerdict } from '../../src/core/back-pressure.js';
import { openTestSession, sandboxTendConfig } from '../support/sandbox-config.js';
import { cqlClient, nodetool } from '../support/sandbox-clients.js';
import { NODES } from '../sandbox/src/layout.js';

const KEYSPACE = 'it_back_pressure';
const FLUSHES = 12;

describe('back-pressure figures and verdict (real sandbox)', function () {
  this.timeout(300_000);
  let main: cassandra.Client;
  let client: cassandra.Client;
  let pinned: PinnedSessions;
  const config = sandboxTendConfig(1);
  const addresses = NODES.map((n) => n.address);
  const tables = [{ keyspace: KEYSPACE, table: 't' }];

  before(async function () {
    main = cqlClient();
    await main.connect();
    await main.execute(`DROP KEYSPACE IF EXISTS ${KEYSPACE}`);
    await main.execute(
      `CREATE KEYSPACE ${KEYSPACE} WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 2, 'dc2': 1}`,
    );
    await main.execute(`CREATE TABLE ${KEYSPACE}.t (id int PRIMARY KEY, v text)`);
    // Autocompaction off on node1: every flush leaves one more live SSTable there.
    const off = await nodetool(1, ['disableautocompaction', KEYSPACE, 't']);
    expect(off.exitCode, off.stderr).to.equal(0);
    for (let flush = 0; flush < FLUSHES; flush++) {
      // About 1 MB per flush (incompressible), so that compacting them at 1 MiB/s (the backlog test) takes seconds.
      for (let i = 0; i < 20; i++) {
        await main.execute(
          `INSERT INTO ${KEYSPACE}.t (id, v) VALUES (?, ?)`,
          [flush * 100 + i, randomBytes(25_000).toString('hex')],
          { prepare: true },
        );
      }
      const flushed = await nodetool(1, ['flush', KEYSPACE, 't']);
      expect(flushed.exitCode, flushed.stderr).to.equal(0);
    }
    client = await openTestSession(config);
    pinned = await openPinnedSessions(config, secretSource(config, {}));
  });
  after(async function () {
    await nodetool(1, ['enableautocompaction', KEYSPACE, 't']);
    await main?.execute(`DROP KEYSPACE IF EXISTS ${KEYSPACE}`);
    await Promise.all([main?.shutdown(), client?.shutdown(), pinned?.close()]);
  });

  it('reads pending compactions and SSTable counts through Jolokia on every replica, and free disk locally', async function () {
    const loads = await readReplicaLoads(client, addresses, tables, {
      jolokia: replicaJolokia(config, secretSource(config, {})),
      pinned,
      localAddress: NODES[0]!.address,
    });
    expect(loads.map((l) => l.address)).to.deep.equal(addresses);
    for (const load of loads) {
      expect(load.problems, load.address).to.deep.equal([]);
      expect(load.pendingCompactions?.source).to.equal('jmx');
      expect(load.pendingCompactions!.value).to.be.at.least(0);
    }
    expect(loads[0]!.sstables[`${KEYSPACE}.t`]).to.be.at.least(FLUSHES);
    // The other replicas compacted their flushes as usual (each flushed when node1 did: nodetool flush is local).
    expect(loads[0]!.disk).to.not.equal(null);
    expect(loads[0]!.disk!.totalBytes).to.be.greaterThan(loads[0]!.disk!.freeBytes);
    expect(loads[1]!.disk).to.equal(null); // not the local node: its disk is its gossip verdict's business
    expect(loads.every((l) => l.diskState === null)).to.equal(true); // the sandbox sets no disk guardrail

    const defaults = backPressureVerdict({
      replicas: addresses,
      tables: [`${KEYSPACE}.t`],
      loads,
      limits: backPressureLimits(config.repair.backPressure),
    });
    expect(defaults.start).to.equal(true, JSON.stringify(defaults));

    const lowered = backPressureVerdict({
      replicas: addresses,
      tables: [`${KEYSPACE}.t`],
      loads,
      limits: { ...backPressureLimits(config.repair.backPressure), maxSSTables: FLUSHES - 1 },
    });
    expect(lowered.start).to.equal(false);
    if (lowered.start) return;
    expect(lowered.reason).to.match(
      new RegExp(
        `^replica ${NODES[0]!.address.replaceAll('.', '\\.')} is under back-pressure: ${KEYSPACE}\\.t has \\d+ SSTables > repair\\.backPressure\\.maxSSTables ${FLUSHES - 1}`,
      ),
    );

    // Free disk: a limit above what the local file system has free postpones, naming the directory.
    const ratio = loads[0]!.disk!.freeBytes / loads[0]!.disk!.totalBytes;
    const disk = backPressureVerdict({
      replicas: addresses,
      tables: [],
      loads,
      limits: { ...backPressureLimits(config.repair.backPressure), minFreeDiskRatio: Math.min(0.9, ratio + 0.05) },
    });
    if (ratio + 0.05 <= 0.9) {
      expect(disk.start).to.equal(false);
      if (!disk.start) expect(disk.overloads[0]!.what).to.equal('free_disk');
    }
  });

  it('without Jolokia, pending compactions come from thread_pools on every replica and SSTable counts are unknown', async function () {
    const loads = await readReplicaLoads(client, addresses, tables, { pinned, localAddress: NODES[0]!.address });
    for (const load of loads) {
      expect(load.pendingCompactions?.source, load.address).to.equal('thread_pools');
      expect(load.problems).to.deep.equal(['SSTable counts need Jolokia']);
      expect(load.sstables).to.deep.equal({});
    }
    const verdict = backPressureVerdict({
      replicas: addresses,
      tables: [`${KEYSPACE}.t`],
      loads,
      limits: { ...backPressureLimits(config.repair.backPressure), maxSSTables: 1 },
    });
    // Unknown never postpones; it is listed.
    expect(verdict.start).to.equal(true);
    expect(verdict.unknown.map((u) => u.replica)).to.deep.equal(addresses);
  });

  it('a pending-compaction backlog above a lowered limit postpones the task', async function () {
    // Turning autocompaction back on gives node1 a real backlog of its 12 flushes; compaction throttled to 1 MiB/s
    // makes it last seconds (without the throttle the 12 small SSTables were compacted before the read, once, in
    // CI), and the figure is read until it shows (Cassandra estimates it as the compactions are planned).
    expect((await nodetool(1, ['setcompactionthroughput', '1'])).exitCode).to.equal(0);
    let loads: Awaited<ReturnType<typeof readReplicaLoads>> = [];
    try {
      const on = await nodetool(1, ['enableautocompaction', KEYSPACE, 't']);
      expect(on.exitCode).to.equal(0);
      for (let attempt = 0; attempt < 50; attempt++) {
        loads = await readReplicaLoads(client, [NODES[0]!.address], tables, {
          jolokia: replicaJolokia(config, secretSource(config, {})),
          localAddress: NODES[0]!.address,
        });
        if ((loads[0]!.pendingCompactions?.value ?? 0) > 0) break;
        await sleep(100);
      }
    } finally {
      await nodetool(1, ['setcompactionthroughput', '64']);
    }
    const pending = loads[0]!.pendingCompactions!.value;
    expect(pending, 'a backlog after autocompaction came back on').to.be.greaterThan(0);
    const verdict = backPressureVerdict({
      replicas: [NODES[0]!.address],
      tables: [`${KEYSPACE}.t`],
      loads,
      limits: { ...backPressureLimits(config.repair.backPressure), maxPendingCompactions: 0 },
    });
    expect(verdict.start).to.equal(false);
    if (verdict.start) return;
    expect(verdict.reason).to.equal(
      `replica ${NODES[0]!.address} is under back-pressure: ${pending} pending compactions > repair.backPressure.maxPendingCompactions 0`,
    );
  });
});
