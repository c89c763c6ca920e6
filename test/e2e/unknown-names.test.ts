/**
 * The built `bin/tend` against the sandbox: an unknown keyspace or table is a usage error (exit 2) that names the
 * closest existing names, on stderr, with nothing on stdout — what an operator sees after a typo.
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { applySchema } from '../../src/cluster/tend-schema.js';
import { NODES } from '../sandbox/src/layout.js';
import { tendConfig } from '../sandbox/src/tend-config.js';
import { sandboxTendConfig, openTestSession } from '../support/sandbox-config.js';

const TEND_KS = 'tend_e2e_names';
const KS = 'e2e_names_shop';

describe('unknown keyspace or table with the built bin (e2e)', function () {
  this.timeout(180_000);
  let config: string;

  before(async function () {
    if (!existsSync('dist/src/cli/main.js')) await execa('npm', ['run', '-s', 'build']);
    const client = await openTestSession(sandboxTendConfig(1));
    try {
      await applySchema(client, TEND_KS, { class: 'NetworkTopologyStrategy', dc1: 2, dc2: 1 });
      await client.execute(
        `CREATE KEYSPACE IF NOT EXISTS ${KS} WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 2, 'dc2': 1}`,
      );
      for (const table of ['orders', 'order_items'])
        await client.execute(`CREATE TABLE IF NOT EXISTS ${KS}.${table} (id int PRIMARY KEY)`);
    } finally {
      await client.shutdown();
    }
    const dir = mkdtempSync(join(tmpdir(), 'tend-e2e-names-'));
    const raw = tendConfig(NODES[0]!);
    raw.cassandra.keyspace = TEND_KS;
    config = join(dir, 'tend.yml');
    writeFileSync(config, stringify(raw));
  });

  const cases = [
    { args: ['schedule', 'status', 'e2e_names_shp'], message: 'unknown keyspace e2e_names_shp', near: KS },
    { args: ['schedule', 'status', `${KS}.ordrs`], message: `unknown table ${KS}.ordrs`, near: `${KS}.orders` },
    { args: ['history', 'show', `${KS}.order_item`], message: `unknown table ${KS}.order_item`, near: 'order_items' },
  ];
  for (const testCase of cases) {
    it(`tend ${testCase.args.join(' ')} → exit 2, suggests ${testCase.near}`, async function () {
      const result = await execa('node', ['bin/tend', '-c', config, ...testCase.args], {
        reject: false,
        env: { NO_COLOR: '1' },
      });
      expect(result.exitCode, result.stderr).to.equal(2);
      expect(result.stdout).to.equal('');
      expect(result.stderr).to.include(testCase.message);
      expect(result.stderr).to.match(new RegExp(`did you mean: .*${testCase.near}`));
    });
  }

  it('--json keeps stdout empty and still exits 2', async function () {
    const result = await execa('node', ['bin/tend', '-c', config, 'schedule', 'status', 'nope.nope', '--json'], {
      reject: false,
    });
    expect(result.exitCode).to.equal(2);
    expect(result.stdout).to.equal('');
  });
});
