import { expect } from 'chai';
import { plan, type RepairTask, type TableSettings } from '../../../src/core/planner.js';
import { coveredNodes, endpointFor, mergeNodePlans } from '../../../src/core/node-group.js';
import type { NodeInfo } from '../../../src/core/ring.js';
import { syntheticNodes } from './synthetic.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2026, 10, 21, 12);

function settings(keyspace: string, table: string, weight = 1): TableSettings {
  return {
    keyspace,
    table,
    enabled: true,
    intervalMs: 7 * DAY,
    warnMs: 8 * DAY,
    errorMs: 10 * DAY,
    weight,
    repairType: 'vnode',
    parallelism: 'parallel',
  };
}

describe('core/node-group: acting for a group of nodes (issue 18)', () => {
  const nodes = syntheticNodes(
    [
      { name: 'dc1', nodes: 4, racks: 2 },
      { name: 'dc2', nodes: 3 },
    ],
    8,
    7,
  );

  describe('coveredNodes', () => {
    it('datacenters, racks and hosts (by address or host id) select those nodes, sorted by host id', () => {
      expect(coveredNodes(nodes, { datacenters: ['dc2'] }).nodes.map((n) => n.hostId)).to.deep.equal([
        'h-dc2-1',
        'h-dc2-2',
        'h-dc2-3',
      ]);
      expect(coveredNodes(nodes, { racks: ['dc1:rack2'] }).nodes.map((n) => n.hostId)).to.deep.equal([
        'h-dc1-2',
        'h-dc1-4',
      ]);
      expect(coveredNodes(nodes, { hosts: ['10.2.0.3', 'H-DC1-1'] }).nodes.map((n) => n.hostId)).to.deep.equal([
        'h-dc1-1',
        'h-dc2-3',
      ]);
    });

    it('tells entries that match no node, and a node listed twice under two names', () => {
      const withAlias: NodeInfo[] = nodes.map((n) => (n.hostId === 'h-dc1-1' ? { ...n, aliases: ['192.168.0.1'] } : n));
      const covered = coveredNodes(withAlias, { hosts: ['10.1.0.1', '192.168.0.1', '10.9.9.9'] });
      expect(covered.nodes.map((n) => n.hostId)).to.deep.equal(['h-dc1-1']);
      expect(covered.unmatched).to.deep.equal(['10.9.9.9']);
      expect(covered.listedTwice).to.deep.equal(['192.168.0.1 (h-dc1-1)']);
      expect(coveredNodes(nodes, { datacenters: ['dc3'] }).unmatched).to.deep.equal(['dc3']);
    });
  });

  describe('endpointFor', () => {
    const node = { hostId: 'h-1', address: '10.0.0.5' };
    const defaults = { jolokiaUrl: 'https://127.0.0.1:8778/jolokia/', nodetoolPort: 7199 };
    it('defaults: executor.jolokia.url with the node as host, the node as JMX host', () => {
      expect(endpointFor(node, { endpoints: {} }, defaults)).to.deep.equal({
        jolokiaUrl: 'https://10.0.0.5:8778/jolokia/',
        nodetoolHost: '10.0.0.5',
        nodetoolPort: 7199,
      });
    });
    it('templates fill {address} (IPv6 in brackets in a URL)', () => {
      const templates = {
        jolokiaUrl: 'https://{address}:9778/j/',
        nodetoolHost: 'jmx-{address}.example',
        endpoints: {},
      };
      expect(endpointFor(node, templates, defaults).jolokiaUrl).to.equal('https://10.0.0.5:9778/j/');
      expect(endpointFor({ hostId: 'h', address: '::1' }, templates, defaults).jolokiaUrl).to.equal(
        'https://[::1]:9778/j/',
      );
      expect(endpointFor(node, templates, defaults).nodetoolHost).to.equal('jmx-10.0.0.5.example');
    });
    it('an explicit entry, by host id or address, beats the templates', () => {
      const templates = {
        jolokiaUrl: 'https://{address}:8778/jolokia/',
        endpoints: { 'H-1': { jolokiaUrl: 'https://nat:18778/jolokia/', nodetoolPort: 17199 } },
      };
      expect(endpointFor(node, templates, defaults)).to.deep.equal({
        jolokiaUrl: 'https://nat:18778/jolokia/',
        nodetoolHost: '10.0.0.5',
        nodetoolPort: 17199,
      });
      const byAddress = { endpoints: { '10.0.0.5': { nodetoolHost: 'gw' } } };
      expect(endpointFor(node, byAddress, defaults).nodetoolHost).to.equal('gw');
    });
  });

  describe('mergeNodePlans: a group plan against the per-node plans', () => {
    // Six tables with different weights (so different priorities), in two keyspaces, over 2 DCs; dc1 is the group.
    const keyspaces = {
      ks1: { class: 'NetworkTopologyStrategy', datacenters: { dc1: 2, dc2: 2 } },
      ks2: { class: 'NetworkTopologyStrategy', datacenters: { dc1: 3 } },
    };
    const tables = ['a', 'b', 'c'].flatMap((t, i) => [settings('ks1', t, i + 1), settings('ks2', t, 3 - i)]);
    const perNode = (hostId: string, maxTasks: number) =>
      plan({
        now: NOW,
        localHostId: hostId,
        tables,
        topology: { nodes, keyspaces },
        history: {},
        limits: { maxTasks },
      });
    const group = coveredNodes(nodes, { datacenters: ['dc1'] }).nodes;

    it('each node keeps the order of its own plan, and priorities never rise along the batch', () => {
      const plans = group.map((n) => ({ hostId: n.hostId, tasks: perNode(n.hostId, 1000).tasks }));
      const merged = mergeNodePlans(plans, 1000);
      for (const { hostId, tasks } of plans) {
        const mine = merged.filter((m) => m.hostId === hostId).map((m) => m.task.id);
        // A subsequence of the node's own plan (tasks another node already covered are left out).
        let at = 0;
        for (const id of mine) {
          while (at < tasks.length && tasks[at]!.id !== id) at += 1;
          expect(at, `${hostId}: ${id} out of order`).to.be.lessThan(tasks.length);
          at += 1;
        }
      }
      for (let i = 1; i < merged.length; i += 1) {
        expect(merged[i]!.task.priority).to.be.at.most(merged[i - 1]!.task.priority);
      }
    });

    it('repairs every range a per-node plan would, each (table, range) once', () => {
      const plans = group.map((n) => ({ hostId: n.hostId, tasks: perNode(n.hostId, 1000).tasks }));
      const merged = mergeNodePlans(plans, 1000);
      const key = (t: RepairTask) =>
        t.tables.flatMap((table) => t.ranges.map((r) => `${t.keyspace}.${table} ${r.start} ${r.end}`));
      const wanted = new Set(plans.flatMap((p) => p.tasks.flatMap(key)));
      const got = merged.flatMap((m) => key(m.task));
      expect(new Set(got)).to.deep.equal(wanted);
      // dc1 has 4 nodes and RF 2/3: without the merge's check, shared ranges would be repaired 2-3 times.
      expect(got.length).to.be.lessThan(plans.flatMap((p) => p.tasks.flatMap(key)).length);
    });

    it('the first task of the group is the first task of the node whose plan starts highest', () => {
      const plans = group.map((n) => ({ hostId: n.hostId, tasks: perNode(n.hostId, 1000).tasks }));
      const top = Math.max(...plans.map((p) => p.tasks[0]!.priority));
      const first = plans.find((p) => p.tasks[0]!.priority === top)!;
      const merged = mergeNodePlans(plans, 3);
      expect(merged).to.have.length(3);
      expect(merged[0]).to.deep.equal({ hostId: first.hostId, task: first.tasks[0] });
    });

    it('a group of one node runs exactly what that node plans', () => {
      const own = perNode('h-dc2-1', 10).tasks;
      expect(mergeNodePlans([{ hostId: 'h-dc2-1', tasks: own }], 10).map((m) => m.task)).to.deep.equal(own);
    });
  });
});
