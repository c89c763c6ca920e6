import { expect } from 'chai';
import { checkHttpUrl, isLoopback, parseContactPoint, parseHost, redactUrl } from '../../../src/config/network.js';

const reasonOf = (value: object): string | undefined => ('reason' in value ? String(value.reason) : undefined);

describe('config/network: contact points', () => {
  const accepted: Array<[string, object]> = [
    ['127.0.0.1', { host: '127.0.0.1', kind: 'ipv4' }],
    ['10.0.0.1:9142', { host: '10.0.0.1', kind: 'ipv4', port: 9142 }],
    ['localhost', { host: 'localhost', kind: 'name' }],
    ['cass-1.dc1.example.com:9042', { host: 'cass-1.dc1.example.com', kind: 'name', port: 9042 }],
    ['[::1]', { host: '::1', kind: 'ipv6', bracketed: true }],
    ['[2001:db8::7]:9042', { host: '2001:db8::7', kind: 'ipv6', port: 9042, bracketed: true }],
    ['127.0.0.1:65535', { host: '127.0.0.1', kind: 'ipv4', port: 65535 }],
  ];
  for (const [text, parsed] of accepted) {
    it(`accepts ${text}`, () => expect(parseContactPoint(text)).to.deep.equal(parsed));
  }

  const refused: Array<[string, string]> = [
    ['http://127.0.0.1', 'no scheme or path'],
    ['127.0.0.1/32', 'no scheme or path'],
    ['127.0.0.1:99999', 'port 99999 is outside 1-65535'],
    ['127.0.0.1:0', 'port 0 is outside 1-65535'],
    ['127.0.0.1:notaport', 'port "notaport" is not a number'],
    ['127.0.0.1:', 'port "" is not a number'],
    ['::1', 'write an IPv6 address in brackets'],
    ['2001:db8::1', 'write an IPv6 address in brackets'],
    ['fe80::1:9042', 'write an IPv6 address in brackets'],
    ['[::1]:x', 'port "x" is not a number'],
    ['[127.0.0.1]', 'in brackets is not an IPv6 address'],
    ['256.0.0.1', 'not a valid IPv4 address'],
    ['10.1', 'not a valid IPv4 address'],
    ['-pw', 'cannot start with "-"'],
    ['', 'the host is empty'],
    [':9042', 'the host is empty'],
    ['a b', 'no spaces'],
    ['bad_label-.example.com', 'a host name has letters'],
    ['a:b:c', 'too many ":"'],
  ];
  for (const [text, reason] of refused) {
    it(`refuses ${JSON.stringify(text)}: ${reason}`, () => {
      expect(reasonOf(parseContactPoint(text))).to.include(reason);
    });
  }
});

describe('config/network: a host alone (nodetool -h)', () => {
  for (const text of ['127.0.0.1', 'node1', 'node1.example.com', '::1', '[::1]']) {
    it(`accepts ${text}`, () => expect(reasonOf(parseHost(text))).to.equal(undefined));
  }
  const refused: Array<[string, string]> = [
    ['-pw', 'cannot start with "-"'],
    ['--help', 'cannot start with "-"'],
    ['node1:7199', 'without a port'],
    ['', 'the host is empty'],
    ['[node1]', 'not an IPv6 address'],
    ['node 1', 'a host name has letters'],
  ];
  for (const [text, reason] of refused) {
    it(`refuses ${JSON.stringify(text)}`, () => expect(reasonOf(parseHost(text))).to.include(reason));
  }
});

describe('config/network: http URLs', () => {
  const rules = { credentialsGo: 'use the file', noQuery: true };
  it('accepts http and https, with a path', () => {
    expect(checkHttpUrl('http://127.0.0.1:8500', rules)).to.be.instanceOf(URL);
    expect(checkHttpUrl('https://consul.example.com/consul', rules)).to.be.instanceOf(URL);
  });
  const refused: Array<[string, string]> = [
    ['ftp://host/', 'the scheme must be http or https, not ftp'],
    ['file:///etc/passwd', 'not file'],
    ['localhost:8500', 'not localhost'],
    ['not a url', 'not a URL'],
    ['http://user:secret@host', 'credentials do not belong in the URL'],
    ['http://user@host', 'credentials do not belong in the URL'],
    ['http://host/?token=x', 'no ?query'],
    ['http://host/#x', 'no #fragment'],
  ];
  for (const [text, reason] of refused) {
    it(`refuses ${text}`, () => expect(reasonOf(checkHttpUrl(text, rules))).to.include(reason));
  }
  it('allows a query where the caller allows it (Jolokia)', () => {
    expect(checkHttpUrl('http://h:8778/jolokia/?maxDepth=3', { credentialsGo: '' })).to.be.instanceOf(URL);
  });
  it('tells where credentials go instead', () => {
    expect(reasonOf(checkHttpUrl('http://a:b@h', rules))).to.include('use the file');
  });
});

describe('config/network: redaction and loopback', () => {
  const redactions: Array<[string, string]> = [
    ['http://user:s3cr3t@host:1/x', 'http://[redacted]@host:1/x'],
    ['user:s3cr3t@host:8500', '[redacted]@host:8500'],
    ['http://host/?token=s3cr3t', 'http://host/?[redacted]'],
    ['http://host:8500', 'http://host:8500'],
  ];
  for (const [text, shown] of redactions) {
    it(`shows ${text} as ${shown}`, () => expect(redactUrl(text)).to.equal(shown));
  }
  const loopback: Array<[string, boolean]> = [
    ['127.0.0.1', true],
    ['127.8.9.1', true],
    ['localhost', true],
    ['[::1]', true],
    ['::1', true],
    ['0:0:0:0:0:0:0:1', true],
    ['10.0.0.1', false],
    ['consul.example.com', false],
    ['128.0.0.1', false],
    ['::2', false],
  ];
  for (const [host, expected] of loopback) {
    it(`${host} is ${expected ? '' : 'not '}loopback`, () => expect(isLoopback(host)).to.equal(expected));
  }
});
