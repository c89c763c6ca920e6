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
import { registry } from '../../../src/cli/registry.js';
import { requireTool, tempDir } from './helpers.js';

const completions = join(packageInfo().root, 'completions');

const ZSH_HARNESS = `
zmodload zsh/zpty || exit 1
zpty z zsh -f -i
zpty -w z "fpath=($2 \\$fpath)"
zpty -w z 'autoload -U compinit; compinit -u -D'
# The markers are assembled so that the echo of this very line contains no marker pair.
zpty -w z "L='<''<'; R='>''>'"
zpty -w z 'compadd () { builtin compadd -O __hits "$@"; local h; for h in $__hits; do print -r -- "$L$h$R"; done; builtin compadd "$@" }'
zpty -w z 'PROMPT=""; RPROMPT=""'
zpty -w z 'print "<<READY>>"'
zpty -r z out '*<<READY>>*'
zpty -n -w z "$1"$'\\t'
# Poll for up to 10 s: done once a candidate has arrived and the output has gone quiet.
integer polls=0 quiet=0
acc=''
while (( polls < 100 )); do
  sleep 0.1
  got=0
  while zpty -r -t z chunk; do acc+=$chunk; got=1; done
  if [[ $acc == *'<<'[^R]* ]]; then
    if (( got )); then quiet=0; else (( quiet++ )); fi
    (( quiet >= 3 )) && break
  fi
  (( polls++ ))
done
print -rn -- "$acc"
zpty -d z
`;

/** Every top-level word the registry has, plus commander's `help`: completions must offer exactly these. */
const TOP_LEVEL = [...registry.entries.map((entry) => entry.name), 'help'];

const cases: Array<{ line: string; expected: readonly string[] }> = [
  { line: 'tend ', expected: TOP_LEVEL },
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
