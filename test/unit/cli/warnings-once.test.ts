/**
 * Issue 12 item 15: a configuration warning is printed once per command, whichever command reads the
 * configuration (it was printed by main() and again by the Cassandra session helper). Nothing listens on
 * 127.0.0.9, so every command that connects fails at once with exit 5 after logging its warnings.
 */
import { expect } from 'chai';
import { runTend } from './helpers.js';

const CONFIG = [
  'cassandra: { contactPoints: [127.0.0.9], localDatacenter: dc1, connectTimeout: 1s }',
  'repair: { interval: 8d, alarm: { warn: 8d } }',
  '',
].join('\n');
const WARNING = /repair\.interval: is not shorter than repair\.alarm\.warn/g;

const COMMANDS: string[][] = [
  ['schedule', 'status'],
  ['schedule', 'plan'],
  ['schedule', 'tick'],
  ['schedule', 'tick', '--dry-run'],
  ['schedule', 'pause'],
  ['history', 'show'],
  ['policy', 'list'],
  ['lease', 'status'],
  ['repair', 'table', 'ks.t'],
  ['schema', 'apply'],
  ['config', 'show'],
  ['config', 'check'],
];

describe('configuration warnings are printed once', function () {
  for (const command of COMMANDS) {
    it(`tend ${command.join(' ')}`, async function () {
      const result = await runTend(['-c', 'tend.yml', ...command], { files: { 'tend.yml': CONFIG } });
      expect(result.stderr.match(WARNING) ?? [], result.stderr).to.have.length(1);
    });
  }
});
