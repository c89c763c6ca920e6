import { expect } from 'chai';
import {
  buildRing,
  computePlacement,
  rangeIndexOfToken,
  rangesReplicatedBy,
  replicationSignature,
  strategyName,
  TopologyError,
  type NodeInfo,
} from '../../../src/core/ring.js';
import { rangeContainsToken } from '../../../src/core/ranges.js';
import { MAX_TOKEN, MIN_TOKEN } from '../../../src/core/tokens.js';
import { prng, randomToken, syntheticNodes } from './synthetic.js';

function node(hostId: string, tokens: number[], datacenter = 'dc1', rack = 'r1'): NodeInfo {
  return { hostId, address: hostId, datacenter, rack, tokens: tokens.map(String), up: true };
}

describe('core/ring', () => {
  it('builds vnode ranges sorted by end token, range 0 wrapping', () => {
    const ring = buildRing([node('a', [0, 20]), node('b', [10, 30])]);
    expect(ring.ranges.map((r) => [r.start, r.end])).to.deep.equal([
      [30n, 0n],
      [0n, 10n],
      [10n, 20n],
      [20n, 30n],
    ]);
    expect(ring.owners).to.deep.equal(['a', 'b', 'a', 'b']);
    expect(ring.indexByStartText.get('10')).to.equal(2);
  });

  it('a single token is the full ring', () => {
    const ring = buildRing([node('a', [5])]);
    expect(ring.ranges).to.deep.equal([{ start: 5n, end: 5n }]);
  });

  it('rejects a token owned twice', () => {
    expect(() => buildRing([node('a', [1]), node('b', [1])])).to.throw(TopologyError, /owned by both a and b/);
  });

  it('finds the range of any token, including past the last token', () => {
    const ring = buildRing(syntheticNodes([{ name: 'dc1', nodes: 3 }], 16, 1));
    const rand = prng(3);
    for (let i = 0; i < 500; i++) {
      const t = i === 0 ? MIN_TOKEN : i === 1 ? MAX_TOKEN : randomToken(rand);
      const index = rangeIndexOfToken(ring, t);
      expect(rangeContainsToken(ring.ranges[index]!, t), `${t}`).to.equal(true);
    }
  });

  it('normalises strategy class names', () => {
    expect(strategyName('org.apache.cassandra.locator.NetworkTopologyStrategy')).to.equal('NetworkTopologyStrategy');
    expect(() => strategyName('com.example.Custom')).to.throw(TopologyError, /unsupported/);
    expect(replicationSignature({ class: 'NetworkTopologyStrategy', datacenters: { b: 1, a: 2, c: 0 } })).to.equal(
      'NetworkTopologyStrategy:a=2,b=1',
    );
  });

  describe('placement', () => {
    const four = [node('a', [0]), node('b', [10]), node('c', [20]), node('d', [30])];
    const cases: { name: string; nodes: NodeInfo[]; replication: object; expected: string[] }[] = [
      {
        name: 'SimpleStrategy RF2 walks clockwise',
        nodes: four,
        replication: { class: 'SimpleStrategy', replicationFactor: 2 },
        expected: ['a,b', 'b,c', 'c,d', 'a,d'],
      },
      {
        name: 'SimpleStrategy RF above node count takes every node',
        nodes: four.slice(0, 2),
        replication: { class: 'SimpleStrategy', replicationFactor: 3 },
        expected: ['a,b', 'a,b'],
      },
      {
        name: 'NTS with three racks: distinct racks first, skipping a rack repeat',
        nodes: [
          node('a', [0], 'dc1', 'r1'),
          node('b', [10], 'dc1', 'r1'),
          node('c', [20], 'dc1', 'r2'),
          node('d', [30], 'dc1', 'r3'),
        ],
        replication: { class: 'NetworkTopologyStrategy', datacenters: { dc1: 3 } },
        expected: ['a,c,d', 'b,c,d', 'a,c,d', 'a,c,d'],
      },
      {
        name: 'NTS with fewer racks than RF accepts repeats in ring order',
        nodes: [
          node('a', [0], 'dc1', 'r1'),
          node('b', [10], 'dc1', 'r1'),
          node('c', [20], 'dc1', 'r2'),
          node('d', [30], 'dc1', 'r2'),
        ],
        replication: { class: 'NetworkTopologyStrategy', datacenters: { dc1: 3 } },
        expected: ['a,b,c', 'b,c,d', 'a,c,d', 'a,b,d'],
      },
      {
        name: 'NTS two datacenters, per-DC factors',
        nodes: [node('a', [0], 'dc1'), node('b', [10], 'dc2'), node('c', [20], 'dc1'), node('d', [30], 'dc2')],
        replication: { class: 'NetworkTopologyStrategy', datacenters: { dc1: 1, dc2: 1 } },
        expected: ['a,b', 'b,c', 'c,d', 'a,d'],
      },
      {
        name: 'NTS ignores a datacenter absent from the ring',
        nodes: [node('a', [0], 'dc1'), node('b', [10], 'dc1')],
        replication: { class: 'NetworkTopologyStrategy', datacenters: { dc1: 2, nowhere: 3 } },
        expected: ['a,b', 'a,b'],
      },
      {
        name: 'EverywhereStrategy replicates every range on every node',
        nodes: four.slice(0, 3),
        replication: { class: 'EverywhereStrategy' },
        expected: ['a,b,c', 'a,b,c', 'a,b,c'],
      },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const ring = buildRing(c.nodes);
        const placement = computePlacement(ring, c.replication as never);
        const keys = [...placement.replicaSetOfRange].map((i) => placement.replicaSets[i]!.key);
        expect(keys).to.deep.equal(c.expected);
      });
    }

    it('LocalStrategy keeps only the local node', () => {
      const placement = computePlacement(buildRing(four), { class: 'LocalStrategy' }, 'c');
      expect(placement.replicaSets.map((s) => s.key)).to.deep.equal(['c']);
    });

    it('with one rack per DC, NTS equals SimpleStrategy restricted to each DC', () => {
      const nodes = syntheticNodes(
        [
          { name: 'dc1', nodes: 4 },
          { name: 'dc2', nodes: 3 },
        ],
        8,
        11,
      );
      const ring = buildRing(nodes);
      const nts = computePlacement(ring, { class: 'NetworkTopologyStrategy', datacenters: { dc1: 3, dc2: 2 } });
      for (let i = 0; i < ring.ranges.length; i++) {
        const replicas = nts.replicaSets[nts.replicaSetOfRange[i]!]!.hostIds;
        for (const [dc, rf] of [
          ['dc1', 3],
          ['dc2', 2],
        ] as const) {
          const expected: string[] = [];
          for (let step = 0; expected.length < rf; step++) {
            const owner = ring.owners[(i + step) % ring.owners.length]!;
            if (ring.nodes.get(owner)!.datacenter === dc && !expected.includes(owner)) expected.push(owner);
          }
          expect(replicas.filter((h) => h.includes(`-${dc}-`))).to.deep.equal(expected.sort());
        }
      }
    });

    it('a node replicates RF/N of the ring: every range it is a replica of, not only primary ranges', () => {
      const nodes = syntheticNodes([{ name: 'dc1', nodes: 3 }], 4, 5);
      const ring = buildRing(nodes);
      const rf2 = computePlacement(ring, { class: 'SimpleStrategy', replicationFactor: 2 });
      const rf3 = computePlacement(ring, { class: 'SimpleStrategy', replicationFactor: 3 });
      const primary = ring.owners.filter((o) => o === 'h-dc1-1').length;
      expect(primary).to.equal(4);
      expect(rangesReplicatedBy(rf3, 'h-dc1-1')).to.have.length(12);
      expect(rangesReplicatedBy(rf2, 'h-dc1-1').length).to.be.greaterThan(primary);
    });
  });
});
