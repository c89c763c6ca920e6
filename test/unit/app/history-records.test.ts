/** An outcome as tend history rows: SUCCESS for the confirmed ranges and tables, the task's status for the rest. */
import { expect } from 'chai';
import type { RepairOutcome } from '../../../src/repair/executor.js';
import { historyRecords } from '../../../src/app/history-records.js';
import { replacingStart } from '../../../src/app/record-outcome.js';

const R = (n: number) => ({ start: String(n * 10), end: String(n * 10 + 10) });

describe('history records from an outcome', function () {
  const base: RepairOutcome = {
    taskId: 'shop.orders#1',
    keyspace: 'shop',
    tables: ['orders'],
    status: 'success',
    startedAt: 1000,
    finishedAt: 2000,
    ranges: [R(1), R(2), R(3)],
    rangesRepaired: [R(1), R(2), R(3)],
    participants: ['10.0.0.1', '10.0.0.2'],
    message: '3 of 3 ranges repaired',
    commands: ['#4'],
  };
  const planned = { repairType: 'vnode' as const, parallelism: 'parallel' as const };

  it('success: one SUCCESS record with every range', function () {
    const records = historyRecords(planned, base, { coordinator: 'node1', tickId: 't1' });
    expect(records).to.have.length(1);
    expect(records[0]).to.include({ status: 'SUCCESS', coordinator: 'node1', tickId: 't1', taskId: 'shop.orders#1' });
    expect(records[0]!.ranges).to.deep.equal([R(1), R(2), R(3)]);
  });

  it('timed out after two ranges: SUCCESS for those, TIMEOUT for the rest', function () {
    const records = historyRecords(
      planned,
      { ...base, status: 'timed_out', rangesRepaired: [R(1), R(2)] },
      { coordinator: 'node1' },
    );
    expect(records.map((r) => [r.status, r.ranges])).to.deep.equal([
      ['SUCCESS', [R(1), R(2)]],
      ['TIMEOUT', [R(3)]],
    ]);
  });

  it('aborted before any range: one ABORTED record', function () {
    const records = historyRecords(planned, { ...base, status: 'aborted', rangesRepaired: [] }, { coordinator: 'n' });
    expect(records.map((r) => r.status)).to.deep.equal(['ABORTED']);
    expect(records[0]!.ranges).to.have.length(3);
  });

  it('a failed command over several tables: SUCCESS for the tables Cassandra reported repaired, FAILED for the rest', function () {
    const records = historyRecords(
      planned,
      { ...base, tables: ['a', 'b', 'c'], status: 'failed', rangesRepaired: [], tablesRepaired: ['a', 'c'] },
      { coordinator: 'n' },
    );
    expect(records.map((r) => [r.status, r.tables, r.ranges.length])).to.deep.equal([
      ['SUCCESS', ['a', 'c'], 3],
      ['FAILED', ['b'], 3],
    ]);
    const none = historyRecords(
      planned,
      { ...base, tables: ['a', 'b'], status: 'failed', rangesRepaired: [], tablesRepaired: [] },
      { coordinator: 'n' },
    );
    expect(none.map((r) => [r.status, r.tables])).to.deep.equal([['FAILED', ['a', 'b']]]);
  });

  it("under a STARTED id: each table's first record takes the id, a later record of it continues after", function () {
    const split = historyRecords(
      planned,
      { ...base, status: 'timed_out', rangesRepaired: [R(1), R(2)] },
      { coordinator: 'node1' },
    );
    expect(replacingStart(split, 'start').map((r) => [r.status, r.id, r.firstIndex])).to.deep.equal([
      ['SUCCESS', 'start', 0],
      ['TIMEOUT', 'start', 2],
    ]);
    const byTable = historyRecords(
      planned,
      { ...base, tables: ['a', 'b', 'c'], status: 'failed', rangesRepaired: [R(1)], tablesRepaired: ['a'] },
      { coordinator: 'n' },
    );
    // a's SUCCESS, then b and c split into SUCCESS for R(1) and FAILED for the rest: b and c start at 0 too.
    expect(replacingStart(byTable, 'start').map((r) => [r.tables, r.status, r.firstIndex])).to.deep.equal([
      [['a'], 'SUCCESS', 0],
      [['b', 'c'], 'SUCCESS', 0],
      [['b', 'c'], 'FAILED', 1],
    ]);
  });
});
