/** Issue 15 item 2: the back-pressure verdict, against each limit, with unknown figures never postponing. */
import { expect } from 'chai';
import { backPressureVerdict, type ReplicaLoad, type BackPressureLimits } from '../../../src/core/back-pressure.js';
import { dataDirectories, jolokiaUrlFor } from '../../../src/cluster/replica-load.js';
import { validateConfig } from '../../../src/config/validate.js';
import type { TendConfig } from '../../../src/config/schema.js';

const GIB = 1024 ** 3;
const LIMITS: BackPressureLimits = { maxPendingCompactions: 20, maxSSTables: 50_000, minFreeDiskRatio: 0.1 };
function load(address: string, extra: Partial<ReplicaLoad> = {}): ReplicaLoad {
  return {
    address,
    pendingCompactions: { value: 3, source: 'jmx' },
    sstables: { 'ks.t': 12 },
    disk: null,
    diskState: null,
    problems: [],
    ...extra,
  };
}
const verdict = (loads: ReplicaLoad[], limits = LIMITS) =>
  backPressureVerdict({ replicas: ['10.0.0.1', '10.0.0.2'], tables: ['ks.t'], loads, limits });

describe('core/back-pressure', () => {
  it('starts when every replica is within every limit', () => {
    expect(verdict([load('10.0.0.1'), load('10.0.0.2')])).to.deep.equal({ start: true, unknown: [] });
  });

  it('postpones past maxPendingCompactions (strictly above), naming the source of the figure', () => {
    expect(
      verdict([load('10.0.0.1', { pendingCompactions: { value: 20, source: 'jmx' } }), load('10.0.0.2')]).start,
    ).to.equal(true);
    const v = verdict([
      load('10.0.0.1'),
      load('10.0.0.2', { pendingCompactions: { value: 21, source: 'thread_pools' } }),
    ]);
    expect(v.start).to.equal(false);
    if (!v.start) {
      expect(v.reason).to.equal(
        'replica 10.0.0.2 is under back-pressure: 21 compactions running or queued > repair.backPressure.maxPendingCompactions 20',
      );
    }
  });

  it('postpones past maxSSTables for a table of the task only', () => {
    const v = verdict([load('10.0.0.1', { sstables: { 'ks.t': 50_001, 'ks.other': 9e6 } }), load('10.0.0.2')]);
    expect(v.start).to.equal(false);
    if (!v.start) expect(v.overloads.map((o) => o.what)).to.deep.equal(['sstables']);
    expect(verdict([load('10.0.0.1', { sstables: { 'ks.other': 9e6 } }), load('10.0.0.2')]).start).to.equal(true);
  });

  it('postpones below minFreeDisk, and on a STUFFED or FULL disk verdict from gossip', () => {
    const low = verdict([
      load('10.0.0.1', { disk: { freeBytes: 9 * GIB, totalBytes: 100 * GIB, path: '/var/lib/cassandra/data' } }),
      load('10.0.0.2'),
    ]);
    expect(low.start).to.equal(false);
    if (!low.start)
      expect(low.reason).to.match(
        /9\.0GiB free of 100\.0GiB \(9\.0%\) on \/var\/lib\/cassandra\/data < repair\.backPressure\.minFreeDisk 10%$/,
      );
    expect(
      verdict([
        load('10.0.0.1', { disk: { freeBytes: 11 * GIB, totalBytes: 100 * GIB, path: '/d' } }),
        load('10.0.0.2'),
      ]).start,
    ).to.equal(true);
    const off = verdict(
      [load('10.0.0.1', { disk: { freeBytes: 0, totalBytes: 100 * GIB, path: '/d' } }), load('10.0.0.2')],
      { ...LIMITS, minFreeDiskRatio: 0 },
    );
    expect(off.start).to.equal(true);
    const stuffed = verdict([load('10.0.0.1'), load('10.0.0.2', { diskState: 'STUFFED' })]);
    expect(stuffed.start).to.equal(false);
    expect(verdict([load('10.0.0.1'), load('10.0.0.2', { diskState: 'SPACIOUS' })]).start).to.equal(true);
  });

  it('never postpones on what it could not measure, and lists it', () => {
    const v = verdict([
      load('10.0.0.1', { pendingCompactions: null, sstables: {}, problems: ['Jolokia unreachable: ECONNREFUSED'] }),
    ]);
    expect(v).to.deep.equal({
      start: true,
      unknown: [
        { replica: '10.0.0.1', problem: 'Jolokia unreachable: ECONNREFUSED' },
        { replica: '10.0.0.2', problem: 'not measured' },
      ],
    });
  });

  it("repair.backPressure: defaults, ranges, and each replica's Jolokia URL", () => {
    const ok = validateConfig({});
    const bp = (ok.config as TendConfig).repair.backPressure;
    expect(bp).to.deep.include({ enabled: true, maxPendingCompactions: 20, maxSSTables: 50_000, minFreeDisk: 0.1 });
    expect(validateConfig({ repair: { backPressure: { minFreeDisk: '95%' } } }).errors.join()).to.match(
      /repair\.backPressure\.minFreeDisk: expected a percentage between 0% and 90%/,
    );
    expect(validateConfig({ repair: { backPressure: { maxPendingCompactions: -1 } } }).errors.join()).to.match(
      /repair\.backPressure\.maxPendingCompactions/,
    );
    const config = ok.config as TendConfig;
    expect(jolokiaUrlFor(config, '10.0.0.7')).to.equal(config.executor.jolokia.url.replace(/\/\/[^:/]+/, '//10.0.0.7'));
    const templated = validateConfig({ repair: { backPressure: { jolokiaUrl: 'https://{address}:8443/jolokia/' } } })
      .config as TendConfig;
    expect(jolokiaUrlFor(templated, '2001:db8::1')).to.equal('https://[2001:db8::1]:8443/jolokia/');
    expect(dataDirectories('[/a/data, /b/data]')).to.deep.equal(['/a/data', '/b/data']);
  });
});
