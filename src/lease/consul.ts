/**
 * Leases in Consul: one session per lease (TTL, behavior `release`, lock delay 0) and a KV key under
 * `<prefix>/leases/<resource>` taken with `?acquire=<session>`; renew = session renew plus a re-acquire that
 * refreshes the value (so `lease status` can say when it was last renewed); release = `?release=` then destroy.
 *
 * The session TTL is half the lease ttl: src/core/consul-ttl.ts says why.
 *
 * Why lock delay 0: Consul's default 15s lock delay protects holders that do not notice losing a lock. tend's
 * heartbeat stops the work before the session can expire, so the delay would only make a crashed node's lease
 * unavailable for 15s longer than its TTL.
 *
 * The HTTP goes through the `consul` npm client (URLs, query options, the token header, JSON and base64 decoding),
 * on an agent of tend's own (keep-alive; HTTPS with lease.consul.tls's CA, client certificate and key). What the
 * client does not do is kept in `send`, the one place every call goes through:
 * - the deadline. The client's own `timeout` option is a raw setTimeout: a lease.consul.requestTimeout above 24.8
 *   days fires after 1 ms (test/unit/lease/consul-client.test.ts shows it). `send` arms a src/timers.ts timer that
 *   emits `cancel` on the call's `ctx` (the client's documented abort), for the whole exchange, so an agent that
 *   trickles bytes cannot hold a tick.
 * - the status and headers of every answer, which the client hands back only with `ctx.includeResponse` (not in
 *   its README; its own Watch relies on it). tend needs them to tell a Consul agent from another HTTP server
 *   (X-Consul-Index), a refused token (403) from an unreachable agent, and a gone session (404) from a failure.
 * - failures as ClusterUnavailable (exit 5), TLS ones described by describeTlsFailure.
 * The client's typings omit `ctx`, `baseUrl` and the TLS options it documents, hence the `ConsulClient` shape below.
 */
import { EventEmitter } from 'node:events';
import { Agent as HttpAgent, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import Consul from 'consul';
import { ClusterUnavailable, describeTlsFailure, TendError } from '../errors.js';
import { consulSessionTtlMs, type CoverageClaim } from '../core/index.js';
import { setLongTimeout } from '../timers.js';
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

/**
 * tend's other state in Consul's KV store (cluster-wide jobs), under lease.consul.prefix, through the leases' client:
 * the same deadline, errors, ACL messages and checks that the answer is Consul's. Paths are relative to the prefix.
 */
export interface ConsulKv {
  /** Every entry under `path/`, with the ModifyIndex a compare-and-set is made against. */
  list(path: string): Promise<{ key: string; value: string; modifyIndex: number }[]>;
  /** Writes `value` only if the key's ModifyIndex is still `modifyIndex` (0: only if the key does not exist). */
  compareAndSet(path: string, value: string, modifyIndex: number): Promise<boolean>;
  /** Deletes `path` and every key under `path/` (not `path` + anything else). */
  deleteTree(path: string): Promise<void>;
}

/** Per call: `cancel` aborts it; `includeResponse` makes the client resolve `[response, body]`. */
interface CallContext extends EventEmitter {
  includeResponse: true;
}

/** The part of the `consul` client tend uses, with the options its README documents. */
interface ConsulClient {
  kv: {
    get(options: { key: string; recurse?: boolean; consistent: true; ctx: CallContext }): Promise<unknown>;
    set(options: {
      key: string;
      value: string;
      acquire?: string;
      release?: string;
      cas?: number;
      ctx: CallContext;
    }): Promise<unknown>;
    del(options: { key: string; recurse?: boolean; cas?: number; ctx: CallContext }): Promise<unknown>;
  };
  session: {
    create(options: {
      name: string;
      ttl: string;
      behavior: 'release' | 'delete';
      lockdelay: string;
      ctx: CallContext;
    }): Promise<unknown>;
    renew(options: { id: string; ctx: CallContext }): Promise<unknown>;
    destroy(options: { id: string; ctx: CallContext }): Promise<unknown>;
  };
}

/** An answer of the agent (any status), its body decoded by the client (JSON, text, or raw bytes). */
interface ConsulAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: unknown;
}

interface KvEntry {
  Key: string;
  /** Decoded from base64 by the client. */
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

/**
 * A KV key, checked: `.`, `..` and empty segments are refused, since the agent's URL cleaning would turn them into
 * a key outside tend's prefix (it answers 301 to `/v1/kv/a/../b`). (Resources are checked against tend's own
 * grammar before any backend is opened; this is the backend's own guard.) The client percent-encodes the key.
 */
function checkedKey(key: string): string {
  const segments = key.split('/');
  if (segments.some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw new TendError(`refusing Consul key "${key}": it would leave tend's prefix`);
  }
  return key;
}

function decodeValue<T>(entry: KvEntry | undefined): T | undefined {
  if (!entry?.Value) return undefined;
  try {
    return JSON.parse(entry.Value) as T;
  } catch {
    return undefined;
  }
}

/** A body as text for a message: the client decodes text/plain to a string, JSON to a value, others to bytes. */
function bodyText(body: unknown): string {
  if (body === undefined || body === null) return '';
  if (typeof body === 'string') return body;
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  return JSON.stringify(body);
}

/**
 * A body that should be JSON. The client decodes it only when the answer says application/json (Consul's always
 * do); a proxy that drops the header must not turn `true` into "not Consul".
 */
function jsonBody(body: unknown): unknown {
  if (typeof body !== 'string' && !Buffer.isBuffer(body)) return body;
  try {
    return JSON.parse(body.toString()) as unknown;
  } catch {
    return body;
  }
}

/** A key segment written with encodeURIComponent; undefined for one that is not (not tend's: skipped). */
function safeDecode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function isKvEntry(value: unknown): value is KvEntry {
  return typeof value === 'object' && value !== null && typeof (value as KvEntry).Key === 'string';
}

export class ConsulLeaseBackend implements LeaseBackend {
  readonly kind = 'consul' as const;
  private readonly prefix: string;
  private readonly origin: string;
  private readonly client: ConsulClient;
  private readonly announcementSessions = new Map<string, string>();

  constructor(private readonly options: ConsulLeaseOptions) {
    // `tend/`, `/tend` and `tend` are the same prefix; an empty one puts tend's keys at the top of the KV store.
    const prefix = options.prefix.replace(/^\/+|\/+$/g, '');
    this.prefix = prefix === '' ? '' : `${prefix}/`;
    const address = options.address.replace(/\/+$/, '');
    this.origin = new URL(address).origin;
    const tls = options.tls;
    // Keep-alive like Node's global agent; the TLS material is the agent's, so every call is verified the same way.
    const agent = address.startsWith('https:')
      ? new HttpsAgent({
          keepAlive: true,
          ca: tls?.ca,
          cert: tls?.cert,
          key: tls?.key,
          rejectUnauthorized: tls?.rejectUnauthorized ?? true,
        })
      : new HttpAgent({ keepAlive: true });
    const defaults = {
      ...(options.token ? { token: options.token } : {}),
      ...(options.datacenter ? { dc: options.datacenter } : {}),
    };
    this.client = new Consul({ baseUrl: `${address}/v1`, agent, defaults } as ConstructorParameters<
      typeof Consul
    >[0]) as unknown as ConsulClient;
  }

  private leaseKey(resource: string): string {
    return `${this.prefix}leases/${resource}`;
  }

  private announcementKey(resource: string, holder: string): string {
    return `${this.prefix}announcements/${resource}/${holder}`;
  }

  /**
   * One call through the client, with its own deadline for the whole exchange (see the top of this file). Any
   * answer comes back, whatever its status; callers check that it is Consul's where another HTTP server's answer
   * could be mistaken for one (see `notConsul`). No answer (refused, reset, TLS, deadline) is ClusterUnavailable.
   */
  private async send(
    method: string,
    path: string,
    call: (ctx: CallContext) => Promise<unknown>,
  ): Promise<ConsulAnswer> {
    const timeoutMs = this.options.requestTimeoutMs;
    const ctx: CallContext = Object.assign(new EventEmitter(), { includeResponse: true as const });
    let timedOut = false;
    const deadline = setLongTimeout(() => {
      timedOut = true;
      ctx.emit('cancel');
    }, timeoutMs);
    const end = beginActivity(`Consul ${method} ${this.origin}${path}`);
    try {
      const [response, body] = (await call(ctx)) as [IncomingMessage, unknown?];
      return { status: response.statusCode ?? 0, headers: response.headers, body };
    } catch (error) {
      // Non-2xx answers, and answers whose body did not decode, carry the response.
      const response = (error as { response?: IncomingMessage & { body?: unknown } }).response;
      if (response && !timedOut)
        return { status: response.statusCode ?? 0, headers: response.headers, body: response.body };
      throw this.unreachable(timedOut ? new Error(`no answer within ${timeoutMs} ms`) : error, method, path);
    } finally {
      deadline.clear();
      end();
    }
  }

  /**
   * An answer that cannot be a Consul agent's. Any HTTP server at lease.consul.address answers 404 to a KV read,
   * and that read as "no leases held" (exit 0); so a KV read must carry X-Consul-Index (Consul sends it on every
   * KV read, 404 included), a session must come back as `{"ID": …}`, an acquire as true or false. Exit 5.
   */
  private notConsul(method: string, path: string, status: number, why: string): ClusterUnavailable {
    return new ClusterUnavailable(
      'consul',
      `${this.origin} does not answer like a Consul agent: ${method} ${path} answered HTTP ${status} ${why}`,
      { hints: ['check lease.consul.address: it must be the HTTP API of a Consul agent (port 8500 by default)'] },
    );
  }

  private unreachable(error: unknown, method: string, path: string): ClusterUnavailable {
    const tls = this.origin.startsWith('https:') ? describeTlsFailure(error, 'lease.consul.tls') : undefined;
    // The client prefixes its own name and the call's ("consul: kv.get: "); the message already says both.
    const detail = externalMessage(error).replace(/^consul: [\w.]+: /, '');
    return new ClusterUnavailable('consul', `${method} ${this.origin}${path}: ${tls?.message ?? detail}`, {
      cause: error,
      hints: [tls?.hint ?? 'check lease.consul.address and that the Consul agent is running'],
    });
  }

  /**
   * Consul refused the token (403: unknown token, or a policy without the right): exit 5 like an agent that cannot
   * be reached, since no lease can be taken either way, with Consul's words (they name the token by its accessor
   * id, never its secret) and the policy tend needs.
   */
  private refused(what: string, answer: ConsulAnswer): ClusterUnavailable {
    return new ConsulAclRefused(
      'consul',
      `${what}: the ACL token was refused (HTTP 403: ${sanitizeExternal(bodyText(answer.body))})`,
      {
        hints: [
          `the token (lease.consul.tokenFile or TEND_CONSUL_TOKEN) must exist and allow key:write under "${this.prefix}" and session:write: key_prefix "${this.prefix}" { policy = "write" } and session_prefix "" { policy = "write" }`,
        ],
      },
    );
  }

  /** A call that must answer 200; 403 and 5xx are reported with Consul's own words. */
  private async ok(method: string, path: string, call: (ctx: CallContext) => Promise<unknown>): Promise<unknown> {
    const answer = await this.send(method, path, call);
    if (answer.status === 200) return answer.body;
    if (answer.status === 403) throw this.refused(`${method} ${path}`, answer);
    throw new ClusterUnavailable(
      'consul',
      `${method} ${path} answered ${answer.status}: ${sanitizeExternal(bodyText(answer.body))}`,
    );
  }

  private async createSession(name: string, ttlMs: number, behavior: 'release' | 'delete'): Promise<string> {
    const ttl = `${consulSessionTtlMs(ttlMs)}ms`;
    const body = await this.ok('PUT', '/v1/session/create', (ctx) =>
      this.client.session.create({ name, ttl, behavior, lockdelay: '0s', ctx }),
    );
    const answer = jsonBody(body);
    const id = typeof answer === 'object' && answer !== null ? (answer as { ID?: unknown }).ID : undefined;
    if (typeof id !== 'string' || id === '')
      throw this.notConsul('PUT', '/v1/session/create', 200, 'without a session ID');
    return id;
  }

  private async destroySession(id: string): Promise<void> {
    await this.ok('PUT', `/v1/session/destroy/${id}`, (ctx) => this.client.session.destroy({ id, ctx }));
  }

  private async kvAcquire(key: string, session: string, value: unknown): Promise<boolean> {
    const answer = await this.send('PUT', `/v1/kv/${key}`, (ctx) =>
      this.client.kv.set({ key: checkedKey(key), value: JSON.stringify(value), acquire: session, ctx }),
    );
    if (answer.status === 200) {
      const acquired = jsonBody(answer.body);
      if (typeof acquired !== 'boolean') {
        throw this.notConsul('PUT', `/v1/kv/${key}`, 200, 'with neither true nor false');
      }
      return acquired;
    }
    // 500 "invalid session": the session is gone (expired or destroyed).
    if (answer.status === 500 && /session/i.test(bodyText(answer.body))) return false;
    if (answer.status === 403) throw this.refused(`acquiring ${key}`, answer);
    throw new ClusterUnavailable(
      'consul',
      `acquiring ${key} answered ${answer.status}: ${sanitizeExternal(bodyText(answer.body))}`,
    );
  }

  /** A consistent KV read of one key, or (`recurse`) of every key under `key/`. */
  private async kvRead(key: string, recurse: boolean): Promise<ConsulAnswer> {
    const path = `/v1/kv/${key}${recurse ? '/' : ''}`;
    const answer = await this.send('GET', path, (ctx) =>
      this.client.kv.get({ key: `${checkedKey(key)}${recurse ? '/' : ''}`, recurse, consistent: true, ctx }),
    );
    if (!answer.headers['x-consul-index']) throw this.notConsul('GET', path, answer.status, 'without X-Consul-Index');
    if (answer.status === 403) throw this.refused(`${recurse ? 'listing' : 'reading'} ${key}`, answer);
    if (answer.status !== 200 && answer.status !== 404) {
      throw new ClusterUnavailable('consul', `${recurse ? 'listing' : 'reading'} ${key} answered ${answer.status}`);
    }
    return answer;
  }

  private async kvGet(key: string): Promise<KvEntry | undefined> {
    const answer = await this.kvRead(key, false);
    if (answer.status === 404) return undefined;
    // The client leaves the body out when it is not a non-empty JSON list; Consul answers 404 for a missing key.
    if (!isKvEntry(answer.body)) throw this.notConsul('GET', `/v1/kv/${key}`, 200, 'without a KV entry');
    return answer.body;
  }

  private async kvList(prefix: string): Promise<KvEntry[]> {
    const answer = await this.kvRead(prefix, true);
    if (answer.status === 404) return [];
    if (!Array.isArray(answer.body) || !answer.body.every(isKvEntry)) {
      throw this.notConsul('GET', `/v1/kv/${prefix}/`, 200, 'without a list of KV entries');
    }
    return answer.body;
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
      expiresAt: new Date(sentAt + consulSessionTtlMs(ttlMs)),
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
    const id = lease.leaseId;
    const answer = await this.send('PUT', `/v1/session/renew/${id}`, (ctx) => this.client.session.renew({ id, ctx }));
    if (answer.status === 404) {
      // Consul's 404 names the session; another server's 404 must not read as "the lease is gone".
      const fromConsul = Object.keys(answer.headers).some((name) => name.startsWith('x-consul-'));
      if (!/session/i.test(bodyText(answer.body)) && !fromConsul) {
        throw this.notConsul('PUT', '/v1/session/renew', 404, 'without naming the session');
      }
      return { renewed: false, reason: 'gone' };
    }
    if (answer.status === 403) throw this.refused('renewing the session', answer);
    if (answer.status !== 200) throw new ClusterUnavailable('consul', `renewing session answered ${answer.status}`);
    const key = this.leaseKey(lease.resource);
    if (await this.kvAcquire(key, lease.leaseId, this.leaseValue(lease, new Date(sentAt)))) {
      return { renewed: true, expiresAt: new Date(sentAt + consulSessionTtlMs(lease.ttlMs)) };
    }
    const heldBy = this.record(lease.resource, await this.kvGet(key));
    await this.destroySession(lease.leaseId).catch(() => undefined);
    return heldBy ? { renewed: false, reason: 'taken', heldBy } : { renewed: false, reason: 'gone' };
  }

  async release(lease: HeldLease): Promise<boolean> {
    const key = this.leaseKey(lease.resource);
    // Like acquire, release writes the body as the key's value: empty, since nobody holds it any more.
    const answer = await this.send('PUT', `/v1/kv/${key}`, (ctx) =>
      this.client.kv.set({ key: checkedKey(key), value: '', release: lease.leaseId, ctx }),
    );
    const released = answer.status === 200 && jsonBody(answer.body) === true;
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
    const key = `${this.prefix}broken/${resource}`;
    const value = JSON.stringify({ ...broken, brokenAt: broken.brokenAt.toISOString() });
    await this.ok('PUT', `/v1/kv/${key}`, (ctx) => this.client.kv.set({ key: checkedKey(key), value, ctx }));
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
    else await this.ok('DELETE', `/v1/kv/${key}`, (ctx) => this.client.kv.del({ key: checkedKey(key), ctx }));
  }

  /** The KV store under tend's prefix, for state other than leases (see ConsulKv). */
  kv(): ConsulKv {
    return {
      list: async (path) => {
        const base = `${this.prefix}${path}`;
        return (await this.kvList(base)).map((entry) => ({
          key: entry.Key.slice(this.prefix.length),
          value: entry.Value ?? '',
          modifyIndex: entry.ModifyIndex,
        }));
      },
      compareAndSet: async (path, value, modifyIndex) => {
        const key = `${this.prefix}${path}`;
        const body = await this.ok('PUT', `/v1/kv/${key}`, (ctx) =>
          this.client.kv.set({ key: checkedKey(key), value, cas: modifyIndex, ctx }),
        );
        const written = jsonBody(body);
        if (typeof written !== 'boolean')
          throw this.notConsul('PUT', `/v1/kv/${key}`, 200, 'with neither true nor false');
        return written;
      },
      deleteTree: async (path) => {
        const key = `${this.prefix}${path}`;
        // Two deletes: Consul's recurse matches a string prefix, so `jobs/1` alone would take `jobs/10` with it.
        await this.ok('DELETE', `/v1/kv/${key}/`, (ctx) =>
          this.client.kv.del({ key: `${checkedKey(key)}/`, recurse: true, ctx }),
        );
        await this.ok('DELETE', `/v1/kv/${key}`, (ctx) => this.client.kv.del({ key: checkedKey(key), ctx }));
      },
    };
  }

  // ─── The coverage record (issue 18) ─────────────────────────────────────────────────────────────────────────────
  // With lease.backend consul, which instance covers which node is kept here too: `<prefix>coverage/<host id>/
  // <instance>`, a JSON value with the claim's expiry. No session: a claim must outlive the process that wrote it
  // (a tick is a short process), and readers decide liveness from `expiresAt` (src/core/coverage.ts). Lapsed claims are
  // kept for `schedule status` ("last covered by") and removed by ticks after COVERAGE_KEEP_MS (see removeCoverage).

  private coverageKey(claim: Pick<CoverageClaim, 'hostId' | 'instance'>): string {
    // node.name is free text: a "/" in it must not make another key level.
    return `${this.prefix}coverage/${claim.hostId}/${encodeURIComponent(claim.instance)}`;
  }

  /** Every claim, live or lapsed, each with the key's ModifyIndex (to remove it only if unchanged). */
  async coverageClaims(): Promise<(CoverageClaim & { modifyIndex: number })[]> {
    const out: (CoverageClaim & { modifyIndex: number })[] = [];
    for (const entry of await this.kvList(`${this.prefix}coverage`)) {
      const value = decodeValue<Omit<CoverageClaim, 'hostId' | 'instance'>>(entry);
      const [hostId, encoded] = entry.Key.slice(`${this.prefix}coverage/`.length).split('/');
      const instance = encoded === undefined ? undefined : safeDecode(encoded);
      if (!value || !hostId || !instance) continue;
      out.push({
        hostId,
        instance,
        address: String(value.address ?? ''),
        instanceHost: String(value.instanceHost ?? ''),
        kind: value.kind === 'node' ? 'node' : 'group',
        claimedAt: Number(value.claimedAt) || 0,
        expiresAt: Number(value.expiresAt) || 0,
        modifyIndex: entry.ModifyIndex,
      });
    }
    return out;
  }

  async writeCoverage(claims: readonly CoverageClaim[]): Promise<void> {
    for (const claim of claims) {
      const key = this.coverageKey(claim);
      const value = JSON.stringify({
        address: claim.address,
        instanceHost: claim.instanceHost,
        kind: claim.kind,
        claimedAt: claim.claimedAt,
        expiresAt: claim.expiresAt,
      });
      await this.ok('PUT', `/v1/kv/${key}`, (ctx) => this.client.kv.set({ key: checkedKey(key), value, ctx }));
    }
  }

  /** Removes claims read earlier, each only if nobody rewrote it since (check-and-set on its ModifyIndex). */
  async removeCoverage(claims: readonly (CoverageClaim & { modifyIndex?: number })[]): Promise<void> {
    for (const claim of claims) {
      const key = this.coverageKey(claim);
      await this.ok('DELETE', `/v1/kv/${key}`, (ctx) =>
        this.client.kv.del({
          key: checkedKey(key),
          ...(claim.modifyIndex !== undefined ? { cas: claim.modifyIndex } : {}),
          ctx,
        }),
      );
    }
  }

  async close(): Promise<void> {
    const sessions = [...this.announcementSessions.values()];
    this.announcementSessions.clear();
    await Promise.all(sessions.map((id) => this.destroySession(id).catch(() => undefined)));
  }
}
