import { expect } from 'chai';
import { readNodeReleases, requireSupportedCassandra } from '../../src/cluster/cassandra-version.js';
import { CASSANDRA_VERSION, NODES } from '../sandbox/src/layout.js';
import { nodeClient } from '../support/sandbox-clients.js';

describe('Cassandra version check against the sandbox (real release_version)', function () {
  it(`every node reports ${CASSANDRA_VERSION}, and the check accepts it`, async function () {
    const client = nodeClient(2);
    try {
      const releases = await readNodeReleases(client);
      expect(releases.map((r) => r.address).sort()).to.deep.equal(NODES.map((n) => n.address).sort());
      expect(releases.every((r) => r.releaseVersion === CASSANDRA_VERSION)).to.equal(true);
      expect((await requireSupportedCassandra(client)).text).to.equal(CASSANDRA_VERSION);
    } finally {
      await client.shutdown();
    }
  });
});
