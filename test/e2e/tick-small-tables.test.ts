/**
 * Small tables in few commands (issue 14): the built `tend schedule tick`, run as the three nodes' timers would,
 * repairs a never-repaired keyspace of small tables with fewer repair commands than tables, through each executor,
 * and Cassandra's own history shows every range of every table repaired.
 *
 * The tables hold a few rows each (far below repair.smallTableSize, 1 GiB by default), and are new, so Cassandra
 * may have no size estimate for them yet: either way they are repaired whole, up to repair.tablesPerCommand (here 5)
 * of one keyspace per command.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type cassandra from 'cassandra-driver';
import { NODES } from '../sandbox/src/layout.js';
import { cqlClient } from '../support/sandbox-clients.js';
import {
  createSmallKeyspace,
  createTendKeyspace,
  historyRows,
  parentRepairs,
  ringRanges,
  RUN,
  tick,
  writeScopedConfig,
  type TickJson,
} from '../support/tick-e2e.js';

// Seven: two commands at tablesPerCommand 5 (five and two tables), each over several tables. Twelve (three commands)
// checked nothing more and cost CI its table creation and repairs.
const TABLES = Array.from({ length: 7 }, (_, i) => `s${String(i).padStart(2, '0')}`);
const TABLES_PER_COMMAND = 5;
const MAX_ROUNDS = 8;

const VARIANTS = [
  { executor: 'jolokia', leaseBackend: 'cassandra' },
  { executor: 'nodetool', leaseBackend: 'consul' },
] as const;

for (const variant of VARIANTS) {
  describe(`schedule tick on three nodes: small tables in few commands, ${variant.executor} (e2e)`, function () {
    this.timeout(15 * 60_000);
    const suffix = `${variant.executor}_${process.pid}`;
    const dataKeyspace = `e2e_small_${suffix}`;
    const tendKeyspace = `tend_e2e_small_${suffix}`;
    let dir: string;
    let client: cassandra.Client;
    const configs: string[] = [];
    let startedAt: number;
    const rounds: TickJson[][] = [];

    before(async function () {
      dir = mkdtempSync(join(tmpdir(), 'tend-small-'));
      client = cqlClient();
      await client.connect();
      await createSmallKeyspace(client, dataKeyspace, { dc1: 2, dc2: 1 }, TABLES, 3);
      await createTendKeyspace(client, tendKeyspace);
      for (const node of NODES) {
        configs.push(
          writeScopedConfig(dir, node, {
            tendKeyspace,
            keyspaces: [dataKeyspace],
            executor: variant.executor,
            leaseBackend: variant.leaseBackend,
            repair: { tablesPerCommand: TABLES_PER_COMMAND },
            schedule: { maxTasks: 10 },
          }),
        );
      }
      startedAt = Date.now();
      for (let round = 0; round < MAX_ROUNDS; round++) {
        const results = await Promise.all(configs.map((config) => tick(config, [], { timeout: 10 * 60_000 })));
        for (const result of results) expect(result.exitCode, `tick exit code\n${result.stderr}`).to.equal(0);
        const parsed = results.map((r) => JSON.parse(String(r.stdout)) as TickJson);
        rounds.push(parsed);
        if (parsed.every((t) => t.result === 'nothing_due')) break;
      }
    });

    after(async function () {
      await client?.execute(`DROP KEYSPACE IF EXISTS ${dataKeyspace}`).catch(() => undefined);
      await client?.execute(`DROP KEYSPACE IF EXISTS ${tendKeyspace}`).catch(() => undefined);
      await client?.shutdown();
      rmSync(dir, { recursive: true, force: true });
    });

    it('repairs until every node reports nothing due', function () {
      const last = rounds[rounds.length - 1]!;
      expect(
        last.map((t) => t.result),
        JSON.stringify(rounds.map((r) => r.map((t) => `${t.result}: ${t.summary}`))),
      ).to.deep.equal(['nothing_due', 'nothing_due', 'nothing_due']);
    });

    it('ran fewer repair commands than tables, each over several tables, never more than tablesPerCommand', async function () {
      const tasks = rounds.flat().flatMap((t) => t.tasks.filter((task) => task.status === 'success'));
      expect(tasks.length).to.be.greaterThan(0);
      expect(tasks.length).to.be.lessThan(TABLES.length);
      for (const task of tasks) expect(task.tables.length).to.be.within(2, TABLES_PER_COMMAND);
      // Cassandra's own count of repair commands (parent sessions) agrees.
      const parents = (await parentRepairs(client, dataKeyspace, startedAt - 2000)).filter((p) => p.finishedAt);
      expect(parents.length).to.be.lessThan(TABLES.length);
      expect(parents.length).to.be.at.least(Math.ceil(TABLES.length / TABLES_PER_COMMAND));
    });

    it("every range of every table was repaired, by Cassandra's own history", async function () {
      const parents = (await parentRepairs(client, dataKeyspace, startedAt - 2000)).filter((p) => p.finishedAt);
      const ringSize = (await ringRanges()).length;
      for (const table of TABLES) {
        const ranges = new Set(parents.filter((p) => p.tables.includes(table)).flatMap((p) => p.successfulRanges));
        // Every node holds every range (dc1: 2 of 2 nodes, dc2: 1 of 1); Cassandra splits the wrapping vnode at the
        // minimum token, so a whole ring is one range more than vnodes.
        expect(ranges.size, `${table}: ranges repaired`).to.be.at.least(ringSize);
      }
    });

    it("tend's history has a SUCCESS record of its own for each table", async function () {
      for (const table of TABLES) {
        const rows = await historyRows(client, tendKeyspace, dataKeyspace, table);
        expect(
          rows.filter((r) => r.status === 'SUCCESS' && r.startedAt >= startedAt - 1000).length,
          `${table}: tend history`,
        ).to.be.greaterThan(0);
      }
    });
  });
}

// One acquisition carries the due work of a replica set across keyspaces: a task whose replicas are a subset of the
// ones held runs on the same leases (core chooseFollower, issue 14), checked from the tick's own lease counts.
describe('schedule tick: a task on a subset of the held replicas runs on the same leases (e2e)', function () {
  this.timeout(5 * 60_000);
  const suffix = `${RUN}_${process.pid}`;
  // wide: every node holds every range (dc1 2 of 2, dc2 1 of 1); narrow: dc1's two nodes only.
  const wide = `e2e_follow_wide_${suffix}`;
  const narrow = `e2e_follow_narrow_${suffix}`;
  const tendKeyspace = `tend_e2e_follow_${suffix}`;
  let dir: string;
  let client: cassandra.Client;
  let report: TickJson;
  let exit: { code: number | undefined; stderr: string };

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'tend-follow-'));
    client = cqlClient();
    await client.connect();
    await createSmallKeyspace(client, wide, { dc1: 2, dc2: 1 }, ['w'], 3);
    await createSmallKeyspace(client, narrow, { dc1: 2 }, ['n'], 3);
    await createTendKeyspace(client, tendKeyspace);
    const node = NODES.find((n) => n.datacenter === 'dc1')!;
    const config = writeScopedConfig(dir, node, {
      tendKeyspace,
      keyspaces: [wide, narrow],
      // The wide table first in plan order: its leases (all three nodes) cover the narrow table's two.
      tables: [{ match: `${wide}.w`, weight: 10 }],
      schedule: { maxTasks: 10 },
    });
    const result = await tick(config, [], { timeout: 4 * 60_000 });
    exit = { code: result.exitCode, stderr: String(result.stderr) };
    report = JSON.parse(String(result.stdout)) as TickJson;
  });

  after(async function () {
    for (const keyspace of [wide, narrow, tendKeyspace]) {
      await client?.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
    }
    await client?.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('repairs both tables, the narrow one on the leases taken for the wide one: one acquisition', function () {
    expect(exit.code, `tick exit code\n${exit.stderr}`).to.equal(0);
    expect(report.tasks.map((t) => `${t.keyspace} ${t.status} ${t.replicas.length}`)).to.deep.equal([
      `${wide} success 3`,
      `${narrow} success 2`,
    ]);
    expect(report.leases).to.deep.equal({ acquired: 1, kept: 1 });
  });
});
