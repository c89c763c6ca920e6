/**
 * One real `tend schedule tick` by the built bin under the Node.js that runs this test: `node` on PATH must be the
 * same binary, so CI runs this file once per supported Node (test/setup/test-all.sh puts Node 22 and 24 first on
 * PATH). The main suite leaves it out (.mocharc.all.json's ignore): every e2e file there runs the bin under the
 * machine's Node already (37 s of a local CI run saved). The bin applies its schema and repairs one small table
 * on the sandbox; Cassandra's own history must show the repair.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type cassandra from 'cassandra-driver';
import { cqlClient } from '../support/sandbox-clients.js';
import {
  createSmallKeyspace,
  historyRows,
  nodeByName,
  RUN,
  tend,
  tick,
  writeScopedConfig,
  type TickJson,
} from '../support/tick-e2e.js';

const MAJOR = process.versions.node.split('.')[0]!;
const KS = `e2e_node${MAJOR}_${RUN}`;
const TEND_KS = `tend_e2e_node${MAJOR}_${RUN}`;

describe(`one real tick under Node ${process.version} (e2e)`, function () {
  this.timeout(5 * 60_000);
  let dir: string;
  let client: cassandra.Client;

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'tend-node-runtime-'));
    client = cqlClient();
    await client.connect();
    await createSmallKeyspace(client, KS, { dc1: 2, dc2: 1 }, ['t']);
  });

  after(async function () {
    await client?.execute(`DROP KEYSPACE IF EXISTS ${KS}`).catch(() => undefined);
    await client?.execute(`DROP KEYSPACE IF EXISTS ${TEND_KS}`).catch(() => undefined);
    await client?.shutdown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the bin runs on this Node: schema apply, then a tick repairs the due table', async function () {
    const onPath = await execa('node', ['--version']);
    expect(onPath.stdout.trim(), 'node on PATH runs the bin: it must be the Node under test').to.equal(process.version);
    if (process.env.TEND_TEST_NODE_VERSION) {
      expect(process.version).to.equal(`v${process.env.TEND_TEST_NODE_VERSION}`);
    }

    const config = writeScopedConfig(dir, nodeByName('node1'), { tendKeyspace: TEND_KS, keyspaces: [KS] });
    const schema = await tend(config, ['schema', 'apply']);
    expect(schema.exitCode, String(schema.stderr)).to.equal(0);

    const result = await tick(config);
    expect(result.exitCode, String(result.stderr)).to.equal(0);
    const report = JSON.parse(String(result.stdout)) as TickJson;
    expect(report.result, report.summary).to.equal('ran');
    expect(report.tasks.length).to.be.greaterThan(0);
    expect(report.tasks.every((task) => task.status === 'success')).to.equal(true);
    const history = await historyRows(client, TEND_KS, KS, 't');
    expect(history.map((row) => row.status)).to.include('SUCCESS');
  });
});
