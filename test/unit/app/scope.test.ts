import { expect } from 'chai';
import { cqlName, parseScopeArgument, resolveScope } from '../../../src/app/scope.js';
import { UsageError } from '../../../src/errors.js';

const SCHEMA = {
  shop: ['orders', 'order_items', 'customers'],
  Analytics: ['Events', 'daily'],
  analytics_v2: ['events'],
};

function usage(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(UsageError);
    return error as UsageError;
  }
  throw new Error('expected a UsageError');
}

describe('scope argument KEYSPACE[.TABLE]', () => {
  const parsed: Array<[string, unknown]> = [
    ['shop', { keyspace: { name: 'shop', quoted: false } }],
    ['shop.orders', { keyspace: { name: 'shop', quoted: false }, table: { name: 'orders', quoted: false } }],
    [
      '"Analytics"."Events"',
      { keyspace: { name: 'Analytics', quoted: true }, table: { name: 'Events', quoted: true } },
    ],
    ['"a.b"."c""d"', { keyspace: { name: 'a.b', quoted: true }, table: { name: 'c"d', quoted: true } }],
    ['"Analytics".daily', { keyspace: { name: 'Analytics', quoted: true }, table: { name: 'daily', quoted: false } }],
  ];
  for (const [text, expected] of parsed) {
    it(`parses ${text}`, () => expect(parseScopeArgument(text)).to.deep.equal(expected));
  }

  for (const bad of ['', '.', 'shop.', '.orders', 'a.b.c', '"open', '""', 'sh"op', '"a"x']) {
    it(`rejects ${JSON.stringify(bad)} with exit 2`, () => {
      expect(usage(() => parseScopeArgument(bad)).exitCode).to.equal(2);
    });
  }
});

describe('resolving a scope against the schema', () => {
  const resolve = (text: string) =>
    resolveScope(parseScopeArgument(text), SCHEMA, [
      { name: 'system_auth', reason: 'system keyspace: replication is managed by Cassandra' },
    ]);

  it('matches exact names', () => {
    expect(resolve('shop.orders')).to.deep.equal({ keyspace: 'shop', table: 'orders' });
    expect(resolve('shop')).to.deep.equal({ keyspace: 'shop' });
  });

  it('quoted names match exactly, unquoted ones fold case like CQL', () => {
    expect(resolve('"Analytics"."Events"')).to.deep.equal({ keyspace: 'Analytics', table: 'Events' });
    expect(resolve('analytics.events')).to.deep.equal({ keyspace: 'Analytics', table: 'Events' });
    expect(resolve('SHOP.Orders')).to.deep.equal({ keyspace: 'shop', table: 'orders' });
  });

  it('an unknown keyspace names the closest ones', () => {
    const error = usage(() => resolve('shpo'));
    expect(error.message).to.equal('unknown keyspace shpo');
    expect(error.hints.join('\n')).to.match(/did you mean: shop/);
  });

  it('an unknown table names every close table of the keyspace, quoted where CQL needs it', () => {
    const error = usage(() => resolve('shop.order'));
    expect(error.message).to.equal('unknown table shop.order');
    expect(error.hints[0]).to.equal('did you mean: shop.orders, shop.order_items?');
    expect(usage(() => resolve('analytics.event')).hints[0]).to.match(/"Analytics"\."Events"/);
  });

  it('a quoted name in the wrong case is unknown, and the suggestion shows the right case', () => {
    const error = usage(() => resolve('"analytics"'));
    expect(error.hints[0]).to.match(/"Analytics"/);
  });

  it('lists the keyspaces when nothing is close', () => {
    expect(usage(() => resolve('zzzzzzzzzz')).hints[0]).to.match(/^keyspaces: /);
  });

  it('says why a system keyspace is not scheduled instead of calling it unknown', () => {
    expect(usage(() => resolve('system_auth')).message).to.match(/not scheduled by tend: system keyspace/);
  });

  it('renders names as CQL does', () => {
    expect(cqlName('orders')).to.equal('orders');
    expect(cqlName('Orders')).to.equal('"Orders"');
    expect(cqlName('a"b')).to.equal('"a""b"');
  });
});
