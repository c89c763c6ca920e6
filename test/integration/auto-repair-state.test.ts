/**
 * Issue 15 item 4, the reading side against the real sandbox as CI starts it (AutoRepair off): the node's
 * auto_repair.* settings are read and say off, so no table is left to AutoRepair. The "on" side is covered by
 * rows captured from the sandbox with TEND_SANDBOX_AUTOREPAIR=1 (test/unit/core/auto-repair.test.ts).
 */
import { expect } from 'chai';
import type cassandra from 'cassandra-driver';
import { readAutoRepairState } from '../../src/cluster/auto-repair.js';
import { autoRepairCoverage } from '../../src/core/auto-repair.js';
import { CASSANDRA_VERSION, AUTO_REPAIR } from '../sandbox/src/layout.js';
import { nodeClient } from '../support/sandbox-clients.js';

describe('AutoRepair state of a node (real sandbox)', function () {
  let client: cassandra.Client;
  before(async function () {
    // This file checks the sandbox's default, AutoRepair off. Under TEND_SANDBOX_AUTOREPAIR=1 (not run in CI, where
    // the sandbox never turns it on) every node runs AutoRepair, so "off" cannot be observed there: skipped.
    if (AUTO_REPAIR) this.skip();
    client = nodeClient(1);
    await client.connect();
  });
  after(async function () {
    await client?.shutdown();
  });

  it('reads the settings: off on this sandbox (present on 5.0.8, absent on 4.1), so nothing is left to AutoRepair', async function () {
    const state = await readAutoRepairState(client, undefined);
    if (CASSANDRA_VERSION.startsWith('4.')) expect(state.node).to.equal(undefined);
    else expect(state.node?.enabled).to.equal(false);
    expect(state.tables.size).to.equal(0);
    expect(autoRepairCoverage(state.node, 'dc1', null)).to.equal(undefined);
  });
});
