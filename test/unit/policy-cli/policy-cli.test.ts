/**
 * `tend policy …` and `tend schedule pause|resume` without a cluster: argv → options, usage errors (exit 2)
 * before anything connects, and the `schedule` verbs of two modules merged into one group.
 */
import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../src/cli/main.js';
import { buildRegistry, parseInvocation } from '../../../src/cli/registry.js';
import { defineCommand, type CommandModule } from '../../../src/cli/types.js';
import { policyModule } from '../../../src/cli/commands/policy.js';
import { schedulePauseModule } from '../../../src/cli/commands/schedule-pause.js';
import { MemoryStream } from '../../../src/output/memory-stream.js';
import { UsageError } from '../../../src/errors.js';

/** Stands in for schedule.ts (status, plan, tick), which another module owns. */
const scheduleStatusModule: CommandModule = {
  group: { name: 'schedule', summary: 'the repair schedule' },
  commands: [
    defineCommand({
      path: ['schedule', 'status'],
      summary: 'status',
      arguments: [],
      options: [],
      examples: [],
      exitCodes: [],
      parse: () => ({}),
      run: async () => undefined,
    }),
  ],
};

const registry = buildRegistry([schedulePauseModule, policyModule, scheduleStatusModule]);

function parse(args: string[]) {
  const invocation = parseInvocation(args, '9.9.9', registry);
  if (invocation.kind !== 'run') throw new Error('expected a command');
  return invocation;
}

/** Runs tend in-process with a config whose Cassandra cannot be reached: exit 5 would mean it tried. */
async function run(args: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'tend-policy-'));
  writeFileSync(
    join(dir, 'tend.yml'),
    'cassandra: { contactPoints: [127.0.0.9], localDatacenter: dc1, connectTimeout: 1s }\n',
  );
  const stdout = new MemoryStream(false);
  // stderr on a terminal: the error is plain text, not a logfmt line with escaped quotes.
  const stderr = new MemoryStream(true);
  const code = await main(['node', 'tend', '--no-color', '-c', 'tend.yml', ...args], {
    stdout,
    stderr,
    env: {},
    cwd: dir,
    readFile: (path) => readFile(path.startsWith('/') ? path : join(dir, path), 'utf8'),
    systemConfigDir: join(dir, 'etc'),
    registry,
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

describe('cli: tend policy / schedule pause|resume', () => {
  it('merges schedule pause|resume with the schedule verbs of another module, keeping its group summary', () => {
    const schedule = registry.entries.find((entry) => entry.name === 'schedule')!;
    expect(schedule.summary).to.equal('the repair schedule');
    expect(schedule.subcommands.map((command) => command.path[1])).to.deep.equal(['pause', 'resume', 'status']);
    expect(registry.entries.find((entry) => entry.name === 'policy')!.subcommands.map((c) => c.path[1])).to.deep.equal([
      'add',
      'list',
      'remove',
    ]);
  });

  const cases: Array<{ args: string[]; command: string; options: unknown }> = [
    { args: ['policy', 'list'], command: 'policy list', options: { target: undefined } },
    { args: ['policy', 'list', 'shop.orders'], command: 'policy list', options: { target: 'shop.orders' } },
    {
      args: ['policy', 'add', 'block', '--start', '08:00', '--end', '18:00'],
      command: 'policy add',
      options: { action: 'block', start: '08:00', end: '18:00' },
    },
    {
      args: [
        'policy',
        'add',
        'allow',
        'shop.orders',
        '--days',
        'mon-fri',
        '--start',
        '22:00',
        '--end',
        '06:00',
        '--timezone',
        'Europe/Berlin',
        '--datacenter',
        'dc2',
      ],
      command: 'policy add',
      options: {
        action: 'allow',
        target: 'shop.orders',
        days: 'mon-fri',
        start: '22:00',
        end: '06:00',
        timezone: 'Europe/Berlin',
        datacenter: 'dc2',
      },
    },
    { args: ['policy', 'remove', 'w1', 'w2'], command: 'policy remove', options: { ids: ['w1', 'w2'] } },
    { args: ['schedule', 'pause'], command: 'schedule pause', options: { until: undefined, reason: undefined } },
    {
      args: ['schedule', 'pause', '--until', '2h', '--reason', 'upgrade'],
      command: 'schedule pause',
      options: { until: '2h', reason: 'upgrade' },
    },
    { args: ['schedule', 'resume'], command: 'schedule resume', options: {} },
  ];
  for (const testCase of cases) {
    it(`tend ${testCase.args.join(' ')}`, () => {
      const invocation = parse(testCase.args);
      expect(invocation.command.path.join(' ')).to.equal(testCase.command);
      expect(invocation.options).to.deep.equal(testCase.options);
    });
  }

  const usage: Array<[string[], RegExp]> = [
    [['policy', 'add', 'deny', '--start', '08:00', '--end', '09:00'], /deny/],
    [['policy', 'add', 'block', '--end', '09:00'], /--start is required/],
    [['policy', 'add', 'block', '--start', '09:00'], /--end is required/],
    [['policy', 'remove'], /ID/],
  ];
  for (const [args, message] of usage) {
    it(`tend ${args.join(' ')} is a usage error`, () => {
      expect(() => parseInvocation(args, '9.9.9', registry))
        .to.throw(UsageError)
        .with.property('message')
        .that.matches(message);
    });
  }

  const rejectedBeforeConnecting: Array<[string[], string]> = [
    [['policy', 'add', 'block', '--start', '8am', '--end', '09:00'], '--start: "8am" is not a time of day'],
    [['policy', 'add', 'block', '--start', '08:00', '--end', '09:00', '--timezone', 'Mars/Base'], 'unknown time zone'],
    [
      ['policy', 'add', 'block', '--start', '08:00', '--end', '09:00', '--days', 'someday'],
      '--days: "someday" is not a list of days',
    ],
    [['policy', 'add', 'block', 'a.b.c', '--start', '08:00', '--end', '09:00'], 'is not KEYSPACE or KEYSPACE.TABLE'],
    [['policy', 'list', 'a.b.c'], 'is not KEYSPACE or KEYSPACE.TABLE'],
    [['schedule', 'pause', '--until', 'tomorrow'], '--until: "tomorrow" is neither a duration nor an ISO-8601 time'],
  ];
  for (const [args, message] of rejectedBeforeConnecting) {
    it(`tend ${args.join(' ')} exits 2 without connecting`, async () => {
      const result = await run(args);
      expect(result.code).to.equal(2);
      expect(result.stdout).to.equal('');
      expect(result.stderr).to.include(message);
    });
  }

  it('valid input does try to connect (exit 5 with no Cassandra)', async () => {
    const result = await run(['schedule', 'pause', '--until', '2h']);
    expect(result.code).to.equal(5);
    expect(result.stderr).to.include('127.0.0.9');
  });
});
