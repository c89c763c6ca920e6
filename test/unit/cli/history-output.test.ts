/** history show output from a fixed report: terminal, piped, --json. */
import { expect } from 'chai';
import { presentHistory } from '../../../src/cli/commands/history.js';
import { Output } from '../../../src/output/output.js';
import { MemoryStream } from '../../../src/output/memory-stream.js';
import type { HistoryReport } from '../../../src/app/history-show.js';

const NOW = Date.UTC(2026, 10, 21, 12);
const HOUR = 3_600_000;

const REPORT: HistoryReport = {
  now: NOW,
  since: NOW - 24 * HOUR,
  sessions: [
    {
      source: 'cassandra',
      id: 'p1',
      keyspace: 'shop',
      table: 'orders',
      coordinator: '10.0.0.1',
      participants: ['10.0.0.2', '10.0.0.3'],
      status: 'SUCCESS',
      startedAt: NOW - 2 * HOUR,
      finishedAt: NOW - 2 * HOUR + 90_000,
      durationMs: 90_000,
      ranges: 48,
      message: null,
    },
    {
      source: 'tend',
      id: 'shop.orders#1',
      keyspace: 'shop',
      table: 'orders',
      coordinator: 'node1',
      participants: ['10.0.0.1', '10.0.0.2'],
      status: 'FAILED',
      startedAt: NOW - 3 * HOUR,
      finishedAt: NOW - 3 * HOUR + 500,
      durationMs: 500,
      ranges: 1,
      message: 'validation failed',
    },
  ],
  coverage: [
    {
      keyspace: 'shop',
      table: 'orders',
      rangesTotal: 48,
      rangesWithinInterval: 36,
      share: 0.75,
      oldestRepairedAt: null,
      oldestAgeMs: null,
      intervalMs: 7 * 24 * HOUR,
      state: 'OVERDUE',
    },
  ],
};

function output(tty: boolean, json = false) {
  const stdout = new MemoryStream(tty);
  const stderr = new MemoryStream(tty);
  return { out: new Output({ stdout, stderr, json, colorAllowed: false }), stdout, stderr };
}

describe('history show output', () => {
  it('on a terminal: sessions relative to Cassandra’s clock, then coverage', () => {
    const { out, stdout, stderr } = output(true);
    presentHistory(REPORT, { out });
    const text = stdout.text;
    expect(text).to.match(/STARTED\s+TABLE\s+SOURCE\s+COORDINATOR\s+RANGES\s+STATUS\s+DURATION\s+PARTICIPANTS/);
    expect(text).to.match(
      /2h ago\s+shop\.orders\s+cassandra\s+10\.0\.0\.1\s+48\s+SUCCESS\s+90s\s+10\.0\.0\.2,10\.0\.0\.3/,
    );
    expect(text).to.match(/3h ago\s+shop\.orders\s+tend\s+node1\s+1\s+FAILED\s+500ms/);
    expect(text).to.match(/shop\.orders\s+75\.0%\s+36\/48\s+never\s+7d\s+OVERDUE/);
    expect(stderr.text).to.equal('');
  });

  it('piped: tab-separated, ISO-8601 UTC', () => {
    const { out, stdout } = output(false);
    presentHistory({ ...REPORT, coverage: undefined }, { out });
    expect(stdout.text.split('\n')[0]!.split('\t').slice(0, 3)).to.deep.equal([
      '2026-11-21T10:00:00Z',
      'shop.orders',
      'cassandra',
    ]);
  });

  it('--json: one document', () => {
    const { out, stdout } = output(false, true);
    presentHistory(REPORT, { out });
    const document = JSON.parse(stdout.text) as HistoryReport;
    expect(document.sessions.map((s) => s.source)).to.deep.equal(['cassandra', 'tend']);
    expect(document.coverage?.[0]?.share).to.equal(0.75);
  });

  it('no sessions is not a failure: a note on stderr, nothing on stdout', () => {
    const { out, stdout, stderr } = output(false);
    presentHistory({ ...REPORT, sessions: [], coverage: undefined }, { out });
    expect(stdout.text).to.equal('');
    expect(stderr.text).to.include('no repair sessions since 2026-11-20T12:00:00Z');
  });

  describe('--ring', () => {
    const DAY = 24 * HOUR;
    const Q = 2n ** 62n; // a quarter of the ring
    const MIN = -(2n ** 63n);
    const token = (k: bigint) => String(MIN + k);
    // Four cells' worth of ranges on a 64-cell strip: 16 cells each. The last quarter is another node's.
    const ring = {
      warnMs: 8 * DAY,
      errorMs: 10 * DAY,
      bands: { ok: 1, due: 0, warn: 1, error: 0, never: 1 },
      ranges: [
        { start: token(0n), end: token(Q), repairedAt: NOW - DAY, band: 'ok' as const },
        { start: token(Q), end: token(2n * Q), repairedAt: NOW - 9 * DAY, band: 'warn' as const },
        { start: token(2n * Q), end: token(3n * Q), repairedAt: null, band: 'never' as const },
      ],
    };
    const report: HistoryReport = { ...REPORT, coverage: [{ ...REPORT.coverage![0]!, ring }] };

    it('piped: one strip per table in plain characters, the counts, the limits and a legend', () => {
      const { out, stdout } = output(false);
      presentHistory(report, { out });
      const strip = `|${'#'.repeat(16)}${'w'.repeat(16)}${'?'.repeat(16)}${'.'.repeat(16)}|`;
      expect(stdout.text).to.include(
        `shop.orders  ${strip}  3 range(s): 1 ok, 1 warn, 1 never; interval/warn/error 7d/8d/10d`,
      );
      expect(stdout.text).to.include('  E past the error alarm');
      expect(stdout.text).to.not.include('\u001b[');
    });

    it('on a colour terminal: each run of cells in its band colour', () => {
      const stdout = new MemoryStream(true);
      const out = new Output({ stdout, stderr: new MemoryStream(true), colorAllowed: true });
      presentHistory(report, { out });
      expect(stdout.text).to.include(`\u001b[32m${'#'.repeat(16)}\u001b[39m\u001b[33m${'w'.repeat(16)}\u001b[39m`);
    });

    it('on a colour terminal, a name with control characters is still escaped: only the bands are painted', () => {
      const stdout = new MemoryStream(true);
      const out = new Output({ stdout, stderr: new MemoryStream(true), colorAllowed: true });
      const odd: HistoryReport = { ...report, coverage: [{ ...report.coverage![0]!, table: 'o\u001b[2Jx' }] };
      presentHistory(odd, { out });
      const line = stdout.text.split('\n').find((l) => l.includes('|'))!;
      expect(line).to.not.include('\u001b[2J');
      expect(line).to.include('\u001b[32m#');
    });

    it('--json: the ranges, not the drawing', () => {
      const { out, stdout } = output(false, true);
      presentHistory(report, { out });
      const document = JSON.parse(stdout.text) as HistoryReport;
      expect(document.coverage![0]!.ring!.ranges.map((r) => r.band)).to.deep.equal(['ok', 'warn', 'never']);
      expect(stdout.text).to.not.include('|###');
    });
  });
});
