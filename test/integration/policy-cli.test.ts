/** `tend policy …` and `tend schedule pause|resume` end to end: argv to Cassandra and back, real sandbox. */
import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type cassandra from 'cassandra-driver';
import { main } from '../../src/cli/main.js';
import { buildRegistry } from '../../src/cli/registry.js';
import { policyModule } from '../../src/cli/commands/policy.js';
import { schedulePauseModule } from '../../src/cli/commands/schedule-pause.js';
import { schemaStatements } from '../../src/cluster/tend-schema.js';
import { MemoryStream } from '../../src/output/memory-stream.js';
import { NODES } from '../sandbox/src/layout.js';
import { tendConfig } from '../sandbox/src/tend-config.js';
import { sandboxTendConfig, openTestSession } from '../support/sandbox-config.js';

const KS = 'tend_it_policy_cli';
const registry = buildRegistry([policyModule, schedulePauseModule]);

function configDir(node: number, keyspace = KS): string {
  const dir = mkdtempSync(join(tmpdir(), 'tend-policy-cli-'));
  const raw = tendConfig(NODES[node - 1]!);
  raw.cassandra.keyspace = keyspace;
  writeFileSync(join(dir, 'tend.yml'), stringify(raw));
  return dir;
}

async function tend(dir: string, args: string[], options: { tty?: boolean } = {}) {
  const stdout = new MemoryStream(options.tty ?? false);
  const stderr = new MemoryStream(options.tty ?? false);
  const code = await main(['node', 'tend', '--no-color', '-c', 'tend.yml', ...args], {
    stdout,
    stderr,
    env: {},
    cwd: dir,
    readFile: (path) => readFile(path.startsWith('/') ? path : join(dir, path), 'utf8'),
    systemConfigDir: join(dir, 'etc'),
    registry,
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

describe('tend policy / schedule pause|resume (real sandbox)', function () {
  let client: cassandra.Client;
  let node1: string;
  let node3: string;

  before(async function () {
    client = await openTestSession(sandboxTendConfig(1));
    for (const statement of schemaStatements(KS, { class: 'NetworkTopologyStrategy', dc1: 2, dc2: 1 })) {
      await client.execute(statement);
    }
    for (const row of (await client.execute(`SELECT id FROM ${KS}.run_windows`)).rows) {
      await client.execute(`DELETE FROM ${KS}.run_windows WHERE id = ?`, [row.get('id')], { prepare: true });
    }
    await client.execute(`DELETE FROM ${KS}.pauses WHERE scope = '*'`);
    node1 = configDir(1);
    node3 = configDir(3);
  });
  after(() => client?.shutdown());

  it('add, list (terminal, piped, JSON, from the other DC) and remove a window', async () => {
    const add = await tend(node1, [
      'policy',
      'add',
      'block',
      `${KS}.pauses`,
      '--days',
      'mon-fri',
      '--start',
      '08:00',
      '--end',
      '18:00',
      '--timezone',
      'Europe/Berlin',
      '--datacenter',
      'dc2',
    ]);
    expect(add.code, add.stderr).to.equal(0);
    const id =
      /^added (w[0-9a-f]{8}): block mon-fri 08:00-18:00 Europe\/Berlin for tend_it_policy_cli\.pauses in dc2\n$/.exec(
        add.stdout,
      )?.[1];
    expect(id, add.stdout).to.be.a('string');
    expect(add.stderr).to.equal('');

    const again = await tend(node1, [
      'policy',
      'add',
      'block',
      `${KS}.pauses`,
      '--days',
      'weekdays',
      '--start',
      '08:00',
      '--end',
      '18:00',
      '--timezone',
      'Europe/Berlin',
      '--datacenter',
      'dc2',
    ]);
    expect(again.stdout).to.match(new RegExp(`^${id} already exists`));

    const piped = await tend(node3, ['policy', 'list']);
    expect(piped.code).to.equal(0);
    const fields = piped.stdout.trimEnd().split('\t');
    expect(fields.slice(0, 7)).to.deep.equal([
      id,
      'block',
      `${KS}.pauses`,
      'dc2',
      'mon-fri',
      '08:00-18:00',
      'Europe/Berlin',
    ]);
    expect(fields[7]).to.be.oneOf(['blocking', '-']);

    const onTerminal = await tend(node3, ['policy', 'list'], { tty: true });
    expect(onTerminal.stdout).to.match(
      /^ID\s+ACTION\s+SCOPE\s+DATACENTER\s+DAYS\s+TIME\s+TIMEZONE\s+NOW\s+CREATED BY\n/,
    );

    const json = await tend(node1, ['policy', 'list', `${KS}.pauses`, '--json']);
    const listing = JSON.parse(json.stdout) as { windows: Array<{ id: string; source: string }>; pause: null };
    expect(listing.windows.map((w) => w.id)).to.deep.equal([id]);
    expect(listing.pause).to.equal(null);
    const other = JSON.parse((await tend(node1, ['policy', 'list', 'system', '--json'])).stdout) as { windows: [] };
    expect(other.windows).to.deep.equal([]);

    const remove = await tend(node1, ['policy', 'remove', id!]);
    expect(remove.code).to.equal(0);
    expect(remove.stdout).to.equal(`removed ${id}\n`);
    const empty = await tend(node1, ['policy', 'list']);
    expect(empty.stdout).to.equal('');
    expect(empty.stderr).to.include('no run windows');
  });

  it('refuses an unknown keyspace with exit 2 and the closest name', async () => {
    const result = await tend(
      node1,
      ['policy', 'add', 'allow', 'tend_it_policy_cl', '--start', '01:00', '--end', '05:00'],
      {
        tty: true,
      },
    );
    expect(result.code).to.equal(2);
    expect(result.stderr).to.equal(`error: unknown keyspace "tend_it_policy_cl"\n  Did you mean ${KS}?\n`);
    const unknownId = await tend(node1, ['policy', 'remove', 'w00000000']);
    expect(unknownId.code).to.equal(2);
  });

  it("refuses to run against a keyspace without tend's schema, saying how to create it", async () => {
    const result = await tend(configDir(1, 'tend_it_policy_none'), ['schedule', 'pause'], { tty: true });
    expect(result.code).to.equal(1);
    expect(result.stderr).to.match(/tend_it_policy_none does not exist or has no schema version\n.*tend schema apply/);
  });

  it('pause --until 2h, seen from the other DC; resume; resume again is not an error', async () => {
    const pause = await tend(node1, ['schedule', 'pause', '--until', '2h', '--reason', 'upgrade', '--json']);
    expect(pause.code, pause.stderr).to.equal(0);
    const result = JSON.parse(pause.stdout) as {
      now: number;
      active: boolean;
      pause: { until: number; reason: string };
    };
    expect(result.active).to.equal(true);
    expect(result.pause.until - result.now).to.equal(2 * 3_600_000);

    const list = await tend(node3, ['policy', 'list']);
    expect(list.stderr).to.match(/the schedule is paused until \d{4}-\d\d-\d\dT.* by .*: upgrade/);

    const resume = await tend(node3, ['schedule', 'resume']);
    expect(resume.code).to.equal(0);
    expect(resume.stdout).to.match(/^resumed \(paused since .* by .*\)\n$/);
    const again = await tend(node3, ['schedule', 'resume']);
    expect(again.stdout).to.equal('not paused\n');
  });

  it('pause --until in the past is accepted, warned about, and has no effect', async () => {
    const pause = await tend(node1, ['schedule', 'pause', '--until', '2020-01-01T00:00:00Z'], { tty: true });
    expect(pause.code).to.equal(0);
    expect(pause.stdout).to.match(/^paused cluster-wide until .* ago\n$/);
    expect(pause.stderr).to.include('--until is already past: this pause has no effect');
    const list = await tend(node1, ['policy', 'list']);
    expect(list.stderr).to.match(/a pause by .* expired .*; it has no effect/);
    await tend(node1, ['schedule', 'resume']);
  });
});
