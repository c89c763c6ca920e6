/**
 * Finding and reading tend.yml. Loading only parses the document; `validate.ts` judges it. Keeping the two
 * apart lets `config check` report every validation problem of a file that parsed, and lets tests validate
 * documents without touching the file system.
 *
 * Search order (first hit wins): --config PATH, $TEND_CONFIG, ./tend.yml (or .yaml/.json) in the working
 * directory, /etc/tend/tend.yml (or .yaml/.json). No file at all means "all defaults", which suits a node that
 * runs Cassandra on localhost with no authentication. In the search an empty file is passed over (as if absent);
 * a file that exists but cannot be read is an error, never a silent fall-back to the next place or the defaults.
 *
 * The search is cosmiconfig's (same places and order) done here, so that every read goes through
 * readBoundedFile: cosmiconfig read any path whole (`-c /dev/zero` ran out of memory, a FIFO hung the process)
 * and followed a `$import:` key to any other file.
 */
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError } from '../errors.js';
import { validateConfig, type ValidationResult } from './validate.js';
import { secretFiles, secretModeWarning, type Env } from './secrets.js';
import type { TendConfig } from './schema.js';
import { CONFIG_FILE_LIMIT, describeReadError, readBoundedFile } from './files.js';

export const DEFAULT_SYSTEM_CONFIG_DIR = '/etc/tend';
export const CONFIG_ENV = 'TEND_CONFIG';
const SEARCH_PLACES = ['tend.yml', 'tend.yaml', 'tend.json'];

export type ConfigSource = 'flag' | 'env' | 'cwd' | 'system' | 'defaults';

export interface LoadedConfig {
  /** The parsed document (undefined for an empty file or when no file exists). */
  raw: unknown;
  filepath: string | undefined;
  source: ConfigSource;
}

export interface LoadOptions {
  /** --config */
  explicitPath?: string | undefined;
  env?: Env;
  cwd?: string;
  /** Overridable for tests; /etc/tend in production. */
  systemDir?: string;
}

/**
 * YAML (and JSON, which is YAML) via the `yaml` package so that a syntax error names its line and column,
 * and duplicate keys are errors rather than a silent last-one-wins.
 */
function parseYaml(filepath: string, content: string): unknown {
  if (content.trim() === '') return undefined;
  // prettyErrors fills in linePos (1-based line and column).
  const document = parseDocument(content, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    const problems = document.errors.map((error) => {
      const position = error.linePos?.[0];
      const where = position ? `${filepath}:${position.line}:${position.col}` : filepath;
      const message = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
      return `${where}: ${message}`;
    });
    throw new ConfigError(`cannot parse ${filepath}`, { problems, filepath });
  }
  return document.toJS() as unknown;
}

function cannotRead(path: string, how: string, error: unknown): ConfigError {
  return new ConfigError(`cannot read configuration file ${path} (${how}): ${describeReadError(error)}`, {
    filepath: path,
    cause: error,
  });
}

/** The text of a configuration file: a regular file of at most CONFIG_FILE_LIMIT bytes. */
async function readConfigText(path: string): Promise<string> {
  return (await readBoundedFile(path, CONFIG_FILE_LIMIT)).toString('utf8');
}

async function loadFile(path: string, source: ConfigSource): Promise<LoadedConfig> {
  let content: string;
  try {
    content = await readConfigText(path);
  } catch (error) {
    throw cannotRead(path, source === 'flag' ? 'given with --config' : `named by ${CONFIG_ENV}`, error);
  }
  return { raw: parseYaml(path, content), filepath: path, source };
}

/** The first non-empty search place in `dir`, parsed; undefined when there is none. */
async function searchDir(dir: string, source: ConfigSource): Promise<LoadedConfig | undefined> {
  for (const place of SEARCH_PLACES) {
    const path = join(dir, place);
    let content: string;
    try {
      content = await readConfigText(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      throw cannotRead(path, `found in ${dir}`, error);
    }
    if (content.trim() === '') continue;
    return { raw: parseYaml(path, content), filepath: path, source };
  }
  return undefined;
}

export async function loadConfig(options: LoadOptions = {}): Promise<LoadedConfig> {
  const env = options.env ?? {};
  const cwd = options.cwd ?? process.cwd();
  if (options.explicitPath) return loadFile(resolve(cwd, options.explicitPath), 'flag');
  const fromEnv = env[CONFIG_ENV];
  if (fromEnv) return loadFile(resolve(cwd, fromEnv), 'env');
  for (const [dir, source] of [
    [cwd, 'cwd'],
    [options.systemDir ?? DEFAULT_SYSTEM_CONFIG_DIR, 'system'],
  ] as const) {
    const found = await searchDir(dir, source);
    if (found) return found;
  }
  return { raw: undefined, filepath: undefined, source: 'defaults' };
}

/** Load and validate; throws ConfigError (exit 3) listing every problem. */
export async function loadValidConfig(
  options: LoadOptions = {},
): Promise<LoadedConfig & Omit<ValidationResult, 'config'> & { config: NonNullable<ValidationResult['config']> }> {
  const loaded = await loadConfig(options);
  const result = validateConfig(loaded.raw, { env: options.env ?? {} });
  if (!result.config) {
    throw new ConfigError(`invalid configuration${loaded.filepath ? ` in ${loaded.filepath}` : ''}`, {
      problems: result.errors,
      ...(loaded.filepath ? { filepath: loaded.filepath } : {}),
    });
  }
  const warnings = [...result.warnings, ...(await secretFileModeWarnings(result.config, options.cwd ?? process.cwd()))];
  return { ...loaded, ...result, warnings, config: result.config };
}

/**
 * Secret files that others can read, checked by every command that reads the configuration (not only `config
 * check`): a tick from the timer logs it where the operator looks. A file that cannot be stat'ed is left to the
 * reader that needs it, which says why.
 */
async function secretFileModeWarnings(config: TendConfig, cwd: string): Promise<string[]> {
  const warnings: string[] = [];
  for (const { path, file } of secretFiles(config)) {
    try {
      const warning = secretModeWarning(path, file, (await stat(resolve(cwd, file))).mode);
      if (warning) warnings.push(warning);
    } catch {
      // reported by the command that reads it
    }
  }
  return warnings;
}
