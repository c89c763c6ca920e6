/**
 * Issue 18, the coverage record, end to end and cheap (no repair: nothing is due, every table is disabled): one
 * instance acting for dc1 (node1, node2) and node3's own timer each record which instance covers which node, with a
 * short schedule.coverageTtl. `schedule status --check` from node3's configuration shows node1 and node2 covered by
 * the group instance and node3 by its own timer; a second instance claiming node2 is warned about; once the group has
 * stopped ticking for longer than the TTL, node1 and node2 show uncovered and --check exits 7 (AlarmCrossed), and
 * node3's next tick publishes them in tend_uncovered_nodes. Run with the Cassandra store and with Consul KV.
 *
 * tend's keyspace starts as a v3 tend left it (no coverage table, version 3): a tick refuses it, `tend schema apply`
 * migrates it to the current version (v4 added the coverage table; one keyspace for both variants: its DDL is a good
 * part of this file's time). The two variants wait for their TTL together (the last describe), not one after the
 * other.
 */
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type cassandra from 'cassandra-driver';
import { NODES } from '../sandbox/src/layout.js';
import { cqlClient } from '../support/sandbox-clients.js';
import { tend, tick, writeScopedConfig } from '../support/tick-e2e.js';
import { schemaStatements, TEND_SCHEMA_VERSION } from '../../src/cluster/tend-schema.js';
import { ExitCode } from '../../src/errors.js';
import type { CoverageReport } from '../../src/core/index.js';

const TTL_MS = 15_000;
const TEND_KEYSPACE = `tend_e2e_coverage_${process.pid}`;

interface TickCoverageJson {
  result: string;
  coverage?: { instance: string; kind: string; expiresAt: number; nodes: string[]; conflicts: string[] };
}

interface StatusJson {
  now: number;
  coverage: CoverageReport | null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One variant's files, and when the last claim of the instances that stop ticking lapses. */
interface Variant {
  groupConfig: string;
  otherConfig: string;
  node3Config: string;
  metricsFile: string;
  lapsesAt: number;
}
const BACKENDS = ['cassandra', 'consul'] as const;
const variants = new Map<(typeof BACKENDS)[number], Variant>();
const dc1 = NODES.filter((n) => n.datacenter === 'dc1');
const node3 = NODES.find((n) => n.datacenter === 'dc2')!;

describe('coverage record (e2e)', function () {
  this.timeout(5 * 60_000);
  let client: cassandra.Client;
  let dir: string;

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'tend-coverage-'));
    client = cqlClient();
    await client.connect();
    await client.execute(`DROP KEYSPACE IF EXISTS ${TEND_KEYSPACE}`);
    const v3 = schemaStatements(TEND_KEYSPACE, { class: 'NetworkTopologyStrategy', dc1: 2, dc2: 1 })
      .filter((statement) => !/\.coverage \(/.test(statement))
      .map((statement) => statement.replace(/VALUES \('tend', \d+,/, "VALUES ('tend', 3,"));
    for (const statement of v3) await client.execute(statement);
  });

  after(async function () {
    await client?.execute(`DROP KEYSPACE IF EXISTS ${TEND_KEYSPACE}`).catch(() => undefined);
    await client?.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a tick refuses a v3 keyspace; tend schema apply migrates it to the current version (v4 added the coverage table)', async function () {
    const config = writeScopedConfig(dir, NODES[2]!, { tendKeyspace: TEND_KEYSPACE, keyspaces: ['none'] });
    const refused = await tick(config);
    expect(refused.exitCode).to.equal(ExitCode.Failure);
    expect(String(refused.stderr)).to.include(`has tend schema version 3; this tend needs ${TEND_SCHEMA_VERSION}`);
    expect(String(refused.stderr)).to.include('tend schema apply');
    const apply = await tend(config, ['--json', 'schema', 'apply']);
    expect(apply.exitCode, String(apply.stderr)).to.equal(0);
    expect(JSON.parse(String(apply.stdout))).to.include({ previousVersion: 3, version: TEND_SCHEMA_VERSION });
    const table = await client.execute(
      'SELECT table_name FROM system_schema.tables WHERE keyspace_name = ? AND table_name = ?',
      [TEND_KEYSPACE, 'coverage'],
      { prepare: true },
    );
    expect(table.rowLength).to.equal(1);
  });

  for (const backend of BACKENDS) {
    describe(`which instance covers which node, store ${backend}`, function () {
      const tendKeyspace = TEND_KEYSPACE;
      let groupConfig: string;
      let otherConfig: string;
      let node3Config: string;

      before(function () {
        const vdir = join(dir, backend);
        mkdirSync(vdir, { recursive: true });
        const options = {
          tendKeyspace,
          // No such keyspace: every table is disabled, so each tick has nothing due and only records its coverage.
          keyspaces: [`e2e_coverage_none_${process.pid}`],
          leaseBackend: backend,
          schedule: { coverageTtl: `${TTL_MS / 1000}s` },
        };
        node3Config = writeScopedConfig(vdir, node3, options);
        const group = (instance: string, scope: Record<string, unknown>, file: string) => {
          const raw = parse(readFileSync(writeScopedConfig(vdir, dc1[0]!, options), 'utf8')) as Record<string, unknown>;
          delete raw.node;
          raw.nodes = { instance, ...scope };
          writeFileSync(join(vdir, file), stringify(raw));
          return join(vdir, file);
        };
        groupConfig = group('dc1-agent', { datacenters: ['dc1'] }, 'group.yml');
        otherConfig = group('stray-agent', { hosts: [dc1[1]!.address] }, 'other.yml');
        const metricsFile = join(vdir, 'metrics', node3.name, 'tend.prom');
        variants.set(backend, { groupConfig, otherConfig, node3Config, metricsFile, lapsesAt: 0 });
      });

      it('a group tick and a per-node tick record their nodes; status --check from node3 shows them covered', async function () {
        const [group, own] = await Promise.all([tick(groupConfig), tick(node3Config)]);
        expect(group.exitCode, String(group.stderr)).to.equal(0);
        expect(own.exitCode, String(own.stderr)).to.equal(0);
        const groupJson = JSON.parse(String(group.stdout)) as TickCoverageJson;
        const ownJson = JSON.parse(String(own.stdout)) as TickCoverageJson;
        expect(groupJson.result).to.equal('nothing_due');
        // The claim lasts schedule.coverageTtl (not the 4h15m default): the later tests wait for it to lapse. Its
        // clock is the plan's (Cassandra's time when the plan was read, plus the time since the tick started), a few
        // ms to seconds ahead of this process's: measured 15,003 and 15,070 ms left at a 15 s TTL on a loaded machine.
        expect(groupJson.coverage!.expiresAt - Date.now()).to.be.within(0, TTL_MS + 5_000);
        variants.get(backend)!.lapsesAt = groupJson.coverage!.expiresAt;
        expect(groupJson.coverage).to.deep.include({ instance: 'dc1-agent', kind: 'group', conflicts: [] });
        expect([...groupJson.coverage!.nodes].sort()).to.deep.equal(dc1.map((n) => n.address).sort());
        expect(ownJson.coverage).to.deep.include({ kind: 'node', nodes: [node3.address], conflicts: [] });

        const status = await tend(node3Config, ['--json', 'schedule', 'status', '--check']);
        const report = JSON.parse(String(status.stdout)) as StatusJson;
        // Within the TTL of the claims just written (15s; a status takes a few seconds).
        expect(report.now).to.be.lessThan(groupJson.coverage!.expiresAt);
        expect(status.exitCode, String(status.stderr)).to.equal(0);
        expect(report.coverage!.recorded).to.equal(true);
        const byAddress = new Map(report.coverage!.nodes.map((n) => [n.address, n]));
        for (const node of dc1) {
          expect(byAddress.get(node.address)!.state).to.equal('covered');
          expect(byAddress.get(node.address)!.coveredBy.map((c) => c.instance)).to.deep.equal(['dc1-agent']);
        }
        expect(byAddress.get(node3.address)!.coveredBy.map((c) => c.kind)).to.deep.equal(['node']);
      });

      it('a second instance claiming node2 is warned about, in its output and its log', async function () {
        const other = await tick(otherConfig);
        expect(other.exitCode, String(other.stderr)).to.equal(0);
        const json = JSON.parse(String(other.stdout)) as TickCoverageJson;
        expect(json.coverage!.conflicts).to.have.length(1);
        expect(json.coverage!.conflicts[0]).to.include(`node ${dc1[1]!.address}`);
        expect(json.coverage!.conflicts[0]).to.include('also covered by group instance dc1-agent');
        expect(String(other.stderr)).to.include('also covered by group instance dc1-agent');
        const variant = variants.get(backend)!;
        variant.lapsesAt = Math.max(variant.lapsesAt, json.coverage!.expiresAt);
      });
    });
  }

  describe('after the TTL without a group tick (both stores)', function () {
    for (const backend of BACKENDS) {
      it(`${backend}: status --check from node3 reports node1 and node2 uncovered (exit 7)`, async function () {
        // node3's timer goes on; the group's (and the stray instance's) stopped.
        const { node3Config, metricsFile, lapsesAt } = variants.get(backend)!;
        expect(lapsesAt).to.be.greaterThan(0);
        await sleep(Math.max(0, lapsesAt + 1_000 - Date.now()));
        const own = await tick(node3Config);
        expect(own.exitCode, String(own.stderr)).to.equal(0);
        const metrics = readFileSync(metricsFile, 'utf8');
        expect(metrics).to.match(/^tend_uncovered_nodes 2$/m);
        expect(metrics).to.include(`tend_node_coverage_instances{node="${dc1[0]!.address}",datacenter="dc1"} 0`);
        expect(metrics).to.include(`tend_node_coverage_instances{node="${node3.address}",datacenter="dc2"} 1`);

        const status = await tend(node3Config, ['--json', 'schedule', 'status', '--check']);
        expect(status.exitCode, String(status.stderr)).to.equal(ExitCode.AlarmCrossed);
        const report = JSON.parse(String(status.stdout)) as StatusJson;
        expect([...report.coverage!.uncovered].sort()).to.deep.equal(dc1.map((n) => n.address).sort());
        const node1 = report.coverage!.nodes.find((n) => n.address === dc1[0]!.address)!;
        expect(node1.lastCoveredBy?.instance).to.equal('dc1-agent');
        expect(String(status.stderr)).to.include('node(s) no live tend instance covers');
        expect(String(status.stderr)).to.include(
          `node ${dc1[0]!.address} (dc1): no live tend instance covers it since`,
        );
      });
    }
  });
});
