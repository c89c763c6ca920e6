/**
 * Issue 12 item 1 (its cause): a failed connect must leave nothing open. With a misspelt
 * cassandra.localDatacenter the driver's control connection kept a socket to every contact point it tried, and
 * its shutdown() does nothing on a client that never connected, so the process lived on after its error. The
 * session is opened in a child process that must then end by itself (no watchdog, no exit guard there).
 */
import { expect } from 'chai';
import { execa } from 'execa';
import { sandboxTendConfig } from '../support/sandbox-config.js';

async function inChild(config: object): Promise<{ exitCode: number | undefined; stdout: string; ms: number }> {
  const started = Date.now();
  const result = await execa(
    'node',
    ['--import', 'tsx', 'test/support/open-session-child.ts', JSON.stringify(config)],
    {
      reject: false,
      timeout: 30_000,
    },
  );
  return { exitCode: result.exitCode, stdout: String(result.stdout), ms: Date.now() - started };
}

describe('a failed connect leaves nothing open (real sandbox)', function () {
  it('a localDatacenter the cluster does not have: ConfigError (exit 3), and the process ends by itself', async function () {
    const valid = sandboxTendConfig(1);
    const config = {
      ...valid,
      cassandra: { ...valid.cassandra, localDatacenter: 'dc3', contactPoints: ['127.0.0.1', '127.0.0.2', '127.0.0.3'] },
    };
    const result = await inChild(config);
    const what = `exit ${result.exitCode} after ${result.ms} ms: ${result.stdout}`;
    expect(result.exitCode, what).to.equal(0);
    const outcome = JSON.parse(result.stdout) as { name: string; exitCode: number; problems: string[] };
    expect(outcome.name).to.equal('ConfigError');
    expect(outcome.exitCode).to.equal(3);
    expect(outcome.problems.join('\n')).to.match(/cassandra\.localDatacenter: .*\(dc1, dc2\), found "dc3"/);
  });

  it('a successful connect and shutdown: the process ends by itself too', async function () {
    const result = await inChild(sandboxTendConfig(1));
    expect(result.exitCode, result.stdout).to.equal(0);
    expect(result.stdout).to.equal('connected');
  });
});
