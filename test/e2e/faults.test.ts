/**
 * Faults end to end, through the built bin as a child process (issue 12): a TCP listener on loopback that accepts
 * connections and never answers stands in for Cassandra, Consul and Jolokia in turn; an HTTP server that is not
 * Consul; an agent that trickles bytes; a misspelt datacenter. Every command exits 5 naming the component (3 for
 * the datacenter), and the process is gone well within its configured timeouts (timings only as a generous bound
 * that proves "does not hang": the configured timeouts + 10 s).
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { execa } from 'execa';
import { stringify } from 'yaml';
import type cassandra from 'cassandra-driver';
import { cqlClient } from '../support/sandbox-clients.js';
import { silentListener, type Listener } from '../support/tcp-fault.js';
import { BIN, createSmallKeyspace, createTendKeyspace, nodeByName, RUN } from '../support/tick-e2e.js';
import { tendConfig } from '../sandbox/src/tend-config.js';

const TEND_KS = `tend_e2e_faults_${RUN}`;
const DATA_KS = `e2e_faults_${RUN}`;
/** Short timeouts, so "within the timeouts" is a few seconds. */
const CONNECT_S = 2;
const REQUEST_S = 2;
/** Generous: proves the process does not hang, without timing assertions that a busy machine could break. */
const BOUND_MS = (CONNECT_S + REQUEST_S) * 1000 + 10_000;

interface Run {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  ms: number;
}

async function run(config: string, args: string[], killAfterMs = 120_000): Promise<Run> {
  const started = Date.now();
  const result = await execa('node', [BIN, '-c', config, ...args], {
    reject: false,
    timeout: killAfterMs,
    env: { NO_COLOR: '1' },
  });
  return {
    exitCode: result.exitCode,
    stdout: String(result.stdout),
    stderr: String(result.stderr),
    ms: Date.now() - started,
  };
}

describe('faults: every command exits 5 naming the component, within its timeouts (e2e)', function () {
  this.timeout(10 * 60_000);
  let dir: string;
  let client: cassandra.Client;
  const listeners: Listener[] = [];
  const servers: Server[] = [];

  /** node1's sandbox configuration with short timeouts, tend's keyspace and one data keyspace of this test. */
  function writeConfig(name: string, patch: (raw: ReturnType<typeof tendConfig>) => void): string {
    const raw = tendConfig(nodeByName('node1'), { executor: 'jolokia' });
    raw.cassandra.keyspace = TEND_KS;
    raw.cassandra.connectTimeout = `${CONNECT_S}s`;
    raw.cassandra.requestTimeout = `${REQUEST_S}s`;
    const scoped = {
      ...raw,
      repair: { ...raw.repair, tables: [{ match: `/^${DATA_KS}\\./` }, { match: '/.*/', enabled: false }] },
      metrics: { textfileDirectory: dir },
    };
    patch(scoped);
    const file = join(dir, `${name.replace(/[^\w.-]/g, '_')}.yml`);
    writeFileSync(file, stringify(scoped));
    return file;
  }

  async function silent(): Promise<Listener> {
    const listener = await silentListener();
    listeners.push(listener);
    return listener;
  }

  async function httpServer(handler: Parameters<typeof createServer>[1]): Promise<string> {
    const server = createServer(handler);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  }

  function expectUnavailable(result: Run, component: RegExp, within = BOUND_MS): void {
    const what = `exit ${result.exitCode} after ${result.ms} ms\n${result.stderr}`;
    expect(result.exitCode, what).to.equal(5);
    expect(result.stderr, what).to.match(component);
    expect(result.ms, what).to.be.lessThan(within);
    // One line per error, no stack traces from a library.
    expect(result.stderr).to.not.match(/\n\s+at .*:\d+:\d+\)?\n/);
  }

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'tend-faults-'));
    client = cqlClient();
    await client.connect();
    await createTendKeyspace(client, TEND_KS);
    await createSmallKeyspace(client, DATA_KS, { dc1: 2, dc2: 1 }, ['t']);
  });

  after(async function () {
    await Promise.all(listeners.map((listener) => listener.close()));
    for (const server of servers) server.close();
    await client?.execute(`DROP KEYSPACE IF EXISTS ${DATA_KS}`).catch(() => undefined);
    await client?.execute(`DROP KEYSPACE IF EXISTS ${TEND_KS}`).catch(() => undefined);
    await client?.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('Cassandra accepts connections and never answers', function () {
    const commands = [
      ['schedule', 'status'],
      ['schedule', 'plan'],
      ['schedule', 'tick'],
      ['history', 'show'],
      ['policy', 'list'],
      ['schedule', 'pause'],
      ['lease', 'status'],
      ['lease', 'release', 'node/127.0.0.1/slot-0'],
      ['schema', 'apply'],
      ['repair', 'table', `${DATA_KS}.t`],
    ];
    for (const args of commands) {
      it(`tend ${args.join(' ')}: exit 5 naming cassandra`, async function () {
        const cassandraPort = (await silent()).port;
        const config = writeConfig(`silent-cassandra-${args.join('-')}`, (raw) => {
          raw.cassandra.port = cassandraPort;
        });
        expectUnavailable(await run(config, args), /cassandra unavailable/);
      });
    }
  });

  describe('Consul accepts connections and never answers', function () {
    for (const args of [
      ['lease', 'status'],
      ['lease', 'release', 'node/127.0.0.1/slot-0'],
      ['schedule', 'tick'],
    ]) {
      it(`tend ${args.join(' ')}: exit 5 naming consul`, async function () {
        const consulPort = (await silent()).port;
        const config = writeConfig(`silent-consul-${args.join('-')}`, (raw) => {
          raw.lease.backend = 'consul';
          raw.lease.consul.address = `http://127.0.0.1:${consulPort}`;
        });
        expectUnavailable(await run(config, args), /consul unavailable/);
      });
    }
  });

  describe('Jolokia accepts connections and never answers', function () {
    for (const args of [
      ['schedule', 'tick'],
      ['repair', 'table', `${DATA_KS}.t`],
    ]) {
      it(`tend ${args.join(' ')}: exit 5 naming jolokia`, async function () {
        const jolokiaPort = (await silent()).port;
        const config = writeConfig(`silent-jolokia-${args.join('-')}`, (raw) => {
          raw.executor.type = 'jolokia';
          raw.executor.jolokia.url = `http://127.0.0.1:${jolokiaPort}/jolokia/`;
        });
        expectUnavailable(await run(config, args), /jolokia unavailable/);
      });
    }
  });

  describe('servers that answer, but not as they should', function () {
    it('an HTTP server that is not Consul (404 to everything): lease status exits 5, not "no leases held"', async function () {
      const address = await httpServer((_req, res) => {
        res.statusCode = 404;
        res.end('404 page not found');
      });
      const config = writeConfig('not-consul', (raw) => {
        raw.lease.backend = 'consul';
        raw.lease.consul.address = address;
      });
      const result = await run(config, ['lease', 'status']);
      expectUnavailable(result, /consul unavailable: .* does not answer like a Consul agent/);
      expect(result.stdout).to.equal('');
    });

    it('a Jolokia agent that trickles its answer a byte at a time: exit 5 within the request timeout', async function () {
      const address = await httpServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        const drip = setInterval(() => res.write(' '), 200);
        res.on('close', () => clearInterval(drip));
      });
      const config = writeConfig('trickling-jolokia', (raw) => {
        raw.executor.type = 'jolokia';
        raw.executor.jolokia.url = `${address}/jolokia/`;
      });
      expectUnavailable(
        await run(config, ['repair', 'table', `${DATA_KS}.t`]),
        /jolokia unavailable: .*did not answer within 2000 ms/,
      );
    });

    it('a Consul agent that trickles its answer: exit 5 within the request timeout', async function () {
      const address = await httpServer((_req, res) => {
        res.writeHead(200, { 'x-consul-index': '1' });
        const drip = setInterval(() => res.write(' '), 200);
        res.on('close', () => clearInterval(drip));
      });
      const config = writeConfig('trickling-consul', (raw) => {
        raw.lease.backend = 'consul';
        raw.lease.consul.address = address;
      });
      expectUnavailable(await run(config, ['lease', 'status']), /consul unavailable: .*no answer within 2000 ms/);
    });
  });

  describe('Cassandra answers, but cannot serve the request (item 10)', function () {
    // tend's keyspace replicated only in dc2, read from dc1 at LOCAL_QUORUM: every request after the connect is
    // refused as unavailable. The schema-version check and the history reads left as exit 1 with the driver's text.
    const UNSERVED_KS = `tend_e2e_faults_dc2_${RUN}`;
    before(async function () {
      await client.execute(
        `CREATE KEYSPACE IF NOT EXISTS ${UNSERVED_KS} WITH replication = {'class': 'NetworkTopologyStrategy', 'dc2': 1}`,
      );
      await client.execute(
        `CREATE TABLE IF NOT EXISTS ${UNSERVED_KS}.schema_version (component text PRIMARY KEY, version int, applied_at timestamp, applied_by text)`,
      );
    });
    after(async function () {
      await client.execute(`DROP KEYSPACE IF EXISTS ${UNSERVED_KS}`).catch(() => undefined);
    });

    for (const args of [
      ['schedule', 'status'],
      ['history', 'show'],
      ['policy', 'list'],
      ['schedule', 'tick'],
    ]) {
      it(`tend ${args.join(' ')}: exit 5 naming cassandra and what it was reading`, async function () {
        const config = writeConfig(`unserved-${args.join('-')}`, (raw) => {
          raw.cassandra.keyspace = UNSERVED_KS;
        });
        const result = await run(config, args);
        expectUnavailable(result, /cassandra unavailable: reading .*schema_version: Not enough replicas available/);
      });
    }
  });

  describe('a healthy tick reports the state after its batch (item 25)', function () {
    it('a table it has just repaired is not logged past its alarm, and its metrics say alarm 0', async function () {
      const config = writeConfig('healthy', () => undefined);
      const result = await run(config, ['schedule', 'tick']);
      const what = `exit ${result.exitCode}\n${result.stderr}`;
      expect(result.exitCode, what).to.equal(0);
      expect(result.stderr, what).to.match(new RegExp(`repaired ${DATA_KS}\\.t`));
      expect(result.stderr, what).to.not.match(new RegExp(`${DATA_KS}\\.t is past its (warn|error) alarm`));
      const metrics = readFileSync(join(dir, 'tend.prom'), 'utf8');
      expect(metrics).to.include(`tend_table_alarm_level{keyspace="${DATA_KS}",table="t"} 0`);
      expect(metrics).to.include(`tend_table_state{keyspace="${DATA_KS}",table="t",state="ON_TIME"} 1`);
    });
  });

  describe('a misspelt datacenter against the healthy sandbox', function () {
    for (const args of [
      ['schedule', 'tick'],
      ['schedule', 'status'],
    ]) {
      it(`tend ${args.join(' ')}: exit 3 naming cassandra.localDatacenter, within 15 s`, async function () {
        const config = writeConfig(`dc-typo-${args.join('-')}`, (raw) => {
          raw.cassandra.localDatacenter = 'dc3';
        });
        const result = await run(config, args, 60_000);
        const what = `exit ${result.exitCode} after ${result.ms} ms\n${result.stderr}`;
        expect(result.exitCode, what).to.equal(3);
        expect(result.stderr, what).to.match(/cassandra\.localDatacenter: .*\(dc1, dc2\), found \\?"dc3/);
        expect(result.ms, what).to.be.lessThan(15_000);
        // Nothing kept the finished process alive (the exit guard would have said so).
        expect(result.stderr).to.not.include('kept the process alive');
      });
    }
  });
});
