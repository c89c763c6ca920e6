import { expect } from 'chai';
import { plan, type TableSettings, type Topology } from '../../../src/core/planner.js';
import { buildRing } from '../../../src/core/ring.js';
import {
  keyspaceFingerprints,
  rangesFingerprint,
  summariesToStore,
  summaryBounds,
  type TableSummary,
} from '../../../src/core/summary.js';
import { syntheticNodes } from './synthetic.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 3, 12);

const settings = (table: string): TableSettings => ({
  keyspace: 'ks',
  table,
  enabled: true,
  intervalMs: 7 * DAY,
  warnMs: 8 * DAY,
  errorMs: 10 * DAY,
  weight: 1,
  repairType: 'vnode',
  parallelism: 'parallel',
});

describe('core/summary', () => {
  const nodes = syntheticNodes([{ name: 'dc1', nodes: 4 }], 8, 3);
  const ring = buildRing(nodes);
  const topology: Topology = { nodes, keyspaces: { ks: { class: 'SimpleStrategy', replicationFactor: 2 } } };
  const local = nodes[0]!.hostId;

  it('fingerprints change with the local ranges: another node, another RF, another ring', () => {
    const mine = keyspaceFingerprints(ring, topology, local).get('ks')!;
    expect(keyspaceFingerprints(ring, topology, local).get('ks')).to.equal(mine);
    expect(keyspaceFingerprints(ring, topology, nodes[1]!.hostId).get('ks')).to.not.equal(mine);
    const rf3 = { ...topology, keyspaces: { ks: { class: 'SimpleStrategy', replicationFactor: 3 } } };
    expect(keyspaceFingerprints(ring, rf3, local).get('ks')).to.not.equal(mine);
    const grown = syntheticNodes([{ name: 'dc1', nodes: 5 }], 8, 3);
    expect(keyspaceFingerprints(buildRing(grown), { ...topology, nodes: grown }, local).get('ks')).to.not.equal(mine);
    expect(rangesFingerprint(ring, [0, 1])).to.not.equal(rangesFingerprint(ring, [0, 2]));
  });

  it('uses a stored summary only while its fingerprint holds; otherwise the table is unknown (null)', () => {
    const fingerprints = keyspaceFingerprints(ring, topology, local);
    const stored = new Map<string, TableSummary>([
      ['ks.a', { keyspace: 'ks', table: 'a', oldestRepairedAt: NOW - DAY, fingerprint: fingerprints.get('ks')! }],
      ['ks.b', { keyspace: 'ks', table: 'b', oldestRepairedAt: NOW - DAY, fingerprint: 'stale' }],
    ]);
    const bounds = summaryBounds(
      ['a', 'b', 'c'].map((table) => ({ keyspace: 'ks', table })),
      stored,
      fingerprints,
    );
    expect(bounds).to.deep.equal({
      'ks.a': { oldestRepairedAt: NOW - DAY },
      'ks.b': { oldestRepairedAt: null },
      'ks.c': { oldestRepairedAt: null },
    });
  });

  it('stores what the range-level jobs say, only when it changed', () => {
    const fingerprints = keyspaceFingerprints(ring, topology, local);
    const fingerprint = fingerprints.get('ks')!;
    const entries = (at: number) =>
      ring.ranges.map((r) => ({ start: `${r.start}`, end: `${r.end}`, finishedAt: at, status: 'SUCCESS' }));
    const result = plan({
      now: NOW,
      localHostId: local,
      tables: ['a', 'b', 'c'].map(settings),
      topology,
      ring,
      history: { 'ks.a': entries(NOW - DAY), 'ks.b': entries(NOW - 2 * DAY) },
      summaries: { 'ks.c': { oldestRepairedAt: NOW - 5 * DAY } },
      limits: { maxTasks: 5 },
    });
    const stored = new Map<string, TableSummary>([
      ['ks.a', { keyspace: 'ks', table: 'a', oldestRepairedAt: NOW - DAY, fingerprint }],
      ['ks.b', { keyspace: 'ks', table: 'b', oldestRepairedAt: NOW - 3 * DAY, fingerprint }],
    ]);
    // a: unchanged; b: moved forward; c: known only by its summary, nothing new to store.
    expect(summariesToStore(result, fingerprints, stored)).to.deep.equal([
      { keyspace: 'ks', table: 'b', oldestRepairedAt: NOW - 2 * DAY, fingerprint },
    ]);
  });
});
