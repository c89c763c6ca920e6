/**
 * readTableHistory against a hand-written fake of the driver: what is read (repair_state, sessions after the
 * watermark, parents by key), what is persisted, and where the watermark goes.
 */
import { expect } from 'chai';
import cassandra from 'cassandra-driver';
import { buildRing } from '../../../src/core/index.js';
import {
  readTableHistories,
  readTableHistory,
  sliceGroups,
  SAFETY_MARGIN_MS,
  SLICE_SPREAD_MS,
  WATERMARK_STEP_MS,
  type ParentCache,
} from '../../../src/history/table-history.js';

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
  /** Per table, when a test reads several at once (otherwise every table has `state` and `sessions`). */
  stateOf = new Map<string, Record<string, unknown>[]>();
  sessionsOf = new Map<string, Session[]>();
  parents = new Map<string, Record<string, unknown>>();
  stateWrites: unknown[][] = [];
  watermarks: number[] = [];
  queries: string[] = [];
  parentError: Error | undefined;

  async execute(query: string, params: unknown[] = []) {
    this.queries.push(query);
    // A real round trip: concurrent readers interleave here.
    await new Promise((resolve) => setImmediate(resolve));
    // Reads name their tables in an IN list: partition after partition, as Cassandra returns them.
    const tables = Array.isArray(params[1]) ? (params[1] as string[]) : [];
    if (query.includes('FROM "tend".repair_state')) {
      return result(
        tables.flatMap((table) => (this.stateOf.get(table) ?? this.state).map((r) => ({ table_name: table, ...r }))),
      );
    }
    if (query.includes('FROM system_distributed.repair_history')) {
      const after = (params[2] as Date).getTime();
      return result(
        tables.flatMap((table) =>
          (this.sessionsOf.get(table) ?? this.sessions)
            .filter((s) => s.id.getDate().getTime() > after)
            .map((s) => ({ ...s, keyspace_name: 'shop', columnfamily_name: table, coordinator: '10.0.0.1' })),
        ),
      );
    }
    if (query.includes('parent_repair_history')) {
      if (this.parentError) throw this.parentError;
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
  describe('parents shared by tables read at the same time', () => {
    const parent = uuid(NOW - 3 * HOUR);
    /** orders and customers read at the same time, sharing one parent cache. */
    const readEach = (client: FakeClient, shared: ParentCache) =>
      ['orders', 'customers'].map((table) =>
        readTableHistory(client as unknown as cassandra.Client, {
          ring,
          tendKeyspace: 'tend',
          keyspace: 'shop',
          table,
          now: NOW,
          lookbackMs: 30 * 24 * HOUR,
          parents: shared,
        }),
      );
    const withParent = () => {
      const client = new FakeClient();
      client.sessions = [session(NOW - 3 * HOUR, '0', '3000', 'SUCCESS', parent)];
      client.parents.set(parent.toString(), {
        parent_id: parent,
        keyspace_name: 'shop',
        columnfamily_names: ['orders', 'customers'],
        successful_ranges: ['(0,3000]', '(3000,6000]'],
        requested_ranges: ['(0,3000]', '(3000,6000]'],
        started_at: new Date(NOW - 3 * HOUR),
        finished_at: new Date(NOW - 2 * HOUR),
      });
      return client;
    };

    it('wait for one point read of the parent instead of each issuing their own', async () => {
      const client = withParent();
      const [orders, customers] = await Promise.all(readEach(client, new Map()));
      expect(client.queries.filter((q) => q.includes('parent_repair_history'))).to.have.length(1);
      for (const read of [orders!, customers!]) {
        expect([...read.history.repairedAt.slice(3, 5)]).to.deep.equal([NOW - 2 * HOUR, NOW - 2 * HOUR]);
      }
      expect(orders!.rowsRead.parents + customers!.rowsRead.parents).to.equal(1);
    });

    it('both fail with the error of the one read when it fails', async () => {
      const client = withParent();
      client.parentError = new Error('parent read timed out');
      const each = await Promise.allSettled(readEach(client, new Map()));
      expect(each.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : 'fulfilled'))).to.deep.equal([
        'parent read timed out',
        'parent read timed out',
      ]);
      expect(client.queries.filter((q) => q.includes('parent_repair_history'))).to.have.length(1);
    });
  });
});

describe('readTableHistories', () => {
  const watermarkRow = (at: number) => ({
    range_start: null,
    range_end: null,
    repaired_at: null,
    external_folded_before: new Date(at),
  });

  it('reads several tables with one request per source and folds each from its own watermark', async () => {
    const client = new FakeClient();
    // orders folded up to 3 h ago, customers up to 1 h ago: one slice from 3 h ago serves both.
    client.stateOf.set('orders', [watermarkRow(NOW - 3 * HOUR)]);
    client.stateOf.set('customers', [watermarkRow(NOW - HOUR)]);
    client.sessionsOf.set('orders', [session(NOW - 2 * HOUR, '0', '3000')]);
    client.sessionsOf.set('customers', [
      session(NOW - 2 * HOUR, '0', '3000'), // before customers' watermark: folded on an earlier tick
      session(NOW - HOUR / 2, '3000', '6000'),
    ]);
    client.sessionsOf.set('payments', [session(NOW - 2 * HOUR, '-3000', '0')]);

    const reads = await readTableHistories(client as unknown as cassandra.Client, {
      ring,
      tendKeyspace: 'tend',
      keyspace: 'shop',
      tables: ['orders', 'customers', 'payments'],
      now: NOW,
      lookbackMs: 30 * 24 * HOUR,
    });

    expect(client.queries.filter((q) => q.includes('repair_state'))).to.have.length(1);
    // orders and customers share a slice; payments (no watermark: from the lookback, 30 days) reads its own.
    expect(client.queries.filter((q) => q.includes('system_distributed.repair_history'))).to.have.length(2);
    expect([...reads.keys()]).to.deep.equal(['orders', 'customers', 'payments']);
    const orders = reads.get('orders')!;
    const customers = reads.get('customers')!;
    const payments = reads.get('payments')!;
    expect(orders.rowsRead.sessions).to.equal(1);
    expect(orders.history.repairedAt[3]).to.equal(NOW - 2 * HOUR + 1000);
    expect(customers.rowsRead.sessions).to.equal(1);
    expect(customers.history.repairedAt[3]).to.equal(-Infinity);
    expect(customers.history.repairedAt[4]).to.equal(NOW - HOUR / 2 + 1000);
    expect(customers.externalReadFrom).to.equal(NOW - HOUR);
    expect(payments.history.repairedAt[2]).to.equal(NOW - 2 * HOUR + 1000);
  });

  it('gives every table asked for a history, also one with nothing recorded', async () => {
    const client = new FakeClient();
    client.stateOf.set('orders', []);
    client.sessionsOf.set('orders', []);
    const reads = await readTableHistories(client as unknown as cassandra.Client, {
      ring,
      tendKeyspace: 'tend',
      keyspace: 'shop',
      tables: ['orders'],
      now: NOW,
      lookbackMs: 30 * 24 * HOUR,
    });
    expect(reads.get('orders')!.history.repairedAt.every((at) => at === -Infinity)).to.equal(true);
  });
});

describe('sliceGroups', () => {
  it('shares a slice among tables whose starts are within SLICE_SPREAD_MS of the oldest of them', () => {
    const groups = sliceGroups([
      ['b', NOW - HOUR],
      ['a', NOW - 2 * HOUR],
      ['fresh', NOW - 30 * 24 * HOUR],
      ['c', NOW - 2 * HOUR + SLICE_SPREAD_MS],
      ['d', NOW - 2 * HOUR + SLICE_SPREAD_MS + 1],
    ]);
    expect(groups).to.deep.equal([
      { tables: ['fresh'], from: NOW - 30 * 24 * HOUR },
      { tables: ['a', 'b', 'c'], from: NOW - 2 * HOUR },
      { tables: ['d'], from: NOW - 2 * HOUR + SLICE_SPREAD_MS + 1 },
    ]);
  });

  it('is empty for no tables', () => {
    expect(sliceGroups([])).to.deep.equal([]);
  });
});
