/**
 * Issue 12 item 11: secrets are masked where outside text enters tend, never by search-and-replace over what tend
 * writes; secrets read from files are known the same way as those from the environment.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { runTend, tempDir } from '../cli/helpers.js';
import { validateConfig } from '../../../src/config/validate.js';
import type { TendConfig } from '../../../src/config/schema.js';
import { maskSecrets, resetSecrets } from '../../../src/config/secrets.js';
import { jolokiaClientFromConfig } from '../../../src/repair/jolokia-client.js';
import { consulBackend } from '../../../src/lease/factory.js';
import { createExecutor } from '../../../src/repair/index.js';
import { openSession } from '../../../src/cluster/session.js';

function config(raw: Record<string, unknown>): TendConfig {
  const result = validateConfig(raw, { env: {} });
  if (!result.config) throw new Error(result.errors.join('; '));
  return result.config;
}

/** An HTTP server on loopback that answers every request with `reply(req)` (a misbehaving server that echoes). */
async function echoServer(
  reply: (req: IncomingMessage, body: string, res: ServerResponse) => void,
): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => reply(req, body, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}`, server };
}

describe('secret masking: values, not substrings of the output', function () {
  afterEach(() => resetSecrets());

  it('TEND_CASSANDRA_PASSWORD=true: config check --json is valid JSON with "valid": true', async function () {
    const result = await runTend(['-c', 'tend.yml', '--json', 'config', 'check'], {
      env: { TEND_CASSANDRA_PASSWORD: 'true' },
      files: { 'tend.yml': 'cassandra: { auth: { username: tend } }\n' },
    });
    expect(result.code, result.stderr).to.equal(0);
    const report = JSON.parse(result.stdout) as { valid: unknown };
    expect(report.valid).to.equal(true);
  });

  it('a password `tend` leaves `keyspace: tend` alone in config show', async function () {
    const result = await runTend(['-c', 'tend.yml', 'config', 'show'], {
      env: { TEND_CASSANDRA_PASSWORD: 'tend' },
      files: { 'tend.yml': 'cassandra: { auth: { username: tend } }\n' },
    });
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.match(/^\s+keyspace: tend$/m);
    expect(result.stdout).to.match(/^\s+username: tend$/m);
    expect(result.stdout).to.not.include('[redacted]');
  });
});

describe('secrets read from files are masked in what servers echo', function () {
  afterEach(() => resetSecrets());
  const servers: Server[] = [];
  after(() => servers.forEach((server) => server.close()));

  it('executor.jolokia.passwordFile: an agent error quoting the password is masked', async function () {
    const dir = tempDir({ 'jolokia.pw': 'jolokia-file-secret\n' });
    const { url, server } = await echoServer((req, _body, res) => {
      const [, password] = Buffer.from(String(req.headers.authorization).split(' ')[1]!, 'base64')
        .toString('utf8')
        .split(':');
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ status: 500, error: `java.lang.SecurityException: bad password ${password}\n\tat x` }));
    });
    servers.push(server);
    const cfg = config({
      executor: {
        type: 'jolokia',
        jolokia: { url: `${url}/jolokia/`, user: 'tend', passwordFile: join(dir, 'jolokia.pw') },
      },
    });
    const client = await jolokiaClientFromConfig(cfg, {});
    const error = await client.read('a:b=c', 'X').then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).to.include('bad password [redacted]');
    expect(error?.message).to.not.include('jolokia-file-secret').and.not.include('\tat');
  });

  it('lease.consul.tokenFile: a Consul error quoting the token is masked', async function () {
    const dir = tempDir({ 'consul.token': 'consul-file-token-123\n' });
    const { url, server } = await echoServer((req, _body, res) => {
      res.statusCode = 500;
      res.setHeader('X-Consul-Knownleader', 'true');
      res.setHeader('X-Consul-Index', '1');
      res.end(`rpc error: token ${String(req.headers['x-consul-token'])} is broken`);
    });
    servers.push(server);
    const cfg = config({
      lease: {
        backend: 'consul',
        ttl: '60s',
        renewEvery: '10s',
        consul: { address: url, tokenFile: join(dir, 'consul.token') },
      },
    });
    const backend = await consulBackend(cfg, {});
    const error = await backend.tryAcquire('dc/dc1/slot-0', { name: 'n1', host: 'h' }, 60_000).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).to.include('token [redacted] is broken');
    expect(error?.message).to.not.include('consul-file-token-123');
  });

  it('executor.nodetool.passwordFile: nodetool output quoting the JMX password is masked', async function () {
    const dir = tempDir({ 'jmx.pw': 'monitorRole other-password\ncassandra jmx-file-secret\n' });
    const script = join(dir, 'nodetool');
    writeFileSync(script, '#!/bin/sh\necho "error: JMX refused cassandra/jmx-file-secret" >&2\nexit 1\n');
    chmodSync(script, 0o755);
    const cfg = config({
      executor: { type: 'nodetool', nodetool: { path: script, user: 'cassandra', passwordFile: join(dir, 'jmx.pw') } },
    });
    const executor = await createExecutor(cfg, {});
    const outcome = await executor.run(
      {
        id: 'ks.t#0',
        keyspace: 'ks',
        tables: ['t'],
        scope: 'table',
        ranges: [],
        replicaAddresses: ['127.0.0.1'],
        incremental: false,
        parallelism: 'parallel',
      },
      { timeoutMs: 10_000 },
    );
    expect(outcome.status).to.equal('failed');
    expect(outcome.message).to.include('cassandra/[redacted]');
    expect(outcome.message).to.not.include('jmx-file-secret');
    expect(maskSecrets('other-password')).to.equal('other-password');
  });

  it('cassandra.auth.passwordFile: the password is known once the session has read it', async function () {
    const dir = tempDir({ 'cassandra.pw': 'cassandra-file-secret\n' });
    const cfg = config({
      cassandra: {
        contactPoints: ['127.0.0.9'],
        localDatacenter: 'dc1',
        connectTimeout: '1s',
        auth: { username: 'tend', passwordFile: join(dir, 'cassandra.pw') },
      },
    });
    // Nothing listens on 127.0.0.9: the connect fails at once, after the password was read.
    await openSession(cfg, {}).catch(() => undefined);
    expect(maskSecrets('driver said cassandra-file-secret')).to.equal('driver said [redacted]');
  });
});
