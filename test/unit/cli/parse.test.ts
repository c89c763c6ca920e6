/** argv → options, without running anything (GitHub CLI style). */
import { expect } from 'chai';
import { parseInvocation, registry } from '../../../src/cli/registry.js';
import { UsageError } from '../../../src/errors.js';

function parse(args: string[]) {
  return parseInvocation(args, '9.9.9');
}

function usageError(args: string[]): UsageError {
  try {
    parse(args);
  } catch (error) {
    expect(error).to.be.instanceOf(UsageError);
    return error as UsageError;
  }
  throw new Error(`expected a usage error for: ${args.join(' ')}`);
}

describe('cli: argv → options', () => {
  const runs: Array<{ args: string[]; command: string; options: unknown; globals?: Record<string, unknown> }> = [
    { args: ['config', 'show'], command: 'config show', options: {} },
    { args: ['config', 'check'], command: 'config check', options: {} },
    { args: ['schema', 'print'], command: 'schema print', options: {} },
    { args: ['completion', 'bash'], command: 'completion', options: { shell: 'bash' } },
    { args: ['completion', 'fish'], command: 'completion', options: { shell: 'fish' } },
    {
      args: ['-c', '/etc/x.yml', 'config', 'show', '--json'],
      command: 'config show',
      options: {},
      globals: { config: '/etc/x.yml', json: true },
    },
    {
      args: ['config', 'show', '--config=/y.yml', '-q', '--no-color'],
      command: 'config show',
      options: {},
      globals: { config: '/y.yml', quiet: true, color: false },
    },
    { args: ['--verbose', 'config', 'check'], command: 'config check', options: {}, globals: { verbose: true } },
  ];
  for (const testCase of runs) {
    it(`tend ${testCase.args.join(' ')}`, () => {
      const invocation = parse(testCase.args);
      if (invocation.kind !== 'run') throw new Error('expected a command');
      expect(invocation.command.path.join(' ')).to.equal(testCase.command);
      expect(invocation.options).to.deep.equal(testCase.options);
      expect(invocation.globals).to.deep.include({
        config: undefined,
        json: false,
        verbose: false,
        quiet: false,
        color: true,
        ...testCase.globals,
      });
    });
  }

  it('--help and --version are text for stdout', () => {
    const help = parse(['--help']);
    expect(help.kind).to.equal('text');
    if (help.kind === 'text') expect(help.text).to.include('Usage: tend').and.include('Exit status:');
    const version = parse(['--version']);
    if (version.kind === 'text') expect(version.text.trim()).to.equal('9.9.9');
    const commandHelp = parse(['config', 'show', '--help']);
    if (commandHelp.kind === 'text') expect(commandHelp.text).to.include('Examples:').and.include('tend config show');
  });

  it('`tend help COMMAND` is help text too', () => {
    const help = parse(['help', 'config']);
    expect(help.kind).to.equal('text');
    if (help.kind === 'text') expect(help.text).to.include('Usage: tend config');
    const sub = parse(['config', 'help', 'show']);
    if (sub.kind === 'text') expect(sub.text).to.include('Usage: tend config show').and.include('--json');
  });

  const errors: Array<{ args: string[]; message: RegExp; hint?: RegExp }> = [
    { args: ['help', 'confg'], message: /unknown command 'confg'/, hint: /Did you mean config\?/ },
    { args: ['conifg', 'show'], message: /unknown command 'conifg'/, hint: /Did you mean config\?/ },
    { args: ['config', 'shwo'], message: /unknown command 'shwo'/, hint: /Did you mean show\?/ },
    { args: ['config', 'show', '--jsn'], message: /unknown option '--jsn'/, hint: /Did you mean --json\?/ },
    { args: ['completion', 'tcsh'], message: /'tcsh' is invalid.*bash, zsh, fish/ },
    { args: ['completion'], message: /missing required argument 'SHELL'/ },
    { args: ['config', 'show', 'extra'], message: /too many arguments/ },
    { args: ['config'], message: /'tend config' needs a subcommand/, hint: /Commands: check, show/ },
    {
      args: [],
      message: /no command given/,
      hint: new RegExp(`Commands: ${registry.entries.map((entry) => entry.name).join(', ')}`),
    },
    { args: ['-c'], message: /argument missing/ },
    { args: ['-v', '-q', 'config', 'show'], message: /--verbose and --quiet/ },
  ];
  for (const testCase of errors) {
    it(`usage error: tend ${testCase.args.join(' ')}`, () => {
      const error = usageError(testCase.args);
      expect(error.exitCode).to.equal(2);
      expect(error.message).to.match(testCase.message);
      if (testCase.hint) expect(error.hints.join('\n')).to.match(testCase.hint);
    });
  }

  it('registers the commands of this issue, sorted and each once', () => {
    const paths = registry.commands.map((command) => command.path.join(' '));
    expect(paths).to.include.members(['completion', 'config check', 'config show', 'schema print']);
    expect(paths).to.deep.equal([...new Set(paths)].sort());
  });

  it('every command declares its metadata', () => {
    for (const command of registry.commands) {
      expect(command.summary, command.path.join(' ')).to.match(/^[a-z]/);
      expect(command.summary).to.not.match(/\.$/);
      expect(command.examples.length, command.path.join(' ')).to.be.at.least(1);
      for (const example of command.examples) expect(example.command).to.match(/^(tend|source) /);
    }
  });
  it('job start --include-all-sstables: for upgradesstables only', () => {
    const all = parse(['job', 'start', 'upgradesstables', 'shop', '--include-all-sstables']);
    if (all.kind !== 'run') throw new Error('expected a command');
    expect(all.options).to.deep.include({ operation: 'upgradesstables', keyspace: 'shop', includeAllSSTables: true });
    const plain = parse(['job', 'start', 'upgradesstables', 'shop']);
    if (plain.kind !== 'run') throw new Error('expected a command');
    expect(plain.options).to.not.have.property('includeAllSSTables');
    expect(usageError(['job', 'start', 'cleanup', 'shop', '--include-all-sstables']).message).to.equal(
      '--include-all-sstables applies to upgradesstables only, not to cleanup',
    );
  });
});
