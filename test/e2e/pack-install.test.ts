/**
 * The package as an operator installs it: `npm pack`, then a global install of the tarball into a private
 * prefix. Catches a missing file in package.json "files", a bin that points at a path only a checkout has, and
 * a version read from the wrong place.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

describe('npm pack + global install (e2e)', function () {
  this.timeout(300_000);
  let dir: string;

  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'tend-pack-'));
  });

  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it('installs from the tarball and answers --version and --help', async function () {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    // prepack builds dist/ first, so the tarball never carries stale JavaScript.
    const packed = await execa('npm', ['pack', '--silent', '--pack-destination', dir]);
    const tarball = join(dir, packed.stdout.trim().split('\n').pop()!);
    await execa('npm', ['install', '--global', '--prefix', join(dir, 'prefix'), '--no-audit', '--no-fund', tarball]);
    const tend = join(dir, 'prefix', 'bin', 'tend');

    const version = await execa(tend, ['--version']);
    expect(version.stdout.trim()).to.equal(pkg.version);

    const help = await execa(tend, ['--help']);
    expect(help.stdout).to.match(/^Usage: tend /m);
    expect(help.stdout).to.include('completion');
    const installed = join(dir, 'prefix', 'lib', 'node_modules', 'tend');
    for (const file of ['man/tend.8', 'completions/tend.bash', 'systemd/tend.service']) {
      expect(() => readFileSync(join(installed, file)), file).not.to.throw();
    }
  });
});
