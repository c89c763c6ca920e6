/**
 * A planned repair task for the tick's unit tests: keyspace `shop`, the table named by the id (`shop.t#1` → `t`),
 * one range, parallel vnode repair on the given replicas (all three sandbox-like nodes by default).
 */
import type { RepairTask } from '../../../src/core/index.js';

export function task(id: string, replicas: string[] = ['127.0.0.1', '127.0.0.2', '127.0.0.3']): RepairTask {
  return {
    id,
    keyspace: 'shop',
    tables: [id.split('#')[0]!.split('.')[1]!],
    scope: 'ranges',
    ranges: [{ start: '0', end: '100' }],
    replicas,
    replicaAddresses: replicas,
    datacenters: ['dc1'],
    repairType: 'vnode',
    incremental: false,
    parallelism: 'parallel',
    priority: 10,
    estimatedBytes: null,
    oldestRepairedAt: null,
    reason: 'due',
  };
}
