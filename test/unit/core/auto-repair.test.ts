/**
 * Issue 15 item 4: whether Cassandra's AutoRepair repairs a table on a node, from rows captured on the 5.0.8 sandbox
 * started with TEND_SANDBOX_AUTOREPAIR=1 (system_views.settings, system_schema.tables.auto_repair).
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import {
  autoRepairCoverage,
  parseAutoRepairSettings,
  parseOverrides,
  withAutoRepairSkips,
} from '../../../src/core/auto-repair.js';

function settings(name: string): Record<string, string | null> {
  const file = JSON.parse(
    readFileSync(new URL(`../../fixtures/cassandra/5.0.8/${name}.json`, import.meta.url), 'utf8'),
  ) as { rows: { name: string; value: string | null }[] };
  return Object.fromEntries(file.rows.map((r) => [r.name, r.value]));
}
const tables = (
  JSON.parse(
    readFileSync(new URL('../../fixtures/cassandra/5.0.8/schema-tables-auto-repair.json', import.meta.url), 'utf8'),
  ) as { rows: { table_name: string; auto_repair: Record<string, string> | null }[] }
).rows;
const option = (table: string) => tables.find((t) => t.table_name === table)!.auto_repair;

describe('core/auto-repair: AutoRepair coexistence', () => {
  it('reads the sandbox configuration: scheduler on, full repairs on, incremental and preview off', () => {
    const node = parseAutoRepairSettings(settings('settings-auto-repair-on'))!;
    expect(node.enabled).to.equal(true);
    expect(node.types.full.enabled).to.equal(true);
    expect(node.types.incremental.enabled).to.equal(false);
  });

  it('a table without the option (null) and a table with full_enabled are covered; full_enabled=false is not', () => {
    const node = parseAutoRepairSettings(settings('settings-auto-repair-on'));
    expect(autoRepairCoverage(node, 'dc1', option('t'))?.types).to.deep.equal(['full']);
    expect(autoRepairCoverage(node, 'dc1', option('ar_new'))?.types).to.deep.equal(['full']);
    expect(autoRepairCoverage(node, 'dc1', option('ar_off'))).to.equal(undefined);
    expect(autoRepairCoverage(node, 'dc1', option('t'))?.reason).to.match(
      /^Cassandra's AutoRepair runs full repairs of this table on this node .*table option auto_repair not set: enabled/,
    );
  });

  it('a datacenter in ignore_dcs is not covered there (nodetool setautorepairconfig ignore_dcs dc2,dc3)', () => {
    const node = parseAutoRepairSettings(settings('settings-auto-repair-ignore-dcs'));
    expect(autoRepairCoverage(node, 'dc2', option('t'))).to.equal(undefined);
    expect(autoRepairCoverage(node, 'dc1', option('t'))?.types).to.deep.equal(['full']);
  });

  it('a node without AutoRepair (4.1, 5.0 before 5.0.7: no auto_repair.* settings) is not covered', () => {
    expect(parseAutoRepairSettings({ data_file_directories: '[/d]' })).to.equal(undefined);
    expect(autoRepairCoverage(undefined, 'dc1', null)).to.equal(undefined);
    const off = parseAutoRepairSettings({ ...settings('settings-auto-repair-on'), 'auto_repair.enabled': 'false' });
    expect(autoRepairCoverage(off, 'dc1', null)).to.equal(undefined);
  });

  it('the plan input: covered tables get the auto_repair skip with the reason; other skips and other tables stay', () => {
    const node = parseAutoRepairSettings(settings('settings-auto-repair-on'));
    const options = new Map(tables.map((t) => [`ks.${t.table_name}`, t.auto_repair]));
    const input = [
      { keyspace: 'ks', table: 't' },
      { keyspace: 'ks', table: 'ar_off' },
      { keyspace: 'ks', table: 'ar_new', skip: { code: 'gc_grace_zero', reason: 'gc_grace_seconds = 0' } },
      { keyspace: 'other', table: 'never_seen' },
    ];
    const out = withAutoRepairSkips(input, node, 'dc1', options);
    expect(out.map((t) => [t.table, (t.skip as { code?: string } | undefined)?.code])).to.deep.equal([
      ['t', 'auto_repair'],
      ['ar_off', undefined],
      ['ar_new', 'gc_grace_zero'],
      // Not in the schema read (null option): every type enabled, so covered.
      ['never_seen', 'auto_repair'],
    ]);
    expect((out[0]!.skip as { reason: string }).reason).to.match(/^Cassandra's AutoRepair runs full repairs/);
    // In an ignored datacenter, or with AutoRepair off, nothing is skipped.
    const ignoring = parseAutoRepairSettings(settings('settings-auto-repair-ignore-dcs'));
    expect(withAutoRepairSkips(input.slice(0, 2), ignoring, 'dc2', options).map((t) => t.skip)).to.deep.equal([
      undefined,
      undefined,
    ]);
    expect(withAutoRepairSkips(input.slice(0, 1), undefined, 'dc1', options)[0]!.skip).to.equal(undefined);
  });

  it('parses override bodies with nested braces', () => {
    const bodies = parseOverrides(
      '{full=Options{enabled=true, splitter=Splitter{a={b}}, ignore_dcs=[dc2]}, incremental=Options{enabled=null}}',
    );
    expect([...bodies.keys()]).to.deep.equal(['full', 'incremental']);
    expect(bodies.get('full')).to.equal('enabled=true, splitter=Splitter{a={b}}, ignore_dcs=[dc2]');
  });
});
