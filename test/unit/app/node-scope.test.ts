/** `--node` (issue 18): a group configuration narrowed to one covered node, as its own configuration would be. */
import { expect } from 'chai';
import { parse } from 'yaml';
import { validateConfig } from '../../../src/config/validate.js';
import { namesNode, nodeConfig } from '../../../src/app/node-scope.js';
import { nodeArgument } from '../../../src/cli/arguments.js';
import { UsageError } from '../../../src/errors.js';

function config(text: string) {
  const result = validateConfig(parse(text));
  if (!result.config) throw new Error(result.errors.join('; '));
  return result.config;
}

const NODE2 = {
  hostId: '6f1c9d4e-1b2a-4c3d-9e8f-0a1b2c3d4e5f',
  address: '10.0.0.2',
  datacenter: 'dc1',
  rack: 'r1',
  tokens: [],
  up: true,
};

describe('app/node-scope: --node under a group configuration', () => {
  it("acts as the node's own configuration: node: set to it, the executor at its endpoint", () => {
    const group = config(
      'executor: { type: jolokia, jolokia: { url: "https://127.0.0.1:8778/jolokia/", user: tend } }\n' +
        'nodes: { instance: dc1-agent, datacenters: [dc1], jolokiaUrl: "https://{address}:8443/jolokia/" }',
    );
    const narrowed = nodeConfig(group, NODE2);
    // nodes: stays: tend still runs on another host than the node (no local disk for back-pressure checks).
    expect(narrowed.nodes?.instance).to.equal('dc1-agent');
    expect(narrowed.node).to.include({ hostId: NODE2.hostId, address: '10.0.0.2' });
    expect(narrowed.executor.jolokia).to.include({ url: 'https://10.0.0.2:8443/jolokia/', user: 'tend' });
    // The group's configuration is left as it was (each node gets its own).
    expect(group.nodes?.instance).to.equal('dc1-agent');
    expect(group.node.address).to.equal(undefined);
  });

  it('leaves a per-node configuration as it is', () => {
    const single = config('node: { name: node7 }');
    expect(nodeConfig(single, NODE2)).to.equal(single);
  });

  it('names a node by address (IPv6 in any spelling) or host id (any case), nothing else', () => {
    expect(namesNode(NODE2, '10.0.0.2')).to.equal(true);
    expect(namesNode(NODE2, NODE2.hostId.toUpperCase())).to.equal(true);
    expect(namesNode(NODE2, '10.0.0.20')).to.equal(false);
    expect(namesNode(NODE2, 'dc1')).to.equal(false);
    const v6 = { ...NODE2, address: 'fd00::2' };
    expect(namesNode(v6, 'FD00:0:0:0:0:0:0:2')).to.equal(true);
  });

  it('refuses an empty or malformed --node before anything connects (exit 2)', () => {
    expect(nodeArgument(undefined)).to.equal(undefined);
    expect(nodeArgument(' 10.0.0.2 ')).to.equal('10.0.0.2');
    for (const bad of ['', 'a b', 'x\u0007y']) expect(() => nodeArgument(bad)).to.throw(UsageError, /--node/);
  });
});
