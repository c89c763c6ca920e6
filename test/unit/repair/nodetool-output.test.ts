import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import {
  connectionArgs,
  parseRangeList,
  parseRepairOutput,
  parseSummarizeRepaired,
  parseTablestatsPercentRepaired,
  repairArgs,
} from '../../../src/repair/nodetool-output.js';
import type { RepairRequest } from '../../../src/repair/executor.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/nodetool');

/** Output of the sandbox's real nodetool, captured by test/fixtures/nodetool/capture.sh per Cassandra version. */
function captured(name: string, version = '5.0.8') {
  const read = (ext: string) => readFileSync(join(FIXTURES, version, `${name}.${ext}`), 'utf8');
  return { stdout: read('stdout'), stderr: read('stderr'), exitCode: Number(read('exit').trim()) };
}

function parse(name: string, version = '5.0.8') {
  const { stdout, stderr, exitCode } = captured(name, version);
  return parseRepairOutput(stdout, stderr, exitCode);
}

const request: RepairRequest = {
  id: 'shop.orders#1',
  keyspace: 'shop',
  tables: ['orders', 'carts'],
  scope: 'ranges',
  ranges: [{ start: '-9223372036854775808', end: '-8839064868652493483' }],
  replicaAddresses: ['127.0.0.1', '127.0.0.2'],
  incremental: false,
  parallelism: 'parallel',
};

describe('nodetool arguments', function () {
  it('connection: host, port, user and -pwf (never -pw)', function () {
    expect(
      connectionArgs({ path: 'nodetool', host: '10.0.0.1', port: 7199, user: 'jmx', passwordFile: '/etc/tend/jmx' }),
    ).to.deep.equal(['-h', '10.0.0.1', '-p', '7199', '-u', 'jmx', '-pwf', '/etc/tend/jmx']);
    expect(connectionArgs({ path: 'nodetool', host: '127.0.0.1', port: 7100 })).to.deep.equal([
      '-h',
      '127.0.0.1',
      '-p',
      '7100',
    ]);
  });

  const cases: Array<[string, Partial<RepairRequest>, string[]]> = [
    [
      'full, parallel, one range, tables after the keyspace',
      {},
      ['repair', '--full', '-st', '-9223372036854775808', '-et', '-8839064868652493483', 'shop', 'orders', 'carts'],
    ],
    ['sequential', { parallelism: 'sequential', tables: ['orders'] }, ['repair', '--full', '-seq']],
    ['dc-parallel', { parallelism: 'dc_parallel', tables: ['orders'] }, ['repair', '--full', '-dcpar']],
    ['incremental has no flag (nodetool default)', { incremental: true, tables: ['orders'] }, ['repair']],
    [
      'datacenters and hosts',
      { limitToDatacenters: ['dc1', 'dc2'], limitToHosts: [], tables: ['orders'] },
      ['repair', '--full', '-dc', 'dc1', '-dc', 'dc2'],
    ],
    ['primary range', { primaryRange: true, tables: ['orders'] }, ['repair', '--full', '-pr']],
  ];
  for (const [name, patch, prefix] of cases) {
    it(name, function () {
      const args = repairArgs({ ...request, ...patch }, request.ranges[0]);
      expect(args.slice(0, prefix.length)).to.deep.equal(prefix);
      expect(args).to.not.include('-pw');
    });
  }

  it('whole-table task: no -st/-et', function () {
    expect(repairArgs({ ...request, scope: 'table' }, undefined)).to.deep.equal([
      'repair',
      '--full',
      'shop',
      'orders',
      'carts',
    ]);
  });
});

describe('nodetool repair output (captured from Cassandra 5.0.8)', function () {
  it('ranged full repair of two tables: success, command number and the session with its range', function () {
    const run = parse('repair-range-success');
    expect(run.verdict).to.equal('success');
    expect(run.commands).to.include('#11');
    expect(run.sessions).to.deep.equal([
      {
        id: 'f0ad2f40-e5e1-11f1-b995-39729c8944ca',
        ranges: [{ start: '-9223372036854775808', end: '-8839064868652493483' }],
      },
    ]);
  });

  it('sequential and dc-parallel runs succeed and name their parent session', function () {
    for (const name of ['repair-range-sequential', 'repair-range-dc-parallel']) {
      const run = parse(name);
      expect(run.verdict, name).to.equal('success');
      expect(
        run.commands.some((c) => /^[0-9a-f-]{36}$/.test(c)),
        name,
      ).to.equal(true);
    }
  });

  it('incremental whole-table repair: one session over all 48 ranges', function () {
    const run = parse('repair-incremental-table');
    expect(run.verdict).to.equal('success');
    expect(run.sessions).to.have.length(1);
    expect(run.sessions[0]!.ranges).to.have.length(48);
  });

  it('a range that straddles two local ranges fails with Cassandra message', function () {
    const run = parse('repair-range-not-contained');
    expect(run.verdict).to.equal('failed');
    expect(run.message).to.match(/^Requested range \(-9223372036854775808,-8454757700450211158\] intersects a local/);
    expect(run.commands).to.include('#15');
  });

  it('a range the node does not replicate fails with "Nothing to repair"', function () {
    const run = parse('repair-range-not-local');
    expect(run.verdict).to.equal('failed');
    expect(run.message).to.equal(
      'Nothing to repair for (-8839064868652493483,-8454757700450211158] in it_repair_capture_partial - aborting',
    );
  });

  it('a replica that is down: failed, naming the endpoint', function () {
    const run = parse('repair-replica-down');
    expect(run.verdict).to.equal('failed');
    expect(run.message).to.equal('Endpoint not alive: /127.0.0.3:7000');
    expect(run.commands).to.include('#204');
  });

  it('an unknown table fails with the keyspace/cf pair', function () {
    const run = parse('repair-unknown-table');
    expect(run.verdict).to.equal('failed');
    expect(run.message).to.equal('Unknown keyspace/cf pair (it_repair_capture.nosuch)');
  });

  it('an unknown keyspace is refused by nodetool itself', function () {
    const run = parse('repair-unknown-keyspace');
    expect(run.verdict).to.equal('failed');
    expect(run.message).to.equal('Keyspace [it_repair_nosuch] does not exist.');
  });

  it('replication factor 1: nothing to repair', function () {
    const run = parse('repair-rf1');
    expect(run.verdict).to.equal('nothing_to_repair');
    expect(run.message).to.match(/Replication factor is 1/);
  });

  it('a closed JMX port is unreachable, not a repair failure', function () {
    const run = parse('repair-jmx-refused');
    expect(run.verdict).to.equal('unreachable');
    expect(run.message).to.match(/Failed to connect to '127\.0\.0\.1:7999'/);
  });

  it('JMX refusing the credentials (secured sandbox: wrong password, none at all) is refused_credentials', function () {
    const wrong = parse('repair-jmx-wrong-password');
    expect(wrong.verdict).to.equal('refused_credentials');
    expect(wrong.message).to.equal('Invalid username or password');
    const none = parse('repair-jmx-no-credentials');
    expect(none.verdict).to.equal('refused_credentials');
    expect(none.message).to.equal('Authentication failed! Credentials required');
  });

  it('parses Cassandra range lists', function () {
    expect(parseRangeList('(8839064868652493482,-9223372036854775808], (0,384307168202282325]')).to.deep.equal([
      { start: '8839064868652493482', end: '-9223372036854775808' },
      { start: '0', end: '384307168202282325' },
    ]);
  });
});

describe('nodetool repaired-state output (captured from Cassandra 5.0.8)', function () {
  it('tablestats: percent repaired per table', function () {
    const stats = parseTablestatsPercentRepaired(captured('tablestats').stdout);
    expect(stats.get('it_repair_capture.t1')).to.equal(0);
    expect(stats.get('it_repair_capture.t2')).to.equal(100);
  });

  it('repair_admin summarize-repaired: max repairedAt per table', function () {
    const stats = parseSummarizeRepaired(captured('summarize-repaired').stdout);
    expect(stats.get('it_repair_capture.t1')).to.equal(0);
    expect(stats.get('it_repair_capture.t2')).to.equal(1795289405001);
  });
});

/**
 * 4.1.10's nodetool (on Java 11) prints the same repair notifications as 5.0.8's; its stderr lacks 5.0's logback
 * noise. Captured on a 4.1.10 sandbox (instance 2: nodes on 127.0.2.x).
 */
describe('nodetool output (captured from Cassandra 4.1.10)', function () {
  const V = '4.1.10';

  it('ranged full repair of two tables: success, command number and the session with its range', function () {
    const run = parse('repair-range-success', V);
    expect(run.verdict).to.equal('success');
    expect(run.commands).to.include.members(['#1', '18241000-eef9-11f1-a2e6-b3e6be82bba5']);
    expect(run.sessions).to.deep.equal([
      {
        id: '18b44210-eef9-11f1-a2e6-b3e6be82bba5',
        ranges: [{ start: '-9223372036854775808', end: '-8839064868652493483' }],
      },
    ]);
  });

  it('sequential and dc-parallel runs succeed', function () {
    for (const name of ['repair-range-sequential', 'repair-range-dc-parallel']) {
      expect(parse(name, V).verdict, name).to.equal('success');
    }
  });

  it('incremental whole-table repair: one session over all 48 ranges', function () {
    const run = parse('repair-incremental-table', V);
    expect(run.verdict).to.equal('success');
    expect(run.sessions).to.have.length(1);
    expect(run.sessions[0]!.ranges).to.have.length(48);
  });

  it('refusals keep Cassandra message: straddling range, range not local, unknown table, unknown keyspace', function () {
    const straddling = parse('repair-range-not-contained', V);
    expect(straddling.verdict).to.equal('failed');
    expect(straddling.message).to.match(
      /^Requested range \(-9223372036854775808,-8454757700450211158\] intersects a local/,
    );
    expect(straddling.commands).to.include('#5');
    expect(parse('repair-range-not-local', V).message).to.equal(
      'Nothing to repair for (-8839064868652493483,-8454757700450211158] in it_repair_capture_partial - aborting',
    );
    expect(parse('repair-unknown-table', V).message).to.equal('Unknown keyspace/cf pair (it_repair_capture.nosuch)');
    expect(parse('repair-unknown-keyspace', V).message).to.equal('Keyspace [it_repair_nosuch] does not exist.');
  });

  it('a replica that is down: failed, naming the endpoint', function () {
    const run = parse('repair-replica-down', V);
    expect(run.verdict).to.equal('failed');
    expect(run.message).to.equal('Endpoint not alive: /127.0.2.3:7000');
    expect(run.commands).to.include('#8');
  });

  it('replication factor 1: nothing to repair; a closed JMX port: unreachable', function () {
    expect(parse('repair-rf1', V).verdict).to.equal('nothing_to_repair');
    const refused = parse('repair-jmx-refused', V);
    expect(refused.verdict).to.equal('unreachable');
    expect(refused.message).to.match(/Failed to connect to '127\.0\.0\.1:7999'/);
  });

  it('tablestats and repair_admin summarize-repaired', function () {
    const percent = parseTablestatsPercentRepaired(captured('tablestats', V).stdout);
    expect(percent.get('it_repair_capture.t1')).to.equal(0);
    expect(percent.get('it_repair_capture.t2')).to.equal(100);
    const summary = parseSummarizeRepaired(captured('summarize-repaired', V).stdout);
    expect(summary.get('it_repair_capture.t1')).to.equal(0);
    expect(summary.get('it_repair_capture.t2')).to.equal(1796288920789);
  });
});
