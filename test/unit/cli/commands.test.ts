/** Commands run in-process against fake streams: stdout and stderr checked separately, on a terminal and piped. */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { runTend } from './helpers.js';
import { main } from '../../../src/cli/main.js';
import { buildRegistry } from '../../../src/cli/registry.js';
import { defineCommand } from '../../../src/cli/types.js';
import { MemoryStream } from '../../../src/output/memory-stream.js';
import {
  AlarmCrossed,
  ClusterUnavailable,
  ConfigError,
  HostIsDown,
  Interrupted,
  LeaseLost,
  LeaseUnavailable,
  RepairFailed,
  UsageError,
} from '../../../src/errors.js';

const CONFIG =
  'cassandra: { localDatacenter: dc1, replication: { dc1: 3, dc2: 2 } }\nrepair: { interval: 5d, alarm: { error: 10d } }\n';

describe('tend config show', () => {
  for (const tty of [false, true]) {
    it(`prints the effective configuration as YAML (${tty ? 'terminal' : 'piped'}), nothing on stderr`, async () => {
      const result = await runTend(['-c', 'tend.yml', 'config', 'show'], { tty, files: { 'tend.yml': CONFIG } });
      expect(result.code).to.equal(0);
      expect(result.stderr).to.equal('');
      expect(result.stdout).to.match(/^# effective configuration from .*tend\.yml/);
      const shown = parseYaml(result.stdout) as { repair: { interval: string; alarm: { error: string } } };
      expect(shown.repair.interval).to.equal('5d');
      expect(shown.repair.alarm.error).to.equal('10d');
    });
  }

  it('with --json prints one document: file, source, config, secrets, warnings', async () => {
    const result = await runTend(['config', 'show', '--json'], { tty: true, files: { 'tend.yml': CONFIG } });
    expect(result.code).to.equal(0);
    const document = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(document).to.have.keys('file', 'source', 'config', 'secrets', 'warnings');
    expect(document.source).to.equal('cwd');
    expect((document.config as { cassandra: { port: number } }).cassandra.port).to.equal(9042);
    expect(result.stderr).to.equal('');
  });

  it('puts warnings on stderr, as key=value when piped', async () => {
    const result = await runTend(['-c', 'tend.yml', 'config', 'show'], {
      files: { 'tend.yml': 'repair: { interval: 9d, alarm: { warn: 8d } }' },
    });
    expect(result.code).to.equal(0);
    expect(result.stderr).to.match(/^level=warn msg="repair\.interval: is not shorter than repair\.alarm\.warn/);
    expect(result.stdout).to.not.include('warn msg');
  });

  it('uses built-in defaults when no file exists', async () => {
    const result = await runTend(['config', 'show', '--json']);
    const document = JSON.parse(result.stdout) as { file: null; source: string };
    expect(document.file).to.equal(null);
    expect(document.source).to.equal('defaults');
  });
});

describe('tend config check', () => {
  it('prints a one-line verdict on stdout', async () => {
    const result = await runTend(['config', 'check'], { files: { 'tend.yml': CONFIG } });
    expect(result.code).to.equal(0);
    expect(result.stdout).to.match(/^configuration OK: .*tend\.yml( \(\d+ warnings?\))?\n$/);
  });

  it('checks the metrics directory is writable and warns when nodetool is not found', async () => {
    const result = await runTend(['config', 'check', '--json'], {
      env: { PATH: '/nonexistent' },
      files: { 'tend.yml': 'metrics: { textfileDirectory: /nonexistent/textfiles }' },
    });
    expect(result.code).to.equal(3);
    const report = JSON.parse(result.stdout) as { errors: string[]; warnings: string[] };
    expect(report.errors).to.deep.equal(['metrics.textfileDirectory: cannot write to /nonexistent/textfiles (ENOENT)']);
    expect(report.warnings).to.deep.equal(['executor.nodetool.path: nodetool is not an executable file in PATH']);
  });

  it('finds nodetool in PATH', async () => {
    const result = await runTend(['config', 'check', '--json'], {
      env: { PATH: '/nonexistent:/bin' },
      files: { 'tend.yml': 'executor: { nodetool: { path: sh } }' },
    });
    expect((JSON.parse(result.stdout) as { warnings: string[] }).warnings).to.deep.equal([]);
  });

  it('reports every error on stderr, readable on a terminal', async () => {
    const result = await runTend(['config', 'check', '--no-color'], {
      tty: true,
      files: { 'tend.yml': 'cassandra: { port: x }\nlog: { level: loud }\n' },
    });
    expect(result.code).to.equal(3);
    expect(result.stderr).to.match(/^error: invalid configuration in .*tend\.yml/);
    expect(result.stderr).to.include('\n  cassandra.port: expected a port number, found "x"\n');
    expect(result.stderr).to.include('\n  log.level: expected one of debug, info, warn, error, found "loud"\n');
  });

  it('reports unreadable referenced files', async () => {
    const result = await runTend(['config', 'check'], {
      files: { 'tend.yml': 'lease: { consul: { tokenFile: /nonexistent/token } }' },
    });
    expect(result.code).to.equal(3);
    expect(result.stderr).to.include('lease.consul.tokenFile: cannot read /nonexistent/token (ENOENT)');
  });

  it('honours NO_COLOR on a terminal', async () => {
    const result = await runTend(['config', 'check'], {
      tty: true,
      env: { NO_COLOR: '1' },
      files: { 'tend.yml': 'log: { level: loud }' },
    });
    expect(result.stderr).to.not.include('\u001b[');
  });
});

describe('tend schema print', () => {
  it('prints idempotent CQL with the configured keyspace and replication', async () => {
    const result = await runTend(['schema', 'print'], {
      files: { 'tend.yml': 'cassandra: { keyspace: ops_tend, localDatacenter: dc1, replication: { dc1: 3, dc2: 2 } }' },
    });
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.match(/^-- tend schema version \d+\n/);
    expect(result.stdout).to.include(
      `CREATE KEYSPACE IF NOT EXISTS "ops_tend" WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': '3', 'dc2': '2'};`,
    );
    expect(result.stderr).to.equal('');
  });

  it('with --json prints the statements as one document', async () => {
    const result = await runTend(['schema', 'print', '--json'], { files: { 'tend.yml': CONFIG } });
    const document = JSON.parse(result.stdout) as { version: number; keyspace: string; statements: string[] };
    expect(document.keyspace).to.equal('tend');
    expect(document.statements.length).to.be.greaterThan(2);
    const creates = document.statements.filter((statement) => statement.startsWith('CREATE'));
    expect(creates.length).to.be.greaterThan(2);
    expect(creates.every((statement) => /IF NOT EXISTS/.test(statement))).to.equal(true);
  });

  it('defaults to 3 replicas in the local datacenter', async () => {
    const result = await runTend(['schema', 'print'], {
      files: { 'tend.yml': 'cassandra: { localDatacenter: east }' },
    });
    expect(result.stdout).to.include(`{'class': 'NetworkTopologyStrategy', 'east': '3'}`);
  });

  it('exits 3 naming cassandra.replication when it cannot tell the replication', async () => {
    const result = await runTend(['schema', 'print']);
    expect(result.code).to.equal(3);
    expect(result.stderr).to.include('cassandra.replication');
    expect(result.stdout).to.equal('');
  });
});

describe('tend completion', () => {
  for (const [shell, file] of [
    ['bash', 'completions/tend.bash'],
    ['zsh', 'completions/_tend'],
    ['fish', 'completions/tend.fish'],
  ] as const) {
    it(`prints the same ${shell} script that ships in ${file}`, async () => {
      const result = await runTend(['completion', shell]);
      expect(result.code).to.equal(0);
      expect(result.stdout).to.equal(readFileSync(file, 'utf8'));
    });
  }
});

describe('help and usage errors', () => {
  it('--help goes to stdout with exit 0', async () => {
    const result = await runTend(['--help']);
    expect(result.code).to.equal(0);
    expect(result.stdout).to.include('Usage: tend');
    expect(result.stderr).to.equal('');
  });

  it('an unknown command goes to stderr with exit 2 and a suggestion (piped: key=value)', async () => {
    const result = await runTend(['confg', 'show']);
    expect(result.code).to.equal(2);
    expect(result.stdout).to.equal('');
    expect(result.stderr).to.equal(
      `level=error msg="unknown command 'confg'" exit=2\nlevel=error msg="Did you mean config?"\nlevel=error msg="Run 'tend --help' for usage."\n`,
    );
  });

  it('an unknown option on a terminal is plain text', async () => {
    const result = await runTend(['config', 'show', '--jsno', '--no-color'], { tty: true });
    expect(result.code).to.equal(2);
    expect(result.stderr).to.equal(
      `error: unknown option '--jsno'\n  Did you mean --json?\n  Run 'tend config show --help' for usage.\n`,
    );
  });
});

describe('main(): one place maps errors to exit codes', () => {
  const thrown: Array<[string, () => Error, number]> = [
    ['usage', () => new UsageError('bad'), 2],
    ['config', () => new ConfigError('bad', { problems: ['a.b: nope'] }), 3],
    ['lease unavailable', () => new LeaseUnavailable('dc1', 'node-2'), 4],
    ['cluster unavailable', () => new ClusterUnavailable('cassandra', 'connection refused'), 5],
    ['host down', () => new HostIsDown('10.0.0.3'), 5],
    ['repair failed', () => new RepairFailed('2 tasks failed', 2), 6],
    ['alarm', () => new AlarmCrossed('app.events is 11d late'), 7],
    ['interrupted', () => new Interrupted('interrupted', { resumeCommand: 'tend repair table app.events' }), 130],
    ['lease lost', () => new LeaseLost('dc1'), 1],
    ['anything else', () => new Error('boom'), 1],
  ];
  for (const [name, make, code] of thrown) {
    it(`${name} → ${code}`, async () => {
      const failing = defineCommand<Record<string, never>>({
        path: ['fail'],
        summary: 'fail',
        arguments: [],
        options: [],
        examples: [],
        exitCodes: [],
        parse: () => ({}),
        run: async () => {
          throw make();
        },
      });
      const stdout = new MemoryStream(false);
      const stderr = new MemoryStream(false);
      const exit = await main(['node', 'tend', 'fail'], {
        stdout,
        stderr,
        env: {},
        cwd: '/',
        readFile: async () => '',
        registry: buildRegistry([{ commands: [failing] }]),
      });
      expect(exit).to.equal(code);
      expect(stdout.text).to.equal('');
      expect(stderr.text).to.match(/^level=error msg=/);
      expect(stderr.text).to.include(`exit=${code}`);
    });
  }

  it('prints the resume command of an interruption', async () => {
    const interrupted = defineCommand<Record<string, never>>({
      path: ['stop'],
      summary: 'stop',
      arguments: [],
      options: [],
      examples: [],
      exitCodes: [],
      parse: () => ({}),
      run: async () => {
        throw new Interrupted('interrupted by SIGINT', { resumeCommand: 'tend repair table app.events --range 1:2' });
      },
    });
    const stderr = new MemoryStream(true);
    await main(['node', 'tend', 'stop', '--no-color'], {
      stdout: new MemoryStream(true),
      stderr,
      env: {},
      cwd: '/',
      readFile: async () => '',
      registry: buildRegistry([{ commands: [interrupted] }]),
    });
    expect(stderr.text).to.include('to resume: tend repair table app.events --range 1:2');
  });
});

describe('main(): interruption', () => {
  it('SIGTERM aborts the command’s signal, lets it clean up, exits 130 and removes its handlers', async () => {
    const before = process.listenerCount('SIGTERM');
    let cleanedUp = false;
    const waiting = defineCommand<Record<string, never>>({
      path: ['wait'],
      summary: 'wait',
      arguments: [],
      options: [],
      examples: [],
      exitCodes: [],
      parse: () => ({}),
      run: (_options, deps) =>
        new Promise((_resolve, reject) => {
          deps.signal.addEventListener('abort', () => {
            cleanedUp = true; // where a real command cancels its repair and releases its lease
            reject(deps.signal.reason);
          });
        }),
    });
    const stderr = new MemoryStream(false);
    const running = main(['node', 'tend', 'wait'], {
      stdout: new MemoryStream(false),
      stderr,
      env: {},
      cwd: '/',
      readFile: async () => '',
      handleSignals: true,
      registry: buildRegistry([{ commands: [waiting] }]),
    });
    await new Promise((resolve) => setImmediate(resolve));
    process.emit('SIGTERM', 'SIGTERM');
    expect(await running).to.equal(130);
    expect(cleanedUp).to.equal(true);
    expect(stderr.text).to.include('level=warn msg="interrupted, cleaning up').and.include('signal=SIGTERM');
    expect(stderr.text).to.include('msg="interrupted by SIGTERM" exit=130');
    expect(process.listenerCount('SIGTERM')).to.equal(before);
  });
});

describe('main(): a command that ignores the interruption', () => {
  it('is given up on after the grace period with exit 130', async () => {
    const stubborn = defineCommand<Record<string, never>>({
      path: ['hang'],
      summary: 'hang',
      arguments: [],
      options: [],
      examples: [],
      exitCodes: [],
      parse: () => ({}),
      run: () => new Promise(() => undefined),
    });
    const stderr = new MemoryStream(false);
    const running = main(['node', 'tend', 'hang'], {
      stdout: new MemoryStream(false),
      stderr,
      env: {},
      cwd: '/',
      readFile: async () => '',
      handleSignals: true,
      interruptGraceMs: 20,
      registry: buildRegistry([{ commands: [stubborn] }]),
    });
    await new Promise((resolve) => setImmediate(resolve));
    // SIGTERM, not SIGINT: mocha's parallel runner and some reporters listen for SIGINT themselves.
    process.emit('SIGTERM', 'SIGTERM');
    expect(await running).to.equal(130);
    expect(stderr.text).to.include('msg="interrupted by SIGTERM" exit=130');
  });
});
