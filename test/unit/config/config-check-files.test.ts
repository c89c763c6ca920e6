/**
 * `config check` and the files a configuration names (issue 12, items 8, 9 and 22): PEM files parse, keys match
 * their certificates, secrets are not readable by others, the metrics directory is a directory, and neither the
 * configuration nor a file it names can exhaust memory or hang the process (a device, a FIFO, a huge file).
 */
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkConfig } from '../../../src/app/config-check.js';
import { loadConfig } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/errors.js';
import { runTend, tempDir } from '../cli/helpers.js';

const TLS = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/tls');
const pem = (name: string) => readFileSync(join(TLS, name), 'utf8');

/** `config check --json` on `config` with `files` in the working directory; stderr unescaped. */
async function check(config: string, files: Record<string, string> = {}, env: Record<string, string> = {}) {
  const result = await runTend(['-c', 'tend.yml', 'config', 'check', '--json'], {
    files: { 'tend.yml': config, ...files },
    env,
  });
  const report = JSON.parse(result.stdout || '{"errors":[],"warnings":[]}') as { errors: string[]; warnings: string[] };
  // The test environment has no PATH, so the default nodetool executor always draws this warning.
  report.warnings = report.warnings.filter((warning) => !warning.startsWith('executor.nodetool.path:'));
  return { ...result, report, stderr: result.stderr.replaceAll('\\"', '"') };
}

function mkfifo(path: string): void {
  const made = spawnSync('mkfifo', [path]);
  if (made.status !== 0) throw new Error(`mkfifo ${path}: ${String(made.stderr)}`);
}

describe('config check: PEM files are parsed (item 9)', () => {
  const tlsConfig = (section: string) =>
    ({
      cassandra: (tls: string) => `cassandra: { tls: ${tls} }`,
      consul: (tls: string) => `lease: { backend: consul, consul: { address: "https://127.0.0.1:8501", tls: ${tls} } }`,
      jolokia: (tls: string) =>
        `executor: { type: jolokia, jolokia: { url: "https://127.0.0.1:8778/jolokia/", tls: ${tls} } }`,
    })[section] as (tls: string) => string;
  const prefix = { cassandra: 'cassandra.tls', consul: 'lease.consul.tls', jolokia: 'executor.jolokia.tls' } as const;

  for (const section of ['cassandra', 'consul', 'jolokia'] as const) {
    describe(section, () => {
      const config = tlsConfig(section);
      const key = prefix[section];

      it('accepts a CA, a client certificate and its key', async () => {
        const result = await check(config('{ caFile: ca.pem, certFile: client.pem, keyFile: client.key }'), {
          'ca.pem': pem('ca.pem'),
          'client.pem': pem('client.pem'),
          'client.key': pem('client.key'),
        });
        expect(result.report.errors).to.deep.equal([]);
        expect(result.code).to.equal(0);
      });

      it('refuses a CA file that is not PEM', async () => {
        const result = await check(config('{ caFile: ca.pem }'), { 'ca.pem': 'not a certificate\n' });
        expect(result.code).to.equal(3);
        expect(result.report.errors).to.deep.equal([
          `${key}.caFile: ca.pem is not a PEM certificate (no -----BEGIN CERTIFICATE----- block)`,
        ]);
      });

      it('refuses a certificate block that does not parse', async () => {
        const broken = pem('client.pem').replace(/^(-----BEGIN CERTIFICATE-----\n)MII/, '$1AAA');
        const result = await check(config('{ certFile: c.pem, keyFile: client.key }'), {
          'c.pem': broken,
          'client.key': pem('client.key'),
        });
        expect(result.code).to.equal(3);
        expect(result.report.errors).to.deep.equal([`${key}.certFile: c.pem: certificate 1 of 1 does not parse`]);
      });

      it('refuses a key file that is not a private key (a certificate given as the key)', async () => {
        const result = await check(config('{ certFile: client.pem, keyFile: k.pem }'), {
          'client.pem': pem('client.pem'),
          'k.pem': pem('client.pem'),
        });
        expect(result.code).to.equal(3);
        expect(result.report.errors).to.deep.equal([`${key}.keyFile: k.pem is not a PEM private key`]);
      });

      it('refuses a key that is not the certificate’s', async () => {
        const result = await check(config('{ certFile: client.pem, keyFile: server.key }'), {
          'client.pem': pem('client.pem'),
          'server.key': pem('server.key'),
        });
        expect(result.code).to.equal(3);
        expect(result.report.errors).to.deep.equal([
          `${key}.keyFile: is not the private key of the certificate in ${key}.certFile`,
        ]);
      });
    });
  }

  it('checks every certificate of a CA bundle', async () => {
    const broken = pem('ca.pem').replace(/^(-----BEGIN CERTIFICATE-----\n)MII/, '$1AAA');
    const result = await check('cassandra: { tls: { caFile: bundle.pem } }', {
      'bundle.pem': `${pem('ca.pem')}${broken}`,
    });
    expect(result.report.errors).to.deep.equal(['cassandra.tls.caFile: bundle.pem: certificate 2 of 2 does not parse']);
  });

  it('refuses an encrypted key: tend has no passphrase option', async () => {
    const { privateKey } = generateKeyPairSync('ec', {
      namedCurve: 'P-256',
      privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pass' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const result = await check('cassandra: { tls: { certFile: client.pem, keyFile: k.pem } }', {
      'client.pem': pem('client.pem'),
      'k.pem': privateKey,
    });
    expect(result.report.errors).to.deep.equal([
      'cassandra.tls.keyFile: k.pem is an encrypted private key, and tend has no passphrase option; store it unencrypted, readable by the tend user only',
    ]);
  });

  it('never quotes the content of a key file', async () => {
    const content = `-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n-----END PRIVATE KEY-----\n`;
    const result = await check('cassandra: { tls: { certFile: client.pem, keyFile: k.pem } }', {
      'client.pem': pem('client.pem'),
      'k.pem': content,
    });
    expect(result.report.errors).to.deep.equal(['cassandra.tls.keyFile: k.pem is not a PEM private key']);
    expect(result.stdout + result.stderr).to.not.include('c2VjcmV0');
  });

  it('warns about an expired client certificate', async () => {
    const dir = tempDir({
      'tend.yml': 'cassandra: { tls: { certFile: client.pem, keyFile: client.key } }',
      'client.pem': pem('client.pem'),
      'client.key': pem('client.key'),
    });
    chmodSync(join(dir, 'client.key'), 0o600);
    const deps = {
      env: {},
      cwd: dir,
      globals: { config: 'tend.yml', json: false, verbose: false, quiet: false, color: false },
    };
    const today = await checkConfig(deps);
    expect(today.warnings.filter((w) => w.includes('expired'))).to.deep.equal([]);
    // The fixture is valid for 100 years from 2026.
    const later = await checkConfig({ ...deps, now: () => new Date('2200-01-01T00:00:00Z') });
    expect(later.valid).to.equal(true);
    expect(later.warnings.filter((w) => w.includes('expired'))).to.have.length(1);
    expect(later.warnings.find((w) => w.includes('expired'))).to.match(
      /^cassandra\.tls\.certFile: the certificate in client\.pem expired on 21\d\d-/,
    );
  });
});

describe('config check: an expired CA (issue 19)', () => {
  const deps = (dir: string) => ({
    env: {},
    cwd: dir,
    globals: { config: 'tend.yml', json: false, verbose: false, quiet: false, color: false },
  });

  it('a caFile whose every certificate has expired is an error (exit 3): no handshake can succeed', async () => {
    const dir = tempDir({ 'tend.yml': 'lease: { consul: { tls: { caFile: ca.pem } } }', 'ca.pem': pem('ca.pem') });
    expect((await checkConfig(deps(dir))).valid).to.equal(true);
    // The fixture is valid for 100 years from 2026.
    const later = await checkConfig({ ...deps(dir), now: () => new Date('2200-01-01T00:00:00Z') });
    expect(later.valid).to.equal(false);
    expect(later.errors).to.have.length(1);
    expect(later.errors[0]).to.match(
      /^lease\.consul\.tls\.caFile: every certificate in ca\.pem has expired \(the last on 21\d\d-.*\): no server certificate can be verified with it$/,
    );
  });

  it('a bundle with some expired CAs among valid ones is a warning', async () => {
    const dir = tempDir({ 'tend.yml': 'cassandra: { tls: { caFile: bundle.pem } }' });
    // A CA valid for one day, next to the fixture CA (valid for 100 years), seen three days from now.
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=short-lived CA'].concat([
        '-keyout',
        join(dir, 'short.key'),
        '-out',
        join(dir, 'short.pem'),
      ]),
      { stdio: 'ignore' },
    );
    writeFileSync(join(dir, 'bundle.pem'), `${pem('ca.pem')}\n${readFileSync(join(dir, 'short.pem'), 'utf8')}`);
    const later = await checkConfig({ ...deps(dir), now: () => new Date(Date.now() + 3 * 86_400_000) });
    expect(later.valid).to.equal(true);
    expect(later.warnings).to.include('cassandra.tls.caFile: 1 of the 2 certificates in bundle.pem have expired');
  });
});

describe('every command that reads the configuration warns about secret files others can read (issue 19)', () => {
  it('names each such file and its mode on stderr; a 0600 file gets no warning', async () => {
    const dir = tempDir({
      'cassandra.password': 'not-this-one\n',
      'consul.token': 'nor-this-one\n',
      'client.key': pem('client.key'),
    });
    chmodSync(join(dir, 'cassandra.password'), 0o644);
    chmodSync(join(dir, 'consul.token'), 0o640);
    chmodSync(join(dir, 'client.key'), 0o600);
    writeFileSync(
      join(dir, 'tend.yml'),
      [
        `cassandra: { replication: { dc1: 3 }, auth: { username: tend, passwordFile: ${join(dir, 'cassandra.password')} }, tls: { keyFile: ${join(dir, 'client.key')}, certFile: ${join(TLS, 'client.pem')} } }`,
        `lease: { consul: { tokenFile: ${join(dir, 'consul.token')} } }`,
      ].join('\n'),
    );
    const result = await runTend(['-c', join(dir, 'tend.yml'), 'schema', 'print']);
    expect(result.code).to.equal(0);
    const warnings = result.stderr.split('\n').filter((line) => line.startsWith('level=warn'));
    expect(warnings).to.have.length(2);
    expect(warnings[0]).to.include(
      `cassandra.auth.passwordFile: ${join(dir, 'cassandra.password')} is readable by group and others (mode 0644)`,
    );
    expect(warnings[1]).to.include(
      `lease.consul.tokenFile: ${join(dir, 'consul.token')} is readable by group (mode 0640)`,
    );
    expect(result.stderr).not.to.include('not-this-one');
    expect(result.stderr).not.to.include('nor-this-one');
  });
});

describe('config check: warnings (item 9)', () => {
  it('warns about rejectUnauthorized: false, naming the key, and still exits 0', async () => {
    const result = await check('cassandra: { tls: { rejectUnauthorized: false } }');
    expect(result.code).to.equal(0);
    expect(result.report.warnings).to.deep.equal([
      "cassandra.tls.rejectUnauthorized: is false: the server's certificate is not verified, so anyone on the path can pose as the server; use it only to diagnose",
    ]);
    expect(result.stderr).to.include('level=warn msg="cassandra.tls.rejectUnauthorized: is false');
  });

  it('warns about rejectUnauthorized: false for Consul and Jolokia only when they are used', async () => {
    const config = (backend: string, executor: string) =>
      `lease: { backend: ${backend}, consul: { address: "https://127.0.0.1:8501", tls: { rejectUnauthorized: false } } }\n` +
      `executor: { type: ${executor}, jolokia: { url: "https://127.0.0.1:8778/jolokia/", tls: { rejectUnauthorized: false } } }`;
    const used = await check(config('consul', 'jolokia'));
    expect(used.report.warnings.map((w) => w.split(':')[0])).to.deep.equal([
      'lease.consul.tls.rejectUnauthorized',
      'executor.jolokia.tls.rejectUnauthorized',
    ]);
    const unused = await check(config('cassandra', 'nodetool'));
    expect(unused.report.warnings).to.deep.equal([]);
  });

  it('warns about a Consul token sent over http to another machine, not over https nor to loopback', async () => {
    const token = (address: string, env: Record<string, string> = {}) =>
      check(`lease: { backend: consul, consul: { address: "${address}" } }`, {}, env);
    const cleartext = await token('http://consul.example.com:8500', { TEND_CONSUL_TOKEN: 'abc' });
    expect(cleartext.code).to.equal(0);
    expect(cleartext.report.warnings).to.deep.equal([
      'lease.consul.address: sends the Consul ACL token in clear text over http to consul.example.com, which is not this machine; use https (lease.consul.tls)',
    ]);
    expect(
      (await token('https://consul.example.com:8501', { TEND_CONSUL_TOKEN: 'abc' })).report.warnings,
    ).to.deep.equal([]);
    expect((await token('http://127.0.0.1:8500', { TEND_CONSUL_TOKEN: 'abc' })).report.warnings).to.deep.equal([]);
    expect((await token('http://consul.example.com:8500')).report.warnings, 'no token').to.deep.equal([]);
  });

  it('warns about Jolokia basic auth over http to another machine', async () => {
    const jolokia = (url: string) =>
      check(`executor: { type: jolokia, jolokia: { url: "${url}", user: tend } }`, {}, { TEND_JOLOKIA_PASSWORD: 'pw' });
    expect((await jolokia('http://10.0.0.5:8778/jolokia/')).report.warnings).to.deep.equal([
      'executor.jolokia.url: sends the Jolokia user and password (basic auth) in clear text over http to 10.0.0.5, which is not this machine; use https (executor.jolokia.tls)',
    ]);
    expect((await jolokia('http://127.0.0.1:8778/jolokia/')).report.warnings).to.deep.equal([]);
    expect((await jolokia('https://10.0.0.5:8778/jolokia/')).report.warnings).to.deep.equal([]);
  });

  it('warns about secret files readable by group or others, naming the file and its mode', async () => {
    const dir = tempDir({ pw: 'secret\n', token: 'abc\n', jmx: 'jmx secret\n', 'key.pem': pem('client.key') });
    chmodSync(join(dir, 'pw'), 0o644);
    chmodSync(join(dir, 'token'), 0o640);
    chmodSync(join(dir, 'jmx'), 0o604);
    chmodSync(join(dir, 'key.pem'), 0o600);
    const result = await check(
      `cassandra: { replication: { dc1: 3 }, auth: { username: tend, passwordFile: ${dir}/pw }, tls: { certFile: client.pem, keyFile: ${dir}/key.pem } }\n` +
        `lease: { consul: { tokenFile: ${dir}/token } }\n` +
        `executor: { nodetool: { user: jmx, passwordFile: ${dir}/jmx } }`,
      { 'client.pem': pem('client.pem') },
    );
    expect(result.code).to.equal(0);
    expect(result.report.warnings.filter((w) => w.includes('readable by'))).to.deep.equal([
      `cassandra.auth.passwordFile: ${dir}/pw is readable by group and others (mode 0644); make it readable by the tend user only (chmod 600)`,
      `lease.consul.tokenFile: ${dir}/token is readable by group (mode 0640); make it readable by the tend user only (chmod 600)`,
      `executor.nodetool.passwordFile: ${dir}/jmx is readable by others (mode 0604); make it readable by the tend user only (chmod 600)`,
    ]);
  });
});

describe('config check: metrics.textfileDirectory (item 8)', () => {
  it('refuses a regular file', async () => {
    const result = await check('metrics: { textfileDirectory: textfiles }', { textfiles: 'not a directory\n' });
    expect(result.code).to.equal(3);
    expect(result.report.errors).to.deep.equal(['metrics.textfileDirectory: textfiles is not a directory']);
  });

  it('accepts a directory', async () => {
    const result = await check('metrics: { textfileDirectory: textfiles }', { 'textfiles/.keep': '' });
    expect(result.report.errors).to.deep.equal([]);
  });
});

describe('files that are not files, or too large (item 22)', function () {
  // A regression would hang on the FIFO or run out of memory on /dev/zero: fail in time instead.
  this.timeout(5000);

  it('-c /dev/zero: exit 3 at once, saying what it is', async () => {
    const result = await runTend(['-c', '/dev/zero', 'config', 'check']);
    expect(result.code).to.equal(3);
    expect(result.stderr).to.include(
      'cannot read configuration file /dev/zero (given with --config): is a character device, not a regular file',
    );
  });

  it('-c FIFO: exit 3 at once, no hang', async () => {
    const dir = tempDir();
    mkfifo(join(dir, 'fifo.yml'));
    const result = await runTend(['-c', join(dir, 'fifo.yml'), 'config', 'check']);
    expect(result.code).to.equal(3);
    expect(result.stderr).to.include('is a FIFO, not a regular file');
  });

  it('TEND_CONFIG naming a directory: exit 3', async () => {
    const dir = tempDir({ 'conf/.keep': '' });
    const result = await runTend(['config', 'show'], { env: { TEND_CONFIG: join(dir, 'conf') } });
    expect(result.code).to.equal(3);
    expect(result.stderr).to.include('named by TEND_CONFIG): is a directory, not a regular file');
  });

  it('a configuration file over 1MiB: exit 3 naming the limit', async () => {
    const dir = tempDir({ 'tend.yml': '' });
    truncateSync(join(dir, 'tend.yml'), 1024 ** 2 + 1);
    const result = await runTend(['-c', join(dir, 'tend.yml'), 'config', 'check']);
    expect(result.code).to.equal(3);
    expect(result.stderr).to.include('is larger than 1MiB, the most tend reads from such a file');
  });

  it('a configuration file of exactly 1MiB is read', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'tend.yml'), `log: { level: warn }\n${'#'.repeat(1024 ** 2 - 22)}\n`);
    const loaded = await loadConfig({ explicitPath: join(dir, 'tend.yml') });
    expect(loaded.raw).to.deep.equal({ log: { level: 'warn' } });
  });

  it('./tend.yml that is a FIFO is an error in the search too, not a hang nor a fall-back', async () => {
    const dir = tempDir({ 'etc/tend.yml': 'log: { level: warn }' });
    mkfifo(join(dir, 'tend.yml'));
    const error = await loadConfig({ cwd: dir, systemDir: join(dir, 'etc') }).catch((caught: unknown) => caught);
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as ConfigError).message).to.include(`${join(dir, 'tend.yml')} (found in ${dir}): is a FIFO`);
  });

  it('a $import key is not followed (it named any file, /dev/zero included)', async () => {
    const result = await check('$import: /dev/zero\n');
    expect(result.code).to.equal(3);
    expect(result.report.errors[0]).to.match(/^\$import: unknown key/);
  });

  it('secret files: /dev/zero, a FIFO and a file over 64KiB are refused by name', async () => {
    const dir = tempDir({ big: '' });
    truncateSync(join(dir, 'big'), 64 * 1024 + 1);
    mkfifo(join(dir, 'fifo'));
    const result = await check(
      `cassandra: { replication: { dc1: 3 }, auth: { username: tend, passwordFile: /dev/zero } }\n` +
        `lease: { consul: { tokenFile: ${dir}/fifo } }\n` +
        `executor: { jolokia: { passwordFile: ${dir}/big } }`,
    );
    expect(result.code).to.equal(3);
    expect(result.report.errors).to.deep.equal([
      'cassandra.auth.passwordFile: cannot read /dev/zero (is a character device, not a regular file)',
      `lease.consul.tokenFile: cannot read ${dir}/fifo (is a FIFO, not a regular file)`,
      `executor.jolokia.passwordFile: cannot read ${dir}/big (is larger than 64KiB, the most tend reads from such a file)`,
    ]);
  });

  it('a PEM file may be up to 1MiB (CA bundles are large)', async () => {
    const bundle = pem('ca.pem').repeat(200);
    expect(bundle.length).to.be.greaterThan(64 * 1024);
    const result = await check('cassandra: { tls: { caFile: bundle.pem } }', { 'bundle.pem': bundle });
    expect(result.report.errors).to.deep.equal([]);
  });
});
