/** Topology and size estimates read from the real sandbox, from each node's point of view. */
import { expect } from 'chai';
import type cassandra from 'cassandra-driver';
import { openSession } from '../../src/cluster/session.js';
import { driverHost, readTopology } from '../../src/cluster/topology.js';
import { readSizeEstimates } from '../../src/cluster/size-estimates.js';
import { buildRing, computePlacement } from '../../src/core/index.js';
import { sandboxTendConfig } from '../support/sandbox-config.js';
import { NODES, VNODES_PER_NODE } from '../sandbox/src/layout.js';

describe('topology and size estimates (real sandbox)', function () {
  const clients: cassandra.Client[] = [];
  after(async function () {
    await Promise.all(clients.map((c) => c.shutdown()));
  });

  for (const [index, dc, rack] of [
    [1, 'dc1', 'rack1'],
    [3, 'dc2', 'rack1'],
  ] as const) {
    it(`node${index}: three nodes with 16 tokens each, the local node by its address, all up`, async function () {
      const config = sandboxTendConfig(index);
      const client = await openSession(config, {});
      clients.push(client);
      // Several reads: system.local and peers_v2 must come from one coordinator every time.
      for (let attempt = 0; attempt < 3; attempt++) {
        const topology = await readTopology(client, {
          tendKeyspace: 'tend',
          localNode: { address: config.node.address, contactPoint: config.cassandra.contactPoints[0] },
        });
        expect(topology.nodes.map((n) => n.address).sort()).to.deep.equal(NODES.map((n) => n.address).sort());
        expect(topology.nodes.every((n) => n.tokens.length === VNODES_PER_NODE && n.up)).to.equal(true);
        expect(topology.localAddress).to.equal(NODES[index - 1]!.address);
        expect(topology.localDatacenter).to.equal(dc);
        expect(topology.nodes.find((n) => n.hostId === topology.localHostId)?.rack).to.equal(rack);
        expect(buildRing(topology.nodes).ranges).to.have.length(NODES.length * VNODES_PER_NODE);
        expect(topology.excludedKeyspaces.map((k) => k.name)).to.include.members([
          'system',
          'system_auth',
          'system_distributed',
          'system_schema',
          'system_traces',
        ]);
        expect(Object.keys(topology.keyspaceInfo).some((name) => name.startsWith('system'))).to.equal(false);
      }
    });
  }

  it('placement of NTS dc1:2, dc2:1 on the ring read gives every range the same 3 replicas', async function () {
    const client = clients[0]!;
    const topology = await readTopology(client, { tendKeyspace: 'tend', localNode: { address: NODES[0]!.address } });
    const placement = computePlacement(buildRing(topology.nodes), {
      class: 'NetworkTopologyStrategy',
      datacenters: { dc1: 2, dc2: 1 },
    });
    expect(placement.replicationFactor).to.equal(3);
    expect(placement.replicaSets).to.have.length(1);
  });

  it('size estimates come from the local node (table_estimates, primary ranges)', async function () {
    const client = clients[0]!;
    const estimates = await readSizeEstimates(
      client,
      [{ keyspace: 'system_auth' }],
      driverHost(client, NODES[0]!.address),
    );
    expect(estimates.source).to.equal('table_estimates');
    expect(estimates.rowsRead).to.be.greaterThan(0);
    const roles = estimates.tables.get('system_auth')?.get('roles');
    expect(roles).to.not.equal(undefined);
    // node1 owns 16 primary ranges (16 vnodes).
    expect(Object.keys(roles!.rangeBytes)).to.have.length(16);
  });

  it('size estimates are "unavailable", not an error, when the local node is not reachable from the session', async function () {
    const estimates = await readSizeEstimates(clients[0]!, [{ keyspace: 'system_auth' }], undefined);
    expect(estimates.source).to.equal('unavailable');
    expect(estimates.problem).to.match(/not reachable/);
  });
});
