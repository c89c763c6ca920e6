/**
 * The Cassandra backend never assumes the outcome of an ambiguous conditional write: a CAS write timeout is
 * resolved by a serial read. The client here is a hand-written fake of the two calls the backend makes.
 */
import { expect } from 'chai';
import type cassandra from 'cassandra-driver';
import { CassandraLeaseBackend, classifyCasError } from '../../../src/lease/cassandra.js';
import { ClusterUnavailable } from '../../../src/errors.js';

const casTimeout = Object.assign(new Error('Operation timed out - received only 0 responses'), {
  name: 'ResponseError',
  code: 0x1100,
  writeType: 'CAS',
});
const unavailableError = Object.assign(new Error('Cannot achieve consistency level SERIAL'), {
  name: 'ResponseError',
  code: 0x1000,
});

interface Call {
  query: string;
  params: unknown[];
  options: { consistency?: number; serialConsistency?: number };
}

function fakeClient(answer: (call: Call, calls: Call[]) => unknown): { client: cassandra.Client; calls: Call[] } {
  const calls: Call[] = [];
  const client = {
    execute: async (query: string, params: unknown[], options: Call['options']) => {
      const call = { query, params, options };
      calls.push(call);
      const result = answer(call, calls);
      if (result instanceof Error) throw result;
      return result;
    },
  } as unknown as cassandra.Client;
  return { client, calls };
}

function rowsResult(rows: Array<Record<string, unknown>>, applied?: boolean) {
  const wrapped = rows.map((row) => ({ get: (key: string) => row[key] }));
  return { rows: wrapped, first: () => wrapped[0] ?? null, wasApplied: () => applied ?? true };
}

describe('cassandra lease backend: ambiguous outcomes', function () {
  it('classifies driver errors', function () {
    expect(classifyCasError(casTimeout)).to.equal('unknown');
    expect(classifyCasError({ name: 'OperationTimedOutError' })).to.equal('unknown');
    expect(classifyCasError({ code: 0x1700 })).to.equal('unknown');
    expect(classifyCasError(unavailableError)).to.equal('unavailable');
    expect(classifyCasError({ name: 'NoHostAvailableError' })).to.equal('unavailable');
    expect(classifyCasError(new Error('syntax'))).to.equal('other');
  });

  for (const [name, ours, expected] of [
    ['the serial read shows our lease: acquired', true, true],
    ['the serial read shows another holder: not acquired', false, false],
  ] as const) {
    it(`CAS write timeout on acquire, ${name}`, async function () {
      const { client, calls } = fakeClient((call, all) => {
        if (call.query.startsWith('INSERT')) return casTimeout;
        const insert = all.find((c) => c.query.startsWith('INSERT'))!;
        const meta = insert.params[6] as Record<string, string>;
        return rowsResult([
          {
            resource: 'r',
            holder: ours ? 'me' : 'other',
            holder_host: 'h',
            metadata: { lease_id: ours ? meta.lease_id : 'someone-else' },
            ttl_seconds: 10,
            ttl_left: 9,
          },
        ]);
      });
      const backend = new CassandraLeaseBackend(client, { keyspace: 'tend', scope: 'datacenter' });
      const result = await backend.tryAcquire('r', { name: 'me', host: 'h' }, 10_000);
      expect(result.acquired).to.equal(expected);
      const read = calls.find((call) => call.query.startsWith('SELECT'))!;
      // LOCAL_SERIAL (0x09) for the datacenter scope.
      expect(read.options.consistency).to.equal(0x09);
    });
  }

  it('node scope uses SERIAL for the write and the resolving read', async function () {
    const { client, calls } = fakeClient((call) => (call.query.startsWith('INSERT') ? casTimeout : rowsResult([])));
    const backend = new CassandraLeaseBackend(client, { keyspace: 'tend', scope: 'node' });
    const result = await backend.tryAcquire('r', { name: 'me', host: 'h' }, 10_000);
    expect(result.acquired).to.equal(false);
    expect(calls[0]!.options.serialConsistency).to.equal(0x08);
    expect(calls[1]!.options.consistency).to.equal(0x08);
  });

  it('when even the serial read fails, the attempt fails with ClusterUnavailable (never assumed)', async function () {
    const { client } = fakeClient((call) => (call.query.startsWith('INSERT') ? casTimeout : unavailableError));
    const backend = new CassandraLeaseBackend(client, { keyspace: 'tend', scope: 'node', resolveTimeoutMs: 200 });
    const error = await backend.tryAcquire('r', { name: 'me', host: 'h' }, 10_000).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ClusterUnavailable);
    expect((error as Error).message).to.include('outcome is unknown');
  });

  it('a renewal with an unknown outcome takes the expiry from the server TTL', async function () {
    const { client } = fakeClient((call) =>
      call.query.startsWith('UPDATE')
        ? casTimeout
        : rowsResult([{ resource: 'r', holder: 'me', metadata: { lease_id: 'L' }, ttl_seconds: 10, ttl_left: 3 }]),
    );
    const backend = new CassandraLeaseBackend(client, { keyspace: 'tend', scope: 'node' });
    const lease = {
      resource: 'r',
      holder: { name: 'me', host: 'h' },
      leaseId: 'L',
      ttlMs: 10_000,
      acquiredAt: new Date(),
      expiresAt: new Date(Date.now() + 10_000),
      metadata: {},
    };
    const result = await backend.renew(lease);
    expect(result.renewed).to.equal(true);
    if (result.renewed) expect(result.expiresAt.getTime() - Date.now()).to.be.within(2000, 3100);
  });

  it('Unavailable on acquire is ClusterUnavailable (exit 5)', async function () {
    const { client } = fakeClient(() => unavailableError);
    const backend = new CassandraLeaseBackend(client, { keyspace: 'tend', scope: 'datacenter' });
    const error = await backend.tryAcquire('r', { name: 'me', host: 'h' }, 10_000).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ClusterUnavailable);
    expect((error as ClusterUnavailable).exitCode).to.equal(5);
  });
});
