/**
 * The sandbox's layout as the TEND_SANDBOX_* knobs shape it. layout.ts reads the environment once, when it loads,
 * so each case loads it in a child process with its own environment.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');

interface Layout {
  nodes: { name: string; address: string; datacenter: string; rack: string; jmxPort: number; jmxHost: string }[];
  tokens: string[][];
  consul: { address: string; httpPort: number };
  state: string;
  cluster: string;
  heap: string;
}

const PRINT = `import('./test/sandbox/src/layout.ts').then((m) => console.log(JSON.stringify({
  nodes: m.NODES, tokens: m.NODES.map(m.nodeTokens), consul: m.CONSUL, state: m.paths.state(),
  cluster: m.CLUSTER_NAME, heap: m.HEAP })))`;

function layout(env: Record<string, string>): { layout?: Layout; error: string } {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TEND_SANDBOX_')));
  const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', PRINT], {
    cwd: root,
    env: { ...clean, TEND_SANDBOX_CACHE: '/cache', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return run.status === 0 ? { layout: JSON.parse(run.stdout) as Layout, error: '' } : { error: run.stderr };
}

describe('sandbox layout (TEND_SANDBOX_* knobs)', function () {
  this.timeout(30_000);

  it('instance 0 is the original layout: 127.0.0.1-3, JMX 7100/7200/7300, Consul on 127.0.0.1, state in cluster/', function () {
    const { layout: l } = layout({});
    expect(l!.nodes.map((n) => [n.name, n.address, n.datacenter, n.rack, n.jmxPort])).to.deep.equal([
      ['node1', '127.0.0.1', 'dc1', 'rack1', 7100],
      ['node2', '127.0.0.2', 'dc1', 'rack2', 7200],
      ['node3', '127.0.0.3', 'dc2', 'rack1', 7300],
    ]);
    expect(l!.consul).to.deep.include({ address: '127.0.0.1', httpPort: 18500 });
    expect(l!.state).to.equal('/cache/cluster');
    expect(l!.cluster).to.equal('tend-sandbox');
    expect(l!.heap).to.equal('1G');
    expect(l!.tokens.map((t) => t.length)).to.deep.equal([16, 16, 16]);
  });

  it('instance N: nodes on 127.0.N.i, Consul on 127.0.N.1, its own JMX ports, state and cluster name', function () {
    const { layout: l } = layout({ TEND_SANDBOX_INSTANCE: '7' });
    expect(l!.nodes.map((n) => [n.address, n.jmxHost, n.jmxPort])).to.deep.equal([
      ['127.0.7.1', '127.0.0.1', 14100],
      ['127.0.7.2', '127.0.0.1', 14200],
      ['127.0.7.3', '127.0.0.1', 14300],
    ]);
    expect(l!.consul.address).to.equal('127.0.7.1');
    expect(l!.state).to.equal('/cache/cluster-7');
    expect(l!.cluster).to.equal('tend-sandbox-7');
    expect(layout({ TEND_SANDBOX_INSTANCE: '7', TEND_SANDBOX_CASSANDRA: '4.1.10' }).layout!.state).to.equal(
      '/cache/cluster-7-4.1.10',
    );
    expect(layout({ TEND_SANDBOX_CASSANDRA: '4.1.10' }).layout!.state).to.equal('/cache/cluster-4.1.10');
  });

  it('the secured profile (TEND_SANDBOX_SECURE=1) has its own state directory and cluster name, same addresses', function () {
    const { layout: l } = layout({ TEND_SANDBOX_INSTANCE: '7', TEND_SANDBOX_SECURE: '1' });
    expect(l!.state).to.equal('/cache/cluster-7-secure');
    expect(l!.cluster).to.equal('tend-sandbox-7-secure');
    expect(l!.nodes.map((n) => n.address)).to.deep.equal(['127.0.7.1', '127.0.7.2', '127.0.7.3']);
    expect(layout({ TEND_SANDBOX_SECURE: '1' }).layout!.state).to.equal('/cache/cluster-secure');
    expect(layout({ TEND_SANDBOX_SECURE: '0' }).layout!.state).to.equal('/cache/cluster');
    expect(layout({ TEND_SANDBOX_SECURE: 'yes' }).error).to.match(/TEND_SANDBOX_SECURE=yes: expected 1/);
  });

  it('JMX ports (all on 127.0.0.1) never collide between instances, nor with Cassandra or Jolokia ports', function () {
    const ports = new Set<number>();
    for (let instance = 0; instance <= 10; instance++) {
      for (let node = 1; node <= 4; node++) ports.add(7000 + instance * 1000 + node * 100);
    }
    expect(ports.size).to.equal(11 * 4);
    for (const taken of [7000, 9042, 8778, 18500, 18300, 18301, 18302]) expect(ports.has(taken)).to.equal(false);
    // Below the ephemeral range (32768+), where an outgoing connection could already hold the port.
    expect(Math.max(...ports)).to.be.below(32768);
    // The formula above is the one the layout uses:
    expect(layout({ TEND_SANDBOX_INSTANCE: '10', TEND_SANDBOX_NODES: '4' }).layout!.nodes.at(-1)!.jmxPort).to.equal(
      17400,
    );
  });

  it('four nodes, 4 vnodes: node4 in dc1/rack3, and the tokens interleave evenly over the whole ring', function () {
    const { layout: l } = layout({ TEND_SANDBOX_NODES: '4', TEND_SANDBOX_VNODES: '4', TEND_SANDBOX_INSTANCE: '3' });
    expect(l!.nodes.at(-1)).to.deep.include({ name: 'node4', address: '127.0.3.4', datacenter: 'dc1', rack: 'rack3' });
    const all = l!.tokens
      .flatMap((tokens, node) => tokens.map((t) => ({ token: BigInt(t), node })))
      .sort((a, b) => (a.token < b.token ? -1 : 1));
    expect(all).to.have.length(16);
    expect(all.map((t) => t.node)).to.deep.equal([0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3]);
    const step = 2n ** 64n / 16n;
    for (let i = 1; i < all.length; i++) expect(all[i]!.token - all[i - 1]!.token).to.equal(step);
    expect(all[0]!.token).to.equal(-(2n ** 63n));
  });

  it('heap and vnodes are taken as given; values the sandbox cannot run are refused with what it accepts', function () {
    const { layout: l } = layout({ TEND_SANDBOX_HEAP: '2G', TEND_SANDBOX_VNODES: '256' });
    expect(l!.heap).to.equal('2G');
    expect(l!.tokens[0]).to.have.length(256);
    expect(layout({ TEND_SANDBOX_NODES: '5' }).error).to.match(
      /TEND_SANDBOX_NODES=5: expected a whole number from 3 to 4/,
    );
    expect(layout({ TEND_SANDBOX_VNODES: 'many' }).error).to.match(/TEND_SANDBOX_VNODES=many/);
    expect(layout({ TEND_SANDBOX_HEAP: '2 GB' }).error).to.match(/TEND_SANDBOX_HEAP=2 GB: expected a JVM heap size/);
    expect(layout({ TEND_SANDBOX_INSTANCE: '11' }).error).to.match(/from 0 to 10/);
    expect(layout({ TEND_SANDBOX_CASSANDRA: '4.0.13' }).error).to.match(/5\.0\.x .* or 4\.1\.x/);
  });
});
