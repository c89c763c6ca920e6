import { expect } from 'chai';
import { filterIncrementalTasks } from '../../../src/app/repair-incremental.js';
import type { RepairedStateReader, TableRepairedState } from '../../../src/repair/index.js';

const AT = Date.UTC(2026, 10, 20);

function reader(states: Record<string, number | null>): RepairedStateReader & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    async read(keyspace, tables) {
      reads.push(`${keyspace}:${tables.join(',')}`);
      return tables.map((table): TableRepairedState => ({
        keyspace,
        table,
        percentRepaired: states[`${keyspace}.${table}`] ?? null,
        maxRepairedAt: AT,
      }));
    },
  };
}

const task = (keyspace: string, tables: string[], incremental: boolean) => ({
  id: `${keyspace}.${tables[0]}${tables.length > 1 ? `+${tables.length - 1}` : ''}#1`,
  keyspace,
  tables,
  incremental,
  reason: `${tables.length > 1 ? `${tables.length} tables of ${keyspace} in one command (${tables.join(', ')}); ` : ''}incremental repair of the whole table; due`,
});

describe('incremental eligibility applied to planned tasks', function () {
  it('drops fully repaired tables, keeps the rest, leaves full repairs alone; one read per keyspace', async function () {
    const states = reader({ 'shop.orders': 100, 'shop.carts': 40, 'shop.events': 100, 'logs.lines': 0 });
    const result = await filterIncrementalTasks(
      [
        task('shop', ['orders', 'carts'], true),
        task('shop', ['events'], true),
        task('logs', ['lines'], true),
        task('shop', ['orders'], false),
      ],
      states,
    );
    expect(result.tasks.map((t) => `${t.keyspace}:${t.tables.join(',')}:${t.incremental}`)).to.deep.equal([
      'shop:carts:true',
      'logs:lines:true',
      'shop:orders:false',
    ]);
    expect(result.skipped.map((d) => `${d.keyspace}.${d.table}`)).to.deep.equal(['shop.orders', 'shop.events']);
    // The narrowed command is named and explained by what it repairs.
    expect(result.tasks[0]).to.include({ id: 'shop.carts#1', reason: 'incremental repair of the whole table; due' });
    expect(result.skipped[0]!.reason).to.match(/^fully repaired/);
    expect(states.reads).to.deep.equal(['shop:carts,events,orders', 'logs:lines']);
  });

  it('a table the node does not report is repaired (unknown is never skipped)', async function () {
    const result = await filterIncrementalTasks([task('shop', ['new_table'], true)], reader({}));
    expect(result.tasks).to.have.length(1);
    expect(result.skipped).to.deep.equal([]);
  });

  it('no incremental task: nothing is read', async function () {
    const states = reader({});
    const result = await filterIncrementalTasks([task('shop', ['orders'], false)], states);
    expect(result.tasks).to.have.length(1);
    expect(states.reads).to.deep.equal([]);
  });
});
