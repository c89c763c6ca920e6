/**
 * Issue 12 item 1 (its cause): a failed connect must leave nothing open. With a misspelt
 * cassandra.localDatacenter the driver's control connection kept a socket to every contact point it tried, and
 * its shutdown() does nothing on a client that never connected, so the process lived on after its error.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { ConfigError } from '../../src/errors.js';
import { sandboxTendConfig, openTestSession } from '../support/sandbox-config.js';

function openSockets(): number {
  return process.getActiveResourcesInfo().filter((resource) => resource === 'TCPSocketWrap').length;
}

async function settledSockets(expected: number): Promise<number> {
  // Closing is asynchronous: give the sockets a moment, but not forever.
  for (let i = 0; i < 40 && openSockets() > expected; i++) await sleep(50);
  return openSockets();
}

describe('a failed connect leaves nothing open (real sandbox)', function () {
  it('a localDatacenter the cluster does not have: ConfigError (exit 3) naming the key and the real ones', async function () {
    const valid = sandboxTendConfig(1);
    const config = {
      ...valid,
      cassandra: { ...valid.cassandra, localDatacenter: 'dc3', contactPoints: ['127.0.0.1', '127.0.0.2', '127.0.0.3'] },
    };
    const before = openSockets();
    const error = await openTestSession(config).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as ConfigError).exitCode).to.equal(3);
    expect((error as ConfigError).problems.join('\n')).to.match(/cassandra\.localDatacenter: .*dc1.*dc2.*"dc3"/);
    expect(await settledSockets(before), 'TCP sockets left open').to.equal(before);
  });

  it('a successful connect keeps only the connections it uses (none left behind by the contact points it tried)', async function () {
    const config = sandboxTendConfig(1);
    const before = openSockets();
    const client = await openTestSession(config);
    await client.shutdown();
    expect(await settledSockets(before)).to.equal(before);
  });
});
