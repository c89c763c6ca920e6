/**
 * The coverage record carried out (issue 18), against an in-memory store: what a tick writes, warns and removes;
 * how `schedule status` shows it and when --check exits 7; the metrics series; `lease status`'s instance.
 */
import { expect } from 'chai';
import { claimCoverage, claimCoverageQuietly, type CoverageStore } from '../../../src/app/coverage.js';
import { presentStatus } from '../../../src/cli/commands/schedule.js';
import { leaseStatus } from '../../../src/app/lease-status.js';
import { MemoryLeaseBackend } from '../../../src/lease/memory.js';
import { parseExposition } from '../../../src/metrics/textfile.js';
import { renderTickMetrics } from '../../../src/metrics/tick-metrics.js';
import { Output } from '../../../src/output/output.js';
import { MemoryStream } from '../../../src/output/memory-stream.js';
import { AlarmCrossed } from '../../../src/errors.js';
import { COVERAGE_KEEP_MS, coverageOf, type CoverageClaim, type NodeInfo } from '../../../src/core/index.js';
import type { StatusReport } from '../../../src/app/schedule.js';
import { validateConfig } from '../../../src/config/validate.js';
import { configuredCoverageTtl } from '../../../src/app/coverage.js';

const NOW = Date.UTC(2026, 11, 3, 12);
const HOUR = 3_600_000;

function node(n: number, datacenter: string): NodeInfo {
  return { hostId: `h${n}`, address: `10.0.0.${n}`, datacenter, rack: 'r1', tokens: [], up: true };
}
const RING = [node(1, 'dc1'), node(2, 'dc1'), node(3, 'dc2')];

class MemoryCoverageStore implements CoverageStore {
  removed: CoverageClaim[] = [];
  constructor(public claims: CoverageClaim[] = []) {}
  async read() {
    return [...this.claims];
  }
  async write(claims: readonly CoverageClaim[]) {
    for (const claim of claims) {
      this.claims = this.claims.filter((c) => !(c.hostId === claim.hostId && c.instance === claim.instance));
      this.claims.push(claim);
    }
  }
  async remove(claims: readonly CoverageClaim[]) {
    this.removed.push(...claims);
    this.claims = this.claims.filter((c) => !claims.includes(c));
  }
  async close() {}
}

function claim(hostId: string, instance: string, expiresAt: number, kind: 'group' | 'node' = 'group'): CoverageClaim {
  const n = RING.find((r) => r.hostId === hostId)!;
  return { hostId, address: n.address, instance, instanceHost: `${instance}-host`, kind, claimedAt: 0, expiresAt };
}

describe('coverage record (app): a tick claims, warns, removes; status and metrics show it', function () {
  it('a group tick writes one claim per covered node, warns about another live instance, removes long-lapsed claims', async function () {
    const stale = claim('h1', 'retired-agent', NOW - COVERAGE_KEEP_MS - 1);
    const store = new MemoryCoverageStore([claim('h2', 'node2', NOW + HOUR, 'node'), stale]);
    const warnings: string[] = [];
    const result = await claimCoverage(
      store,
      { instance: 'dc1-agent', instanceHost: 'mgmt1', kind: 'group' },
      RING.slice(0, 2),
      RING,
      { now: NOW, ttlMs: HOUR },
      (m) => warnings.push(m),
    );
    expect(store.claims.filter((c) => c.instance === 'dc1-agent').map((c) => [c.hostId, c.expiresAt])).to.deep.equal([
      ['h1', NOW + HOUR],
      ['h2', NOW + HOUR],
    ]);
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.match(/^node 10\.0\.0\.2 \(h2\) is also covered by its own timer \(node2\)/);
    expect(result.conflicts).to.deep.equal(warnings);
    expect(store.removed).to.deep.equal([stale]);
    expect(result).to.deep.include({ instance: 'dc1-agent', kind: 'group', nodes: ['10.0.0.1', '10.0.0.2'] });
    // The ring as the tick leaves it: its own claims count; node3 has none.
    expect(result.ring.nodes.map((n) => n.state)).to.deep.equal(['covered', 'claimed_twice', 'uncovered']);
  });

  it('a store that fails is a warning, never the tick’s failure', async function () {
    const warnings: string[] = [];
    const result = await claimCoverageQuietly(
      async () => {
        throw new Error('Consul unreachable');
      },
      { instance: 'node1', instanceHost: 'n1', kind: 'node' },
      [RING[0]!],
      RING,
      { now: NOW, ttlMs: HOUR },
      (m) => warnings.push(m),
    );
    expect(result).to.equal(undefined);
    expect(warnings).to.deep.equal(['coverage not recorded: Consul unreachable']);
  });

  describe('schedule status', function () {
    const base: StatusReport = {
      now: NOW,
      node: { hostId: 'h3', address: '10.0.0.3', datacenter: 'dc2' },
      rows: [],
      summary: { tables: 0, jobs: 0, due: 0, late: 0, overdue: 0, blocked: 0, skipped: 0, tasks: 0, historyEntries: 0 },
      pastErrorAlarm: [],
      rowsRead: { topology: 0, summaries: 0, state: 0, sessions: 0, parents: 0, estimates: 0, policies: 0, total: 0 },
      warnings: [],
    };
    function output(tty: boolean) {
      const stdout = new MemoryStream(tty);
      const stderr = new MemoryStream(tty);
      const out = new Output({ stdout, stderr, json: false, colorAllowed: false, now: () => new Date(NOW) });
      return { out, stdout, stderr };
    }
    const lapsed = coverageOf(
      RING,
      [claim('h1', 'dc1-agent', NOW + HOUR), claim('h2', 'dc1-agent', NOW - HOUR), claim('h3', 'node3', NOW + HOUR)],
      NOW,
    );

    it('an uncovered node: listed with who covered it last, a warning, and --check exits 7 naming it', function () {
      const { out, stdout, stderr } = output(false);
      let error: unknown;
      try {
        presentStatus({ ...base, coverage: lapsed }, { scope: undefined, check: true }, { out });
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(AlarmCrossed);
      expect((error as Error).message).to.equal('1 node(s) no live tend instance covers: 10.0.0.2');
      const lines = stdout.text.trim().split('\n');
      expect(lines.find((l) => l.startsWith('10.0.0.2'))!.split('\t')).to.deep.equal([
        '10.0.0.2',
        'dc1',
        'UNCOVERED',
        'last: dc1-agent (dc1-agent-host)',
        '2026-12-03T11:00:00Z',
      ]);
      expect(lines.find((l) => l.startsWith('10.0.0.1'))).to.include('COVERED');
      expect(stderr.text).to.include(
        'node 10.0.0.2 (dc1): no live tend instance covers it since 2026-12-03T11:00:00.000Z (last: dc1-agent on dc1-agent-host)',
      );
    });

    it('without --check, or with every node covered (even claimed twice), nothing is thrown', function () {
      expect(() =>
        presentStatus({ ...base, coverage: lapsed }, { scope: undefined, check: false }, { out: output(false).out }),
      ).to.not.throw();
      const twice = coverageOf(
        RING,
        [
          claim('h1', 'dc1-agent', NOW + HOUR),
          claim('h2', 'dc1-agent', NOW + HOUR),
          claim('h2', 'other', NOW + HOUR),
          claim('h3', 'node3', NOW + HOUR),
        ],
        NOW,
      );
      const { out, stdout } = output(false);
      expect(() =>
        presentStatus({ ...base, coverage: twice }, { scope: undefined, check: true }, { out }),
      ).to.not.throw();
      expect(stdout.text).to.match(/10\.0\.0\.2\tdc1\tCLAIMED_TWICE\tdc1-agent \(dc1-agent-host\), other/);
    });

    it('nothing recorded yet: no alarm, one line on a terminal, nothing piped', function () {
      const none = coverageOf(RING, [], NOW);
      const tty = output(true);
      presentStatus({ ...base, coverage: none }, { scope: undefined, check: true }, { out: tty.out });
      expect(tty.stdout.text).to.include('No coverage recorded yet');
      const piped = output(false);
      presentStatus({ ...base, coverage: none }, { scope: undefined, check: true }, { out: piped.out });
      expect(piped.stdout.text).to.not.include('10.0.0.1');
    });
  });

  it('metrics: live instances per node and the count of uncovered nodes', async function () {
    const coverage = coverageOf(
      RING,
      [claim('h1', 'dc1-agent', NOW + HOUR), claim('h3', 'node3', NOW + HOUR), claim('h3', 'dc2', NOW + HOUR)],
      NOW,
    );
    const samples = parseExposition(
      await renderTickMetrics({ startedAt: NOW, durationMs: 1, coverage: coverage.nodes }),
    );
    const value = (name: string, labels: Record<string, string> = {}) =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    expect(value('tend_uncovered_nodes')).to.equal(1);
    expect(value('tend_node_coverage_instances', { node: '10.0.0.1', datacenter: 'dc1' })).to.equal(1);
    expect(value('tend_node_coverage_instances', { node: '10.0.0.2' })).to.equal(0);
    expect(value('tend_node_coverage_instances', { node: '10.0.0.3' })).to.equal(2);
    const without = parseExposition(await renderTickMetrics({ startedAt: NOW, durationMs: 1 }));
    expect(without.some((s) => s.name === 'tend_uncovered_nodes')).to.equal(false);
  });

  it('lease status: the group instance and the node it holds the lease for; null for a per-node lease', async function () {
    const backend = new MemoryLeaseBackend(() => NOW);
    await backend.tryAcquire('node/10.0.0.1/slot-0', { name: 'dc1-agent', host: 'mgmt1' }, 60_000, {
      instance: 'dc1-agent',
      node: '10.0.0.1',
      task: 't1',
    });
    await backend.tryAcquire('node/10.0.0.3/slot-0', { name: 'node3', host: 'n3' }, 60_000, { task: 't2' });
    const report = await leaseStatus(backend, NOW);
    expect(report.leases.map((l) => [l.resource, l.holderHost, l.instance, l.forNode])).to.deep.equal([
      ['node/10.0.0.1/slot-0', 'mgmt1', 'dc1-agent', '10.0.0.1'],
      ['node/10.0.0.3/slot-0', 'n3', null, null],
    ]);
  });

  it('schedule.coverageTtl: the configured value, else maxDuration + taskTimeout + 15m; shorter than a tick warns', function () {
    const defaults = validateConfig({});
    expect(configuredCoverageTtl(defaults.config!)).to.equal(4 * HOUR + 15 * 60_000);
    expect(defaults.warnings.join('\n')).to.not.include('coverageTtl');
    const short = validateConfig({
      schedule: { coverageTtl: '15s', maxDuration: '10m' },
      repair: { taskTimeout: '1h' },
    });
    expect(configuredCoverageTtl(short.config!)).to.equal(15_000);
    expect(short.warnings.join('\n')).to.include(
      'schedule.coverageTtl: is shorter than the longest healthy tick (schedule.maxDuration + repair.taskTimeout = 1h10m)',
    );
    expect(validateConfig({ schedule: { coverageTtl: '5s' } }).errors.join('\n')).to.include('schedule.coverageTtl');
  });
});
