/**
 * The package as an operator installs it: `npm pack`, then a global install of the tarball into a private
 * prefix. Catches a missing file in package.json "files", a bin that points at a path only a checkout has, and
 * a version read from the wrong place.
 */
import { expect } from 'chai';
import { lstatSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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

    // The README's install: npm links the package's man pages into PREFIX/share/man, so `man tend` finds them.
    const manPath = join(dir, 'prefix', 'share', 'man');
    for (const [page, section] of [
      ['tend', '8'],
      ['tend.yml', '5'],
    ] as const) {
      expect(lstatSync(join(manPath, `man${section}`, `${page}.${section}`)).isSymbolicLink()).to.equal(true);
      const found = await execa('man', ['-M', manPath, '-w', section, page]);
      expect(found.stdout.trim()).to.equal(join(installed, 'man', `${page}.${section}`));
      const rendered = await execa('man', ['-M', manPath, section, page], { env: { MANPAGER: 'cat', PAGER: 'cat' } });
      expect(rendered.stdout).to.match(/NAME/);
    }
    // The completion file the README links into bash-completion's directory registers tend's completion.
    const bash = await execa('bash', [
      '-c',
      `source ${join(installed, 'completions', 'tend.bash')} && complete -p tend`,
    ]);
    expect(bash.stdout).to.match(/complete .* tend$/);
  });
});
