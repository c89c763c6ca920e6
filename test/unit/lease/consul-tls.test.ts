/**
 * The Consul backend's plumbing that the sandbox (plain HTTP, no ACLs) cannot show: HTTPS verified against the
 * configured CA, the ACL token from lease.consul.tokenFile or TEND_CONSUL_TOKEN in X-Consul-Token, and an
 * unreachable or untrusted agent reported as ClusterUnavailable (exit 5). The HTTPS endpoint is a local
 * stand-in that answers session create; the Consul protocol itself is tested against the real agent.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { consulBackendFor as consulBackend } from '../../support/adapters.js';
import { ClusterUnavailable } from '../../../src/errors.js';
import { validateConfig } from '../../../src/config/validate.js';

describe('consul backend: HTTPS with a CA, ACL token', function () {
  this.timeout(20_000);
  const dir = mkdtempSync(join(tmpdir(), 'tend-consul-tls-'));
  let server: Server;
  let address: string;
  const seen: Array<{ url: string; token: string | undefined }> = [];

  before(async function () {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'ca.pem'),
      ],
      { stdio: 'ignore' },
    );
    server = createServer(
      { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'ca.pem')) },
      (req, res) => {
        seen.push({ url: req.url ?? '', token: req.headers['x-consul-token'] as string | undefined });
        req.resume();
        req.on('end', () => {
          if (req.url?.startsWith('/v1/session/create')) res.end('{"ID":"s-1"}');
          else if (req.url?.startsWith('/v1/kv/')) res.end('true');
          else res.end('true');
        });
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    address = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    writeFileSync(join(dir, 'token'), 'secret-token-from-file\n');
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  function config(consul: Record<string, unknown>) {
    const result = validateConfig(
      {
        cassandra: { contactPoints: ['127.0.0.1'], requestTimeout: '3s' },
        lease: { backend: 'consul', consul: { address, ...consul } },
      },
      { env: {} },
    );
    if (!result.config) throw new Error(result.errors.join('; '));
    return result.config;
  }

  it('verifies the agent with the configured CA and sends the token from the file', async function () {
    const backend = await consulBackend(
      config({ tokenFile: join(dir, 'token'), tls: { caFile: join(dir, 'ca.pem') } }),
      {},
    );
    const result = await backend.tryAcquire('r', { name: 'n', host: 'h' }, 30_000);
    expect(result.acquired).to.equal(true);
    expect(seen.at(-1)?.token).to.equal('secret-token-from-file');
    expect(seen.some((call) => call.url.startsWith('/v1/session/create'))).to.equal(true);
  });

  it('takes the token from TEND_CONSUL_TOKEN when no file is configured', async function () {
    const backend = await consulBackend(config({ tls: { caFile: join(dir, 'ca.pem') } }), {
      TEND_CONSUL_TOKEN: 'token-from-env',
    });
    await backend.tryAcquire('r', { name: 'n', host: 'h' }, 30_000);
    expect(seen.at(-1)?.token).to.equal('token-from-env');
  });

  it('refuses an agent whose certificate the CA does not vouch for: ClusterUnavailable (exit 5)', async function () {
    const backend = await consulBackend(config({}), {});
    const error = await backend.tryAcquire('r', { name: 'n', host: 'h' }, 30_000).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ClusterUnavailable);
    expect((error as ClusterUnavailable).exitCode).to.equal(5);
    expect((error as Error).message).to.match(/certificate/i);
  });

  it('an agent that does not listen is ClusterUnavailable naming the address', async function () {
    const backend = await consulBackend(config({ address: 'http://127.0.0.1:9' }), {});
    const error = await backend.list().catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ClusterUnavailable);
    expect((error as Error).message).to.include('127.0.0.1:9');
  });
});
