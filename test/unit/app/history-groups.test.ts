/** historyGroups: which tables' histories are read with one request. */
import { expect } from 'chai';
import { historyGroups } from '../../../src/app/plan-input.js';

describe('historyGroups', () => {
  it('groups the tables of one keyspace, at most `size` per group, in the jobs order', () => {
    const jobs = [
      { keyspace: 'shop', table: 'a' },
      { keyspace: 'logs', table: 'x' },
      { keyspace: 'shop', table: 'b' },
      { keyspace: 'shop', table: 'c' },
      { keyspace: 'logs', table: 'y' },
    ];
    expect(historyGroups(jobs, 2)).to.deep.equal([
      { keyspace: 'shop', tables: ['a', 'b'] },
      { keyspace: 'shop', tables: ['c'] },
      { keyspace: 'logs', tables: ['x', 'y'] },
    ]);
  });

  it('covers every table exactly once', () => {
    const jobs = Array.from({ length: 103 }, (_, i) => ({ keyspace: `ks${i % 3}`, table: `t${i}` }));
    const groups = historyGroups(jobs, 20);
    expect(groups.every((g) => g.tables.length >= 1 && g.tables.length <= 20)).to.equal(true);
    const seen = groups.flatMap((g) => g.tables.map((t) => `${g.keyspace}.${t}`)).sort();
    expect(seen).to.deep.equal(jobs.map((j) => `${j.keyspace}.${j.table}`).sort());
  });

  it('is empty when nothing is scheduled', () => {
    expect(historyGroups([], 20)).to.deep.equal([]);
  });
});
