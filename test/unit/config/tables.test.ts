import { expect } from 'chai';
import { tableSettings } from '../../../src/config/tables.js';
import { validateConfig } from '../../../src/config/validate.js';
import type { TendConfig } from '../../../src/config/schema.js';

function repairOf(tables: unknown[]): TendConfig['repair'] {
  const result = validateConfig({ repair: { tables } });
  expect(result.errors).to.deep.equal([]);
  return (result.config as TendConfig).repair;
}

describe('config/tables: per-table override precedence', () => {
  const repair = repairOf([
    { match: '/^app\\./', weight: 2 },
    { match: '/^app\\.events/', weight: 3, interval: '1d' },
    { match: 'app.events', weight: 9 },
    { match: '/^scratch\\./', enabled: false },
  ]);

  const cases: Array<{ table: string; weight: number; enabled?: boolean; matchedBy: string | undefined }> = [
    { table: 'app.events', weight: 9, matchedBy: 'app.events' }, // exact beats every regex, even earlier ones
    { table: 'app.events_by_day', weight: 2, matchedBy: '/^app\\./' }, // first regex in file order wins
    { table: 'app.users', weight: 2, matchedBy: '/^app\\./' },
    { table: 'scratch.tmp', weight: 1, enabled: false, matchedBy: '/^scratch\\./' },
    { table: 'other.thing', weight: 1, matchedBy: undefined }, // no entry: the repair section
  ];
  for (const testCase of cases) {
    it(`${testCase.table} → ${testCase.matchedBy ?? 'defaults'}`, () => {
      const [keyspace, table] = testCase.table.split('.') as [string, string];
      const settings = tableSettings(repair, keyspace, table);
      expect(settings.weight).to.equal(testCase.weight);
      expect(settings.enabled).to.equal(testCase.enabled ?? true);
      expect(settings.matchedBy).to.equal(testCase.matchedBy);
    });
  }

  it('does not merge entries: keys the winning entry leaves out come from the repair section', () => {
    const settings = tableSettings(repair, 'app', 'events');
    // The regex entry with interval 1d does not apply: the interval is the default share of the error alarm.
    expect(settings.interval).to.equal(7 * 86_400_000);
    expect(settings.sources.interval.text).to.equal('70% of default 10d (gc_grace_seconds unknown)');
  });
});
