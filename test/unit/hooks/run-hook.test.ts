/**
 * Issue 15 item 5: hooks run real processes here (node itself as the operator's program): the event arrives as JSON
 * on stdin and in TEND_EVENT_* variables, secrets stay out of the child's environment, a failing hook is data, and
 * a hung hook (one that even ignores SIGTERM, with a child of its own) is killed at its timeout.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeHookResult, eventEnvironment, runHook, type HookEvent } from '../../../src/hooks/run-hook.js';

const NODE = process.execPath;
const EVENT: HookEvent = {
  event: 'task_failed',
  keyspace: 'shop',
  tables: ['orders'],
  taskId: 'shop.orders#3',
  message: 'it\'s `$(rm -rf /)` & "quoted"',
};

describe('hooks: runHook', function () {
  this.timeout(20_000);

  it('gives the event as JSON on stdin and as TEND_EVENT_* variables, never through a shell', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tend-hook-'));
    const out = join(dir, 'seen.json');
    const script = `let s='';process.stdin.on('data',d=>s+=d).on('end',()=>require('fs').writeFileSync(process.argv[1],JSON.stringify({stdin:JSON.parse(s),env:Object.fromEntries(Object.entries(process.env).filter(([k])=>k.startsWith('TEND_')))})))`;
    const result = await runHook({ command: [NODE, '-e', script, out], timeout: 10_000 }, EVENT, {
      env: {
        PATH: process.env.PATH,
        TEND_CASSANDRA_PASSWORD: 'hunter2',
        TEND_JOLOKIA_PASSWORD: 'x',
        TEND_CONFIG: '/etc/tend/tend.yml',
      },
    });
    expect(result.status, result.output).to.equal('ok');
    const seen = JSON.parse(readFileSync(out, 'utf8')) as { stdin: unknown; env: Record<string, string> };
    expect(seen.stdin).to.deep.equal(EVENT);
    expect(seen.env).to.deep.equal({
      TEND_CONFIG: '/etc/tend/tend.yml',
      TEND_EVENT_EVENT: 'task_failed',
      TEND_EVENT_KEYSPACE: 'shop',
      TEND_EVENT_TABLES: '["orders"]',
      TEND_EVENT_TASK_ID: 'shop.orders#3',
      TEND_EVENT_MESSAGE: EVENT.message as string,
    });
  });

  it('a failing hook is a result, with its exit code and the end of its output', async () => {
    const result = await runHook(
      { command: [NODE, '-e', "console.error('webhook said 500'); process.exit(22)"], timeout: 10_000 },
      EVENT,
    );
    expect(result).to.deep.include({ status: 'failed', exitCode: 22, signal: null, output: 'webhook said 500' });
    expect(describeHookResult('onTaskFailed', { command: [NODE] }, result)).to.match(
      /^hook onTaskFailed \(.*node.*\) failed \(exit 22\) after \d+ms: webhook said 500$/,
    );
  });

  it('a program that does not exist is a result, not an exception', async () => {
    const result = await runHook({ command: ['/nonexistent/tend-hook'], timeout: 1000 }, EVENT);
    expect(result.status).to.equal('error');
    expect(result.error).to.match(/ENOENT/);
  });

  it('a hung hook that ignores SIGTERM is killed at its timeout, with the child it started', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tend-hook-'));
    const pidFile = join(dir, 'pids');
    // The hook starts a grandchild, writes both pids, then both hang; the hook ignores SIGTERM.
    const script = `const {spawn}=require('child_process');const c=spawn(process.execPath,['-e','setInterval(()=>{},1000)'],{stdio:'ignore'});require('fs').writeFileSync(process.argv[1],process.pid+' '+c.pid);process.on('SIGTERM',()=>{});setInterval(()=>{},1000)`;
    // The test's own bound, well under mocha's: if runHook fails to kill the hook, the test fails here and kills
    // the processes itself, rather than hanging on them (a mutation check without the SIGKILL hung the run).
    const bound = new AbortController();
    const result = await Promise.race([
      runHook({ command: [NODE, '-e', script, pidFile], timeout: 1000 }, EVENT, { killGraceMs: 300 }),
      sleep(8000, 'not stopped 8 s after its 1 s timeout', { signal: bound.signal }).catch(() => 'aborted'),
    ]);
    bound.abort();
    const [hook, grandchild] = existsSync(pidFile) ? readFileSync(pidFile, 'utf8').split(' ').map(Number) : [];
    if (typeof result === 'string') {
      for (const pid of [hook, grandchild]) {
        if (pid === undefined) continue;
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      expect.fail(result);
    }
    expect(result.status).to.equal('timeout');
    expect(result.signal).to.equal('SIGKILL');
    expect(grandchild, 'the hook had started its child').to.be.a('number');
    await sleep(200);
    expect(() => process.kill(grandchild!, 0), 'the grandchild is gone too').to.throw(/ESRCH/);
  });

  it('names variables in UPPER_SNAKE from camelCase fields', () => {
    expect(eventEnvironment({ event: 'alarm', tablesPastError: ['a.b'], count: 2 })).to.deep.equal({
      TEND_EVENT_EVENT: 'alarm',
      TEND_EVENT_TABLES_PAST_ERROR: '["a.b"]',
      TEND_EVENT_COUNT: '2',
    });
  });
});
