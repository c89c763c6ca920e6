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
    config: 'cassandra: { datacenters: 2 }',
    expect: ['cassandra.datacenters: unknown key (valid keys: contactPoints, localDatacenter, port'],
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
    config: 'repair: { interval: 10d }',
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
    config: 'repair: { historyLookback: 5d }',
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
    expect: ['lease.ttl: must be between 10s and 24h'],
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
];

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
      for (const text of testCase.expect) expect(result.stderr).to.include(text);
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
    { name: 'interval equal to warn (a warning, not an error)', config: 'repair: { interval: 8d }' },
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
    const result = validateConfig({ repair: { interval: '8d' } });
    expect(result.warnings[0]).to.match(/^repair\.interval: is not shorter than repair\.alarm\.warn/);
  });
});
