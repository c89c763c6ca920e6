/**
 * Leases in Cassandra with lightweight transactions (Paxos), as ecChronos does:
 *
 *   acquire  INSERT … IF NOT EXISTS USING TTL      (an expired row counts as absent)
 *   renew    UPDATE … USING TTL … IF holder = ? AND metadata['lease_id'] = ?   (every column rewritten, so all
 *            of them get the new TTL)
 *   release  DELETE … IF holder = ? AND metadata['lease_id'] = ?
 *
 * The lease id (a random UUID per acquisition) is in the condition as well as the holder name, so two tend
 * processes on one node (a tick and an ad hoc `repair table`) can never renew or release each other's lease.
 *
 * Scope picks the Paxos quorum: `datacenter` leases are only contended inside one DC, so LOCAL_SERIAL (commit at
 * LOCAL_QUORUM) suffices and keeps working when another DC is cut off; `node` leases are contended by nodes of
 * every DC, so they use SERIAL (commit at QUORUM).
 *
 * A conditional write that times out (WriteTimeout with write type CAS, a client-side timeout) may or may not
 * have been applied. We never assume either: a SERIAL/LOCAL_SERIAL read completes or supersedes any in-flight
 * Paxos round, so what it returns is the outcome. If even that read cannot be done, the attempt fails with
 * ClusterUnavailable: a lease we might hold lapses by its TTL, which is safe.
 */
import { randomUUID } from 'node:crypto';
import cassandra from 'cassandra-driver';
import { ClusterUnavailable } from '../errors.js';
import { sleep } from '../timers.js';
import { allRows, describeUnavailable, driverErrorOf } from '../cluster/session.js';
import { quoteIdentifier } from '../cluster/schema.js';
import {
  checkHolder,
  type AcquireResult,
  type Announcement,
  type BrokenLease,
  type ForceReleaseOptions,
  type HeldLease,
  type LeaseBackend,
  type LeaseHolder,
  type LeaseRecord,
  type RenewResult,
} from './types.js';

const { consistencies, responseErrorCodes } = cassandra.types;
const Long = cassandra.types.Long;

/** Cassandra's CAS_WRITE_UNKNOWN (protocol v5); under v4 the same case arrives as a WriteTimeout of type CAS. */
const CAS_WRITE_UNKNOWN = 0x1700;
/** Forced releases are kept this long for `lease status`. */
const BROKEN_RECORD_TTL_SECONDS = 7 * 86_400;
/** Rows under this prefix in `leases` are records of forced releases, not leases. */
export const BROKEN_PREFIX = 'broken:';
/** Priorities are doubles in core; stored as bigint with 6 decimal places. */
const PRIORITY_SCALE = 1e6;

export type LeaseScope = 'datacenter' | 'node';

export interface CassandraLeaseOptions {
  keyspace: string;
  scope: LeaseScope;
  /** How long resolving an unknown outcome may keep retrying the serial read. */
  resolveTimeoutMs?: number;
}

type Outcome = 'unknown' | 'unavailable' | 'other';

/** How a driver error bears on a conditional write. */
export function classifyCasError(error: unknown): Outcome {
  // The session maps driver errors to tend's (exit codes); the LWT outcome is decided by the driver's own error.
  const e = driverErrorOf(error) ?? (error as { name?: string; code?: number; writeType?: string });
  if (e.name === 'OperationTimedOutError') return 'unknown';
  if (e.code === responseErrorCodes.writeTimeout && e.writeType === 'CAS') return 'unknown';
  if (e.code === CAS_WRITE_UNKNOWN) return 'unknown';
  if (e.name === 'NoHostAvailableError' || e.name === 'BusyConnectionError') return 'unavailable';
  if (e.code === responseErrorCodes.unavailableException) return 'unavailable';
  // A write timeout of another type, or a read timeout, on a serial read: not enough replicas answered in time.
  if (e.code === responseErrorCodes.writeTimeout || e.code === responseErrorCodes.readTimeout) return 'unavailable';
  return 'other';
}

function unavailable(error: unknown, doing: string): ClusterUnavailable {
  const detail = describeUnavailable(error);
  return new ClusterUnavailable('cassandra', `${doing}: ${detail}`, {
    cause: error,
    hints: ['a lease needs a quorum of the replicas of tend’s keyspace (SERIAL, or LOCAL_SERIAL in the local DC)'],
  });
}

function toDate(value: unknown): Date {
  return value instanceof Date ? value : new Date(0);
}

function metadataOf(value: unknown): Record<string, string> {
  return value && typeof value === 'object' ? { ...(value as Record<string, string>) } : {};
}

/**
 * Cassandra TTLs are whole seconds counted from the coordinator's current second, truncated: a TTL of n can
 * lapse after only n-1 seconds and a bit. One extra second guarantees at least the configured ttl, so another
 * node never gets in early; the holder itself still counts from when it sent the write, without that second.
 */
function ttlSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000)) + 1;
}

export class CassandraLeaseBackend implements LeaseBackend {
  readonly kind = 'cassandra' as const;
  private readonly ks: string;
  private readonly serial: number;
  private readonly quorum: number;
  private readonly resolveTimeoutMs: number;

  constructor(
    private readonly client: cassandra.Client,
    options: CassandraLeaseOptions,
  ) {
    this.ks = quoteIdentifier(options.keyspace);
    this.serial = options.scope === 'datacenter' ? consistencies.localSerial : consistencies.serial;
    this.quorum = options.scope === 'datacenter' ? consistencies.localQuorum : consistencies.quorum;
    this.resolveTimeoutMs = options.resolveTimeoutMs ?? 15_000;
  }

  private exec(query: string, params: unknown[], lwt: boolean): Promise<cassandra.types.ResultSet> {
    return this.client.execute(query, params, {
      prepare: true,
      consistency: this.quorum,
      ...(lwt ? { serialConsistency: this.serial } : {}),
      // Retrying a CAS would turn an ambiguous outcome into a wrong one; we resolve it ourselves.
      isIdempotent: false,
    });
  }

  /** The current row, read linearizably (completes any in-flight Paxos round first). */
  private async serialRead(resource: string): Promise<LeaseRecord | undefined> {
    const rs = await this.client.execute(
      `SELECT resource, holder, holder_host, acquired_at, renewed_at, ttl_seconds, metadata, TTL(holder) AS ttl_left FROM ${this.ks}.leases WHERE resource = ?`,
      [resource],
      { prepare: true, consistency: this.serial },
    );
    const row = rs.first();
    return row ? this.record(row, Date.now()) : undefined;
  }

  /** The serial read, retried until resolveTimeoutMs: used where an outcome must be known. */
  private async resolve(resource: string, doing: string, afterUnknownWrite = true): Promise<LeaseRecord | undefined> {
    const deadline = Date.now() + this.resolveTimeoutMs;
    let delay = 50;
    for (;;) {
      try {
        return await this.serialRead(resource);
      } catch (error) {
        if (classifyCasError(error) === 'other') throw error;
        if (Date.now() + delay >= deadline) {
          throw unavailable(
            error,
            afterUnknownWrite ? `${doing}: the outcome is unknown and the serial read to learn it failed` : doing,
          );
        }
        await sleep(delay + Math.random() * delay);
        delay = Math.min(delay * 2, 1000);
      }
    }
  }

  private record(row: cassandra.types.Row, now: number): LeaseRecord {
    const ttlMs = Number(row.get('ttl_seconds') ?? 0) * 1000;
    const renewedAt = toDate(row.get('renewed_at'));
    const ttlLeft = row.get('ttl_left') as number | null | undefined;
    return {
      resource: row.get('resource') as string,
      holder: (row.get('holder') as string | null) ?? '',
      holderHost: (row.get('holder_host') as string | null) ?? '',
      acquiredAt: toDate(row.get('acquired_at')),
      renewedAt,
      expiresAt: new Date(typeof ttlLeft === 'number' ? now + ttlLeft * 1000 : renewedAt.getTime() + ttlMs),
      ttlMs,
      metadata: metadataOf(row.get('metadata')),
    };
  }

  private static ours(record: LeaseRecord | undefined, lease: { holder: LeaseHolder; leaseId: string }): boolean {
    return record !== undefined && record.holder === lease.holder.name && record.metadata.lease_id === lease.leaseId;
  }

  async tryAcquire(
    resource: string,
    holder: LeaseHolder,
    ttlMs: number,
    metadata: Record<string, string> = {},
  ): Promise<AcquireResult> {
    const leaseId = randomUUID();
    const sentAt = Date.now();
    const acquiredAt = new Date(sentAt);
    const meta = { ...metadata, lease_id: leaseId, pid: String(process.pid) };
    const lease: HeldLease = {
      resource,
      holder,
      leaseId,
      ttlMs,
      acquiredAt,
      expiresAt: new Date(sentAt + ttlMs),
      metadata: meta,
    };
    let rs: cassandra.types.ResultSet;
    try {
      rs = await this.exec(
        `INSERT INTO ${this.ks}.leases (resource, holder, holder_host, acquired_at, renewed_at, ttl_seconds, metadata) VALUES (?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS USING TTL ?`,
        [resource, holder.name, holder.host, acquiredAt, acquiredAt, Math.ceil(ttlMs / 1000), meta, ttlSeconds(ttlMs)],
        true,
      );
    } catch (error) {
      const outcome = classifyCasError(error);
      if (outcome === 'unavailable') throw unavailable(error, `acquiring lease ${resource}`);
      if (outcome === 'other') throw error;
      const current = await this.resolve(resource, `acquiring lease ${resource}`);
      if (CassandraLeaseBackend.ours(current, lease)) return { acquired: true, lease };
      return current ? { acquired: false, reason: 'held', heldBy: current } : { acquired: false, reason: 'held' };
    }
    if (rs.wasApplied()) return { acquired: true, lease };
    const row = rs.first();
    return { acquired: false, reason: 'held', ...(row ? { heldBy: this.record(row, Date.now()) } : {}) };
  }

  async renew(lease: HeldLease): Promise<RenewResult> {
    const sentAt = Date.now();
    const meta = { ...lease.metadata, lease_id: lease.leaseId };
    try {
      const rs = await this.exec(
        `UPDATE ${this.ks}.leases USING TTL ? SET holder = ?, holder_host = ?, acquired_at = ?, renewed_at = ?, ttl_seconds = ?, metadata = ? WHERE resource = ? IF holder = ? AND metadata['lease_id'] = ?`,
        [
          ttlSeconds(lease.ttlMs),
          lease.holder.name,
          lease.holder.host,
          lease.acquiredAt,
          new Date(sentAt),
          Math.ceil(lease.ttlMs / 1000),
          meta,
          lease.resource,
          lease.holder.name,
          lease.leaseId,
        ],
        true,
      );
      if (rs.wasApplied()) return { renewed: true, expiresAt: new Date(sentAt + lease.ttlMs) };
      const row = rs.first();
      const current = row && row.get('holder') ? this.record(row, Date.now()) : undefined;
      return current ? { renewed: false, reason: 'taken', heldBy: current } : { renewed: false, reason: 'gone' };
    } catch (error) {
      const outcome = classifyCasError(error);
      if (outcome === 'unavailable') throw unavailable(error, `renewing lease ${lease.resource}`);
      if (outcome === 'other') throw error;
      const current = await this.resolve(lease.resource, `renewing lease ${lease.resource}`);
      // Ours, but perhaps with the old TTL: the server's remaining TTL is the truth.
      if (CassandraLeaseBackend.ours(current, lease)) return { renewed: true, expiresAt: current!.expiresAt };
      return current ? { renewed: false, reason: 'taken', heldBy: current } : { renewed: false, reason: 'gone' };
    }
  }

  async release(lease: HeldLease): Promise<boolean> {
    // A release that gives up leaves the lease to its TTL (10 minutes by default), and every other node waits that
    // long. Under Paxos contention a conditional DELETE can time out several times in a row (seen in the 20-process
    // race: rounds without a winner until the TTL passed), so keep trying, with jittered back-off, until the
    // resolve deadline; each ambiguous attempt is settled by a serial read first.
    const deadline = Date.now() + this.resolveTimeoutMs;
    let delay = 50;
    for (;;) {
      try {
        const rs = await this.exec(
          `DELETE FROM ${this.ks}.leases WHERE resource = ? IF holder = ? AND metadata['lease_id'] = ?`,
          [lease.resource, lease.holder.name, lease.leaseId],
          true,
        );
        return rs.wasApplied();
      } catch (error) {
        const outcome = classifyCasError(error);
        if (outcome === 'unavailable') throw unavailable(error, `releasing lease ${lease.resource}`);
        if (outcome === 'other') throw error;
        const current = await this.resolve(lease.resource, `releasing lease ${lease.resource}`);
        if (!CassandraLeaseBackend.ours(current, lease)) return true;
        if (Date.now() + delay >= deadline) {
          throw unavailable(error, `releasing lease ${lease.resource} (still ours; it lapses with its TTL)`);
        }
        await sleep(delay + Math.random() * delay);
        delay = Math.min(delay * 2, 1000);
      }
    }
  }

  async forceRelease(
    resource: string,
    by: LeaseHolder,
    options: ForceReleaseOptions = { record: true },
  ): Promise<BrokenLease | undefined> {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const current = await this.resolve(resource, `reading lease ${resource}`, false);
      if (!current) return undefined;
      checkHolder(current, options);
      let applied: boolean;
      try {
        const rs = await this.exec(
          `DELETE FROM ${this.ks}.leases WHERE resource = ? IF holder = ? AND metadata['lease_id'] = ?`,
          [resource, current.holder, current.metadata.lease_id ?? null],
          true,
        );
        applied = rs.wasApplied();
      } catch (error) {
        const outcome = classifyCasError(error);
        if (outcome === 'unavailable') throw unavailable(error, `breaking lease ${resource}`);
        if (outcome === 'other') throw error;
        const after = await this.resolve(resource, `breaking lease ${resource}`);
        applied = after?.metadata.lease_id !== current.metadata.lease_id;
      }
      if (!applied) continue; // it changed hands (or was renewed by a new holder) meanwhile: look again
      const broken: BrokenLease = {
        resource,
        previousHolder: current.holder,
        previousHost: current.holderHost,
        brokenBy: by.name,
        brokenByHost: by.host,
        brokenAt: new Date(),
      };
      if (options.record) await this.recordBroken(broken);
      return broken;
    }
    throw new ClusterUnavailable('cassandra', `breaking lease ${resource}: it kept changing hands; try again`);
  }

  private async recordBroken(broken: BrokenLease): Promise<void> {
    await this.client.execute(
      `INSERT INTO ${this.ks}.leases (resource, holder, holder_host, acquired_at, renewed_at, ttl_seconds, metadata) VALUES (?, ?, ?, ?, ?, ?, ?) USING TTL ?`,
      [
        `${BROKEN_PREFIX}${broken.resource}`,
        broken.brokenBy,
        broken.brokenByHost,
        broken.brokenAt,
        broken.brokenAt,
        0,
        { previous_holder: broken.previousHolder, previous_host: broken.previousHost },
        BROKEN_RECORD_TTL_SECONDS,
      ],
      { prepare: true, consistency: this.quorum },
    );
  }

  private async leaseRows(): Promise<cassandra.types.Row[]> {
    try {
      return await allRows(
        this.client,
        `SELECT resource, holder, holder_host, acquired_at, renewed_at, ttl_seconds, metadata, TTL(holder) AS ttl_left FROM ${this.ks}.leases`,
        [],
        { prepare: true, consistency: this.quorum, fetchSize: 1000 },
      );
    } catch (error) {
      if (classifyCasError(error) !== 'other') throw unavailable(error, 'listing leases');
      throw error;
    }
  }

  async list(): Promise<LeaseRecord[]> {
    const now = Date.now();
    return (await this.leaseRows())
      .filter((row) => !(row.get('resource') as string).startsWith(BROKEN_PREFIX) && row.get('holder'))
      .map((row) => this.record(row, now))
      .sort((a, b) => a.resource.localeCompare(b.resource));
  }

  async brokenLeases(): Promise<BrokenLease[]> {
    return (await this.leaseRows())
      .filter((row) => (row.get('resource') as string).startsWith(BROKEN_PREFIX))
      .map((row) => {
        const meta = metadataOf(row.get('metadata'));
        return {
          resource: (row.get('resource') as string).slice(BROKEN_PREFIX.length),
          previousHolder: meta.previous_holder ?? '',
          previousHost: meta.previous_host ?? '',
          brokenBy: row.get('holder') as string,
          brokenByHost: row.get('holder_host') as string,
          brokenAt: toDate(row.get('acquired_at')),
        };
      })
      .sort((a, b) => b.brokenAt.getTime() - a.brokenAt.getTime());
  }

  async announce(announcement: Omit<Announcement, 'announcedAt' | 'expiresAt'>, ttlMs: number): Promise<void> {
    try {
      await this.client.execute(
        `INSERT INTO ${this.ks}.lease_priorities (resource, holder, priority, tie_breaker, announced_at) VALUES (?, ?, ?, ?, ?) USING TTL ?`,
        [
          announcement.resource,
          announcement.holder,
          Long.fromNumber(Math.round(announcement.priority * PRIORITY_SCALE)),
          Long.fromNumber(announcement.tieBreaker),
          new Date(),
          ttlSeconds(ttlMs),
        ],
        { prepare: true, consistency: this.quorum },
      );
    } catch (error) {
      if (classifyCasError(error) !== 'other') throw unavailable(error, `announcing for ${announcement.resource}`);
      throw error;
    }
  }

  async announcements(resource?: string): Promise<Announcement[]> {
    const columns = 'resource, holder, priority, tie_breaker, announced_at, TTL(priority) AS ttl_left';
    const now = Date.now();
    let rows: cassandra.types.Row[];
    try {
      rows =
        resource === undefined
          ? await allRows(this.client, `SELECT ${columns} FROM ${this.ks}.lease_priorities`, [], {
              prepare: true,
              consistency: this.quorum,
              fetchSize: 1000,
            })
          : await allRows(
              this.client,
              `SELECT ${columns} FROM ${this.ks}.lease_priorities WHERE resource = ?`,
              [resource],
              {
                prepare: true,
                consistency: this.quorum,
              },
            );
    } catch (error) {
      if (classifyCasError(error) !== 'other') throw unavailable(error, 'reading announcements');
      throw error;
    }
    return rows
      .filter((row) => row.get('priority') !== null)
      .map((row) => {
        const ttlLeft = row.get('ttl_left') as number | null;
        return {
          resource: row.get('resource') as string,
          holder: row.get('holder') as string,
          priority: Number(row.get('priority')) / PRIORITY_SCALE,
          tieBreaker: Number(row.get('tie_breaker') ?? 0),
          announcedAt: toDate(row.get('announced_at')),
          expiresAt: new Date(now + (ttlLeft ?? 0) * 1000),
        };
      });
  }

  async withdraw(resource: string, holder: string): Promise<void> {
    try {
      await this.client.execute(
        `DELETE FROM ${this.ks}.lease_priorities WHERE resource = ? AND holder = ?`,
        [resource, holder],
        { prepare: true, consistency: this.quorum },
      );
    } catch (error) {
      if (classifyCasError(error) !== 'other') throw unavailable(error, `withdrawing announcement for ${resource}`);
      throw error;
    }
  }

  async close(): Promise<void> {
    // The session belongs to the caller (it is shared with topology and history).
  }
}
