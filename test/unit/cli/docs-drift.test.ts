/** The checked-in man pages, completions and command reference must be what the registry generates. */
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { driftedFiles, generatedFiles } from '../../../src/cli/gen-docs.js';
import { buildRegistry, registry } from '../../../src/cli/registry.js';
import { packageInfo } from '../../../src/cli/package-info.js';
import { defineCommand } from '../../../src/cli/types.js';
import { configModule } from '../../../src/cli/commands/config.js';
import { requireTool, tempDir } from './helpers.js';

const root = packageInfo().root;

describe('generated docs', () => {
  it('man/, completions/ and the command reference match the registry (run `npm run gen:docs` if not)', () => {
    expect(driftedFiles(root)).to.deep.equal([]);
  });

  it('the drift check notices a registry change', () => {
    const extra = defineCommand<Record<string, never>>({
      path: ['zzz'],
      summary: 'a command that is not in the checked-in files',
      arguments: [],
      options: [],
      examples: [{ command: 'tend zzz', description: 'Nothing.' }],
      exitCodes: [],
      parse: () => ({}),
      run: async () => undefined,
    });
    const changed = buildRegistry([configModule, { commands: [extra] }]);
    expect(driftedFiles(root, changed)).to.include.members(['man/tend.8', 'completions/tend.bash']);
  });

  it('tend(8) covers every command, option, exit code and environment variable', () => {
    const man = (generatedFiles(root).get('man/tend.8') as string).replace(/\\/g, '');
    for (const command of registry.commands) expect(man).to.include(`tend ${command.path.join(' ')}`);
    for (const text of [
      '--config',
      '--json',
      '--no-color',
      'EXIT STATUS',
      '130',
      'ENVIRONMENT',
      'TEND_CONFIG',
      'FILES',
    ]) {
      expect(man).to.include(text);
    }
  });

  it('tend.yml(5) documents every configuration key with its default', () => {
    const man = (generatedFiles(root).get('man/tend.yml.5') as string).replace(/\\/g, '');
    for (const key of [
      'cassandra.contactPoints',
      'repair.tables[].match',
      'lease.renewEvery',
      'executor.jolokia.tls.caFile',
      'log.format',
    ]) {
      expect(man).to.include(key);
    }
    expect(man).to.match(/repair\.interval.*\n.*\n.*Default: per table, 70% of its error alarm \(7d/);
  });

  for (const page of ['man/tend.8', 'man/tend.yml.5']) {
    it(`${page} renders with groff without warnings`, function () {
      requireTool(this, 'groff');
      const result = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z', page], { cwd: root, encoding: 'utf8' });
      expect(result.status).to.equal(0);
      expect(result.stderr).to.equal('');
    });

    it(`${page} renders with man -l`, function () {
      requireTool(this, 'man');
      const rendered = execFileSync('man', ['-l', page], {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, MANWIDTH: '80', MAN_KEEP_FORMATTING: '0', PAGER: 'cat' },
      });
      // Piped man output may still carry overstrike bold (X\bX); strip it.
      const text = rendered.replace(new RegExp(`.${String.fromCharCode(8)}`, 'g'), '');
      expect(text).to.match(/^TEND(\.YML)?\((8|5)\)/);
      expect(text).to.include('SEE ALSO');
    });
  }

  it('gen:docs --check exits 0 on a clean tree', function () {
    this.timeout(30_000);
    const dir = tempDir();
    const result = spawnSync('npx', ['tsx', 'src/cli/gen-docs.ts', '--check'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, TMPDIR: dir },
    });
    expect(result.status, result.stderr).to.equal(0);
  });
});
