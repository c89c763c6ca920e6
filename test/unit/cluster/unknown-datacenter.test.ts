import { expect } from 'chai';
import cassandra from 'cassandra-driver';
import { unknownDatacenter } from '../../../src/cluster/session.js';

describe('cluster/session: a localDatacenter the cluster does not have', () => {
  it('is a ConfigError (exit 3) listing the datacenters the driver found, sorted whatever order it met them in', () => {
    const refusal = (found: string) =>
      new cassandra.errors.NoHostAvailableError({
        '127.0.0.1:9042': new Error(
          `localDataCenter was configured as 'dc3', but only found hosts in data centers: [${found}]`,
        ),
      });
    for (const found of ['dc2, dc1', 'dc1, dc2']) {
      const error = unknownDatacenter(refusal(found), 'dc3');
      expect(error?.exitCode).to.equal(3);
      expect(error?.problems).to.deep.equal([
        `cassandra.localDatacenter: expected one of the cluster's datacenters (dc1, dc2), found "dc3"`,
      ]);
    }
    expect(unknownDatacenter(refusal('dc1'), undefined)).to.equal(undefined);
    expect(unknownDatacenter(new Error('other'), 'dc3')).to.equal(undefined);
  });
});
