/**
 * What the Consul backend adds to the `consul` npm client (src/lease/consul.ts says why), against local HTTP
 * stand-ins for the answers the sandbox's agent never gives: the deadline for a whole exchange, any timeout however
 * long, the status and headers of every answer (a 403, a server that is not Consul), and the token kept out of
 * messages. The Consul protocol itself is tested against the real agent (test/integration, test/e2e, test/secure).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import Consul from 'consul';
import { ConsulLeaseBackend } from '../../../src/lease/consul.js';
import { ClusterUnavailable } from '../../../src/errors.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

describe('consul backend on the consul client', function () {
  this.timeout(10_000);
  let server: Server;
  let address: string;
  let handler: Handler;
  const open = new Set<ServerResponse>();

  before(async function () {
    server = createServer((req, res) => {
      open.add(res);
      res.on('close', () => open.delete(res));
      req.resume();
      req.on('end', () => handler(req, res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    address = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(function () {
    for (const res of open) res.destroy();
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const backend = (requestTimeoutMs: number, token?: string) =>
    new ConsulLeaseBackend({ address, prefix: 'tend', requestTimeoutMs, ...(token ? { token } : {}) });

  it("the client's own timeout option cannot hold 30 days: it aborts at once (why the backend keeps its own)", async function () {
    handler = (_req, res) => setImmediate(() => res.writeHead(200, { 'x-consul-index': '1' }).end('[]'));
    const client = new Consul({ baseUrl: `${address}/v1` } as ConstructorParameters<typeof Consul>[0]);
    const kv = client.kv as unknown as { get(options: object): Promise<unknown> };
    const startedAt = Date.now();
    const error = await kv.get({ key: 'k', timeout: 30 * 86_400_000 }).catch((e: unknown) => e);
    expect(String(error)).to.match(/timed out/);
    expect(Date.now() - startedAt).to.be.below(1000);
  });

  it('a 30-day request timeout waits for a slow agent instead of failing at once', async function () {
    handler = (_req, res) => void setTimeout(() => res.writeHead(404, { 'x-consul-index': '3' }).end(), 300);
    expect(await backend(30 * 86_400_000).list()).to.deep.equal([]);
  });

  it('an agent that sends headers and then trickles: ClusterUnavailable when the deadline passes', async function () {
    handler = (_req, res) => {
      res.writeHead(200, { 'x-consul-index': '1', 'content-type': 'application/json' });
      res.write('[');
    };
    const startedAt = Date.now();
    const error = await backend(400)
      .list()
      .catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ClusterUnavailable);
    expect((error as Error).message).to.match(
      /GET http:\/\/127\.0\.0\.1:\d+\/v1\/kv\/tend\/leases\/: no answer within 400 ms/,
    );
    expect(Date.now() - startedAt).to.be.below(3000);
  });

  it('a 404 without X-Consul-Index is not "no leases held": the server is not a Consul agent', async function () {
    handler = (_req, res) => res.writeHead(404).end('not found');
    const error = await backend(2000)
      .list()
      .catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ClusterUnavailable);
    expect((error as Error).message).to.match(/does not answer like a Consul agent: .*404 without X-Consul-Index/);
  });

  it('a KV read that carries X-Consul-Index but no list of entries is not Consul either', async function () {
    handler = (_req, res) => res.writeHead(200, { 'x-consul-index': '1', 'content-type': 'text/html' }).end('<html>');
    const error = await backend(2000)
      .list()
      .catch((e: unknown) => e);
    expect((error as Error).message).to.match(/does not answer like a Consul agent: .*without a list of KV entries/);
  });

  it("a refused token (403): exit 5 with Consul's words and the policy tend needs, never the token", async function () {
    const seen: Array<string | undefined> = [];
    handler = (req, res) => {
      seen.push(req.headers['x-consul-token'] as string | undefined);
      res
        .writeHead(403, { 'content-type': 'text/plain' })
        .end("Permission denied: token with AccessorID 'a-1' lacks permission 'session:write' on \"n1\"");
    };
    const error = await backend(2000, 'the-secret-token')
      .tryAcquire('r', { name: 'n', host: 'h' }, 30_000)
      .catch((e: unknown) => e);
    expect(seen).to.deep.equal(['the-secret-token']);
    expect(error).to.be.instanceOf(ClusterUnavailable);
    expect((error as ClusterUnavailable).exitCode).to.equal(5);
    expect((error as Error).message).to.include("lacks permission 'session:write'");
    expect((error as ClusterUnavailable).hints.join(' ')).to.include('session_prefix "" { policy = "write" }');
    expect(
      JSON.stringify({ message: (error as Error).message, hints: (error as ClusterUnavailable).hints }),
    ).not.to.include('the-secret-token');
  });

  it('session, acquire and release go to the paths, queries and bodies of the Consul API', async function () {
    const calls: string[] = [];
    handler = (req, res) => {
      calls.push(`${req.method} ${req.url}`);
      const json = { 'content-type': 'application/json' };
      if (req.url!.startsWith('/v1/session/create')) res.writeHead(200, json).end('{"ID":"s-1"}');
      else res.writeHead(200, json).end('true');
    };
    const consul = new ConsulLeaseBackend({ address, prefix: '/tend/', datacenter: 'dc9', requestTimeoutMs: 2000 });
    const result = await consul.tryAcquire('ks.t', { name: 'n', host: 'h' }, 30_000);
    if (!result.acquired) throw new Error('expected the lease');
    expect(await consul.release(result.lease)).to.equal(true);
    expect(calls).to.deep.equal([
      'PUT /v1/session/create?dc=dc9',
      'PUT /v1/kv/tend%2Fleases%2Fks.t?acquire=s-1&dc=dc9',
      'PUT /v1/kv/tend%2Fleases%2Fks.t?release=s-1&dc=dc9',
      'PUT /v1/session/destroy/s-1?dc=dc9',
    ]);
  });
});
