/**
 * Proof that the sandbox's servers are real: every check goes to a live Cassandra node, the real nodetool,
 * a real Jolokia agent or a real Consul agent, and fails when that server is absent.
 */
import { expect } from 'chai';
import type cassandra from 'cassandra-driver';
import { repairSessions } from '../support/cassandra-repairs.js';
import { consul, cqlClient, env, jolokia, nodeClient, nodetool } from '../support/sandbox-clients.js';
import { sleep } from '../sandbox/src/wait.js';
import { NODES, VNODES_PER_NODE } from '../sandbox/src/layout.js';

const KEYSPACE = 'tend_smoke';

describe('sandbox (real servers)', function () {
  let client: cassandra.Client;

  before(async function () {
    client = cqlClient();
    await client.connect();
    // Replicated to both DCs: every node holds every range, so any vnode range is local to every node.
    await client.execute(
      `CREATE KEYSPACE IF NOT EXISTS ${KEYSPACE} WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 2, 'dc2': 1}`,
    );
    for (const table of ['by_nodetool', 'by_jolokia']) {
      await client.execute(`CREATE TABLE IF NOT EXISTS ${KEYSPACE}.${table} (id int PRIMARY KEY, v text)`);
      for (let i = 0; i < 50; i++) {
        await client.execute(`INSERT INTO ${KEYSPACE}.${table} (id, v) VALUES (?, ?)`, [i, `v${i}`], { prepare: true });
      }
    }
  });

  after(async function () {
    await client?.shutdown();
  });

  it('each node reports its own datacenter and rack over CQL', async function () {
    for (const [i, node] of env.nodes.entries()) {
      const single = nodeClient(i + 1);
      try {
        const row = (await single.execute('SELECT data_center, rack, rpc_address FROM system.local')).first();
        expect({
          dc: row.get('data_center'),
          rack: row.get('rack'),
          address: String(row.get('rpc_address')),
        }).to.deep.equal({ dc: node.datacenter, rack: node.rack, address: node.address });
      } finally {
        await single.shutdown();
      }
    }
  });

  it('the real nodetool status shows every node Up/Normal with its vnodes', async function () {
    const result = await nodetool(1, ['status']);
    expect(result.exitCode, result.stderr).to.equal(0);
    // UN  127.0.0.2  114.67 KiB  16  100.0%  <host id>  rack2   (127.0.N.i on instance N)
    const un = result.stdout
      .split('\n')
      .map((line) => /^UN\s+(127\.0\.\d+\.\d+)\s+\S+(?: \S?i?B)?\s+(\d+)\s/.exec(line))
      .filter((m) => m !== null);
    expect(un.map((m) => m[1]).sort(), result.stdout).to.deep.equal(NODES.map((n) => n.address).sort());
    for (const m of un) expect(m[2], m[0]).to.equal(String(VNODES_PER_NODE));
    expect(result.stdout).to.match(/Datacenter: dc1/);
    expect(result.stdout).to.match(/Datacenter: dc2/);
  });

  it('a real full repair through nodetool succeeds and lands in system_distributed.repair_history', async function () {
    const before = Date.now();
    const result = await nodetool(1, ['repair', '--full', KEYSPACE, 'by_nodetool']);
    expect(result.exitCode, `${result.stdout}\n${result.stderr}`).to.equal(0);
    const fresh = await repairSessions(client, KEYSPACE, 'by_nodetool', before - 1000);
    expect(fresh.length, 'repair sessions recorded by this run').to.be.greaterThan(0);
    expect(fresh.map((r) => r.status)).to.satisfy((s: string[]) => s.every((x) => x === 'SUCCESS'));
  });

  it('Jolokia reads StorageService OperationMode = NORMAL on each node', async function () {
    for (let i = 1; i <= env.nodes.length; i++) {
      const reply = await jolokia<string>(i, {
        type: 'read',
        mbean: 'org.apache.cassandra.db:type=StorageService',
        attribute: 'OperationMode',
      });
      expect(reply.status, reply.error).to.equal(200);
      expect(reply.value).to.equal('NORMAL');
    }
  });

  it('Jolokia repairAsync of one vnode range returns a command number and reaches COMPLETED', async function () {
    // Both reads from one node, so local + peers is the whole ring exactly once.
    const node2 = nodeClient(2);
    const tokens = (await node2.execute('SELECT tokens FROM system.local')).first().get('tokens') as string[];
    const peers = await node2.execute('SELECT tokens FROM system.peers_v2');
    await node2.shutdown();
    const ring = [...tokens, ...peers.rows.flatMap((r) => r.get('tokens') as string[])]
      .map((t) => BigInt(t))
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const range = `${ring[0]}:${ring[1]}`;
    const started = await jolokia<number>(2, {
      type: 'exec',
      mbean: 'org.apache.cassandra.db:type=StorageService',
      operation: 'repairAsync(java.lang.String,java.util.Map)',
      arguments: [
        KEYSPACE,
        { incremental: 'false', parallelism: 'parallel', ranges: range, columnFamilies: 'by_jolokia', trace: 'false' },
      ],
    });
    expect(started.status, started.error).to.equal(200);
    expect(started.value, 'command number').to.be.a('number').greaterThan(0);
    let state: string[] | null = null;
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const reply = await jolokia<string[] | null>(2, {
        type: 'exec',
        mbean: 'org.apache.cassandra.db:type=StorageService',
        operation: 'getParentRepairStatus',
        arguments: [started.value],
      });
      expect(reply.status, reply.error).to.equal(200);
      state = reply.value;
      if (state && state[0] !== 'IN_PROGRESS') break;
      await sleep(500);
    }
    expect(state?.[0], JSON.stringify(state)).to.equal('COMPLETED');
  });

  it('Consul KV put/get and a session create/renew/destroy work', async function () {
    const key = `tend-smoke/${process.pid}-${Date.now()}`;
    expect(await (await consul('PUT', `/v1/kv/${key}`, 'hello')).json()).to.equal(true);
    const got = (await (await consul('GET', `/v1/kv/${key}`)).json()) as { Value: string }[];
    expect(Buffer.from(got[0]!.Value, 'base64').toString()).to.equal('hello');

    const created = (await (
      await consul('PUT', '/v1/session/create', { Name: 'tend-smoke', TTL: '10s', Behavior: 'release' })
    ).json()) as { ID: string };
    expect(created.ID).to.match(/^[0-9a-f-]{36}$/);
    const renewed = await consul('PUT', `/v1/session/renew/${created.ID}`);
    expect(renewed.status).to.equal(200);
    expect(await (await consul('PUT', `/v1/kv/${key}?acquire=${created.ID}`, 'held')).json()).to.equal(true);
    expect(await (await consul('PUT', `/v1/session/destroy/${created.ID}`)).json()).to.equal(true);
    expect(await (await consul('GET', `/v1/session/info/${created.ID}`)).json()).to.deep.equal([]);
    // Renewing a destroyed session is refused: the signal a lease heartbeat relies on.
    expect((await consul('PUT', `/v1/session/renew/${created.ID}`)).status).to.equal(404);
    await consul('DELETE', `/v1/kv/${key}`);
  });
});
