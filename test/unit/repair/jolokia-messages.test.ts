/** Cassandra's failure messages as they reach tend's log: the reason is kept, range lists are counted. */
import { expect } from 'chai';
import { countRanges } from '../../../src/repair/jolokia-executor.js';
import { sanitizeExternal } from '../../../src/output/sanitize.js';

describe('Jolokia failure messages', function () {
  it('a session message listing 48 ranges keeps its reason inside the length limit', function () {
    const ranges = Array.from(
      { length: 48 },
      (_, i) => `(${i * 1000}000000000000000,${i * 1000 + 500}000000000000000]`,
    );
    const message = `Repair session 6a09fb30-ef05-11f1-b1c3-a79e77781f7b for range [${ranges.join(', ')}] failed with error Endpoint /127.0.0.3:7000 died`;
    expect(sanitizeExternal(message)).to.not.include('died');
    expect(sanitizeExternal(countRanges(message))).to.equal(
      'Repair session 6a09fb30-ef05-11f1-b1c3-a79e77781f7b for 48 ranges failed with error Endpoint /127.0.0.3:7000 died',
    );
  });

  it('one range, and messages without a range list, are left readable', function () {
    expect(countRanges('session x for range [(-5,3]] failed')).to.equal('session x for 1 range failed');
    expect(countRanges('Endpoint not alive: /127.0.0.3:7000')).to.equal('Endpoint not alive: /127.0.0.3:7000');
  });
});
