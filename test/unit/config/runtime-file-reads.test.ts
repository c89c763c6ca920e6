/**
 * Issue 12, item 22, at run time: the secret and PEM files a command reads (not only `config check`) go through
 * readBoundedFile, so a FIFO or a device named as a password, token or certificate fails at once with exit 3 instead
 * of hanging the tick or exhausting its memory. Nothing here connects: each read comes before any connection.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { openSession } from '../../../src/cluster/session.js';
import { validateConfig } from '../../../src/config/validate.js';
import { ConfigError } from '../../../src/errors.js';
import { consulBackend } from '../../../src/lease/factory.js';
import { jolokiaClientFromConfig } from '../../../src/repair/jolokia-client.js';
import { tempDir } from '../cli/helpers.js';

function configOf(raw: Record<string, unknown>) {
  const result = validateConfig(raw);
  if (!result.config) throw new Error(result.errors.join('\n'));
  return result.config;
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error as Error,
  );
  if (!outcome) throw new Error('expected a failure');
  return outcome;
}

describe('secret and PEM files read at run time are bounded (item 22)', function () {
  // A regression hangs on the FIFO: fail in time instead.
  this.timeout(5000);
  const dir = tempDir();
  const fifo = join(dir, 'fifo');
  before(() => {
    const made = spawnSync('mkfifo', [fifo]);
    if (made.status !== 0) throw new Error(`mkfifo: ${String(made.stderr)}`);
  });

  it('cassandra.auth.passwordFile that is a FIFO: ConfigError, no hang', async () => {
    const config = configOf({
      cassandra: { contactPoints: ['127.0.0.9'], auth: { username: 'u', passwordFile: fifo } },
    });
    const error = await failure(openSession(config, {}));
    expect(error).to.be.instanceOf(ConfigError);
    expect(error.message).to.equal(`cassandra.auth.passwordFile: cannot read ${fifo}: is a FIFO, not a regular file`);
  });

  it('cassandra.tls.caFile that is /dev/zero: ConfigError, memory untouched', async () => {
    const config = configOf({ cassandra: { contactPoints: ['127.0.0.9'], tls: { caFile: '/dev/zero' } } });
    const error = await failure(openSession(config, {}));
    expect(error).to.be.instanceOf(ConfigError);
    expect(error.message).to.include('cannot read /dev/zero: is a character device');
  });

  it('lease.consul.tokenFile that is a FIFO', async () => {
    const config = configOf({ lease: { backend: 'consul', consul: { tokenFile: fifo } } });
    const error = await failure(consulBackend(config, {}));
    expect(error).to.be.instanceOf(ConfigError);
    expect(error.message).to.include(`lease.consul.tokenFile: cannot read ${fifo}: is a FIFO`);
  });

  it('lease.consul.tls.certFile that is /dev/zero', async () => {
    const config = configOf({
      lease: { consul: { address: 'https://127.0.0.1:8501', tls: { certFile: '/dev/zero', keyFile: '/dev/zero' } } },
    });
    const error = await failure(consulBackend(config, {}));
    expect(error.message).to.include('lease.consul.tls.certFile: cannot read /dev/zero: is a character device');
  });

  it('executor.jolokia.passwordFile that is a FIFO', async () => {
    const config = configOf({ executor: { type: 'jolokia', jolokia: { user: 'tend', passwordFile: fifo } } });
    const error = await failure(jolokiaClientFromConfig(config, {}));
    expect(error.message).to.include('is a FIFO, not a regular file');
  });
});
