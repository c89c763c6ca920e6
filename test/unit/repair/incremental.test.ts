import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import {
  incrementalDecision,
  JolokiaRepairedState,
  NodetoolRepairedState,
  type TableRepairedState,
} from '../../../src/repair/incremental.js';
import type { RunProcess } from '../../../src/repair/nodetool-executor.js';
import { ClusterUnavailable } from '../../../src/errors.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/nodetool/5.0.8');
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');

const AT = Date.UTC(2026, 10, 20, 3, 0, 0);

describe('incremental eligibility (decision)', function () {
  const cases: Array<[string, Partial<TableRepairedState>, boolean, RegExp, number | null]> = [
    ['never repaired: 0%', { percentRepaired: 0, maxRepairedAt: 0 }, true, /^0% of data marked repaired \(never/, null],
    [
      'partly repaired',
      { percentRepaired: 62.5, maxRepairedAt: AT },
      true,
      /^62\.5% of data marked repaired \(last at 2026-11-20T03:00:00\.000Z\)/,
      AT,
    ],
    ['99.99% is not 100%', { percentRepaired: 99.99, maxRepairedAt: AT }, true, /^99\.99%/, AT],
    ['fully repaired: skipped', { percentRepaired: 100, maxRepairedAt: AT }, false, /^fully repaired/, AT],
    [
      '100% of no SSTables (never flushed): repaired',
      { percentRepaired: 100, maxRepairedAt: 0 },
      true,
      /nothing ever marked repaired/,
      null,
    ],
    ['unknown share: repaired to be safe', { percentRepaired: null, maxRepairedAt: null }, true, /unknown/, null],
    ['NaN share: repaired', { percentRepaired: Number.NaN, maxRepairedAt: AT }, true, /unknown/, AT],
  ];
  for (const [name, state, eligible, reason, last] of cases) {
    it(name, function () {
      const decision = incrementalDecision({
        keyspace: 'ks',
        table: 't',
        percentRepaired: null,
        maxRepairedAt: null,
        ...state,
      });
      expect(decision.eligible).to.equal(eligible);
      expect(decision.reason).to.match(reason);
      expect(decision.lastRepairedAt).to.equal(last);
    });
  }
});

describe('repaired state readers', function () {
  it('nodetool: tablestats + repair_admin summarize-repaired (captured output)', async function () {
    const calls: string[][] = [];
    const run: RunProcess = async (_file, args) => {
      calls.push([...args]);
      const name = args.includes('tablestats') ? 'tablestats' : 'summarize-repaired';
      return { stdout: fixture(`${name}.stdout`), stderr: '', exitCode: 0, isCanceled: false, timedOut: false };
    };
    const reader = new NodetoolRepairedState({ path: 'nodetool', host: '127.0.0.1', port: 7200 }, { runProcess: run });
    const states = await reader.read('it_repair_capture', ['t1', 't2']);
    expect(states).to.deep.equal([
      { keyspace: 'it_repair_capture', table: 't1', percentRepaired: 0, maxRepairedAt: 0 },
      { keyspace: 'it_repair_capture', table: 't2', percentRepaired: 100, maxRepairedAt: 1795289405001 },
    ]);
    expect(calls[0]!.slice(4)).to.deep.equal(['tablestats', 'it_repair_capture.t1', 'it_repair_capture.t2']);
    expect(calls[1]!.slice(4)).to.deep.equal(['repair_admin', 'summarize-repaired', 'it_repair_capture', 't1', 't2']);
  });

  it('nodetool: a failing call is ClusterUnavailable', async function () {
    const run: RunProcess = async () => ({
      stdout: '',
      stderr: fixture('repair-jmx-refused.stderr'),
      exitCode: 1,
      isCanceled: false,
      timedOut: false,
    });
    const reader = new NodetoolRepairedState({ path: 'nodetool', host: '127.0.0.1', port: 7999 }, { runProcess: run });
    const error = await reader.read('ks', ['t']).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ClusterUnavailable);
  });

  it('Jolokia: PercentRepaired per table and getRepairStats in one bulk request', async function () {
    let seen: unknown[] = [];
    const reader = new JolokiaRepairedState({
      async bulk(requests) {
        seen = [...requests];
        return [
          0.0,
          100.0,
          [
            { keyspace: 'ks', table: 't2', maxRepaired: '1795289299796', minRepaired: '1795289299796', sections: [] },
            { keyspace: 'ks', table: 't1', maxRepaired: '0', minRepaired: '0', sections: [] },
          ],
        ];
      },
    });
    expect(await reader.read('ks', ['t1', 't2'])).to.deep.equal([
      { keyspace: 'ks', table: 't1', percentRepaired: 0, maxRepairedAt: 0 },
      { keyspace: 'ks', table: 't2', percentRepaired: 100, maxRepairedAt: 1795289299796 },
    ]);
    expect(seen[0]).to.deep.include({
      type: 'read',
      mbean: 'org.apache.cassandra.metrics:type=Table,keyspace=ks,scope=t1,name=PercentRepaired',
    });
    expect(seen[2]).to.deep.include({ operation: 'getRepairStats', arguments: [['ks', 't1', 't2'], null] });
  });

  it('Jolokia: a metric that is missing (error in the bulk reply) is unknown, not 0', async function () {
    const reader = new JolokiaRepairedState({
      async bulk() {
        return [new Error('InstanceNotFoundException'), []];
      },
    });
    expect(await reader.read('ks', ['gone'])).to.deep.equal([
      { keyspace: 'ks', table: 'gone', percentRepaired: null, maxRepairedAt: null },
    ]);
  });
});
