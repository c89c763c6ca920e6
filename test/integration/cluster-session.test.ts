import { expect } from 'chai';
import { openSession, clusterNow } from '../../src/cluster/session.js';
import { ClusterUnavailable } from '../../src/errors.js';
import { sandboxTendConfig } from '../support/sandbox-config.js';

describe('cluster session (real sandbox)', function () {
  it('discovers the local datacenter from the first contact point when the config names none', async function () {
    const config = sandboxTendConfig(3, {}, (raw) => {
      delete (raw.cassandra as { localDatacenter?: string }).localDatacenter;
    });
    const client = await openSession(config, {});
    try {
      const row = (await client.execute('SELECT data_center FROM system.local')).first();
      expect(row.get('data_center')).to.equal('dc2');
      const now = await clusterNow(client);
      expect(Math.abs(now - Date.now())).to.be.lessThan(60_000);
    } finally {
      await client.shutdown();
    }
  });

  it('fails fast with ClusterUnavailable (exit 5) naming the host when nothing listens', async function () {
    // 127.0.0.9 is on loopback and no sandbox instance uses it (instance 0 has 127.0.0.1–4, instance N 127.0.N.x):
    // the connection is refused at once.
    const config = sandboxTendConfig(1, {}, (raw) => {
      raw.cassandra.contactPoints = ['127.0.0.9'];
      raw.cassandra.connectTimeout = '2s';
    });
    const error = await openSession(config, {}).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(ClusterUnavailable);
    expect((error as ClusterUnavailable).exitCode).to.equal(5);
    expect((error as Error).message).to.include('127.0.0.9');
  });
});
