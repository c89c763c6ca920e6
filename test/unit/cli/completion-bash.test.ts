/** Source completions/tend.bash in a real bash and drive _tend the way readline does (COMP_WORDS/COMP_CWORD). */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { packageInfo } from '../../../src/cli/package-info.js';
import { registry } from '../../../src/cli/registry.js';
import { requireTool, tempDir } from './helpers.js';

/** Every top-level word the registry has, plus commander's `help`: completions must offer exactly these. */
const TOP_LEVEL = [...registry.entries.map((entry) => entry.name), 'help'];

const script = join(packageInfo().root, 'completions', 'tend.bash');

/** Complete the last word of `line` (a trailing space means completing an empty word). */
function complete(line: string, cwd?: string): string[] {
  const words = line.split(' ');
  const quoted = words.map((word) => `'${word.replace(/'/g, `'\\''`)}'`).join(' ');
  const program = [
    `source '${script}'`,
    `COMP_WORDS=(${quoted})`,
    `COMP_CWORD=${words.length - 1}`,
    `COMP_LINE='${line}'`,
    `COMP_POINT=${line.length}`,
    '_tend tend',
    `printf '%s\\n' "\${COMPREPLY[@]}"`,
  ].join('\n');
  const result = spawnSync('bash', ['--norc', '--noprofile', '-c', program], { encoding: 'utf8', cwd });
  expect(result.stderr).to.equal('');
  expect(result.status).to.equal(0);
  return result.stdout.split('\n').filter(Boolean).sort();
}

describe('bash completion (real bash)', () => {
  before(function () {
    requireTool(this, 'bash');
  });

  const cases: Array<{ line: string; expected: readonly string[] }> = [
    { line: 'tend ', expected: TOP_LEVEL },
    { line: 'tend con', expected: ['config'] },
    { line: 'tend config ', expected: ['check', 'show'] },
    { line: 'tend config s', expected: ['show'] },
    { line: 'tend completion ', expected: ['bash', 'fish', 'zsh'] },
    { line: 'tend --json config ', expected: ['check', 'show'] },
    { line: 'tend -c /etc/tend/tend.yml config ', expected: ['check', 'show'] },
    { line: 'tend config show --js', expected: ['--json'] },
    { line: 'tend --no', expected: ['--no-color'] },
    {
      line: 'tend config show -',
      expected: [
        '--config',
        '--help',
        '--json',
        '--no-color',
        '--quiet',
        '--verbose',
        '--version',
        '-V',
        '-c',
        '-h',
        '-q',
        '-v',
      ],
    },
    { line: 'tend config show ', expected: [] },
  ];
  for (const testCase of cases) {
    it(`"${testCase.line}" → ${testCase.expected.join(' ') || '(nothing)'}`, () => {
      expect(complete(testCase.line)).to.deep.equal([...testCase.expected].sort());
    });
  }

  it('completes file names after --config', () => {
    const dir = tempDir({ 'tend.yml': '', 'tend-staging.yml': '', 'other.txt': '' });
    expect(complete('tend --config tend', dir)).to.deep.equal(['tend-staging.yml', 'tend.yml']);
  });
});
