/**
 * `config check`: everything that can be verified without contacting Cassandra, Consul or Jolokia — parse,
 * schema, cross-field rules, and that every file the configuration names can be read by this user (a password
 * file readable only by root is the classic reason a systemd tick fails at 3 a.m.).
 */
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
  if (result.config) {
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
  const report: ConfigCheckReport = { valid: errors.length === 0, file, errors, warnings: result.warnings };
  if (!report.valid) {
    report.error = new ConfigError(`invalid configuration${file ? ` in ${file}` : ''}`, {
      problems: errors,
      ...(file ? { filepath: file } : {}),
    });
  }
  return withoutErrorField(report);
}
