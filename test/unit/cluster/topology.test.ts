import { expect } from 'chai';
import { keyspaceExclusion, replicationFromMap, selectLocalNode } from '../../../src/cluster/topology.js';
import { ConfigError } from '../../../src/errors.js';

describe('topology helpers', () => {
  it('reads system_schema replication maps into the core shape', () => {
    expect(
      replicationFromMap({ class: 'org.apache.cassandra.locator.SimpleStrategy', replication_factor: '3' }),
    ).to.deep.equal({ class: 'org.apache.cassandra.locator.SimpleStrategy', replicationFactor: 3 });
    expect(
      replicationFromMap({ class: 'org.apache.cassandra.locator.NetworkTopologyStrategy', dc1: '3', dc2: '2/1' }),
    ).to.deep.equal({ class: 'org.apache.cassandra.locator.NetworkTopologyStrategy', datacenters: { dc1: 3, dc2: 2 } });
    expect(replicationFromMap({ class: 'org.apache.cassandra.locator.LocalStrategy' })).to.deep.equal({
      class: 'org.apache.cassandra.locator.LocalStrategy',
    });
  });

  it('excludes system keyspaces and tend’s own, and nothing else', () => {
    for (const name of ['system', 'system_auth', 'system_distributed', 'system_traces', 'system_schema', 'dse_perf']) {
      expect(keyspaceExclusion(name, 'tend'), name).to.match(/^system keyspace/);
    }
    expect(keyspaceExclusion('tend', 'tend')).to.match(/^tend's own keyspace/);
    expect(keyspaceExclusion('tend_ops', 'tend_ops')).to.match(/^tend's own/);
    for (const name of ['tend', 'shop', 'systems', 'my_system'])
      expect(keyspaceExclusion(name, 'tend_ops')).to.equal(undefined);
  });

  const nodes = [
    { hostId: 'a', addresses: ['10.0.0.1', '10.0.0.1'], datacenter: 'dc1', rack: 'r1', tokens: ['1'] },
    { hostId: 'b', addresses: ['10.0.0.2'], datacenter: 'dc1', rack: 'r2', tokens: ['2'] },
  ];

  it('finds the local node by host id, then address, then the first contact point (port stripped)', () => {
    expect(selectLocalNode(nodes, { hostId: 'b', address: '10.0.0.1' }).hostId).to.equal('b');
    expect(selectLocalNode(nodes, { address: '10.0.0.2' }).hostId).to.equal('b');
    expect(selectLocalNode(nodes, { contactPoint: '10.0.0.2:9042' }).hostId).to.equal('b');
  });

  it('names the candidates when the configured node is not in the ring (exit 3)', () => {
    let error: unknown;
    try {
      selectLocalNode(nodes, { address: '10.0.0.9' });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as ConfigError).message).to.include('node.address 10.0.0.9');
    expect((error as ConfigError).problems.join('\n')).to.include('10.0.0.2 (b, dc1)');
  });
});
