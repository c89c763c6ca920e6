/**
 * Issue 15 item 3: a table's schedule follows its schema where tend.yml leaves it open, each value says where it
 * came from, and gc_grace_seconds = 0 (and, on request, TWCS) tables are skipped with a reason.
 */
import { expect } from 'chai';
import { isTwcs, schemaSkip, tableSettings } from '../../../src/config/tables.js';
import { validateConfig } from '../../../src/config/validate.js';
import type { TendConfig } from '../../../src/config/schema.js';
import { plan, type TableSettings as CoreTableSettings } from '../../../src/core/planner.js';
import { coreTableSettings } from '../../../src/app/plan-input.js';

const SECOND = 1000;
const HOUR = 3600 * SECOND;
const DAY = 24 * HOUR;

function repairOf(repair: Record<string, unknown>): TendConfig['repair'] {
  const result = validateConfig({ repair });
  expect(result.errors).to.deep.equal([]);
  return (result.config as TendConfig).repair;
}

describe('config/tables: schedules that follow the schema', () => {
  it('gc_grace_seconds = 3600 gives an error alarm at 1h, warn at 80% and interval at 70% of it', () => {
    const settings = tableSettings(repairOf({}), 'ks', 't', { gcGraceMs: 3600 * SECOND });
    expect(settings.alarm).to.deep.equal({ warn: 48 * 60 * SECOND, error: HOUR });
    expect(settings.interval).to.equal(42 * 60 * SECOND);
    expect(settings.sources.error).to.deep.equal({ from: 'gc_grace', text: 'gc_grace_seconds' });
    expect(settings.sources.warn.text).to.equal('80% of gc_grace_seconds');
    expect(settings.sources.interval).to.deep.include({
      from: 'gc_grace',
      share: 0.7,
      text: '70% of gc_grace_seconds',
    });
  });

  it("the default gc_grace_seconds (10 days) gives tend's former defaults 7d / 8d / 10d", () => {
    const settings = tableSettings(repairOf({}), 'ks', 't', { gcGraceMs: 10 * DAY });
    expect([settings.interval, settings.alarm.warn, settings.alarm.error]).to.deep.equal([7 * DAY, 8 * DAY, 10 * DAY]);
  });

  it('a gc_grace_seconds beyond repair.historyLookback is capped at it, and says so', () => {
    const settings = tableSettings(repairOf({ historyLookback: '30d' }), 'ks', 't', { gcGraceMs: 60 * DAY });
    expect(settings.alarm.error).to.equal(30 * DAY);
    expect(settings.sources.error).to.deep.include({ from: 'gc_grace', capped: true });
  });

  it('configured values win, value by value, and name their key', () => {
    const repair = repairOf({
      interval: '2d',
      tables: [{ match: 'ks.t', alarm: { error: '5d' } }],
    });
    const settings = tableSettings(repair, 'ks', 't', { gcGraceMs: 3600 * SECOND });
    expect(settings.alarm.error).to.equal(5 * DAY);
    expect(settings.sources.error).to.deep.equal({
      from: 'config',
      key: 'repair.tables[0].alarm.error',
      text: 'repair.tables[0].alarm.error',
    });
    expect(settings.alarm.warn).to.equal(4 * DAY); // 80% of the entry's error alarm, not of gc_grace
    expect(settings.sources.warn.text).to.equal('80% of repair.tables[0].alarm.error');
    expect(settings.interval).to.equal(2 * DAY);
    expect(settings.sources.interval).to.deep.equal({
      from: 'config',
      key: 'repair.interval',
      text: 'repair.interval',
    });
  });

  it('unknown or zero gc_grace_seconds falls back to the default 10d, saying why', () => {
    const unknown = tableSettings(repairOf({}), 'ks', 't');
    expect(unknown.alarm.error).to.equal(10 * DAY);
    expect(unknown.sources.error.text).to.equal('default 10d (gc_grace_seconds unknown)');
    const zero = tableSettings(repairOf({ skipGcGraceZero: false }), 'ks', 't', { gcGraceMs: 0 });
    expect(zero.sources.error.text).to.equal('default 10d (gc_grace_seconds is 0)');
  });
});

describe('config/tables: tables the schema keeps off the schedule', () => {
  it('skips gc_grace_seconds = 0 by default, with the reason and the key that turns it off', () => {
    const schema = { gcGraceMs: 0 };
    const skip = schemaSkip(tableSettings(repairOf({}), 'ks', 't', schema), schema);
    expect(skip?.code).to.equal('gc_grace_zero');
    expect(skip?.reason).to.match(/^gc_grace_seconds is 0: .*skipGcGraceZero: false in repair/);
    expect(schemaSkip(tableSettings(repairOf({}), 'ks', 't', { gcGraceMs: SECOND }), { gcGraceMs: SECOND })).to.equal(
      undefined,
    );
  });

  it('repairs gc_grace_seconds = 0 when told to, globally or per entry', () => {
    const schema = { gcGraceMs: 0 };
    expect(schemaSkip(tableSettings(repairOf({ skipGcGraceZero: false }), 'ks', 't', schema), schema)).to.equal(
      undefined,
    );
    const perEntry = repairOf({ tables: [{ match: '/^ks\\./', skipGcGraceZero: false }] });
    expect(schemaSkip(tableSettings(perEntry, 'ks', 't', schema), schema)).to.equal(undefined);
    expect(schemaSkip(tableSettings(perEntry, 'other', 't', schema), schema)?.code).to.equal('gc_grace_zero');
  });

  it('skips TWCS tables only with skipTwcs', () => {
    const twcs = { gcGraceMs: DAY, compactionClass: 'org.apache.cassandra.db.compaction.TimeWindowCompactionStrategy' };
    expect(schemaSkip(tableSettings(repairOf({}), 'ks', 't', twcs), twcs)).to.equal(undefined);
    const skip = schemaSkip(tableSettings(repairOf({ skipTwcs: true }), 'ks', 't', twcs), twcs);
    expect(skip).to.deep.equal({
      code: 'twcs',
      reason: 'TimeWindowCompactionStrategy, and skipTwcs is true (repair.skipTwcs)',
    });
    const stcs = { gcGraceMs: DAY, compactionClass: 'org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy' };
    expect(schemaSkip(tableSettings(repairOf({ skipTwcs: true }), 'ks', 't', stcs), stcs)).to.equal(undefined);
    expect(isTwcs('TimeWindowCompactionStrategy')).to.equal(true);
    expect(isTwcs('com.example.NotTimeWindowCompactionStrategyX')).to.equal(false);
  });

  it('the planner lists a skipped table under skipped with its code and reason, and plans nothing for it', () => {
    const schema = { gcGraceMs: 0 };
    const resolved = tableSettings(repairOf({}), 'ks', 't', schema);
    const skip = schemaSkip(resolved, schema)!;
    const table: CoreTableSettings = { ...coreTableSettings('ks', 't', resolved), skip };
    const nodes = [1, 2, 3].map((i) => ({
      hostId: `h${i}`,
      address: `10.0.0.${i}`,
      datacenter: 'dc1',
      rack: 'r1',
      tokens: [String(i * 1000)],
      up: true,
    }));
    const result = plan({
      now: Date.UTC(2026, 11, 3),
      localHostId: 'h1',
      tables: [table],
      topology: { nodes, keyspaces: { ks: { class: 'SimpleStrategy', replicationFactor: 3 } } },
      history: {},
      limits: { maxTasks: 10 },
    });
    expect(result.skipped).to.deep.equal([{ keyspace: 'ks', table: 't', code: 'gc_grace_zero', reason: skip.reason }]);
    expect(result.tasks).to.deep.equal([]);
  });
});
