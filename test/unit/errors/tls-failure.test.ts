/**
 * describeTlsFailure on the errors real TLS handshakes produce (node:tls against a local TLS server with the test
 * PEM files of test/fixtures/tls, and errors captured against the secured sandbox): each failure an operator causes in
 * tend.yml is named in plain words, with the key to check, and never with OpenSSL's error dump.
 */
import { readFileSync } from 'node:fs';
import { createServer, connect, type Server, type ConnectionOptions } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { describeTlsFailure } from '../../../src/errors.js';

const TLS = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/tls');
const pem = (name: string) => readFileSync(join(TLS, name));

/** The error a client connection to `port` ends with (or null when the handshake succeeds and data flows). */
function handshake(port: number, options: ConnectionOptions): Promise<unknown> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, ...options }, () => {
      // TLS 1.3: the server judges our certificate after the client's handshake is done; its alert comes next.
      socket.write('ping');
    });
    socket.on('data', () => {
      socket.destroy();
      resolve(null);
    });
    socket.on('error', (error) => resolve(error));
  });
}

describe('describeTlsFailure: real handshakes in operator terms', function () {
  this.timeout(20_000);
  const servers: Server[] = [];
  let mutual: number;

  async function listen(server: Server): Promise<number> {
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  before(async function () {
    const echo = (socket: import('node:tls').TLSSocket) => socket.on('data', (data) => socket.end(data));
    mutual = await listen(
      createServer(
        {
          key: pem('server.key'),
          cert: pem('server.pem'),
          ca: pem('ca.pem'),
          requestCert: true,
          rejectUnauthorized: true,
        },
        echo,
      ),
    );
  });
  after(function () {
    for (const server of servers) server.close();
  });

  it('a server certificate no configured CA signed: names caFile', async function () {
    const error = await handshake(mutual, { cert: pem('client.pem'), key: pem('client.key') });
    const failure = describeTlsFailure(error, 'cassandra.tls');
    expect(failure?.message).to.match(/^the server's certificate is not signed by a CA tend trusts \(.+\)$/);
    expect(failure?.hint).to.contain('cassandra.tls.caFile');
  });

  it('a server certificate for another name', async function () {
    const error = await handshake(mutual, {
      ca: pem('ca.pem'),
      cert: pem('client.pem'),
      key: pem('client.key'),
      servername: 'cassandra.example.com',
    });
    expect(describeTlsFailure(error, 'lease.consul.tls')?.message).to.match(
      /^the server's certificate is not issued for the address tend connects to/,
    );
  });

  it('a client certificate the server does not trust: the alert, and certFile to check', function () {
    // node:tls servers close such a connection without an alert, so these are the errors Node raised against the
    // secured sandbox (test/secure/credential-failures.test.ts meets them live): Consul v1.16.1 answers
    // "unknown ca", Cassandra 5.0.8 "internal error".
    const consul = Object.assign(
      new Error(
        '807CC62FE27F0000:error:0A000418:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 48\n',
      ),
      { code: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', reason: 'tlsv1 alert unknown ca', library: 'SSL routines' },
    );
    const failure = describeTlsFailure(consul, 'lease.consul.tls');
    expect(failure?.message).to.equal('the server refused the TLS handshake (alert: tlsv1 alert unknown ca)');
    expect(failure?.hint).to.contain('lease.consul.tls.certFile');
    const cassandra = Object.assign(
      new Error(
        '800C86F46E7F0000:error:0A000438:SSL routines:ssl3_read_bytes:tlsv1 alert internal error:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 80\n',
      ),
      { code: 'ERR_SSL_TLSV1_ALERT_INTERNAL_ERROR', reason: 'tlsv1 alert internal error', library: 'SSL routines' },
    );
    expect(describeTlsFailure(cassandra, 'cassandra.tls')?.message).to.equal(
      'the server refused the TLS handshake (alert: tlsv1 alert internal error)',
    );
    expect(describeTlsFailure(cassandra, 'cassandra.tls')?.hint).to.contain('cassandra.tls.certFile');
  });

  it('no client certificate where one is required: set certFile and keyFile', async function () {
    const error = await handshake(mutual, { ca: pem('ca.pem') });
    const failure = describeTlsFailure(error, 'executor.jolokia.tls');
    expect(failure?.message).to.match(/^the server refused the TLS handshake \(alert: .*certificate required\)$/);
    expect(failure?.hint).to.equal(
      'the server requires a client certificate: set executor.jolokia.tls.certFile and executor.jolokia.tls.keyFile',
    );
  });

  it('the good case handshakes; errors that are not TLS are not described', async function () {
    expect(await handshake(mutual, { ca: pem('ca.pem'), cert: pem('client.pem'), key: pem('client.key') })).to.equal(
      null,
    );
    const refused = await handshake(1, { ca: pem('ca.pem') });
    expect((refused as NodeJS.ErrnoException).code).to.equal('ECONNREFUSED');
    expect(describeTlsFailure(refused, 'cassandra.tls')).to.equal(undefined);
    expect(describeTlsFailure(new Error('plain'), 'cassandra.tls')).to.equal(undefined);
    expect(describeTlsFailure(undefined, 'cassandra.tls')).to.equal(undefined);
  });
});
