import { expect } from 'chai';
import { runTend } from '../cli/helpers.js';

/** A secret must never reach stdout or stderr, whatever the mode. */
const MODES: Array<{ name: string; args: string[]; tty: boolean }> = [
  { name: 'piped', args: [], tty: false },
  { name: 'terminal', args: [], tty: true },
  { name: 'json', args: ['--json'], tty: false },
  { name: 'verbose', args: ['-v'], tty: false },
];

describe('secrets never appear in output', () => {
  const secret = 'hunter2-very-secret';

  for (const mode of MODES) {
    describe(mode.name, () => {
      it('a password written in the file is rejected without echoing it', async () => {
        const result = await runTend(['-c', 'tend.yml', 'config', 'check', ...mode.args], {
          tty: mode.tty,
          files: { 'tend.yml': `cassandra:\n  auth:\n    username: tend\n    password: ${secret}\n` },
        });
        expect(result.code).to.equal(3);
        expect(result.stderr).to.include('cassandra.auth.password');
        expect(result.stdout + result.stderr).to.not.include(secret);
      });

      it('a token written in the file is rejected without echoing it', async () => {
        const result = await runTend(['-c', 'tend.yml', 'config', 'show', ...mode.args], {
          tty: mode.tty,
          files: { 'tend.yml': `lease:\n  consul:\n    token: ${secret}\n` },
        });
        expect(result.code).to.equal(3);
        expect(result.stdout + result.stderr).to.not.include(secret);
      });

      it('a password from the environment is not shown by config show', async () => {
        const result = await runTend(['-c', 'tend.yml', 'config', 'show', ...mode.args], {
          tty: mode.tty,
          env: { TEND_CASSANDRA_PASSWORD: secret },
          files: { 'tend.yml': 'cassandra: { auth: { username: tend } }' },
        });
        expect(result.code, result.stderr).to.equal(0);
        expect(result.stdout).to.include('TEND_CASSANDRA_PASSWORD');
        expect(result.stdout + result.stderr).to.not.include(secret);
      });

      it('the content of a password file is never read into output', async () => {
        const result = await runTend(['-c', 'tend.yml', 'config', 'show', ...mode.args], {
          tty: mode.tty,
          files: {
            'tend.yml': 'cassandra: { auth: { username: tend, passwordFile: pw.txt } }',
            'pw.txt': `${secret}\n`,
          },
        });
        expect(result.stdout).to.include('pw.txt');
        expect(result.stdout + result.stderr).to.not.include(secret);
      });

      it('an environment secret that ends up in an error message is masked', async () => {
        // The operator pasted the token into the wrong key; the error quotes the value, the output layer masks it.
        const result = await runTend(['-c', 'tend.yml', 'config', 'check', ...mode.args], {
          tty: mode.tty,
          env: { TEND_CONSUL_TOKEN: secret },
          files: { 'tend.yml': `cassandra: { keyspace: "${secret}" }` },
        });
        expect(result.code).to.equal(3);
        expect(result.stderr).to.include('cassandra.keyspace').and.include('[redacted]');
        expect(result.stdout + result.stderr).to.not.include(secret);
      });

      it('a mistyped value under a secret-ish key is not echoed', async () => {
        const result = await runTend(['-c', 'tend.yml', 'config', 'check', ...mode.args], {
          tty: mode.tty,
          files: { 'tend.yml': 'executor: { jolokia: { passwordFile: 987654321 } }' },
        });
        expect(result.code).to.equal(3);
        expect(result.stderr).to.include('executor.jolokia.passwordFile');
        expect(result.stdout + result.stderr).to.not.include('987654321');
      });
    });
  }
});

describe('deps.secret()', () => {
  it('reads the password file; outside text echoing the value is masked where it enters', async () => {
    const { main } = await import('../../../src/cli/main.js');
    const { buildRegistry } = await import('../../../src/cli/registry.js');
    const { defineCommand } = await import('../../../src/cli/types.js');
    const { MemoryStream } = await import('../../../src/output/memory-stream.js');
    const { tempDir } = await import('../cli/helpers.js');
    const { sanitizeExternal } = await import('../../../src/output/sanitize.js');
    const { readFile } = await import('node:fs/promises');
    const dir = tempDir({
      'tend.yml': `cassandra: { auth: { username: tend, passwordFile: ${'pw.txt'} } }`,
      'pw.txt': 'from-the-file-0123\nsecond line ignored\n',
    });
    let seen: string | undefined;
    const leaky = defineCommand<Record<string, never>>({
      path: ['leak'],
      summary: 'leak',
      arguments: [],
      options: [],
      examples: [],
      exitCodes: [],
      parse: () => ({}),
      async run(_options, deps) {
        seen = await deps.secret('cassandraPassword');
        // A server's message that echoes the password enters tend's logs through sanitizeExternal.
        deps.out.error(`driver said: ${sanitizeExternal(`authentication failed for tend/${seen}`)}`);
      },
    });
    const stdout = new MemoryStream(false);
    const stderr = new MemoryStream(false);
    await main(['node', 'tend', 'leak'], {
      stdout,
      stderr,
      env: {},
      cwd: dir,
      readFile: (path) => readFile(path.startsWith('/') ? path : `${dir}/${path}`, 'utf8'),
      registry: buildRegistry([{ commands: [leaky] }]),
    });
    expect(seen).to.equal('from-the-file-0123');
    expect(stdout.text + stderr.text).to.not.include('from-the-file-0123');
    expect(stderr.text).to.include('tend/[redacted]');
  });
});
