import { expect } from 'chai';
import { tablesRepairedByCommand, type CommandSessionRow } from '../../../src/core/command-sessions.js';

const row = (table: string, sessionId: string, status: string, parentId: string | null = 'p1'): CommandSessionRow => ({
  table,
  sessionId,
  parentId,
  status,
});

describe('core/command-sessions: which tables a failed multi-table command repaired', () => {
  it('a table counts when every session of its command succeeded for it', () => {
    const rows = [
      row('a', 's1', 'SUCCESS'),
      row('a', 's2', 'SUCCESS'),
      row('b', 's1', 'SUCCESS'),
      row('b', 's2', 'FAILED'),
      row('c', 's1', 'SUCCESS'),
      row('c', 's2', 'STARTED'),
    ];
    expect(tablesRepairedByCommand(['a', 'b', 'c'], rows)).to.deep.equal(['a']);
  });

  it('a table without a row in one of the sessions is not confirmed', () => {
    const rows = [row('a', 's1', 'SUCCESS'), row('a', 's2', 'SUCCESS'), row('b', 's1', 'SUCCESS')];
    expect(tablesRepairedByCommand(['a', 'b'], rows)).to.deep.equal(['a']);
  });

  it('nothing recorded, or rows without a parent: nothing is claimed', () => {
    expect(tablesRepairedByCommand(['a'], [])).to.deep.equal([]);
    expect(tablesRepairedByCommand(['a'], [row('a', 's1', 'SUCCESS', null)])).to.deep.equal([]);
  });

  it('judges each command on its own; the order of the tables asked for is kept', () => {
    const rows = [
      row('b', 's1', 'SUCCESS', 'p1'),
      row('a', 's1', 'FAILED', 'p1'),
      row('a', 's9', 'SUCCESS', 'p2'),
      row('b', 's9', 'FAILED', 'p2'),
    ];
    expect(tablesRepairedByCommand(['b', 'a'], rows)).to.deep.equal(['b', 'a']);
  });
});
