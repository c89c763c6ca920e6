import { expect } from 'chai';
import { validateConfig } from '../../../src/config/validate.js';

function errorsFor(lease: Record<string, unknown>): string[] {
  return validateConfig({ cassandra: { contactPoints: ['127.0.0.1'] }, lease }, { env: {} }).errors;
}

describe('lease config rules', function () {
  const cases: Array<{ name: string; lease: Record<string, unknown>; expect: string[] }> = [
    {
      name: 'consul ttl below Consul minimum (below every backend minimum since issue 12)',
      lease: { backend: 'consul', ttl: '5s', renewEvery: '1s' },
      expect: ['lease.ttl: expected a duration between 10s and 1d'],
    },
    {
      name: 'consul ttl below twice the minimum',
      lease: { backend: 'consul', ttl: '15s', renewEvery: '2s' },
      expect: ['lease.ttl: must be at least 20s with the consul backend'],
    },
    {
      name: 'consul renewal not within half the ttl',
      lease: { backend: 'consul', ttl: '30s', renewEvery: '15s' },
      expect: ['lease.renewEvery: must be shorter than half of lease.ttl with the consul backend'],
    },
    { name: 'consul defaults are fine', lease: { backend: 'consul' }, expect: [] },
    { name: 'cassandra ttl of 15s is fine', lease: { backend: 'cassandra', ttl: '15s', renewEvery: '2s' }, expect: [] },
  ];
  for (const testCase of cases) {
    it(testCase.name, function () {
      const errors = errorsFor(testCase.lease);
      if (testCase.expect.length === 0) expect(errors).to.deep.equal([]);
      for (const expected of testCase.expect)
        expect(
          errors.some((error) => error.startsWith(expected)),
          errors.join('\n'),
        ).to.equal(true);
    });
  }
});
