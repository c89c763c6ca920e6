import { expect } from 'chai';
import { parse } from 'yaml';
import { validateConfig } from '../../../src/config/validate.js';
import { configForNode, nodeEndpoint, worstJobs } from '../../../src/app/group-tick.js';
import type { Plan, TableJob } from '../../../src/core/index.js';
import { localHolder } from '../../../src/app/lease-status.js';

function config(text: string) {
  const result = validateConfig(parse(text));
  if (!result.config) throw new Error(result.errors.join('; '));
  return result.config;
}

describe('app/group-tick: one executor per covered node (issue 18)', () => {
  it("points executor.* at the node's endpoint and keeps the rest (user, TLS, nodetool path)", () => {
    const base = config(
      'executor: { type: jolokia, jolokia: { url: "https://127.0.0.1:8778/jolokia/", user: tend }, nodetool: { path: /opt/nodetool, port: 7199 } }\n' +
        'nodes: { instance: a, datacenters: [dc1], endpoints: { 10.0.0.2: { nodetoolHost: gw, nodetoolPort: 17199 } } }',
    );
    const node1 = { hostId: 'h1', address: '10.0.0.1', datacenter: 'dc1', rack: 'r1', tokens: [], up: true };
    const node2 = { ...node1, hostId: 'h2', address: '10.0.0.2' };
    const one = configForNode(base, nodeEndpoint(base, base.nodes!, node1));
    expect(one.executor.jolokia).to.include({ url: 'https://10.0.0.1:8778/jolokia/', user: 'tend' });
    expect(one.executor.nodetool).to.include({ path: '/opt/nodetool', host: '10.0.0.1', port: 7199 });
    const two = configForNode(base, nodeEndpoint(base, base.nodes!, node2));
    expect(two.executor.nodetool).to.include({ host: 'gw', port: 17199 });
    // The configuration it came from is untouched (one per node, not one shared and overwritten).
    expect(base.executor.jolokia.url).to.equal('https://127.0.0.1:8778/jolokia/');
  });

  it('metrics show each table at its worst covered node: highest alarm, then least recently repaired', () => {
    const job = (table: string, alarm: TableJob['alarm'], lastRepairedAt: number | null) =>
      ({ keyspace: 'ks', table, alarm, lastRepairedAt }) as TableJob;
    const plans = [
      { jobs: [job('a', 'none', 100), job('b', 'warn', 50), job('c', 'none', 10)] },
      { jobs: [job('a', 'error', 200), job('b', 'warn', 40), job('c', 'none', null)] },
    ] as unknown as Plan[];
    const worst = new Map(worstJobs(plans).map((j) => [j.table, j]));
    expect(worst.get('a')).to.include({ alarm: 'error', lastRepairedAt: 200 });
    expect(worst.get('b')).to.include({ alarm: 'warn', lastRepairedAt: 40 });
    expect(worst.get('c')).to.include({ lastRepairedAt: null });
  });

  it('`lease release` releases as the group tick holds: the instance name', () => {
    expect(localHolder(config('nodes: { instance: dc1-agent, datacenters: [dc1] }')).name).to.equal('dc1-agent');
    expect(localHolder(config('node: { name: node7 }')).name).to.equal('node7');
  });
});
