/** The state after a batch, from the folded history plus the ranges the batch repaired (issue 12 item 25). */
import { expect } from 'chai';
import { buildRing, foldTableHistory, withRepairs } from '../../../src/core/index.js';
import { syntheticNodes } from './synthetic.js';

describe('withRepairs: history plus what a batch just repaired', function () {
  const ring = buildRing(syntheticNodes([{ name: 'dc1', nodes: 3 }], 4, 11));
  const vnode = (index: number) => ({ start: ring.startTexts[index]!, end: ring.endTexts[index]! });

  it('a repaired vnode gets the new time; other ranges and their sub-range pieces keep theirs', function () {
    const [r0, r1, r2] = [0, 1, 2].map(vnode) as [
      ReturnType<typeof vnode>,
      ReturnType<typeof vnode>,
      ReturnType<typeof vnode>,
    ];
    const start1 = BigInt(r1.start);
    const mid1 = (start1 + 1000n).toString();
    const history = foldTableHistory(ring, [
      { ...r0, finishedAt: 1000, status: 'SUCCESS' },
      { start: r1.start, end: mid1, finishedAt: 5_000_000, status: 'SUCCESS' },
      { start: mid1, end: r1.end, finishedAt: 20_000_000, status: 'SUCCESS' },
    ]);
    expect(history.pieces.get(1)).to.have.length(2);
    const after = withRepairs(history, [{ ...r2, finishedAt: 9_000_000, status: 'SUCCESS' }]);
    expect(after.repairedAt[0]).to.equal(1000);
    expect(after.repairedAt[1]).to.equal(5_000_000);
    expect(after.pieces.get(1)).to.deep.equal(history.pieces.get(1));
    expect(after.repairedAt[2]).to.equal(9_000_000);
    expect(after.repairedAt[3]).to.equal(-Infinity);
    expect(history.repairedAt[2], 'the input is not changed').to.equal(-Infinity);
  });

  it('a failed outcome is not a repair', function () {
    const history = foldTableHistory(ring, []);
    const after = withRepairs(history, [{ ...vnode(0), finishedAt: 1, status: 'FAILED' }]);
    expect(after.repairedAt[0]).to.equal(-Infinity);
  });
});
