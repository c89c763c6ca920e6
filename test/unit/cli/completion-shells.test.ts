/**
 * zsh and fish completions exercised in the real shells (skipped where the shell is not installed; the CI image
 * installs both). fish answers `complete -C LINE` directly; zsh completion only runs inside the line editor, so
 * the zsh test types the line plus TAB into an interactive zsh on a pseudo-terminal (zsh/zpty) and records
 * every candidate passed to compadd.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageInfo } from '../../../src/cli/package-info.js';
import { requireTool, tempDir } from './helpers.js';

const completions = join(packageInfo().root, 'completions');

const ZSH_HARNESS = `
zmodload zsh/zpty || exit 1
zpty z zsh -f -i
zpty -w z "fpath=($2 \\$fpath)"
zpty -w z 'autoload -U compinit; compinit -u -D'
zpty -w z 'compadd () { builtin compadd -O __hits "$@"; local h; for h in $__hits; do print -r -- "<<$h>>"; done; builtin compadd "$@" }'
zpty -w z 'PROMPT=""; RPROMPT=""'
zpty -w z 'print "<<READY>>"'
zpty -r z out '*<<READY>>*'
zpty -n -w z "$1"$'\\t'
sleep 0.5
while zpty -r -t z chunk; do print -rn -- "$chunk"; done
zpty -d z
`;

const cases: Array<{ line: string; expected: string[] }> = [
  { line: 'tend ', expected: ['completion', 'config', 'help', 'history', 'schedule', 'schema'] },
  { line: 'tend config ', expected: ['check', 'show'] },
  { line: 'tend schema ', expected: ['apply', 'print'] },
  { line: 'tend completion ', expected: ['bash', 'fish', 'zsh'] },
  { line: 'tend -c /tmp/x.yml config ', expected: ['check', 'show'] },
  { line: 'tend config show --j', expected: ['--json'] },
  { line: 'tend --no', expected: ['--no-color'] },
];

describe('zsh completion (real zsh)', function () {
  this.timeout(20_000);
  let harness: string;
  before(function () {
    requireTool(this, 'zsh');
    harness = join(tempDir(), 'capture.zsh');
    writeFileSync(harness, ZSH_HARNESS);
  });

  it('is valid zsh', () => {
    expect(spawnSync('zsh', ['-n', join(completions, '_tend')]).status).to.equal(0);
  });

  for (const testCase of cases) {
    it(`"${testCase.line}" → ${testCase.expected.join(' ')}`, () => {
      const result = spawnSync('zsh', ['-f', harness, testCase.line, completions], {
        encoding: 'utf8',
        timeout: 15_000,
      });
      const hits = [...result.stdout.matchAll(/<<([^<>]+)>>/g)]
        .map((match) => match[1])
        .filter((hit) => hit !== 'READY');
      expect([...new Set(hits)].sort()).to.deep.equal([...testCase.expected].sort());
    });
  }
});

describe('fish completion (real fish)', () => {
  before(function () {
    requireTool(this, 'fish');
  });

  it('is valid fish', () => {
    expect(spawnSync('fish', ['-n', join(completions, 'tend.fish')]).status).to.equal(0);
  });

  for (const testCase of cases) {
    it(`"${testCase.line}" → ${testCase.expected.join(' ')}`, () => {
      const result = spawnSync(
        'fish',
        ['--no-config', '-c', `source ${join(completions, 'tend.fish')}; complete -C '${testCase.line}'`],
        { encoding: 'utf8' },
      );
      expect(result.stderr).to.equal('');
      const hits = result.stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split('\t')[0]);
      expect(hits.sort()).to.deep.equal([...testCase.expected].sort());
    });
  }
});
