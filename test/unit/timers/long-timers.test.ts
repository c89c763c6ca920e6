/**
 * Issue 12 item 2: a configured duration above 2^31-1 ms (24.8 days) must not fire after 1 ms. Node (and sinon's
 * fake timers, which copy it) replace such a delay by 1 ms; every timer in src/ goes through src/timers.ts.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import sinon from 'sinon';
import { MAX_TIMER_MS, setLongTimeout, sleep, timeoutSignal, timerDelay } from '../../../src/timers.js';
import { MemoryLeaseBackend } from '../../../src/lease/memory.js';
import { Heartbeat } from '../../../src/lease/heartbeat.js';
import { JolokiaExecutor } from '../../../src/repair/jolokia-executor.js';
import type { JolokiaClient } from '../../../src/repair/jolokia-client.js';
import { runProcess } from '../../../src/repair/nodetool-executor.js';
import type { RepairRequest } from '../../../src/repair/executor.js';

const DAY = 86_400_000;
const THIRTY_DAYS = 30 * DAY;

describe('long timers (fake clock)', function () {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: 1_000_000, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => clock.restore());

  it('a raw 30-day setTimeout fires after 1 ms (what the helper exists for)', async function () {
    let fired = false;
    setTimeout(() => (fired = true), THIRTY_DAYS);
    await clock.tickAsync(1);
    expect(fired).to.equal(true);
  });

  it('setLongTimeout waits the whole 30 days, then fires once', async function () {
    let fired = 0;
    setLongTimeout(() => (fired += 1), THIRTY_DAYS);
    await clock.tickAsync(1);
    expect(fired).to.equal(0);
    await clock.tickAsync(MAX_TIMER_MS);
    expect(fired).to.equal(0);
    await clock.tickAsync(THIRTY_DAYS - MAX_TIMER_MS - 2);
    expect(fired).to.equal(0);
    await clock.tickAsync(1);
    expect(fired).to.equal(1);
    await clock.tickAsync(THIRTY_DAYS);
    expect(fired).to.equal(1);
  });

  it('short delays behave like setTimeout; clear cancels; Infinity never fires', async function () {
    const fired: string[] = [];
    setLongTimeout(() => fired.push('short'), 50);
    const cleared = setLongTimeout(() => fired.push('cleared'), 60);
    setLongTimeout(() => fired.push('never'), Infinity);
    cleared.clear();
    await clock.tickAsync(49);
    expect(fired).to.deep.equal([]);
    await clock.tickAsync(1);
    expect(fired).to.deep.equal(['short']);
    await clock.tickAsync(365 * DAY);
    expect(fired).to.deep.equal(['short']);
  });

  it('timeoutSignal aborts after the whole delay with a TimeoutError', async function () {
    const signal = timeoutSignal(THIRTY_DAYS);
    await clock.tickAsync(DAY);
    expect(signal.aborted).to.equal(false);
    await clock.tickAsync(THIRTY_DAYS);
    expect(signal.aborted).to.equal(true);
    expect((signal.reason as DOMException).name).to.equal('TimeoutError');
  });

  it('sleep resolves at once when its signal aborts', async function () {
    const controller = new AbortController();
    let done = false;
    void sleep(THIRTY_DAYS, controller.signal).then(() => (done = true));
    await clock.tickAsync(10);
    expect(done).to.equal(false);
    controller.abort();
    await clock.tickAsync(0);
    expect(done).to.equal(true);
  });

  it('timerDelay clamps what cannot be chained (driver and socket timeouts)', function () {
    expect(timerDelay(THIRTY_DAYS)).to.equal(MAX_TIMER_MS);
    expect(timerDelay(Infinity)).to.equal(MAX_TIMER_MS);
    expect(timerDelay(-5)).to.equal(0);
    expect(timerDelay(12_000)).to.equal(12_000);
  });

  it('lease.ttl 30d: the heartbeat does not declare the lease lost at once', async function () {
    const backend = new MemoryLeaseBackend(() => Date.now());
    const result = await backend.tryAcquire('r', { name: 'me', host: 'h' }, THIRTY_DAYS);
    if (!result.acquired) throw new Error('setup');
    const heartbeat = new Heartbeat(backend, [result.lease], { renewEveryMs: DAY }).start();
    await clock.tickAsync(60_000);
    expect(heartbeat.signal.aborted, 'lost after a minute').to.equal(false);
    await heartbeat.stop();
  });

  it('renewEvery 25d: the heartbeat renews after 25 days, not after 1 ms', async function () {
    const backend = new MemoryLeaseBackend(() => Date.now());
    const result = await backend.tryAcquire('r', { name: 'me', host: 'h' }, 60 * DAY);
    if (!result.acquired) throw new Error('setup');
    const heartbeat = new Heartbeat(backend, [result.lease], { renewEveryMs: 25 * DAY }).start();
    await clock.tickAsync(60_000);
    expect(backend.calls.filter((call) => call === 'renew r')).to.have.length(0);
    await clock.tickAsync(25 * DAY);
    expect(backend.calls.filter((call) => call === 'renew r')).to.have.length(1);
    await heartbeat.stop();
  });
});

describe('long timers (real clock)', function () {
  const request: RepairRequest = {
    id: 'it.t#0',
    keyspace: 'it',
    tables: ['t'],
    scope: 'table',
    ranges: [],
    replicaAddresses: ['127.0.0.1', '127.0.0.2'],
    incremental: false,
    parallelism: 'parallel',
  };

  it('repair.taskTimeout 30d: a Jolokia repair is polled to its end, not timed out and terminated at once', async function () {
    const operations: string[] = [];
    let polls = 0;
    const client: Pick<JolokiaClient, 'exec'> = {
      async exec<T>(_mbean: string, operation: string): Promise<T> {
        operations.push(operation);
        if (operation.startsWith('repairAsync')) return 7 as T;
        polls += 1;
        return (polls < 3 ? ['IN_PROGRESS'] : ['COMPLETED', 'done']) as T;
      },
    };
    const outcome = await new JolokiaExecutor({ client, pollMinMs: 1, pollMaxMs: 2 }).run(request, {
      timeoutMs: THIRTY_DAYS,
    });
    expect(outcome.status, outcome.message).to.equal('success');
    expect(operations.some((op) => op.startsWith('forceTerminateAllRepairSessions'))).to.equal(false);
  });

  it('repair.taskTimeout 30d: nodetool is not killed at once', async function () {
    const result = await runProcess('sleep', ['0.3'], { timeoutMs: THIRTY_DAYS, killGraceMs: 1000 });
    expect(result.timedOut, 'timed out').to.equal(false);
    expect(result.isCanceled).to.equal(false);
    expect(result.exitCode).to.equal(0);
  });

  it('a short timeout still kills the process and says timedOut (not canceled)', async function () {
    const result = await runProcess('sleep', ['5'], { timeoutMs: 100, killGraceMs: 1000 });
    expect(result.timedOut).to.equal(true);
    expect(result.isCanceled).to.equal(false);
  });

  it('a cancel says isCanceled (not timedOut)', async function () {
    const controller = new AbortController();
    setLongTimeout(() => controller.abort(), 100);
    const result = await runProcess('sleep', ['5'], {
      timeoutMs: 60_000,
      killGraceMs: 1000,
      cancelSignal: controller.signal,
    });
    expect(result.isCanceled).to.equal(true);
    expect(result.timedOut).to.equal(false);
  });
});

describe('every timer in src/ goes through src/timers.ts', function () {
  function files(dir: string): string[] {
    return readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
    });
  }

  it('no raw setTimeout, setInterval, AbortSignal.timeout or timers/promises outside src/timers.ts', function () {
    const offenders: string[] = [];
    for (const file of files('src')) {
      if (file === join('src', 'timers.ts')) continue;
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, index) => {
          if (/\bsetTimeout\(|\bsetInterval\(|AbortSignal\.timeout\(|timers\/promises/.test(line)) {
            offenders.push(`${file}:${index + 1}: ${line.trim()}`);
          }
        });
    }
    expect(offenders).to.deep.equal([]);
  });
});
