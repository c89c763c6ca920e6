import { expect } from 'chai';
import {
  COVERAGE_KEEP_MS,
  claimConflicts,
  claimsFor,
  coverageOf,
  coverageTtlMs,
  describeConflict,
  staleClaims,
  withClaims,
  type CoverageClaim,
} from '../../../src/core/coverage.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const NOW = Date.UTC(2026, 11, 3, 12);

const RING = [
  { hostId: 'h3', address: '10.0.0.3', datacenter: 'dc2' },
  { hostId: 'h1', address: '10.0.0.1', datacenter: 'dc1' },
  { hostId: 'h2', address: '10.0.0.2', datacenter: 'dc1' },
];
const GROUP = { instance: 'dc1-agent', instanceHost: 'mgmt1', kind: 'group' as const };

function claim(hostId: string, instance: string, expiresAt: number, extra: Partial<CoverageClaim> = {}): CoverageClaim {
  const node = RING.find((n) => n.hostId === hostId)!;
  return {
    hostId,
    address: node.address,
    instance,
    instanceHost: `${instance}-host`,
    kind: 'group',
    claimedAt: expiresAt - HOUR,
    expiresAt,
    ...extra,
  };
}

describe('core/coverage: which instance covers which node (issue 18)', () => {
  describe('coverageTtlMs', () => {
    it('is schedule.coverageTtl when set', () => {
      expect(coverageTtlMs({ coverageTtl: 90_000, maxDuration: HOUR, taskTimeout: 3 * HOUR })).to.equal(90_000);
    });
    it('defaults to the longest healthy tick (maxDuration + taskTimeout) plus 15 minutes: 4h15m by default', () => {
      expect(coverageTtlMs({ maxDuration: HOUR, taskTimeout: 3 * HOUR })).to.equal(4 * HOUR + 15 * MINUTE);
      expect(coverageTtlMs({ coverageTtl: undefined, maxDuration: 2 * HOUR, taskTimeout: HOUR })).to.equal(
        3 * HOUR + 15 * MINUTE,
      );
    });
  });

  it('claimsFor: one claim per node, from now for the TTL, under the claimant', () => {
    const claims = claimsFor(GROUP, RING.slice(1), NOW, HOUR);
    expect(claims).to.deep.equal([
      { hostId: 'h1', address: '10.0.0.1', ...GROUP, claimedAt: NOW, expiresAt: NOW + HOUR },
      { hostId: 'h2', address: '10.0.0.2', ...GROUP, claimedAt: NOW, expiresAt: NOW + HOUR },
    ]);
  });

  it('withClaims: a claim replaces the same instance on the same node, others stay', () => {
    const old = [claim('h1', 'dc1-agent', NOW - MINUTE), claim('h1', 'other', NOW + HOUR)];
    const merged = withClaims(old, claimsFor(GROUP, [RING[1]!], NOW, HOUR));
    expect(merged).to.have.length(2);
    expect(merged.find((c) => c.instance === 'dc1-agent')!.expiresAt).to.equal(NOW + HOUR);
    expect(merged.find((c) => c.instance === 'other')!.expiresAt).to.equal(NOW + HOUR);
  });

  describe('claimConflicts', () => {
    const mine = claimsFor(GROUP, [RING[1]!, RING[2]!], NOW, HOUR);

    it('another live instance on a covered node conflicts; an expired one, or one on another node, does not', () => {
      const existing = [
        claim('h2', 'node2-own', NOW + MINUTE, { kind: 'node' }),
        claim('h1', 'old-agent', NOW - 1),
        claim('h3', 'node3', NOW + HOUR),
      ];
      const conflicts = claimConflicts(mine, existing, NOW);
      expect(conflicts.map((c) => [c.address, c.other.instance, c.why])).to.deep.equal([
        ['10.0.0.2', 'node2-own', 'other_instance'],
      ]);
      expect(describeConflict(conflicts[0]!, 'dc1-agent')).to.match(
        /^node 10\.0\.0\.2 \(h2\) is also covered by its own timer \(node2-own\) on host node2-own-host .*two instances repair it/,
      );
    });

    it('its own earlier claim is no conflict; the same name from another host is one (two hosts run one file)', () => {
      const existing = [
        { ...mine[0]!, claimedAt: NOW - HOUR, expiresAt: NOW + MINUTE },
        { ...mine[1]!, instanceHost: 'mgmt2', expiresAt: NOW + MINUTE },
      ];
      const conflicts = claimConflicts(mine, existing, NOW);
      expect(conflicts.map((c) => [c.address, c.why])).to.deep.equal([['10.0.0.2', 'same_name_other_host']]);
      expect(describeConflict(conflicts[0]!, 'dc1-agent')).to.include(
        'instance name dc1-agent is also used on host mgmt2',
      );
    });

    it('a claim expiring exactly now is not live', () => {
      expect(claimConflicts(mine, [claim('h1', 'x', NOW)], NOW)).to.deep.equal([]);
    });
  });

  describe('coverageOf', () => {
    it('nothing recorded: no node is called uncovered (a cluster just upgraded)', () => {
      const report = coverageOf(RING, [], NOW);
      expect(report.recorded).to.equal(false);
      expect(report.uncovered).to.deep.equal([]);
      expect(report.nodes.map((n) => n.state)).to.deep.equal(['covered', 'covered', 'covered']);
    });

    it('covered, uncovered (with the claim that lapsed last) and claimed twice, in datacenter and address order', () => {
      const claims = [
        claim('h1', 'dc1-agent', NOW + HOUR),
        claim('h2', 'dc1-agent', NOW - 2 * MINUTE),
        claim('h2', 'older-agent', NOW - HOUR),
        claim('h3', 'node3', NOW + MINUTE, { kind: 'node' }),
        claim('h3', 'dc2-agent', NOW + MINUTE),
        // A decommissioned node's claim: not in the ring, not shown.
        { ...claim('h1', 'gone', NOW + HOUR), hostId: 'h9', address: '10.0.0.9' },
      ];
      const report = coverageOf(RING, claims, NOW);
      expect(report.recorded).to.equal(true);
      expect(report.nodes.map((n) => [n.address, n.state])).to.deep.equal([
        ['10.0.0.1', 'covered'],
        ['10.0.0.2', 'uncovered'],
        ['10.0.0.3', 'claimed_twice'],
      ]);
      expect(report.uncovered).to.deep.equal(['10.0.0.2']);
      expect(report.claimedTwice).to.deep.equal(['10.0.0.3']);
      expect(report.nodes[0]!.coveredBy.map((c) => c.instance)).to.deep.equal(['dc1-agent']);
      expect(report.nodes[0]!.lastCoveredBy).to.equal(null);
      expect(report.nodes[1]!.coveredBy).to.deep.equal([]);
      expect(report.nodes[1]!.lastCoveredBy).to.deep.include({ instance: 'dc1-agent', expiresAt: NOW - 2 * MINUTE });
      expect(report.nodes[2]!.coveredBy.map((c) => c.instance)).to.deep.equal(['dc2-agent', 'node3']);
    });

    it('a node of the ring without any claim is uncovered once anything is recorded', () => {
      const report = coverageOf(RING, [claim('h1', 'dc1-agent', NOW + HOUR)], NOW);
      expect(report.uncovered).to.deep.equal(['10.0.0.2', '10.0.0.3']);
      expect(report.nodes[1]!.lastCoveredBy).to.equal(null);
    });
  });

  it('staleClaims: lapsed for longer than 30 days', () => {
    const keep = claim('h1', 'a', NOW - COVERAGE_KEEP_MS);
    const drop = claim('h1', 'b', NOW - COVERAGE_KEEP_MS - 1);
    expect(staleClaims([keep, drop, claim('h2', 'c', NOW + HOUR)], NOW)).to.deep.equal([drop]);
  });
});
