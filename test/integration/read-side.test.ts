/**
 * The read side on the real sandbox: `schema apply`, `schedule status`, `schedule plan`, `history show` from argv to
 * Cassandra and back, after real `nodetool repair` runs; keyspaces not replicated to a DC and with one replica;
 * quoted mixed-case names; tend's own history (recordTaskOutcome) and the repair_state watermark that keeps a
 * plan's reads proportional to tables × ranges; tables whose history is read together (one request per source)
 * get the same history as when read one by one. Every keyspace here is this file's own (it_read_*), and tend's
 * tables live in their own keyspace (tend_it_read), so other suites running at the same time cannot interfere.
 */
import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import cassandra from 'cassandra-driver';
import { main } from '../../src/cli/main.js';
import { openSession } from '../../src/cluster/session.js';
import { applySchema, schemaStatements, TEND_SCHEMA_VERSION } from '../../src/cluster/schema.js';
import { gatherPlanInput } from '../../src/app/plan-input.js';
import { readTableHistories, readTableHistory, type TableHistoryRead } from '../../src/history/table-history.js';
import { plan as computePlan } from '../../src/core/index.js';
import { recordTaskOutcome } from '../../src/history/tend-history.js';
import { MemoryStream } from '../../src/output/memory-stream.js';
import { NODES } from '../sandbox/src/layout.js';
import { tendConfig } from '../sandbox/src/tend-config.js';
import { nodetool } from '../support/sandbox-clients.js';
import { sandboxTendConfig } from '../support/sandbox-config.js';
import type { StatusReport } from '../../src/app/schedule.js';
import type { HistoryReport } from '../../src/app/history-show.js';

const TEND_KS = 'tend_it_read';
const KS = 'it_read_main';
const KS_DC1 = 'it_read_dc1only';
const KS_RF1 = 'it_read_rf1_dc1';
const KS_MIXED = 'ItReadMixed';
const DAY = 86_400_000;

type RawConfig = ReturnType<typeof tendConfig>;

/** A tend.yml for sandbox node `node` using this file's tend keyspace, in a fresh directory. */
function configDir(node: number, patch: (raw: RawConfig & Record<string, unknown>) => void = () => undefined) {
  const dir = mkdtempSync(join(tmpdir(), 'tend-read-'));
  const raw = tendConfig(NODES[node - 1]!) as RawConfig & Record<string, unknown>;
  raw.cassandra.keyspace = TEND_KS;
  patch(raw);
  writeFileSync(join(dir, 'tend.yml'), stringify(raw));
  return dir;
}

async function tend(dir: string, args: string[]) {
  const stdout = new MemoryStream(false);
  const stderr = new MemoryStream(false);
  const code = await main(['node', 'tend', '--no-color', '-c', 'tend.yml', ...args], {
    stdout,
    stderr,
    env: {},
    cwd: dir,
    readFile: (path) => readFile(path.startsWith('/') ? path : join(dir, path), 'utf8'),
    systemConfigDir: join(dir, 'etc'),
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

async function json<T>(dir: string, args: string[]): Promise<T> {
  const result = await tend(dir, [...args, '--json']);
  expect(result.code, result.stderr).to.equal(0);
  return JSON.parse(result.stdout) as T;
}

/**
 * `count` synthetic successful sessions of KS.`table` in system_distributed.repair_history, one a second from
 * `base`, session i on vnode (i × stride) mod vnodes: what months of `nodetool repair -st -et` leave behind.
 * (system_distributed is writable; Cassandra's own coordinators write it at ANY.)
 */
async function insertSessions(
  client: cassandra.Client,
  table: string,
  ring: { ranges: readonly unknown[]; startTexts: readonly string[]; endTexts: readonly string[] },
  count: number,
  base: number,
  stride: number,
) {
  const insert = `INSERT INTO system_distributed.repair_history (keyspace_name, columnfamily_name, id, range_begin, range_end, status, started_at, finished_at, coordinator) VALUES (?, ?, ?, ?, ?, 'SUCCESS', ?, ?, '${NODES[0]!.address}')`;
  for (let from = 0; from < count; from += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, count - from) }, (_, k) => {
        const i = from + k;
        const at = new Date(base + i * 1000);
        const index = (i * stride) % ring.ranges.length;
        return client.execute(
          insert,
          [KS, table, cassandra.types.TimeUuid.fromDate(at), ring.startTexts[index], ring.endTexts[index], at, at],
          { prepare: true },
        );
      }),
    );
  }
}

describe('read side: schedule status / plan, history show (real sandbox)', function () {
  this.timeout(180_000);
  let client: cassandra.Client;
  let node1: string;
  let node3: string;

  before(async function () {
    client = await openSession(sandboxTendConfig(1), {});
    await applySchema(client, TEND_KS, { class: 'NetworkTopologyStrategy', dc1: 2, dc2: 1 });
    for (const table of ['repair_state', 'repair_history']) await client.execute(`TRUNCATE ${TEND_KS}.${table}`);
    const ddl = [
      `CREATE KEYSPACE IF NOT EXISTS ${KS} WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 2, 'dc2': 1}`,
      `CREATE KEYSPACE IF NOT EXISTS ${KS_DC1} WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 2}`,
      `CREATE KEYSPACE IF NOT EXISTS ${KS_RF1} WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 1}`,
      `CREATE KEYSPACE IF NOT EXISTS "${KS_MIXED}" WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 2, 'dc2': 1}`,
      ...['repaired', 'never', 'late', 'recorded', 'hist'].map(
        (t) => `CREATE TABLE IF NOT EXISTS ${KS}.${t} (id int PRIMARY KEY, v text)`,
      ),
      `CREATE TABLE IF NOT EXISTS ${KS}.short_grace (id int PRIMARY KEY) WITH gc_grace_seconds = 86400`,
      `CREATE TABLE IF NOT EXISTS ${KS_DC1}.t (id int PRIMARY KEY, v text)`,
      `CREATE TABLE IF NOT EXISTS ${KS_RF1}.t (id int PRIMARY KEY, v text)`,
      `CREATE TABLE IF NOT EXISTS "${KS_MIXED}"."Orders" (id int PRIMARY KEY, v text)`,
    ];
    for (const statement of ddl) await client.execute(statement);
    await client.execute(`INSERT INTO ${KS}.repaired (id, v) VALUES (1, 'x')`);
    // A tick from another suite (or an earlier run) may have repaired these tables: forget Cassandra's record of it,
    // so "never repaired" holds on a reused sandbox too. (Parent rows are only ever found through session rows.)
    for (const table of ['never', 'late', 'recorded', 'short_grace']) {
      await client.execute(
        'DELETE FROM system_distributed.repair_history WHERE keyspace_name = ? AND columnfamily_name = ?',
        [KS, table],
        { prepare: true },
      );
    }
    node1 = configDir(1, (raw) => {
      (raw.repair as Record<string, unknown>).tables = [{ match: `${KS}.late`, alarm: { warn: '8d', error: '60d' } }];
    });
    node3 = configDir(3);
  });

  after(async function () {
    await client?.shutdown();
  });

  it('schema apply is idempotent and versioned', async function () {
    const first = await json<{ version: number; previousVersion: number | null }>(node1, ['schema', 'apply']);
    expect(first.version).to.equal(TEND_SCHEMA_VERSION);
    const again = await tend(node1, ['schema', 'apply']);
    expect(again.code).to.equal(0);
    expect(again.stdout).to.include(`up to date (version ${TEND_SCHEMA_VERSION})`);
  });

  it('schema apply reports a replication that differs from the config and never alters it', async function () {
    const other = configDir(1, (raw) => {
      (raw.cassandra as { replication: Record<string, number> }).replication = { dc1: 1 };
    });
    const result = await tend(other, ['schema', 'apply']);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stderr).to.match(/not as configured; apply leaves it alone/);
    expect(result.stderr).to.include('ALTER KEYSPACE');
    const row = (
      await client.execute('SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?', [TEND_KS], {
        prepare: true,
      })
    ).first();
    expect((row.get('replication') as Record<string, string>).dc2).to.equal('1');
  });

  it('a schema written by a newer tend: apply refuses to downgrade, other commands ask for an upgrade', async function () {
    const newer = 'tend_it_read_newer';
    // Only the version table matters here (and creating all of tend's tables would cost seconds of schema agreement).
    const [createKeyspace, createVersionTable] = schemaStatements(newer, {
      class: 'NetworkTopologyStrategy',
      dc1: 2,
      dc2: 1,
    });
    await client.execute(createKeyspace!);
    await client.execute(createVersionTable!);
    await client.execute(`UPDATE ${newer}.schema_version SET version = 99 WHERE component = 'tend'`);
    const dir = configDir(1, (raw) => {
      raw.cassandra.keyspace = newer;
    });
    const apply = await tend(dir, ['schema', 'apply']);
    expect(apply.code).to.equal(1);
    expect(apply.stderr).to.include(`version 99, newer than this tend's ${TEND_SCHEMA_VERSION}`);
    const status = await tend(dir, ['schedule', 'status']);
    expect(status.code).to.equal(1);
    expect(status.stderr).to.include('upgrade tend');
  });

  it('commands that use tend\'s tables stop with "run tend schema apply" when the schema is missing', async function () {
    const missing = configDir(1, (raw) => {
      raw.cassandra.keyspace = 'tend_it_read_missing';
    });
    const result = await tend(missing, ['schedule', 'status']);
    expect(result.code).to.equal(1);
    expect(result.stderr).to.include('tend_it_read_missing does not exist');
    expect(result.stderr).to.include('tend schema apply');
    expect(result.stdout).to.equal('');
  });

  it('after a real nodetool repair, history show lists it and schedule status shows it repaired now', async function () {
    const repair = await nodetool(1, ['repair', '-full', KS, 'repaired']);
    expect(repair.exitCode, repair.stderr || repair.stdout).to.equal(0);

    const history = await json<HistoryReport>(node1, ['history', 'show', `${KS}.repaired`, '--since', '1h']);
    const session = history.sessions.find((s) => s.source === 'cassandra' && s.status === 'SUCCESS');
    expect(session, JSON.stringify(history.sessions)).to.not.equal(undefined);
    expect(session!.coordinator).to.equal(NODES[0]!.address);
    // The full set of ranges comes from parent_repair_history (repair_history keeps one range per session).
    expect(session!.ranges).to.be.greaterThan(1);
    expect(history.now - (session!.finishedAt ?? 0)).to.be.lessThan(5 * 60_000);

    const status = await json<StatusReport>(node1, ['schedule', 'status', `${KS}.repaired`]);
    expect(status.rows).to.have.length(1);
    const row = status.rows[0]!;
    expect(row.state).to.equal('ON_TIME');
    expect(row.rangesBehind).to.equal(0);
    expect(status.now - row.lastRepairedAt!).to.be.lessThan(5 * 60_000);
    expect(row.nextDueAt! - row.lastRepairedAt!).to.equal(7 * DAY);

    const coverage = await json<HistoryReport>(node1, ['history', 'show', `${KS}.repaired`, '--coverage']);
    expect(coverage.coverage?.[0]).to.include({ table: 'repaired', share: 1 });
  });

  it('a never-repaired table is late per config: OVERDUE by default, LATE with a 60d error alarm', async function () {
    const status = await json<StatusReport>(node1, ['schedule', 'status', KS]);
    const never = status.rows.find((r) => r.table === 'never')!;
    expect(never).to.include({ state: 'OVERDUE', alarm: 'error', due: true, lastRepairedAt: null });
    expect(never.rangesBehind).to.equal(never.rangesTotal);
    const late = status.rows.find((r) => r.table === 'late')!;
    expect(late).to.include({ state: 'LATE', alarm: 'warn', matchedBy: `${KS}.late` });

    const check = await tend(node1, ['schedule', 'status', KS, '--check']);
    expect(check.code).to.equal(7);
    expect(check.stderr).to.include(`${KS}.never`);
    const fine = await tend(node1, ['schedule', 'status', `${KS}.repaired`, '--check']);
    expect(fine.code, fine.stderr).to.equal(0);
  });

  it('warns (stderr) about tables whose gc_grace_seconds is shorter than their error alarm', async function () {
    const result = await tend(node1, ['schedule', 'status', `${KS}.short_grace`]);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stderr).to.include(`${KS}.short_grace (86400s)`);
    expect(result.stdout).to.not.include('gc_grace');
  });

  it('a keyspace not replicated to dc2 is skipped on node3, scheduled on node1; an RF 1 keyspace is skipped', async function () {
    const fromNode3 = await json<StatusReport>(node3, ['schedule', 'status', KS_DC1]);
    expect(fromNode3.rows).to.have.length(1);
    expect(fromNode3.rows[0]).to.include({ state: 'SKIPPED' });
    expect(fromNode3.rows[0]!.reason).to.match(/^not_replicated_here: /);

    const fromNode1 = await json<StatusReport>(node1, ['schedule', 'status', KS_DC1]);
    expect(fromNode1.rows[0]!.state).to.not.equal('SKIPPED');

    const rf1 = await json<StatusReport>(node1, ['schedule', 'status', KS_RF1]);
    expect(rf1.rows[0]!.state).to.equal('SKIPPED');
    expect(rf1.rows[0]!.reason).to.match(/^single_replica: /);

    const plan = await json<{ skipped: { keyspace: string; table: string; code: string }[] }>(node3, [
      'schedule',
      'plan',
    ]);
    const skipped = plan.skipped.find((s) => s.keyspace === KS_DC1);
    expect(skipped).to.include({ table: 't', code: 'not_replicated_here' });
  });

  it('quoted mixed-case names work; a wrong case in quotes is an unknown name with the right suggestion', async function () {
    const quoted = await json<StatusReport>(node1, ['schedule', 'status', `"${KS_MIXED}"."Orders"`]);
    expect(quoted.rows.map((r) => [r.keyspace, r.table])).to.deep.equal([[KS_MIXED, 'Orders']]);
    const folded = await json<StatusReport>(node1, ['schedule', 'status', 'itreadmixed.orders']);
    expect(folded.rows.map((r) => r.table)).to.deep.equal(['Orders']);
    const history = await json<HistoryReport>(node1, ['history', 'show', `"${KS_MIXED}"`, '--coverage']);
    expect(history.coverage?.map((c) => c.table)).to.deep.equal(['Orders']);

    const wrong = await tend(node1, ['schedule', 'status', '"itreadmixed"']);
    expect(wrong.code).to.equal(2);
    expect(wrong.stderr).to.match(/did you mean: .*ItReadMixed/);
  });

  it('recordTaskOutcome: a recorded success counts for its ranges, a failure does not; history show lists both', async function () {
    const config = sandboxTendConfig(1, {}, (raw) => {
      raw.cassandra.keyspace = TEND_KS;
    });
    const before = await gatherPlanInput(client, config, { scope: `${KS}.recorded` });
    const planned = computePlan(before.input);
    const task = planned.tasks[0]!;
    expect(task.ranges.length).to.be.greaterThan(0);
    const now = Date.now();
    await recordTaskOutcome(client, TEND_KS, {
      keyspace: KS,
      tables: ['recorded'],
      ranges: task.ranges.slice(0, 1),
      status: 'FAILED',
      startedAt: now - 2000,
      finishedAt: now - 1500,
      coordinator: 'node1',
      participants: task.replicaAddresses,
      repairType: 'vnode',
      parallelism: 'parallel',
      message: 'validation failed',
      taskId: 'it-failed',
    });
    await recordTaskOutcome(client, TEND_KS, {
      keyspace: KS,
      tables: ['recorded'],
      ranges: task.ranges,
      status: 'SUCCESS',
      startedAt: now - 1000,
      finishedAt: now,
      coordinator: 'node1',
      participants: task.replicaAddresses,
      repairType: 'vnode',
      parallelism: 'parallel',
      taskId: 'it-success',
    });
    const status = await json<StatusReport>(node1, ['schedule', 'status', `${KS}.recorded`]);
    const row = status.rows[0]!;
    const job = planned.jobs[0]!;
    expect(row.rangesBehind).to.equal(job.rangesBehind - task.ranges.length);

    const history = await json<HistoryReport>(node1, ['history', 'show', `${KS}.recorded`, '--since', '1h']);
    const mine = history.sessions.filter((s) => s.source === 'tend');
    expect(mine.map((s) => [s.id, s.status, s.ranges])).to.have.deep.members([
      ['it-failed', 'FAILED', 1],
      ['it-success', 'SUCCESS', task.ranges.length],
    ]);
  });

  it('plan reads: after the history is folded into repair_state, old sessions are not read again', async function () {
    const config = sandboxTendConfig(1, {}, (raw) => {
      raw.cassandra.keyspace = TEND_KS;
    });
    // H synthetic sessions, two days old, spread over the table's vnodes.
    const first = await gatherPlanInput(client, config, { scope: `${KS}.hist`, readSizes: false });
    const ring = first.input.ring!;
    await client.execute(
      `DELETE FROM system_distributed.repair_history WHERE keyspace_name = ? AND columnfamily_name = ?`,
      [KS, 'hist'],
    );
    const H = 1500;
    await insertSessions(client, 'hist', ring, H, Date.now() - 2 * DAY, 1);
    const cold = await gatherPlanInput(client, config, { scope: `${KS}.hist`, readSizes: false });
    expect(cold.rowsRead.sessions).to.equal(H);
    expect(cold.rowsRead.state).to.equal(0);

    const persisted = await gatherPlanInput(client, config, {
      scope: `${KS}.hist`,
      readSizes: false,
      persistHistory: true,
    });
    const warm = await gatherPlanInput(client, config, { scope: `${KS}.hist`, readSizes: false });
    expect(warm.rowsRead.sessions).to.equal(0);
    expect(warm.rowsRead.state).to.be.at.most(ring.ranges.length + 1);
    // Same answer from repair_state as from the raw history.
    const coldJob = computePlan(cold.input).jobs[0]!;
    const warmJob = computePlan(warm.input).jobs[0]!;
    expect(warmJob.lastRepairedAt).to.equal(coldJob.lastRepairedAt);
    expect(warmJob.rangesBehind).to.equal(coldJob.rangesBehind);
    expect(persisted.rowsRead.sessions).to.equal(H);
    console.log(
      `      rows read for 1 table, ${ring.ranges.length} vnodes, ${H} history rows: cold ${cold.rowsRead.total} (sessions ${cold.rowsRead.sessions}), after fold ${warm.rowsRead.total} (repair_state ${warm.rowsRead.state}, sessions ${warm.rowsRead.sessions})`,
    );
    await client.execute(
      `DELETE FROM system_distributed.repair_history WHERE keyspace_name = ? AND columnfamily_name = ?`,
      [KS, 'hist'],
    );
  });
  it('tables read together (IN, all pages) get the same history as read one by one, before and after folding', async function () {
    const config = sandboxTendConfig(1, {}, (raw) => {
      raw.cassandra.keyspace = TEND_KS;
    });
    // tend's repair_state was truncated in before(); a DELETE here would shadow what tend writes next (tend writes
    // the watermark with the watermark's own time as its write timestamp, an hour behind now).
    const tables = ['batch_a', 'batch_b', 'batch_c'];
    for (const table of tables) {
      await client.execute(`CREATE TABLE IF NOT EXISTS ${KS}.${table} (id int PRIMARY KEY, v text)`);
      await client.execute(
        'DELETE FROM system_distributed.repair_history WHERE keyspace_name = ? AND columnfamily_name = ?',
        [KS, table],
        { prepare: true },
      );
    }
    const ring = (await gatherPlanInput(client, config, { scope: `${KS}.batch_a`, readSizes: false })).input.ring!;
    // batch_a: more synthetic sessions than one page of the IN read (1000), so the read crosses pages inside a
    // partition and then into the next; batch_b: a real nodetool repair (sessions and a multi-range parent);
    // batch_c: nothing.
    const H = 1200;
    const base = Date.now() - 2 * DAY;
    await insertSessions(client, 'batch_a', ring, H, base, 7);
    const repair = await nodetool(1, ['repair', '-full', KS, 'batch_b']);
    expect(repair.exitCode, repair.stderr || repair.stdout).to.equal(0);

    const common = { ring, tendKeyspace: TEND_KS, keyspace: KS, lookbackMs: 30 * DAY };
    const compare = async (label: string) => {
      const now = Date.now();
      const together = await readTableHistories(client, { ...common, now, tables });
      const alone = new Map<string, TableHistoryRead>();
      for (const table of tables) alone.set(table, await readTableHistory(client, { ...common, now, table }));
      const shape = (read: TableHistoryRead) => ({
        repairedAt: [...read.history.repairedAt],
        pieces: [...read.history.pieces],
        state: read.rowsRead.state,
        sessions: read.rowsRead.sessions,
        externalReadFrom: read.externalReadFrom,
        externalFoldedBefore: read.externalFoldedBefore,
      });
      for (const table of tables) {
        expect(shape(together.get(table)!), `${label}: ${table}`).to.deep.equal(shape(alone.get(table)!));
      }
      return together;
    };

    const cold = await compare('cold');
    expect(cold.get('batch_a')!.rowsRead.sessions).to.equal(H);
    expect(cold.get('batch_b')!.rowsRead.sessions).to.be.greaterThan(0);
    // The parent of batch_b's repair names every range it repaired: all of them.
    expect(cold.get('batch_b')!.history.repairedAt.every((at) => at > base)).to.equal(true);
    expect(cold.get('batch_c')!.history.repairedAt.every((at) => at === -Infinity)).to.equal(true);

    // Fold everything into repair_state through the batched read, then compare again: the three now read from
    // their watermarks, repair_state holds what the sessions said.
    await readTableHistories(client, { ...common, now: Date.now(), tables, persist: true, persistAs: 'node1' });
    const warm = await compare('after folding');
    expect(warm.get('batch_a')!.rowsRead.sessions).to.equal(0);
    expect(warm.get('batch_a')!.rowsRead.state).to.be.greaterThan(0);
    expect([...warm.get('batch_a')!.history.repairedAt]).to.deep.equal([...cold.get('batch_a')!.history.repairedAt]);
    expect([...warm.get('batch_b')!.history.repairedAt]).to.deep.equal([...cold.get('batch_b')!.history.repairedAt]);

    for (const table of tables) {
      await client.execute(
        'DELETE FROM system_distributed.repair_history WHERE keyspace_name = ? AND columnfamily_name = ?',
        [KS, table],
        { prepare: true },
      );
    }
  });
});
