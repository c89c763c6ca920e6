/**
 * Issue 12 item 1 (beyond its cause): no tend process outlives the bound its configuration implies. The bound is
 * derived from the configuration (src/app/time-bound.ts); a last-resort watchdog stops the command there (exit 8)
 * and names what it was waiting for; after the command, nothing may keep the process alive.
 */
import { createServer } from 'node:net';
import { expect } from 'chai';
import sinon from 'sinon';
import { validateConfig } from '../../../src/config/validate.js';
import type { TendConfig } from '../../../src/config/schema.js';
import { commandBound, leaseWaitBound, repairTableBound, tickBound } from '../../../src/app/time-bound.js';
import { guardExit, Watchdog } from '../../../src/cli/watchdog.js';
import { beginActivity, resetActivities } from '../../../src/activity.js';
import { Output } from '../../../src/output/output.js';
import { MemoryStream } from '../../../src/output/memory-stream.js';
import { TimeBoundExceeded } from '../../../src/errors.js';
import { main } from '../../../src/cli/main.js';
import { buildRegistry } from '../../../src/cli/registry.js';
import { defineCommand } from '../../../src/cli/types.js';
import { tempDir } from './helpers.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

function config(raw: Record<string, unknown> = {}): TendConfig {
  const result = validateConfig(raw, { env: {} });
  if (!result.config) throw new Error(result.errors.join('; '));
  return result.config;
}

const MIN = 60_000;
const HOUR = 60 * MIN;

describe('time bounds derived from the configuration', function () {
  it('a tick: schedule.maxDuration + the longest repair.taskTimeout + grace (4h03m08s with the defaults)', function () {
    const bound = tickBound(config());
    // 2 min + 4 × (connectTimeout 5s + requestTimeout 12s) of grace.
    expect(bound.ms).to.equal(1 * HOUR + 3 * HOUR + 2 * MIN + 4 * 17_000);
    expect(bound.explanation).to.equal('schedule.maxDuration 1h + repair.taskTimeout 3h + 3m8s grace');
  });

  it('a per-table taskTimeout longer than repair.taskTimeout raises the bound; --max-duration replaces maxDuration', function () {
    const cfg = config({ repair: { tables: [{ match: 'ks.big', taskTimeout: '6h' }] } });
    expect(tickBound(cfg).ms).to.equal(1 * HOUR + 6 * HOUR + 188_000);
    expect(tickBound(cfg, 10 * MIN).ms).to.equal(10 * MIN + 6 * HOUR + 188_000);
    expect(tickBound(cfg, 10 * MIN).explanation).to.match(/^--max-duration 10m \+ repair\.taskTimeout 6h/);
  });

  it("hooks add the longest hook's timeout and its 2 s kill grace; none configured adds nothing", function () {
    const cfg = config({
      hooks: { onTick: { command: ['/bin/true'], timeout: '10s' }, onAlarm: { command: ['/bin/true'], timeout: '1m' } },
    });
    expect(tickBound(cfg).ms).to.equal(tickBound(config()).ms + MIN + 2000);
    expect(tickBound(cfg).explanation).to.equal(
      'schedule.maxDuration 1h + repair.taskTimeout 3h + 3m8s grace + hooks 1m2s',
    );
  });

  it('other commands: connect + request timeouts + grace', function () {
    expect(commandBound(config()).ms).to.equal(5000 + 12_000 + 300_000 + 4 * 17_000);
    const slow = config({ cassandra: { connectTimeout: '10s', requestTimeout: '1m' } });
    expect(commandBound(slow).ms).to.equal(10_000 + 60_000 + 300_000 + 4 * 70_000);
  });

  it('repair table: one task + grace, plus at most maxDuration + taskTimeout + lease.ttl of waiting with --wait', function () {
    const cfg = config();
    expect(leaseWaitBound(cfg)).to.equal(1 * HOUR + 3 * HOUR + 10 * MIN);
    expect(repairTableBound(cfg, false).ms).to.equal(3 * HOUR + 188_000);
    expect(repairTableBound(cfg, true).ms).to.equal(leaseWaitBound(cfg) + 3 * HOUR + 188_000);
  });
});

describe('the watchdog (fake clock)', function () {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: 1_000_000, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    resetActivities();
  });
  afterEach(() => {
    clock.restore();
    resetActivities();
  });

  function setup(exit?: (code: number) => void) {
    const stderr = new MemoryStream(false);
    const out = new Output({ stdout: new MemoryStream(false), stderr, colorAllowed: false });
    const controller = new AbortController();
    const watchdog = new Watchdog({
      command: 'tend schedule tick',
      startedAt: Date.now(),
      controller,
      out: () => out,
      cleanupGraceMs: 40_000,
      ...(exit ? { exit } : {}),
    });
    return { stderr, controller, watchdog };
  }

  it('fires at the bound from the start, names what it waited for, stops the command (exit 8), then exits', async function () {
    const exits: number[] = [];
    const { stderr, controller, watchdog } = setup((code) => exits.push(code));
    watchdog.arm({ ms: 60_000, explanation: 'reading the configuration: 1m' });
    await clock.tickAsync(5000);
    // Re-armed once the configuration is known: still measured from the start.
    watchdog.arm({ ms: 4 * HOUR, explanation: 'schedule.maxDuration 1h + repair.taskTimeout 3h' });
    beginActivity('Jolokia repairAsync at http://127.0.0.1:8778/jolokia/');
    await clock.tickAsync(4 * HOUR - 5001);
    expect(controller.signal.aborted).to.equal(false);
    await clock.tickAsync(1);
    expect(controller.signal.aborted).to.equal(true);
    expect(controller.signal.reason).to.be.instanceOf(TimeBoundExceeded);
    expect((controller.signal.reason as TimeBoundExceeded).exitCode).to.equal(8);
    expect(stderr.text).to.match(/tend schedule tick did not finish within its bound of 4h /);
    expect(stderr.text).to.include('Jolokia repairAsync at http://127.0.0.1:8778/jolokia/ (3h59m55s)');
    expect(exits).to.deep.equal([]);
    await clock.tickAsync(40_000);
    expect(exits).to.deep.equal([8]);
  });

  it('disarmed (the command finished) it never fires', async function () {
    const exits: number[] = [];
    const { controller, watchdog } = setup((code) => exits.push(code));
    watchdog.arm({ ms: 1000, explanation: 'x' });
    watchdog.disarm();
    await clock.tickAsync(10 * HOUR);
    expect(controller.signal.aborted).to.equal(false);
    expect(exits).to.deep.equal([]);
  });

  it('a bound above 24.8 days is honoured (a long timer)', async function () {
    const { controller, watchdog } = setup();
    watchdog.arm({ ms: 30 * 24 * HOUR, explanation: 'x' });
    await clock.tickAsync(25 * 24 * HOUR);
    expect(controller.signal.aborted).to.equal(false);
    await clock.tickAsync(5 * 24 * HOUR);
    expect(controller.signal.aborted).to.equal(true);
  });
});

describe('the exit guard', function () {
  it('exits with the command code, naming what kept the process alive', async function () {
    const server = createServer().listen(0, '127.0.0.1');
    const stderr = new MemoryStream(false);
    const out = new Output({ stdout: new MemoryStream(false), stderr, colorAllowed: false });
    const code = await new Promise<number>((resolve) => guardExit(6, out, resolve, 50));
    server.close();
    expect(code).to.equal(6);
    expect(stderr.text).to.match(
      /finished, but nothing tend started \(open: .*TCPServerWrap.*\) kept the process alive; exiting/,
    );
  });
});

describe('main() under the watchdog', function () {
  it('a command that hangs past its bound is stopped with exit 8 and the log names what it waited for', async function () {
    const dir = tempDir({ 'tend.yml': 'log: { level: info }\n' });
    const hang = defineCommand<Record<string, never>>({
      path: ['hang'],
      summary: 'hang',
      arguments: [],
      options: [],
      examples: [],
      exitCodes: [],
      parse: () => ({}),
      timeBound: () => ({ ms: 200, explanation: 'a test bound' }),
      async run(_options, deps) {
        await deps.loadConfig();
        const end = beginActivity('Consul GET http://127.0.0.1:8500/v1/kv/tend/leases/');
        try {
          await new Promise((_, reject) => {
            deps.signal.addEventListener('abort', () => reject(deps.signal.reason as Error), { once: true });
          });
        } finally {
          end();
        }
      },
    });
    const stderr = new MemoryStream(false);
    const code = await main(['node', 'tend', '-c', 'tend.yml', 'hang'], {
      stdout: new MemoryStream(false),
      stderr,
      env: {},
      cwd: dir,
      readFile: (path) => readFile(path.startsWith('/') ? path : join(dir, path), 'utf8'),
      registry: buildRegistry([{ commands: [hang] }]),
    });
    expect(code).to.equal(8);
    expect(stderr.text).to.include('tend hang did not finish within its bound of 200ms (a test bound)');
    expect(stderr.text).to.include('Consul GET http://127.0.0.1:8500/v1/kv/tend/leases/');
  });
});
