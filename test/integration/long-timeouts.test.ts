/**
 * Issue 12 item 2 against the real servers: durations above 24.8 days handed to the Cassandra driver, to the
 * Consul backend and to the Jolokia client must not turn into a 1 ms timeout. The values are set on a validated
 * configuration afterwards: `config check` refuses them, but the adapters must be safe on their own.
 */
import { expect } from 'chai';
import { openSession } from '../../src/cluster/session.js';
import { ConsulLeaseBackend } from '../../src/lease/consul.js';
import { JolokiaClient } from '../../src/repair/jolokia-client.js';
import { sandboxTendConfig } from '../support/sandbox-config.js';
import { env } from '../support/sandbox-clients.js';
import { delayingProxy, type Listener } from '../support/tcp-fault.js';

const THIRTY_DAYS = 30 * 86_400_000;

describe('timeouts above 24.8 days (real sandbox)', function () {
  // Answers come 200 ms late through a proxy: a timeout that overflowed to 1 ms fires while the server is silent.
  let proxies: Listener[] = [];
  // Node clamps an overflowing socket timeout but prints a TimeoutOverflowWarning into the journal: none may appear.
  let warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
  beforeEach(() => {
    warnings = [];
    process.on('warning', onWarning);
  });
  afterEach(async () => {
    process.off('warning', onWarning);
    expect(warnings.filter((w) => w.startsWith('TimeoutOverflowWarning'))).to.deep.equal([]);
    await Promise.all(proxies.map((proxy) => proxy.close()));
    proxies = [];
  });
  async function slow(url: string): Promise<string> {
    const target = new URL(url);
    const proxy = await delayingProxy({ host: target.hostname, port: Number(target.port) }, 200);
    proxies.push(proxy);
    target.host = `${proxy.host}:${proxy.port}`;
    return target.toString();
  }

  it('cassandra.requestTimeout and connectTimeout 30d: requests are answered, not timed out at once', async function () {
    const valid = sandboxTendConfig(1);
    const config = {
      ...valid,
      cassandra: { ...valid.cassandra, requestTimeout: THIRTY_DAYS, connectTimeout: THIRTY_DAYS },
    };
    const client = await openSession(config, {});
    try {
      const row = (await client.execute('SELECT release_version FROM system.local')).first();
      expect(String(row.get('release_version'))).to.match(/^\d+\./);
    } finally {
      await client.shutdown();
    }
  });

  it('Consul requests with a 30d timeout are answered', async function () {
    const backend = new ConsulLeaseBackend({
      address: await slow(env.consul.address),
      prefix: `tend-long-timeouts-${Date.now()}`,
      requestTimeoutMs: THIRTY_DAYS,
    });
    expect(await backend.list()).to.deep.equal([]);
  });

  it('Jolokia requests with a 30d timeout are answered', async function () {
    const client = new JolokiaClient({ url: await slow(env.nodes[0]!.jolokiaUrl), requestTimeoutMs: THIRTY_DAYS });
    const version = await client.read<string>('org.apache.cassandra.db:type=StorageService', 'ReleaseVersion');
    expect(version).to.match(/^\d+\./);
  });
});
