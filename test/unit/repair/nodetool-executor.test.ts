import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { ClusterUnavailable } from '../../../src/errors.js';
import {
  NodetoolExecutor,
  runProcess,
  type ProcessResult,
  type RunProcess,
} from '../../../src/repair/nodetool-executor.js';
import type { RepairRequest } from '../../../src/repair/executor.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/nodetool/5.0.8');

function captured(name: string): ProcessResult {
  const read = (ext: string) => readFileSync(join(FIXTURES, `${name}.${ext}`), 'utf8');
  return {
    stdout: read('stdout'),
    stderr: read('stderr'),
    exitCode: Number(read('exit').trim()),
    isCanceled: false,
    timedOut: false,
  };
}

const R1 = { start: '-9223372036854775808', end: '-8839064868652493483' };
const R2 = { start: '-8839064868652493483', end: '-8454757700450211158' };
const R3 = { start: '-8454757700450211158', end: '-8070450532247928832' };

const request: RepairRequest = {
  id: 'it.t1#1',
  keyspace: 'it',
  tables: ['t1'],
  scope: 'ranges',
  ranges: [R1, R2, R3],
  replicaAddresses: ['127.0.0.1', '127.0.0.2', '127.0.0.3'],
  incremental: false,
  parallelism: 'parallel',
};

/** A scripted nodetool: answers each call from the list and records the argument arrays. */
function scripted(answers: Array<ProcessResult | ((args: readonly string[]) => Promise<ProcessResult>)>) {
  const calls: string[][] = [];
  const run: RunProcess = async (_file, args) => {
    calls.push([...args]);
    const answer = answers.shift();
    if (!answer) throw new Error(`unexpected call ${args.join(' ')}`);
    return typeof answer === 'function' ? answer(args) : answer;
  };
  return { calls, run };
}

const connection = { path: '/usr/bin/nodetool', host: '127.0.0.1', port: 7200, passwordFile: '/etc/tend/jmx.pw' };
const killed: ProcessResult = { stdout: '', stderr: '', exitCode: undefined, isCanceled: true, timedOut: false };
const timedOut: ProcessResult = { ...killed, isCanceled: false, timedOut: true };
const stopOk: ProcessResult = captured('terminate-repair-sessions');

describe('NodetoolExecutor', function () {
  it('loops over ranges, one nodetool call per -st/-et pair, and reports each range repaired', async function () {
    const nodetool = scripted([
      captured('repair-range-success'),
      captured('repair-range-sequential'),
      captured('repair-range-dc-parallel'),
    ]);
    const progress: number[] = [];
    const executor = new NodetoolExecutor({ connection, runProcess: nodetool.run });
    const outcome = await executor.run(request, { timeoutMs: 60_000, onProgress: (p) => progress.push(p.rangesDone) });
    expect(outcome.status).to.equal('success');
    expect(outcome.rangesRepaired).to.deep.equal([R1, R2, R3]);
    expect(outcome.participants).to.deep.equal(['127.0.0.1', '127.0.0.2', '127.0.0.3']);
    expect(outcome.commands).to.include.members(['#11', '#12', '#13']);
    expect(progress).to.deep.equal([1, 2, 3]);
    expect(nodetool.calls).to.have.length(3);
    expect(nodetool.calls[1]).to.deep.equal([
      '-h', '127.0.0.1', '-p', '7200', '-pwf', '/etc/tend/jmx.pw',
      'repair', '--full', '-st', R2.start, '-et', R2.end, 'it', 't1',
    ]); // prettier-ignore
    for (const call of nodetool.calls) expect(call).to.not.include('-pw');
  });

  it('a failed range fails the task with Cassandra message, and the other ranges still run', async function () {
    const nodetool = scripted([
      captured('repair-range-success'),
      captured('repair-range-not-local'),
      captured('repair-range-success'),
    ]);
    const outcome = await new NodetoolExecutor({ connection, runProcess: nodetool.run }).run(request, {
      timeoutMs: 60_000,
    });
    expect(outcome.status).to.equal('failed');
    expect(outcome.rangesRepaired).to.deep.equal([R1, R3]);
    expect(outcome.message).to.contain('Nothing to repair for (-8839064868652493483,-8454757700450211158]');
    expect(outcome.message).to.contain('2 of 3 ranges repaired');
  });

  it('an unreachable JMX port before anything ran is ClusterUnavailable (exit 5), not a failed repair', async function () {
    const nodetool = scripted([captured('repair-jmx-refused')]);
    const executor = new NodetoolExecutor({ connection, runProcess: nodetool.run });
    const error = await executor.run(request, { timeoutMs: 60_000 }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ClusterUnavailable);
    expect((error as ClusterUnavailable).system).to.equal('nodetool');
  });

  it('JMX refusing the credentials is ClusterUnavailable (exit 5) naming JMX and the password file, not a failed repair', async function () {
    const nodetool = scripted([captured('repair-jmx-wrong-password')]);
    const executor = new NodetoolExecutor({ connection, runProcess: nodetool.run });
    const error = await executor.run(request, { timeoutMs: 60_000 }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ClusterUnavailable);
    expect((error as ClusterUnavailable).exitCode).to.equal(5);
    expect((error as Error).message).to.equal(
      `nodetool unavailable: JMX on ${connection.host}:${connection.port} refused the credentials: Invalid username or password`,
    );
    expect((error as ClusterUnavailable).hints.join(' ')).to.contain('executor.nodetool.passwordFile');
    expect(nodetool.calls).to.have.length(1);
  });

  it('a whole-table task is one call without -st/-et and covers every listed range', async function () {
    const nodetool = scripted([captured('repair-incremental-table')]);
    const outcome = await new NodetoolExecutor({ connection, runProcess: nodetool.run }).run(
      { ...request, scope: 'table', incremental: true },
      { timeoutMs: 60_000 },
    );
    expect(outcome.status).to.equal('success');
    expect(outcome.rangesRepaired).to.deep.equal([R1, R2, R3]);
    expect(nodetool.calls[0]).to.not.include('-st');
    expect(nodetool.calls[0]).to.not.include('--full');
  });

  it('a whole-table call reports each finished session while nodetool runs', async function () {
    const fixture = captured('repair-incremental-table');
    const seenWhileRunning: number[] = [];
    const progress: number[] = [];
    const run: RunProcess = async (_file, _args, options) => {
      for (const line of fixture.stdout.split('\n')) options.onStdoutLine?.(line);
      seenWhileRunning.push(...progress);
      return fixture;
    };
    const ring48 = Array.from({ length: 48 }, (_, i) => ({ start: String(i), end: String(i + 1) }));
    const outcome = await new NodetoolExecutor({ connection, runProcess: run }).run(
      { ...request, scope: 'table', incremental: true, ranges: ring48 },
      { timeoutMs: 60_000, onProgress: (p) => progress.push(p.rangesDone) },
    );
    expect(outcome.status).to.equal('success');
    // The captured run has one session covering all 48 ranges: seen live, before nodetool exited.
    expect(seenWhileRunning).to.deep.equal([48]);
    expect(progress).to.deep.equal([48, 48]);
  });

  it('timeout: the client is killed, then the node terminates its repair sessions; timed_out', async function () {
    const nodetool = scripted([captured('repair-range-success'), timedOut, stopOk]);
    const outcome = await new NodetoolExecutor({ connection, runProcess: nodetool.run }).run(request, {
      timeoutMs: 60_000,
    });
    expect(outcome.status).to.equal('timed_out');
    expect(outcome.rangesRepaired).to.deep.equal([R1]);
    expect(outcome.serverStop).to.deep.equal({ requested: true });
    expect(nodetool.calls[2]!.slice(6)).to.deep.equal([
      'sjk', 'mx', '-b', 'org.apache.cassandra.db:type=StorageService', '-mc', '-op', 'forceTerminateAllRepairSessions',
    ]); // prettier-ignore
    expect(nodetool.calls[2]!.slice(0, 6)).to.deep.equal(['-h', '127.0.0.1', '-p', '7200', '-pwf', '/etc/tend/jmx.pw']);
  });

  it('the remaining time is the timeout of each call', async function () {
    let clock = 1000;
    const timeouts: number[] = [];
    const run: RunProcess = async (_file, args, options) => {
      timeouts.push(options.timeoutMs);
      clock += 400;
      return args.includes('sjk') ? stopOk : captured('repair-range-success');
    };
    const outcome = await new NodetoolExecutor({ connection, runProcess: run, now: () => clock }).run(request, {
      timeoutMs: 1000,
    });
    expect(timeouts.slice(0, 3)).to.deep.equal([1000, 600, 200]);
    expect(outcome.status).to.equal('success');
  });

  it('abort: the signal kills the client, the server is stopped, aborted with the reason', async function () {
    const controller = new AbortController();
    const nodetool = scripted([
      async () => {
        controller.abort(new Error('lease tend/node/127.0.0.2 lost'));
        return killed;
      },
      stopOk,
    ]);
    const outcome = await new NodetoolExecutor({ connection, runProcess: nodetool.run }).run(request, {
      timeoutMs: 60_000,
      signal: controller.signal,
    });
    expect(outcome.status).to.equal('aborted');
    expect(outcome.message).to.match(/^aborted: lease tend\/node\/127\.0\.0\.2 lost; repair sessions terminated/);
    expect(outcome.rangesRepaired).to.deep.equal([]);
  });

  it('a server stop that fails is reported, not hidden', async function () {
    const nodetool = scripted([timedOut, captured('repair-jmx-refused')]);
    const outcome = await new NodetoolExecutor({ connection, runProcess: nodetool.run }).run(request, {
      timeoutMs: 60_000,
    });
    expect(outcome.status).to.equal('timed_out');
    expect(outcome.serverStop?.error).to.match(/could not terminate repair sessions/);
    expect(outcome.message).to.match(/stopping the repair on the node failed/);
  });

  it('an already aborted signal starts nothing', async function () {
    const nodetool = scripted([]);
    const outcome = await new NodetoolExecutor({ connection, runProcess: nodetool.run }).run(request, {
      timeoutMs: 60_000,
      signal: AbortSignal.abort(),
    });
    expect(outcome.status).to.equal('aborted');
    expect(outcome.serverStop).to.equal(undefined);
    expect(nodetool.calls).to.have.length(0);
  });
});

describe('nodetool child process environment', function () {
  it("a child gets tend's environment without the variables that carry tend's secrets", async function () {
    const saved = { ...process.env };
    Object.assign(process.env, {
      TEND_CASSANDRA_PASSWORD: 'cassandra-secret',
      TEND_CONSUL_TOKEN: 'consul-secret',
      TEND_JOLOKIA_PASSWORD: 'jolokia-secret',
      TEND_SOMETHING_ELSE: 'kept',
    });
    try {
      // A real child process (env(1)): what nodetool's shell wrapper and JVM would inherit.
      const result = await runProcess('env', [], { timeoutMs: 10_000, killGraceMs: 1000 });
      expect(result.exitCode).to.equal(0);
      expect(result.stdout).not.to.match(/secret/);
      expect(result.stdout).to.include('TEND_SOMETHING_ELSE=kept');
      expect(result.stdout).to.include(`PATH=${process.env.PATH}`);
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    }
  });
});
