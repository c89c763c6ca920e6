/**
 * Issue 12 item 26: `history show` printed durations of 105 s and 2 m for tend tasks whose stored records span
 * 88 ms. Task ids (`ks.t#0`, `ks.t#adhoc`) repeat from one tick (or one ad hoc run) to the next, and the rows were
 * grouped by task id alone, so one "session" spanned several runs. Each run is its own session now.
 */
import { expect } from 'chai';
import type cassandra from 'cassandra-driver';
import { recordTaskOutcome, type TaskOutcome } from '../../src/history/tend-history.js';
import { historyShow } from '../../src/app/history-show.js';
import { openSession } from '../../src/cluster/session.js';
import { sandboxTendConfig } from '../support/sandbox-config.js';
import { createSmallKeyspace, createTendKeyspace, RUN } from '../support/tick-e2e.js';

const TEND_KS = `tend_it_history_sessions_${RUN}`;
const KS = `it_history_sessions_${RUN}`;

describe('history show: one session per run of a task (real sandbox)', function () {
  let client: cassandra.Client;
  const valid = sandboxTendConfig(1);
  const config = { ...valid, cassandra: { ...valid.cassandra, keyspace: TEND_KS } };

  before(async function () {
    client = await openSession(config, {});
    await createTendKeyspace(client, TEND_KS);
    await createSmallKeyspace(client, KS, { dc1: 2, dc2: 1 }, ['t']);
  });

  after(async function () {
    await client.execute(`DROP KEYSPACE IF EXISTS ${KS}`).catch(() => undefined);
    await client.execute(`DROP KEYSPACE IF EXISTS ${TEND_KS}`).catch(() => undefined);
    await client.shutdown();
  });

  it('a task id seen in two ticks and in two ad hoc runs gives four sessions of 88 ms each', async function () {
    const base = Date.now() - 600_000;
    const outcome = (startedAt: number, taskId: string, tickId?: string): TaskOutcome => ({
      keyspace: KS,
      tables: ['t'],
      ranges: [{ start: '-9223372036854775808', end: '0' }],
      status: 'FAILED',
      startedAt,
      finishedAt: startedAt + 88,
      coordinator: 'node1',
      participants: ['127.0.0.1', '127.0.0.2'],
      repairType: 'vnode',
      parallelism: 'parallel',
      message: 'Endpoint not alive',
      taskId,
      ...(tickId ? { tickId } : {}),
    });
    await recordTaskOutcome(client, TEND_KS, outcome(base + 512, `${KS}.t#0`, 'tick-a'));
    await recordTaskOutcome(client, TEND_KS, outcome(base + 105_512, `${KS}.t#0`, 'tick-b'));
    await recordTaskOutcome(client, TEND_KS, outcome(base + 200_000, `${KS}.t#adhoc`));
    await recordTaskOutcome(client, TEND_KS, outcome(base + 320_000, `${KS}.t#adhoc`));
    const report = await historyShow(client, config, { scope: `${KS}.t`, sinceMs: 3_600_000, coverage: false });
    const tend = report.sessions.filter((session) => session.source === 'tend');
    expect(tend.map((session) => session.durationMs)).to.deep.equal([88, 88, 88, 88]);
    expect(tend.map((session) => session.startedAt)).to.deep.equal([
      base + 320_000,
      base + 200_000,
      base + 105_512,
      base + 512,
    ]);
  });
});
