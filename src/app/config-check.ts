/**
 * `config check`: everything that can be verified without contacting Cassandra, Consul or Jolokia — parse,
 * schema, cross-field rules, and that every file the configuration names can be read by this user (a password
 * file readable only by root is the classic reason a systemd tick fails at 3 a.m.).
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { loadConfig } from '../config/load.js';
import { validateConfig } from '../config/validate.js';
import type { TendConfig } from '../config/schema.js';
import type { CommandDeps } from '../cli/types.js';

export interface ConfigCheckReport {
  valid: boolean;
  file: string | null;
  errors: string[];
  warnings: string[];
  /** The error main() reports when invalid (not part of the JSON document). */
  error?: ConfigError;
}

/** Files named by the configuration, by dotted path. */
export function referencedFiles(config: TendConfig): Array<{ path: string; file: string }> {
  const out: Array<{ path: string; file: string }> = [];
  const add = (path: string, file: string | undefined) => {
    if (file) out.push({ path, file });
  };
  add('cassandra.auth.passwordFile', config.cassandra.auth?.passwordFile);
  for (const key of ['caFile', 'certFile', 'keyFile'] as const) {
    add(`cassandra.tls.${key}`, config.cassandra.tls?.[key]);
    add(`lease.consul.tls.${key}`, config.lease.consul.tls?.[key]);
    add(`executor.jolokia.tls.${key}`, config.executor.jolokia.tls?.[key]);
  }
  add('lease.consul.tokenFile', config.lease.consul.tokenFile);
  add('executor.nodetool.passwordFile', config.executor.nodetool.passwordFile);
  add('executor.jolokia.passwordFile', config.executor.jolokia.passwordFile);
  return out;
}

/** `nodetool` looked up in PATH (as execa will), or an absolute/relative path checked directly. */
async function findExecutable(
  program: string,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): Promise<boolean> {
  const candidates = program.includes('/')
    ? [resolve(cwd, program)]
    : (env.PATH ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, program));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      return true;
    } catch {
      // try the next PATH entry
    }
  }
  return false;
}

function withoutErrorField(report: ConfigCheckReport): ConfigCheckReport {
  Object.defineProperty(report, 'error', { enumerable: false });
  return report;
}

export async function checkConfig(
  deps: Pick<CommandDeps, 'env' | 'cwd' | 'globals' | 'readFile' | 'systemConfigDir'>,
): Promise<ConfigCheckReport> {
  let loaded;
  try {
    loaded = await loadConfig({
      explicitPath: deps.globals.config,
      env: deps.env,
      cwd: deps.cwd,
      ...(deps.systemConfigDir ? { systemDir: deps.systemConfigDir } : {}),
    });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const errors = error.problems.length ? [...error.problems] : [error.message];
    return withoutErrorField({ valid: false, file: error.filepath ?? null, errors, warnings: [], error });
  }
  const result = validateConfig(loaded.raw, { env: deps.env });
  const errors = [...result.errors];
  const warnings = [...result.warnings];
  if (result.config) {
    const directory = result.config.metrics.textfileDirectory;
    if (directory) {
      try {
        await access(resolve(deps.cwd, directory), constants.W_OK);
      } catch (error) {
        errors.push(
          `metrics.textfileDirectory: cannot write to ${directory} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
        );
      }
    }
    // Only a warning: config check may run on a workstation, not on the node where nodetool lives.
    const nodetool = result.config.executor.nodetool.path;
    if (result.config.executor.type === 'nodetool' && !(await findExecutable(nodetool, deps.env, deps.cwd))) {
      warnings.push(
        `executor.nodetool.path: ${nodetool} is not an executable file${isAbsolute(nodetool) ? '' : ' in PATH'}`,
      );
    }
    for (const { path, file } of referencedFiles(result.config)) {
      try {
        await deps.readFile(file);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
        errors.push(`${path}: cannot read ${file} (${code})`);
      }
    }
  }
  const file = loaded.filepath ?? null;
  const report: ConfigCheckReport = { valid: errors.length === 0, file, errors, warnings };
  if (!report.valid) {
    report.error = new ConfigError(`invalid configuration${file ? ` in ${file}` : ''}`, {
      problems: errors,
      ...(file ? { filepath: file } : {}),
    });
  }
  return withoutErrorField(report);
}
