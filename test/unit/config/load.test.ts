import { expect } from 'chai';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/errors.js';
import { tempDir } from '../cli/helpers.js';

describe('config/load: search order', () => {
  const dir = tempDir({
    'flag.yml': 'log: { level: debug }',
    'env.yml': 'log: { level: warn }',
    'cwd/tend.yml': 'log: { level: error }',
    'etc/tend.yml': 'log: { level: info }',
    'json/tend.json': '{"log": {"level": "warn"}}',
    'empty/tend.yml': '',
  });
  const base = { cwd: join(dir, 'cwd'), systemDir: join(dir, 'etc') };

  const cases: Array<{ name: string; options: Parameters<typeof loadConfig>[0]; file: string; source: string }> = [
    {
      name: '--config first',
      options: { ...base, explicitPath: join(dir, 'flag.yml'), env: { TEND_CONFIG: join(dir, 'env.yml') } },
      file: 'flag.yml',
      source: 'flag',
    },
    {
      name: 'then TEND_CONFIG',
      options: { ...base, env: { TEND_CONFIG: join(dir, 'env.yml') } },
      file: 'env.yml',
      source: 'env',
    },
    { name: 'then ./tend.yml', options: base, file: 'cwd/tend.yml', source: 'cwd' },
    {
      name: 'then /etc/tend/tend.yml',
      options: { ...base, cwd: join(dir, 'nowhere') },
      file: 'etc/tend.yml',
      source: 'system',
    },
    { name: 'JSON too', options: { ...base, cwd: join(dir, 'json') }, file: 'json/tend.json', source: 'cwd' },
  ];
  for (const testCase of cases) {
    it(testCase.name, async () => {
      const loaded = await loadConfig(testCase.options);
      expect(loaded.filepath).to.equal(join(dir, testCase.file));
      expect(loaded.source).to.equal(testCase.source);
    });
  }

  it('falls back to defaults when no file exists', async () => {
    const loaded = await loadConfig({ cwd: join(dir, 'nowhere'), systemDir: join(dir, 'nowhere') });
    expect(loaded).to.deep.equal({ raw: undefined, filepath: undefined, source: 'defaults' });
  });

  it('treats an empty file as an empty document', async () => {
    const loaded = await loadConfig({ cwd: join(dir, 'empty'), systemDir: join(dir, 'nowhere') });
    expect(loaded.raw ?? {}).to.deep.equal({});
  });

  it('reads an explicitly named file of any extension as YAML', async () => {
    const other = tempDir({ 'tend.yml.example': 'log: { level: warn }' });
    const loaded = await loadConfig({ cwd: other, explicitPath: 'tend.yml.example' });
    expect(loaded.raw).to.deep.equal({ log: { level: 'warn' } });
  });

  it('resolves a relative --config against the working directory', async () => {
    const loaded = await loadConfig({ cwd: dir, explicitPath: 'flag.yml' });
    expect(loaded.filepath).to.equal(join(dir, 'flag.yml'));
  });

  it('throws ConfigError for a missing explicit file', async () => {
    const error = await loadConfig({ cwd: dir, explicitPath: 'nope.yml' }).catch((caught: unknown) => caught);
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as ConfigError).exitCode).to.equal(3);
  });
});
