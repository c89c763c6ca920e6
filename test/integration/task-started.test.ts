/**
 * Issue 15 item 1: a task's start is recorded before its repair starts. A task whose process died keeps its
 * STARTED rows (one per table and range), which `history show` lists; a task that ended has its outcome in their
 * place, not beside them.
 */
import { expect } from 'chai';
import { NODES } from '../sandbox/src/layout.js';
import type cassandra from 'cassandra-driver';
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
    expect(started.map((r) => [r.status, r.start, r.finishedAt])).to.have.deep.members(
      RANGES.map((r) => ['STARTED', r.start, null]),
    );
    expect(new Set(started.map((r) => r.id)).size).to.equal(RANGES.length); // one row per range
    await recordTaskOutcome(client, TEND_KS, { ...ended, id, status: 'SUCCESS', finishedAt: ended.startedAt + 500 });
    const done = await rows('a', since);
    expect(done.map((r) => r.status)).to.deep.equal(['SUCCESS', 'SUCCESS', 'SUCCESS']);
    expect(done.map((r) => r.id).sort()).to.deep.equal(started.map((r) => r.id).sort());
    expect((await rows('b', since)).map((r) => r.status)).to.deep.equal(['SUCCESS', 'SUCCESS', 'SUCCESS']);

    // A second task whose process was killed after its start was recorded: nothing but STARTED, in history show.
    await recordTaskStarted(client, TEND_KS, start(Date.now() - 10_000, `${KS}.a#1`));
    const report = await historyShow(client, config, { scope: `${KS}.a`, sinceMs: 60_000, coverage: false });
    const tend = report.sessions.filter((s) => s.source === 'tend');
    expect(tend.map((s) => s.status)).to.include('STARTED');
    expect(tend.map((s) => s.status)).to.include('SUCCESS');
  });
});
