/**
 * readTableHistory against a hand-written fake of the driver: what is read (repair_state, sessions after the
 * watermark, parents by key), what is persisted, and where the watermark goes.
 */
import { expect } from 'chai';
import cassandra from 'cassandra-driver';
import { buildRing } from '../../../src/core/index.js';
import { readTableHistory, SAFETY_MARGIN_MS, WATERMARK_STEP_MS } from '../../../src/history/table-history.js';

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 10, 21, 12);

const ring = buildRing([
  { hostId: 'a', address: '10.0.0.1', datacenter: 'dc1', rack: 'r1', tokens: ['-6000', '0', '6000'], up: true },
  { hostId: 'b', address: '10.0.0.2', datacenter: 'dc1', rack: 'r2', tokens: ['-3000', '3000', '9000'], up: true },
]);
// ranges: (9000,-6000] (-6000,-3000] (-3000,0] (0,3000] (3000,6000] (6000,9000]

interface Session {
  id: cassandra.types.TimeUuid;
  parent_id: cassandra.types.TimeUuid | null;
  range_begin: string;
  range_end: string;
  status: string;
  finished_at: Date | null;
}

function row(data: Record<string, unknown>) {
  return { get: (name: string) => data[name] ?? null };
}

function result(rows: Record<string, unknown>[]) {
  const wrapped = rows.map(row);
  return {
    rows: wrapped,
    first: () => wrapped[0] ?? null,
    async *[Symbol.asyncIterator]() {
      yield* wrapped;
    },
  };
}

class FakeClient {
  state: Record<string, unknown>[] = [];
  sessions: Session[] = [];
  parents = new Map<string, Record<string, unknown>>();
  stateWrites: unknown[][] = [];
  watermarks: number[] = [];
  queries: string[] = [];

  async execute(query: string, params: unknown[] = []) {
    this.queries.push(query);
    if (query.includes('FROM "tend".repair_state')) return result(this.state);
    if (query.includes('FROM system_distributed.repair_history')) {
      const after = (params[2] as Date).getTime();
      return result(
        this.sessions
          .filter((s) => s.id.getDate().getTime() > after)
          .map((s) => ({ ...s, keyspace_name: 'shop', columnfamily_name: 'orders', coordinator: '10.0.0.1' })),
      );
    }
    if (query.includes('parent_repair_history')) {
      const found = this.parents.get(String(params[0]));
      return result(found ? [found] : []);
    }
    if (query.includes('external_folded_before) VALUES')) {
      this.watermarks.push((params[2] as Date).getTime());
      return result([]);
    }
    throw new Error(`unexpected query ${query}`);
  }

  async batch(queries: { query: string; params: unknown[] }[]) {
    for (const q of queries) this.stateWrites.push(q.params);
  }
}

const uuid = (at: number) => cassandra.types.TimeUuid.fromDate(new Date(at));

function session(
  at: number,
  start: string,
  end: string,
  status = 'SUCCESS',
  parent: cassandra.types.TimeUuid | null = null,
): Session {
  return {
    id: uuid(at),
    parent_id: parent,
    range_begin: start,
    range_end: end,
    status,
    finished_at: status === 'SUCCESS' ? new Date(at + 1000) : null,
  };
}

async function read(client: FakeClient, persist = false) {
  return readTableHistory(client as unknown as cassandra.Client, {
    ring,
    tendKeyspace: 'tend',
    keyspace: 'shop',
    table: 'orders',
    now: NOW,
    lookbackMs: 30 * 24 * HOUR,
    persist,
    persistAs: 'node1',
  });
}

describe('readTableHistory', () => {
  it('folds repair_state and new sessions; persisting writes the successes and moves the watermark to now − margin', async () => {
    const client = new FakeClient();
    client.state = [
      { range_start: '0', range_end: '3000', repaired_at: new Date(NOW - 48 * HOUR), external_folded_before: null },
    ];
    client.sessions = [session(NOW - 10 * HOUR, '3000', '6000'), session(NOW - 9 * HOUR, '6000', '9000', 'FAILED')];
    const first = await read(client, true);
    expect(first.rowsRead).to.deep.equal({ state: 1, sessions: 2, parents: 0 });
    expect(first.history.repairedAt[3]).to.equal(NOW - 48 * HOUR);
    expect(first.history.repairedAt[4]).to.equal(NOW - 10 * HOUR + 1000);
    expect(first.history.repairedAt[5]).to.equal(-Infinity);
    expect(client.stateWrites.map((p) => [p[2], p[3], (p[4] as Date).getTime()])).to.deep.equal([
      ['3000', '6000', NOW - 10 * HOUR + 1000],
    ]);
    expect(client.watermarks).to.deep.equal([NOW - SAFETY_MARGIN_MS]);
  });

  it('persisting writes only what changes: a success already held is not rewritten, the watermark moves in steps', async () => {
    const client = new FakeClient();
    const watermark = NOW - SAFETY_MARGIN_MS - 5 * 60_000;
    const seen = NOW - SAFETY_MARGIN_MS - 60_000;
    client.state = [
      // What an earlier tick folded: the success at `seen`, and the watermark 5 minutes before it.
      { range_start: '3000', range_end: '6000', repaired_at: new Date(seen + 1000), external_folded_before: null },
      { range_start: null, range_end: null, repaired_at: null, external_folded_before: new Date(watermark) },
    ];
    client.sessions = [session(seen, '3000', '6000'), session(NOW - 10 * 60_000, '6000', '9000')];
    await read(client, true);
    expect(
      client.stateWrites.map((p) => [p[2], p[3]]),
      'only the new success',
    ).to.deep.equal([['6000', '9000']]);
    expect(client.watermarks, 'less than a step forward: not rewritten').to.deep.equal([]);

    client.state[1]!.external_folded_before = new Date(watermark - WATERMARK_STEP_MS);
    client.stateWrites = [];
    client.sessions = [session(seen, '3000', '6000')];
    await read(client, true);
    expect(client.stateWrites).to.deep.equal([]);
    expect(client.watermarks).to.deep.equal([NOW - SAFETY_MARGIN_MS]);
  });

  it('reads only sessions after the stored watermark', async () => {
    const client = new FakeClient();
    client.state = [
      { range_start: null, range_end: null, repaired_at: null, external_folded_before: new Date(NOW - 5 * HOUR) },
    ];
    client.sessions = [session(NOW - 10 * HOUR, '3000', '6000'), session(NOW - 2 * HOUR, '0', '3000')];
    const result = await read(client);
    expect(result.rowsRead.sessions).to.equal(1);
    expect(result.externalReadFrom).to.equal(NOW - 5 * HOUR);
    expect(result.history.repairedAt[3]).to.equal(NOW - 2 * HOUR + 1000);
    expect(client.watermarks, 'read-only by default').to.deep.equal([]);
  });

  it('a running session and an unfinished parent hold the watermark back; an abandoned one (> 1 day) does not', async () => {
    const client = new FakeClient();
    const parent = uuid(NOW - 8 * HOUR);
    client.sessions = [
      session(NOW - 30 * HOUR, '3000', '6000', 'STARTED'),
      session(NOW - 6 * HOUR, '6000', '9000', 'STARTED'),
      session(NOW - 8 * HOUR, '0', '3000', 'SUCCESS', parent),
    ];
    client.parents.set(parent.toString(), {
      parent_id: parent,
      keyspace_name: 'shop',
      columnfamily_names: ['orders'],
      successful_ranges: [],
      requested_ranges: ['(0,3000]'],
      started_at: new Date(NOW - 8 * HOUR),
      finished_at: null,
    });
    await read(client, true);
    expect(client.watermarks).to.deep.equal([NOW - 8 * HOUR - 1]);
  });

  it('expands a multi-range parent: every successful range counts, not only the one the session row kept', async () => {
    const client = new FakeClient();
    const parent = uuid(NOW - 3 * HOUR);
    client.sessions = [session(NOW - 3 * HOUR, '0', '3000', 'SUCCESS', parent)];
    client.parents.set(parent.toString(), {
      parent_id: parent,
      keyspace_name: 'shop',
      columnfamily_names: ['orders', 'customers'],
      successful_ranges: ['(0,3000]', '(3000,6000]', '(6000,9000]'],
      requested_ranges: ['(0,3000]', '(3000,6000]', '(6000,9000]'],
      started_at: new Date(NOW - 3 * HOUR),
      finished_at: new Date(NOW - 2 * HOUR),
    });
    const shared = new Map();
    const result = await readTableHistory(client as unknown as cassandra.Client, {
      ring,
      tendKeyspace: 'tend',
      keyspace: 'shop',
      table: 'orders',
      now: NOW,
      lookbackMs: 30 * 24 * HOUR,
      parents: shared,
    });
    expect([...result.history.repairedAt.slice(3)]).to.deep.equal([NOW - 2 * HOUR, NOW - 2 * HOUR, NOW - 2 * HOUR]);
    expect(result.rowsRead.parents).to.equal(1);
    // A second table of the same repair finds the parent in the plan's cache: no second read.
    const again = await readTableHistory(client as unknown as cassandra.Client, {
      ring,
      tendKeyspace: 'tend',
      keyspace: 'shop',
      table: 'orders',
      now: NOW,
      lookbackMs: 30 * 24 * HOUR,
      parents: shared,
    });
    expect(again.rowsRead.parents).to.equal(0);
    expect(client.queries.filter((q) => q.includes('parent_repair_history'))).to.have.length(1);
  });
});
