import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { runTend } from '../cli/helpers.js';
import { validateConfig } from '../../../src/config/validate.js';
import { parse } from 'yaml';

interface InvalidCase {
  name: string;
  /** Content of tend.yml (or of `file`). */
  config: string;
  file?: string;
  /** Text that must appear in the error output: the dotted path (and sometimes the hint). */
  expect: string[];
  /** Text that must not appear anywhere in the output (a secret). */
  absent?: string[];
}

const cases: InvalidCase[] = [
  { name: 'port is a string', config: 'cassandra: { port: "x" }', expect: ['cassandra.port: expected a port number'] },
  { name: 'port out of range', config: 'cassandra: { port: 70000 }', expect: ['cassandra.port', 'found number 70000'] },
  { name: 'no contact points', config: 'cassandra: { contactPoints: [] }', expect: ['cassandra.contactPoints'] },
  {
    name: 'contact points not a list',
    config: 'cassandra: { contactPoints: 127.0.0.1 }',
    expect: ['cassandra.contactPoints: expected a list'],
  },
  { name: 'keyspace not an identifier', config: 'cassandra: { keyspace: my-ks }', expect: ['cassandra.keyspace'] },
  {
    name: 'duration in words',
    config: 'cassandra: { connectTimeout: 5 seconds }',
    expect: ['cassandra.connectTimeout: expected a duration like 90s'],
  },
  {
    name: 'password in the file',
    config: 'cassandra: { auth: { username: tend, password: x } }',
    expect: ['cassandra.auth.password', 'cassandra.auth.passwordFile', 'TEND_CASSANDRA_PASSWORD'],
  },
  {
    name: 'auth without username',
    config: 'cassandra: { auth: { passwordFile: /p } }',
    expect: ['cassandra.auth.username'],
  },
  { name: 'cert without key', config: 'cassandra: { tls: { certFile: /c.pem } }', expect: ['cassandra.tls.keyFile'] },
  {
    name: 'misspelt key',
    config: 'cassandra: { contactPoint: [a] }',
    expect: ['cassandra.contactPoint: unknown key; did you mean cassandra.contactPoints?'],
  },
  { name: 'misspelt section', config: 'casandra: {}', expect: ['casandra: unknown key; did you mean cassandra?'] },
  {
    name: 'unknown key with no near match lists the valid ones',
    config: 'cassandra: { flavour: 2 }',
    expect: ['cassandra.flavour: unknown key (valid keys: contactPoints, localDatacenter, port'],
  },
  {
    name: 'key in the wrong section',
    config: 'localDatacenter: dc1',
    expect: ['localDatacenter: unknown key; did you mean cassandra.localDatacenter?'],
  },
  { name: 'document is a list', config: '- a\n- b', expect: ['(top level): expected a mapping'] },
  {
    name: 'replication factor 0',
    config: 'cassandra: { replication: { dc1: 0 } }',
    expect: ['cassandra.replication.dc1'],
  },
  { name: 'host id not a UUID', config: 'node: { hostId: abc }', expect: ['node.hostId: expected a host ID'] },
  {
    name: 'host id and address',
    config: 'node: { hostId: 5f2c9a36-1a5e-4e39-9f0e-3b9a1a0f6c11, address: 10.0.0.1 }',
    expect: ['node: set hostId or address, not both'],
  },
  // Issue 18: `nodes:` (a group of nodes) and the overlaps one file shows.
  {
    name: 'node and nodes both',
    config: 'node: { address: 10.0.0.1 }\nnodes: { instance: agent1, datacenters: [dc1] }',
    expect: ['nodes: set node (tend acts for one node) or nodes (a group of nodes), not both'],
  },
  {
    name: 'the same host twice',
    config: 'nodes: { instance: agent1, hosts: [10.0.0.1, 10.0.0.2, 10.0.0.1] }',
    expect: ['nodes.hosts[2]: duplicates nodes.hosts[0] (10.0.0.1)'],
  },
  {
    name: 'nodes without a scope',
    config: 'nodes: { instance: agent1 }',
    expect: ['nodes: list the nodes to act for: one of datacenters, racks or hosts'],
  },
  {
    name: 'nodes with two kinds of scope',
    config: 'nodes: { instance: agent1, datacenters: [dc1], racks: ["dc1:rack1"] }',
    expect: ['nodes: set one of datacenters, racks or hosts, not datacenters and racks'],
  },
  { name: 'nodes without an instance', config: 'nodes: { hosts: [10.0.0.1] }', expect: ['nodes.instance'] },
  {
    name: 'rack without its datacenter',
    config: 'nodes: { instance: agent1, racks: [rack1] }',
    expect: ['nodes.racks[0]: expected a rack as DATACENTER:RACK'],
  },
  {
    name: 'Jolokia template without {address}',
    config: 'nodes: { instance: agent1, datacenters: [dc1], jolokiaUrl: "https://10.0.0.1:8778/jolokia/" }',
    expect: ['nodes.jolokiaUrl:', 'without {address} every node would be repaired through one agent'],
  },
  {
    name: 'credentials in the Jolokia template',
    config: 'nodes: { instance: agent1, datacenters: [dc1], jolokiaUrl: "https://u:s3cr3t@{address}:8778/jolokia/" }',
    expect: ['nodes.jolokiaUrl:', 'credentials do not belong in the URL'],
    absent: ['s3cr3t'],
  },
  {
    name: 'two nodes through one Jolokia agent',
    config:
      'nodes: { instance: agent1, hosts: [10.0.0.1, 10.0.0.2], endpoints: { ' +
      '10.0.0.1: { jolokiaUrl: "https://gw:8778/jolokia/" }, 10.0.0.2: { jolokiaUrl: "https://gw:8778/jolokia/" } } }',
    expect: ['nodes.endpoints.10.0.0.2.jolokiaUrl: is the same agent as nodes.endpoints.10.0.0.1'],
  },
  {
    name: 'nodetool host template without {address}',
    config: 'nodes: { instance: agent1, datacenters: [dc1], nodetoolHost: jmx.example.com }',
    expect: ['nodes.nodetoolHost: has no {address}'],
  },
  {
    name: 'interval in words',
    config: 'repair: { interval: 1 week }',
    expect: ['repair.interval: expected a duration'],
  },
  {
    name: 'warn after error',
    config: 'repair: { alarm: { warn: 10d, error: 9d }, interval: 2d }',
    expect: ['repair.alarm.warn: must be shorter than repair.alarm.error'],
  },
  {
    name: 'interval not shorter than the error alarm',
    config: 'repair: { interval: 10d, alarm: { error: 10d } }',
    expect: ['repair.interval: must be shorter than repair.alarm.error'],
  },
  { name: 'unknown repair type', config: 'repair: { type: full }', expect: ['repair.type: expected one of vnode'] },
  { name: 'unknown parallelism', config: 'repair: { parallelism: dcparallel }', expect: ['repair.parallelism'] },
  {
    name: 'size without binary unit',
    config: 'repair: { sizeTarget: 200M }',
    expect: ['repair.sizeTarget: expected a size'],
  },
  { name: 'weight zero', config: 'repair: { weight: 0 }', expect: ['repair.weight: expected a positive number'] },
  {
    name: 'table match without keyspace',
    config: 'repair: { tables: [ { match: justatable } ] }',
    expect: ['repair.tables[0].match'],
  },
  {
    name: 'table match with broken regex',
    config: 'repair: { tables: [ { match: a.b }, { match: "/([/" } ] }',
    expect: ['repair.tables[1].match'],
  },
  {
    name: 'misspelt key in a table override',
    config: 'repair: { tables: [ { match: a.b, intervall: 1d } ] }',
    expect: ['repair.tables[0].intervall: unknown key; did you mean repair.tables[0].interval?'],
  },
  {
    name: 'duplicate table match',
    config: 'repair: { tables: [ { match: a.b, weight: 2 }, { match: a.b, weight: 3 } ] }',
    expect: ['repair.tables[1].match: duplicates repair.tables[0]'],
  },
  {
    name: 'table interval beyond its alarm',
    config: 'repair: { tables: [ { match: a.b, interval: 9d, alarm: { warn: 5d, error: 8d } } ] }',
    expect: ['repair.tables[0].interval: must be shorter'],
  },
  {
    name: 'backoff bounds swapped',
    config: 'repair: { retry: { initialBackoff: 2h, maxBackoff: 1h } }',
    expect: ['repair.retry.initialBackoff'],
  },
  {
    name: 'lookback shorter than alarm',
    config: 'repair: { historyLookback: 5d, alarm: { error: 10d } }',
    expect: ['repair.historyLookback: must be at least repair.alarm.error'],
  },
  { name: 'maxTasks zero', config: 'schedule: { maxTasks: 0 }', expect: ['schedule.maxTasks'] },
  { name: 'maxTasks fractional', config: 'schedule: { maxTasks: 1.5 }', expect: ['schedule.maxTasks'] },
  {
    name: 'window hour 25',
    config: "schedule: { windows: [ { start: '25:00', end: '06:00' } ] }",
    expect: ['schedule.windows[0].start: expected a time of day'],
  },
  {
    name: 'window day misspelt',
    config: "schedule: { windows: [ { days: [mon, tues], start: '20:00', end: '06:00' } ] }",
    expect: ['schedule.windows[0].days: expected days like [mon, tue], mon-fri'],
  },
  {
    name: 'window time zone unknown',
    config: "schedule: { windows: [ { start: '20:00', end: '06:00', timezone: Mars/Olympus } ] }",
    expect: ['schedule.windows[0].timezone: expected an IANA time zone'],
  },
  {
    name: 'empty window',
    config: "schedule: { windows: [ { start: '20:00', end: '20:00' } ] }",
    expect: ['schedule.windows[0].end: equals start'],
  },
  {
    name: 'window without end',
    config: "schedule: { windows: [ { start: '20:00' } ] }",
    expect: ['schedule.windows[0].end'],
  },
  {
    name: 'renewal not shorter than ttl',
    config: 'lease: { ttl: 1m, renewEvery: 1m }',
    expect: ['lease.renewEvery: must be shorter than lease.ttl'],
  },
  {
    name: 'unknown lease backend',
    config: 'lease: { backend: etcd }',
    expect: ['lease.backend: expected one of cassandra, consul'],
  },
  { name: 'unknown lease scope', config: 'lease: { scope: rack }', expect: ['lease.scope'] },
  {
    name: 'consul ttl below its minimum',
    config: 'lease: { backend: consul, ttl: 5s, renewEvery: 1s }',
    expect: ['lease.ttl: expected a duration between 10s and 1d, found "5s"'],
  },
  {
    name: 'consul token in the file',
    config: 'lease: { consul: { token: abc } }',
    expect: ['lease.consul.token', 'lease.consul.tokenFile', 'TEND_CONSUL_TOKEN'],
  },
  {
    name: 'consul address not a URL',
    config: 'lease: { consul: { address: "not a url" } }',
    expect: ['lease.consul.address'],
  },
  { name: 'unknown executor', config: 'executor: { type: ssh }', expect: ['executor.type'] },
  {
    name: 'nodetool user without password file',
    config: 'executor: { nodetool: { user: jmx } }',
    expect: ['executor.nodetool.passwordFile: required'],
  },
  {
    name: 'jolokia tls over http',
    config: 'executor: { jolokia: { url: "http://localhost:8778/jolokia/", tls: { caFile: /ca.pem } } }',
    expect: ['executor.jolokia.url: must be https://'],
  },
  {
    name: 'jolokia password in the file',
    config: 'executor: { jolokia: { password: abc } }',
    expect: ['executor.jolokia.password', 'executor.jolokia.passwordFile', 'TEND_JOLOKIA_PASSWORD'],
  },
  {
    name: 'metrics directory a number',
    config: 'metrics: { textfileDirectory: 5 }',
    expect: ['metrics.textfileDirectory'],
  },
  {
    name: 'log level trace',
    config: 'log: { level: trace }',
    expect: ['log.level: expected one of debug, info, warn, error'],
  },
  { name: 'log format json', config: 'log: { format: json }', expect: ['log.format'] },
  { name: 'section is a scalar', config: 'log: debug', expect: ['log: expected a mapping'] },
  {
    name: 'YAML syntax error',
    config: 'cassandra:\n  port: [9042\nrepair: {}\n',
    expect: ['tend.yml:', 'cannot parse'],
  },
  { name: 'duplicate YAML key', config: 'cassandra:\n  port: 1\n  port: 2\n', expect: ['tend.yml:3:3'] },
  { name: 'JSON file', file: 'tend.json', config: '{"cassandra": {"port": "9042"}}', expect: ['cassandra.port'] },
  ...issue12Cases(),
];

/**
 * Issue 12, items 2-8: values accepted before and broken at run time. Each names the dotted key and, for durations
 * and sizes, the accepted range and what was found.
 */
function issue12Cases(): InvalidCase[] {
  const range = (key: string, value: string, between: string, section = key.split('.')[0] as string): InvalidCase => {
    const leaf = key.split('.').slice(1);
    let yaml = `${leaf[leaf.length - 1]}: "${value}"`;
    for (const part of leaf.slice(0, -1).reverse()) yaml = `${part}: { ${yaml} }`;
    return {
      name: `${key}: ${value.length > 20 ? `${value.slice(0, 20)}…` : value}`,
      config: `${section}: { ${yaml} }`,
      expect: [`${key}: expected a ${between}, found "${value.length > 60 ? value.slice(0, 57) : value}`],
    };
  };
  return [
    // Item 2: beyond Node's timer limit (2^31-1 ms, about 24.8 days), or beyond what the key can mean.
    range('repair.taskTimeout', '30d', 'duration between 10s and 7d'),
    range('lease.ttl', '30d', 'duration between 10s and 1d'),
    range('cassandra.requestTimeout', '30d', 'duration between 1s and 5m'),
    range('cassandra.connectTimeout', '25d', 'duration between 100ms and 5m'),
    range('lease.renewEvery', '25d', 'duration between 1s and 1d'),
    range('lease.announcementTtl', '30d', 'duration between 10s and 1d'),
    range('schedule.maxDuration', '30d', 'duration between 1m and 1d'),
    range('repair.retry.maxBackoff', '30d', 'duration between 1s and 7d'),
    range('repair.interval', '400d', 'duration between 1s and 365d'),
    range('repair.alarm.error', '2y'.replace('2y', '60w'), 'duration between 1m and 365d'),
    range('repair.historyLookback', '53w', 'duration between 1h and 365d'),
    {
      name: 'per-table taskTimeout beyond the timer limit',
      config: 'repair: { tables: [ { match: a.b, taskTimeout: 30d } ] }',
      expect: ['repair.tables[0].taskTimeout: expected a duration between 10s and 7d, found "30d"'],
    },
    // Item 3: zero and absurdly small durations.
    range('cassandra.connectTimeout', '0s', 'duration between 100ms and 5m'),
    range('cassandra.requestTimeout', '0s', 'duration between 1s and 5m'),
    range('cassandra.requestTimeout', '1ms', 'duration between 1s and 5m'),
    range('lease.renewEvery', '0s', 'duration between 1s and 1d'),
    range('lease.renewEvery', '10ms', 'duration between 1s and 1d'),
    range('lease.ttl', '0s', 'duration between 10s and 1d'),
    range('lease.announcementTtl', '0s', 'duration between 10s and 1d'),
    range('schedule.maxDuration', '0ms', 'duration between 1m and 1d'),
    range('schedule.maxDuration', '1s', 'duration between 1m and 1d'),
    range('repair.taskTimeout', '0s', 'duration between 10s and 7d'),
    range('repair.taskTimeout', '1s', 'duration between 10s and 7d'),
    range('repair.interval', '0s', 'duration between 1s and 365d'),
    range('repair.interval', '0.1ms', 'duration between 1s and 365d'),
    range('repair.retry.initialBackoff', '0s', 'duration between 1s and 7d'),
    range('repair.alarm.warn', '0s', 'duration between 1m and 365d'),
    {
      name: 'per-table interval and alarm of zero',
      config: 'repair: { tables: [ { match: a.b, interval: 0s, alarm: { warn: 0s } } ] }',
      expect: [
        'repair.tables[0].interval: expected a duration between 1s and 365d, found "0s"',
        'repair.tables[0].alarm.warn: expected a duration between 1m and 365d, found "0s"',
      ],
    },
    // Item 4: sizeTarget bounds.
    range('repair.sizeTarget', '1B', 'size between 1MiB and 1TiB'),
    range('repair.sizeTarget', '512KiB', 'size between 1MiB and 1TiB'),
    range('repair.sizeTarget', '2TiB', 'size between 1MiB and 1TiB'),
    range('repair.sizeTarget', `${'9'.repeat(400)}TiB`, 'size between 1MiB and 1TiB'),
    {
      name: 'per-table sizeTarget of one byte',
      config: 'repair: { tables: [ { match: a.b, sizeTarget: 1B } ] }',
      expect: ['repair.tables[0].sizeTarget: expected a size between 1MiB and 1TiB, found "1B"'],
    },
    // Item 5: look-backs of many digits (Infinity) or beyond what a Date holds.
    range('repair.historyLookback', `${'9'.repeat(400)}d`, 'duration between 1h and 365d'),
    range('repair.historyLookback', '999999999w', 'duration between 1h and 365d'),
    // Item 6: contact points.
    {
      name: 'contact point with a scheme',
      config: 'cassandra: { contactPoints: ["http://127.0.0.1"] }',
      expect: ['cassandra.contactPoints[0]: expected a host or host:port, found "http://127.0.0.1": no scheme'],
    },
    {
      name: 'contact point port out of range',
      config: 'cassandra: { contactPoints: ["127.0.0.1:99999"] }',
      expect: [
        'cassandra.contactPoints[0]: expected a host or host:port, found "127.0.0.1:99999": port 99999 is outside 1-65535',
      ],
    },
    {
      name: 'contact point port zero',
      config: 'cassandra: { contactPoints: ["10.0.0.1", "127.0.0.1:0"] }',
      expect: [
        'cassandra.contactPoints[1]: expected a host or host:port, found "127.0.0.1:0": port 0 is outside 1-65535',
      ],
    },
    {
      name: 'contact point port not a number',
      config: 'cassandra: { contactPoints: ["127.0.0.1:notaport"] }',
      expect: [
        'cassandra.contactPoints[0]: expected a host or host:port, found "127.0.0.1:notaport": port "notaport" is not a number',
      ],
    },
    {
      name: 'contact point IPv6 without brackets',
      config: 'cassandra: { contactPoints: ["::1"], localDatacenter: dc1 }',
      expect: [
        'cassandra.contactPoints[0]: expected a host or host:port, found "::1": write an IPv6 address in brackets',
      ],
    },
    {
      name: 'contact point IPv6 without brackets, with what looks like a port',
      config: 'cassandra: { contactPoints: ["fe80::1:9042"], localDatacenter: dc1 }',
      expect: ['cassandra.contactPoints[0]', 'write an IPv6 address in brackets'],
    },
    {
      name: 'contact point not an IPv4 address',
      config: 'cassandra: { contactPoints: ["256.0.0.1"] }',
      expect: ['cassandra.contactPoints[0]', '256.0.0.1 is not a valid IPv4 address'],
    },
    {
      name: 'contact point that is an option',
      config: 'cassandra: { contactPoints: ["-h"] }',
      expect: ['cassandra.contactPoints[0]', 'cannot start with "-"'],
    },
    {
      name: 'contact point in brackets that is not IPv6',
      config: 'cassandra: { contactPoints: ["[localhost]:9042"], localDatacenter: dc1 }',
      expect: ['cassandra.contactPoints[0]', 'localhost in brackets is not an IPv6 address'],
    },
    {
      name: 'host name contact point without localDatacenter or node',
      config: 'cassandra: { contactPoints: [localhost] }',
      expect: [
        'cassandra.localDatacenter: required when the first contact point is a host name (localhost)',
        'the driver matches nodes by address',
        'node.address: required (or node.hostId) when the first contact point is a host name (localhost)',
      ],
    },
    {
      name: 'host name contact point with localDatacenter but no node',
      config: 'cassandra: { contactPoints: ["cass1.example.com:9042"], localDatacenter: dc1 }',
      expect: ['node.address: required (or node.hostId) when the first contact point is a host name'],
    },
    {
      name: 'IPv6 contact point without localDatacenter',
      config: 'cassandra: { contactPoints: ["[::1]:9042"] }',
      expect: ['cassandra.localDatacenter: required when the first contact point is an IPv6 address ([::1]:9042)'],
    },
    // Item 7: credentials in URLs, and schemes other than http and https.
    {
      name: 'credentials in the Consul address',
      config: 'lease: { consul: { address: "http://user:s3cr3t@consul:8500" } }',
      expect: [
        'lease.consul.address:',
        'credentials do not belong in the URL',
        'lease.consul.tokenFile or TEND_CONSUL_TOKEN',
      ],
      absent: ['s3cr3t', 'user:'],
    },
    {
      name: 'credentials in the Jolokia URL',
      config: 'executor: { jolokia: { url: "https://tend:s3cr3t@10.0.0.1:8778/jolokia/" } }',
      expect: ['executor.jolokia.url:', 'credentials do not belong in the URL', 'executor.jolokia.passwordFile'],
      absent: ['s3cr3t'],
    },
    {
      name: 'token in the Consul address query',
      config: 'lease: { consul: { address: "http://consul:8500/?token=s3cr3t" } }',
      expect: ['lease.consul.address:', 'no ?query'],
      absent: ['s3cr3t'],
    },
    {
      name: 'Consul address with an ftp scheme',
      config: 'lease: { consul: { address: "ftp://consul:8500" } }',
      expect: [
        'lease.consul.address: expected an http:// or https:// URL',
        'the scheme must be http or https, not ftp',
      ],
    },
    {
      name: 'Consul address without a scheme',
      config: 'lease: { consul: { address: "localhost:8500" } }',
      expect: ['lease.consul.address: expected an http:// or https:// URL', 'not localhost'],
    },
    {
      name: 'Jolokia URL with a file scheme',
      config: 'executor: { jolokia: { url: "file:///etc/passwd" } }',
      expect: ['executor.jolokia.url:', 'not file'],
    },
    {
      name: 'Consul announcements shorter than a Consul session may be',
      config: 'lease: { backend: consul, ttl: 30s, renewEvery: 5s, announcementTtl: 15s }',
      expect: ['lease.announcementTtl: must be at least 20s with the consul backend'],
    },
    // Item 8: an option where a host belongs, system keyspaces, invalid keyspace names.
    {
      name: 'nodetool host that is an option',
      config: "executor: { nodetool: { host: '-pw' } }",
      expect: ['executor.nodetool.host: expected a host name or address, found "-pw"', 'read as an option'],
    },
    {
      name: 'nodetool host with a port',
      config: "executor: { nodetool: { host: 'node1:7199' } }",
      expect: ['executor.nodetool.host', 'a host without a port'],
    },
    {
      name: 'nodetool host empty',
      config: "executor: { nodetool: { host: '' } }",
      expect: ['executor.nodetool.host', 'the host is empty'],
    },
    ...['system_auth', 'system', 'system_distributed', 'system_schema', 'System_Traces', 'dse_security'].map(
      (keyspace): InvalidCase => ({
        name: `keyspace ${keyspace}`,
        config: `cassandra: { keyspace: ${keyspace} }`,
        expect: [`cassandra.keyspace: expected a keyspace of tend's own, found "${keyspace}": a system keyspace`],
      }),
    ),
    {
      name: 'keyspace name too long',
      config: `cassandra: { keyspace: ${'k'.repeat(49)} }`,
      expect: ['cassandra.keyspace: expected a keyspace name'],
    },
    { name: 'keyspace name quoted', config: 'cassandra: { keyspace: \'"Tend"\' }', expect: ['cassandra.keyspace'] },
  ];
}

describe('invalid configurations exit 3 and name the offending path', () => {
  const invalid = cases.filter((testCase) => testCase.expect.length > 0);

  it('has at least 30 cases', () => {
    expect(invalid.length).to.be.at.least(30);
  });

  for (const testCase of invalid) {
    it(testCase.name, async () => {
      const file = testCase.file ?? 'tend.yml';
      const result = await runTend(['-c', file, 'config', 'check'], { files: { [file]: testCase.config } });
      expect(result.code, result.stderr).to.equal(3);
      // key=value log lines escape the quotes of `found "…"`.
      const stderr = result.stderr.replaceAll('\\"', '"');
      for (const text of testCase.expect) expect(stderr).to.include(text);
      for (const text of testCase.absent ?? []) expect(stderr).not.to.include(text);
      expect(result.stdout, 'no data on stdout for an invalid configuration').to.equal('');
    });
  }

  it('reports a YAML syntax error with line and column', async () => {
    const result = await runTend(['-c', 'tend.yml', 'config', 'check'], {
      files: { 'tend.yml': 'cassandra:\n  port: 9042\n   bad: indentation\n' },
    });
    expect(result.code).to.equal(3);
    expect(result.stderr).to.match(/tend\.yml:\d+:\d+: /);
  });

  it('collects every error of a file in one run', () => {
    const result = validateConfig(
      parse('cassandra: { port: x }\nrepair: { type: full }\nlease: { ttl: 1m, renewEvery: 2m }\nbogus: 1\n'),
    );
    expect(result.config).to.equal(undefined);
    expect(result.errors.map((error) => error.split(':')[0])).to.have.members([
      'bogus',
      'cassandra.port',
      'repair.type',
      'lease.renewEvery',
    ]);
  });

  it('config show refuses a look-back of many digits instead of printing Infinityd (issue 12, item 5)', async () => {
    const result = await runTend(['-c', 'tend.yml', 'config', 'show'], {
      files: { 'tend.yml': `repair: { historyLookback: ${'9'.repeat(400)}d }` },
    });
    expect(result.code).to.equal(3);
    expect(result.stderr).to.include('repair.historyLookback: expected a duration between 1h and 365d');
    expect(result.stdout + result.stderr).to.not.include('Infinity');
  });

  it('exits 3 naming the file when --config points nowhere', async () => {
    const result = await runTend(['-c', 'missing.yml', 'config', 'show']);
    expect(result.code).to.equal(3);
    expect(result.stderr).to.include('missing.yml').and.include('no such file');
  });

  it('exits 3 when TEND_CONFIG points nowhere', async () => {
    const result = await runTend(['config', 'show'], { env: { TEND_CONFIG: '/nonexistent/tend.yml' } });
    expect(result.code).to.equal(3);
    expect(result.stderr).to.include('/nonexistent/tend.yml').and.include('TEND_CONFIG');
  });

  it('with --json prints the report as one document and still exits 3', async () => {
    const result = await runTend(['-c', 'tend.yml', 'config', 'check', '--json'], {
      files: { 'tend.yml': 'log: { level: trace }' },
    });
    expect(result.code).to.equal(3);
    const report = JSON.parse(result.stdout) as { valid: boolean; errors: string[] };
    expect(report.valid).to.equal(false);
    expect(report.errors[0]).to.match(/^log\.level: /);
  });
});

describe('valid configurations pass', () => {
  const valid: Array<{ name: string; config: string; file?: string }> = [
    { name: 'empty file', config: '' },
    { name: 'empty mapping', config: '{}' },
    { name: 'shipped example', config: readFileSync('systemd/tend.yml.example', 'utf8') },
    { name: 'JSON', file: 'tend.json', config: '{"cassandra": {"contactPoints": ["10.0.0.1"], "port": 9142}}' },
    {
      name: 'consul leases with node scope',
      config:
        'lease: { backend: consul, scope: node, ttl: 30s, renewEvery: 10s, consul: { address: "https://consul:8501", tokenFile: /etc/tend/consul.token, tls: { caFile: /ca.pem } } }',
    },
    {
      name: 'jolokia over TLS with mutual auth',
      config:
        'executor: { type: jolokia, jolokia: { url: "https://127.0.0.1:8778/jolokia/", user: tend, passwordFile: /p, tls: { caFile: /ca.pem, certFile: /c.pem, keyFile: /k.pem } } }',
    },
    {
      name: 'interval equal to warn (a warning, not an error)',
      config: 'repair: { interval: 8d, alarm: { warn: 8d } }',
    },
    {
      name: 'host name contact points with localDatacenter and node.address',
      config:
        'cassandra: { contactPoints: [cass1.example.com, "cass2.example.com:9142"], localDatacenter: dc1 }\nnode: { address: 10.0.0.1 }',
    },
    {
      name: 'host name contact point with node.hostId',
      config:
        'cassandra: { contactPoints: [localhost], localDatacenter: dc1 }\nnode: { hostId: 5f2c9a36-1a5e-4e39-9f0e-3b9a1a0f6c11 }',
    },
    {
      name: 'a host name after an IPv4 first contact point',
      config: 'cassandra: { contactPoints: [10.0.0.1, cass2] }',
    },
    {
      name: 'IPv6 contact points in brackets with localDatacenter',
      config: 'cassandra: { contactPoints: ["[::1]", "[2001:db8::7]:9042"], localDatacenter: dc1 }',
    },
    { name: 'a keyspace that only starts like a system one', config: 'cassandra: { keyspace: systemic_tend }' },
    { name: 'nodetool host as an IPv6 address', config: 'executor: { nodetool: { host: "::1" } }' },
    {
      name: 'Jolokia URL with a query',
      config: 'executor: { jolokia: { url: "http://127.0.0.1:8778/jolokia/?maxDepth=5" } }',
    },
    {
      name: 'ranges at their ends',
      config:
        'cassandra: { connectTimeout: 100ms, requestTimeout: 5m }\n' +
        'repair: { interval: 1s, alarm: { warn: 1m, error: 365d }, historyLookback: 365d, taskTimeout: 7d, sizeTarget: 1MiB, ' +
        'tables: [ { match: a.b, sizeTarget: 1TiB, taskTimeout: 10s } ] }\n' +
        'schedule: { maxDuration: 1d }\nlease: { ttl: 1d, renewEvery: 1s, announcementTtl: 10s }',
    },
  ];
  for (const testCase of valid) {
    it(testCase.name, () => {
      const result = validateConfig(parse(testCase.config));
      expect(result.errors).to.deep.equal([]);
      expect(result.config).to.not.equal(undefined);
    });
  }

  it('the shipped example passes `config check` apart from its absent secret and TLS files', async () => {
    const result = await runTend(['-c', 'tend.yml', 'config', 'check', '--json'], {
      files: { 'tend.yml': readFileSync('systemd/tend.yml.example', 'utf8') },
    });
    const report = JSON.parse(result.stdout) as { errors: string[] };
    expect(report.errors).to.deep.equal([
      'metrics.textfileDirectory: cannot write to /var/lib/prometheus/node-exporter (ENOENT)',
      'cassandra.auth.passwordFile: cannot read /etc/tend/cassandra.password (ENOENT)',
    ]);
  });

  it('the shipped example passes `config check` when its files exist', async () => {
    const example = readFileSync('systemd/tend.yml.example', 'utf8')
      .replace('/etc/tend/cassandra.password', 'cassandra.password')
      .replace('/var/lib/prometheus/node-exporter', 'textfiles');
    const result = await runTend(['-c', 'tend.yml', 'config', 'check'], {
      files: { 'tend.yml': example, 'cassandra.password': 'pw\n', 'textfiles/.keep': '' },
    });
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.match(/^configuration OK: .*tend\.yml/);
  });

  it('warns, without failing, when the interval reaches the warn alarm', () => {
    const result = validateConfig({ repair: { interval: '8d', alarm: { warn: '8d' } } });
    expect(result.warnings[0]).to.match(/^repair\.interval: is not shorter than repair\.alarm\.warn/);
  });
});
