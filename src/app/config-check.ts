/**
 * `config check`: everything that can be verified without contacting Cassandra, Consul or Jolokia — parse,
 * schema, cross-field rules, and that every file the configuration names can be read by this user (a password
 * file readable only by root is the classic reason a systemd tick fails at 3 a.m.), is what it should be (PEM
 * files parse as certificates and keys, a key matches its certificate) and, for secrets, is not readable by others.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { loadConfig } from '../config/load.js';
import { validateConfig } from '../config/validate.js';
import type { TendConfig } from '../config/schema.js';
import { FileRefused, PEM_FILE_LIMIT, readBoundedFile, SECRET_FILE_LIMIT } from '../config/files.js';
import { secretModeWarning } from '../config/secrets.js';
import type { CommandDeps } from '../cli/types.js';

export interface ConfigCheckReport {
  valid: boolean;
  file: string | null;
  errors: string[];
  warnings: string[];
  /** The error main() reports when invalid (not part of the JSON document). */
  error?: ConfigError;
}

/** What a named file holds, which says how it is checked. */
export type FileRole = 'secret' | 'ca' | 'cert' | 'key';

/** Files named by the configuration, by dotted path. */
export function referencedFiles(config: TendConfig): Array<{ path: string; file: string; role: FileRole }> {
  const out: Array<{ path: string; file: string; role: FileRole }> = [];
  const add = (path: string, file: string | undefined, role: FileRole) => {
    if (file) out.push({ path, file, role });
  };
  add('cassandra.auth.passwordFile', config.cassandra.auth?.passwordFile, 'secret');
  const roles = { caFile: 'ca', certFile: 'cert', keyFile: 'key' } as const;
  for (const key of ['caFile', 'certFile', 'keyFile'] as const) {
    add(`cassandra.tls.${key}`, config.cassandra.tls?.[key], roles[key]);
    add(`lease.consul.tls.${key}`, config.lease.consul.tls?.[key], roles[key]);
    add(`executor.jolokia.tls.${key}`, config.executor.jolokia.tls?.[key], roles[key]);
  }
  add('lease.consul.tokenFile', config.lease.consul.tokenFile, 'secret');
  add('executor.nodetool.passwordFile', config.executor.nodetool.passwordFile, 'secret');
  add('executor.jolokia.passwordFile', config.executor.jolokia.passwordFile, 'secret');
  return out;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

interface FileFindings {
  errors: string[];
  warnings: string[];
}

/**
 * Reads and checks one named file. Parsing a PEM file here turns "unavailable" at 3 a.m. (the TLS handshake
 * failing on a file that was never a certificate) into exit 3 naming the key. Messages never quote the content.
 */
async function checkFile(
  entry: { path: string; file: string; role: FileRole },
  absolute: string,
  now: Date,
  out: FileFindings,
): Promise<{ certificate?: X509Certificate; key?: KeyObject }> {
  const { path, file, role } = entry;
  let content: Buffer;
  try {
    content = await readBoundedFile(absolute, role === 'secret' ? SECRET_FILE_LIMIT : PEM_FILE_LIMIT);
  } catch (error) {
    const reason =
      error instanceof FileRefused
        ? error.message
        : ((error as NodeJS.ErrnoException).code ?? (error as Error).message);
    out.errors.push(`${path}: cannot read ${file} (${reason})`);
    return {};
  }
  if (role === 'secret' || role === 'key') {
    const warning = secretModeWarning(path, file, (await stat(absolute)).mode);
    if (warning) out.warnings.push(warning);
  }
  const text = content.toString('utf8');
  if (role === 'ca' || role === 'cert') {
    const blocks = text.match(PEM_CERTIFICATE) ?? [];
    if (blocks.length === 0) {
      out.errors.push(`${path}: ${file} is not a PEM certificate (no -----BEGIN CERTIFICATE----- block)`);
      return {};
    }
    const certificates: X509Certificate[] = [];
    for (const [index, block] of blocks.entries()) {
      try {
        certificates.push(new X509Certificate(block));
      } catch {
        out.errors.push(`${path}: ${file}: certificate ${index + 1} of ${blocks.length} does not parse`);
        return {};
      }
    }
    if (role === 'ca') {
      // A CA that has expired vouches for nothing: every handshake with it fails (exit 5 at 3 a.m.), so when no
      // certificate of the file is valid any more that is an error now; some expired among valid ones, a warning.
      const expired = certificates.filter((ca) => new Date(ca.validTo) < now);
      const last = new Date(Math.max(...expired.map((ca) => new Date(ca.validTo).getTime())));
      if (expired.length === certificates.length) {
        out.errors.push(
          `${path}: every certificate in ${file} has expired (the last on ${last.toISOString()}): no server certificate can be verified with it`,
        );
      } else if (expired.length > 0) {
        out.warnings.push(
          `${path}: ${expired.length} of the ${certificates.length} certificates in ${file} have expired`,
        );
      }
      return {};
    }
    const certificate = certificates[0];
    if (role === 'cert' && certificate) {
      if (new Date(certificate.validTo) < now) {
        out.warnings.push(
          `${path}: the certificate in ${file} expired on ${new Date(certificate.validTo).toISOString()}`,
        );
      } else if (new Date(certificate.validFrom) > now) {
        out.warnings.push(
          `${path}: the certificate in ${file} is not valid before ${new Date(certificate.validFrom).toISOString()}`,
        );
      }
      return { certificate };
    }
    return {};
  }
  if (role === 'key') {
    if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(text)) {
      out.errors.push(
        `${path}: ${file} is an encrypted private key, and tend has no passphrase option; store it unencrypted, readable by the tend user only`,
      );
      return {};
    }
    try {
      return { key: createPrivateKey({ key: text, format: 'pem' }) };
    } catch {
      out.errors.push(`${path}: ${file} is not a PEM private key`);
      return {};
    }
  }
  return {};
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
  deps: Pick<CommandDeps, 'env' | 'cwd' | 'globals' | 'systemConfigDir'> & { now?: () => Date },
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
      const absolute = resolve(deps.cwd, directory);
      try {
        // tend writes tend.prom and renames it into place: the directory must be one, and writable.
        if ((await stat(absolute)).isDirectory()) await access(absolute, constants.W_OK);
        else errors.push(`metrics.textfileDirectory: ${directory} is not a directory`);
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
    const now = deps.now?.() ?? new Date();
    const findings: FileFindings = { errors, warnings };
    const pairs = new Map<string, { certificate?: X509Certificate; key?: KeyObject }>();
    for (const entry of referencedFiles(result.config)) {
      const found = await checkFile(entry, resolve(deps.cwd, entry.file), now, findings);
      const section = entry.path.replace(/\.[^.]+$/, '');
      pairs.set(section, { ...pairs.get(section), ...found });
    }
    for (const [section, { certificate, key }] of pairs) {
      if (certificate && key && !certificate.checkPrivateKey(key)) {
        errors.push(`${section}.keyFile: is not the private key of the certificate in ${section}.certFile`);
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
