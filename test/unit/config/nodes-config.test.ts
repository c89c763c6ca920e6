import { expect } from 'chai';
import { parse } from 'yaml';
import { validateConfig } from '../../../src/config/validate.js';

describe('nodes: a group of nodes (issue 18)', () => {
  it('absent, tend acts for one node (config.nodes undefined)', () => {
    const result = validateConfig({});
    expect(result.errors).to.deep.equal([]);
    expect(result.config!.nodes).to.equal(undefined);
  });

  it('accepts each kind of scope, with templates and explicit endpoints', () => {
    for (const text of [
      'nodes: { instance: dc1-agent, datacenters: [dc1] }',
      'nodes: { instance: rack-agent, racks: ["dc1:rack1", "dc2:rack1"] }',
      'nodes: { instance: a.b_c, hosts: [10.0.0.1, 5f2c9a36-1a5e-4e39-9f0e-3b9a1a0f6c11, cass3.example.com] }',
      'nodes: { instance: dc1-agent, datacenters: [dc1], jolokiaUrl: "https://{address}:8778/jolokia/", ' +
        'nodetoolHost: "{address}", endpoints: { 10.0.0.9: { jolokiaUrl: "https://nat.example.com:18778/jolokia/", ' +
        'nodetoolHost: nat.example.com, nodetoolPort: 17199 } } }',
    ]) {
      const result = validateConfig(parse(text));
      expect(result.errors, text).to.deep.equal([]);
    }
  });

  it('keeps the parsed values (endpoints default to none)', () => {
    const result = validateConfig(parse('nodes: { instance: dc1-agent, datacenters: [dc1] }'));
    expect(result.config!.nodes).to.deep.equal({ instance: 'dc1-agent', datacenters: ['dc1'], endpoints: {} });
  });

  it('warns about an endpoint for a node the host list does not name', () => {
    const result = validateConfig(
      parse('nodes: { instance: a, hosts: [10.0.0.1], endpoints: { 10.0.0.2: { nodetoolHost: 10.0.0.2 } } }'),
    );
    expect(result.errors).to.deep.equal([]);
    expect(result.warnings).to.deep.equal(['nodes.endpoints.10.0.0.2: names a node that nodes.hosts does not list']);
  });

  it('warns when the Jolokia password would cross the network in clear text', () => {
    const result = validateConfig(
      parse(
        'executor: { type: jolokia, jolokia: { user: tend } }\n' +
          'nodes: { instance: a, datacenters: [dc1], jolokiaUrl: "http://{address}:8778/jolokia/" }',
      ),
      { env: { TEND_JOLOKIA_PASSWORD: 'x' } },
    );
    expect(result.errors).to.deep.equal([]);
    expect(result.warnings.join('\n')).to.contain('nodes.jolokiaUrl: sends the Jolokia user and password');
  });

  it('does not ask for node.address when nodes is set (a host name as first contact point)', () => {
    const result = validateConfig(
      parse(
        'cassandra: { contactPoints: [cass1.example.com], localDatacenter: dc1 }\nnodes: { instance: a, datacenters: [dc1] }',
      ),
    );
    expect(result.errors).to.deep.equal([]);
  });
});

describe('schedule.parallelTasks (issue 18)', () => {
  it('defaults to 1, accepts 1–64 with nodes:, refuses other numbers', () => {
    expect(validateConfig({}).config!.schedule.parallelTasks).to.equal(1);
    const group = 'nodes: { instance: a, datacenters: [dc1] }\nlease: { scope: node }\n';
    for (const n of [1, 2, 64]) {
      const result = validateConfig(parse(`${group}schedule: { parallelTasks: ${n} }`));
      expect(result.errors, String(n)).to.deep.equal([]);
      expect(result.warnings, String(n)).to.deep.equal([]);
      expect(result.config!.schedule.parallelTasks).to.equal(n);
    }
    for (const n of [0, 65, 1.5, '"2"']) {
      const result = validateConfig(parse(`${group}schedule: { parallelTasks: ${n} }`));
      expect(result.errors.join('\n'), String(n)).to.match(/^schedule\.parallelTasks: .*between 1 and 64/);
    }
  });

  it('refuses more than 1 with a per-node configuration, naming the key and why', () => {
    for (const text of [
      'schedule: { parallelTasks: 2 }',
      'node: { address: 10.0.0.1 }\nschedule: { parallelTasks: 2 }',
    ]) {
      const result = validateConfig(parse(text));
      expect(result.errors, text).to.have.length(1);
      expect(result.errors[0]).to.match(/^schedule\.parallelTasks: must be 1 when tend acts for one node/);
      expect(result.errors[0]).to.contain('no two tasks are disjoint');
    }
  });

  it('warns in lease scope datacenter when the slots are fewer than parallelTasks', () => {
    const result = validateConfig(parse('nodes: { instance: a, datacenters: [dc1] }\nschedule: { parallelTasks: 2 }'));
    expect(result.errors).to.deep.equal([]);
    expect(result.warnings).to.deep.equal([
      'schedule.parallelTasks: with lease.scope datacenter each task takes its own slot: at most lease.slotsPerDatacenter (1) tasks run at once in one datacenter; 2 run at once only across datacenters (or use lease.scope node)',
    ]);
    const slots = validateConfig(
      parse(
        'nodes: { instance: a, datacenters: [dc1] }\nschedule: { parallelTasks: 2 }\nlease: { slotsPerDatacenter: 2 }',
      ),
    );
    expect(slots.warnings).to.deep.equal([]);
  });
});
