/**
 * The coverage record in tend's keyspace (table coverage, schema v4): which instance covers which node, with the
 * claim's expiry. Only reads and writes rows: what is live, who conflicts and who is uncovered is src/core/coverage.ts.
 *
 * At QUORUM like the jobs, so `schedule status` on a node of another datacenter reads the claims a group instance
 * just wrote. Each row lives the claim's TTL plus COVERAGE_KEEP_MS (Cassandra's row TTL), so a lapsed claim still
 * says who covered the node last, and the table cleans itself.
 */
import type cassandra from 'cassandra-driver';
import { types } from 'cassandra-driver';
import { quoteIdentifier } from './tend-schema.js';
import { COVERAGE_KEEP_MS, type CoverageClaim } from '../core/index.js';

const QUORUM = { prepare: true, consistency: types.consistencies.quorum };

function time(value: unknown): number {
  return value instanceof Date ? value.getTime() : 0;
}

export class CassandraCoverageStore {
  private readonly ks: string;

  constructor(
    private readonly client: cassandra.Client,
    keyspace: string,
  ) {
    this.ks = quoteIdentifier(keyspace);
  }

  /** Every claim, live or lapsed (a row or two per node). */
  async read(): Promise<CoverageClaim[]> {
    const result = await this.client.execute(
      `SELECT host_id, instance, address, instance_host, kind, claimed_at, expires_at FROM ${this.ks}.coverage`,
      [],
      { ...QUORUM, fetchSize: 5000 },
    );
    return result.rows.map((row) => ({
      hostId: String(row.get('host_id')),
      instance: String(row.get('instance')),
      address: String(row.get('address') ?? ''),
      instanceHost: String(row.get('instance_host') ?? ''),
      kind: row.get('kind') === 'node' ? ('node' as const) : ('group' as const),
      claimedAt: time(row.get('claimed_at')),
      expiresAt: time(row.get('expires_at')),
    }));
  }

  /** Writes (or refreshes) `claims`. */
  async write(claims: readonly CoverageClaim[]): Promise<void> {
    await Promise.all(
      claims.map((claim) =>
        this.client.execute(
          `INSERT INTO ${this.ks}.coverage (host_id, instance, address, instance_host, kind, claimed_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?) USING TTL ?`,
          [
            claim.hostId,
            claim.instance,
            claim.address,
            claim.instanceHost,
            claim.kind,
            new Date(claim.claimedAt),
            new Date(claim.expiresAt),
            Math.ceil((claim.expiresAt - claim.claimedAt + COVERAGE_KEEP_MS) / 1000),
          ],
          QUORUM,
        ),
      ),
    );
  }

  /** Rows expire by themselves (their TTL); nothing to remove. */
  async remove(): Promise<void> {}

  async close(): Promise<void> {}
}
