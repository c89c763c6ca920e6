/**
 * A small Jolokia 2.x client: JSON over HTTP(S) POST, one timeout per request, basic auth, PEM TLS.
 *
 * node:http(s) rather than fetch: fetch in Node 20 cannot take a client certificate or a private CA without the
 * undici package, and tend needs both for a Jolokia agent behind mutual TLS.
 *
 * Longs: every request carries `serializeLong=string`, so 64-bit values Jolokia sends back (tokens,
 * repairedAt) arrive as strings and never pass through a JavaScript number. Values tend sends are strings too
 * (RepairOption takes a Map<String,String>).
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readConfiguredText } from '../config/files.js';
import { ClusterUnavailable, describeTlsFailure } from '../errors.js';
import { setLongTimeout, timerDelay } from '../timers.js';
import { beginActivity } from '../activity.js';
import { externalMessage, sanitizeExternal } from '../output/sanitize.js';
import { readSecret, secretOrigins, type Env } from '../config/secrets.js';
import type { TendConfig } from '../config/schema.js';

export interface JolokiaTls {
  readonly ca?: string | undefined;
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
  readonly rejectUnauthorized: boolean;
}

export interface JolokiaClientOptions {
  readonly url: string;
  readonly user?: string | undefined;
  readonly password?: string | undefined;
  readonly tls?: JolokiaTls | undefined;
  /** Per-request limit (default 30 s; from the configuration: cassandra.requestTimeout). */
  readonly requestTimeoutMs?: number;
}

export interface JolokiaExec {
  readonly type: 'exec';
  readonly mbean: string;
  readonly operation: string;
  readonly arguments?: readonly unknown[];
}

export interface JolokiaRead {
  readonly type: 'read';
  readonly mbean: string;
  readonly attribute?: string;
}

export type JolokiaRequest = JolokiaExec | JolokiaRead;

/** A request Jolokia answered with an error status (the HTTP status is 200 even then). */
export class JolokiaRequestError extends Error {
  readonly status: number;
  readonly errorType: string | undefined;
  constructor(message: string, status: number, errorType: string | undefined) {
    super(message);
    this.name = 'JolokiaRequestError';
    this.status = status;
    this.errorType = errorType;
  }
}

interface JolokiaReply {
  status: number;
  value?: unknown;
  error?: string;
  error_type?: string;
}

export class JolokiaClient {
  private readonly url: URL;
  private readonly headers: Record<string, string>;
  private readonly tls: JolokiaTls | undefined;
  private readonly timeoutMs: number;

  constructor(options: JolokiaClientOptions) {
    this.url = new URL(options.url);
    this.url.searchParams.set('serializeLong', 'string');
    this.headers = { 'content-type': 'application/json' };
    if (options.user !== undefined) {
      const token = Buffer.from(`${options.user}:${options.password ?? ''}`).toString('base64');
      this.headers.authorization = `Basic ${token}`;
    }
    this.tls = options.tls;
    this.timeoutMs = options.requestTimeoutMs ?? 30_000;
  }

  /** Where requests go, without credentials (for messages). */
  get endpoint(): string {
    return `${this.url.origin}${this.url.pathname}`;
  }

  async exec<T>(mbean: string, operation: string, args: readonly unknown[] = [], signal?: AbortSignal): Promise<T> {
    return (await this.request({ type: 'exec', mbean, operation, arguments: args }, signal)) as T;
  }

  async read<T>(mbean: string, attribute?: string, signal?: AbortSignal): Promise<T> {
    return (await this.request(
      attribute === undefined ? { type: 'read', mbean } : { type: 'read', mbean, attribute },
      signal,
    )) as T;
  }

  /** One request; throws JolokiaRequestError for an error reply, ClusterUnavailable when the agent is unreachable. */
  async request(body: JolokiaRequest, signal?: AbortSignal): Promise<unknown> {
    const [reply] = await this.post([body], signal);
    return valueOf(reply!);
  }

  /** Several requests in one round trip; each element is the value or the error of that request. */
  async bulk(bodies: readonly JolokiaRequest[], signal?: AbortSignal): Promise<Array<unknown>> {
    if (bodies.length === 0) return [];
    const replies = await this.post(bodies, signal);
    return replies.map((reply) => {
      try {
        return valueOf(reply);
      } catch (error) {
        return error;
      }
    });
  }

  /** A transport failure as exit 5, saying what failed in TLS terms when it was the handshake. */
  private unreachable(error: Error, https: boolean): ClusterUnavailable {
    const tls = https ? describeTlsFailure(error, 'executor.jolokia.tls') : undefined;
    if (tls)
      return new ClusterUnavailable('jolokia', `${this.endpoint}: ${tls.message}`, { cause: error, hints: [tls.hint] });
    // The JVM agent's HTTPS server drops a connection whose client certificate it does not trust without a TLS
    // alert, so all the client sees is the connection closing before an answer (checked on Jolokia 2.5.1).
    if (https && this.tls?.cert && (error as NodeJS.ErrnoException).code === 'ECONNRESET') {
      return new ClusterUnavailable(
        'jolokia',
        `${this.endpoint}: the agent closed the connection without answering (${externalMessage(error)})`,
        {
          cause: error,
          hints: [
            "the Jolokia agent closes the connection when it does not trust the client certificate: check that executor.jolokia.tls.certFile is signed by a CA in the agent's caCert",
          ],
        },
      );
    }
    return new ClusterUnavailable('jolokia', `${this.endpoint}: ${externalMessage(error)}`, { cause: error });
  }

  private async post(bodies: readonly JolokiaRequest[], signal?: AbortSignal): Promise<JolokiaReply[]> {
    const payload = JSON.stringify(bodies);
    const https = this.url.protocol === 'https:';
    const send = https ? httpsRequest : httpRequest;
    const first = bodies[0]!;
    const end = beginActivity(
      `Jolokia ${first.type === 'exec' ? first.operation.replace(/\(.*$/, '') : `read ${first.attribute ?? first.mbean}`} at ${this.endpoint}`,
    );
    const text = await new Promise<string>((resolve, reject) => {
      const req = send(
        this.url,
        {
          method: 'POST',
          headers: { ...this.headers, 'content-length': Buffer.byteLength(payload), connection: 'close' },
          // A fresh connection per request: on a reused one the agent's separate header/body writes meet
          // delayed ACKs and every request costs ~40 ms (measured), which a fast repair poll loop multiplies.
          agent: false,
          // Set before the socket connects, so an agent that never accepts is bounded too (req.setTimeout starts
          // only once connected). Clamped: a socket timeout above 24.8 days would overflow and fire at once.
          timeout: timerDelay(this.timeoutMs),
          ...(https && this.tls
            ? {
                ca: this.tls.ca,
                cert: this.tls.cert,
                key: this.tls.key,
                rejectUnauthorized: this.tls.rejectUnauthorized,
              }
            : {}),
          ...(signal ? { signal } : {}),
        },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const body = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode === 401 || res.statusCode === 403) {
              reject(
                new ClusterUnavailable('jolokia', `${this.endpoint} refused the credentials (HTTP ${res.statusCode})`, {
                  hints: ['check executor.jolokia.user and passwordFile (or TEND_JOLOKIA_PASSWORD)'],
                }),
              );
            } else if (res.statusCode !== 200) {
              reject(new ClusterUnavailable('jolokia', `${this.endpoint} answered HTTP ${res.statusCode}`));
            } else resolve(body);
          });
          res.on('error', reject);
        },
      );
      // The whole exchange is bounded too: an agent that trickles bytes never trips the socket's idle timeout.
      const silent = () =>
        req.destroy(new ClusterUnavailable('jolokia', `${this.endpoint} did not answer within ${this.timeoutMs} ms`));
      const deadline = setLongTimeout(silent, this.timeoutMs);
      req.on('close', () => deadline.clear());
      req.on('timeout', silent);
      req.on('error', (error: Error) => {
        if (error instanceof ClusterUnavailable || error.name === 'AbortError') reject(error);
        else reject(this.unreachable(error, https));
      });
      req.end(payload);
    }).finally(end);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new ClusterUnavailable('jolokia', `${this.endpoint} did not answer with JSON`, { cause: error });
    }
    if (!Array.isArray(parsed)) parsed = [parsed];
    return parsed as JolokiaReply[];
  }
}

function valueOf(reply: JolokiaReply): unknown {
  if (reply.status !== 200) {
    // The agent's text (often a Java exception with its stack) enters tend here: one line, secrets masked.
    throw new JolokiaRequestError(
      reply.error === undefined ? `Jolokia status ${reply.status}` : sanitizeExternal(reply.error),
      reply.status,
      reply.error_type,
    );
  }
  return reply.value ?? null;
}

/** A client from tend's configuration: password from the file or TEND_JOLOKIA_PASSWORD, PEM files read now. */
export async function jolokiaClientFromConfig(
  config: TendConfig,
  env: Env,
  read: (path: string) => Promise<string> = readConfiguredText,
): Promise<JolokiaClient> {
  const jolokia = config.executor.jolokia;
  const password = await readSecret(secretOrigins(config, env).jolokiaPassword, env, read);
  const tls = jolokia.tls;
  return new JolokiaClient({
    url: jolokia.url,
    // One request limit for every outside system an operator configures: Cassandra's (Consul uses it too).
    requestTimeoutMs: config.cassandra.requestTimeout,
    user: jolokia.user,
    password,
    tls: tls
      ? {
          ca: tls.caFile ? await read(tls.caFile) : undefined,
          cert: tls.certFile ? await read(tls.certFile) : undefined,
          key: tls.keyFile ? await read(tls.keyFile) : undefined,
          rejectUnauthorized: tls.rejectUnauthorized,
        }
      : undefined,
  });
}
