/** `tend repair table`: argv → options, the one task it builds from the ring, and its progress line. */
import { expect } from 'chai';
import {
  adHocRepairTask,
  buildRing,
  computePlacement,
  type AdHocTask,
  type NodeInfo,
} from '../../../src/core/index.js';
import { parseInvocation } from '../../../src/cli/registry.js';
import { UsageError } from '../../../src/errors.js';
import { refusalError } from '../../../src/app/repair-table.js';
import { progressText } from '../../../src/cli/commands/repair.js';

function parse(args: string[]) {
  const invocation = parseInvocation(args, '9.9.9');
  if (invocation.kind !== 'run') throw new Error('expected a command');
  return invocation.options;
}

describe('tend repair table: argv → options', function () {
  it('table only: whole table, mode and parallelism from the configuration', function () {
    expect(parse(['repair', 'table', 'shop.orders'])).to.deep.equal({
      table: 'shop.orders',
      ranges: [],
      incremental: undefined,
      parallelism: undefined,
      wait: false,
      node: undefined,
    });
    expect(parse(['repair', 'table', 'shop.orders', '--node', '10.0.0.2'])).to.include({ node: '10.0.0.2' });
  });

  it('repeatable --range with negative tokens (both spellings), --full, --parallelism, --wait', function () {
    const options = parse([
      'repair',
      'table',
      'shop.orders',
      '--range=-9223372036854775808:-4611686018427387904',
      '--range',
      '-100:9223372036854775807',
      '--full',
      '--parallelism',
      'dc_parallel',
      '--wait',
    ]) as { ranges: unknown[]; incremental: boolean; parallelism: string; wait: boolean };
    expect(options.ranges).to.deep.equal([
      { start: -9223372036854775808n, end: -4611686018427387904n },
      { start: -100n, end: 9223372036854775807n },
    ]);
    expect(options).to.include({ incremental: false, parallelism: 'dc_parallel', wait: true });
  });

  const errors: Array<[string[], RegExp]> = [
    [['repair', 'table', 'shop.orders', '--full', '--incremental'], /exclude each other/],
    [['repair', 'table', 'shop.orders', '--range', '1-2'], /--range: .*START:END/],
    [['repair', 'table', 'shop.orders', '--range=5:5'], /start and end are equal/],
    [['repair', 'table', 'shop.orders', '--parallelism', 'fast'], /fast/],
  ];
  for (const [args, message] of errors) {
    it(`usage error: ${args.slice(3).join(' ')}`, function () {
      let caught: unknown;
      try {
        parseInvocation(args, '9.9.9');
      } catch (error) {
        caught = error;
      }
      expect(caught).to.be.instanceOf(UsageError);
      expect((caught as Error).message).to.match(message);
    });
  }
});

describe('tend repair table: the task', function () {
  // Three nodes, one token each: ranges (300,100] (wraps) owned by a, (100,200] by b, (200,300] by c.
  const nodes: NodeInfo[] = [
    { hostId: 'a', address: '10.0.0.1', datacenter: 'dc1', rack: 'r1', tokens: ['100'], up: true },
    { hostId: 'b', address: '10.0.0.2', datacenter: 'dc1', rack: 'r1', tokens: ['200'], up: true },
    { hostId: 'c', address: '10.0.0.3', datacenter: 'dc1', rack: 'r1', tokens: ['300'], up: true },
  ];
  const ring = buildRing(nodes);
  const rf2 = computePlacement(ring, { class: 'SimpleStrategy', replicationFactor: 2 });
  const base = {
    keyspace: 'shop',
    table: 'orders',
    ring,
    placement: rf2,
    incremental: false,
    parallelism: 'parallel' as const,
  };

  it('no --range: one whole-table call covering every range the node replicates', function () {
    const request = adHocRepairTask({ ...base, localHostId: 'b', requested: [] }) as AdHocTask;
    expect(request.scope).to.equal('table');
    expect(request.repairType).to.equal('vnode');
    // b replicates its own (100,200] and, as the second replica, a's (300,100].
    expect(request.ranges).to.have.deep.members([
      { start: '100', end: '200' },
      { start: '300', end: '100' },
    ]);
    expect(request.replicaAddresses).to.deep.equal(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
  });

  it('--range across a vnode boundary is cut into pieces Cassandra accepts; replicas of those pieces only', function () {
    const request = adHocRepairTask({
      ...base,
      localHostId: 'b',
      requested: [{ start: 50n, end: 150n }],
      incremental: true,
    }) as AdHocTask;
    expect(request.scope).to.equal('ranges');
    expect(request.repairType).to.equal('incremental');
    expect(request.ranges).to.have.deep.members([
      { start: '50', end: '100' },
      { start: '100', end: '150' },
    ]);
  });

  it('a range the node does not replicate is refused, and the command says which (a usage error)', function () {
    const refusal = adHocRepairTask({ ...base, localHostId: 'b', requested: [{ start: 200n, end: 250n }] });
    expect(refusal).to.deep.equal({ refused: 'range_not_replicated', range: { start: 200n, end: 250n } });
    const error = refusalError('shop', refusal as Exclude<typeof refusal, AdHocTask>);
    expect(error).to.be.instanceOf(UsageError);
    expect(error.message).to.match(/range 200:250 is not \(entirely\) replicated by this node/);
  });

  it('a node that replicates nothing of the keyspace is refused', function () {
    const ring1 = computePlacement(ring, { class: 'NetworkTopologyStrategy', datacenters: { dc2: 1 } });
    expect(adHocRepairTask({ ...base, placement: ring1, localHostId: 'b', requested: [] })).to.deep.equal({
      refused: 'keyspace_not_replicated',
    });
  });
});

describe('tend repair table: progress', function () {
  it('ranges done of total, elapsed and an estimate from the pace so far', function () {
    expect(progressText('shop.orders', 0, 16, 4000)).to.equal('repairing shop.orders: 0/16 ranges, 4s elapsed');
    expect(progressText('shop.orders', 4, 16, 40_000)).to.equal(
      'repairing shop.orders: 4/16 ranges, 40s elapsed, about 2m00s left',
    );
    expect(progressText('shop.orders', 16, 16, 160_000)).to.equal('repairing shop.orders: 16/16 ranges, 2m40s elapsed');
  });
});
