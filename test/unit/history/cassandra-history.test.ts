import { expect } from 'chai';
import {
  parentEntries,
  sessionEntry,
  type ParentSession,
  type SessionRow,
} from '../../../src/history/cassandra-history.js';
import { buildRing, foldTableHistory } from '../../../src/core/index.js';

// Captured from the sandbox (Cassandra 5.0.8): a `nodetool repair -full KS TABLE` on node1, whose wrapping vnode
// Cassandra splits at the minimum token.
const PARENT: ParentSession = {
  parentId: '51b349f0-e5e2-11f1-b995-39729c8944ca',
  keyspace: 'shop',
  tables: ['orders'],
  requestedRanges: [
    '(-9223372036854775808,-8839064868652493483]',
    '(8839064868652493482,-9223372036854775808]',
    '(0,384307168202282325]',
  ],
  successfulRanges: [
    '(-9223372036854775808,-8839064868652493483]',
    '(8839064868652493482,-9223372036854775808]',
    '(0,384307168202282325]',
    'garbage',
  ],
  startedAt: 1000,
  finishedAt: 5000,
  message: null,
  options: { parallelism: 'parallel' },
};

describe('system_distributed history rows', () => {
  it('expands a finished parent into one entry per successful range of the table', () => {
    const { entries, malformed } = parentEntries(PARENT, 'orders');
    expect(malformed).to.equal(1);
    expect(entries).to.deep.equal([
      { start: '-9223372036854775808', end: '-8839064868652493483', finishedAt: 5000, status: 'SUCCESS' },
      { start: '8839064868652493482', end: '-9223372036854775808', finishedAt: 5000, status: 'SUCCESS' },
      { start: '0', end: '384307168202282325', finishedAt: 5000, status: 'SUCCESS' },
    ]);
  });

  it('gives nothing for another table or an unfinished parent', () => {
    expect(parentEntries(PARENT, 'customers').entries).to.deep.equal([]);
    expect(parentEntries({ ...PARENT, finishedAt: null }, 'orders').entries).to.deep.equal([]);
  });

  it('the two halves of a wrapping vnode split at the minimum token count as the whole vnode', () => {
    const ring = buildRing([
      { hostId: 'a', address: 'a', datacenter: 'dc1', rack: 'r', tokens: ['-8839064868652493483', '0'], up: true },
      {
        hostId: 'b',
        address: 'b',
        datacenter: 'dc1',
        rack: 'r',
        tokens: ['384307168202282325', '8839064868652493482'],
        up: true,
      },
    ]);
    const history = foldTableHistory(ring, parentEntries(PARENT, 'orders').entries);
    // ranges[0] is the wrapping vnode (8839064868652493482, -8839064868652493483].
    expect(history.repairedAt[0]).to.equal(5000);
  });

  it('a session row is its one surviving range', () => {
    const row: SessionRow = {
      keyspace: 'shop',
      table: 'orders',
      id: 'x',
      idTime: 1,
      parentId: null,
      coordinator: '127.0.0.1',
      participants: [],
      start: '1',
      end: '2',
      status: 'STARTED',
      startedAt: 1,
      finishedAt: null,
      message: null,
    };
    expect(sessionEntry(row)).to.deep.equal({ start: '1', end: '2', finishedAt: null, status: 'STARTED' });
  });
});
