/**
 * Leases in Consul: one session per lease (TTL, behavior `release`, lock delay 0) and a KV key under
 * `<prefix>/leases/<resource>` taken with `?acquire=<session>`; renew = session renew plus a re-acquire that
 * refreshes the value (so `lease status` can say when it was last renewed); release = `?release=` then destroy.
 *
 * Why the session TTL is half the lease ttl: Consul treats a session TTL as a lower bound and, in fact, expires a
 * session that is not renewed 2×TTL after the last renewal. Asking for ttl/2 makes a dead holder's lease free
 * after about `lease.ttl`, like the Cassandra backend, while the holder itself counts only on the guaranteed
 * ttl/2 when deciding that its lease may be lost. (This is why config rejects a Consul lease ttl below 20s:
 * Consul's own minimum session TTL is 10s.)
 *
 * Why lock delay 0: Consul's default 15s lock delay protects holders that do not notice losing a lock. tend's
 * heartbeat stops the work before the session can expire, so the delay would only make a crashed node's lease
 * unavailable for 15s longer than its TTL.
 *
 * Plain HTTP(S) via node:http rather than the `consul` npm client: every request needs its own timeout and a
 * per-agent CA/client certificate, and a failure must become ClusterUnavailable (exit 5) in one place; the
 * handful of endpoints used here is less code than adapting the client.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ClusterUnavailable, describeTlsFailure, TendError } from '../errors.js';
import { setLongTimeout, timerDelay } from '../timers.js';
import { beginActivity } from '../activity.js';
import { externalMessage, sanitizeExternal } from '../output/sanitize.js';
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

export interface ConsulLeaseOptions {
  address: string;
  token?: string;
  prefix: string;
  datacenter?: string;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized?: boolean };
  requestTimeoutMs: number;
}

interface KvEntry {
  Key: string;
  Value: string | null;
  Session?: string;
  ModifyIndex: number;
}

interface LeaseValue {
  holder: string;
  holderHost: string;
  acquiredAt: string;
  renewedAt: string;
  ttlMs: number;
  metadata: Record<string, string>;
}

interface AnnouncementValue {
  priority: number;
  tieBreaker: number;
  announcedAt: string;
  expiresAt: string;
}

const BROKEN_KEEP_MS = 7 * 86_400_000;

/** Consul refused the ACL token: an answer, not a lost request, so never an "unknown outcome" to look up. */
class ConsulAclRefused extends ClusterUnavailable {}

/** Consul's session TTL for a lease of `ttlMs` (see the header). */
export function sessionTtlMs(ttlMs: number): number {
  return Math.max(1000, Math.floor(ttlMs / 2));
}

/**
 * A KV key as a URL path. Each segment is percent-encoded (so `%2e` stays literal); `.`, `..` and empty segments
 * are refused, since URL resolution would turn them into a key outside tend's prefix. (Resources are checked
 * against tend's own grammar before any backend is opened; this is the backend's own guard.)
 */
function encodeKey(key: string): string {
  const segments = key.split('/');
  if (segments.some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw new TendError(`refusing Consul key "${key}": it would leave tend's prefix`);
  }
  return segments.map(encodeURIComponent).join('/');
}

function decodeValue<T>(entry: KvEntry | undefined): T | undefined {
  if (!entry?.Value) return undefined;
  try {
    return JSON.parse(Buffer.from(entry.Value, 'base64').toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

export class ConsulLeaseBackend implements LeaseBackend {
  readonly kind = 'consul' as const;
  private readonly prefix: string;
  private readonly announcementSessions = new Map<string, string>();

  constructor(private readonly options: ConsulLeaseOptions) {
    // `tend/`, `/tend` and `tend` are the same prefix; an empty one puts tend's keys at the top of the KV store.
    const prefix = options.prefix.replace(/^\/+|\/+$/g, '');
    this.prefix = prefix === '' ? '' : `${prefix}/`;
  }

  private leaseKey(resource: string): string {
    return `${this.prefix}leases/${resource}`;
  }

  private announcementKey(resource: string, holder: string): string {
    return `${this.prefix}announcements/${resource}/${holder}`;
  }

  /**
   * One HTTP call with its own timeout, for the whole exchange (a server that trickles bytes never trips a socket's
   * idle timeout); transport failures become ClusterUnavailable. Callers check that the answer is Consul's where
   * another HTTP server's answer could be mistaken for one (see `notConsul`).
   */
  private call(
    method: string,
    path: string,
    query: Record<string, string | undefined> = {},
    body?: string,
  ): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
    const url = new URL(`${this.options.address.replace(/\/+$/, '')}${path}`);
    for (const [key, value] of Object.entries({ dc: this.options.datacenter, ...query })) {
      if (value !== undefined) url.searchParams.set(key, value);
    }
    const tls = this.options.tls;
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const timeoutMs = this.options.requestTimeoutMs;
    const end = beginActivity(`Consul ${method} ${url.origin}${url.pathname}`);
    return new Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }>(
      (resolve, reject) => {
        const req = send(
          url,
          {
            method,
            headers: {
              ...(this.options.token ? { 'X-Consul-Token': this.options.token } : {}),
              ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
            },
            // Clamped: a socket timeout above 24.8 days would overflow Node's timer and fire at once.
            timeout: timerDelay(timeoutMs),
            ...(url.protocol === 'https:' && tls
              ? { ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: tls.rejectUnauthorized ?? true }
              : {}),
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                body: Buffer.concat(chunks).toString('utf8'),
                headers: res.headers,
              }),
            );
            res.on('error', (error) => reject(this.unreachable(error, method, url)));
          },
        );
        const deadline = setLongTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        req.on('close', () => deadline.clear());
        req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
        req.on('error', (error) => reject(this.unreachable(error, method, url)));
        req.end(body);
      },
    ).finally(end);
  }

  /**
   * An answer that cannot be a Consul agent's. Any HTTP server at lease.consul.address answers 404 to a KV read,
   * and that read as "no leases held" (exit 0); so a KV read must carry X-Consul-Index (Consul sends it on every
   * KV read, 404 included), a session must come back as `{"ID": …}`, an acquire as true or false. Exit 5.
   */
  private notConsul(method: string, path: string, status: number, why: string): ClusterUnavailable {
    const origin = new URL(this.options.address).origin;
    return new ClusterUnavailable(
      'consul',
      `${origin} does not answer like a Consul agent: ${method} ${path} answered HTTP ${status} ${why}`,
      { hints: ['check lease.consul.address: it must be the HTTP API of a Consul agent (port 8500 by default)'] },
    );
  }

  private unreachable(error: Error, method: string, url: URL): ClusterUnavailable {
    const tls = url.protocol === 'https:' ? describeTlsFailure(error, 'lease.consul.tls') : undefined;
    return new ClusterUnavailable(
      'consul',
      `${method} ${url.origin}${url.pathname}: ${tls?.message ?? externalMessage(error)}`,
      {
        cause: error,
        hints: [tls?.hint ?? 'check lease.consul.address and that the Consul agent is running'],
      },
    );
  }

  /**
   * Consul refused the token (403: unknown token, or a policy without the right): exit 5 like an agent that cannot
   * be reached, since no lease can be taken either way, with Consul's words (they name the token by its accessor
   * id, never its secret) and the policy tend needs.
   */
  private refused(what: string, res: { body: string }): ClusterUnavailable {
    return new ConsulAclRefused(
      'consul',
      `${what}: the ACL token was refused (HTTP 403: ${sanitizeExternal(res.body)})`,
      {
        hints: [
          `the token (lease.consul.tokenFile or TEND_CONSUL_TOKEN) must exist and allow key:write under "${this.prefix}" and session:write: key_prefix "${this.prefix}" { policy = "write" } and session_prefix "" { policy = "write" }`,
        ],
      },
    );
  }

  /** A call that must answer 200; 403 and 5xx are reported with Consul's own words. */
  private async ok(method: string, path: string, query: Record<string, string | undefined> = {}, body?: string) {
    const res = await this.call(method, path, query, body);
    if (res.status === 200) return res.body;
    if (res.status === 403) throw this.refused(`${method} ${path}`, res);
    throw new ClusterUnavailable('consul', `${method} ${path} answered ${res.status}: ${sanitizeExternal(res.body)}`);
  }

  private async createSession(name: string, ttlMs: number, behavior: 'release' | 'delete'): Promise<string> {
    const body = await this.ok(
      'PUT',
      '/v1/session/create',
      {},
      JSON.stringify({ Name: name, TTL: `${sessionTtlMs(ttlMs)}ms`, Behavior: behavior, LockDelay: '0s' }),
    );
    let id: unknown;
    try {
      id = (JSON.parse(body) as { ID?: unknown } | null)?.ID;
    } catch {
      id = undefined;
    }
    if (typeof id !== 'string' || id === '')
      throw this.notConsul('PUT', '/v1/session/create', 200, 'without a session ID');
    return id;
  }

  private async destroySession(id: string): Promise<void> {
    await this.ok('PUT', `/v1/session/destroy/${id}`);
  }

  private async kvAcquire(key: string, session: string, value: unknown): Promise<boolean> {
    const res = await this.call('PUT', `/v1/kv/${encodeKey(key)}`, { acquire: session }, JSON.stringify(value));
    if (res.status === 200) {
      const answer = res.body.trim();
      if (answer !== 'true' && answer !== 'false') {
        throw this.notConsul('PUT', `/v1/kv/${key}`, 200, 'with neither true nor false');
      }
      return answer === 'true';
    }
    // 500 "invalid session": the session is gone (expired or destroyed).
    if (res.status === 500 && /session/i.test(res.body)) return false;
    if (res.status === 403) throw this.refused(`acquiring ${key}`, res);
    throw new ClusterUnavailable('consul', `acquiring ${key} answered ${res.status}: ${sanitizeExternal(res.body)}`);
  }

  private async kvGet(key: string): Promise<KvEntry | undefined> {
    const res = await this.call('GET', `/v1/kv/${encodeKey(key)}`, { consistent: '' });
    if (!res.headers['x-consul-index'])
      throw this.notConsul('GET', `/v1/kv/${key}`, res.status, 'without X-Consul-Index');
    if (res.status === 404) return undefined;
    if (res.status === 403) throw this.refused(`reading ${key}`, res);
    if (res.status !== 200) throw new ClusterUnavailable('consul', `reading ${key} answered ${res.status}`);
    return (JSON.parse(res.body) as KvEntry[])[0];
  }

  private async kvList(prefix: string): Promise<KvEntry[]> {
    const res = await this.call('GET', `/v1/kv/${encodeKey(prefix)}/`, { recurse: '', consistent: '' });
    if (!res.headers['x-consul-index']) {
      throw this.notConsul('GET', `/v1/kv/${prefix}/`, res.status, 'without X-Consul-Index');
    }
    if (res.status === 404) return [];
    if (res.status === 403) throw this.refused(`listing ${prefix}`, res);
    if (res.status !== 200) throw new ClusterUnavailable('consul', `listing ${prefix} answered ${res.status}`);
    return JSON.parse(res.body) as KvEntry[];
  }

  private record(resource: string, entry: KvEntry | undefined): LeaseRecord | undefined {
    const value = decodeValue<LeaseValue>(entry);
    if (!entry?.Session || !value) return undefined;
    const renewedAt = new Date(value.renewedAt);
    return {
      resource,
      holder: value.holder,
      holderHost: value.holderHost,
      acquiredAt: new Date(value.acquiredAt),
      renewedAt,
      expiresAt: new Date(renewedAt.getTime() + value.ttlMs),
      ttlMs: value.ttlMs,
      metadata: { ...value.metadata, session: entry.Session },
    };
  }

  private leaseValue(lease: HeldLease, renewedAt: Date): LeaseValue {
    return {
      holder: lease.holder.name,
      holderHost: lease.holder.host,
      acquiredAt: lease.acquiredAt.toISOString(),
      renewedAt: renewedAt.toISOString(),
      ttlMs: lease.ttlMs,
      metadata: lease.metadata,
    };
  }

  async tryAcquire(
    resource: string,
    holder: LeaseHolder,
    ttlMs: number,
    metadata: Record<string, string> = {},
  ): Promise<AcquireResult> {
    const sentAt = Date.now();
    const session = await this.createSession(`tend lease ${resource} ${holder.name}`, ttlMs, 'release');
    const lease: HeldLease = {
      resource,
      holder,
      leaseId: session,
      ttlMs,
      acquiredAt: new Date(sentAt),
      expiresAt: new Date(sentAt + sessionTtlMs(ttlMs)),
      metadata: { ...metadata, pid: String(process.pid) },
    };
    const key = this.leaseKey(resource);
    try {
      let acquired: boolean;
      try {
        acquired = await this.kvAcquire(key, session, this.leaseValue(lease, lease.acquiredAt));
      } catch (error) {
        // Unknown outcome: the key itself says whether our session holds it.
        if (!(error instanceof ClusterUnavailable) || error instanceof ConsulAclRefused) throw error;
        acquired = (await this.kvGet(key))?.Session === session;
      }
      if (acquired) return { acquired: true, lease };
    } catch (error) {
      await this.destroySession(session).catch(() => undefined);
      throw error;
    }
    await this.destroySession(session).catch(() => undefined);
    const heldBy = this.record(resource, await this.kvGet(key));
    return { acquired: false, reason: 'held', ...(heldBy ? { heldBy } : {}) };
  }

  async renew(lease: HeldLease): Promise<RenewResult> {
    const sentAt = Date.now();
    const res = await this.call('PUT', `/v1/session/renew/${lease.leaseId}`);
    if (res.status === 404) {
      // Consul's 404 names the session; another server's 404 must not read as "the lease is gone".
      if (!/session/i.test(res.body) && !Object.keys(res.headers).some((name) => name.startsWith('x-consul-'))) {
        throw this.notConsul('PUT', '/v1/session/renew', 404, 'without naming the session');
      }
      return { renewed: false, reason: 'gone' };
    }
    if (res.status === 403) throw this.refused('renewing the session', res);
    if (res.status !== 200) throw new ClusterUnavailable('consul', `renewing session answered ${res.status}`);
    const key = this.leaseKey(lease.resource);
    if (await this.kvAcquire(key, lease.leaseId, this.leaseValue(lease, new Date(sentAt)))) {
      return { renewed: true, expiresAt: new Date(sentAt + sessionTtlMs(lease.ttlMs)) };
    }
    const heldBy = this.record(lease.resource, await this.kvGet(key));
    await this.destroySession(lease.leaseId).catch(() => undefined);
    return heldBy ? { renewed: false, reason: 'taken', heldBy } : { renewed: false, reason: 'gone' };
  }

  async release(lease: HeldLease): Promise<boolean> {
    const res = await this.call('PUT', `/v1/kv/${encodeKey(this.leaseKey(lease.resource))}`, {
      release: lease.leaseId,
    });
    const released = res.status === 200 && res.body.trim() === 'true';
    await this.destroySession(lease.leaseId);
    return released;
  }

  async forceRelease(
    resource: string,
    by: LeaseHolder,
    options: ForceReleaseOptions = { record: true },
  ): Promise<BrokenLease | undefined> {
    const current = this.record(resource, await this.kvGet(this.leaseKey(resource)));
    if (!current) return undefined;
    checkHolder(current, options);
    // Destroying the holder's session releases the key (behavior release) and makes its renewals fail.
    await this.destroySession(current.metadata.session!);
    const broken: BrokenLease = {
      resource,
      previousHolder: current.holder,
      previousHost: current.holderHost,
      brokenBy: by.name,
      brokenByHost: by.host,
      brokenAt: new Date(),
    };
    if (!options.record) return broken;
    await this.ok(
      'PUT',
      `/v1/kv/${encodeKey(`${this.prefix}broken/${resource}`)}`,
      {},
      JSON.stringify({ ...broken, brokenAt: broken.brokenAt.toISOString() }),
    );
    return broken;
  }

  async list(): Promise<LeaseRecord[]> {
    const base = `${this.prefix}leases/`;
    return (await this.kvList(`${this.prefix}leases`))
      .map((entry) => this.record(entry.Key.slice(base.length), entry))
      .filter((record): record is LeaseRecord => record !== undefined)
      .sort((a, b) => a.resource.localeCompare(b.resource));
  }

  async brokenLeases(): Promise<BrokenLease[]> {
    const cutoff = Date.now() - BROKEN_KEEP_MS;
    return (await this.kvList(`${this.prefix}broken`))
      .map((entry) => decodeValue<BrokenLease & { brokenAt: string }>(entry))
      .filter((value): value is BrokenLease & { brokenAt: string } => value !== undefined)
      .map((value) => ({ ...value, brokenAt: new Date(value.brokenAt) }))
      .filter((value) => value.brokenAt.getTime() >= cutoff)
      .sort((a, b) => b.brokenAt.getTime() - a.brokenAt.getTime());
  }

  async announce(announcement: Omit<Announcement, 'announcedAt' | 'expiresAt'>, ttlMs: number): Promise<void> {
    const key = this.announcementKey(announcement.resource, announcement.holder);
    const previous = this.announcementSessions.get(key);
    // Behavior delete: the key disappears with the session. Readers also ignore it after expiresAt, because
    // Consul may keep an unrenewed session for up to twice its TTL.
    const session = await this.createSession(`tend announcement ${announcement.resource}`, ttlMs, 'delete');
    this.announcementSessions.set(key, session);
    const now = Date.now();
    const value: AnnouncementValue = {
      priority: announcement.priority,
      tieBreaker: announcement.tieBreaker,
      announcedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + ttlMs).toISOString(),
    };
    if (previous) await this.destroySession(previous).catch(() => undefined);
    if (!(await this.kvAcquire(key, session, value))) {
      throw new ClusterUnavailable('consul', `could not write announcement ${key}`);
    }
  }

  async announcements(resource?: string): Promise<Announcement[]> {
    const base = `${this.prefix}announcements/`;
    const entries = await this.kvList(resource === undefined ? `${this.prefix}announcements` : `${base}${resource}`);
    const now = Date.now();
    const out: Announcement[] = [];
    for (const entry of entries) {
      const value = decodeValue<AnnouncementValue>(entry);
      if (!value || !entry.Session) continue;
      const expiresAt = new Date(value.expiresAt);
      if (expiresAt.getTime() <= now) continue;
      const rest = entry.Key.slice(base.length);
      const cut = rest.lastIndexOf('/');
      out.push({
        resource: rest.slice(0, cut),
        holder: rest.slice(cut + 1),
        priority: value.priority,
        tieBreaker: value.tieBreaker,
        announcedAt: new Date(value.announcedAt),
        expiresAt,
      });
    }
    return out;
  }

  async withdraw(resource: string, holder: string): Promise<void> {
    const key = this.announcementKey(resource, holder);
    const session = this.announcementSessions.get(key);
    this.announcementSessions.delete(key);
    if (session) await this.destroySession(session);
    else await this.ok('DELETE', `/v1/kv/${encodeKey(key)}`);
  }

  async close(): Promise<void> {
    const sessions = [...this.announcementSessions.values()];
    this.announcementSessions.clear();
    await Promise.all(sessions.map((id) => this.destroySession(id).catch(() => undefined)));
  }
}
