/**
 * Incremental eligibility on the real sandbox, read the way each executor reaches node2: an unrepaired table is
 * eligible; after an incremental repair through the same executor it is fully repaired and skipped, with the
 * repair's time as maxRepairedAt.
 */
import { expect } from 'chai';
import type cassandra from 'cassandra-driver';
import {
  createExecutor,
  createRepairedStateReader,
  incrementalDecision,
  type RepairedStateReader,
} from '../../src/repair/index.js';
import { cqlClient, nodetool } from '../support/sandbox-clients.js';
import { sandboxTendConfig } from '../support/sandbox-config.js';
import { NODES } from '../sandbox/src/layout.js';

const RUN = Date.now().toString(36);

describe('incremental eligibility against the sandbox (real Cassandra 5.0)', function () {
  this.timeout(180_000);
  let client: cassandra.Client;

  before(async function () {
    client = cqlClient();
    await client.connect();
  });

  after(async function () {
    for (const kind of ['nodetool', 'jolokia']) {
      await client?.execute(`DROP KEYSPACE IF EXISTS it_repair_inc_${kind}_${RUN}`);
    }
    await client?.shutdown();
  });

  for (const kind of ['nodetool', 'jolokia'] as const) {
    it(`${kind}: unrepaired → eligible; after an incremental repair → fully repaired, skipped`, async function () {
      const keyspace = `it_repair_inc_${kind}_${RUN}`;
      await client.execute(
        `CREATE KEYSPACE ${keyspace} WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 2, 'dc2': 1}`,
      );
      await client.execute(`CREATE TABLE ${keyspace}.events (id int PRIMARY KEY, v text)`);
      for (let i = 0; i < 100; i++) {
        await client.execute(`INSERT INTO ${keyspace}.events (id, v) VALUES (?, ?)`, [i, `v${i}`], { prepare: true });
      }
      // The metric counts sstables only: flush so the rows are on disk, as they would be on a busy node.
      const flushed = await nodetool(2, ['flush', keyspace]);
      expect(flushed.exitCode, flushed.stderr).to.equal(0);

      const config = sandboxTendConfig(2, { executor: kind });
      const reader: RepairedStateReader = await createRepairedStateReader(config, {});
      const [before] = await reader.read(keyspace, ['events']);
      expect(before).to.deep.include({ keyspace, table: 'events', percentRepaired: 0 });
      const first = incrementalDecision(before!);
      expect(first.eligible, first.reason).to.equal(true);

      const since = Date.now();
      const executor = await createExecutor(config, {});
      const outcome = await executor.run(
        {
          id: `${keyspace}.events#1`,
          keyspace,
          tables: ['events'],
          scope: 'table',
          ranges: [],
          replicaAddresses: NODES.map((n) => n.address),
          incremental: true,
          parallelism: 'parallel',
        },
        { timeoutMs: 120_000 },
      );
      expect(outcome.status, outcome.message).to.equal('success');

      // COMPLETED comes when the coordinator has committed the session; each replica then marks its sstables
      // repaired on its own (seen: 0% at the first read when tend notices completion within 5 ms). Wait for it.
      let [after] = await reader.read(keyspace, ['events']);
      const deadline = Date.now() + 60_000;
      while (after!.percentRepaired !== 100 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        [after] = await reader.read(keyspace, ['events']);
      }
      expect(after!.percentRepaired).to.equal(100);
      expect(after!.maxRepairedAt)
        .to.be.a('number')
        .at.least(since - 1000);
      const second = incrementalDecision(after!);
      expect(second.eligible, second.reason).to.equal(false);
      expect(second.reason).to.match(/^fully repaired/);
      expect(second.lastRepairedAt).to.equal(after!.maxRepairedAt);
    });
  }
});
