/** argv → options for schedule status|plan, history show and schema apply (nothing runs). */
import { expect } from 'chai';
import { commandName, parseInvocation } from '../../../src/cli/registry.js';
import { UsageError } from '../../../src/errors.js';

function parse(args: string[]) {
  const invocation = parseInvocation(args, '9.9.9');
  if (invocation.kind !== 'run') throw new Error('expected a command');
  return { command: commandName(invocation.command), options: invocation.options, json: invocation.globals.json };
}

describe('cli: read-side commands argv → options', () => {
  const cases: Array<{ args: string[]; command: string; options: unknown }> = [
    {
      args: ['schedule', 'status'],
      command: 'schedule status',
      options: { scope: undefined, check: false, node: undefined },
    },
    {
      args: ['schedule', 'status', 'shop.orders', '--check'],
      command: 'schedule status',
      options: { scope: 'shop.orders', check: true, node: undefined },
    },
    {
      args: ['schedule', 'status', '"Shop"."Orders"'],
      command: 'schedule status',
      options: { scope: '"Shop"."Orders"', check: false, node: undefined },
    },
    {
      args: ['schedule', 'status', '--node', '10.0.0.2'],
      command: 'schedule status',
      options: { scope: undefined, check: false, node: '10.0.0.2' },
    },
    { args: ['schedule', 'plan'], command: 'schedule plan', options: { explain: false, node: undefined } },
    { args: ['schedule', 'plan', '--explain'], command: 'schedule plan', options: { explain: true, node: undefined } },
    {
      args: ['schedule', 'plan', '--node', '6F1C9D4E-1B2A-4C3D-9E8F-0A1B2C3D4E5F'],
      command: 'schedule plan',
      options: { explain: false, node: '6F1C9D4E-1B2A-4C3D-9E8F-0A1B2C3D4E5F' },
    },
    {
      args: ['history', 'show'],
      command: 'history show',
      options: { scope: undefined, sinceMs: undefined, coverage: false, ring: false, jobs: false, node: undefined },
    },
    {
      args: ['history', 'show', 'shop', '--since', '24h', '--coverage'],
      command: 'history show',
      options: { scope: 'shop', sinceMs: 86_400_000, coverage: true, ring: false, jobs: false, node: undefined },
    },
    {
      // --ring draws from the coverage figures: it implies --coverage.
      args: ['history', 'show', 'shop.orders', '--ring'],
      command: 'history show',
      options: { scope: 'shop.orders', sinceMs: undefined, coverage: true, ring: true, jobs: false, node: undefined },
    },
    {
      args: ['history', 'show', 'shop', '--jobs'],
      command: 'history show',
      options: { scope: 'shop', sinceMs: undefined, coverage: false, ring: false, jobs: true, node: undefined },
    },
    { args: ['schema', 'apply'], command: 'schema apply', options: {} },
  ];
  for (const testCase of cases) {
    it(`tend ${testCase.args.join(' ')}`, () => {
      const parsed = parse(testCase.args);
      expect(parsed.command).to.equal(testCase.command);
      expect(parsed.options).to.deep.equal(testCase.options);
    });
  }

  it('--json works after the arguments', () => {
    expect(parse(['schedule', 'status', 'shop', '--json']).json).to.equal(true);
  });

  for (const args of [
    ['history', 'show', '--since', 'yesterday'],
    ['history', 'show', '--since', '0s'],
    ['schedule', 'plan', 'extra'],
    ['schedule', 'status', 'a', 'b'],
    ['schedule', 'status', '--node', ''],
    ['schedule', 'plan', '--node'],
  ]) {
    it(`usage error: tend ${args.join(' ')}`, () => {
      expect(() => parse(args)).to.throw(UsageError);
    });
  }
});
