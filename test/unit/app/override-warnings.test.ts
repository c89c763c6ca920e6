/** Issue 12 item 23: a repair.tables entry that matches no table is reported, with its index and match. */
import { expect } from 'chai';
import { overrideWarnings } from '../../../src/app/plan-input.js';
import { unmatchedOverrides } from '../../../src/config/tables.js';

const topology = {
  keyspaceInfo: {
    shop: { name: 'shop', tables: ['orders', 'Items'] },
    audit: { name: 'audit', tables: ['events'] },
  },
} as never;

describe('repair.tables entries that match no table', function () {
  it('exact and regex entries that match nothing are named by index and match; the rest are not', function () {
    const entries = [
      { match: 'shop.orders' },
      { match: 'shop.order' },
      { match: '/^audit\\./' },
      { match: '/^billing\\./' },
      { match: 'shop.items' },
    ];
    expect(
      unmatchedOverrides(entries, [
        { keyspace: 'shop', table: 'orders' },
        { keyspace: 'shop', table: 'Items' },
        { keyspace: 'audit', table: 'events' },
      ]),
    ).to.deep.equal([
      { index: 1, match: 'shop.order' },
      { index: 3, match: '/^billing\\./' },
      { index: 4, match: 'shop.items', didYouMean: 'shop.Items' },
    ]);
    const warnings = overrideWarnings(entries, topology);
    expect(warnings).to.deep.equal([
      'repair.tables[1]: match shop.order matches no table, so it has no effect (a typo, or a table that was dropped?)',
      'repair.tables[3]: match /^billing\\./ matches no table, so it has no effect (a typo, or a table that was dropped?)',
      'repair.tables[4]: match shop.items matches no table, so it has no effect; exact matches are case-sensitive: did you mean shop.Items?',
    ]);
  });
});
