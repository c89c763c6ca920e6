/**
 * Cluster-wide maintenance jobs end to end (issue 17): a job started once with the built `tend job start`,
 * carried out by the three nodes' own `tend schedule tick`s (node1 and node3 through Jolokia, node2 through
 * nodetool), every round of ticks started at the same moment on the three nodes.
 *
 * - cleanup: at most one node at a time (checked from the steps' recorded times and from the ticks' reports), done
 *   on every node, Cassandra's own log says it cleaned the keyspace's SSTables on each node, `job status` exits 0.
 * - upgradesstables leaves current-format SSTables alone; with --include-all-sstables it rewrites each of them (new
 *   generations on every node); garbagecollect drops the deleted rows.
 * - abort: a major compaction (`compact`) slowed down on the server (compaction throughput 1 MiB/s, ~20 MB per
 *   node), one step per datacenter at once, is aborted while node3's (Jolokia) and a dc1 node's step run: the
 *   ticks stop within seconds, Cassandra logs each compaction as interrupted and has none of the keyspace running
 *   any more (system_views.sstable_tasks), both steps are recorded failed (aborted), and later ticks start no
 *   other step. compact rather than cleanup: cleanup keeps only the
 *   owned third here and wrote it in ~8 s (measured), too fast to abort reliably; a major compaction rewrites all.
 * - a step whose process died: node3's `tend job run` killed (SIGKILL) during a throttled major compaction; the
 *   compaction goes on in Cassandra, the step stays running until its heartbeat is stale, is then handed back
 *   (retried) and waits while node3 still runs the compaction (job status says so), and runs again as attempt 2
 *   once it has ended: node3's log has the two compactions one after the other, never two at once.
 * - a group tick (`nodes:` covering the three nodes) carries out a cleanup job one node at a time: `job run` with
 *   the group's file runs the first turn, one group tick the two others, under the instance's name.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { setTimeout as sleep } from 'node:timers/promises';
import cassandra from 'cassandra-driver';
import { NODES, SECURE } from '../sandbox/src/layout.js';
import { systemLog } from '../sandbox/src/cassandra-node.js';
import { consul, cqlClient, jolokia, nodeClient, nodetool } from '../support/sandbox-clients.js';
import {
  createSmallKeyspace,
  createTendKeyspace,
  nodeByName,
  parentRepairs,
  ringRanges,
  RUN,
  tend,
  tick,
  writeScopedConfig,
} from '../support/tick-e2e.js';

const TEND_KS = `tend_e2e_jobs_${RUN}`;
const SMALL_KS = `e2e_jobs_small_${RUN}`;
const SLOW_KS = `e2e_jobs_slow_${RUN}`;
const REPAIR_KS = `e2e_jobs_repair_${RUN}`;
const MAINT_KS = `e2e_jobs_maint_${RUN}`;
const DIED_KS = `e2e_jobs_died_${RUN}`;

interface StepJson {
  hostId: string;
  address: string;
  state: string;
  attempt: number;
  holder?: string;
  startedAt?: number;
  finishedAt?: number;
  message?: string;
  progress?: { completed: number; total: number; unit: string; tasks: number };
}
interface JobJson {
  job: { id: string; abortedBy?: string };
  phase: string;
  steps: StepJson[];
}

/**
 * Creates `keyspace` with `rows` rows of 1 KiB on both dc1 nodes, then lowers dc1's replication to 1, as after a
 * topology change: node1 and node2 each keep data of ranges they no longer own, which is what cleanup removes.
 */
async function dataKeyspace(client: cassandra.Client, keyspace: string, rows: number): Promise<void> {
  await client.execute(
    `CREATE KEYSPACE ${keyspace} WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 2, 'dc2': 1}`,
  );
  await client.execute(`CREATE TABLE ${keyspace}.t (id int PRIMARY KEY, v text)`);
  // Random bytes: SSTables are compressed, and the compaction throughput limit counts what is read from disk.
  const insert = `INSERT INTO ${keyspace}.t (id, v) VALUES (?, ?)`;
  for (let start = 0; start < rows; start += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, rows - start) }, (_, i) =>
        client.execute(insert, [start + i, randomBytes(768).toString('base64')], { prepare: true }),
      ),
    );
  }
  for (let i = 1; i <= NODES.length; i++) await nodetool(i, ['flush', '--', keyspace]);
  await client.execute(
    `ALTER KEYSPACE ${keyspace} WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 1, 'dc2': 1}`,
  );
}

/** The Data.db files of `keyspace`.`table` on a node (its SSTables), from the node's data directory. */
function dataFiles(node: (typeof NODES)[number], keyspace: string, table: string): string[] {
  const dir = join(dirname(dirname(systemLog(node))), 'data', keyspace);
  const tableDir = readdirSync(dir).find((d) => d.startsWith(`${table}-`))!;
  return readdirSync(join(dir, tableDir))
    .filter((f) => f.endsWith('-Data.db'))
    .sort();
}

/** Lines of a node's log since the test began that contain `text`. */
function logLines(node: (typeof NODES)[number], text: string): string[] {
  return readFileSync(systemLog(node), 'utf8')
    .split('\n')
    .filter((l) => l.includes(text));
}

describe('cluster-wide jobs carried out by the ticks (e2e)', function () {
  this.timeout(15 * 60_000);
  let dir: string;
  let client: cassandra.Client;
  const configs: string[] = [];
  const configOptions = {
    tendKeyspace: TEND_KS,
    // No table of tend's to repair: the ticks here only carry out jobs.
    keyspaces: [`none_${RUN}`],
    leaseBackend: 'cassandra' as const,
    lease: { scope: 'node' as const },
  };

  const status = async (id: string) => {
    const result = await tend(configs[0]!, ['--json', 'job', 'status', id]);
    return { exitCode: result.exitCode, view: JSON.parse(String(result.stdout)) as JobJson };
  };
  /** One round: the three nodes' ticks started together. */
  const round = () =>
    Promise.all(
      configs.map(async (config) => {
        const result = await tick(config);
        return {
          exitCode: result.exitCode,
          report: JSON.parse(String(result.stdout)) as { result: string; summary: string },
        };
      }),
    );
  const start = async (args: string[]) => {
    const result = await tend(configs[0]!, ['--json', 'job', 'start', ...args]);
    expect(result.exitCode, String(result.stderr)).to.equal(0);
    return (JSON.parse(String(result.stdout)) as JobJson).job.id;
  };

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'tend-jobs-'));
    client = cqlClient();
    await client.connect();
    await createTendKeyspace(client, TEND_KS);
    await dataKeyspace(client, SMALL_KS, 200);
    await dataKeyspace(client, SLOW_KS, 25_000);
    ['node1', 'node2', 'node3'].forEach((name, i) =>
      configs.push(
        writeScopedConfig(dir, nodeByName(name), {
          ...configOptions,
          executor: i === 1 ? 'nodetool' : 'jolokia',
        }),
      ),
    );
  });

  after(async function () {
    for (let i = 1; i <= NODES.length; i++) await nodetool(i, ['setcompactionthroughput', '64']);
    await client?.execute(`DROP KEYSPACE IF EXISTS ${SMALL_KS}`);
    await client?.execute(`DROP KEYSPACE IF EXISTS ${SLOW_KS}`);
    await client?.execute(`DROP KEYSPACE IF EXISTS ${REPAIR_KS}`);
    await client?.execute(`DROP KEYSPACE IF EXISTS ${MAINT_KS}`);
    await client?.execute(`DROP KEYSPACE IF EXISTS ${DIED_KS}`);
    await client?.shutdown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a cleanup job runs on one node at a time, through every node, and ends done', async function () {
    const id = await start(['cleanup', SMALL_KS]);
    const results: string[][] = [];
    for (let i = 0; i < 8; i++) {
      const ticks = await round();
      expect(ticks.map((t) => t.exitCode)).to.deep.equal([0, 0, 0]);
      results.push(ticks.map((t) => t.report.result));
      if ((await status(id)).view.phase !== 'active') break;
    }
    // Three steps in all, one per node (a round may run two one after the other: a tick that looks after the step
    // before it ended finds its turn; the recorded times below show they did not overlap).
    expect(results.flat().filter((x) => x === 'job_step')).to.have.length(3, JSON.stringify(results));
    const { exitCode, view } = await status(id);
    expect(exitCode).to.equal(0);
    expect(view.phase).to.equal('done');
    expect(view.steps.map((s) => s.state)).to.deep.equal(['done', 'done', 'done']);
    const spans = view.steps.map((s) => [s.startedAt!, s.finishedAt!] as const).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) {
      expect(spans[i]![0], 'a step started before the one before it finished').to.be.at.least(spans[i - 1]![1]);
    }
    // Cassandra's own record: each node logged the cleanup of the keyspace's table, once.
    for (const node of NODES) {
      const log = readFileSync(systemLog(node), 'utf8');
      expect(log.split('\n').filter((l) => l.includes(`Starting Cleanup for ${SMALL_KS}.t`))).to.have.length(
        1,
        node.name,
      );
    }
  });

  it('upgradesstables (of old formats, then of every SSTable) and garbagecollect jobs run on every node, and Cassandra did each (its log, its SSTables)', async function () {
    // Every node holds every row (dc1: 2 of 2 nodes, dc2: 1 of 1). Two SSTables per node: 200 rows, then the
    // tombstones of 100 of them; gc_grace_seconds 0, so garbagecollect may drop both the shadowed rows and the
    // tombstones.
    await client.execute(
      `CREATE KEYSPACE ${MAINT_KS} WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 2, 'dc2': 1}`,
    );
    await client.execute(`CREATE TABLE ${MAINT_KS}.t (id int PRIMARY KEY, v text) WITH gc_grace_seconds = 0`);
    const all = { prepare: true, consistency: cassandra.types.consistencies.all };
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        client.execute(`INSERT INTO ${MAINT_KS}.t (id, v) VALUES (?, ?)`, [i, `row ${i}`.padEnd(200, '.')], all),
      ),
    );
    // Flushed through each node's Jolokia agent: a nodetool JVM per call costs seconds here.
    const flush = () =>
      Promise.all(
        NODES.map(async (_, i) => {
          const reply = await jolokia(i + 1, {
            type: 'exec',
            mbean: 'org.apache.cassandra.db:type=StorageService',
            operation: 'forceKeyspaceFlush(java.lang.String,[Ljava.lang.String;)',
            arguments: [MAINT_KS, []],
          });
          expect(reply.status, reply.error).to.equal(200);
        }),
      );
    await flush();
    await Promise.all(
      Array.from({ length: 100 }, (_, i) => client.execute(`DELETE FROM ${MAINT_KS}.t WHERE id = ?`, [i], all)),
    );
    await flush();
    // Tombstones are purgeable once their deletion second is past (gc_grace_seconds 0).
    await sleep(1100);
    const before = NODES.map((node) => dataFiles(node, MAINT_KS, 't'));
    for (const files of before) expect(files).to.have.length(2);

    // Three nodes at once: one round of ticks carries out each job.
    const carryOut = async (args: string[]) => {
      const id = await start([...args, '--concurrency', '3']);
      const results: string[] = [];
      for (let i = 0; i < 4; i++) {
        const ticks = await round();
        expect(ticks.map((t) => t.exitCode)).to.deep.equal([0, 0, 0]);
        results.push(...ticks.map((t) => t.report.result));
        if (results.filter((x) => x === 'job_step').length === 3) break;
      }
      expect(
        results.filter((x) => x === 'job_step'),
        JSON.stringify(results),
      ).to.have.length(3);
      const { exitCode, view } = await status(id);
      expect(exitCode).to.equal(0);
      expect(view.phase).to.equal('done');
      expect(view.steps.map((s) => s.state)).to.deep.equal(['done', 'done', 'done']);
      return id;
    };

    // upgradesstables (nodetool's default, without -a) rewrites only SSTables of an older format; the sandbox's
    // are all of the format it writes, so Cassandra checks the table on each node and leaves its SSTables alone.
    const upgrade = await carryOut(['upgradesstables', MAINT_KS]);
    NODES.forEach((node, i) => {
      expect(logLines(node, `Starting Upgrade sstables for ${MAINT_KS}.t`), node.name).to.have.length(1);
      expect(logLines(node, `No sstables to UPGRADE_SSTABLES for ${MAINT_KS}.t`), node.name).to.have.length(1);
      expect(dataFiles(node, MAINT_KS, 't'), node.name).to.deep.equal(before[i]);
    });

    // --include-all-sstables: every SSTable rewritten, those of the current format too (nodetool upgradesstables -a
    // through node2's nodetool; upgradeSSTables with excludeCurrentVersion false through the others' agents): on each
    // node both SSTables are replaced by new generations, one by one.
    const upgradeAll = await carryOut(['upgradesstables', MAINT_KS, '--include-all-sstables']);
    const rewritten = NODES.map((node, i) => {
      expect(logLines(node, `Starting Upgrade sstables for ${MAINT_KS}.t`), node.name).to.have.length(2);
      const after = dataFiles(node, MAINT_KS, 't');
      expect(after, node.name).to.have.length(2);
      expect(
        after.filter((f) => before[i]!.includes(f)),
        `${node.name}: ${before[i]!.join(' ')} -> ${after.join(' ')}`,
      ).to.deep.equal([]);
      return after;
    });
    const allText = String((await tend(configs[0]!, ['job', 'status', upgradeAll])).stdout);
    expect(allText).to.include(`upgradesstables (every SSTable) of ${MAINT_KS}, done`);

    // garbagecollect: on each node the tombstones' SSTable is gone and the rows' SSTable is rewritten (a new
    // generation) without the 100 deleted rows; the 100 others are still there.
    const gc = await carryOut(['garbagecollect', `${MAINT_KS}.t`]);
    NODES.forEach((node, i) => {
      expect(logLines(node, `Starting Remove deleted data for ${MAINT_KS}.t`), node.name).to.have.length(1);
      expect(logLines(node, `Finished Remove deleted data for ${MAINT_KS}.t successfully`), node.name).to.have.length(
        1,
      );
      const after = dataFiles(node, MAINT_KS, 't');
      expect(after, node.name).to.have.length(1);
      expect(rewritten[i], node.name).to.not.include(after[0]);
    });
    const count = await client.execute(`SELECT count(*) FROM ${MAINT_KS}.t`, [], all);
    expect(Number(count.first().get(0))).to.equal(100);

    // The steps are in history show --jobs: three done steps of each job, newest first, in the keyspace's scope.
    const history = await tend(configs[0]!, ['--json', 'history', 'show', MAINT_KS, '--jobs', '--since', '1h']);
    expect(history.exitCode, String(history.stderr)).to.equal(0);
    const steps = (
      JSON.parse(String(history.stdout)) as {
        jobSteps: { jobId: string; operation: string; address: string; outcome: string; startedAt: number }[];
      }
    ).jobSteps;
    const ofJob = (id: string) =>
      steps
        .filter((s) => s.jobId === id)
        .map((s) => `${s.operation} ${s.address} ${s.outcome}`)
        .sort();
    expect(ofJob(gc)).to.deep.equal(NODES.map((n) => `garbagecollect ${n.address} done`).sort());
    expect(ofJob(upgrade)).to.deep.equal(NODES.map((n) => `upgradesstables ${n.address} done`).sort());
    expect(ofJob(upgradeAll)).to.deep.equal(NODES.map((n) => `upgradesstables ${n.address} done`).sort());
    expect(
      steps.filter((s) => ![gc, upgrade, upgradeAll].includes(s.jobId)),
      'jobs of other keyspaces',
    ).to.deep.equal([]);
    const starts = steps.map((s) => s.startedAt);
    expect(starts).to.deep.equal([...starts].sort((a, b) => b - a));
    const text = await tend(configs[0]!, ['history', 'show', MAINT_KS, '--jobs', '--since', '1h']);
    expect(String(text.stdout)).to.match(new RegExp(`${gc}\\s+garbagecollect\\s+${MAINT_KS}\\.t\\s`));
  });

  it('with the Consul lease backend the job lives in Consul KV, and the ticks carry it out from there', async function () {
    const consulConfigs = ['node1', 'node2', 'node3'].map((name, i) =>
      writeScopedConfig(dir, nodeByName(name), {
        ...configOptions,
        leaseBackend: 'consul',
        executor: i === 1 ? 'nodetool' : 'jolokia',
      }),
    );
    const started = await tend(consulConfigs[0]!, [
      '--json',
      'job',
      'start',
      'cleanup',
      SMALL_KS,
      '--concurrency',
      '2',
    ]);
    expect(started.exitCode, String(started.stderr)).to.equal(0);
    const id = (JSON.parse(String(started.stdout)) as JobJson).job.id;
    const consulStatus = async () => {
      const result = await tend(consulConfigs[2]!, ['--json', 'job', 'status', id]);
      return { exitCode: result.exitCode, view: JSON.parse(String(result.stdout)) as JobJson };
    };
    const prefix = `tend-${TEND_KS.replaceAll('_', '-')}`;
    const answer = await consul('GET', `/v1/kv/${prefix}/jobs/${id}/?keys`);
    expect(answer.status, `the job's keys in Consul KV under ${prefix}/jobs/${id}/`).to.equal(200);
    const keys = (await answer.json()) as string[];
    expect(keys.sort()).to.have.length(4).and.include(`${prefix}/jobs/${id}/job`);
    expect((await client.execute(`SELECT id FROM ${TEND_KS}.jobs WHERE id = ?`, [id])).rows).to.deep.equal([]);
    const results: string[] = [];
    for (let i = 0; i < 6 && (await consulStatus()).view.phase === 'active'; i++) {
      const ticks = await Promise.all(consulConfigs.map((config) => tick(config)));
      expect(ticks.map((t) => t.exitCode)).to.deep.equal([0, 0, 0]);
      results.push(...ticks.map((t) => (JSON.parse(String(t.stdout)) as { result: string }).result));
    }
    expect(results.filter((x) => x === 'job_step')).to.have.length(3, JSON.stringify(results));
    const { exitCode, view } = await consulStatus();
    expect(exitCode).to.equal(0);
    expect(view.phase).to.equal('done');
    expect(view.steps.map((s) => s.state)).to.deep.equal(['done', 'done', 'done']);
    // At most two at once: the third step started after one of the first two had finished.
    const spans = view.steps.map((s) => [s.startedAt!, s.finishedAt!] as const).sort((a, b) => a[0] - b[0]);
    expect(spans[2]![0]).to.be.at.least(Math.min(spans[0]![1], spans[1]![1]));
  });

  it('an aborted job stops its running steps on the server (Jolokia and nodetool) and starts no further step', async function () {
    for (let i = 1; i <= NODES.length; i++) await nodetool(i, ['setcompactionthroughput', '1']);
    // One step at a time per datacenter: node3's (Jolokia) and the first of dc1's run together, the other dc1 step
    // stays pending. node3's abort needs the agent to serve requests on more than one thread (the sandbox starts it
    // with executor=fixed,threadNr=4; README, Jolokia): with the default single thread, stopCompaction waited
    // behind forceKeyspaceCompaction and the compaction ran to its end.
    const id = await start(['compact', SLOW_KS, '--per', 'datacenter']);
    // Rounds of ticks in the background until the job is no longer active.
    let stop = false;
    const rounds: string[][] = [];
    const ticking = (async () => {
      while (!stop) {
        const ticks = await round();
        rounds.push(ticks.map((t) => `${t.report.result}`));
        if ((await status(id)).view.phase !== 'active') break;
      }
    })();
    // Wait for two steps (one per datacenter) whose compaction Cassandra lists, with its progress (the node's
    // system_views.sstable_tasks, read by job status): a stop then finds the compaction on the server.
    let running: StepJson[] = [];
    for (let i = 0; i < 240 && running.length < 2; i++) {
      await sleep(500);
      const view = (await status(id)).view;
      running = view.steps.filter((s) => s.state === 'running' && s.progress !== undefined);
    }
    expect(running.map((s) => s.address).sort(), 'a step per datacenter with progress').to.have.length(2);
    expect(running.map((s) => s.address)).to.include(nodeByName('node3').address);
    for (const { progress } of running) {
      expect(progress!.unit, JSON.stringify(progress)).to.equal('bytes');
      expect(progress!.total).to.be.greaterThan(0);
      expect(progress!.completed).to.be.at.most(progress!.total);
    }
    const text = String((await tend(configs[0]!, ['job', 'status', id])).stdout);
    for (const run of running) {
      expect(text, text).to.match(
        new RegExp(`${run.address.replaceAll('.', '\\.')}\\s.*running.*\\d+% \\([\\d.]+[KMG]?i?B of [\\d.]+[KMG]iB\\)`),
      );
    }
    // A little later (at 1 MiB/s of about 20 MB per node), each has done more of the same total.
    const later = (await status(id)).view.steps;
    for (const run of running) {
      const now = later.find((s) => s.hostId === run.hostId)!.progress;
      expect(now, `${run.address} still compacting`).to.not.equal(undefined);
      expect(now!.completed, JSON.stringify({ run, now })).to.be.greaterThan(run.progress!.completed);
      expect(now!.completed).to.be.at.most(now!.total);
    }
    const aborted = await tend(configs[2]!, ['--json', 'job', 'abort', id]);
    expect(aborted.exitCode, String(aborted.stderr)).to.equal(0);
    await ticking.finally(() => (stop = true));
    const { exitCode, view } = await status(id);
    expect(view.phase).to.equal('aborted');
    expect(view.job.abortedBy).to.equal('node3');
    for (const run of running) {
      const step = view.steps.find((s) => s.hostId === run.hostId)!;
      expect(step.state, JSON.stringify(view.steps)).to.equal('failed');
      expect(step.message).to.match(/^aborted: .*stopped/);
      expect(step.message, 'the agent answered the stop at once').to.not.match(/one request at a time/);
    }
    expect(exitCode, 'a failed step makes job status exit 6').to.equal(6);
    // On the server: no compaction of the keyspace left running on either node, and Cassandra says it was stopped.
    for (const run of running) {
      const index = NODES.findIndex((n) => n.address === run.address) + 1;
      const pinned = nodeClient(index);
      try {
        const tasks = await pinned.execute(`SELECT kind, keyspace_name FROM system_views.sstable_tasks`);
        expect(
          tasks.rows.filter((r) => r.get('keyspace_name') === SLOW_KS),
          run.address,
        ).to.deep.equal([]);
      } finally {
        await pinned.shutdown();
      }
      const log = readFileSync(systemLog(NODES[index - 1]!), 'utf8');
      expect(log, `${run.address}'s log`).to.match(new RegExp(`Compaction interrupted.*${SLOW_KS}`));
    }
    // Later ticks start no step of the aborted job.
    const pendingBefore = view.steps.filter((s) => s.state === 'pending').length;
    expect(pendingBefore, 'the other dc1 step was still pending').to.equal(1);
    const after = await round();
    expect(after.map((t) => t.report.result)).to.not.include('job_step');
    expect((await status(id)).view.steps.filter((s) => s.state === 'pending').length).to.equal(pendingBefore);
  });

  it('a step whose process died waits for the operation it left on the server, then runs it again (attempt 2), never beside it', async function () {
    // node3 alone holds the keyspace (dc2: 1): 60 MiB uncompressed in two SSTables, so that a major compaction at
    // 1 MiB/s outlasts the 30 s after which a step without heartbeat counts as dead.
    await client.execute(
      `CREATE KEYSPACE ${DIED_KS} WITH replication = {'class': 'NetworkTopologyStrategy', 'dc2': 1}`,
    );
    // No compression (the throttle counts bytes on disk); min_threshold 32: no background compaction of the four
    // SSTables the inserts flush, so that the log has only the job's major compactions.
    await client.execute(
      `CREATE TABLE ${DIED_KS}.t (id int PRIMARY KEY, v text) WITH compression = {'enabled': 'false'}
        AND compaction = {'class': 'SizeTieredCompactionStrategy', 'min_threshold': 32}`,
    );
    const node3 = nodeByName('node3');
    const one = { prepare: true, consistency: cassandra.types.consistencies.one };
    const value = 'x'.repeat(64 * 1024);
    for (const half of [0, 1]) {
      for (let start = 0; start < 480; start += 48) {
        await Promise.all(
          Array.from({ length: 48 }, (_, i) =>
            client.execute(`INSERT INTO ${DIED_KS}.t (id, v) VALUES (?, ?)`, [half * 480 + start + i, value], one),
          ),
        );
      }
      const flushed = await jolokia(3, {
        type: 'exec',
        mbean: 'org.apache.cassandra.db:type=StorageService',
        operation: 'forceKeyspaceFlush(java.lang.String,[Ljava.lang.String;)',
        arguments: [DIED_KS, []],
      });
      expect(flushed.status, flushed.error).to.equal(200);
    }
    expect((await nodetool(3, ['setcompactionthroughput', '1'])).exitCode).to.equal(0);
    const logBefore = readFileSync(systemLog(node3), 'utf8').length;
    const id = await start(['compact', DIED_KS, '--datacenter', 'dc2']);
    const jobRun = async () => {
      const result = await tend(configs[2]!, ['--json', 'job', 'run']);
      expect(result.exitCode, String(result.stderr)).to.equal(0);
      const report = JSON.parse(String(result.stdout)) as { result: string; message: string };
      return { ...report, stderr: String(result.stderr) };
    };
    // node3's own view of its major compactions of the keyspace, every half second for the whole test.
    const pinned = nodeClient(3);
    let sampling = true;
    const counts: number[] = [];
    const sampler = (async () => {
      while (sampling) {
        const rows = await pinned.execute('SELECT keyspace_name, kind FROM system_views.sstable_tasks');
        counts.push(
          // 4.1 lists a major compaction as "compaction" (the table has no background compaction: min_threshold 32).
          rows.rows.filter(
            (r) => r.get('keyspace_name') === DIED_KS && ['major compaction', 'compaction'].includes(r.get('kind')),
          ).length,
        );
        await sleep(500);
      }
    })();
    const reports: string[] = [];
    let waiting: StepJson | undefined;
    try {
      const killed = tend(configs[2]!, ['--json', 'job', 'run']);
      let running: StepJson | undefined;
      for (let i = 0; i < 120 && !running; i++) {
        await sleep(500);
        running = (await status(id)).view.steps.find((s) => s.state === 'running' && s.progress !== undefined);
      }
      expect(running?.address, 'node3 compacting under job run').to.equal(node3.address);
      killed.kill('SIGKILL');
      expect((await killed).signal).to.equal('SIGKILL');
      // At once: the step is running as far as anyone can tell (its heartbeat is fresh), and nothing else starts.
      const early = await jobRun();
      expect(early.result).to.equal('idle');
      expect(early.message).to.include("this node's step is running");
      // node3's timer, every 2 s: the step is settled (retried) once its heartbeat is 30 s old, then waits while
      // the compaction of the dead attempt runs; once seen waiting, the throttle is lifted so that it ends soon.
      for (let i = 0; i < 60; i++) {
        const report = await jobRun();
        reports.push(`${report.result}: ${report.message} ${report.stderr}`);
        if (report.result === 'ran') break;
        if (report.message.includes('waits: ') && !waiting) {
          waiting = (await status(id)).view.steps.find((s) => s.address === node3.address);
          expect((await nodetool(3, ['setcompactionthroughput', '64'])).exitCode).to.equal(0);
        }
        await sleep(2000);
      }
    } finally {
      sampling = false;
      await sampler;
      await pinned.shutdown();
    }
    const log = reports.join('\n');
    expect(log).to.match(/no heartbeat from node3 for \d+ s \(its process died\); retried/);
    expect(reports.at(-1), log).to.match(/^ran: /);
    // While it waited, job status said why, on the step handed back for its second attempt.
    expect(waiting, log).to.deep.include({ state: 'pending', attempt: 1 });
    expect(waiting!.message).to.match(
      new RegExp(
        `^waits: ${node3.address.replaceAll('.', '\\.')} already runs major compaction of ${DIED_KS} \\(attempt 1's, left running when its process died\\?\\), \\d+% `,
      ),
    );
    const { exitCode, view } = await status(id);
    expect(exitCode).to.equal(0);
    expect(view.phase).to.equal('done');
    const step = view.steps.find((s) => s.address === node3.address)!;
    expect(step).to.deep.include({ state: 'done', attempt: 2 });
    expect(step.message).to.match(/^done: /);
    // On the server: two major compactions of the table, the second begun after the first had ended, and never two
    // listed at once.
    const lines = readFileSync(systemLog(node3), 'utf8')
      .slice(logBefore)
      .split('\n')
      .filter((l) => l.includes(`/${DIED_KS}/`) && /Compact(ing|ed) \(/.test(l))
      .map((l) => (/Compacting \(/.test(l) ? 'start' : 'end'));
    expect(lines, "node3's log").to.deep.equal(['start', 'end', 'start', 'end']);
    expect(Math.max(...counts), 'major compactions of the keyspace at once on node3').to.equal(1);
  });

  it('a group tick (nodes: all three) carries out a cleanup job one node at a time, under the instance name', async function () {
    const scheme = SECURE ? 'https' : 'http';
    const raw = parse(readFileSync(configs[0]!, 'utf8')) as Record<string, unknown>;
    delete raw.node;
    raw.executor = { ...(raw.executor as object), type: 'jolokia' };
    raw.nodes = {
      instance: 'jobs-agent',
      datacenters: ['dc1', 'dc2'],
      jolokiaUrl: `${scheme}://{address}:8778/jolokia/`,
    };
    const groupConfig = join(dir, 'group.yml');
    writeFileSync(groupConfig, stringify(raw));
    const cleanups = () => NODES.map((node) => logLines(node, `Starting Cleanup for ${SMALL_KS}.t`).length);
    const before = cleanups();
    const id = await start(['cleanup', SMALL_KS]);

    // job run with the group's file: one turn, the first node's step.
    const run = await tend(groupConfig, ['--json', 'job', 'run']);
    expect(run.exitCode, String(run.stderr)).to.equal(0);
    const report = JSON.parse(String(run.stdout)) as { result: string; message: string };
    expect(report.result, report.message).to.equal('ran');
    let view = (await status(id)).view;
    expect(view.steps.map((s) => s.state).sort()).to.deep.equal(['done', 'pending', 'pending']);
    const others = view.steps.filter((s) => s.state === 'pending').map((s) => s.address);

    // One group tick: the two other turns, one after the other.
    const ticked = await tick(groupConfig);
    expect(ticked.exitCode, String(ticked.stderr)).to.equal(0);
    const tickReport = JSON.parse(String(ticked.stdout)) as { result: string; summary: string };
    expect(tickReport.result, tickReport.summary).to.equal('job_step');
    for (const address of others) expect(tickReport.summary).to.include(`cleanup on ${address} done`);
    const result = await status(id);
    view = result.view;
    expect(result.exitCode).to.equal(0);
    expect(view.phase).to.equal('done');
    expect(view.steps.map((s) => `${s.state} ${s.holder}`)).to.deep.equal(Array(3).fill('done jobs-agent'));
    const spans = view.steps.map((s) => [s.startedAt!, s.finishedAt!] as const).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) {
      expect(spans[i]![0], 'a step started before the one before it finished').to.be.at.least(spans[i - 1]![1]);
    }
    // Cassandra's own record: one more cleanup of the table on each node, through its own agent.
    expect(cleanups()).to.deep.equal(before.map((n) => n + 1));
  });

  it('a repair job repairs every range of the keyspace once, one node at a time (Cassandra repair history)', async function () {
    await createSmallKeyspace(client, REPAIR_KS, { dc1: 2, dc2: 1 }, ['t']);
    const since = Date.now();
    const id = await start(['repair', REPAIR_KS]);
    for (let i = 0; i < 8 && (await status(id)).view.phase === 'active'; i++) {
      const ticks = await round();
      expect(ticks.map((t) => t.exitCode)).to.deep.equal([0, 0, 0]);
    }
    const { exitCode, view } = await status(id);
    expect(exitCode).to.equal(0);
    expect(view.steps.map((s) => s.state)).to.deep.equal(['done', 'done', 'done']);
    const spans = view.steps.map((s) => [s.startedAt!, s.finishedAt!] as const).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).to.be.at.least(spans[i - 1]![1]);
    // Every vnode range of the ring, repaired successfully, once (each node its primary ranges), as Cassandra's
    // parent_repair_history records the commands' successful ranges.
    const parents = await parentRepairs(client, REPAIR_KS, since);
    expect(parents.map((p) => p.exception)).to.deep.equal([null, null, null]);
    const repaired = parents
      .flatMap((p) => p.successfulRanges)
      .map((r) => /(-?\d+)\s*,\s*(-?\d+)/.exec(r)!.slice(1, 3).join(':'))
      .sort();
    expect(repaired).to.deep.equal((await ringRanges()).sort());
  });

  it('with --window no step starts while the window is closed, and the job says why', async function () {
    // A one-hour window that opens six hours from now (UTC): closed for the whole test.
    const hour = (new Date().getUTCHours() + 6) % 24;
    const window = `${String(hour).padStart(2, '0')}:00-${String((hour + 1) % 24).padStart(2, '0')}:00 UTC`;
    const id = await start(['cleanup', SMALL_KS, '--concurrency', '3', '--window', window]);
    const ticks = await round();
    expect(ticks.map((t) => t.exitCode)).to.deep.equal([0, 0, 0]);
    expect(ticks.map((t) => t.report.result)).to.not.include('job_step');
    const run = await tend(configs[1]!, ['--json', 'job', 'run']);
    expect(run.exitCode, String(run.stderr)).to.equal(0);
    const report = JSON.parse(String(run.stdout)) as { result: string; message: string };
    expect(report.result).to.equal('idle');
    expect(report.message).to.include(`job ${id}: outside the job's allow window every day ${window}`);
    const text = await tend(configs[0]!, ['job', 'status', id]);
    expect(String(text.stdout)).to.include(`steps start only inside the allow window every day ${window}`);
    const { view } = await status(id);
    expect(view.steps.map((s) => s.state)).to.deep.equal(['pending', 'pending', 'pending']);
    // Aborted, so that no later tick of this file or another runs it when the window opens.
    expect((await tend(configs[0]!, ['job', 'abort', id])).exitCode).to.equal(0);
  });
});
