/**
 * Where each secret comes from. Secrets are never part of tend.yml: a `*File` option names a file whose first
 * line is the secret, or an environment variable holds it. When both are set the file wins, so a stray variable
 * in a shell cannot silently change which credentials a systemd-run tick uses.
 */
import type { TendConfig } from './schema.js';

export const SECRET_ENV = {
  cassandraPassword: 'TEND_CASSANDRA_PASSWORD',
  consulToken: 'TEND_CONSUL_TOKEN',
  jolokiaPassword: 'TEND_JOLOKIA_PASSWORD',
} as const;

export type SecretName = keyof typeof SECRET_ENV | 'nodetoolPassword';

export type SecretOrigin = { kind: 'file'; path: string } | { kind: 'env'; variable: string } | { kind: 'unset' };

export type Env = Readonly<Record<string, string | undefined>>;

/** Config keys that would hold a secret value if tend allowed it, and what to use instead. */
export const FORBIDDEN_SECRET_KEYS: Readonly<Record<string, string>> = {
  password: 'passwordFile',
  token: 'tokenFile',
};

/** The environment variable that may carry the secret for a config path, if any (for error hints). */
export function secretEnvFor(sectionPath: string): string | undefined {
  if (sectionPath.startsWith('cassandra')) return SECRET_ENV.cassandraPassword;
  if (sectionPath.startsWith('lease.consul')) return SECRET_ENV.consulToken;
  if (sectionPath.startsWith('executor.jolokia')) return SECRET_ENV.jolokiaPassword;
  return undefined;
}

function origin(file: string | undefined, variable: string | undefined, env: Env): SecretOrigin {
  if (file) return { kind: 'file', path: file };
  if (variable && env[variable]) return { kind: 'env', variable };
  return { kind: 'unset' };
}

/** Where every secret would be read from, without reading anything. */
export function secretOrigins(config: TendConfig, env: Env): Record<SecretName, SecretOrigin> {
  return {
    cassandraPassword: origin(config.cassandra.auth?.passwordFile, SECRET_ENV.cassandraPassword, env),
    consulToken: origin(config.lease.consul.tokenFile, SECRET_ENV.consulToken, env),
    jolokiaPassword: origin(config.executor.jolokia.passwordFile, SECRET_ENV.jolokiaPassword, env),
    // nodetool reads the password file itself (-pwf), so tend never holds that secret.
    nodetoolPassword: origin(config.executor.nodetool.passwordFile, undefined, env),
  };
}

export function describeOrigin(value: SecretOrigin): string {
  switch (value.kind) {
    case 'file':
      return `file ${value.path}`;
    case 'env':
      return `environment ${value.variable} (value redacted)`;
    case 'unset':
      return 'not set';
  }
}

/** Secret values present in the environment (every TEND_* secret variable that is set). */
export function secretValuesFromEnv(env: Env): string[] {
  return Object.values(SECRET_ENV)
    .map((variable) => env[variable])
    .filter((value): value is string => typeof value === 'string' && value.length > 0);
}

/**
 * Every secret value this process knows: the secret variables of its environment (registered by main() at start)
 * and every secret it has read from a file. Secrets are never put into tend's output; this list exists for text
 * that comes from outside (a server's or driver's error message, a value quoted from the configuration file),
 * which could echo one: `maskSecrets` is applied to that text where it enters tend's errors and logs.
 *
 * Kept under a global symbol: under mocha, tsx may load this module twice (see errors.ts), and both copies must
 * see the same secrets.
 */
const KNOWN = Symbol.for('tend.secrets.known');
type SecretHolder = { [KNOWN]?: Set<string> };

function known(): Set<string> {
  const holder = globalThis as SecretHolder;
  holder[KNOWN] ??= new Set<string>();
  return holder[KNOWN];
}

/** Text a masked secret is replaced with. */
export const REDACTED = '[redacted]';

/**
 * Remember `value` as a secret. Values shorter than 3 characters are not masked: they would turn ordinary words of
 * a message into [redacted] and protect nothing (no credential is that short).
 */
export function registerSecret(value: string | undefined): void {
  if (value !== undefined && value.length >= 3) known().add(value);
}

/** Forget every registered secret (main() starts each invocation with only its own environment's). */
export function resetSecrets(env: Env = {}): void {
  known().clear();
  for (const value of secretValuesFromEnv(env)) registerSecret(value);
}

/** `text` with every known secret replaced by [redacted]; for text from outside tend only (see `known`). */
export function maskSecrets(text: string): string {
  let out = text;
  // Longest first, so a secret that contains another is masked whole.
  for (const secret of [...known()].sort((a, b) => b.length - a.length)) out = out.split(secret).join(REDACTED);
  return out;
}

/**
 * Read a secret once: the first line of its file, else the environment variable. The value is registered (see
 * `registerSecret`), so outside text that echoes it is masked.
 */
export async function readSecret(
  value: SecretOrigin,
  env: Env,
  readFile: (path: string) => Promise<string>,
): Promise<string | undefined> {
  let secret: string | undefined;
  switch (value.kind) {
    case 'file':
      secret = (await readFile(value.path)).split(/\r?\n/, 1)[0];
      break;
    case 'env':
      secret = env[value.variable];
      break;
    case 'unset':
      secret = undefined;
  }
  registerSecret(secret);
  return secret;
}

/**
 * The passwords of a JMX password file as nodetool reads it with -pwf: lines of `role password`; only `user`'s when
 * a user is given. tend reads the file only to register the password for masking nodetool's output; the
 * password itself still goes to nodetool by file, never in argv.
 */
export function jmxPasswords(content: string, user: string | undefined): string[] {
  const passwords: string[] = [];
  for (const line of content.split(/\r?\n/)) {
    const [role, password] = line.trim().split(/\s+/);
    if (role && password && !role.startsWith('#') && (user === undefined || role === user)) passwords.push(password);
  }
  return passwords;
}

/**
 * The files that hold a secret (passwords, tokens, private keys), by dotted path: only the tend user should be
 * able to read them.
 */
export function secretFiles(config: TendConfig): Array<{ path: string; file: string }> {
  const entries: Array<[string, string | undefined]> = [
    ['cassandra.auth.passwordFile', config.cassandra.auth?.passwordFile],
    ['cassandra.tls.keyFile', config.cassandra.tls?.keyFile],
    ['lease.consul.tokenFile', config.lease.consul.tokenFile],
    ['lease.consul.tls.keyFile', config.lease.consul.tls?.keyFile],
    ['executor.nodetool.passwordFile', config.executor.nodetool.passwordFile],
    ['executor.jolokia.passwordFile', config.executor.jolokia.passwordFile],
    ['executor.jolokia.tls.keyFile', config.executor.jolokia.tls?.keyFile],
  ];
  return entries
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([path, file]) => ({ path, file }));
}

/** `0644` */
function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, '0')}`;
}

/**
 * The warning for a secret file that others can read (group or world read bit), or undefined. The unit's UMask
 * does not protect a file an operator created by hand; `config check` and every command that reads the
 * configuration say so, naming the file.
 */
export function secretModeWarning(path: string, file: string, mode: number): string | undefined {
  if (!(mode & 0o044)) return undefined;
  const who = mode & 0o040 ? (mode & 0o004 ? 'group and others' : 'group') : 'others';
  return `${path}: ${file} is readable by ${who} (mode ${octal(mode)}); make it readable by the tend user only (chmod 600)`;
}
