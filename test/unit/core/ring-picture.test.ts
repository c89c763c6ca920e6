import { expect } from 'chai';
import {
  ageBand,
  bandCounts,
  cellsOfRange,
  ringCells,
  tableRangeAges,
  type RangeAge,
} from '../../../src/core/ring-picture.js';
import { plan, type PlanInput } from '../../../src/core/planner.js';
import type { NodeInfo } from '../../../src/core/ring.js';
import { intersectRanges, type TokenRange } from '../../../src/core/ranges.js';
import { advanceToken, MAX_TOKEN, MIN_TOKEN, RING_SIZE } from '../../../src/core/tokens.js';
import { prng } from './synthetic.js';

const DAY = 24 * 3600 * 1000;
const LIMITS = { intervalMs: 7 * DAY, warnMs: 8 * DAY, errorMs: 10 * DAY };
const NOW = 1_000 * DAY;

function r(start: bigint | number, end: bigint | number): TokenRange {
  return { start: BigInt(start), end: BigInt(end) };
}

/** Cell i of `cells` as a token range, independently of cellsOfRange: (MIN + i·2^64/n, MIN + (i+1)·2^64/n]. */
function cellRange(i: number, cells: number): TokenRange {
  const n = BigInt(cells);
  const at = (k: bigint) => advanceToken(MIN_TOKEN, (k * RING_SIZE) / n);
  return { start: at(BigInt(i)), end: at(BigInt(i + 1)) };
}

/** The cells a range overlaps, by intersecting it with every cell: the slow oracle. */
function cellsByIntersection(range: TokenRange, cells: number): number[] {
  const found: number[] = [];
  for (let i = 0; i < cells; i++) if (intersectRanges(range, cellRange(i, cells)).length > 0) found.push(i);
  return found;
}

function randomToken(rand: () => number): bigint {
  const x = rand();
  if (x < 0.05) return MIN_TOKEN;
  if (x < 0.1) return MAX_TOKEN;
  if (x < 0.15) return BigInt(Math.floor(rand() * 20) - 10);
  const hi = BigInt(Math.floor(rand() * 2 ** 32));
  const lo = BigInt(Math.floor(rand() * 2 ** 32));
  return MIN_TOKEN + ((hi << 32n) | lo);
}

describe('core/ring-picture', () => {
  describe('ageBand', () => {
    const cases: [string, number | null, string][] = [
      ['repaired just now', NOW, 'ok'],
      ['a moment before the interval', NOW - LIMITS.intervalMs + 1, 'ok'],
      ['exactly the interval ago (due, as the planner says)', NOW - LIMITS.intervalMs, 'due'],
      ['exactly the warn alarm ago', NOW - LIMITS.warnMs, 'warn'],
      ['a moment before the error alarm', NOW - LIMITS.errorMs + 1, 'warn'],
      ['exactly the error alarm ago', NOW - LIMITS.errorMs, 'error'],
      ['a year ago', NOW - 365 * DAY, 'error'],
      ['never', null, 'never'],
    ];
    for (const [name, at, band] of cases) it(`${name}: ${band}`, () => expect(ageBand(at, NOW, LIMITS)).to.equal(band));
  });

  describe('cellsOfRange', () => {
    const quarter = RING_SIZE / 4n;
    it('a range exactly one cell wide is in that cell only', () => {
      expect(cellsOfRange(r(MIN_TOKEN, MIN_TOKEN + quarter), 4)).to.deep.equal([0]);
      expect(cellsOfRange(r(MIN_TOKEN + quarter, MIN_TOKEN + 2n * quarter), 4)).to.deep.equal([1]);
    });
    it('a range whose start is a cell boundary does not touch the cell before (the start is excluded)', () => {
      expect(cellsOfRange(r(MIN_TOKEN + quarter, MIN_TOKEN + quarter + 1n), 4)).to.deep.equal([1]);
    });
    it('a range ending one token into the next cell touches both', () => {
      expect(cellsOfRange(r(MIN_TOKEN, MIN_TOKEN + quarter + 1n), 4)).to.deep.equal([0, 1]);
    });
    it('the wrap-around range (last token, first token] spans the end of the ring and its start', () => {
      expect(cellsOfRange(r(MAX_TOKEN - 5n, MIN_TOKEN + 5n), 4)).to.deep.equal([3, 0]);
      // Ending at MIN_TOKEN exactly: the token MIN_TOKEN lies in the last cell.
      expect(cellsOfRange(r(MAX_TOKEN - 5n, MIN_TOKEN), 4)).to.deep.equal([3]);
      expect(cellsOfRange(r(0, -10), 4)).to.deep.equal([2, 3, 0, 1]);
    });
    it('start == end is the whole ring, every cell once', () => {
      expect(cellsOfRange(r(42, 42), 8)).to.deep.equal([4, 5, 6, 7, 0, 1, 2, 3]);
    });
    it('a range of one token is in one cell', () => {
      expect(cellsOfRange(r(-1, 0), 64)).to.deep.equal([31]);
      expect(cellsOfRange(r(0, 1), 64)).to.deep.equal([32]);
    });
    it('matches intersecting the range with every cell, for random ranges and cell counts', () => {
      const rand = prng(15);
      for (let k = 0; k < 400; k++) {
        const cells = [1, 3, 4, 7, 64, 80][k % 6]!;
        const range = r(randomToken(rand), randomToken(rand));
        const got = cellsOfRange(range, cells);
        expect(
          [...got].sort((a, b) => a - b),
          `${range.start}:${range.end} in ${cells}`,
        ).to.deep.equal(cellsByIntersection(range, cells));
        expect(new Set(got).size).to.equal(got.length);
      }
    });
    it('refuses a cell count that is not a positive integer', () => {
      expect(() => cellsOfRange(r(0, 1), 0)).to.throw(RangeError);
      expect(() => cellsOfRange(r(0, 1), 2.5)).to.throw(RangeError);
    });
  });

  describe('ringCells', () => {
    const q = RING_SIZE / 4n;
    const at = (k: bigint) => advanceToken(MIN_TOKEN, k);
    it('each cell is the worst of the uneven ranges overlapping it; cells of no local range are elsewhere', () => {
      const ranges: RangeAge[] = [
        // Cell 0 and half of cell 1: repaired a day ago.
        { range: r(MIN_TOKEN, at(q + q / 2n)), repairedAt: NOW - DAY, local: true },
        // The rest of cell 1: a short range past its warn alarm, so cell 1 is warn.
        { range: r(at(q + q / 2n), at(q + q / 2n + 100n)), repairedAt: NOW - 9 * DAY, local: true },
        { range: r(at(q + q / 2n + 100n), at(2n * q)), repairedAt: NOW - 2 * DAY, local: true },
        // Cell 2: another node's range, not this node's to repair, however old.
        { range: r(at(2n * q), at(3n * q)), repairedAt: null, local: false },
        // Cell 3 and the wrap to MIN_TOKEN: a due range and a never-repaired one.
        { range: r(at(3n * q), at(3n * q + 10n)), repairedAt: NOW - 7 * DAY, local: true },
        { range: r(at(3n * q + 10n), MIN_TOKEN), repairedAt: null, local: true },
      ];
      const cells = ringCells(ranges, NOW, LIMITS, 4);
      expect(cells.map((c) => c.band)).to.deep.equal(['ok', 'warn', 'elsewhere', 'never']);
      expect(cells.map((c) => c.ranges)).to.deep.equal([1, 3, 0, 2]);
      expect(cells[1]!.repairedAt).to.equal(NOW - 9 * DAY);
      expect(cells[3]!.repairedAt).to.equal(null);
    });
    it('a never-repaired range stays the worst whatever order the ranges come in', () => {
      const ranges: RangeAge[] = [
        { range: r(0, 10), repairedAt: null, local: true },
        { range: r(10, 20), repairedAt: NOW - 20 * DAY, local: true },
        { range: r(20, 30), repairedAt: NOW, local: true },
      ];
      for (const order of [ranges, [...ranges].reverse()]) {
        expect(ringCells(order, NOW, LIMITS, 2)[1]).to.deep.equal({ band: 'never', repairedAt: null, ranges: 3 });
      }
    });
    it('the oldest repair wins over a newer one in the same cell, in either order', () => {
      const ranges: RangeAge[] = [
        { range: r(0, 10), repairedAt: NOW - DAY, local: true },
        { range: r(10, 20), repairedAt: NOW - 7 * DAY, local: true },
      ];
      for (const order of [ranges, [...ranges].reverse()]) {
        expect(ringCells(order, NOW, LIMITS, 2)[1]).to.deep.equal({
          band: 'due',
          repairedAt: NOW - 7 * DAY,
          ranges: 2,
        });
      }
    });
    it('a single full-ring range fills every cell', () => {
      const cells = ringCells([{ range: r(7, 7), repairedAt: NOW - 11 * DAY, local: true }], NOW, LIMITS, 64);
      expect(new Set(cells.map((c) => c.band))).to.deep.equal(new Set(['error']));
      expect(cells).to.have.length(64);
    });
    it('bandCounts counts local ranges by band', () => {
      const ranges: RangeAge[] = [
        { range: r(0, 10), repairedAt: null, local: true },
        { range: r(10, 20), repairedAt: NOW, local: true },
        { range: r(20, 30), repairedAt: NOW, local: false },
        { range: r(30, 40), repairedAt: NOW - 8 * DAY, local: true },
      ];
      expect(bandCounts(ranges, NOW, LIMITS)).to.deep.equal({ ok: 1, due: 0, warn: 1, error: 0, never: 1 });
    });
  });

  describe('tableRangeAges', () => {
    const node = (n: number, tokens: string[]): NodeInfo => ({
      hostId: `00000000-0000-0000-0000-00000000000${n}`,
      address: `127.0.0.${n}`,
      datacenter: 'dc1',
      rack: 'r1',
      tokens,
      up: true,
    });
    // Four nodes, two tokens each: eight vnodes, one wrapping (400, -400]. RF 2: node1 replicates four of them.
    const nodes = [
      node(1, ['-400', '0']),
      node(2, ['-300', '100']),
      node(3, ['-200', '200']),
      node(4, ['-100', '300']),
    ];
    const input = (history: PlanInput['history']): PlanInput => ({
      now: NOW,
      localHostId: nodes[0]!.hostId,
      tables: [
        {
          keyspace: 'ks',
          table: 't',
          enabled: true,
          ...LIMITS,
          weight: 1,
          repairType: 'vnode',
          parallelism: 'parallel',
        },
      ],
      topology: { nodes, keyspaces: { ks: { class: 'SimpleStrategy', replicationFactor: 2 } } },
      history,
      limits: { maxTasks: 10 },
    });
    const entry = (start: string, end: string, daysAgo: number, status = 'SUCCESS') => ({
      start,
      end,
      finishedAt: NOW - daysAgo * DAY,
      status,
    });

    it('gives every range of the ring in order, local or not, with its last successful repair and sub-range pieces', () => {
      const ages = tableRangeAges(
        input({
          'ks.t': [
            entry('-400', '-300', 1),
            entry('-300', '-200', 3, 'FAILED'),
            // Half of (-100, 0], nine days ago; the other half never.
            entry('-100', '-50', 9),
            entry('300', '400', 12),
          ],
        }),
        'ks',
        't',
      )!;
      const text = ages.map(
        (a) =>
          `${a.range.start}:${a.range.end} ${a.local ? 'L' : '-'} ${a.repairedAt === null ? 'never' : (NOW - a.repairedAt) / DAY}`,
      );
      // node1 replicates (300, -400] and (-100, 0] (primary) and (200, 300], (-200, -100] (the next node's).
      // The wrapping vnode and (-100, 0] have sub-range history: each is given as its pieces.
      expect(text).to.deep.equal([
        '300:400 L 12',
        '400:-400 L never',
        '-400:-300 - 1',
        '-300:-200 - never',
        '-200:-100 L never',
        '-100:-50 L 9',
        '-50:0 L never',
        '0:100 - never',
        '100:200 - never',
        '200:300 L never',
      ]);
    });

    it("agrees with the planner: the oldest local range is the job's last repair, and as many are behind", () => {
      const history = {
        'ks.t': [
          entry('300', '-400', 1),
          entry('-200', '-100', 8),
          entry('-100', '0', 2),
          entry('200', '300', 7.5),
          entry('-400', '-300', 30),
        ],
      };
      const ages = tableRangeAges(input(history), 'ks', 't')!;
      const local = ages.filter((a) => a.local);
      const job = plan(input(history)).jobs[0]!;
      expect(job.lastRepairedAt).to.equal(Math.min(...local.map((a) => a.repairedAt!)));
      expect(job.lastRepairedAt).to.equal(NOW - 8 * DAY);
      expect(local.filter((a) => NOW - a.repairedAt! >= LIMITS.intervalMs)).to.have.length(job.rangesBehind);
      expect(job.rangesBehind).to.equal(2);
    });

    it('is undefined for a keyspace the topology does not know', () => {
      expect(tableRangeAges(input({}), 'other', 't')).to.equal(undefined);
    });
  });
});
