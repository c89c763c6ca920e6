/**
 * Domain errors and the exit codes they map to.
 *
 * Every failure an operator can act on has a named class here, and each class carries the exit code documented
 * in tend(8) and the README. `main()` is the only place that turns an error into an exit code (`exitCodeOf`), so
 * a command never calls process.exit and never picks a number itself.
 */

export const ExitCode = {
  /** Success, including "nothing due" and "lease held by another node" during a tick. */
  Ok: 0,
  /** Runtime failure not covered by a more specific code (including a lease lost mid-task). */
  Failure: 1,
  /** Bad command line: unknown command or option, missing or malformed argument. */
  Usage: 2,
  /** The configuration file is missing, unreadable or invalid. */
  Config: 3,
  /** An ad hoc command could not take its lease and was not told to `--wait`. */
  LeaseUnavailable: 4,
  /** Cassandra, Consul or Jolokia could not be reached. */
  ClusterUnavailable: 5,
  /** One or more repair tasks failed (or a maintenance job has a failed or skipped step). */
  RepairFailed: 6,
  /** An alarm threshold is crossed (`schedule status --check`). */
  AlarmCrossed: 7,
  /** The command outlived the time bound its configuration implies; tend's watchdog stopped it. */
  TimeBoundExceeded: 8,
  /** Interrupted by SIGINT or SIGTERM (128 + SIGINT). */
  Interrupted: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** Human description of each exit code; used by help, tend(8) and the README. */
export const EXIT_CODE_DESCRIPTIONS: ReadonlyArray<{ code: ExitCodeValue; meaning: string }> = [
  { code: ExitCode.Ok, meaning: 'success, including "nothing due" and "lease held by another node" during a tick' },
  { code: ExitCode.Failure, meaning: 'runtime failure (including a lease lost while a task ran)' },
  { code: ExitCode.Usage, meaning: 'usage error: unknown command or option, bad argument' },
  {
    code: ExitCode.Config,
    meaning: 'invalid configuration (file missing, unreadable, malformed or failing validation)',
  },
  { code: ExitCode.LeaseUnavailable, meaning: 'lease unavailable for an ad hoc command run without --wait' },
  { code: ExitCode.ClusterUnavailable, meaning: 'Cassandra, Consul or Jolokia unreachable' },
  {
    code: ExitCode.RepairFailed,
    meaning: "one or more repair tasks failed; for 'job status' and 'job run': a job step failed or was skipped",
  },
  { code: ExitCode.AlarmCrossed, meaning: 'an alarm threshold is crossed (schedule status --check)' },
  {
    code: ExitCode.TimeBoundExceeded,
    meaning: "tend's watchdog stopped a command that outlived the time bound its configuration implies",
  },
  { code: ExitCode.Interrupted, meaning: 'interrupted (SIGINT/SIGTERM)' },
];

/**
 * Class names of an error's type and its ancestors, under a registry-wide symbol. `instanceof` checks this brand
 * instead of the prototype chain, so it still holds when a module is loaded twice (tsx under mocha loads
 * statically imported files as CommonJS and dynamically imported ones as ESM, giving two copies of each class).
 */
const KINDS = Symbol.for('tend.error.kinds');

/** Base class: a failure tend understands, with an exit code and optional operator hints. */
export class TendError extends Error {
  readonly exitCode: number = ExitCode.Failure;
  /** Extra lines telling the operator what to do next (printed after the message). */
  readonly hints: readonly string[];
  declare readonly [KINDS]: readonly string[];

  constructor(message: string, options: { cause?: unknown; hints?: readonly string[] } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hints = options.hints ?? [];
    const kinds: string[] = [];
    for (
      let type: unknown = new.target;
      typeof type === 'function' && type !== Error;
      type = Object.getPrototypeOf(type)
    ) {
      kinds.push((type as { name: string }).name);
    }
    Object.defineProperty(this, KINDS, { value: kinds, enumerable: false });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    const kinds = (value as { [KINDS]?: unknown } | null | undefined)?.[KINDS];
    return Array.isArray(kinds) && kinds.includes(this.name);
  }
}

/** Bad command line. */
export class UsageError extends TendError {
  override readonly exitCode = ExitCode.Usage;
}

/**
 * Invalid configuration. `problems` holds every validation error as `dotted.path: message`, so an operator fixes
 * the file in one pass instead of one error per run.
 */
export class ConfigError extends TendError {
  override readonly exitCode = ExitCode.Config;
  readonly problems: readonly string[];
  /** The file the problems were found in, when there is one. */
  readonly filepath: string | undefined;

  constructor(
    message: string,
    options: { problems?: readonly string[]; filepath?: string; cause?: unknown; hints?: readonly string[] } = {},
  ) {
    super(message, options);
    this.problems = options.problems ?? [];
    this.filepath = options.filepath;
  }
}

/** An ad hoc command could not take the lease it needs (another node holds it). */
export class LeaseUnavailable extends TendError {
  override readonly exitCode = ExitCode.LeaseUnavailable;
  readonly resource: string;
  readonly holder: string | undefined;

  constructor(resource: string, holder?: string, options: { cause?: unknown; hints?: readonly string[] } = {}) {
    super(`lease ${resource} is held${holder ? ` by ${holder}` : ''}`, options);
    this.resource = resource;
    this.holder = holder;
  }
}

/**
 * A lease this process held expired or was taken over while work ran. The running repair is cancelled and
 * recorded as aborted; the process exits 1 so the timer's next run starts clean.
 */
export class LeaseLost extends TendError {
  override readonly exitCode = ExitCode.Failure;
  readonly resource: string;

  constructor(resource: string, options: { cause?: unknown; hints?: readonly string[] } = {}) {
    super(`lease ${resource} was lost`, options);
    this.resource = resource;
  }
}

export type ExternalSystem = 'cassandra' | 'consul' | 'jolokia' | 'nodetool';

/** Cassandra, Consul or Jolokia could not be reached (connection refused, timeout, auth handshake failure). */
export class ClusterUnavailable extends TendError {
  override readonly exitCode = ExitCode.ClusterUnavailable;
  readonly system: ExternalSystem;

  constructor(system: ExternalSystem, message: string, options: { cause?: unknown; hints?: readonly string[] } = {}) {
    super(`${system} unavailable: ${message}`, options);
    this.system = system;
  }
}

/**
 * Cassandra, Consul or Jolokia answered, but refused the request as wrong (an invalid query, a missing table, a
 * permission): retrying would not help and it is not an outage, so exit 1 rather than 5. The message names the
 * system and what tend was doing.
 */
export class RequestRefused extends TendError {
  override readonly exitCode = ExitCode.Failure;
  readonly system: ExternalSystem;

  constructor(system: ExternalSystem, message: string, options: { cause?: unknown; hints?: readonly string[] } = {}) {
    super(`${system} refused ${message}`, options);
    this.system = system;
  }
}

/** A replica of the range about to be repaired is down; tend refuses to start the task (cstar's HostIsDown). */
export class HostIsDown extends TendError {
  override readonly exitCode = ExitCode.ClusterUnavailable;
  readonly host: string;

  constructor(host: string, options: { cause?: unknown; hints?: readonly string[] } = {}) {
    super(`host ${host} is down`, options);
    this.host = host;
  }
}

/**
 * A maintenance job needs the operator: a step failed, or was skipped because its node was down (`job status`,
 * `job run`). Exit 6, as failed repairs: the work the operator asked for was not done everywhere.
 */
export class JobAttention extends TendError {
  override readonly exitCode = ExitCode.RepairFailed;
}

/** One or more repair tasks failed (or timed out). */
export class RepairFailed extends TendError {
  override readonly exitCode = ExitCode.RepairFailed;
  readonly failedTasks: number;

  constructor(message: string, failedTasks = 1, options: { cause?: unknown; hints?: readonly string[] } = {}) {
    super(message, options);
    this.failedTasks = failedTasks;
  }
}

/** A table job is later than an alarm threshold (reported by `schedule status --check`). */
export class AlarmCrossed extends TendError {
  override readonly exitCode = ExitCode.AlarmCrossed;
}

/** The schema in Cassandra was created by a different tend version. */
export class SchemaVersionMismatch extends TendError {
  override readonly exitCode = ExitCode.Failure;
}

/**
 * The last-resort watchdog fired: the command ran longer than its configuration allows (src/app/time-bound.ts),
 * which means something did not answer and was not caught by its own timeout. The command is stopped like on
 * SIGTERM (repair cancelled on the node, lease released) and the process exits 8.
 */
export class TimeBoundExceeded extends TendError {
  override readonly exitCode = ExitCode.TimeBoundExceeded;
}

/** SIGINT/SIGTERM arrived; `resumeCommand`, when set, is printed so the operator can pick up where it stopped. */
export class Interrupted extends TendError {
  override readonly exitCode = ExitCode.Interrupted;
  readonly resumeCommand: string | undefined;

  constructor(message = 'interrupted', options: { resumeCommand?: string; cause?: unknown } = {}) {
    super(message, {
      cause: options.cause,
      hints: options.resumeCommand ? [`to resume: ${options.resumeCommand}`] : [],
    });
    this.resumeCommand = options.resumeCommand;
  }
}

/** The exit code for anything thrown: a TendError's own code, 1 for everything else. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof TendError) return error.exitCode;
  return ExitCode.Failure;
}

/** Node's codes for a server certificate that no configured CA vouches for. */
const UNTRUSTED_SERVER_CERTIFICATE = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
]);

/** A failed TLS handshake in the operator's terms, with the configuration keys to check. */
export interface TlsFailure {
  readonly message: string;
  readonly hint: string;
}

/**
 * What a failed TLS handshake means, from Node's error codes: the server's certificate is not signed by a trusted
 * CA, a certificate has expired or names another host, or the server ended the handshake with an alert (it did not
 * take our client certificate: Cassandra answers "internal error", Consul "unknown ca"). `section` is the
 * configuration's tls section (`cassandra.tls`, …). Undefined for an error that is not about TLS. The message
 * carries OpenSSL's short reason, never its error dump.
 */
export function describeTlsFailure(error: unknown, section: string): TlsFailure | undefined {
  const { code, message, reason } = (error ?? {}) as { code?: unknown; message?: unknown; reason?: unknown };
  if (typeof code !== 'string') return undefined;
  const detail = typeof reason === 'string' ? reason : typeof message === 'string' ? message : code;
  if (UNTRUSTED_SERVER_CERTIFICATE.has(code)) {
    return {
      message: `the server's certificate is not signed by a CA tend trusts (${detail})`,
      hint: `check ${section}.caFile: it must hold the CA that signed the server's certificate`,
    };
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return {
      message: `a certificate of the server's chain ${code === 'CERT_HAS_EXPIRED' ? 'has expired' : 'is not valid yet'} (${detail})`,
      hint: `check the dates of the server's certificate and of the CA in ${section}.caFile (openssl x509 -noout -dates -in FILE)`,
    };
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return {
      message: `the server's certificate is not issued for the address tend connects to (${detail})`,
      hint: `connect by a name or address listed in the server certificate's subjectAltName`,
    };
  }
  if (/^ERR_SSL_(SSLV3|TLSV1|TLSV13)_ALERT_/.test(code)) {
    const required = /certificate required/i.test(detail);
    return {
      message: `the server refused the TLS handshake (alert: ${detail})`,
      hint: required
        ? `the server requires a client certificate: set ${section}.certFile and ${section}.keyFile`
        : `the server must trust the client certificate in ${section}.certFile (signed by a CA it trusts, with the clientAuth usage), and ${section}.keyFile must be its key`,
    };
  }
  return undefined;
}
