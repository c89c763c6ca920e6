/**
 * SIGTERM (systemd stop) during `tend repair table`, with the real CLI in its own process against the sandbox:
 * exit 130, the repair terminated on the node (no validation left, the parent session failed after the signal:
 * `expectStoppedOnNode`), every range recorded as ABORTED in tend's history, and the lease released.
 */
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type cassandra from 'cassandra-driver';
import { execa } from 'execa';
import { leaseBackendFor } from '../support/adapters.js';
import { cqlClient } from '../support/sandbox-clients.js';
import { ensureTendSchema, sandboxTendConfig } from '../support/sandbox-config.js';
import { tendConfigPath } from '../sandbox/src/tend-config.js';
import { NODES } from '../sandbox/src/layout.js';
import {
  expectStoppedOnNode,
  inconsistentKeyspace,
  noRepairLeft,
  throttledStreaming,
  untilRepairRuns,
} from '../support/slow-repair.js';

const KS = `it_repair_sigterm_${Date.now().toString(36)}`;
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
describe('tend repair table: SIGTERM mid-repair (real CLI process, real sandbox)', function () {
  // Under load (CI runs this beside the whole suite) the CLI alone can take a minute to start: no overall deadline
  // on the child, one on its exit after the signal.
  this.timeout(300_000);
  let client: cassandra.Client;

  before(async function () {
    client = cqlClient();
    await client.connect();
    // The CLI below runs with the sandbox's own configuration (keyspace tend).
    await ensureTendSchema(client, sandboxTendConfig(2));
    // Replicas that disagree (written with one, widened to three), so the repair streams and runs for seconds
    // while streaming is throttled below.
    await inconsistentKeyspace(client, KS);
  });

  after(async function () {
    // A failed run can leave the CLI's lease behind (a second signal exits at once): break it, so that the next
    // test file that repairs on these nodes does not meet it (it did: "lease node/127.0.0.1 is held by node2").
    if (client) {
      const backend = await leaseBackendFor(sandboxTendConfig(2), client);
      try {
        for (const lease of await backend.list()) {
          if (lease.metadata.task === `${KS}.big#adhoc`) {
            await backend.forceRelease(lease.resource, { name: 'test-cleanup', host: 'test' }, { record: false });
          }
        }
      } finally {
        await backend.close();
      }
    }
    await client?.execute(`DROP KEYSPACE IF EXISTS ${KS}`);
    await client?.shutdown();
  });

  it('exit 130; stopped on the node; history ABORTED; lease released', async function () {
    const since = Date.now();
    let killedAt = 0;
    const result = await throttledStreaming(async () => {
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
        { reject: false },
      );
      try {
        // Wait until the repair runs on the node, then stop the process the way systemd does.
        await untilRepairRuns(client, KS, since);
      } catch (error) {
        child.kill('SIGKILL');
        throw error;
      }
      killedAt = Date.now();
      child.kill('SIGTERM');
      // The bound is on the cleanup (terminate on the node, 48 history rows, release): 2 minutes, then SIGKILL.
      const deadline = setTimeout(() => child.kill('SIGKILL'), 120_000);
      try {
        return await child;
      } finally {
        clearTimeout(deadline);
      }
    }, 2);
    expect(result.exitCode, `${result.stdout}\n${result.stderr}`).to.equal(130);
    expect(result.stderr).to.match(/interrupted by SIGTERM/);
    expect(result.stdout).to.match(/aborted: interrupted by SIGTERM; repair sessions terminated on the node/);
    expectStoppedOnNode(await noRepairLeft(client, KS, since), killedAt);

    const config = sandboxTendConfig(2);
    const history = await client.execute(
      `SELECT status, message FROM ${config.cassandra.keyspace}.repair_history WHERE keyspace_name = ? AND table_name = ?`,
      [KS, 'big'],
      { prepare: true },
    );
    expect(history.rows.length).to.equal(48);
    expect(new Set(history.rows.map((r) => r.get('status')))).to.deep.equal(new Set(['ABORTED']));

    const backend = await leaseBackendFor(config, client);
    try {
      const held = (await backend.list()).filter((lease) => lease.metadata.task === `${KS}.big#adhoc`);
      expect(held).to.deep.equal([]);
    } finally {
      await backend.close();
    }
  });
});
