/**
 * Issue 15 item 1: a task's start is recorded before its repair starts. A task whose process died keeps its
 * STARTED row (one per table of the task), which `history show` lists; a task that ended has its outcome in its
 * place, not beside it, also when the outcome is split into records (SUCCESS for some ranges, TIMEOUT for the rest).
 */
import { expect } from 'chai';
import { NODES } from '../sandbox/src/layout.js';
import type cassandra from 'cassandra-driver';
import { replacingStart } from '../../src/app/record-outcome.js';
import {
  readTendHistory,
  recordTaskOutcome,
  recordTaskStarted,
  type TaskStart,
} from '../../src/history/tend-history.js';
import { historyShow } from '../../src/app/history-show.js';
import { openTestSession, sandboxTendConfig } from '../support/sandbox-config.js';
import { createSmallKeyspace, createTendKeyspace, RUN } from '../support/tick-e2e.js';

const TEND_KS = `tend_it_task_started_${RUN}`;
const KS = `it_task_started_${RUN}`;
const RANGES = [
  { start: '-9223372036854775808', end: '-100' },
  { start: '-100', end: '0' },
  { start: '0', end: '100' },
];

describe('a task recorded as STARTED before its repair (real sandbox)', function () {
  let client: cassandra.Client;
  const valid = sandboxTendConfig(1);
  const config = { ...valid, cassandra: { ...valid.cassandra, keyspace: TEND_KS } };

  before(async function () {
    client = await openTestSession(config);
    await createTendKeyspace(client, TEND_KS);
    await createSmallKeyspace(client, KS, { dc1: 2, dc2: 1 }, ['a', 'b']);
  });
  after(async function () {
    await client.execute(`DROP KEYSPACE IF EXISTS ${KS}`).catch(() => undefined);
    await client.execute(`DROP KEYSPACE IF EXISTS ${TEND_KS}`).catch(() => undefined);
    await client.shutdown();
  });

  async function rows(table: string, since: number) {
    const found = [];
    for await (const row of readTendHistory(client, TEND_KS, KS, table, since)) found.push(row);
    return found;
  }

  it('the outcome replaces the STARTED rows; a task that never ended stays STARTED and shows as such', async function () {
    const since = Date.now() - 60_000;
    const start = (startedAt: number, taskId: string): TaskStart => ({
      keyspace: KS,
      tables: ['a', 'b'],
      ranges: RANGES,
      startedAt,
      coordinator: 'node1',
      participants: [NODES[0]!.address, NODES[1]!.address],
      repairType: 'vnode',
      parallelism: 'parallel',
      tickId: 'tick-1',
      taskId,
    });
    const ended = start(Date.now() - 30_000, `${KS}.a#0`);
    const id = await recordTaskStarted(client, TEND_KS, ended);
    const started = await rows('a', since);
    // One row per table, not per range: 1 write here, 40 for a 40-table command (not 40 × its ranges).
    expect(started.map((r) => [r.status, r.start, r.finishedAt, r.id])).to.deep.equal([
      ['STARTED', RANGES[0]!.start, null, id],
    ]);
    expect(started[0]!.message).to.match(/^started: 3 range\(s\) of 2 tables; no outcome recorded yet/);
    expect((await rows('b', since)).map((r) => r.status)).to.deep.equal(['STARTED']);
    // The outcome, split as a timed-out task that confirmed two ranges is: SUCCESS for those, TIMEOUT for one.
    const split = replacingStart(
      [
        { ...ended, ranges: RANGES.slice(0, 2), status: 'SUCCESS', finishedAt: ended.startedAt + 500 },
        { ...ended, ranges: RANGES.slice(2), status: 'TIMEOUT', finishedAt: ended.startedAt + 500 },
      ],
      id,
    );
    for (const record of split) await recordTaskOutcome(client, TEND_KS, record);
    for (const table of ['a', 'b']) {
      const done = await rows(table, since);
      expect(done.map((r) => `${r.status} ${r.start}`).sort(), table).to.deep.equal(
        [`SUCCESS ${RANGES[0]!.start}`, `SUCCESS ${RANGES[1]!.start}`, `TIMEOUT ${RANGES[2]!.start}`].sort(),
      );
      expect(done.map((r) => r.id)).to.include(id);
    }

    // A second task whose process was killed after its start was recorded: nothing but STARTED, in history show.
    await recordTaskStarted(client, TEND_KS, start(Date.now() - 10_000, `${KS}.a#1`));
    const report = await historyShow(client, config, { scope: `${KS}.a`, sinceMs: 60_000, coverage: false });
    const tend = report.sessions.filter((s) => s.source === 'tend');
    // The ended task is one session (its worst status), the killed one another: STARTED, its message says why.
    expect(tend.map((s) => [s.id, s.status])).to.deep.equal([
      [`${KS}.a#1`, 'STARTED'],
      [`${KS}.a#0`, 'TIMEOUT'],
    ]);
    expect(tend[0]!.message).to.include('the tend process that ran it died');
  });
});
