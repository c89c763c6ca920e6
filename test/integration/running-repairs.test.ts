/**
 * Issue 15 item 1: an operator's `nodetool repair` running on the real sandbox is seen on every replica through
 * the node-local virtual tables (queries pinned to each node), and the verdict skips a task on those replicas with
 * the reason; once the repair ended, the same replicas let a task start.
 */
import { expect } from 'chai';
import type cassandra from 'cassandra-driver';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PinnedSessions } from '../../src/cluster/session.js';
import { openPinnedSessions } from '../../src/app/adapters.js';
import { secretSource } from '../../src/config/secrets.js';
import { readTopology } from '../../src/cluster/topology.js';
import { readRepairActivity } from '../../src/cluster/repair-activity.js';
import { runningRepairVerdict, type ReplicaRepairReport } from '../../src/core/running-repairs.js';
import { openTestSession, sandboxTendConfig } from '../support/sandbox-config.js';
import { cqlClient, nodetool } from '../support/sandbox-clients.js';
import { inconsistentKeyspace, throttledStreaming } from '../support/slow-repair.js';
import { NODES } from '../sandbox/src/layout.js';

/** An address as a regular expression. */
const esc = (address: string): string => address.replaceAll('.', '\\.');
const KEYSPACE = 'it_running_repairs';

describe('running repairs on the replicas (real sandbox)', function () {
  this.timeout(300_000);
  let main: cassandra.Client;
  let client: cassandra.Client;
  let pinned: PinnedSessions;
  const addresses = NODES.map((n) => n.address);

  before(async function () {
    main = cqlClient();
    await main.connect();
    await inconsistentKeyspace(main, KEYSPACE);
    client = await openTestSession(sandboxTendConfig(2));
    pinned = await openPinnedSessions(sandboxTendConfig(2), secretSource(sandboxTendConfig(2), {}));
  });
  after(async function () {
    await main?.execute(`DROP KEYSPACE IF EXISTS ${KEYSPACE}`);
    await Promise.all([main?.shutdown(), client?.shutdown(), pinned?.close()]);
  });

  it("sees an operator's nodetool repair on the coordinator and its participants, and skips; lets pass after", async function () {
    const config = sandboxTendConfig(2);
    const topology = await readTopology(client, {
      tendKeyspace: 'tend',
      localNode: { address: config.node.address, contactPoint: config.cassandra.contactPoints[0] },
    });
    const idle = await readRepairActivity(client, addresses, { pinned });
    const before = new Set(idle.flatMap((r) => ('repairs' in r ? r.repairs.map((x) => x.id) : [])));

    let seen: ReplicaRepairReport[] = [];
    await throttledStreaming(async () => {
      const run = nodetool(1, ['repair', '--full', KEYSPACE], 240_000);
      // Until node1 coordinates it and both other replicas take part (their prepare message has arrived).
      const deadline = Date.now() + 60_000;
      for (;;) {
        seen = await readRepairActivity(client, addresses, { pinned });
        const withIt = seen.filter(
          (r) => 'repairs' in r && r.repairs.some((x) => !before.has(x.id) && x.keyspace === KEYSPACE),
        );
        if (withIt.length === 3 || Date.now() > deadline) break;
        await sleep(100);
      }
      // A task on node2 and node3 only (node1 coordinates the operator's repair): still skipped.
      const verdict = runningRepairVerdict({
        replicas: [NODES[1]!.address, NODES[2]!.address],
        reports: seen,
        nodes: topology.nodes,
        now: Date.now(),
      });
      const result = await run;
      expect(result.exitCode, result.stderr).to.equal(0);
      expect(verdict.start).to.equal(false);
      if (verdict.start) return;
      expect(verdict.code).to.equal('repair_running');
      const ours = verdict.repairs.find((r) => r.repair.keyspace === KEYSPACE)!;
      expect(ours.coordinator).to.equal(NODES[0]!.address); // the initiator `/ADDRESS:7000` resolved to node1
      expect(ours.repair.tables).to.deep.equal([`${KEYSPACE}.big`]);
      expect(verdict.reason).to.match(
        new RegExp(
          `^replica (${esc(NODES[1]!.address)}|${esc(NODES[2]!.address)}) is already repairing: repair ${ours.repair.id} of ${KEYSPACE}\\.big, coordinated by ${esc(NODES[0]!.address)} since `,
        ),
      );
    });
    // Every replica listed the same repair id, each by its own table.
    const ids = seen.map((r) =>
      'repairs' in r ? r.repairs.filter((x) => x.keyspace === KEYSPACE).map((x) => x.id) : [],
    );
    expect(ids.every((list) => list.length === 1 && list[0] === ids[0]![0])).to.equal(true, JSON.stringify(seen));

    // Finished: nothing of it is left running anywhere (participants learn it a moment after the coordinator).
    const deadline = Date.now() + 30_000;
    let after = await readRepairActivity(client, addresses, { pinned });
    while (
      after.some((r) => 'repairs' in r && r.repairs.some((x) => x.keyspace === KEYSPACE)) &&
      Date.now() < deadline
    ) {
      await sleep(200);
      after = await readRepairActivity(client, addresses, { pinned });
    }
    const verdict = runningRepairVerdict({
      replicas: addresses,
      reports: after,
      nodes: topology.nodes,
      now: Date.now(),
    });
    expect(after.every((r) => 'repairs' in r)).to.equal(true);
    expect(verdict.start).to.equal(true, JSON.stringify(verdict));
  });
});
