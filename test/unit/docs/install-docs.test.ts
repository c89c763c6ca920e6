/**
 * The README's "Install on a Cassandra node" says exactly what the package and its units do: the commands are
 * read from the README itself and checked against package.json, the shipped units and tend's own file checks.
 * (The package install itself, the man page links and the completion files are exercised for real by
 * test/e2e/pack-install.test.ts.)
 */
import { expect } from 'chai';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageInfo } from '../../../src/cli/package-info.js';
import { tempDir } from '../cli/helpers.js';
import { checkConfig } from '../../../src/app/config-check.js';

const root = packageInfo().root;
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const service = readFileSync(join(root, 'systemd/tend.service'), 'utf8');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  files: string[];
  man: string[];
  bin: Record<string, string>;
};

/** The shell lines of the section's first code block, comments stripped. */
function installCommands(): string[] {
  const section = readme.split('## Install on a Cassandra node')[1];
  expect(section, 'README section "Install on a Cassandra node"').to.not.equal(undefined);
  const block = /```sh\n([\s\S]*?)```/.exec(section!)![1]!;
  return block
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

const directive = (name: string): string[] =>
  service
    .split('\n')
    .filter((line) => line.startsWith(`${name}=`))
    .map((line) => line.slice(name.length + 1));

describe('README: install on a Cassandra node', () => {
  const commands = installCommands();
  const prefix = /npm install --global --prefix (\S+)/.exec(commands.join('\n'))?.[1];
  const modules = `${prefix}/lib/node_modules/tend`;

  it('installs the package where tend.service runs it', () => {
    expect(prefix).to.be.a('string');
    expect(directive('ExecStart')[0]).to.match(new RegExp(`^${prefix}/bin/tend `));
    expect(Object.keys(pkg.bin)).to.deep.equal(['tend']);
  });

  it('links man pages through the package (npm links "man" on a global install) and completions that ship', () => {
    expect(pkg.man.map((file) => file.replace(/^\.\//, ''))).to.deep.equal(['man/tend.8', 'man/tend.yml.5']);
    for (const file of pkg.man) expect(statSync(join(root, file)).isFile(), file).to.equal(true);
    const links = commands.filter((line) => line.startsWith('ln -s '));
    expect(links).to.have.length(3);
    for (const line of links) {
      const target = line.split(/\s+/)[2]!;
      expect(target.startsWith(`${modules}/`), target).to.equal(true);
      const inPackage = target.slice(modules.length + 1);
      expect(
        pkg.files.some((entry) => inPackage.startsWith(entry)),
        inPackage,
      ).to.equal(true);
      expect(statSync(join(root, inPackage)).isFile(), inPackage).to.equal(true);
    }
  });

  it('installs the units and the example configuration from the installed package', () => {
    const units = commands.find((line) => line.includes('tend.service') && line.startsWith('install '))!;
    expect(units).to.include(`${modules}/systemd/tend.service`).and.include(`${modules}/systemd/tend.timer`);
    expect(commands.join('\n')).to.include(`${modules}/systemd/tend.yml.example`);
    expect(pkg.files).to.include('systemd/');
  });

  it('gives secret files modes that tend does not warn about, and the configuration none for others', async () => {
    const secret = commands.find((line) => line.includes('/etc/tend/cassandra.password'))!;
    const mode = Number.parseInt(/-m (\d+)/.exec(secret)![1]!, 8);
    expect(mode & 0o077, `secret file mode ${mode.toString(8)}`).to.equal(0);
    expect(secret)
      .to.include('-o tend')
      .and.match(/^printf '%s\\n' '/);
    const installConfig = commands.find((line) => line.endsWith('/etc/tend/tend.yml'))!;
    expect(Number.parseInt(/-m (\d+)/.exec(installConfig)![1]!, 8) & 0o007).to.equal(0);
    // tend's own check agrees: a password file with the README's mode draws no warning.
    const dir = tempDir();
    const file = join(dir, 'cassandra.password');
    writeFileSync(file, 'secret\n', { mode });
    const configFile = join(dir, 'tend.yml');
    writeFileSync(
      configFile,
      `cassandra:\n  auth:\n    username: tend\n    passwordFile: ${file}\nexecutor:\n  type: jolokia\n`,
    );
    const check = (configPath: string) =>
      checkConfig({
        env: {},
        cwd: dir,
        systemConfigDir: dir,
        globals: { config: configPath, json: false, verbose: false, quiet: false, color: false },
      });
    const report = await check(configFile);
    expect(report.errors).to.deep.equal([]);
    expect(report.warnings.join('\n')).to.not.include('readable by');
    // …and the check can fail: the mode the README used before this section was written (0640) is warned about.
    chmodSync(file, 0o640);
    expect((await check(configFile)).warnings.join('\n')).to.include('readable by group');
  });

  it('creates the metrics directory the unit lets tend write', () => {
    const metrics = commands.find((line) => line.includes('install -d') && line.includes('node-exporter'))!;
    const path = metrics.split(/\s+/).pop()!;
    expect(directive('ReadWritePaths').map((p) => p.replace(/^-/, ''))).to.include(path);
    expect(metrics).to.include('-o tend');
  });
});
