/**
 * Issue 15 item 1: the verdict on a task whose replicas run a repair, on rows captured from real 4.1.10 and 5.0.8
 * sandboxes while `nodetool repair --full` ran on node1 (test/fixtures/cassandra/capture.ts).
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { runningRepairsOf, type RowLike } from '../../../src/cluster/repair-activity.js';
import {
  endpointAddress,
  normalizeAddress,
  runningRepairVerdict,
  type ReplicaRepairReport,
} from '../../../src/core/running-repairs.js';
import type { NodeInfo } from '../../../src/core/ring.js';

type Phase = Record<string, { repairs: RowLike[]; repair_participates: RowLike[] }>;
function fixture(version: string): { running: Phase; finished: Phase; repairStartedAfter: string } {
  return JSON.parse(
    readFileSync(new URL(`../../fixtures/cassandra/${version}/repair-activity.json`, import.meta.url), 'utf8'),
  ) as { running: Phase; finished: Phase; repairStartedAfter: string };
}
function reports(phase: Phase): ReplicaRepairReport[] {
  return Object.entries(phase).map(([address, rows]) => ({
    address,
    repairs: runningRepairsOf(address, rows.repairs, rows.repair_participates),
  }));
}
const nodes: NodeInfo[] = [1, 2, 3].map((i) => ({
  hostId: `h${i}`,
  address: `127.0.2.${i}`,
  datacenter: i === 3 ? 'dc2' : 'dc1',
  rack: 'rack1',
  tokens: [String(i)],
  up: true,
}));
const ALL = nodes.map((n) => n.address);
const NOW = Date.parse('2026-12-03T12:20:00Z');

describe('core/running-repairs: the verdict on captured repair state', () => {
  it('4.1.10, repair running: every replica lists it (participants by initiator), the task is skipped', () => {
    const found = reports(fixture('4.1.10').running);
    expect(found.map((r) => ('repairs' in r ? r.repairs.length : -1))).to.deep.equal([1, 1, 1]);
    const verdict = runningRepairVerdict({ replicas: ['127.0.2.2', '127.0.2.3'], reports: found, nodes, now: NOW });
    expect(verdict.start).to.equal(false);
    if (verdict.start) return;
    expect(verdict.repairs).to.have.length(1); // one repair, however many replicas list it
    expect(verdict.repairs[0]!.coordinator).to.equal('127.0.2.1');
    expect(verdict.reason).to.match(
      /^replica 127\.0\.2\.2 is already repairing: repair 11f9d9c0-\S+ of it_capture_running\.big, coordinated by 127\.0\.2\.1 since 2026-12-03T12:14:21\.082Z \(.*ago\)$/,
    );
  });

  it("a participant's entry its coordinator no longer lists (a terminated repair on 4.1) is stale: let pass", () => {
    const found = reports(fixture('4.1.10').running);
    // The coordinator (127.0.2.1) has ended the repair; its participants still list it as not completed.
    const ended = found.map((report) =>
      report.address === '127.0.2.1' && 'repairs' in report ? { ...report, repairs: [] } : report,
    );
    const verdict = runningRepairVerdict({ replicas: ['127.0.2.2', '127.0.2.3'], reports: ended, nodes, now: NOW });
    expect(verdict.start).to.equal(true);
    if (!verdict.start) return;
    expect(verdict.ignored.map((i) => i.why)).to.deep.equal(['its coordinator 127.0.2.1 no longer runs it']);
    // Without the coordinator's own list, the participants' word stands.
    const unread = ended.filter((report) => report.address !== '127.0.2.1');
    expect(
      runningRepairVerdict({ replicas: ['127.0.2.2', '127.0.2.3'], reports: unread, nodes, now: NOW }).start,
    ).to.equal(false);
  });

  it('5.0.8, repair just started: only the coordinator knows it yet (system_views.repairs), and that suffices', () => {
    const found = reports(fixture('5.0.8').running);
    const verdict = runningRepairVerdict({ replicas: ALL, reports: found, nodes, now: NOW });
    expect(verdict.start).to.equal(false);
    if (verdict.start) return;
    expect(verdict.repairs[0]!.repair).to.deep.include({ keyspace: 'it_capture_running', status: 'setup' });
    // A task on the other two replicas does not see it yet: the prepare message had not arrived 42 ms in.
    expect(
      runningRepairVerdict({ replicas: ['127.0.2.2', '127.0.2.3'], reports: found, nodes, now: NOW }).start,
    ).to.equal(true);
  });

  for (const version of ['4.1.10', '5.0.8']) {
    it(`${version}, repair finished: nothing runs, the task starts`, () => {
      const verdict = runningRepairVerdict({
        replicas: ALL,
        reports: reports(fixture(version).finished),
        nodes,
        now: NOW,
      });
      expect(verdict).to.deep.equal({ start: true, unchecked: [], ignored: [] });
    });
  }

  it('a coordinator that is down, or gone from the ring, does not block (its repair cannot be running)', () => {
    const found = reports(fixture('4.1.10').running);
    const down = nodes.map((n) => (n.address === '127.0.2.1' ? { ...n, up: false } : n));
    const verdict = runningRepairVerdict({ replicas: ['127.0.2.2'], reports: found, nodes: down, now: NOW });
    expect(verdict.start).to.equal(true);
    if (!verdict.start) return;
    expect(verdict.ignored.map((i) => i.why)).to.deep.equal(['its coordinator 127.0.2.1 is down']);
    const gone = runningRepairVerdict({ replicas: ['127.0.2.2'], reports: found, nodes: nodes.slice(1), now: NOW });
    expect(gone.start).to.equal(true);
  });

  it('a replica that could not be asked is listed as unchecked and does not stop the task', () => {
    const verdict = runningRepairVerdict({
      replicas: ['127.0.2.2'],
      reports: [{ address: '127.0.2.2', error: 'timed out' }],
      nodes,
      now: NOW,
    });
    expect(verdict).to.deep.equal({
      start: true,
      unchecked: [{ address: '127.0.2.2', error: 'timed out' }],
      ignored: [],
    });
  });

  it('reads endpoints as Cassandra writes them, IPv4 and IPv6', () => {
    expect(endpointAddress('/127.0.2.1:7000')).to.equal('127.0.2.1');
    expect(endpointAddress('127.0.2.1/127.0.2.1:7000')).to.equal('127.0.2.1');
    expect(endpointAddress('cass1.example.com/10.0.0.1:7000')).to.equal('10.0.0.1');
    expect(endpointAddress('/[2001:db8::1]:7000')).to.equal('2001:db8::1');
    expect(endpointAddress('/2001:db8:0:0:0:0:0:1:7000')).to.equal('2001:db8::1');
    expect(normalizeAddress('2001:0DB8:0:0:1:0:0:1')).to.equal('2001:db8::1:0:0:1');
  });
});
