/**
 * Multi-row reads return every row, not the first page: `ResultSet.rows` holds only one page (fetchSize rows)
 * and says nothing about the rest. Real sandbox, real driver paging.
 */
import { expect } from 'chai';
import cassandra from 'cassandra-driver';
import { allRows } from '../../src/cluster/session.js';
import { schemaStatements } from '../../src/cluster/tend-schema.js';
import { CassandraLeaseBackend } from '../../src/lease/cassandra.js';
import { cqlClient } from '../support/sandbox-clients.js';

const KS = `tend_it_paging_${Date.now().toString(36)}`;
/** More than the lease backend's page (1000 rows). */
const LEASES = 1100;

describe('CQL reads page through every row (real sandbox)', function () {
  this.timeout(120_000);
  let client: cassandra.Client;

  before(async function () {
    client = cqlClient();
    await client.connect();
    for (const statement of schemaStatements(KS, { class: 'NetworkTopologyStrategy', dc1: 2, dc2: 1 })) {
      await client.execute(statement);
    }
  });

  after(async function () {
    await client?.execute(`DROP KEYSPACE IF EXISTS ${KS}`).catch(() => undefined);
    await client?.shutdown();
  });

  it('allRows reads all pages: the same rows as one large page, with pages of 7 rows', async function () {
    const query = 'SELECT keyspace_name, table_name, column_name FROM system_schema.columns';
    const key = (row: cassandra.types.Row) =>
      `${String(row.get('keyspace_name'))}.${String(row.get('table_name'))}.${String(row.get('column_name'))}`;
    const oneLargePage = await client.execute(query, [], { fetchSize: 100_000 });
    const firstSmallPage = await client.execute(query, [], { fetchSize: 7 });
    expect(firstSmallPage.rows.length, 'a small page really is partial').to.equal(7);
    const paged = await allRows(client, query, [], { fetchSize: 7 });
    expect(oneLargePage.rows.length).to.be.greaterThan(100);
    expect(paged.map(key)).to.deep.equal(oneLargePage.rows.map(key));
  });

  it(`lease list and announcements return all ${LEASES} rows, more than a page`, async function () {
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < LEASES; i++) {
      const resource = `it/paging/${String(i).padStart(4, '0')}`;
      pending.push(
        client.execute(
          `INSERT INTO ${KS}.leases (resource, holder, holder_host, acquired_at, renewed_at, ttl_seconds, metadata) VALUES (?, 'h', 'host', toTimestamp(now()), toTimestamp(now()), 120, {}) USING TTL 120`,
          [resource],
          { prepare: true, consistency: cassandra.types.consistencies.all },
        ),
        client.execute(
          `INSERT INTO ${KS}.lease_priorities (resource, holder, priority, tie_breaker, announced_at) VALUES (?, 'h', 1, 0, toTimestamp(now())) USING TTL 120`,
          [resource],
          { prepare: true, consistency: cassandra.types.consistencies.all },
        ),
      );
      if (pending.length >= 128) await Promise.all(pending.splice(0));
    }
    await Promise.all(pending);
    const backend = new CassandraLeaseBackend(client, { keyspace: KS, scope: 'node', resolveTimeoutMs: 15_000 });
    expect((await backend.list()).length).to.equal(LEASES);
    expect((await backend.announcements()).length).to.equal(LEASES);
  });
});
