import { expect } from 'chai';
import { buildRing, type NodeInfo } from '../../../src/core/ring.js';
import { rangeContainsToken, type TokenRange } from '../../../src/core/ranges.js';
import {
  buildRangeTimeline,
  HistoryAccumulator,
  foldTableHistory,
  type RepairEntry,
  type RepairedRange,
  type TimelinePiece,
} from '../../../src/core/timeline.js';
import { prng } from './synthetic.js';

const HOUR = 3_600_000;
const X = Date.UTC(2026, 10, 1);
const Y = X + 2 * HOUR;

function r(start: number | bigint, end: number | bigint): TokenRange {
  return { start: BigInt(start), end: BigInt(end) };
}
function repaired(start: number, end: number, finishedAt: number): RepairedRange {
  return { range: r(start, end), finishedAt };
}
function simple(pieces: TimelinePiece[]): [number, number, number | null][] {
  return pieces.map((p) => [Number(p.range.start), Number(p.range.end), p.repairedAt]);
}

describe('core/timeline', () => {
  it('reproduces the seed: vnode (0,30] at X plus (15,20] at Y gives three pieces', () => {
    const pieces = buildRangeTimeline(r(0, 30), [repaired(0, 30, X), repaired(15, 20, Y)]);
    expect(simple(pieces)).to.deep.equal([
      [0, 15, X],
      [15, 20, Y],
      [20, 30, X],
    ]);
  });

  it('merges the seed pieces back when X and Y are within the tolerance, keeping the older time', () => {
    const pieces = buildRangeTimeline(r(0, 30), [repaired(0, 30, X), repaired(15, 20, X + 10 * 60_000)]);
    expect(simple(pieces)).to.deep.equal([[0, 30, X]]);
  });

  it('splits overlapping sub-ranges (1,3] and (2,4] of vnode (1,5]; the newest wins the overlap', () => {
    const pieces = buildRangeTimeline(r(1, 5), [repaired(1, 3, X), repaired(2, 4, Y)], 0);
    expect(simple(pieces)).to.deep.equal([
      [1, 2, X],
      [2, 4, Y],
      [4, 5, null],
    ]);
    const older = buildRangeTimeline(r(1, 5), [repaired(1, 3, Y), repaired(2, 4, X)], 0);
    expect(simple(older)).to.deep.equal([
      [1, 3, Y],
      [3, 4, X],
      [4, 5, null],
    ]);
  });

  it('ignores entries not fully contained in the vnode, e.g. (0,3] for (1,5]', () => {
    expect(simple(buildRangeTimeline(r(1, 5), [repaired(0, 3, X)]))).to.deep.equal([[1, 5, null]]);
  });

  it('handles a vnode that wraps around the ring', () => {
    const max = 2n ** 63n - 1n;
    const vnode = r(max - 10n, -(2n ** 63n) + 10n);
    const pieces = buildRangeTimeline(vnode, [{ range: r(max - 5n, -(2n ** 63n) + 5n), finishedAt: Y }], 0);
    expect(pieces.map((p) => [p.range.start, p.range.end, p.repairedAt])).to.deep.equal([
      [max - 10n, max - 5n, null],
      [max - 5n, -(2n ** 63n) + 5n, Y],
      [-(2n ** 63n) + 5n, -(2n ** 63n) + 10n, null],
    ]);
  });

  it('agrees with a token-by-token brute force on random histories', () => {
    const rand = prng(99);
    for (let round = 0; round < 300; round++) {
      const vnode = r(0, 40);
      const tolerance = round % 2 === 0 ? 0 : HOUR;
      const repairs: RepairedRange[] = [];
      const count = Math.floor(rand() * 8);
      for (let i = 0; i < count; i++) {
        const a = Math.floor(rand() * 40);
        const b = a + 1 + Math.floor(rand() * (40 - a));
        repairs.push(repaired(a, b, X + Math.floor(rand() * 5) * (HOUR / 2)));
      }
      if (rand() < 0.3) repairs.push(repaired(30, 50, Y)); // not contained: must be ignored
      const pieces = buildRangeTimeline(vnode, repairs, tolerance);
      expect(pieces[0]!.range.start).to.equal(0n);
      expect(pieces[pieces.length - 1]!.range.end).to.equal(40n);
      for (let i = 1; i < pieces.length; i++) expect(pieces[i]!.range.start).to.equal(pieces[i - 1]!.range.end);
      for (let t = 1; t <= 40; t++) {
        const truth = repairs
          .filter((x) => x.range.end <= 40n && rangeContainsToken(x.range, BigInt(t)))
          .reduce<number | null>((m, x) => (m === null || x.finishedAt > m ? x.finishedAt : m), null);
        const piece = pieces.find((p) => rangeContainsToken(p.range, BigInt(t)))!;
        if (truth === null || piece.repairedAt === null) expect(piece.repairedAt).to.equal(truth);
        else {
          expect(piece.repairedAt).to.be.at.most(truth);
          expect(piece.repairedAt).to.be.at.least(truth - tolerance);
        }
      }
    }
  });

  describe('folding a table history onto the ring', () => {
    const nodes: NodeInfo[] = [
      { hostId: 'a', address: 'a', datacenter: 'dc1', rack: 'r1', tokens: ['0', '30'], up: true },
      { hostId: 'b', address: 'b', datacenter: 'dc1', rack: 'r1', tokens: ['100'], up: true },
    ];
    const ring = buildRing(nodes); // ranges: (100,0], (0,30], (30,100]
    const entry = (start: number, end: number, finishedAt: number | null, status = 'SUCCESS'): RepairEntry => ({
      start: String(start),
      end: String(end),
      finishedAt,
      status,
    });

    it('matches whole vnodes by text, newest success wins, failures ignored', () => {
      const folded = foldTableHistory(ring, [
        entry(0, 30, X),
        entry(0, 30, Y),
        entry(30, 100, Y + HOUR, 'FAILED'),
        entry(30, 100, null, 'STARTED'),
        entry(100, 0, X),
      ]);
      expect([...folded.repairedAt]).to.deep.equal([X, Y, -Infinity]);
      expect(folded.stats).to.deep.include({ entries: 5, used: 3, unsuccessful: 2, notContained: 0, malformed: 0 });
      expect(folded.pieces.size).to.equal(0);
    });

    it('reproduces the seed example through the fold: the vnode is as old as its oldest piece', () => {
      const folded = foldTableHistory(ring, [entry(0, 30, X), entry(15, 20, Y)]);
      expect(folded.repairedAt[1]).to.equal(X);
      expect(simple(folded.pieces.get(1) as TimelinePiece[])).to.deep.equal([
        [0, 15, X],
        [15, 20, Y],
        [20, 30, X],
      ]);
    });

    it('sub-ranges only: never-repaired parts keep the vnode never repaired', () => {
      const folded = foldTableHistory(ring, [entry(35, 60, X)]);
      expect(folded.repairedAt[2]).to.equal(-Infinity);
      expect(folded.pieces.get(2)).to.have.length(3);
    });

    it('sub-ranges covering the whole vnode make it repaired at the oldest piece', () => {
      const folded = foldTableHistory(ring, [entry(30, 60, Y), entry(60, 100, X)]);
      expect(folded.repairedAt[2]).to.equal(X);
    });

    it('counts entries spanning vnodes and malformed tokens, and ignores them', () => {
      const folded = foldTableHistory(ring, [
        entry(20, 40, X),
        { start: 'x', end: '5', finishedAt: X, status: 'SUCCESS' },
      ]);
      expect(folded.stats).to.deep.include({ notContained: 1, malformed: 1, used: 0 });
      expect([...folded.repairedAt]).to.deep.equal([-Infinity, -Infinity, -Infinity]);
    });

    it('folds page by page to the same result as all at once', () => {
      const entries = [
        entry(0, 30, X),
        entry(15, 20, Y),
        entry(30, 100, X, 'FAILED'),
        entry(100, 0, Y),
        entry(20, 40, X),
      ];
      const accumulator = new HistoryAccumulator(ring);
      for (const page of [entries.slice(0, 2), entries.slice(2)]) accumulator.addAll(page);
      const paged = accumulator.finish();
      expect(paged).to.deep.equal(foldTableHistory(ring, entries));
      expect(() => accumulator.add(entries[0]!)).to.throw(/after finish/);
    });
  });
});
