/**
 * The built entry point: bin/tend → dist/src/cli/main.js. Checks that the package.json lookup works from dist/
 * and that exit codes reach the shell. Skipped when nothing is built (`npm test` builds first).
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageInfo } from '../../../src/cli/package-info.js';

const root = packageInfo().root;

function tend(args: string[]) {
  return spawnSync(process.execPath, [join(root, 'bin/tend'), ...args], {
    encoding: 'utf8',
    cwd: root,
    env: { PATH: process.env.PATH ?? '' },
  });
}

describe('bin/tend (built)', () => {
  before(function () {
    // These run the built bin: skipped only when `npm run build` has not run (a bare `npm run test:unit` on a fresh
    // clone). `npm test` and .ci/run build first; under TEND_REQUIRE_TOOLS=1 (CI) a missing build fails instead of
    // skipping, as a missing tool does (requireTool).
    if (existsSync(join(root, 'dist/src/cli/main.js'))) return;
    if (process.env.TEND_REQUIRE_TOOLS === '1')
      throw new Error('dist/ is not built (TEND_REQUIRE_TOOLS=1): run npm run build');
    this.skip();
  });

  it('prints the package version', () => {
    const result = tend(['--version']);
    expect(result.status).to.equal(0);
    expect(result.stdout.trim()).to.equal(
      (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version,
    );
  });

  it('exits 2 on an unknown command, with the suggestion on stderr', () => {
    const result = tend(['confg', 'show']);
    expect(result.status).to.equal(2);
    expect(result.stdout).to.equal('');
    expect(result.stderr).to.include('Did you mean config?');
  });

  it('exits 3 on a missing configuration file', () => {
    const result = tend(['-c', '/nonexistent/tend.yml', 'config', 'check']);
    expect(result.status).to.equal(3);
    expect(result.stderr).to.match(/^level=error msg="cannot read configuration file \/nonexistent\/tend\.yml/);
  });
});
