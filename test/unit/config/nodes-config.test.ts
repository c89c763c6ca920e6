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
