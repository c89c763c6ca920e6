/**
 * The Jolokia client's HTTP side against local servers: basic auth, mutual TLS with PEM files, timeouts and
 * error replies. (The repair protocol itself is exercised against the sandbox's real agents in
 * test/integration/repair-jolokia.test.ts.)
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { ClusterUnavailable } from '../../../src/errors.js';
import { JolokiaClient, JolokiaRequestError } from '../../../src/repair/jolokia-client.js';
import { jolokiaSettings } from '../../../src/app/adapters.js';
import { secretSource } from '../../../src/config/secrets.js';
import { validateConfig } from '../../../src/config/validate.js';

const TLS = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/tls');
const pem = (name: string) => readFileSync(join(TLS, name), 'utf8');

interface Seen {
  url: string;
  authorization: string | undefined;
  body: unknown;
  clientCert: string | undefined;
}

type Handler = (req: IncomingMessage, body: unknown, res: ServerResponse) => void;

const okHandler: Handler = (_req, body, res) => {
  const requests = Array.isArray(body) ? body : [body];
  res.end(JSON.stringify(requests.map(() => ({ status: 200, value: '9223372036854775807' }))));
};

async function listen(server: Server, seen: Seen[], handler: Handler): Promise<number> {
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body: unknown = JSON.parse(Buffer.concat(chunks).toString());
      const socket = req.socket as TLSSocket;
      const cert = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined;
      seen.push({
        url: req.url ?? '',
        authorization: req.headers.authorization,
        body,
        clientCert: cert && 'subject' in cert ? String(cert.subject?.CN) : undefined,
      });
      handler(req, body, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('JolokiaClient (HTTP)', function () {
  const servers: Server[] = [];
  afterEach(async function () {
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });

  async function http(handler: Handler = okHandler) {
    const seen: Seen[] = [];
    const server = createHttpServer();
    servers.push(server);
    const port = await listen(server, seen, handler);
    return { seen, url: `http://127.0.0.1:${port}/jolokia/` };
  }

  it('POSTs JSON with basic auth and asks for longs as strings', async function () {
    const { seen, url } = await http();
    const client = new JolokiaClient({ url, user: 'tend', password: 's3cret' });
    const value = await client.exec('org.apache.cassandra.db:type=StorageService', 'repairAsync', ['ks', { a: 'b' }]);
    expect(value).to.equal('9223372036854775807');
    expect(seen[0]!.url).to.equal('/jolokia/?serializeLong=string');
    expect(seen[0]!.authorization).to.equal(`Basic ${Buffer.from('tend:s3cret').toString('base64')}`);
    expect(seen[0]!.body).to.deep.equal([
      {
        type: 'exec',
        mbean: 'org.apache.cassandra.db:type=StorageService',
        operation: 'repairAsync',
        arguments: ['ks', { a: 'b' }],
      },
    ]);
  });

  it('an error reply (HTTP 200, status 500) is a JolokiaRequestError with the Java message', async function () {
    const { url } = await http((_req, _body, res) =>
      res.end(JSON.stringify([{ status: 500, error: 'java.lang.IllegalArgumentException : bad', error_type: 'x' }])),
    );
    const error = await new JolokiaClient({ url }).exec('m', 'o').catch((e: unknown) => e);
    expect(error).to.be.instanceOf(JolokiaRequestError);
    expect((error as Error).message).to.equal('java.lang.IllegalArgumentException : bad');
  });

  it('HTTP 401 is ClusterUnavailable naming the credentials', async function () {
    const { url } = await http((_req, _body, res) => {
      res.statusCode = 401;
      res.end('no');
    });
    const error = await new JolokiaClient({ url, user: 'tend', password: 'wrong' }).exec('m', 'o').catch((e) => e);
    expect(error).to.be.instanceOf(ClusterUnavailable);
    expect((error as Error).message).to.match(/refused the credentials/);
    expect((error as Error).message).to.not.contain('wrong');
  });

  it('a request that gets no answer times out as ClusterUnavailable', async function () {
    const { url } = await http(() => undefined);
    const error = await new JolokiaClient({ url, requestTimeoutMs: 50 }).exec('m', 'o').catch((e) => e);
    expect(error).to.be.instanceOf(ClusterUnavailable);
    expect((error as Error).message).to.match(/did not answer within 50 ms/);
  });

  it('connection refused is ClusterUnavailable', async function () {
    const error = await new JolokiaClient({ url: 'http://127.0.0.1:1/jolokia/' }).exec('m', 'o').catch((e) => e);
    expect(error).to.be.instanceOf(ClusterUnavailable);
  });

  it('mutual TLS with PEM CA, client certificate and key', async function () {
    const seen: Seen[] = [];
    const server = createHttpsServer({
      key: pem('server.key'),
      cert: pem('server.pem'),
      ca: pem('ca.pem'),
      requestCert: true,
      rejectUnauthorized: true,
    });
    servers.push(server);
    const port = await listen(server, seen, okHandler);
    const url = `https://127.0.0.1:${port}/jolokia/`;

    const client = new JolokiaClient({
      url,
      tls: { ca: pem('ca.pem'), cert: pem('client.pem'), key: pem('client.key'), rejectUnauthorized: true },
    });
    expect(await client.read('m', 'a')).to.equal('9223372036854775807');
    expect(seen[0]!.clientCert).to.equal('tend test client');

    // Without the private CA the server certificate is refused.
    const untrusted = await new JolokiaClient({
      url,
      tls: { cert: pem('client.pem'), key: pem('client.key'), rejectUnauthorized: true },
    })
      .read('m', 'a')
      .catch((e: unknown) => e);
    expect(untrusted).to.be.instanceOf(ClusterUnavailable);
    // Without a client certificate the server refuses the handshake.
    const anonymous = await new JolokiaClient({ url, tls: { ca: pem('ca.pem'), rejectUnauthorized: true } })
      .read('m', 'a')
      .catch((e: unknown) => e);
    expect(anonymous).to.be.instanceOf(ClusterUnavailable);
  });

  it('from configuration: password file first line, PEM files read', async function () {
    const { seen, url } = await http();
    const files: Record<string, string> = { '/etc/tend/jolokia.pw': 'from-file\nignored\n' };
    const { config, errors } = validateConfig(
      { executor: { type: 'jolokia', jolokia: { url, user: 'tend', passwordFile: '/etc/tend/jolokia.pw' } } },
      { env: {} },
    );
    if (!config) throw new Error(errors.join('; '));
    const read = async (path: string) => {
      const content = files[path];
      if (content === undefined) throw new Error(`no ${path}`);
      return content;
    };
    const secrets = secretSource(config, { TEND_JOLOKIA_PASSWORD: 'from-env' }, read);
    const client = new JolokiaClient(
      await jolokiaSettings(config, secrets, async (path) => Buffer.from(await read(path))),
    );
    await client.read('m');
    expect(seen[0]!.authorization).to.equal(`Basic ${Buffer.from('tend:from-file').toString('base64')}`);
  });
});
