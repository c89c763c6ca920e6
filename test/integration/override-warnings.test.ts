/**
 * Issue 12 item 23 against the sandbox: a repair.tables entry that matches no table is warned about once per
 * command (schedule status, schedule plan, the tick's dry run), naming its index and match.
 */
import { expect } from 'chai';
import { stringify } from 'yaml';
import { runTend } from '../unit/cli/helpers.js';
import { tendConfig } from '../sandbox/src/tend-config.js';
import { NODES } from '../sandbox/src/layout.js';
import { openSession } from '../../src/cluster/session.js';
import { ensureTendSchema, sandboxTendConfig } from '../support/sandbox-config.js';

describe('repair.tables entries that match no table (real sandbox)', function () {
  before(async function () {
    const config = sandboxTendConfig(1);
    const client = await openSession(config, {});
    try {
      await ensureTendSchema(client, config);
    } finally {
      await client.shutdown();
    }
  });

  const raw = tendConfig(NODES[0]!);
  const file = stringify({
    ...raw,
    repair: { ...raw.repair, tables: [{ match: 'no_such_keyspace.t', interval: '3d' }, { match: '/^also_nothing_/' }] },
    metrics: {},
  });

  for (const command of [
    ['schedule', 'status'],
    ['schedule', 'plan'],
    ['schedule', 'tick', '--dry-run'],
  ]) {
    it(`tend ${command.join(' ')} warns once per entry`, async function () {
      const result = await runTend(['-c', 'tend.yml', ...command], { files: { 'tend.yml': file } });
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stderr.match(/repair\.tables\[0\]: match no_such_keyspace\.t matches no table/g)).to.have.length(1);
      expect(result.stderr.match(/repair\.tables\[1\]: match \/\^also_nothing_\/ matches no table/g)).to.have.length(1);
    });
  }
});
