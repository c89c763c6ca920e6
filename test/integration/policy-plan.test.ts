/**
 * Run policies through the real planning pipeline: `tend schedule pause|resume` and `tend policy add` change what
 * `tend schedule plan` (the same plan a tick runs) decides, on the real sandbox. A pause whose --until has passed
 * has no effect.
 */
import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type cassandra from 'cassandra-driver';
import { main } from '../../src/cli/main.js';
import { clusterNow } from '../../src/cluster/session.js';
import { schemaStatements } from '../../src/cluster/tend-schema.js';
import { MemoryStream } from '../../src/output/memory-stream.js';
import { NODES } from '../sandbox/src/layout.js';
import { tendConfig } from '../sandbox/src/tend-config.js';
import { sandboxTendConfig, openTestSession } from '../support/sandbox-config.js';

const KS = 'tend_it_policy_plan';
const DATA = 'tend_it_policy_data';
const HOUR = 3_600_000;

interface PlanJob {
  keyspace: string;
  table: string;
  state: string;
  blockedBy: string[];
}
interface PlanDoc {
  jobs: PlanJob[];
  tasks: Array<{ keyspace: string }>;
  deferred: Array<{ keyspace: string; code: string }>;
}

function clock(now: number, offsetMs: number): string {
  return new Date(now + offsetMs).toISOString().slice(11, 16);
}

describe('run policies decide the plan (real sandbox)', function () {
  let client: cassandra.Client;
  let dir: string;

  async function tend(args: string[]) {
    const stdout = new MemoryStream(false);
    const stderr = new MemoryStream(false);
    const code = await main(['node', 'tend', '-c', 'tend.yml', ...args], {
      stdout,
      stderr,
      env: {},
      cwd: dir,
      readFile: (path) => readFile(path.startsWith('/') ? path : join(dir, path), 'utf8'),
      systemConfigDir: join(dir, 'etc'),
    });
    return { code, stdout: stdout.text, stderr: stderr.text };
  }

  async function plan(): Promise<PlanDoc> {
    const result = await tend(['schedule', 'plan', '--json']);
    expect(result.code, result.stderr).to.equal(0);
    return JSON.parse(result.stdout) as PlanDoc;
  }

  const ours = (doc: PlanDoc) => doc.jobs.filter((job) => job.keyspace === DATA);

  before(async function () {
    client = await openTestSession(sandboxTendConfig(1));
    for (const statement of schemaStatements(KS, { class: 'NetworkTopologyStrategy', dc1: 2, dc2: 1 })) {
      await client.execute(statement);
    }
    await client.execute(
      `CREATE KEYSPACE IF NOT EXISTS ${DATA} WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 2, 'dc2': 1}`,
    );
    await client.execute(`CREATE TABLE IF NOT EXISTS ${DATA}.orders (id int PRIMARY KEY, v text)`);
    for (const row of (await client.execute(`SELECT id FROM ${KS}.run_windows`)).rows) {
      await client.execute(`DELETE FROM ${KS}.run_windows WHERE id = ?`, [row.get('id')], { prepare: true });
    }
    await client.execute(`DELETE FROM ${KS}.pauses WHERE scope = '*'`);
    dir = mkdtempSync(join(tmpdir(), 'tend-policy-plan-'));
    const raw = tendConfig(NODES[0]!);
    raw.cassandra.keyspace = KS;
    writeFileSync(join(dir, 'tend.yml'), stringify(raw));
  });
  after(async () => {
    await tend(['schedule', 'resume']);
    await client?.shutdown();
  });

  it('without policies the never-repaired table is due and not blocked', async () => {
    const jobs = ours(await plan());
    expect(jobs.map((job) => job.table)).to.deep.equal(['orders']);
    expect(jobs[0]!.state).to.equal('OVERDUE');
    expect(jobs[0]!.blockedBy).to.deep.equal([]);
  });

  it('a pause with --until in the past has no effect on the plan', async () => {
    expect((await tend(['schedule', 'pause', '--until', '2020-01-01T00:00:00Z'])).code).to.equal(0);
    const doc = await plan();
    expect(doc.jobs.filter((job) => job.state === 'BLOCKED')).to.deep.equal([]);
    expect(ours(doc)[0]!.blockedBy).to.deep.equal([]);
  });

  it('pause --until 2h blocks every job and leaves no task; resume restores the plan', async () => {
    expect((await tend(['schedule', 'pause', '--until', '2h', '--reason', 'it test'])).code).to.equal(0);
    const paused = await plan();
    expect(paused.tasks).to.deep.equal([]);
    expect(paused.jobs.length).to.be.greaterThan(0);
    for (const job of paused.jobs.filter((j) => j.blockedBy.length > 0 || j.state !== 'ON_TIME')) {
      expect(job.state, `${job.keyspace}.${job.table}`).to.equal('BLOCKED');
    }
    expect(ours(paused)[0]!.blockedBy[0]).to.match(/^paused until .*: it test$/);

    expect((await tend(['schedule', 'resume'])).code).to.equal(0);
    const resumed = await plan();
    expect(ours(resumed)[0]!.state).to.equal('OVERDUE');
    expect(resumed.jobs.filter((job) => job.state === 'BLOCKED')).to.deep.equal([]);
  });

  it('a block window around now blocks only its keyspace in its datacenter', async () => {
    const now = await clusterNow(client);
    const window = ['--start', clock(now, -HOUR), '--end', clock(now, HOUR)];
    const otherDc = await tend(['policy', 'add', 'block', DATA, '--datacenter', 'dc2', ...window]);
    expect(otherDc.code, otherDc.stderr).to.equal(0);
    expect(ours(await plan())[0]!.state, 'a dc2 window does not block node1 (dc1)').to.equal('OVERDUE');

    const add = await tend(['policy', 'add', 'block', `${DATA}.orders`, '--datacenter', 'dc1', ...window]);
    expect(add.code, add.stderr).to.equal(0);
    const id = /^added (w[0-9a-f]{8})/.exec(add.stdout)![1]!;
    const doc = await plan();
    const orders = ours(doc)[0]!;
    expect(orders.state).to.equal('BLOCKED');
    expect(orders.blockedBy.join('\n')).to.include(`inside block window`);
    expect(doc.tasks.filter((task) => task.keyspace === DATA)).to.deep.equal([]);
    expect(doc.jobs.filter((job) => job.state === 'BLOCKED').map((job) => job.keyspace)).to.deep.equal([DATA]);

    expect((await tend(['policy', 'remove', id])).code).to.equal(0);
    expect(ours(await plan())[0]!.state).to.equal('OVERDUE');
  });
});
