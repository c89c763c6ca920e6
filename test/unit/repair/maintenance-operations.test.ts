/**
 * What each executor sends for a job's operation (src/repair/maintenance-operations.ts): nodetool's argv, and the
 * StorageService operation and arguments through Jolokia. The calls themselves run on the sandbox
 * (test/e2e/jobs.test.ts: Cassandra's log and SSTables after each operation).
 */
import { expect } from 'chai';
import {
  jolokiaOperation,
  nodetoolOperationArgs,
  NodetoolMaintenance,
  type MaintenanceTarget,
} from '../../../src/repair/index.js';
import type { Executor } from '../../../src/repair/index.js';
import type { RunProcess } from '../../../src/repair/nodetool-executor.js';

describe('job operations: what the executors send', function () {
  it("nodetool: the operation, -a for upgradesstables of every SSTable, then '--' and the names", function () {
    const cases: [MaintenanceTarget, string[]][] = [
      [{ operation: 'cleanup', keyspace: 'shop' }, ['cleanup', '--', 'shop']],
      [{ operation: 'compact', keyspace: 'shop', table: 't' }, ['compact', '--', 'shop', 't']],
      [{ operation: 'upgradesstables' }, ['upgradesstables']],
      [{ operation: 'upgradesstables', keyspace: 'shop' }, ['upgradesstables', '--', 'shop']],
      [
        { operation: 'upgradesstables', keyspace: 'shop', includeAllSSTables: true },
        ['upgradesstables', '-a', '--', 'shop'],
      ],
      [{ operation: 'upgradesstables', includeAllSSTables: true }, ['upgradesstables', '-a']],
      // Only upgradesstables has the option; another operation never gets -a.
      [{ operation: 'garbagecollect', keyspace: 'shop', includeAllSSTables: true }, ['garbagecollect', '--', 'shop']],
    ];
    for (const [target, args] of cases)
      expect(nodetoolOperationArgs(target), JSON.stringify(target)).to.deep.equal(args);
  });

  it('nodetool: the argv of a step, after the connection options', async function () {
    const calls: (readonly string[])[] = [];
    const run: RunProcess = async (_file, args) => {
      calls.push(args);
      return { exitCode: 0, stdout: '', stderr: '', isCanceled: false, timedOut: false };
    };
    const runner = new NodetoolMaintenance(
      { path: '/usr/bin/nodetool', host: '127.0.0.1', port: 7199 },
      {} as Executor,
      run,
    );
    const outcome = await runner.run(
      { operation: 'upgradesstables', keyspace: 'shop', table: 't', includeAllSSTables: true },
      { timeoutMs: 60_000 },
    );
    expect(outcome.status).to.equal('done');
    expect(calls).to.deep.equal([['-h', '127.0.0.1', '-p', '7199', 'upgradesstables', '-a', '--', 'shop', 't']]);
  });

  it('Jolokia: upgradeSSTables excludes the current version unless every SSTable is asked for', function () {
    const signature = 'upgradeSSTables(java.lang.String,boolean,int,[Ljava.lang.String;)';
    expect(jolokiaOperation('upgradesstables', 'shop', ['t'])).to.deep.equal({
      operation: signature,
      arguments: ['shop', true, 0, ['t']],
    });
    expect(jolokiaOperation('upgradesstables', 'shop', [], { includeAllSSTables: true })).to.deep.equal({
      operation: signature,
      arguments: ['shop', false, 0, []],
    });
    expect(jolokiaOperation('cleanup', 'shop', [], { includeAllSSTables: true }).arguments).to.deep.equal([
      0,
      'shop',
      [],
    ]);
  });
});
