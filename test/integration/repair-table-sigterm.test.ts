/**
 * SIGTERM (systemd stop) during `tend repair table`, with the real CLI in its own process against the sandbox:
 * exit 130, the repair terminated on the node (no validation left, the parent session failed with
 * "Terminate session is called"), every range recorded as ABORTED in tend's history, and the lease released.
 */
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type cassandra from 'cassandra-driver';
import { execa } from 'execa';
import { openLeaseBackend } from '../../src/lease/index.js';
import { cqlClient, jolokia } from '../support/sandbox-clients.js';
import { sandboxTendConfig } from '../support/sandbox-config.js';
import { tendConfigPath } from '../sandbox/src/tend-config.js';
import { NODES } from '../sandbox/src/layout.js';
import { sleep } from '../sandbox/src/wait.js';
import { inconsistentKeyspace } from '../support/slow-repair.js';

const KS = `it_repair_sigterm_${Date.now().toString(36)}`;
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const MBEAN = 'org.apache.cassandra.db:type=StorageService';
const THROUGHPUT = [
  'StreamThroughputMebibytesPerSec',
  'InterDCStreamThroughputMebibytesPerSec',
  'EntireSSTableStreamThroughputMebibytesPerSec',
  'EntireSSTableInterDCStreamThroughputMebibytesPerSec',
];

describe('tend repair table: SIGTERM mid-repair (real CLI process, real sandbox)', function () {
  this.timeout(180_000);
  let client: cassandra.Client;

  before(async function () {
    client = cqlClient();
    await client.connect();
    // Replicas that disagree (written with one, widened to three), so the repair streams and runs for seconds
    // while streaming is throttled below.
    await inconsistentKeyspace(client, KS);
  });

  after(async function () {
    await client?.execute(`DROP KEYSPACE IF EXISTS ${KS}`);
    await client?.shutdown();
  });

  it('exit 130; stopped on the node; history ABORTED; lease released', async function () {
    const before: { index: number; attribute: string; value: number }[] = [];
    for (const index of [1, 2, 3]) {
      for (const attribute of THROUGHPUT) {
        const reply = await jolokia<number>(index, { type: 'read', mbean: MBEAN, attribute: `${attribute}AsDouble` });
        before.push({ index, attribute, value: Math.round(reply.value) });
      }
    }
    let result;
    const since = Date.now();
    try {
      for (const { index, attribute } of before) {
        await jolokia(index, { type: 'write', mbean: MBEAN, attribute, value: 2 });
      }
      // The CLI exactly as bin/tend runs it, from source (argv[1] is a placeholder for the script name).
      const child = execa(
        process.execPath,
        [
          '--import',
          'tsx',
          '--input-type=module',
          '-e',
          `import { main } from ${JSON.stringify(MAIN)}; process.exitCode = await main(process.argv);`,
          'tend',
          '-c',
          tendConfigPath(NODES[1]!),
          'repair',
          'table',
          `${KS}.big`,
        ],
        { reject: false, timeout: 120_000 },
      );
      // Wait until the repair runs on the node, then stop the process the way systemd does.
      const deadline = Date.now() + 60_000;
      for (;;) {
        const rows = await client.execute(
          'SELECT keyspace_name, finished_at FROM system_distributed.parent_repair_history',
        );
        if (rows.rows.some((r) => r.get('keyspace_name') === KS && r.get('finished_at') === null)) break;
        if (Date.now() > deadline) throw new Error('the repair never started');
        await sleep(100);
      }
      child.kill('SIGTERM');
      result = await child;
    } finally {
      for (const { index, attribute, value } of before) {
        await jolokia(index, { type: 'write', mbean: MBEAN, attribute, value });
      }
    }
    expect(result.exitCode, `${result.stdout}\n${result.stderr}`).to.equal(130);
    expect(result.stderr).to.match(/interrupted by SIGTERM/);
    expect(result.stdout).to.match(/aborted: interrupted by SIGTERM; repair sessions terminated on the node/);

    const parents = (
      await client.execute(
        'SELECT keyspace_name, started_at, finished_at, exception_message FROM system_distributed.parent_repair_history',
      )
    ).rows.filter((r) => r.get('keyspace_name') === KS && (r.get('started_at') as Date).getTime() >= since - 1000);
    expect(parents.length).to.be.greaterThan(0);
    for (const parent of parents) {
      expect(String(parent.get('exception_message'))).to.match(/Terminate session is called/);
    }
    for (const index of [1, 2, 3]) {
      const reply = await jolokia<Array<{ keyspace: string; taskType: string }>>(index, {
        type: 'read',
        mbean: 'org.apache.cassandra.db:type=CompactionManager',
        attribute: 'Compactions',
      });
      expect(reply.value.filter((c) => c.keyspace === KS && c.taskType === 'Validation')).to.deep.equal([]);
    }

    const config = sandboxTendConfig(2);
    const history = await client.execute(
      `SELECT status, message FROM ${config.cassandra.keyspace}.repair_history WHERE keyspace_name = ? AND table_name = ?`,
      [KS, 'big'],
      { prepare: true },
    );
    expect(history.rows.length).to.equal(48);
    expect(new Set(history.rows.map((r) => r.get('status')))).to.deep.equal(new Set(['ABORTED']));

    const backend = await openLeaseBackend(config, {}, async () => client);
    try {
      const held = (await backend.list()).filter((lease) => lease.metadata.task === `${KS}.big#adhoc`);
      expect(held).to.deep.equal([]);
    } finally {
      await backend.close();
    }
  });
});
