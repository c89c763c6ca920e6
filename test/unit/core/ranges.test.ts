import { expect } from 'chai';
import {
  formatTokenRange,
  intersectRanges,
  parseRangeNotation,
  parseTokenRange,
  piecesForSize,
  rangeContainsRange,
  rangeContainsToken,
  rangeWidth,
  splitRange,
  splitRangeBySize,
  type TokenRange,
} from '../../../src/core/ranges.js';
import {
  advanceToken,
  MAX_TOKEN,
  MIN_TOKEN,
  parseToken,
  RING_SIZE,
  TokenFormatError,
  tokenDistance,
} from '../../../src/core/tokens.js';
import { prng } from './synthetic.js';

function randomToken(rand: () => number): bigint {
  // Mix edge tokens in: bugs hide at the ends of the ring.
  const r = rand();
  if (r < 0.05) return MIN_TOKEN;
  if (r < 0.1) return MAX_TOKEN;
  if (r < 0.15) return BigInt(Math.floor(rand() * 20) - 10);
  const hi = BigInt(Math.floor(rand() * 2 ** 32));
  const lo = BigInt(Math.floor(rand() * 2 ** 32));
  return MIN_TOKEN + ((hi << 32n) | lo);
}

function r(start: bigint | number, end: bigint | number): TokenRange {
  return { start: BigInt(start), end: BigInt(end) };
}

describe('core/tokens and core/ranges', () => {
  describe('parsing', () => {
    const good: [string, TokenRange][] = [
      ['0:10', r(0, 10)],
      ['-100:-50', r(-100, -50)],
      [' -9223372036854775808:9223372036854775807 ', r(MIN_TOKEN, MAX_TOKEN)],
      ['5:5', r(5, 5)],
    ];
    for (const [text, expected] of good) {
      it(`parses "${text}"`, () => {
        expect(parseTokenRange(text)).to.deep.equal(expected);
      });
    }
    const bad: [string, RegExp][] = [
      ['', /expected START:END/],
      ['10', /expected START:END/],
      ['1:2:3', /expected START:END/],
      [':5', /both START and END/],
      ['a:5', /not a token/],
      ['1.5:2', /not a token/],
      ['0:9223372036854775808', /outside the Murmur3 range/],
      ['-9223372036854775809:0', /outside the Murmur3 range/],
    ];
    for (const [text, message] of bad) {
      it(`rejects "${text}" with a clear error`, () => {
        expect(() => parseTokenRange(text))
          .to.throw(TokenFormatError)
          .with.property('message')
          .that.matches(message);
      });
    }
    it("parses Cassandra's (START,END] notation from parent_repair_history", () => {
      expect(parseRangeNotation('(-9223372036854775808,-3074457345618258603]')).to.deep.equal(
        r(MIN_TOKEN, -3074457345618258603n),
      );
      expect(parseRangeNotation(' ( 5 , -5 ] ')).to.deep.equal(r(5, -5));
      expect(() => parseRangeNotation('[1,2]')).to.throw(TokenFormatError, /expected \(START,END\]/);
      expect(() => parseRangeNotation('(1,99999999999999999999]')).to.throw(TokenFormatError, /outside/);
    });
    it('round-trips through formatTokenRange', () => {
      expect(formatTokenRange(parseTokenRange('-3:7'))).to.equal('-3:7');
      expect(parseToken('+42')).to.equal(42n);
    });
  });

  describe('width and containment', () => {
    const cases: [string, TokenRange, bigint][] = [
      ['plain', r(0, 30), 30n],
      ['wrapping', r(MAX_TOKEN - 1n, MIN_TOKEN + 1n), 3n],
      ['full ring', r(7, 7), RING_SIZE],
      ['whole but one', r(MIN_TOKEN, MAX_TOKEN), RING_SIZE - 1n],
    ];
    for (const [name, range, width] of cases) {
      it(`width of ${name}`, () => expect(rangeWidth(range)).to.equal(width));
    }
    it('excludes the start and includes the end', () => {
      expect(rangeContainsToken(r(0, 30), 0n)).to.equal(false);
      expect(rangeContainsToken(r(0, 30), 1n)).to.equal(true);
      expect(rangeContainsToken(r(0, 30), 30n)).to.equal(true);
      expect(rangeContainsToken(r(0, 30), 31n)).to.equal(false);
    });
    it('handles wrap-around', () => {
      const wrap = r(100, -100);
      expect(rangeContainsToken(wrap, MAX_TOKEN)).to.equal(true);
      expect(rangeContainsToken(wrap, MIN_TOKEN)).to.equal(true);
      expect(rangeContainsToken(wrap, 0n)).to.equal(false);
      expect(rangeContainsRange(wrap, r(200, -200))).to.equal(true);
      expect(rangeContainsRange(wrap, r(MAX_TOKEN, MIN_TOKEN))).to.equal(true);
      expect(rangeContainsRange(wrap, r(50, 150))).to.equal(false);
      expect(rangeContainsRange(r(5, 5), wrap)).to.equal(true);
      expect(rangeContainsRange(wrap, r(5, 5))).to.equal(false);
    });
    it('contains sub-ranges as in the seed (1,5] ⊇ (1,3], (2,4]; not (0,3])', () => {
      expect(rangeContainsRange(r(1, 5), r(1, 3))).to.equal(true);
      expect(rangeContainsRange(r(1, 5), r(2, 4))).to.equal(true);
      expect(rangeContainsRange(r(1, 5), r(0, 3))).to.equal(false);
      expect(rangeContainsRange(r(1, 5), r(1, 5))).to.equal(true);
      expect(rangeContainsRange(r(1, 5), r(4, 6))).to.equal(false);
    });
  });

  describe('intersection', () => {
    const cases: [string, TokenRange, TokenRange, TokenRange[]][] = [
      ['overlapping', r(0, 10), r(5, 15), [r(5, 10)]],
      ['disjoint', r(0, 10), r(10, 20), []],
      ['nested', r(0, 100), r(20, 30), [r(20, 30)]],
      ['wrap into both ends', r(0, 100), r(90, 10), [r(0, 10), r(90, 100)]],
      ['two wrapping', r(100, -100), r(200, 0), [r(200, -100)]],
      ['full ring', r(3, 3), r(1, 2), [r(1, 2)]],
    ];
    for (const [name, a, b, expected] of cases) {
      it(name, () => expect(intersectRanges(a, b)).to.deep.equal(expected));
    }
    it('agrees with token membership on random ranges', () => {
      const rand = prng(42);
      for (let i = 0; i < 500; i++) {
        const a = r(randomToken(rand), randomToken(rand));
        const b = r(randomToken(rand), randomToken(rand));
        const pieces = intersectRanges(a, b);
        for (let k = 0; k < 10; k++) {
          const t = k < 4 ? [a.start, a.end, b.start, b.end][k]! : randomToken(rand);
          const inBoth = rangeContainsToken(a, t) && rangeContainsToken(b, t);
          const inPieces = pieces.some((p) => rangeContainsToken(p, t));
          expect(inPieces, `${t} in ${a.start}:${a.end} ∩ ${b.start}:${b.end}`).to.equal(inBoth);
        }
        const total = pieces.reduce((s, p) => s + rangeWidth(p), 0n);
        expect(total <= rangeWidth(a) && total <= rangeWidth(b)).to.equal(true);
      }
    });
  });

  describe('splitting', () => {
    function expectExactCover(range: TokenRange, pieces: TokenRange[]): void {
      expect(pieces[0]!.start).to.equal(range.start);
      expect(pieces[pieces.length - 1]!.end).to.equal(range.end);
      for (let i = 1; i < pieces.length; i++) expect(pieces[i]!.start).to.equal(pieces[i - 1]!.end);
      // Consecutive pieces that sum to the width cannot overlap or leave gaps.
      expect(pieces.reduce((s, p) => s + rangeWidth(p), 0n)).to.equal(rangeWidth(range));
      for (const p of pieces) expect(rangeContainsRange(range, p)).to.equal(true);
    }
    it('reproduces the seed: (0,100] by 2 bytes of 100 → 50 pieces of 2 tokens', () => {
      const pieces = splitRangeBySize(r(0, 100), 100, 2);
      expect(pieces).to.have.length(50);
      expect(pieces[0]).to.deep.equal(r(0, 2));
      expect(pieces[49]).to.deep.equal(r(98, 100));
    });
    it('never makes more pieces than tokens', () => {
      expect(splitRange(r(0, 3), 10)).to.deep.equal([r(0, 1), r(1, 2), r(2, 3)]);
    });
    it('splits the full ring', () => {
      const pieces = splitRange(r(MIN_TOKEN, MIN_TOKEN), 4);
      expectExactCover(r(MIN_TOKEN, MIN_TOKEN), pieces);
      expect(pieces.map((p) => p.end)).to.deep.equal([-(2n ** 62n), 0n, 2n ** 62n, MIN_TOKEN]);
    });
    it('rejects nonsense', () => {
      expect(() => splitRange(r(0, 10), 0)).to.throw(RangeError);
      expect(() => piecesForSize(10, 0)).to.throw(RangeError);
      expect(piecesForSize(0, 10)).to.equal(1);
      expect(piecesForSize(25, 10)).to.equal(3);
    });
    it('covers random ranges exactly: no gaps, no overlaps, wrap-around handled', () => {
      const rand = prng(7);
      let wrapped = 0;
      for (let i = 0; i < 1000; i++) {
        const range = r(randomToken(rand), randomToken(rand));
        if (range.start >= range.end) wrapped++;
        const n = 1 + Math.floor(rand() * 64);
        const pieces = splitRange(range, n);
        expect(pieces.length).to.equal(Number(rangeWidth(range) < BigInt(n) ? rangeWidth(range) : BigInt(n)));
        expectExactCover(range, pieces);
        // Each token lands in exactly one piece.
        for (let k = 0; k < 5; k++) {
          const t = advanceToken(range.start, 1n + (BigInt(Math.floor(rand() * 2 ** 53)) % rangeWidth(range)));
          expect(pieces.filter((p) => rangeContainsToken(p, t))).to.have.length(1);
        }
      }
      expect(wrapped).to.be.greaterThan(100);
    });
    it('splits the whole ring by vnode-like counts into pieces that tile it', () => {
      for (const n of [1, 2, 3, 256, 768]) {
        const ring = r(0, 0);
        const pieces = splitRange(ring, n);
        expect(pieces).to.have.length(n);
        expectExactCover(ring, pieces);
      }
      expect(tokenDistance(MAX_TOKEN, MIN_TOKEN)).to.equal(1n);
    });
  });
});
