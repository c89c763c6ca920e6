/**
 * Finding and reading tend.yml. Loading only parses the document; `validate.ts` judges it. Keeping the two
 * apart lets `config check` report every validation problem of a file that parsed, and lets tests validate
 * documents without touching the file system.
 *
 * Search order (first hit wins): --config PATH, $TEND_CONFIG, ./tend.yml (or .yaml/.json) in the working
 * directory, /etc/tend/tend.yml (or .yaml/.json). No file at all means "all defaults", which suits a node that
 * runs Cassandra on localhost with no authentication.
 */
import { extname, resolve } from 'node:path';
import { cosmiconfig, type Loader } from 'cosmiconfig';
import { parseDocument } from 'yaml';
import { ConfigError } from '../errors.js';
import { validateConfig, type ValidationResult } from './validate.js';
import type { Env } from './secrets.js';

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
const yamlLoader: Loader = (filepath, content) => {
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
};

/** `extraExtension`: a file named explicitly may have any name (tend.yml.example, tend.conf), read as YAML. */
function explorer(extraExtension?: string) {
  return cosmiconfig('tend', {
    searchPlaces: SEARCH_PLACES,
    searchStrategy: 'none',
    cache: false,
    loaders: {
      '.yml': yamlLoader,
      '.yaml': yamlLoader,
      '.json': yamlLoader,
      noExt: yamlLoader,
      ...(extraExtension ? { [extraExtension]: yamlLoader } : {}),
    },
  });
}

async function loadFile(path: string, source: ConfigSource): Promise<LoadedConfig> {
  try {
    const result = await explorer(extname(path) || undefined).load(path);
    return { raw: result?.config, filepath: result?.filepath ?? path, source };
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const how = source === 'flag' ? 'given with --config' : `named by ${CONFIG_ENV}`;
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'is a directory'
            : (error as Error).message;
    throw new ConfigError(`cannot read configuration file ${path} (${how}): ${reason}`, {
      filepath: path,
      cause: error,
    });
  }
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
    let result;
    try {
      result = await explorer().search(dir);
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      throw new ConfigError(`cannot read configuration in ${dir}: ${(error as Error).message}`, { cause: error });
    }
    if (result) return { raw: result.config, filepath: result.filepath, source };
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
  return { ...loaded, ...result, config: result.config };
}
